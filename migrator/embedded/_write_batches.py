"""Exact batches for the wire's writes of many documents, used by ``_write_shortcuts.py``.

Runs under the engine's own Python >= 3.13 venv, never imported by the product.

The insert command: the wire's ``insert`` runs ``insert_one`` per document (its own operation
context, engine call, lock, TTL purge, undo journal, change dispatch and profile record), at
about twice the cost of the engine's own batch of the same documents. We hand runs of documents
to the engine's batch (``engine_insert_documents``) with what ``insert_one`` does around each
(its document preparation, the change events, one profile record and metadata per document),
and stop a run before any document ``insert_one`` could reject: one it cannot prepare, an id
other than an ObjectId or string (numbers, for one, have duplicates under other types), or one
the batch rejects (a duplicate key: the batch stops there, untouched). That document then goes
through ``insert_one`` itself, which raises its own error. A batch the engine refuses as a
whole (a document failing validation: the batch validates every document first, then rolls
back) leaves the rest of the command to ``insert_one``; so does an active profiler (one entry
per document) or an instrumented collection. The engine's MVCC version counter then advances
once per batch, not per document; only whether it moved is ever read (write conflicts).

Delete of many documents (``delete_many``, the wire's ``delete`` with ``limit: 0``): the API
finds the matching documents, then deletes each through a full engine call on ``{_id: id}``
with the filter checked again. We keep the find (projected to ``_id``, all it uses) and, per
document, what the API and runtime do around the engine (change dispatch, one profile record);
the engine's part runs for each ObjectId or string id in turn under one hold of the collection
lock, with the filter's plan, the views and the TTL purge (same clock) done once
(``Engine._delete_by_ids``: per document, the same checks, undo journal, index and row removal
and change record as the engine's). Other ids, a collation, an active profiler or an
instrumented collection keep the engine's own calls.
"""

from __future__ import annotations

import time
from typing import Any

from _write_values import _deepcopy
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
from mongoeco.core.codec import DocumentCodec
from mongoeco.core.error_documents import error_message
from mongoeco.core.identity import assert_valid_root_document_id
from mongoeco.core.operation_context import ChangePublicationPolicy
from mongoeco.errors import OperationFailure, WriteError
from mongoeco.types import DeleteResult, WriteCommandResult
from mongoeco.types import ObjectId as EcoObjectId

# --- the wire insert command ----------------------------------------------------------------

_ENGINE_COMMAND_INSERT = DatabaseAdminWriteCommandService.command_insert
_BATCH_ID_TYPES = frozenset({EcoObjectId, str})  # ids whose only duplicate is an equal key
_COMMAND_ERRORS = (WriteError, OperationFailure, TypeError, ValueError)


async def _command_insert(
    self: DatabaseAdminWriteCommandService, spec: dict, *, session: Any = None
) -> Any:
    """The engine's ``command_insert``: its per-document loop, except that runs of documents
    the engine's batch would insert exactly as ``insert_one`` does go in one batch."""
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
_ID_ONLY = DocumentCodec.to_internal({"_id": 1})


async def _delete_many(collection: Any, filter_spec: Any, **options: Any) -> Any:
    """The API's ``delete_many``, batched when nothing per document would be missed."""
    if (
        options.get("collation") is not None
        or collection._engine._profile_is_active(collection._db_name)
        or "_publish_change_event" in collection.__dict__
        or not hasattr(collection._engine, "_delete_by_ids")  # not the launcher's Engine
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
        # Only each document's _id is used: the same documents, in the same order, unbuilt.
        compile_find_selection_from_update_operation(operation, projection=_ID_ONLY),
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


def install() -> None:
    """Put these shortcuts in place (once)."""
    DatabaseAdminWriteCommandService.command_insert = _command_insert
    _collection_modify.delete_many = _delete_many
