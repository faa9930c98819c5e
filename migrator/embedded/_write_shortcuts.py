"""Exact write shortcuts for mongoeco's MemoryEngine, used by the launcher (``_serve.py``).

Runs under the engine's own Python >= 3.13 venv, never imported by the product. Each shortcut
does what the engine's own code does, only faster, for the cases it recognises, and hands any
other case to the engine's code.

The codec (``DocumentCodec.encode`` and ``to_internal``): every document written is encoded
twice, at the command boundary (``to_internal``) and for storage, and each scalar costs a
validation that builds a numeric wrapper object and runs through some 25 ``isinstance`` checks;
each nested document is validated again as a whole. We validate once per document, in the
engine's own traversal order (so the same value raises the same error first), and encode by
exact type: ``str``, ``bool``, ``None``, ``int``, ``float``, ``datetime`` and ObjectId give the
engine's own output; any other type (subclasses included) goes to the engine's function.

``MIGRATOR_ENGINE_WRITE_SHORTCUTS=off`` starts the server with all of these off.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

from bson import ObjectId as PyObjectId
from mongoeco.api._async import _collection_modify
from mongoeco.api._async._active_operations import track_active_operation
from mongoeco.api._async._database_admin_write_commands import (
    DatabaseAdminWriteCommandService,
    _write_command_result,
    command_boolean,
    record_write_failure,
    write_command_acknowledged,
)
from mongoeco.api._async._write_errors import write_command_errors
from mongoeco.api.operations import (
    compile_find_selection_from_update_operation,
    compile_update_operation,
)
from mongoeco.api.public_api import (
    COLLECTION_DELETE_MANY_SPEC,
    normalize_public_operation_arguments,
)
from mongoeco.core import codec as _codec
from mongoeco.core.bson_ordering import bson_equality_key
from mongoeco.core.bson_scalars import (
    INT64_MAX,
    INT64_MIN,
    BsonScalarOverflowError,
    normalize_utc_bson_datetime,
    validate_bson_value,
)
from mongoeco.core.codec import DocumentCodec, _InternalBsonArray, _InternalBsonDocument
from mongoeco.core.collation import normalize_collation
from mongoeco.core.error_documents import error_message
from mongoeco.core.filtering import QueryEngine
from mongoeco.core.identity import (
    assert_document_matches_storage_key,
    assert_valid_root_document_id,
)
from mongoeco.core.operation_context import ChangePublicationPolicy
from mongoeco.core.query_plan import ensure_query_plan
from mongoeco.engines import _memory_collection
from mongoeco.engines.memory import (
    MemoryCollection,
    MemoryIndexMap,
    _add_index_membership,
    _discard_index_membership,
    document_in_virtual_index,
    ttl_expiration_datetime,
)
from mongoeco.errors import OperationFailure, WriteError
from mongoeco.types import DeleteResult, WriteCommandResult
from mongoeco.types import ObjectId as EcoObjectId

SHORTCUTS = {"writes": os.environ.get("MIGRATOR_ENGINE_WRITE_SHORTCUTS", "on") != "off"}

# --- the codec ------------------------------------------------------------------------------

_ENGINE_ENCODE = DocumentCodec.__dict__["encode"].__func__
_ENGINE_TO_INTERNAL = DocumentCodec.__dict__["to_internal"].__func__
_ENGINE_OWN = _codec._own_internal_bson
_MARKER = DocumentCodec._MARKER
# Exact types whose validation cannot fail and whose encoding is the value itself.
_AS_IS = frozenset({str, bool, type(None), float})
_OBJECT_IDS = frozenset({EcoObjectId, PyObjectId})
_DICTS = frozenset({dict, _InternalBsonDocument})
_LISTS = frozenset({list, _InternalBsonArray})
_INTERNAL = frozenset({_InternalBsonDocument, _InternalBsonArray})
_ABSENT = object()


def _validate(value: object) -> None:
    """``validate_bson_value``: the same traversal (a stack), the same errors, without building
    a wrapper per scalar for the types that cannot fail."""
    pending = [value]
    while pending:
        current = pending.pop()
        kind = type(current)
        if kind in _AS_IS or kind in _OBJECT_IDS or kind is datetime.datetime:
            continue
        if kind is int:
            if current < INT64_MIN or current > INT64_MAX:
                raise BsonScalarOverflowError("integer exceeds BSON int64 range")
            continue
        if kind in _DICTS:
            for key in current:
                if not isinstance(key, str):
                    raise TypeError("BSON document keys must be strings")
            pending.extend(current.values())
            continue
        if kind in _LISTS:
            pending.extend(current)
            continue
        validate_bson_value(current)  # any other type: the engine's check of that value


def _tagged(kind: str, value: object) -> dict:
    return {_MARKER: {DocumentCodec._TYPE: kind, DocumentCodec._VALUE: value}}


def _encode_validated(value: Any) -> Any:
    """The engine's encoding of a value whose whole tree is already validated (the engine
    validates each nested document again: that cannot fail once its ancestor passed)."""
    kind = type(value)
    if kind in _AS_IS or kind is int:
        return value
    if kind in _DICTS:
        encoded = {key: _encode_validated(item) for key, item in value.items()}
        if len(encoded) == 1 and DocumentCodec._is_tagged_value(encoded):
            return _tagged("dict", encoded)
        return encoded
    if kind in _LISTS:
        return [_encode_validated(item) for item in value]
    if kind is datetime.datetime:
        return _tagged("datetime", normalize_utc_bson_datetime(value).isoformat())
    if kind is EcoObjectId:
        return _tagged("objectid", str(value))
    return _ENGINE_ENCODE(value)


def _encode(data: Any) -> Any:
    if SHORTCUTS["writes"] and type(data) in _DICTS:
        _validate(data)
        return _encode_validated(data)
    return _ENGINE_ENCODE(data)


def _own(data: Any) -> Any:
    """``_own_internal_bson`` by exact type; other types go to the engine's function."""
    kind = type(data)
    if kind in _INTERNAL or kind in _AS_IS or kind is int or kind is datetime.datetime:
        return data
    if kind is dict:
        return _InternalBsonDocument({key: _own(item) for key, item in data.items()})
    if kind is list:
        return _InternalBsonArray(_own(item) for item in data)
    if kind is EcoObjectId or kind is PyObjectId:
        return data
    return _ENGINE_OWN(data)


