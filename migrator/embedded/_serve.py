"""Launcher for the embedded MongoDB-compatible wire server (mongoeco).

Runs under its own Python >= 3.13 venv (mongoeco needs it), never imported by the product.
Usage: python _serve.py --data-dir DIR [--host 127.0.0.1] [--port 0]

- Prints the server's ``mongodb://`` URI as its first stdout line once the port is open.
- Restores the snapshot in DIR (if any) in-process before opening the port, and writes a new
  snapshot on SIGTERM/SIGINT, so the data folder survives restarts.
- Holds an exclusive lock on DIR/lock for its lifetime: one server per data folder.

Two performance fixes for mongoeco's MemoryEngine, neither of which changes semantics
(each falls back to the engine's own check whenever its shortcut would not be exact):
- the wire ``insert`` command inserts one document at a time, and each single insert scans the
  whole collection for an equal ``_id`` (needed only for numeric ids, where 1 == 1.0);
- a compound unique index is checked by scanning every document, although the engine keeps a
  hash of its keys; we probe that hash when the candidate key has no null/missing part.
Both made writes O(n^2): 2,000 messages with LibreChat's unique indexes took 35 s, now 0.6 s.

The rest of the write path is made cheaper per document by ``WriteShortcuts``
(``_write_shortcuts.py``, with ``_write_values.py`` and ``_write_batches.py``): the codec, deep
copies, ObjectId equality, index maintenance (an update leaves unchanged index entries alone),
and the wire's insert command and ``delete_many`` in batches, each exact and falling back to
the engine's own code; ``MIGRATOR_ENGINE_WRITE_SHORTCUTS=off`` starts with them off.

One read fix, ``Engine._candidate_items_for_plan_locked``: the engine narrows a query only by the
first single-field index of an equality, so ``$in``, ``$or``, compound-index prefixes and
unindexed equalities (``sessions.user``) scan the collection. We compute a superset of the
matching documents from hash buckets (the engine's own index maps, ``_id`` storage keys, or a
hash of one top-level field built on first use and dropped on any write to the collection) and
let the engine's matcher, sort and projection run on that superset only, in natural order, so
results are the same. Only strings, ObjectIds and booleans are hashed: their BSON equality is by
type and value alone (numbers compare across BSON types, null matches missing, and documents,
arrays and regexes match structurally, so those queries keep the engine's path), and never
under a collation.

A second read fix, the ordered ``_id`` walk (``Engine.scan_find_semantics``): a read sorted by
``_id`` alone with a limit (``find(...).sort("_id", 1).limit(n)``, ``find_one(sort=...)``, an
aggregation whose ``$match``/``$sort``/``$skip``/``$limit`` prefix the engine pushes down) makes
the engine match, then sort, every candidate: a full scan for the sampler's ``_id >= pivot``
reads. We keep each collection's ObjectId storage keys in a sorted list (built on first use,
kept in step by the storage setters like the field hashes), bisect to the query's ``_id``
bounds and walk them in the sort's direction through the engine's own filter, stopping at
``skip + limit`` matches; the engine then filters, sorts, skips, limits and projects those few.
A superset from hash buckets narrows the walk too. Exact because ``_id`` values are unique
and, all being ObjectIds, ordered as the engine sorts them (by their 12 bytes); a collection
holding another ``_id`` type, a collation, a hint, a text or ``$near`` query keep the engine's
path.

A third, the wire ``distinct`` command: the engine checks each value against every value kept
so far (quadratic in the answer); strings, ObjectIds and booleans are checked in a hash instead
(``_distinct``), other values against the other values as before; never under a collation.

A fourth, ``$in`` in the engine's compiled matcher (``_node_to_code``): each candidate is
compared with every listed value (an access list of 100 ids: 10,000 comparisons per page); a
string, ObjectId or boolean candidate is looked up in a hash of the list instead, when every
listed value is one of those (the same premise as the buckets above).

A fifth, the engine's own hash join for ``$lookup``, which it builds only under a bound on the
documents an aggregation may hold (``_set_reads``), keyed on strings, ObjectIds, booleans
and null only (``_lookup_hash_key``), and a sixth, replies encoded by bson's C encoder in one pass
rather than copied in Python first (``_encode_reply``). With the join, ``explain`` names the
hash plan for a ``$lookup``, as the engine reports the plan it runs. A seventh answers
``countDocuments``' pipeline with the engine's own count of its filter (``_aggregate``); an
eighth compares ObjectIds and naive dates in sorts natively (``_native_sort_scalars``). The
candidate superset of an ``$and`` is the intersection of its bounded clauses' supersets.

``MIGRATOR_ENGINE_READ_SHORTCUTS=off`` starts with all eight read fixes off; SIGUSR1 turns them
off and SIGUSR2 on at run time, so benchmarks/engine.py compares both on one loaded server.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextvars
import fcntl
import functools
import json
import os
import shutil
import signal
import struct
import sys
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

import bson
from _write_shortcuts import WriteShortcuts
from bson import ObjectId
from bson.binary import UuidRepresentation
from bson.code import Code
from bson.codec_options import CodecOptions, TypeRegistry
from mongoeco import AsyncMongoClient
from mongoeco.api._async._database_admin_read_commands import DatabaseAdminReadCommandService
from mongoeco.core import sorting as _sorting
from mongoeco.core.aggregation import lookup_physical as _lookup_physical
from mongoeco.core.aggregation.cost import AggregationCostPolicy
from mongoeco.core.bson_ordering import bson_engine_key, bson_equality_key
from mongoeco.core.bson_scalars import BsonInt64
from mongoeco.core.collation import normalize_collation
from mongoeco.core.compiled_query import CompiledQuery
from mongoeco.core.filtering import QueryEngine
from mongoeco.core.query_plan import (
    AndCondition,
    EqualsCondition,
    GreaterThanCondition,
    GreaterThanOrEqualCondition,
    InCondition,
    LessThanCondition,
    LessThanOrEqualCondition,
    NearCondition,
    NotCondition,
    OrCondition,
)
from mongoeco.engines import MemoryEngine
from mongoeco.engines.memory import MemoryCollection, document_in_virtual_index
from mongoeco.engines.semantic_core import EngineFindSemantics, iter_filtered_documents
from mongoeco.engines.virtual_indexes import query_can_use_index
from mongoeco.types import CommandCursorResult, DistinctCommandResult, is_object_id_like
from mongoeco.types import ObjectId as EngineObjectId
from mongoeco.wire import AsyncMongoEcoProxyServer
from mongoeco.wire import _executor_validation as _wire_validation
from mongoeco.wire import cursors as _wire_cursors
from mongoeco.wire import proxy as _wire_proxy
from mongoeco.wire.bson_bridge import decode_wire_value, encode_wire_value
from mongoeco.wire.protocol import OP_MSG


def _int64_cursor_id(method):
    # MongoDB sends cursor ids as int64; drivers that type-check replies (Node's) require it.
    def wrapper(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        cursor = result.get("cursor") if isinstance(result, dict) else None
        if isinstance(cursor, dict) and type(cursor.get("id")) is int:
            cursor["id"] = bson.Int64(cursor["id"])
        return result

    return wrapper


for _name in ("materialize_command_result", "get_more"):
    setattr(
        _wire_cursors.WireCursorStore,
        _name,
        _int64_cursor_id(getattr(_wire_cursors.WireCursorStore, _name)),
    )


def _plain_int(value: object) -> object:
    return value.value if isinstance(value, BsonInt64) else value


def _unwrap_cursor_ids(validator):
    # Drivers echo the int64 cursor id back; the wire layer decodes an int64 as the engine's
    # BsonInt64 (not an int), which getMore and killCursors reject: unwrap it before they run.
    # The command document is the one the handler gets, so fixing it in place is enough.
    def wrapper(body: dict, command_document: dict) -> None:
        for key in ("getMore", "batchSize"):
            if key in command_document:
                command_document[key] = _plain_int(command_document[key])
        if isinstance(command_document.get("cursors"), list):
            command_document["cursors"] = [_plain_int(c) for c in command_document["cursors"]]
        validator(body, command_document)

    return wrapper


for _name in ("getMore", "killCursors"):
    _wire_validation._WIRE_COMMAND_VALIDATORS[_name] = _unwrap_cursor_ids(
        _wire_validation._WIRE_COMMAND_VALIDATORS[_name]
    )

SNAPSHOT = "snapshot"
SYSTEM_DBS = {"admin", "config", "local"}
SHORTCUTS = {"reads": os.environ.get("MIGRATOR_ENGINE_READ_SHORTCUTS", "on") != "off"}
# A candidate superset this small against its collection is put in _id order outright (a sort
# of a few keys); a larger one filters the walk over the collection's order (a set lookup each).
SORTED_SUPERSET_SHARE = 1 / 8
NO_AGGREGATION_LIMIT = 2**62  # documents an aggregation may hold (_set_reads): never reached
# The read whose candidate lookup should walk _id order (set around the scan's first step).
_ID_WALK: contextvars.ContextVar[EngineFindSemantics | None] = contextvars.ContextVar(
    "id_walk", default=None
)


def _exact_key(value: object) -> object | None:
    """The engine's equality key of a string, ObjectId or boolean, else None: values that
    equal only values of their own type, so a hash bucket holds every match."""
    kind = type(value)
    if kind in _PLAIN_KINDS:  # the common types, their keys remembered
        return _remembered_key(kind, value)
    if (isinstance(value, str) and not isinstance(value, Code)) or isinstance(value, bool):
        return bson_equality_key(value)
    if is_object_id_like(value):
        return bson_equality_key(value)
    return None


_OBJECT_IDS = frozenset({ObjectId, EngineObjectId})  # the wire decodes to the engine's own
_PLAIN_KINDS = _OBJECT_IDS | {str, bool}


@functools.lru_cache(maxsize=1 << 16)
def _remembered_key(kind: type, value: object) -> object:
    """``bson_equality_key(value)``, remembered (the type is part of the cache key: True == 1)."""
    return bson_equality_key(value)


class _Derived:
    """What we derive from one stored collection, in step with one version of it: hashes of
    top-level fields, and its ObjectId storage keys in ``_id`` order.

    MemoryCollection keeps its rows in an immutable map whose root every write replaces, so
    holding that root and comparing identity tells exactly whether these are current. Writes
    through the engine's two storage setters update them and the root; any other change (a
    rollback, a restored snapshot) leaves a stale root, and they are rebuilt."""

    def __init__(self, coll: MemoryCollection, on_gone: Any) -> None:
        self.ref = weakref.ref(coll, on_gone)
        self.root = coll._values
        self.tables: dict[str, dict[object, set[Any]]] = {}
        self.ids: list[tuple] | None = None  # sorted ObjectId storage keys; None: not built
        self.other_ids = 0  # storage keys of any other _id type (the order is then unusable)

    @property
    def tracked(self) -> bool:
        return bool(self.tables) or self.ids is not None

    def track_id(self, storage_key: Any, *, present: bool) -> None:
        """Keep ``ids`` in step with one row stored (present) or deleted."""
        if not _is_object_id_key(storage_key):
            self.other_ids += 1 if present else -1
        elif present:
            bisect.insort(self.ids, storage_key)
        else:
            at = bisect.bisect_left(self.ids, storage_key)
            if at < len(self.ids) and self.ids[at] == storage_key:
                del self.ids[at]


def _is_object_id_key(storage_key: Any) -> bool:
    return type(storage_key) is tuple and len(storage_key) == 2 and storage_key[0] == "objectid"


def _walk_direction(semantics: EngineFindSemantics) -> int | None:
    """1 or -1 for a limited read sorted by ``_id`` alone with nothing that makes the engine
    order or match otherwise (a collation, a hint, a text or ``$near`` query), else None."""
    sort = semantics.sort
    if (
        not sort
        or len(sort) != 1
        or sort[0][0] != "_id"
        or type(sort[0][1]) is not int
        or sort[0][1] not in (1, -1)
        or semantics.limit is None
        or semantics.limit <= 0
        or semantics.collation is not None
        or semantics.hint is not None
        or semantics.text_query is not None
        or _mentions_near(semantics.query_plan)
    ):
        return None
    return sort[0][1]


def _mentions_near(node: object) -> bool:
    if isinstance(node, NearCondition):
        return True
    if isinstance(node, (AndCondition, OrCondition)):
        return any(_mentions_near(clause) for clause in node.clauses)
    if isinstance(node, NotCondition):
        return _mentions_near(node.condition)
    return False


_LOWER = {GreaterThanCondition: False, GreaterThanOrEqualCondition: True}  # inclusive?
_UPPER = {LessThanCondition: False, LessThanOrEqualCondition: True}


def _id_slice(keys: list[tuple], plan: object) -> tuple[int, int]:
    """The index range of sorted ObjectId storage keys that can satisfy the plan's top-level
    ``_id`` bounds (ObjectId values only; any other bound is left to the matcher)."""
    lo, hi = 0, len(keys)
    for clause in _conjuncts(plan):
        value = getattr(clause, "value", None)
        if getattr(clause, "field", None) != "_id" or not is_object_id_like(value):
            continue
        key = bson_engine_key(value)  # the engine's storage key of that _id
        kind = type(clause)
        if kind in _LOWER or kind is EqualsCondition:
            inclusive = kind is EqualsCondition or _LOWER[kind]
            find = bisect.bisect_left if inclusive else bisect.bisect_right
            lo = max(lo, find(keys, key))
        if kind in _UPPER or kind is EqualsCondition:
            inclusive = kind is EqualsCondition or _UPPER[kind]
            find = bisect.bisect_right if inclusive else bisect.bisect_left
            hi = min(hi, find(keys, key))
    return lo, max(lo, hi)


def _conjuncts(plan: object) -> list[object]:
    """The clauses every match satisfies: the plan, or its (nested) $and's clauses."""
    if isinstance(plan, AndCondition):
        return [c for clause in plan.clauses for c in _conjuncts(clause)]
    return [plan]


