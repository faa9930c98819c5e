"""Write operations verified in sandboxes: the documents an input can touch (its declared
footprint, plus a few bystanders an unscoped write would hit) are copied from the source into two
scratch databases the tool owns; the legacy path writes to one, the gateway path to the other;
then the return values and the resulting states are compared. The source is only ever read,
through the read-only guard.
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


def _copy(
    source: Database,
    targets: tuple[Database, ...],
    footprint: dict[str, dict],
    bystanders: dict[str, list[dict]] | None = None,
) -> set:
    """Reset the footprint collections in both sandboxes to the source's documents, plus a
    few bystanders. ``bystanders`` caches each collection's candidates across inputs: read
    once, not once per input (the per-input query scanned the whole collection)."""
    cache = {} if bystanders is None else bystanders
    copied: set = set()
    for coll, query in footprint.items():
        docs = list(source[coll].find(query))
        ids = {d["_id"] for d in docs}
        if coll not in cache:
            cache[coll] = list(source[coll].find({}).sort("_id", 1).limit(4 * BYSTANDERS))
        others = [d for d in cache[coll] if d["_id"] not in ids][:BYSTANDERS]
        if len(others) < BYSTANDERS and len(cache[coll]) == 4 * BYSTANDERS:
            # The footprint swallowed most candidates: ask the server (rare).
            others = list(
                source[coll].find({"_id": {"$nin": list(ids)}}).sort("_id", 1).limit(BYSTANDERS)
            )
        docs += others
        copied.update((coll, d["_id"]) for d in docs)
        for target in targets:
            target[coll].delete_many({})
            if docs:
                target[coll].insert_many(docs)
    return copied


def _clear(targets: tuple[Database, ...]) -> None:
    for target in targets:
        for coll in target.list_collection_names():
            if coll != META:
                target[coll].delete_many({})


def state(db: Database, copied: set, since: datetime) -> dict[str, list[dict]]:
    """Every document of the sandbox, new ones with their generated ``_id`` masked."""
    out: dict[str, list[dict]] = {}
    for coll in sorted(db.list_collection_names()):
        if coll == META:
            continue
        docs = []
        for doc in db[coll].find({}).sort("_id", 1):
            if (coll, doc["_id"]) not in copied:
                doc["_id"] = FRESH
            docs.append(doc)
        if docs:
            out[coll] = docs
    return out


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
    bystanders: dict[str, list[dict]] | None = None,
) -> tuple[Verdict, Any]:
    """One input of one write: copy, run both, compare return values and resulting states.

    ``gateway`` is the gateway path writing to ``boxes[1]`` (anything with ``call(op,
    args)``: the built-in gateway over it, or an external process connected to it); default:
    the built-in gateway."""
    from migrator.paths import GatewayPath, LegacyPath

    gateway = gateway or GatewayPath(boxes[1])
    legacy = legacy or LegacyPath(boxes[0])
    _clear(boxes)
    copied = _copy(source, boxes, op.footprint(source, args) if op.footprint else {}, bystanders)
    since = utcnow()
    legacy_obs = _observe(lambda: legacy.call(op, args))
    gw = _observe(lambda: gateway.call(op, args))
    time_paths = TIME_FIELDS
    returned = compare(
        _fresh_obs(legacy_obs, since, time_paths),
        _fresh_obs(gw, since, time_paths),
        _state_rules(op.rules),
    )
    diffs = [
        Difference(f"return: {d.kind}", d.path, d.legacy, d.gateway, d.doc)
        for d in returned.differences
    ]
    rules = _state_rules(op.rules)
    left = normalize(fresh(state(boxes[0], copied, since), since, time_paths), rules)
    right = normalize(fresh(state(boxes[1], copied, since), since, time_paths), rules)
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
    return Verdict(status, diffs, returned.rules_applied), (legacy_obs, gw)


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
    result = OpResult(op.name, op.kind)
    t0 = time.perf_counter()
    copy_ns = 0
    bystanders: dict[str, list[dict]] = {}
    for done, args in enumerate(inputs, 1):
        c0 = time.perf_counter_ns()
        verdict, (leg, gw) = verify_write(op, args, source, boxes, gateway, legacy, bystanders)
        copy_ns += time.perf_counter_ns() - c0 - leg.wall_ns - gw.wall_ns
        result.record(args, leg, gw, verdict)
        if progress:
            progress(done)
        if stop is not None and stop.is_set():
            break
    result.seconds = time.perf_counter() - t0
    result.sandbox_seconds = copy_ns / 1e9
    result.judge_coverage()
    return result