def _to_internal(data: Any) -> Any:
    if not SHORTCUTS["writes"]:
        return _ENGINE_TO_INTERNAL(data)
    if type(data) in _INTERNAL:
        return data
    return _own(DocumentCodec.decode(_encode(data), preserve_bson_wrappers=True))


# --- deep copies ----------------------------------------------------------------------------

_ENGINE_DEEPCOPY = copy.deepcopy
# Immutable leaves: a deep copy may share them (deepcopy keeps the first five and the internal
# containers as they are, and rebuilds datetimes and ObjectIds as equal immutable objects).
_SHARED = frozenset(
    {str, int, float, bool, type(None), datetime.datetime, EcoObjectId, PyObjectId, *_INTERNAL}
)


class _NotPlain(Exception):
    """A value the document copier leaves to ``copy.deepcopy``."""


def _copy_plain(value: Any, seen: set[int]) -> Any:
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is not dict and kind is not list:
        raise _NotPlain
    if id(value) in seen:  # one container twice: deepcopy would share its copy
        raise _NotPlain
    seen.add(id(value))
    if kind is list:
        return [_copy_plain(item, seen) for item in value]
    copied = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _NotPlain
        copied[key] = _copy_plain(item, seen)
    return copied


def _deepcopy(value: Any, memo: dict | None = None, _nil: Any = None) -> Any:
    """``copy.deepcopy`` of a document made of dicts, lists and immutable scalars, without
    its memo and per-value dispatch; anything else (or a memo) goes to ``copy.deepcopy``."""
    if memo is None and SHORTCUTS["writes"]:
        try:
            return _copy_plain(value, set())
        except _NotPlain:
            pass
    return _ENGINE_DEEPCOPY(value, memo)


def _use_fast_deepcopy() -> None:
    """Every loaded mongoeco module that calls ``deepcopy`` by that name calls ours."""
    for name, module in list(sys.modules.items()):
        if name.startswith("mongoeco") and getattr(module, "deepcopy", None) is _ENGINE_DEEPCOPY:
            module.deepcopy = _deepcopy


