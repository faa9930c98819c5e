"""Write operations verified in sandboxes: the documents an operation's inputs can touch (their
declared footprints, plus a few bystanders an unscoped write would hit) are copied once from the
source into two scratch databases the tool owns; for each input the legacy path writes to one,
the gateway path to the other, the return values and the resulting states are compared, and both
sandboxes are put back by difference. The source is only ever read, through the read-only guard.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import bson
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator import model
from migrator.compare import Observation, Rules, Verdict, compare
from migrator.compare.diff import ERROR, MISMATCH, Difference, differences
from migrator.compare.errors import error_of
from migrator.compare.normalize import normalize, path_matches
from migrator.errors import server_lost
from migrator.gateway.repository import utcnow
from migrator.scratch import META, SCRATCH_PREFIX, claim, sweep
from migrator.services.base import Args, Operation
from migrator.verify.result import OpResult

BYSTANDERS = 8  # documents of other owners copied along, so an unscoped write shows
FRESH = "<written during the run>"


def scratch_names(run: str) -> tuple[str, str]:
    return f"{SCRATCH_PREFIX}{run}_legacy", f"{SCRATCH_PREFIX}{run}_gateway"


def new_run_id() -> str:
    return f"{os.getpid()}x{uuid.uuid4().hex[:6]}"


def drop_leftovers(client: MongoClient, *, everything: bool = False) -> list[str]:
    """Drop scratch databases whose owning process is gone (``migrator.scratch``), or all."""
    return sweep(client, force=everything).dropped


@contextmanager
def sandboxes(client: MongoClient, run: str) -> Iterator[tuple[Database, Database]]:
    """Two scratch databases with LibreChat's indexes, dropped afterwards (also on Ctrl-C)."""
    names = scratch_names(run)
    dbs = (client[names[0]], client[names[1]])
    try:
        for scratch in dbs:
            claim(scratch)
            model.ensure_indexes(scratch)
        yield dbs
    finally:
        for name in names:
            # A lost server cannot drop them: the next run (or `migrator clean`) will.
            with contextlib.suppress(PyMongoError):
                client.drop_database(name)


class Contents:
    """The documents of a sandbox, by collection and ``_id``, with their exact BSON."""

    def __init__(self, docs: dict[str, list[dict]] | None = None) -> None:
        self.docs = {coll: {d["_id"]: d for d in rows} for coll, rows in (docs or {}).items()}
        self.raw = {c: {i: bson.encode(d) for i, d in m.items()} for c, m in self.docs.items()}

    def holds(self, coll: str, _id: Any) -> bool:
        return _id in self.docs.get(coll, {})

    def differing(self, other: Contents) -> set[tuple[str, Any]]:
        """(collection, _id) of every document that is not the same in both."""
        out: set[tuple[str, Any]] = set()
        for coll in self.raw.keys() | other.raw.keys():
            mine, theirs = self.raw.get(coll, {}), other.raw.get(coll, {})
            out.update(
                (coll, i) for i in mine.keys() | theirs.keys() if mine.get(i) != theirs.get(i)
            )
        return out

    def listed(self, keep: set[tuple[str, Any]]) -> dict[str, list[dict]]:
        """The documents of ``keep`` by collection (every collection ``keep`` names, so a
        side that holds none of them shows its documents missing, not the collection)."""
        out: dict[str, list[dict]] = {coll: [] for coll, _ in sorted(keep, key=lambda k: k[0])}
        for coll, rows in out.items():
            rows.extend(d for i, d in self.docs.get(coll, {}).items() if (coll, i) in keep)
        return out


def baseline_for(
    source: Database, footprint: dict[str, dict], bystanders: dict[str, list[dict]]
) -> Contents:
    """What one input needs: its footprint's documents in the source, plus a few bystanders
    per collection (``bystanders`` caches each collection's candidates across inputs)."""
    docs: dict[str, list[dict]] = {}
    for coll, query in footprint.items():
        found = list(source[coll].find(query))
        ids = {d["_id"] for d in found}
        if coll not in bystanders:
            bystanders[coll] = list(source[coll].find({}).sort("_id", 1).limit(4 * BYSTANDERS))
        others = [d for d in bystanders[coll] if d["_id"] not in ids][:BYSTANDERS]
        if len(others) < BYSTANDERS and len(bystanders[coll]) == 4 * BYSTANDERS:
            # The footprint swallowed most candidates: ask the server (rare).
            others = list(
                source[coll].find({"_id": {"$nin": list(ids)}}).sort("_id", 1).limit(BYSTANDERS)
            )
        docs[coll] = found + others
    return Contents(docs)


