"""Exact write shortcuts for mongoeco's MemoryEngine: the launcher's ``Engine`` mixes in
``WriteShortcuts`` (``_serve.py``).

Runs under the engine's own Python >= 3.13 venv, never imported by the product. Each shortcut
does what the engine's own code does, only faster, for the cases it recognises, and hands any
other case to the engine's code. ``MIGRATOR_ENGINE_WRITE_SHORTCUTS=off`` starts the server with
all of them off: the ones below, and those of ``_write_values.py`` (codec, deep copies,
ObjectId equality, index tree nodes) and ``_write_batches.py`` (the insert command and
``delete_many`` in batches), which ``WriteShortcuts`` puts in place when the engine starts.
tests/test_embedded.py checks that writes leave the engine in exactly the same state either way.

Index maintenance (``_update_indexes_locked``): per document and index the engine looks up its
undo journals, builds an empty index map it then throws away, and extracts each key through the
generic path walk. We look the journals and maps up once per document, record the same undo
entries, and read keys straight from top-level fields that hold no array (``_index_keys``,
``_unique_index_keys``, ``_compound_multikey_array_paths``, the equality key of strings,
ObjectIds, dates, booleans and null); dotted paths, arrays and other documents take the
engine's walk. An update removes the document's keys from every index, then adds the new ones;
we hold the removal (``update_with_operation`` marks the task; the TTL purge inside is not
held) until the insertion of the same row, and leave alone an entry it would remove and add
back with the same ordinal: the resulting buckets, orders and counters are the same. Anything
else between the two (another row, another view) applies the held removal first; an error
between them drops it along with the engine's own rollback of the update.

``_delete_by_ids`` is the engine's side of ``delete_many`` in batches (``_write_batches.py``).
"""

from __future__ import annotations

import datetime
import os
from contextvars import ContextVar
from typing import Any

import _write_batches
import _write_values
from _write_values import _DICTS
from mongoeco.core._filtering_support import hashable_in_lookup_key
from mongoeco.core.bson_ordering import bson_equality_key
from mongoeco.core.bson_scalars import normalize_utc_bson_datetime
from mongoeco.core.collation import normalize_collation
from mongoeco.core.filtering import QueryEngine
from mongoeco.core.identity import assert_document_matches_storage_key
from mongoeco.core.query_plan import InCondition, ensure_query_plan
from mongoeco.engines.memory import (
    MemoryCollection,
    MemoryIndexMap,
    _add_index_membership,
    _discard_index_membership,
    document_in_virtual_index,
    ttl_expiration_datetime,
)
from mongoeco.types import ObjectId as EcoObjectId

SHORTCUTS = {"writes": os.environ.get("MIGRATOR_ENGINE_WRITE_SHORTCUTS", "on") != "off"}
_ABSENT = object()

# --- index maintenance ----------------------------------------------------------------------

# The index deletion of the update being run in this task, held until its insertion.
_PAIRING: ContextVar[list | None] = ContextVar("index_pairing", default=None)


