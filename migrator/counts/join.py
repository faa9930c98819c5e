"""Comparison of the two sides: pandas joins each level's counts and judges the differences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from migrator import model
from migrator.counts.queries import _has
from migrator.counts.result import (
    DAY,
    MAX_ROWS,
    NA,
    OK,
    OWNER,
    TOTAL,
    Level,
    Side,
    Thresholds,
    _worst,
)

# --------------------------------------------------------------------------------------------
# Comparison: pandas joins the two sides
# --------------------------------------------------------------------------------------------


def compare_level(
    name: str, legacy: Mapping[str, int], gateway: Mapping[str, int], th: Thresholds
) -> Level:
    """Outer-join two ``key -> count`` maps; Δ = gateway − legacy, % of the legacy count
    (100 % when the key exists on one side only)."""
    import numpy as np
    import pandas as pd  # on first use: slow to import, and only the join needs it

    left = pd.Series(dict(legacy), dtype="int64", name="legacy")
    right = pd.Series(dict(gateway), dtype="int64", name="gateway")
    df = left.to_frame().join(right.to_frame(), how="outer").fillna(0).astype("int64")
    if df.empty:
        return Level(name, OK)
    df["diff"] = df["gateway"] - df["legacy"]
    absdiff = df["diff"].abs()
    base = df["legacy"].where(df["legacy"] > 0, np.nan)
    df["pct"] = (absdiff / base * 100).fillna(0.0)
    df.loc[(df["legacy"] == 0) & (absdiff > 0), "pct"] = 100.0
    df["verdict"] = [th.verdict(p) for p in df["pct"]]
    differing = df[absdiff > 0]
    top = differing.assign(_abs=absdiff[absdiff > 0]).sort_values(
        ["_abs", "pct"], ascending=False, kind="stable"
    )
    rows = [
        {
            "key": str(key),
            "legacy": int(r["legacy"]),
            "gateway": int(r["gateway"]),
            "diff": int(r["diff"]),
            "pct": round(float(r["pct"]), 3),
            "verdict": r["verdict"],
        }
        for key, r in top.head(MAX_ROWS).iterrows()
    ]
    return Level(
        name=name,
        verdict=_worst(df["verdict"]),
        compared=len(df),
        differing=len(differing),
        docs=int(absdiff.sum()),
        max_pct=float(df["pct"].max()),
        rows=rows,
    )


def compare_collection(
    name: str, legacy: Side, gateway: Side, by: Sequence[str], th: Thresholds
) -> dict[str, Level]:
    levels = {TOTAL: compare_level(TOTAL, {TOTAL: legacy.total}, {TOTAL: gateway.total}, th)}
    if OWNER in by:
        if name in model.OWNER_FIELDS:
            owner, declared = model.OWNER_FIELDS[name]
            legacy_owners, gateway_owners = dict(legacy.owners), dict(gateway.owners)
            # Documents whose owner is stored with the other BSON type join on the hex string
            # above and are counted again here, so a type change between the sides shows.
            for side, owners in ((legacy, legacy_owners), (gateway, gateway_owners)):
                for kind, n in side.owner_types.items():
                    if kind not in (declared, "none"):
                        owners[_type_key(owner, kind)] = n
            levels[OWNER] = compare_level(OWNER, legacy_owners, gateway_owners, th)
        else:
            levels[OWNER] = Level(OWNER, NA, note="no owner field in LibreChat's schema")
    if DAY in by:
        if _has(name, "createdAt"):
            levels[DAY] = compare_level(DAY, legacy.days, gateway.days, th)
        else:
            levels[DAY] = Level(DAY, NA, note="no createdAt in LibreChat's schema")
    return levels


def _type_key(owner: str, kind: str) -> str:
    return f"({owner} stored as {kind})"
