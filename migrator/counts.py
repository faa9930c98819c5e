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

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from migrator import model
from migrator.errors import ConfigError, server_lost
from migrator.gateway import DbGateway
from migrator.gateway.external import ExternalOperationError
from migrator.gateway.repositories import REGISTRY, repository_class
from migrator.inputs import read_text
from migrator.paths import GatewayChoice, open_paths
from migrator.settings import Settings

SCHEMA_VERSION = 1

TOTAL, OWNER, DAY = "total", "owner", "day"
LEVELS = (TOTAL, OWNER, DAY)
OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"
_RANK = {NA: -1, OK: 0, WARN: 1, FAIL: 2}

NO_DATE = "(no date)"
NO_OWNER = "(no owner)"
DEFAULT_HISTORY = "reports/counts-history.jsonl"
HISTORY_DB = "migrator_history"
HISTORY_COLLECTION = "counts"
MAX_ROWS = 10  # largest differences kept per level (reports stay bounded)
SNAPSHOT_ERRORS = (239, 246)  # SnapshotTooOld, SnapshotUnavailable

Progress = Callable[[str, int, int], None]


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
    snapshot: str  # "one snapshot for both paths", "per path", "no"
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
class CountsResult:
    started: datetime
    environment: dict[str, Any]
    options: dict[str, Any]
    collections: list[CollectionCounts] = field(default_factory=list)
    trend: dict[str, Trend] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    not_verified: str | None = None  # the gateway could not be asked to count, and why
    complete: bool = True
    stopped: str | None = None  # why the run stopped early (interrupted, lost server)

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


# --------------------------------------------------------------------------------------------
# What to count: filters and pipelines built from the schema facts
# --------------------------------------------------------------------------------------------


def _has(collection: str, path: str) -> bool:
    return path in model.DATE_FIELDS.get(collection, frozenset())


def recent_filter(collection: str, cutoff: datetime) -> dict[str, Any]:
    """Documents inside the settle window: last written at or after ``cutoff`` — by
    ``updatedAt``, else ``createdAt``; without timestamps by the ``_id``'s creation time.

    Only Date comparisons are used (MongoDB compares a Date with Dates only), so a date that
    is missing or an ISO string (a seeded hazard) never places a document in the window."""
    if _has(collection, "updatedAt"):
        return {
            "$or": [
                {"updatedAt": {"$gte": cutoff}},
                # updatedAt is not an old Date (missing, a string): fall back to createdAt
                {"createdAt": {"$gte": cutoff}, "updatedAt": {"$not": {"$lt": cutoff}}},
            ]
        }
    if _has(collection, "createdAt"):
        return {"createdAt": {"$gte": cutoff}}
    return {"_id": {"$gte": ObjectId.from_datetime(cutoff)}}


def settled_filter(collection: str, cutoff: datetime) -> dict[str, Any]:
    """The complement of ``recent_filter``: what both sides count. Documents that cannot be
    placed in time are always counted."""
    recent = recent_filter(collection, cutoff)
    if "$or" in recent:
        return {"$nor": recent["$or"]}
    (path, condition), *_ = recent.items()
    return {path: {"$not": condition}}


def owner_pipeline(collection: str, cutoff: datetime) -> list[dict[str, Any]]:
    owner = model.OWNER_FIELDS[collection][0]
    return [
        {"$match": settled_filter(collection, cutoff)},
        {"$group": {"_id": f"${owner}", "n": {"$sum": 1}}},
    ]


def day_pipeline(collection: str, cutoff: datetime) -> list[dict[str, Any]]:
    """Documents per UTC day of ``createdAt``; a ``createdAt`` that is not a Date -> NO_DATE."""
    day = {
        "$cond": [
            {"$eq": [{"$type": "$createdAt"}, "date"]},
            {"$dateToString": {"format": "%Y-%m-%d", "date": "$createdAt"}},
            NO_DATE,
        ]
    }
    return [
        {"$match": settled_filter(collection, cutoff)},
        {"$group": {"_id": day, "n": {"$sum": 1}}},
    ]


def owner_key(value: Any) -> tuple[str, str]:
    """(join key, stored type): ObjectId and string owners both join on the hex string."""
    if value is None:
        return NO_OWNER, "none"
    if isinstance(value, ObjectId):
        return str(value), "objectid"
    if isinstance(value, str):
        return value, "string"
    return str(value), type(value).__name__


# --------------------------------------------------------------------------------------------
# The two paths: the same questions, asked through the driver and through the repositories
# --------------------------------------------------------------------------------------------