def settle(db: Database, current: Contents, target: Contents) -> None:
    """Turn a sandbox holding ``current`` into one holding ``target``, touching only the
    documents that differ (one delete and one insert per collection at most)."""
    by_coll: dict[str, list[Any]] = {}
    for coll, _id in current.differing(target):
        by_coll.setdefault(coll, []).append(_id)
    for coll, ids in sorted(by_coll.items()):
        gone = [i for i in ids if current.holds(coll, i)]
        if gone:
            db[coll].delete_many({"_id": {"$in": gone}})
        wanted = [target.docs[coll][i] for i in ids if target.holds(coll, i)]
        if wanted:
            db[coll].insert_many(wanted)


def read_state(db: Database, expected: Contents) -> Contents:
    """Everything a sandbox holds: a find per collection ``expected`` has documents in, and
    one aggregate over all the others (empty unless a write created documents there; on the
    embedded engine a round trip is cheap and each document read is not)."""
    names = [n for n in db.list_collection_names() if n != META]
    docs = {coll: list(db[coll].find({}).sort("_id", 1)) for coll in names if coll in expected.docs}
    rest = sorted(n for n in names if n not in expected.docs)
    if rest:

        def tagged(name: str) -> list[dict]:
            return [{"$sort": {"_id": 1}}, {"$replaceWith": {"c": name, "d": "$$ROOT"}}]

        pipeline = tagged(rest[0]) + [
            {"$unionWith": {"coll": n, "pipeline": tagged(n)}} for n in rest[1:]
        ]
        for row in db[rest[0]].aggregate(pipeline):
            docs.setdefault(row["c"], []).append(row["d"])
    return Contents({c: rows for c, rows in docs.items() if rows})


def empty(boxes: tuple[Database, ...]) -> None:
    for box in boxes:
        for coll in box.list_collection_names():
            if coll != META:
                box[coll].delete_many({})