def _field_keys(document: dict, field: str) -> set[object]:
    """The hashable equality keys of a top-level field: its value, or its array's elements."""
    value = document.get(field)
    items = value if isinstance(value, list) else (value,)
    return {key for key in map(_exact_key, items) if key is not None}


class Engine(WriteShortcuts, MemoryEngine):
    def _ensure_unique_indexes(
        self,
        db_name,
        coll_name,
        candidate,
        *,
        exclude_storage_key=None,
        indexes_view=None,
        index_data_view=None,
        scan_payload_id=False,
        **kwargs,
    ):
        if scan_payload_id and isinstance(candidate.get("_id"), (ObjectId, str)):
            scan_payload_id = False  # the storage-key lookup is exact for non-numeric ids
        indexes = (self._indexes if indexes_view is None else indexes_view).get(db_name, {})
        indexes = indexes.get(coll_name, [])
        data = (self._index_data if index_data_view is None else index_data_view).get(db_name, {})
        data = data.get(coll_name, {})
        coll = self._storage.get(db_name, {}).get(coll_name, {})
        exclude = exclude_storage_key
        if exclude is not None and exclude not in coll:
            exclude = self._storage_key(exclude)
        rest = []
        for index in indexes:
            fields = index["fields"]
            index_map = data.get(index["name"])
            simple = (
                index.get("unique")
                and len(fields) > 1
                and index_map is not None
                and index.get("collation") is None
                and index.get("partial_filter_expression") is None
                and not index.get("sparse")
            )
            if simple and document_in_virtual_index(candidate, index):
                keys = self._unique_index_keys(candidate, fields)
                # Missing and null are stored differently in the hash: leave those to the engine.
                if all(part[0] != "none" for key in keys for part in key):
                    self._validate_compound_multikey_shape(candidate, index)
                    for key in keys:
                        matches = index_map.get(key)
                        if matches and (exclude is None or any(m != exclude for m in matches)):
                            raise self._unique_key_error(
                                f"Duplicate key for unique index '{index['name']}': "
                                f"{fields}={key!r}",
                                f"{db_name}.{coll_name}",
                                candidate,
                                index=index,
                                conflict=key,
                            )
                    continue
            rest.append(index)
        return super()._ensure_unique_indexes(
            db_name,
            coll_name,
            candidate,
            exclude_storage_key=exclude_storage_key,
            indexes_view={db_name: {coll_name: rest}},
            index_data_view=index_data_view,
            scan_payload_id=scan_payload_id,
            **kwargs,
        )

    # --- reads: candidate supersets from hash buckets ------------------------------------------
    # A plan's candidates are a list of buckets (sets of storage keys) whose union holds every
    # matching document, or None when no bounded superset is known. Buckets are not copied.

    def _candidate_items_for_plan_locked(
        self, coll, query_plan, *, dialect, indexes, index_data, collation, **kwargs
    ):
        if SHORTCUTS["reads"] and collation is None and isinstance(coll, MemoryCollection):
            ctx = (coll, indexes, index_data, dialect)
            # Maintained maps first; build a field hash only when nothing else bounds the plan.
            buckets = self._plan_candidates(ctx, query_plan, build=False)
            if buckets is None:
                buckets = self._plan_candidates(ctx, query_plan, build=True)
            walk = _ID_WALK.get()
            if walk is not None and walk.query_plan is query_plan:
                walked = self._walk_ids(coll, walk, buckets)
                if walked is not None:
                    return walked
            if buckets is not None:
                keys = buckets[0] if len(buckets) == 1 else set().union(*buckets)
                limit = kwargs.get("natural_order_limit")
                return [(k, coll[k]) for k in coll.ordered_keys(keys, limit=limit)]
        return super()._candidate_items_for_plan_locked(
            coll,
            query_plan,
            dialect=dialect,
            indexes=indexes,
            index_data=index_data,
            collation=collation,
            **kwargs,
        )

    # --- reads: the ordered _id walk ----------------------------------------------------------

    def scan_find_semantics(self, db_name, coll_name, semantics, *, context=None):
        source = super().scan_find_semantics(db_name, coll_name, semantics, context=context)
        if not SHORTCUTS["reads"] or _walk_direction(semantics) is None:
            return source
        return _walking(source, semantics)

    def _walk_ids(
        self, coll: MemoryCollection, semantics: EngineFindSemantics, buckets: list | None
    ) -> list[tuple[Any, Any]] | None:
        """The first ``skip + limit`` rows the engine's filter matches, in the read's ``_id``
        order: every row the engine's sort could put in its result. None: not exact here."""
        direction = _walk_direction(semantics)
        order = self._id_order(coll)
        if direction is None or order is None:
            return None
        keys: Any = order
        member = None
        if buckets is not None:
            superset = buckets[0] if len(buckets) == 1 else set().union(*buckets)
            if len(superset) <= SORTED_SUPERSET_SHARE * len(order):
                keys = sorted(k for k in superset if _is_object_id_key(k))
            else:
                member = superset.__contains__
        lo, hi = _id_slice(keys, semantics.query_plan)
        steps = range(lo, hi) if direction == 1 else range(hi - 1, lo - 1, -1)
        current: list = [None]

        def rows():
            for at in steps:
                key = keys[at]
                if member is None or member(key):
                    data = coll.get(key)
                    if data is not None:
                        current[0] = (key, data)
                        yield self._borrow_storage_document(data)

        need = semantics.skip + semantics.limit
        picked = []
        for _document in iter_filtered_documents(rows(), semantics):
            picked.append(current[0])
            if len(picked) >= need:
                break
        return picked

    def _id_order(self, coll: MemoryCollection) -> list[tuple] | None:
        """This collection's storage keys in _id order if every _id is an ObjectId."""
        entry = self._derived(coll, create=True)
        if entry.ids is None:
            keys = list(coll.keys())
            entry.ids = sorted(k for k in keys if _is_object_id_key(k))
            entry.other_ids = len(keys) - len(entry.ids)
        return entry.ids if entry.other_ids == 0 else None

    def _plan_candidates(self, ctx: tuple, node: object, *, build: bool) -> list | None:
        if isinstance(node, (EqualsCondition, InCondition)):
            values = (node.value,) if isinstance(node, EqualsCondition) else node.values
            keys = {_exact_key(v) for v in values}
            if node.null_matches_undefined or not keys or None in keys:
                return None
            return self._buckets(ctx, node, keys, build=build)
        if isinstance(node, AndCondition):  # a match is in every bounded clause's superset
            bounded = [
                found
                for found in (self._plan_candidates(ctx, c, build=build) for c in node.clauses)
                if found is not None
            ]
            if len(bounded) < 2:
                return bounded[0] if bounded else None
            bounded.sort(key=lambda found: sum(map(len, found)))
            keep = set().union(*bounded[0])
            for other in bounded[1:]:  # from the smallest: a set lookup per kept key
                keep = {k for k in keep if any(k in bucket for bucket in other)}
            return [keep]
        if isinstance(node, OrCondition):  # every branch must be bounded
            union: list = []
            for clause in node.clauses:
                found = self._plan_candidates(ctx, clause, build=build)
                if found is None:
                    return None
                union += found
            return union
        return None

    def _buckets(self, ctx: tuple, node, keys: set, *, build: bool) -> list | None:
        coll, indexes, index_data, dialect = ctx
        field = node.field
        if field == "_id":  # storage keys are these values' engine keys
            return [{k for k in keys if k in coll}]
        for index in indexes:  # the engine's own map of a single-field index on this path
            index_map = index_data.get(index["name"])
            if (
                index_map is not None
                and len(index["key"]) == 1
                and index["key"][0][0] == field
                and index["key"][0][1] in (1, -1)
                and query_can_use_index(index, node, dialect=dialect, collation=None)
            ):
                return [index_map[(k,)] for k in keys if (k,) in index_map]
        if "." in field or field.startswith("$"):
            return None
        table = self._field_hash(coll, field, build=build)
        if table is None:
            return None
        return [table[k] for k in keys if k in table]

    def _derived(self, coll: MemoryCollection, *, create: bool = False) -> _Derived | None:
        """What we derived from this collection if it is in step with it; with ``create``, a
        fresh empty entry otherwise."""
        derived: dict[int, _Derived] = self.__dict__.setdefault("_derived_by_coll", {})
        entry = derived.get(id(coll))
        if entry is not None and entry.ref() is coll and entry.root is coll._values:
            return entry
        if not create:
            return None
        ident = id(coll)
        entry = derived[ident] = _Derived(coll, lambda _ref: derived.pop(ident, None))
        return entry

    def _field_hash(self, coll: MemoryCollection, field: str, *, build: bool) -> dict | None:
        """{equality key: storage keys} of one top-level field, built on first use."""
        entry = self._derived(coll)
        table = None if entry is None else entry.tables.get(field)
        if table is not None or not build:
            return table
        if entry is None:
            entry = self._derived(coll, create=True)
        table = {}
        for storage_key, data in coll.items():
            for key in _field_keys(self._borrow_storage_document(data), field):
                table.setdefault(key, set()).add(storage_key)
        entry.tables[field] = table
        return table

    def _set_storage_document_locked(self, collection, storage_key, document) -> None:
        self._write_through(collection, storage_key, document)

    def _delete_storage_document_locked(self, collection, storage_key) -> None:
        self._write_through(collection, storage_key, None)

    def _write_through(self, coll, storage_key, document) -> None:
        """Store (or delete) one row, keeping what we derived from this collection in step."""
        entry = self._derived(coll) if isinstance(coll, MemoryCollection) else None
        if entry is not None and entry.tracked:
            old = coll.get(storage_key)
            old_doc = None if old is None else self._borrow_storage_document(old)
        if document is None:
            super()._delete_storage_document_locked(coll, storage_key)
        else:
            super()._set_storage_document_locked(coll, storage_key, document)
        if entry is None or not entry.tracked:
            return
        if entry.ids is not None and (old is None) != (document is None):
            entry.track_id(storage_key, present=document is not None)
        new_doc = None if document is None else self._borrow_storage_document(document)
        for field, table in entry.tables.items():
            if old_doc is not None:
                for key in _field_keys(old_doc, field):
                    bucket = table.get(key)
                    if bucket is not None:
                        bucket.discard(storage_key)
                        if not bucket:
                            del table[key]
            if new_doc is not None:
                for key in _field_keys(new_doc, field):
                    table.setdefault(key, set()).add(storage_key)
        entry.root = coll._values