class LegacyCounter:
    """Direct driver calls on the (read-only) source database."""

    path = "legacy"

    def __init__(self, database: Any) -> None:
        self.db = database

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return self.db[collection].count_documents(dict(query), session=session)

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        return list(self.db[collection].aggregate(pipeline, session=session, allowDiskUse=True))


class ExternalCounter:
    """An external gateway's repositories, through protocol v2's ``counts.count`` and
    ``counts.aggregate`` (no session can cross the pipe)."""

    path = "gateway"

    def __init__(self, client: Any) -> None:
        self.client = client

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return int(self.client.call("counts.count", {"collection": collection, "filter": query}))

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        rows = self.client.call(
            "counts.aggregate", {"collection": collection, "pipeline": pipeline}
        )
        return list(rows or [])


class GatewayCounter:
    """The gateway's repositories: ``count`` (strict, cast filter) and ``aggregate``."""

    path = "gateway"

    def __init__(self, gateway: DbGateway) -> None:
        self.gateway = gateway
        self.entities = {repository_class(n).collection_name: n for n in REGISTRY}

    def _repo(self, collection: str, session: Any) -> Any:
        repo = self.gateway.get_repository(self.entities[collection])
        repo.session = session
        return repo

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return self._repo(collection, session).count(query)

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        return self._repo(collection, session).aggregate(pipeline)


def count_side(
    counter: LegacyCounter | GatewayCounter | ExternalCounter,
    collection: str,
    cutoff: datetime,
    by: Sequence[str],
    session: Any = None,
) -> Side:
    side = Side()
    side.total = counter.count(collection, settled_filter(collection, cutoff), session)
    side.recent = counter.count(collection, recent_filter(collection, cutoff), session)
    if OWNER in by and collection in model.OWNER_FIELDS:
        for row in counter.aggregate(collection, owner_pipeline(collection, cutoff), session):
            key, kind = owner_key(row["_id"])
            side.owners[key] = side.owners.get(key, 0) + int(row["n"])
            side.owner_types[kind] += int(row["n"])
    if DAY in by and _has(collection, "createdAt"):
        for row in counter.aggregate(collection, day_pipeline(collection, cutoff), session):
            key = row["_id"] if isinstance(row["_id"], str) else NO_DATE
            side.days[key] = side.days.get(key, 0) + int(row["n"])
    return side


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


# --------------------------------------------------------------------------------------------
# History: a JSONL file (default) or a collection in a database the tool owns
# --------------------------------------------------------------------------------------------


def _check_record(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("schema_version"), int):
        raise ConfigError(f"{where} is not a counts history record (no schema_version)")
    if record["schema_version"] > SCHEMA_VERSION:
        raise ConfigError(
            f"{where} was written by a newer migrator (schema_version "
            f"{record['schema_version']} > {SCHEMA_VERSION}); upgrade migrator or pass another "
            "--history"
        )
    if not isinstance(record.get("run_at"), str) or not isinstance(record.get("collections"), dict):
        raise ConfigError(f"{where} is not a counts history record (no run_at / collections)")
    return record


class JsonlHistory:
    """One JSON object per line, appended; never rewritten."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = read_text(self.path, "--history")
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"--history {self.path} line {number}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ConfigError(
                    f"{where} is corrupt ({exc.msg}); the file was left as it is — move it "
                    "away or pass another --history"
                ) from None
            records.append(_check_record(record, where))
        return records

    def check_writable(self) -> None:
        """Prove the file can be appended to later, without creating it now."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                with self.path.open("a"):
                    pass
            else:
                probe = self.path.with_name(f".{self.path.name}.probe-{os.getpid()}")
                probe.write_text("")
                probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"cannot write --history {self.path}: {exc.strerror or exc}"
            ) from None

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str)
        with self.path.open("a+") as fh:
            fh.seek(0, 2)
            if fh.tell():
                fh.seek(fh.tell() - 1)
                if fh.read(1) != "\n":
                    fh.write("\n")
            fh.write(line + "\n")


class MongoHistory:
    """``migrator_history.counts`` on the legacy server: a database the tool owns."""

    def __init__(self, client: MongoClient) -> None:
        self.collection = client[HISTORY_DB][HISTORY_COLLECTION]
        self.where = f"{HISTORY_DB}.{HISTORY_COLLECTION}"

    def load(self) -> list[dict[str, Any]]:
        records = []
        for doc in self.collection.find({}, {"_id": 0}).sort("run_at", 1):
            records.append(_check_record(doc, f"--history mongodb ({self.where})"))
        return records

    def check_writable(self) -> None:
        pass

    def append(self, record: dict[str, Any]) -> None:
        self.collection.insert_one(dict(record))