def fresh(value: Any, since: datetime, paths: tuple[str, ...], path: str = "") -> Any:
    """Timestamps written during the run compare equal on both sides; an old one that should
    have been bumped does not (the rule: ``updatedAt`` within the run window on both sides)."""
    if isinstance(value, dict):
        return {k: fresh(v, since, paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [fresh(v, since, paths, path) for v in value]
    if isinstance(value, datetime) and value >= since and path_matches(path, paths):
        return FRESH
    return value


TIME_FIELDS = (
    "createdAt",
    "updatedAt",
    "expiration",
    "expiresAt",
    "expiredAt",
    "lastRefill",
    "grantedAt",
)


def _state_rules(rules: Rules) -> Rules:
    # Timestamps are judged by `fresh`, generated ids by the _id mask: neither may be volatile.
    keep = tuple(
        v for v in rules.volatile if v not in TIME_FIELDS and v.rsplit(".", 1)[-1] != "_id"
    )
    return Rules(
        ignore=rules.ignore, volatile=keep, tolerance=rules.tolerance, unordered=rules.unordered
    )


def verify_write(
    op: Operation,
    args: Args,
    source: Database,
    boxes: tuple[Database, Database],
    gateway: Any = None,
    legacy: Any = None,
) -> tuple[Verdict, tuple[Observation, Observation]]:
    """One input of one write (see ``run_writes``); the sandboxes are emptied first."""
    empty(boxes)
    [(_, verdict, observed)] = _each_input(
        op, [args], source, boxes, _paths(boxes, gateway, legacy)
    )
    return verdict, observed


def _paths(boxes: tuple[Database, Database], gateway: Any, legacy: Any) -> tuple[Any, Any]:
    """The built-in paths over the sandboxes, unless given (e.g. external processes)."""
    from migrator.paths import GatewayPath, LegacyPath

    return legacy or LegacyPath(boxes[0]), gateway or GatewayPath(boxes[1])


def _run_one(
    op: Operation,
    args: Args,
    boxes: tuple[Database, Database],
    baseline: Contents,
    paths: tuple[Any, Any],
) -> tuple[Verdict, tuple[Observation, Observation], list[Contents]]:
    """Run both paths on sandboxes holding ``baseline``; compare return values and resulting
    states. Only documents a path changed are compared: the others are the baseline on both
    sides."""
    legacy, gateway = paths
    since = utcnow()
    legacy_obs = _observe(lambda: legacy.call(op, args))
    gw = _observe(lambda: gateway.call(op, args))
    rules = _state_rules(op.rules)
    returned = compare(
        _fresh_obs(legacy_obs, since, TIME_FIELDS), _fresh_obs(gw, since, TIME_FIELDS), rules
    )
    diffs = [
        Difference(f"return: {d.kind}", d.path, d.legacy, d.gateway, d.doc)
        for d in returned.differences
    ]
    states = [read_state(box, baseline) for box in boxes]
    touched = states[0].differing(baseline) | states[1].differing(baseline)
    left, right = (
        normalize(fresh(_masked(s, touched, baseline), since, TIME_FIELDS), rules) for s in states
    )
    for d in differences(left, right):
        kind = {
            "document missing": "document only in legacy's state after the write",
            "document extra": "document only in gateway's state after the write",
            "count differs": "count differs after the write",
        }.get(d.kind, f"{d.kind} after the write")
        diffs.append(Difference(kind, d.path, d.legacy, d.gateway, d.doc))
    if returned.status == ERROR:
        status = ERROR
    elif diffs:
        status = MISMATCH
    else:
        status = returned.status
    return Verdict(status, diffs, returned.rules_applied), (legacy_obs, gw), states


def _masked(state: Contents, keep: set, baseline: Contents) -> dict[str, list[dict]]:
    """The documents of ``keep`` in a state, those the write created with their ``_id`` masked."""
    return {
        coll: [d if baseline.holds(coll, d["_id"]) else {**d, "_id": FRESH} for d in docs]
        for coll, docs in state.listed(keep).items()
    }


def _observe(fn: Callable[[], Any]) -> Observation:
    t0 = time.perf_counter_ns()
    try:
        return Observation(value=fn(), wall_ns=time.perf_counter_ns() - t0)
    except Exception as exc:  # an exception is an observation, unless the server is gone
        lost = server_lost(exc)
        if lost is not None:
            raise lost from None
        return Observation(
            error=error_of(exc),
            wall_ns=time.perf_counter_ns() - t0,
        )


def _fresh_obs(obs: Observation, since: datetime, paths: tuple[str, ...]) -> Observation:
    if obs.error:
        return obs
    value = obs.value
    if isinstance(value, dict) and "_id" in value and value.get("createdAt", since) >= since:
        value = {**value, "_id": FRESH}  # a document this write created
    return Observation(value=fresh(value, since, paths), wall_ns=obs.wall_ns)


def _each_input(
    op: Operation,
    inputs: list[Args],
    source: Database,
    boxes: tuple[Database, Database],
    paths: tuple[Any, Any],
) -> Iterator[tuple[Args, Verdict, tuple[Observation, Observation]]]:
    """Both sandboxes start empty; for each input they are brought to its baseline by
    difference from what they hold (the bystanders stay, a write touches a few documents), so
    copying costs what changed, not what is there. They are left empty."""
    bystanders: dict[str, list[dict]] = {}
    held = [Contents(), Contents()]
    try:
        for args in inputs:
            footprint = op.footprint(source, args) if op.footprint else {}
            baseline = baseline_for(source, footprint, bystanders)
            for box, current in zip(boxes, held, strict=True):
                settle(box, current, baseline)
            verdict, observed, held = _run_one(op, args, boxes, baseline, paths)
            yield args, verdict, observed
    finally:
        for box, current in zip(boxes, held, strict=True):
            with contextlib.suppress(PyMongoError):  # a lost server: the sandbox is dropped
                settle(box, current, Contents())


def run_writes(
    op: Operation,
    inputs: list[Args],
    source: Database,
    boxes: tuple[Database, Database],
    gateway: Any = None,
    stop: Any = None,
    legacy: Any = None,
    progress: Callable[[int], None] | None = None,
) -> OpResult:
    """Every input of one write, in the two (empty) sandboxes ``boxes``."""
    result = OpResult(op.name, op.kind)
    t0 = time.perf_counter()
    paths_ns = 0
    runs = _each_input(op, inputs, source, boxes, _paths(boxes, gateway, legacy))
    with contextlib.closing(runs):
        for done, (args, verdict, (leg, gw)) in enumerate(runs, 1):
            paths_ns += leg.wall_ns + gw.wall_ns
            result.record(args, leg, gw, verdict)
            if progress:
                progress(done)
            if stop is not None and stop.is_set():
                break
    result.seconds = time.perf_counter() - t0
    result.sandbox_seconds = result.seconds - paths_ns / 1e9
    result.judge_coverage()
    return result