async def _distinct(self, collection_name, key, operation, *, session=None):
    """The wire ``distinct`` command, as mongoeco 4.11 runs it, but with the duplicate check
    in a hash for strings, ObjectIds and booleans (equal only to their own type and value,
    as ``_exact_key`` says): the engine compares each new value with every value kept so
    far, quadratic in the answer (60 resource ids: 70 ms). And the documents are read with
    only the key's top-level field (its whole subtree, so its values are the same): the
    engine builds the public form of every field it returns, per row. Under a collation, or
    with the read shortcuts off, the engine's own loop runs."""
    collation = normalize_collation(operation.collation)
    if not SHORTCUTS["reads"] or collation is not None:
        return await _ENGINE_DISTINCT(self, collection_name, key, operation, session=session)
    root = key.split(".", 1)[0]
    if operation.projection is None and root and not root.startswith("$"):
        operation = operation.with_overrides(projection={root: 1, "_id": int(root == "_id")})
    distinct_values: list[object] = []
    exact_seen: set[object] = set()
    others: list[object] = []  # values of other types, compared by the engine as before
    coll = self._admin._database.get_collection(collection_name)
    async for document in coll._build_cursor(operation, session=session):
        values = QueryEngine.extract_values(document, key)
        if not values:
            found, value = QueryEngine._get_field_value(document, key)
            if not found:
                values = [None]
            elif isinstance(value, list):
                continue
            else:
                values = [value]
        candidates = values[1:] if isinstance(values[0], list) else values
        for candidate in candidates:
            exact = _exact_key(candidate)
            if exact is not None:
                if exact in exact_seen:
                    continue
                exact_seen.add(exact)
            elif any(
                QueryEngine._values_equal(
                    existing, candidate, dialect=self._admin._mongodb_dialect, collation=None
                )
                for existing in others
            ):
                continue
            else:
                others.append(candidate)
            distinct_values.append(candidate)
    return DistinctCommandResult(values=distinct_values)