# --- ObjectId equality -----------------------------------------------------------------------

_PYMONGO_OBJECT_ID_EQ = PyObjectId.__eq__


def _object_id_eq(self: PyObjectId, other: object) -> Any:
    """pymongo's ``ObjectId.__eq__`` (its 12 bytes against the other's ``binary``) without
    mongoeco's ``binary`` property, which copies those bytes on every comparison."""
    kind = type(other)
    if kind is EcoObjectId or kind is PyObjectId:
        return self._ObjectId__id == other._ObjectId__id
    return _PYMONGO_OBJECT_ID_EQ(self, other)


# --- the wire insert command ----------------------------------------------------------------

_ENGINE_COMMAND_INSERT = DatabaseAdminWriteCommandService.command_insert
_BATCH_ID_TYPES = frozenset({EcoObjectId, str})  # ids whose only duplicate is an equal key
_COMMAND_ERRORS = (WriteError, OperationFailure, TypeError, ValueError)


async def _command_insert(
    self: DatabaseAdminWriteCommandService, spec: dict, *, session: Any = None
) -> Any:
    """The engine's ``command_insert``: its per-document loop, except that runs of documents
    the engine's batch would insert exactly as ``insert_one`` does go in one batch."""
    if not SHORTCUTS["writes"]:
        return await _ENGINE_COMMAND_INSERT(self, spec, session=session)
    admin = self._admin
    collection_name = admin._require_collection_name(spec.get("insert"), "insert")
    documents = admin._normalize_insert_documents(spec.get("documents"))
    ordered = admin._normalize_ordered_from_command(spec.get("ordered"))
    bypass = command_boolean(
        spec.get("bypassDocumentValidation", False), "bypassDocumentValidation", numeric=True
    )
    acknowledged = write_command_acknowledged(spec, dialect=admin._mongodb_dialect.key)
    collection = admin._database.get_collection(collection_name)
    inserted = 0
    write_errors: list = []
    command_failure = None
    batching = True
    index = 0
    while index < len(documents):
        if batching:
            done, batching = await _insert_batch(collection, documents, index, bypass, session)
            inserted += done
            index += done
            if index == len(documents):
                break
        try:  # the engine's own path: an error exactly as the engine raises it
            await collection.insert_one(
                documents[index], bypass_document_validation=bypass, session=session
            )
            inserted += 1
        except _COMMAND_ERRORS as exc:
            command_failure = record_write_failure(
                write_errors, exc, index=index, first_failure=command_failure
            )
            if ordered:
                break
        index += 1
    if command_failure is not None:
        raise command_failure
    return _write_command_result(
        WriteCommandResult(count=inserted, write_errors=write_errors or None),
        acknowledged=acknowledged,
    )


async def _insert_batch(
    collection: Any, documents: list, start: int, bypass: bool, session: Any
) -> tuple[int, bool]:
    """Insert documents from ``start`` in one engine batch, as ``insert_one`` would one by one;
    stop before the first one ``insert_one`` could reject. Returns how many were inserted and
    whether batching may go on (not after the engine refused a batch as a whole)."""
    engine = collection._engine
    if (
        engine._profile_is_active(collection._db_name)  # one profile entry per document
        or "_publish_change_event" in collection.__dict__  # an instrumented collection
    ):
        return 0, False
    batch = []
    for document in documents[start:]:
        try:  # insert_one's preparation of one document
            original = collection._require_document(document)
            if "_id" not in original:
                original["_id"] = DocumentCodec.to_pymongo(EcoObjectId())
            assert_valid_root_document_id(original["_id"])
            internal = DocumentCodec.to_internal(_deepcopy(original))
        except Exception:  # insert_one raises it, for this document
            break
        if type(internal["_id"]) not in _BATCH_ID_TYPES:
            break
        batch.append(internal)
    if len(batch) < 2:  # the engine's batch of one raises where insert_one does otherwise
        return 0, True
    collection._ensure_session_active(session)
    context = collection._new_operation_context(
        session=session,
        change_operation_type="insert",
        publication=(
            ChangePublicationPolicy.EMIT
            if collection._should_publish_change_events(session=session)
            else ChangePublicationPolicy.RECORD_GAP
        ),
    )
    started = time.perf_counter_ns()
    try:
        with track_active_operation(
            engine,
            command_name="insert",
            operation_type="write",
            namespace=f"{collection._db_name}.{collection._collection_name}",
            session=session,
            metadata={"kind": "insert_one"},
            killable=False,
        ):
            outcomes = await collection._runtime.engine_insert_documents(
                batch,
                session=session,
                bypass_document_validation=bypass,
                operation_context=context,
                on_commit=lambda done: collection._publish_insert_outcome(done, session=session),
            )
    except Exception:  # the batch was rolled back: the engine's path decides
        return 0, False
    inserted = 0
    for outcome in outcomes:
        if not outcome:  # rejected, state untouched: insert_one gives its error
            break
        inserted += 1
        collection._notify_instrumented_insert_outcome(outcome, session=session)
        await collection._profile_operation(
            op="insert", command={}, duration_ns=time.perf_counter_ns() - started
        )
        collection._record_operation_metadata(operation="insert_one", session=session)
    return inserted, True


