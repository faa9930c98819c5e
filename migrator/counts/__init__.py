"""``counts``: the nightly count-consistency job — totals, per owner and per day, both paths.

A library function first (returns a ``CountsResult``); ``migrator counts`` only writes it out.
The algorithm, top to bottom:

1. fix one cut-off (now − settle window): documents created or updated after it are left out on
   both sides, so writes in flight are not drift;
2. per collection, count on the server — the legacy path with the driver (``count_documents``
   and ``$match`` → ``$group`` aggregations), the gateway path through its repositories'
   ``count`` / ``aggregate`` — inside one snapshot session where the server has them;
3. join the two sides with pandas (outer join: a key present on one side only still shows),
   compute differences and percentages, and judge each level against the thresholds;
4. append tonight to the history store and compute the trend (first night a difference
   appeared, how long it has lasted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import OperationFailure

from migrator import model
from migrator.choices import GatewayChoice
from migrator.counts.history import (
    DEFAULT_HISTORY,
    HISTORY_COLLECTION,
    HISTORY_DB,
    JsonlHistory,
    MongoHistory,
    history_record,
)
from migrator.counts.join import compare_collection
from migrator.counts.queries import ExternalCounter, GatewayCounter, LegacyCounter, count_side
from migrator.counts.result import (
    DAY,
    FAIL,
    NA,
    OK,
    OWNER,
    SCHEMA_VERSION,
    TOTAL,
    WARN,
    CollectionCounts,
    CountsResult,
    Side,
    Thresholds,
    _iso,
    to_json,
)
from migrator.counts.trend import compute_trend
from migrator.errors import ConfigError, stops_early
from migrator.gateway.external import ExternalOperationError
from migrator.paths import open_paths
from migrator.settings import Settings
from migrator.snapshot import SnapshotMode

SNAPSHOT_ERRORS = (239, 246)  # SnapshotTooOld, SnapshotUnavailable
Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------------------------
# The public entry
# --------------------------------------------------------------------------------------------


def _select(collections: Iterable[str] | None) -> list[str]:
    if not collections:
        return list(model.COLLECTIONS)
    chosen: list[str] = []
    for name in collections:
        if name not in model.COLLECTIONS:
            raise ConfigError(
                f"--collections names unknown collection {name!r}; known: "
                f"{', '.join(model.COLLECTIONS)}"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def _check_options(
    by: Sequence[str],
    settle_minutes: float,
    warn_pct: float | None,
    fail_pct: float,
    fail_on: str,
    trend_runs: int,
) -> None:
    bad = [b for b in by if b not in (OWNER, DAY)]
    if bad:
        raise ConfigError(f"--by takes a comma list of owner, day; got {','.join(by)!r}")
    if settle_minutes < 0:
        raise ConfigError(f"--settle-minutes must be 0 or more, got {settle_minutes}")
    if fail_pct < 0 or (warn_pct is not None and warn_pct < 0):
        raise ConfigError(
            f"--warn and --fail are percentages ≥ 0, got --warn {warn_pct} --fail {fail_pct}"
        )
    if warn_pct is not None and warn_pct >= fail_pct:
        raise ConfigError(
            f"--warn {warn_pct:g} must be below --fail {fail_pct:g} (the default --fail 0 fails "
            f"on any difference); pass a larger --fail, e.g. --warn {warn_pct:g} "
            f"--fail {max(warn_pct * 5, 1):g}"
        )
    if fail_on not in (FAIL, WARN):
        raise ConfigError(f"--fail-on takes fail or warn, got {fail_on!r}")
    if trend_runs < 2:
        raise ConfigError(f"--trend must be 2 or more runs, got {trend_runs}")


def counts(
    cfg: Settings,
    *,
    collections: Iterable[str] | None = None,
    by: Sequence[str] = (OWNER, DAY),
    settle_minutes: float = 10,
    warn_pct: float | None = None,
    fail_pct: float = 0.0,
    fail_on: str = FAIL,
    history: str | Path | None = DEFAULT_HISTORY,
    trend_runs: int = 7,
    now: datetime | None = None,
    gateway: GatewayChoice | None = None,
    progress: Progress | None = None,
) -> CountsResult:
    """Count every selected collection through both paths and judge the differences.

    ``history``: a JSONL path, ``"mongodb"`` (``migrator_history.counts`` on the legacy
    server), or None (no history: no trend). ``now`` is the run's timestamp (tests inject
    nights); the settle window ends at it.
    """
    chosen = _select(collections)
    by = tuple(dict.fromkeys(by))
    _check_options(by, settle_minutes, warn_pct, fail_pct, fail_on, trend_runs)
    th = Thresholds(fail_pct=fail_pct, warn_pct=warn_pct)
    started = (now or datetime.now(UTC)).replace(microsecond=0)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    cutoff = (started - timedelta(minutes=settle_minutes)).astimezone(UTC).replace(tzinfo=None)
    if history == "mongodb" and HISTORY_DB in (cfg.db, cfg.gateway_db):
        raise ConfigError(
            f"--history mongodb writes to {HISTORY_DB!r}, which is a database being verified"
        )
    store: JsonlHistory | MongoHistory | None = None
    records: list[dict[str, Any]] = []
    if history is not None and history != "mongodb":
        store = JsonlHistory(history)
        records = store.load()  # a corrupt file stops the run before any database work
        store.check_writable()
    t0 = time.perf_counter()
    with open_paths(cfg, gateway) as paths:
        client, g_client = paths.client, paths.g_client
        legacy_present = set(paths.source.list_collection_names())
        gateway_present = set(g_client[cfg.gateway_db].list_collection_names())
        if history == "mongodb":
            store = MongoHistory(client)
            records = store.load()
        snapshot = paths.snapshot()
        environment = paths.environment()
        environment.update(
            {
                "pair": f"{cfg.db} -> {cfg.gateway_db}",
                "pandas": _pandas_version(),
                "gateway": paths.gateway_name + " — repositories' count / aggregate",
                "cutoff": _iso(cutoff.replace(tzinfo=UTC)),
            }
        )
        options = {
            "collections": chosen,
            "by": list(by),
            "settle_minutes": settle_minutes,
            "warn_pct": warn_pct,
            "fail_pct": fail_pct,
            "fail_on": fail_on,
            "history": str(history) if history is not None else None,
            "trend_runs": trend_runs,
        }
        result = CountsResult(
            started=started, environment=environment, options=options, snapshot=snapshot
        )
        legacy = LegacyCounter(paths.source)
        counter: GatewayCounter | ExternalCounter
        if paths.external is None:
            counter = GatewayCounter(paths.gateway.gw)  # type: ignore[union-attr]
        else:
            counter = ExternalCounter(paths.external)
            missing = [op for op in ("counts.count", "counts.aggregate") if not paths.offers(op)]
            if missing:
                result.not_verified = (
                    f"the gateway does not offer {' and '.join(missing)} (protocol v2): "
                    "nothing was counted through it"
                )
                result.seconds = time.perf_counter() - t0
                return result
        with stops_early(result):
            for index, name in enumerate(chosen):
                if progress:
                    progress(name, index, len(chosen))
                t1 = time.perf_counter()
                try:
                    legacy_side, gateway_side, read_in, notes = _count_both(
                        name, legacy, counter, cutoff, by, snapshot.mode, (client, g_client)
                    )
                except ExternalOperationError as exc:
                    # The gateway cannot count this collection (e.g. no repository owns it):
                    # a finding, never a pass; --collections leaves it out on purpose.
                    result.collections.append(
                        CollectionCounts(
                            name=name,
                            legacy=count_side(legacy, name, cutoff, by),
                            gateway=Side(),
                            levels={},
                            present={"legacy": name in legacy_present, "gateway": False},
                            snapshot=SnapshotMode.NONE,
                            seconds=time.perf_counter() - t1,
                            not_verified=f"{exc.type}: {exc.message}"[:300],
                        )
                    )
                    continue
                present = {"legacy": name in legacy_present, "gateway": name in gateway_present}
                if not any(present.values()):
                    notes.append("absent on both sides")
                elif not present["gateway"]:
                    notes.append("absent on the gateway side")
                elif not present["legacy"]:
                    notes.append("absent on the legacy side")
                cc = CollectionCounts(
                    name=name,
                    legacy=legacy_side,
                    gateway=gateway_side,
                    levels=compare_collection(name, legacy_side, gateway_side, by, th),
                    present=present,
                    snapshot=read_in,
                    seconds=time.perf_counter() - t1,
                    notes=notes,
                )
                cc.notes += _owner_type_notes(name, cc)
                result.collections.append(cc)
        if progress:
            progress("done", len(chosen), len(chosen))
        result.seconds = time.perf_counter() - t0
        if store is not None and result.complete:  # a partial night is no point of the trend
            tonight = history_record(result)
            result.trend = compute_trend(records, tonight, trend_runs)
            store.append(tonight)
            same_pair = sum(1 for r in records if r.get("pair") == tonight["pair"])
            result.history = {"where": store.where, "earlier_runs": same_pair}
    return result


def _pandas_version() -> str:
    import pandas

    return pandas.__version__


def _count_both(
    name: str,
    legacy: LegacyCounter,
    gateway: GatewayCounter | ExternalCounter,
    cutoff: datetime,
    by: Sequence[str],
    mode: SnapshotMode,
    clients: tuple[MongoClient, MongoClient],
) -> tuple[Side, Side, SnapshotMode, list[str]]:
    """Both sides of one collection, at one cluster time where the servers allow it (``mode``):
    one snapshot session for both paths, or one per path across servers; and how they were
    read in the end (a snapshot the server refuses falls back to plain reads, with a note)."""
    if mode is SnapshotMode.NONE:
        return count_side(legacy, name, cutoff, by), count_side(gateway, name, cutoff, by), mode, []
    legacy_client, gateway_client = clients
    try:
        with legacy_client.start_session(snapshot=True) as s_legacy:
            if mode is SnapshotMode.SHARED:
                return (
                    count_side(legacy, name, cutoff, by, s_legacy),
                    count_side(gateway, name, cutoff, by, s_legacy),
                    mode,
                    [],
                )
            with gateway_client.start_session(snapshot=True) as s_gateway:
                return (
                    count_side(legacy, name, cutoff, by, s_legacy),
                    count_side(gateway, name, cutoff, by, s_gateway),
                    mode,
                    [],
                )
    except OperationFailure as exc:
        if exc.code not in SNAPSHOT_ERRORS:
            raise
        note = f"snapshot read failed ({exc.code_name or exc.code}); counted without a snapshot"
        return (
            count_side(legacy, name, cutoff, by),
            count_side(gateway, name, cutoff, by),
            SnapshotMode.NONE,
            [note],
        )


def _owner_type_notes(name: str, cc: CollectionCounts) -> list[str]:
    if name not in model.OWNER_FIELDS or not (cc.legacy.owner_types or cc.gateway.owner_types):
        return []
    owner, declared = model.OWNER_FIELDS[name]
    notes = []
    for label, side in (("legacy", cc.legacy), ("gateway", cc.gateway)):
        other = {k: v for k, v in side.owner_types.items() if k not in (declared, "none")}
        if other:
            kinds = ", ".join(f"{n:,} as {k}" for k, n in sorted(other.items()))
            notes.append(
                f"{label}: `{owner}` is a {declared} in LibreChat's schema but {kinds}; "
                "joined on the hex string and counted separately"
            )
    return notes


__all__ = [
    "DAY",
    "FAIL",
    "HISTORY_COLLECTION",
    "HISTORY_DB",
    "NA",
    "OK",
    "OWNER",
    "SCHEMA_VERSION",
    "TOTAL",
    "WARN",
    "CountsResult",
    "Thresholds",
    "counts",
    "to_json",
]