_ENGINE_DISTINCT = DatabaseAdminReadCommandService.execute_distinct_command
DatabaseAdminReadCommandService.execute_distinct_command = _distinct

# Query operators a find filter and an aggregation's $match treat differently (MongoDB refuses
# $where in $match; $text, $near and $expr run elsewhere in a pipeline): never counted here.
_NOT_COUNTED = {"$where", "$text", "$near", "$nearSphere", "$geoNear", "$expr"}


def _counted_match(operation: Any) -> dict | None:
    """The filter of ``countDocuments``' pipeline, ``[{$match: F}, {$group: {_id: 1, n:
    {$sum: 1}}}]`` (the shape drivers send, any name for ``n``), with no collation, hint or
    variables; else None."""
    pipeline = operation.pipeline
    if (
        len(pipeline) != 2
        or operation.collation is not None
        or operation.hint is not None
        or getattr(operation.let, "bindings", operation.let)  # the command's $$NOW alone
        or list(pipeline[0]) != ["$match"]
        or list(pipeline[1]) != ["$group"]
    ):
        return None
    match, group = pipeline[0]["$match"], pipeline[1]["$group"]
    if not isinstance(match, dict) or not isinstance(group, dict) or list(group)[:1] != ["_id"]:
        return None
    rest = list(group.items())[1:]
    if len(rest) != 1 or _operators_in(match) & _NOT_COUNTED:
        return None
    ((name, total),) = rest
    one = total.get("$sum") if isinstance(total, dict) and len(total) == 1 else None
    if _is_int_one(group["_id"]) and _is_int_one(one) and not name.startswith("$"):
        return match
    return None


