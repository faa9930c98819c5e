"""The trend: the last runs of each collection, and how long its current difference has lasted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from migrator.counts.result import Trend


def _differs(entry: Mapping[str, Any]) -> bool:
    keys = ("diff", "owners", "days", "not_verified")
    return any(entry.get(k) for k in keys)


def compute_trend(
    records: list[dict[str, Any]], tonight: dict[str, Any], runs: int
) -> dict[str, Trend]:
    """Per collection: the last ``runs`` runs and the streak of runs with a difference that
    ends tonight (its first run is the first night the difference appeared)."""
    ordered = sorted(
        [r for r in records if r.get("pair") == tonight["pair"]], key=lambda r: r["run_at"]
    )
    ordered.append(tonight)
    out = {}
    for name in tonight["collections"]:
        series = [
            {"run_at": r["run_at"], **r["collections"][name]}
            for r in ordered
            if name in r["collections"]
        ]
        trend = Trend(name, series[-runs:])
        streak = []
        for entry in reversed(series):
            if not _differs(entry):
                break
            streak.append(entry)
        if streak:
            trend.since = streak[-1]["run_at"]
            trend.streak = len(streak)
            lasted = _parse_iso(tonight["run_at"]) - _parse_iso(trend.since)
            trend.lasted_days = round(lasted / timedelta(days=1), 2)
        else:
            trend.last_seen = next((e["run_at"] for e in reversed(series) if _differs(e)), None)
        out[name] = trend
    return out


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
