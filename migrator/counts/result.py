"""What a counts run learned: thresholds, levels, per-collection sides and the run, and its
JSON form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from migrator.report import RunResult
from migrator.snapshot import Snapshot, SnapshotMode

SCHEMA_VERSION = 1

TOTAL, OWNER, DAY = "total", "owner", "day"
LEVELS = (TOTAL, OWNER, DAY)
OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"
_RANK = {NA: -1, OK: 0, WARN: 1, FAIL: 2}

NO_DATE = "(no date)"
NO_OWNER = "(no owner)"
MAX_ROWS = 10  # largest differences kept per level (reports stay bounded)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Percent thresholds: above ``fail_pct`` fails, above ``warn_pct`` warns."""

    fail_pct: float = 0.0
    warn_pct: float | None = None

    def verdict(self, pct: float) -> str:
        if pct > self.fail_pct:
            return FAIL
        if self.warn_pct is not None and pct > self.warn_pct:
            return WARN
        return OK


@dataclass
class Level:
    """One level of one collection: how many keys were compared and which differ."""

    name: str
    verdict: str
    compared: int = 0  # keys (owners, days; 1 for totals) seen on either side
    differing: int = 0  # keys whose counts differ
    docs: int = 0  # sum of |Δ| over the keys
    max_pct: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)  # the largest differences
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "compared": self.compared,
            "differing": self.differing,
            "docs": self.docs,
            "max_pct": round(self.max_pct, 3),
            "rows": self.rows,
            "note": self.note,
        }


@dataclass
class Side:
    """What one path counted in one collection (settled documents only)."""

    total: int = 0
    recent: int = 0  # documents inside the settle window, left out
    owners: dict[str, int] = field(default_factory=dict)  # owner as hex string -> documents
    owner_types: Counter = field(default_factory=Counter)  # "objectid"/"string"/"none" -> docs
    days: dict[str, int] = field(default_factory=dict)  # "YYYY-MM-DD" or NO_DATE -> documents


@dataclass
class CollectionCounts:
    name: str
    legacy: Side
    gateway: Side
    levels: dict[str, Level]
    present: dict[str, bool]
    snapshot: SnapshotMode  # how this collection was read (NONE after a refused snapshot)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    not_verified: str | None = None  # the gateway could not count this collection, and why

    @property
    def diff(self) -> int:
        """Gateway minus legacy: negative means documents missing on the gateway side."""
        return self.gateway.total - self.legacy.total

    @property
    def verdict(self) -> str:
        if self.not_verified is not None:
            return FAIL
        return _worst(lvl.verdict for lvl in self.levels.values())

    @property
    def differs(self) -> bool:
        return self.not_verified is not None or any(lvl.differing for lvl in self.levels.values())

    def summary(self) -> str:
        """``total −1, 1 owner, 1 day`` — what differs, in a few words."""
        if self.not_verified is not None:
            return f"not verified: {self.not_verified}"
        parts = []
        if self.diff:
            parts.append(f"total {self.diff:+,}")
        for name, unit in ((OWNER, "owner"), (DAY, "day")):
            lvl = self.levels.get(name)
            if lvl and lvl.differing:
                parts.append(f"{lvl.differing} {unit}{'s' if lvl.differing != 1 else ''}")
        return ", ".join(parts) or "no difference"


@dataclass
class Trend:
    """The last runs of one collection and its current streak of nights with a difference."""

    collection: str
    runs: list[dict[str, Any]]  # oldest first, tonight last
    since: str | None = None  # run_at of the first run of the current streak
    streak: int = 0  # runs in the current streak
    lasted_days: float | None = None  # tonight − since
    last_seen: str | None = None  # most recent run with a difference (when tonight is clean)


@dataclass
class CountsResult(RunResult):
    collections: list[CollectionCounts] = field(default_factory=list)
    trend: dict[str, Trend] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    not_verified: str | None = None  # the gateway could not be asked to count, and why
    # How both paths read at one point in time (None: not recorded).
    snapshot: Snapshot | None = None

    @property
    def verdict(self) -> str:
        if self.not_verified is not None:
            return FAIL
        return _worst([OK, *(c.verdict for c in self.collections)])

    @property
    def clean(self) -> bool:
        return not any(c.differs for c in self.collections)

    @property
    def drifting(self) -> list[str]:
        return [c.name for c in self.collections if c.differs]

    @property
    def passed(self) -> bool:
        """The exit-code verdict: warnings pass unless ``fail_on="warn"``."""
        if self.not_verified is not None or not self.collections or not self.complete:
            return False
        if self.options.get("fail_on") == WARN:
            return self.verdict == OK
        return self.verdict != FAIL


def _worst(verdicts: Iterable[str]) -> str:
    return max(verdicts, key=_RANK.__getitem__, default=NA)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(result: CountsResult) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        return {"total": s.total, "recent": s.recent, "owner_types": dict(s.owner_types)}

    return {
        "schema_version": SCHEMA_VERSION,
        "command": "counts",
        "started": _iso(result.started),
        "seconds": round(result.seconds, 3),
        "verdict": result.verdict,
        "not_verified": result.not_verified,
        "complete": result.complete,
        "stopped": result.stopped,
        "clean": result.clean,
        "passed": result.passed,
        "drifting": result.drifting,
        "environment": result.environment,
        "snapshot": result.snapshot.to_json() if result.snapshot else None,
        "options": result.options,
        "collections": [
            {
                "name": c.name,
                "verdict": c.verdict,
                "not_verified": c.not_verified,
                "legacy": side(c.legacy),
                "gateway": side(c.gateway),
                "diff": c.diff,
                "present": c.present,
                "snapshot": c.snapshot.value,
                "seconds": round(c.seconds, 3),
                "levels": {name: lvl.to_dict() for name, lvl in c.levels.items()},
                "notes": c.notes,
            }
            for c in result.collections
        ],
        "history": result.history,
        "trend": {
            name: {
                "since": t.since,
                "streak": t.streak,
                "lasted_days": t.lasted_days,
                "last_seen": t.last_seen,
                "runs": t.runs,
            }
            for name, t in result.trend.items()
        },
    }