def _is_int_one(value: object) -> bool:
    return type(value) is int and value == 1


def _operators_in(spec: object) -> set[str]:
    """Every key starting with ``$`` at any depth of a filter."""
    if isinstance(spec, dict):
        found = {k for k in spec if isinstance(k, str) and k.startswith("$")}
        return found.union(*map(_operators_in, spec.values()))
    if isinstance(spec, list):
        return set().union(*map(_operators_in, spec))
    return set()


async def _aggregate(self, collection_name, operation, *, session=None):
    """The wire ``aggregate`` command, as mongoeco 4.11 runs it, but ``countDocuments``'
    pipeline (``_counted_match``) answered by the engine's own count of that filter, in the
    same session: the engine's pipeline builds the public form of every matching document
    and feeds each through ``$group`` (a count of 800 users: 43 ms), where its count only
    matches them. The answer is the one ``$group`` gives: ``{_id: 1, n: count}``, or no
    document when nothing matches. With the read shortcuts off, the engine's pipeline."""
    match = _counted_match(operation) if SHORTCUTS["reads"] else None
    if match is None:
        return await _ENGINE_AGGREGATE(self, collection_name, operation, session=session)
    spec: dict[str, Any] = {"find": collection_name, "filter": match}
    if operation.max_time_ms is not None:
        spec["maxTimeMS"] = operation.max_time_ms
    _, find = self._admin._command_compiler.compile_find_operation(spec, collection_field="find")
    coll = self._admin._database.get_collection(collection_name)
    count = await coll._engine_count_with_operation(find, session=session)
    name = list(operation.pipeline[1]["$group"])[1]
    return CommandCursorResult(
        namespace=f"{self._admin._db_name}.{collection_name}",
        first_batch=[{"_id": 1, name: count}] if count else [],
    )