# --- the delete of many documents -----------------------------------------------------------

_ENGINE_DELETE_MANY = _collection_modify.delete_many


async def _delete_many(collection: Any, filter_spec: Any, **options: Any) -> Any:
    """The API's ``delete_many``, batched when nothing per document would be missed."""
    if (
        not SHORTCUTS["writes"]
        or options.get("collation") is not None
        or collection._engine._profile_is_active(collection._db_name)
        or "_publish_change_event" in collection.__dict__
        or not isinstance(collection._engine, WriteShortcuts)
    ):
        return await _ENGINE_DELETE_MANY(collection, filter_spec, **options)
    return await _batched_delete_many(collection, filter_spec, **options)


@write_command_errors
async def _batched_delete_many(
    collection: Any,
    filter_spec: Any,
    *,
    filter: Any,
    collation: Any,
    hint: Any,
    comment: Any,
    let: Any,
    session: Any,
    extra_kwargs: dict,
    server_command: bool = False,
) -> DeleteResult:
    """The API's ``delete_many`` line for line, but for its loop: the engine deletes the
    matched documents with ObjectId or string ids in one hold of the collection lock
    (``Engine._delete_by_ids``); any other id goes through the engine's own call."""
    options = normalize_public_operation_arguments(
        COLLECTION_DELETE_MANY_SPEC,
        explicit={
            "filter_spec": filter_spec,
            "collation": collation,
            "hint": hint,
            "comment": comment,
            "let": let,
            "session": session,
        },
        extra_kwargs={"filter": filter, **extra_kwargs},
        profile=None if server_command else collection._pymongo_profile,
    )
    filter_spec = collection._normalize_filter(options["filter_spec"])
    session = options.get("session")
    collection._ensure_session_active(session)
    operation = compile_update_operation(
        filter_spec,
        collation=options.get("collation"),
        hint=options.get("hint"),
        comment=options.get("comment"),
        let=collection._normalize_let(options.get("let")),
        dialect=collection._mongodb_dialect,
        planning_mode=collection._planning_mode,
    )
    operation = _collection_modify._bind_execution_context(
        operation, collection, session=session, change_operation_type="delete"
    )
    matched_documents = await collection._build_cursor(
        compile_find_selection_from_update_operation(operation),
        session=session,
        apply_codec_options=False,
    ).to_list()
    deleted_count = 0
    position = 0
    while position < len(matched_documents):
        run = []
        for matched in matched_documents[position:]:
            if type(matched.get("_id")) not in _BATCH_ID_TYPES:
                break
            run.append(matched["_id"])
        if run:
            deleted_count += await _delete_run(collection, operation, run)
            position += len(run)
            continue
        deleted = await _collection_modify._delete_selected_document(
            collection,
            matched_documents[position],
            selector_operation=operation,
            change_event_index=position,
            session=session,
        )
        deleted_count += bool(deleted)
        position += 1
    collection._record_operation_metadata(
        operation="delete_many",
        comment=operation.comment,
        hint=operation.hint,
        session=session,
    )
    return DeleteResult(deleted_count=deleted_count)