class WriteShortcuts:
    """Mixed into the launcher's Engine, before MemoryEngine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if SHORTCUTS["writes"]:  # now: the launcher has loaded the modules these patch
            _write_values.install()
            _write_batches.install()

    async def _delete_by_ids(
        self, db_name: str, coll_name: str, ids: list, *, selector_filter: Any, context: Any
    ) -> tuple[list[bool], Exception | None]:
        """``delete_with_operation`` of ``{_id: id}`` with ``selector_filter`` re-checked, for
        each ObjectId or string id in turn, in one hold of the collection lock: the plans,
        views and TTL purge (same clock) once. Returns whether each was deleted, and the
        error that stopped the run (the documents before it stay deleted, as one by one)."""
        deleted: list[bool] = []
        try:
            where = (db_name, coll_name)
            await self._delete_by_ids_locking(where, ids, selector_filter, context, deleted)
        except Exception as error:
            return deleted, error
        return deleted, None

    async def _delete_by_ids_locking(
        self, where: tuple, ids: list, selector_filter: Any, context: Any, deleted: list[bool]
    ) -> None:
        db_name, coll_name = where
        dialect = context.dialect
        variables = context.expressions
        selector_plan = ensure_query_plan(
            selector_filter, None, dialect=dialect, variables=variables
        )
        collation = normalize_collation(context.collation)
        session = context.session
        async with self._get_lock(db_name, coll_name):
            storage_view = self._storage_view(session)
            coll = storage_view.get(db_name, {}).get(coll_name, {})
            views = {
                "storage": storage_view,
                "indexes": self._indexes_view(session),
                "index_data": self._index_data_view(session),
                "search_indexes": self._search_indexes_view(session),
                "collections": self._collections_view(session),
                "options": self._collection_options_view(session),
            }
            self._purge_expired_documents_locked(
                db_name,
                coll_name,
                context=session,
                indexes_view=views["indexes"],
                index_data_view=views["index_data"],
                storage_view=storage_view,
                now=variables.now.replace(tzinfo=datetime.UTC),
            )
            in_keys = _object_id_in_keys(selector_plan, collation)
            how = (selector_plan, dialect, collation, variables, context, in_keys)
            for doc_id in ids:
                deleted.append(
                    self._delete_by_id_locked(db_name, coll_name, coll, doc_id, views, how)
                )

    def _delete_by_id_locked(
        self, db_name: str, coll_name: str, coll: Any, doc_id: Any, views: dict, how: tuple
    ) -> bool:
        """The body of ``delete_with_operation`` for ``{_id: doc_id}``: the candidate is the
        row stored under the id's key, and it matches ``{_id: doc_id}`` when it holds that
        same value (checked, else the engine's match decides)."""
        selector_plan, dialect, collation, variables, context, in_keys = how
        storage_key = self._storage_key(doc_id)
        data = coll.get(storage_key, _ABSENT)
        if data is _ABSENT:
            return False
        document = self._borrow_storage_document(data)
        stored_id = document.get("_id", _ABSENT)
        if type(stored_id) is not type(doc_id) or stored_id != doc_id:
            identity = ensure_query_plan(
                {"_id": doc_id}, None, dialect=dialect, variables=variables
            )
            if not QueryEngine.match_plan(
                document, identity, dialect=dialect, collation=collation, variables=variables
            ):
                return False
        if in_keys is not None and type(stored_id) is EcoObjectId:
            # The matcher's own answer for {_id: {$in: [ObjectIds]}}: a hashed lookup.
            if hashable_in_lookup_key(stored_id) not in in_keys:
                return False
        elif not QueryEngine.match_plan(
            document, selector_plan, dialect=dialect, collation=collation, variables=variables
        ):
            return False
        assert_document_matches_storage_key(
            document, storage_key, storage_key_for_id=self._storage_key
        )
        with self._document_state_rollback_locked(db_name, coll_name, **views):
            self._invalidate_search_runtime_cache(db_name, coll_name)
            self._update_indexes_locked(
                db_name,
                coll_name,
                storage_key,
                document,
                action="delete",
                index_data_view=views["index_data"],
                indexes_view=views["indexes"],
            )
            self._delete_storage_document_locked(coll, storage_key)
            change_context = context
            if "_id" not in document:
                change_context = change_context.for_unpublishable_change()
            self._record_committed_change(
                change_context,
                self._change_payload(
                    operation_type="delete",
                    db_name=db_name,
                    coll_name=coll_name,
                    document_key={"_id": document["_id"]} if "_id" in document else {},
                ),
            )
        return True

    async def update_with_operation(self, *args: Any, **kwargs: Any) -> Any:
        if not SHORTCUTS["writes"]:
            return await super().update_with_operation(*args, **kwargs)
        pending: list = []
        token = _PAIRING.set(pending)
        try:
            outcome = await super().update_with_operation(*args, **kwargs)
        finally:
            _PAIRING.reset(token)
        if pending:  # a removal the engine did not follow by an insertion (not in 4.11): apply
            where, storage_key, document = pending.pop()
            self._change_index_entries(where, storage_key, document, None)
        return outcome

    def _purge_expired_documents_locked(self, *args: Any, **kwargs: Any) -> Any:
        token = _PAIRING.set(None)  # its deletions are not half of an update
        try:
            return super()._purge_expired_documents_locked(*args, **kwargs)
        finally:
            _PAIRING.reset(token)

    def _update_indexes_locked(
        self,
        db_name: str,
        coll_name: str,
        storage_key: Any,
        document: Any,
        *,
        action: str = "insert",
        index_data_view: dict | None = None,
        indexes_view: dict | None = None,
    ) -> None:
        if not SHORTCUTS["writes"] or action not in ("insert", "delete"):
            return super()._update_indexes_locked(
                db_name,
                coll_name,
                storage_key,
                document,
                action=action,
                index_data_view=index_data_view,
                indexes_view=indexes_view,
            )
        where = (db_name, coll_name, index_data_view, indexes_view)
        pending = _PAIRING.get()
        if pending is not None:
            if action == "delete" and not pending:
                pending.append((where, storage_key, document))
                return
            if pending:
                held_where, held_key, held_document = pending.pop()
                same = held_key == storage_key and all(
                    a is b for a, b in zip(held_where, where, strict=True)
                )
                if same and action == "insert":
                    self._change_index_entries(where, storage_key, held_document, document)
                    return
                self._change_index_entries(held_where, held_key, held_document, None)
        if action == "delete":
            self._change_index_entries(where, storage_key, document, None)
        else:
            self._change_index_entries(where, storage_key, None, document)

    def _change_index_entries(
        self, where: tuple, storage_key: Any, old: Any | None, new: Any | None
    ) -> None:
        """The engine's ``_update_indexes_locked`` for a deletion of ``old``, an insertion of
        ``new``, or both in that order, with its undo records; an entry both would remove and
        re-add with the same ordinal is left as it is."""
        db_name, coll_name, index_data_view, indexes_view = where
        if indexes_view is None:
            indexes_view = self._indexes
        if index_data_view is None:
            index_data_view = self._index_data
        indexes = indexes_view.get(db_name, {}).get(coll_name, [])
        if not indexes:
            return
        coll_data = index_data_view.setdefault(db_name, {}).setdefault(coll_name, {})
        natural_ordinal = None
        if new is not None:
            stack = self._publication_stack
            published = (stack[-1].storage if stack else self._storage).get(db_name, {})
            published = published.get(coll_name, {})
            if isinstance(published, MemoryCollection) and storage_key in published:
                natural_ordinal = published.ordinal_for(storage_key)
        journals = [
            journal
            for journal in self._document_undo_stack
            if journal.db_name == db_name
            and journal.coll_name == coll_name
            and journal.index_data is index_data_view
        ]
        for index in indexes:
            index_map = coll_data.get(index.name, _ABSENT)
            existed = index_map is not _ABSENT
            if not existed:
                index_map = coll_data.setdefault(index.name, MemoryIndexMap())
            if index.expire_after_seconds is not None and isinstance(index_map, MemoryIndexMap):
                self._record_index_state_undo_locked(
                    (db_name, coll_name),
                    str(index.name),
                    index_map,
                    index_data=index_data_view,
                    remove_on_rollback=not existed,
                )
                if old is not None:
                    index_map.set_expiration(storage_key, None)
                if new is not None:
                    index_map.set_expiration(
                        storage_key,
                        ttl_expiration_datetime(
                            QueryEngine.extract_values(new, index.fields[0]),
                            expire_after_seconds=index.expire_after_seconds,
                        ),
                    )
            fields = index["fields"]
            removed = () if old is None else self._index_keys(old, fields)
            added = (
                self._index_keys(new, fields)
                if new is not None and document_in_virtual_index(new, index)
                else ()
            )
            kept: set = set()
            if (
                removed
                and added
                and natural_ordinal is not None
                and isinstance(index_map, MemoryIndexMap)
            ):
                kept = {
                    key
                    for key in removed
                    if key in added and index_map.ordinal_for(key, storage_key) == natural_ordinal
                }
            undo = _IndexUndo(journals, str(index["name"]), coll_data, storage_key)
            for key in removed:
                if key not in kept:
                    undo.record(key)
                    if key in index_map:
                        _discard_index_membership(index_map, key, storage_key)
            for key in added:
                if key not in kept:
                    undo.record(key)
                    _add_index_membership(index_map, key, storage_key, ordinal=natural_ordinal)

    @staticmethod
    def _index_equality_key(value: Any) -> Any:
        """``bson_equality_key`` of the types that need none of its numeric work."""
        kind = type(value)
        if SHORTCUTS["writes"]:
            if kind is str:
                return ("str", value)
            if kind is EcoObjectId:
                return ("objectid", value)
            if value is None:
                return ("none", None)
            if kind is bool:
                return ("bool", value)
            if kind is datetime.datetime:
                return ("datetime", normalize_utc_bson_datetime(value))
        return bson_equality_key(value)

    def _index_keys(self, document: Any, fields: list[str]) -> set[tuple]:
        """The engine's keys, read straight from top-level fields holding no array."""
        values = _top_level_values(document, fields)
        if values is None:
            return super()._index_keys(document, fields)
        equality = self._index_equality_key
        # A missing field is None here (an index key), but null's key in a unique key below.
        return {tuple(None if value is _ABSENT else equality(value) for value in values)}

    def _unique_index_keys(self, document: Any, fields: list[str]) -> set[tuple]:
        if len(fields) == 1:
            return self._index_keys(document, fields)
        values = _top_level_values(document, fields)
        if values is None:
            return super()._unique_index_keys(document, fields)
        equality = self._index_equality_key
        return {tuple(equality(None if value is _ABSENT else value) for value in values)}

    def _compound_multikey_array_paths(self, document: Any, fields: list[str]) -> set[str]:
        if _top_level_values(document, fields) is not None:
            return set()  # no field holds an array
        return super()._compound_multikey_array_paths(document, fields)


def _object_id_in_keys(plan: Any, collation: Any) -> frozenset | None:
    """For ``{_id: {$in: [ObjectIds]}}``, the lookup keys the engine's matcher builds (every
    time it checks a document): a document's ObjectId ``_id`` matches exactly when its key is
    among them. None for any other filter."""
    if (
        collation is not None
        or type(plan) is not InCondition
        or plan.field != "_id"
        or plan.null_matches_undefined
        or not plan.values
        or not all(type(value) is EcoObjectId for value in plan.values)
    ):
        return None
    return frozenset(hashable_in_lookup_key(value) for value in plan.values)


def _top_level_values(document: Any, fields: list[str]) -> list | None:
    """The values of top-level fields (``_ABSENT`` where missing), or None where the engine's
    path walk could see something else: a dotted or empty name, an array, an odd document."""
    if not SHORTCUTS["writes"] or type(document) not in _DICTS:
        return None
    values = []
    for field in fields:
        if not field or "." in field:
            return None
        value = document.get(field, _ABSENT)
        if isinstance(value, list):
            return None
        values.append(value)
    return values


class _IndexUndo:
    """The engine's ``_record_index_membership_undo_locked`` for one index and one document,
    with the journals that concern it looked up once."""

    __slots__ = ("coll_data", "journals", "name", "storage_key")

    def __init__(self, journals: list, name: str, coll_data: dict, storage_key: Any) -> None:
        self.journals = journals
        self.name = name
        self.coll_data = coll_data
        self.storage_key = storage_key

    def record(self, key: tuple) -> None:
        token = (self.name, key, self.storage_key)
        state = None
        for journal in self.journals:
            if token in journal.index_changes:
                continue
            if state is None:
                index_map = self.coll_data.get(self.name)
                bucket = None if index_map is None else index_map.get(key)
                state = (
                    bucket is not None and self.storage_key in bucket,
                    bucket is not None,
                    index_map is not None,
                    index_map.ordinal_for(key, self.storage_key)
                    if isinstance(index_map, MemoryIndexMap)
                    else None,
                )
            journal.index_changes[token] = state