_ENGINE_AGGREGATE = DatabaseAdminReadCommandService.execute_aggregate_command
DatabaseAdminReadCommandService.execute_aggregate_command = _aggregate


def _native_sort_scalars(left: Any, right: Any) -> int | None:
    """The engine's own comparison of two sort values of one plain type (ints, strings,
    floats: by Python's operators), extended to ObjectIds (by their 12 bytes, as BSON orders
    them) and naive datetimes (in time): the engine compares those through its general
    BSON comparator, a dozen calls each (a page of 60 agents by ``updatedAt``: 2 ms).
    None: not one of these types, and the engine's comparator decides."""
    found = _ENGINE_NATIVE_SORT(left, right)
    if found is not None or not SHORTCUTS["reads"]:
        return found
    kind = type(left)
    if kind is not type(right):
        return None
    if kind in _OBJECT_IDS or (kind is datetime and left.tzinfo is None and right.tzinfo is None):
        return (left > right) - (left < right)
    return None


_ENGINE_NATIVE_SORT = _sorting._compare_native_sort_scalars
_sorting._compare_native_sort_scalars = _native_sort_scalars


def _node_to_code(self: CompiledQuery, node: Any, depth: int) -> str:
    """The engine's compiled matcher, but an ``$in`` of strings, ObjectIds and booleans (no
    collation) tests a candidate of those types by its key in a hash (``_in_hash``); the
    engine compares every candidate with every listed value (an ``_id`` list of 100: 10,000
    comparisons per page)."""
    if SHORTCUTS["reads"] and isinstance(node, InCondition) and self.collation is None:
        keys = {_exact_key(value) for value in node.values}
        if keys and None not in keys:
            member = self._store("in", _in_hash(node, frozenset(keys)))
            return f"{member}(_extract(doc, {self._field(node.field)}) or [None], dialect)"
    return _ENGINE_NODE_TO_CODE(self, node, depth)