async def _delete_run(collection: Any, operation: Any, ids: list) -> int:
    """What ``_delete_selected_document`` and the runtime around the engine do for each id,
    with the engine's work done in one call."""
    runtime = collection._runtime
    runtime._prepare_engine_change_delivery(operation.context)
    started = time.perf_counter_ns()
    deleted, error = await collection._engine._delete_by_ids(
        collection._db_name,
        collection._collection_name,
        ids,
        selector_filter=operation.filter_spec,
        context=operation.context,
    )
    runtime._dispatch_engine_changes(operation.context)
    for _ in deleted:
        await collection._profile_operation(
            op="remove", command={}, duration_ns=time.perf_counter_ns() - started
        )
    if error is not None:
        await collection._profile_operation(
            op="remove",
            command={},
            duration_ns=time.perf_counter_ns() - started,
            errmsg=error_message(error),
        )
        raise error
    return sum(deleted)


# --- index tree nodes -----------------------------------------------------------------------


def _thawed(cls: type) -> type:
    """The same dataclass (fields, defaults, equality, hash, repr), minus ``frozen``: a frozen
    dataclass sets each slot through ``object.__setattr__``, which makes building a node cost
    several times as much. Nothing assigns to these nodes: every change builds new ones."""
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {
        "__annotations__": {field.name: field.type for field in fields},
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
    }
    for field in fields:
        if field.default is not dataclasses.MISSING:
            namespace[field.name] = field.default
    return dataclasses.dataclass(slots=True, unsafe_hash=True)(type(cls.__name__, (), namespace))


def _thaw_tree_nodes() -> None:
    for name in ("_MembershipNode", "_ExpiryNode", "_OrderChunk"):
        setattr(_memory_collection, name, _thawed(getattr(_memory_collection, name)))


# --- index maintenance ----------------------------------------------------------------------

# The index deletion of the update being run in this task, held until its insertion.
_PAIRING: ContextVar[list | None] = ContextVar("index_pairing", default=None)


class WriteShortcuts:
    """Mixed into the launcher's Engine, before MemoryEngine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _install()  # here: by now the launcher has loaded the modules the sweep patches

    async def _delete_by_ids(
        self, db_name: str, coll_name: str, ids: list, *, selector_filter: Any, context: Any
    ) -> tuple[list[bool], Exception | None]:
        """``delete_with_operation`` of ``{_id: id}`` with ``selector_filter`` re-checked, for
        each ObjectId or string id in turn, in one hold of the collection lock: the plans,
        views and TTL purge (same clock) once. Returns whether each was deleted, and the
        error that stopped the run (the documents before it stay deleted, as one by one)."""
        dialect = context.dialect
        variables = context.expressions
        selector_plan = ensure_query_plan(
            selector_filter, None, dialect=dialect, variables=variables
        )
        collation = normalize_collation(context.collation)
        session = context.session
        deleted: list[bool] = []
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
            for doc_id in ids:
                try:
                    deleted.append(
                        self._delete_by_id_locked(
                            db_name,
                            coll_name,
                            coll,
                            doc_id,
                            views,
                            (selector_plan, dialect, collation, variables, context),
                        )
                    )
                except Exception as error:
                    return deleted, error
        return deleted, None

    def _delete_by_id_locked(
        self, db_name: str, coll_name: str, coll: Any, doc_id: Any, views: dict, how: tuple
    ) -> bool:
        """The body of ``delete_with_operation`` for ``{_id: doc_id}``: the candidate is the
        row stored under the id's key, and it matches ``{_id: doc_id}`` when it holds that
        same value (checked, else the engine's match decides)."""
        selector_plan, dialect, collation, variables, context = how
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
        if not QueryEngine.match_plan(
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
        if pending:  # a deletion the engine did not follow by its insertion: never seen
            raise RuntimeError("launcher: an update left its index deletion unpaired")
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


def _install() -> None:
    """Put the module-level shortcuts in place (the Engine methods check the switch)."""
    if not SHORTCUTS["writes"] or DocumentCodec.encode is _encode:
        return
    DocumentCodec.encode = staticmethod(_encode)
    DocumentCodec.to_internal = staticmethod(_to_internal)
    _thaw_tree_nodes()
    _use_fast_deepcopy()
    EcoObjectId.__eq__ = _object_id_eq
    DatabaseAdminWriteCommandService.command_insert = _command_insert
    _collection_modify.delete_many = _delete_many