def history_record(result: CountsResult) -> dict[str, Any]:
    """Tonight, as one history record: per collection totals and difference counts per level."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_at": _iso(result.started),
        "pair": result.environment["pair"],
        "verdict": result.verdict,
        "collections": {
            c.name: {
                "legacy": c.legacy.total,
                "gateway": c.gateway.total,
                "diff": c.diff if c.not_verified is None else None,
                "not_verified": c.not_verified,
                "owners": c.levels[OWNER].differing if OWNER in c.levels else None,
                "owner_docs": c.levels[OWNER].docs if OWNER in c.levels else None,
                "days": c.levels[DAY].differing if DAY in c.levels else None,
                "day_docs": c.levels[DAY].docs if DAY in c.levels else None,
                "verdict": c.verdict,
            }
            for c in result.collections
        },
    }


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


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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
        client, g_client, other_server = paths.client, paths.g_client, paths.other_server
        legacy_present = set(paths.source.list_collection_names())
        gateway_present = set(g_client[cfg.gateway_db].list_collection_names())
        if history == "mongodb":
            store = MongoHistory(client)
            records = store.load()
        snap_legacy = bool(paths.info.features and paths.info.features.snapshot_reads)
        snap_gateway = paths.external is None and bool(
            paths.g_info.features and paths.g_info.features.snapshot_reads
        )
        environment = paths.environment()
        environment.update(
            {
                "pair": f"{cfg.db} -> {cfg.gateway_db}",
                "pandas": _pandas_version(),
                "gateway": paths.gateway_name + " — repositories' count / aggregate",
                "snapshot_reads": _snapshot_mode(snap_legacy, snap_gateway, other_server)
                if paths.external is None
                else "not available: the gateway is another process; the settle window "
                "alone guards against writes in flight",
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
        result = CountsResult(started=started, environment=environment, options=options)
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
        try:
            for index, name in enumerate(chosen):
                if progress:
                    progress(name, index, len(chosen))
                t1 = time.perf_counter()
                try:
                    legacy_side, gateway_side, snapshot, notes = _count_both(
                        name,
                        legacy,
                        counter,
                        cutoff,
                        by,
                        client if snap_legacy else None,
                        (g_client if other_server else client) if snap_gateway else None,
                        shared=not other_server,
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
                            snapshot="no",
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
                    snapshot=snapshot,
                    seconds=time.perf_counter() - t1,
                    notes=notes,
                )
                cc.notes += _owner_type_notes(name, cc)
                result.collections.append(cc)
        except KeyboardInterrupt:
            result.complete, result.stopped = False, "interrupted"
        except Exception as exc:
            lost = server_lost(exc)
            if lost is None:
                raise
            result.complete, result.stopped = False, str(lost)
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
    legacy_client: MongoClient | None,
    gateway_client: MongoClient | None,
    *,
    shared: bool,
) -> tuple[Side, Side, str, list[str]]:
    """Both sides of one collection, at one cluster time where the server allows it: one
    snapshot session for both paths on the same cluster, one per path across clusters."""
    if legacy_client is None or gateway_client is None:
        return (
            count_side(legacy, name, cutoff, by),
            count_side(gateway, name, cutoff, by),
            "no",
            [],
        )
    try:
        with legacy_client.start_session(snapshot=True) as s_legacy:
            if shared:
                return (
                    count_side(legacy, name, cutoff, by, s_legacy),
                    count_side(gateway, name, cutoff, by, s_legacy),
                    "one snapshot for both paths",
                    [],
                )
            with gateway_client.start_session(snapshot=True) as s_gateway:
                return (
                    count_side(legacy, name, cutoff, by, s_legacy),
                    count_side(gateway, name, cutoff, by, s_gateway),
                    "one snapshot per path (different clusters)",
                    [],
                )
    except OperationFailure as exc:
        if exc.code not in SNAPSHOT_ERRORS:
            raise
        note = f"snapshot read failed ({exc.code_name or exc.code}); counted without a snapshot"
        return (
            count_side(legacy, name, cutoff, by),
            count_side(gateway, name, cutoff, by),
            "no",
            [note],
        )


def _snapshot_mode(legacy: bool, gateway: bool, other_server: bool) -> str:
    if not (legacy and gateway):
        return "not available: the settle window alone guards against writes in flight"
    if other_server:
        return "one snapshot per path per collection (the paths are on different clusters)"
    return "one snapshot session per collection, shared by both paths"


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
                "snapshot": c.snapshot,
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