def _in_hash(node: InCondition, keys: frozenset) -> Any:
    """Whether any candidate matches ``node``: a string, ObjectId or boolean equals only a
    value of its own type and value (``_exact_key``), so its key in ``keys`` decides; any
    other candidate (a number, null, an array, a document) goes through the engine's own
    comparison with every value, as does every candidate once the read shortcuts are off."""

    def matches(candidates: list, dialect: Any) -> bool:
        for candidate in candidates:
            key = _exact_key(candidate) if SHORTCUTS["reads"] else None
            if key is not None:
                if key in keys:
                    return True
            elif any(
                QueryEngine._in_item_matches_candidate(
                    candidate,
                    value,
                    null_matches_undefined=node.null_matches_undefined,
                    dialect=dialect,
                    collation=None,
                )
                for value in node.values
            ):
                return True
        return False

    return matches


_ENGINE_NODE_TO_CODE = CompiledQuery._node_to_code
CompiledQuery._node_to_code = _node_to_code

_REPLY_CODEC = CodecOptions(
    type_registry=TypeRegistry(fallback_encoder=encode_wire_value),
    uuid_representation=UuidRepresentation.STANDARD,
)


def _encode_reply(document: dict, *, request_id: int, response_to: int) -> bytes:
    """An OP_MSG reply, as mongoeco 4.11 frames it, but its body encoded by bson's C encoder
    in one pass: the engine first copies the whole reply in Python (``encode_wire_value``),
    converting its own value types, then encodes the copy (a third of a large find's time).
    Here the C encoder writes every standard type itself and hands the engine's own types
    (its Int64, Decimal128, Regex, Timestamp, DBRef, undefined) to ``encode_wire_value``, one
    value at a time: the same bytes. With the read shortcuts off, the engine's own encoder."""
    if not SHORTCUTS["reads"]:
        return _ENGINE_ENCODE_REPLY(document, request_id=request_id, response_to=response_to)
    payload = b"\x00\x00\x00\x00\x00" + bson.encode(document, codec_options=_REPLY_CODEC)
    header = struct.pack("<iiii", 16 + len(payload), request_id, response_to, OP_MSG)
    return header + payload


_ENGINE_ENCODE_REPLY = _wire_proxy.encode_op_msg_response
_wire_proxy.encode_op_msg_response = _encode_reply


def _lookup_hash_key(value: Any, dialect: Any) -> Any:
    """The engine's hash-join key for ``$lookup`` (``_set_reads``), for strings, ObjectIds,
    booleans and null (missing) only; None otherwise, and the engine then checks that row
    against every row, as its nested loop does. Its key for a number rounds through the decimal
    text of a double, so ``2**60`` and ``2.0**60``, equal to its own matcher and to MongoDB,
    would not meet."""
    if value is None or _exact_key(value) is not None:
        return _ENGINE_LOOKUP_HASH_KEY(value, dialect)
    return None


_ENGINE_LOOKUP_HASH_KEY = _lookup_physical._lookup_hash_key
_lookup_physical._lookup_hash_key = _lookup_hash_key

_END = object()


async def _walking(source: Any, semantics: EngineFindSemantics) -> Any:
    """The engine's scan, its candidate lookup told to walk _id order. That lookup runs in
    the scan's first step, inside this task: a context variable reaches it and no other."""
    try:
        token = _ID_WALK.set(semantics)
        try:
            first = await anext(source, _END)
        finally:
            _ID_WALK.reset(token)
        if first is _END:
            return
        yield first
        async for document in source:
            yield document
    finally:
        await source.aclose()


def _set_reads(engine: Engine, *, on: bool) -> None:
    """Turn the read shortcuts on or off, and with them the engine's own hash join for
    ``$lookup``: it builds one only under a bound on the documents an aggregation may hold,
    else every row scans the whole foreign collection. "On" sets a bound too large to reach
    (MongoDB has none), "off" none."""
    SHORTCUTS["reads"] = on
    engine.aggregation_cost_policy = (
        AggregationCostPolicy(max_materialized_documents=NO_AGGREGATION_LIMIT) if on else None
    )


def _index_spec(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k not in ("v", "ns")}


async def restore(client: AsyncMongoClient, root: Path) -> None:
    """Load DIR/snapshot in-process: indexes first (as Mongoose creates them), then documents."""
    snap = root / SNAPSHOT
    if not (snap / "manifest.json").exists():
        return
    manifest = json.loads((snap / "manifest.json").read_text())
    for db_name, colls in manifest["databases"].items():
        db = client[db_name]
        for coll_name, meta in colls.items():
            coll = db[coll_name]
            await db.create_collection(coll_name)
            specs = decode_wire_value(bson.decode(bytes.fromhex(meta["indexes"])))["indexes"]
            specs = [_index_spec(s) for s in specs if s["name"] != "_id_"]
            if specs:
                await db.command({"createIndexes": coll_name, "indexes": specs})
            batch: list[dict] = []
            with open(snap / meta["file"], "rb") as fh:
                for doc in bson.decode_file_iter(fh):
                    batch.append(decode_wire_value(doc))  # as a client's insert arrives
                    if len(batch) >= 5000:
                        await coll.insert_many(batch)
                        batch = []
            if batch:
                await coll.insert_many(batch)


async def dump(client: AsyncMongoClient, root: Path) -> None:
    """Write every database to DIR/snapshot atomically (tmp folder, then rename)."""
    tmp = root / (SNAPSHOT + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    manifest: dict = {"format": 1, "databases": {}}
    n = 0
    for db_name in await client.list_database_names():
        if db_name in SYSTEM_DBS:
            continue
        db = client[db_name]
        colls = {}
        for coll_name in await db.list_collection_names():
            coll = db[coll_name]
            fname = f"{n:04d}.bson"
            n += 1
            with open(tmp / fname, "wb") as fh:
                async for doc in coll.find({}):
                    fh.write(bson.encode(doc, codec_options=_REPLY_CODEC))  # as a reply
            indexes = [dict(spec) async for spec in coll.list_indexes()]
            colls[coll_name] = {
                "file": fname,
                "indexes": bson.encode({"indexes": indexes}, codec_options=_REPLY_CODEC).hex(),
            }
        manifest["databases"][db_name] = colls
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    final = root / SNAPSHOT
    old = root / (SNAPSHOT + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """A per-run server must not outlive the command that started it (e.g. after SIGKILL)."""
    while os.getppid() == parent:
        await asyncio.sleep(1)
    stop.set()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    lock = open(root / "lock", "w")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print(f"error: data folder {root} is in use by another server", file=sys.stderr)
        sys.exit(4)
    lock.write(str(os.getpid()))
    lock.flush()

    # The engine's default refuses aggregations over 50,000 documents; MongoDB does not.
    engine = Engine(aggregation_materialization_limit=None)
    _set_reads(engine, on=SHORTCUTS["reads"])
    async with AsyncMongoClient(engine) as client:
        await restore(client, root)
        server = AsyncMongoEcoProxyServer(client=client, host=args.host, port=args.port)
        async with server:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            loop.add_signal_handler(signal.SIGUSR1, lambda: _set_reads(engine, on=False))
            loop.add_signal_handler(signal.SIGUSR2, lambda: _set_reads(engine, on=True))
            print(server.address.uri, flush=True)
            if args.exit_with_parent:
                watcher = asyncio.create_task(_watch_parent(os.getppid(), stop))
            await stop.wait()
            if args.exit_with_parent:
                watcher.cancel()
        await dump(client, root)


if __name__ == "__main__":
    asyncio.run(main())
