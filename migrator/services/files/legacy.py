"""Files, the legacy path: direct pymongo spelling out ``api/models/File.js``.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.files.shared import TOOL_FILES_ERROR
from migrator.services.mongoose import cast_filter, oid

FILE_FIELDS = model.SCHEMA_FIELDS["files"]
LIST_PROJECTION = {"text": 0}  # getFiles' default select: extracted text stays out of lists
LIST_SORT = [("updatedAt", -1)]
FILE_TTL = timedelta(hours=1)  # createFile: expiresAt = now + 1 h (the TTL index adds 1 h more)


def _strict_filter(query: Mapping[str, Any]) -> dict[str, Any]:
    """strictQuery (§1 #5): unknown paths dropped; `user`/`_id` cast to ObjectId (§1 #2)."""
    return cast_filter("files", query)


def _strict_set(data: Mapping[str, Any]) -> dict[str, Any]:
    """strict updates (§1 #6): unknown keys dropped, `user` cast, createdAt immutable (§1 #7)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.split(".", 1)[0] not in FILE_FIELDS or key == "createdAt":
            continue
        out[key] = oid(value, "user") if key == "user" else value
    return out


def list_for_user(db: Database, *, user_id: str) -> list[dict]:
    """`GET /api/files`: `getFiles({user})`, text excluded, newest update first, no limit."""
    return list(db.files.find({"user": oid(user_id, "user")}, LIST_PROJECTION).sort(LIST_SORT))


def by_ids(db: Database, *, file_ids: list[str]) -> list[dict]:
    """`getFiles({file_id: {$in}})`: B scopes by file_id only, **no user filter** (the delete
    route checks ownership afterwards; agent files add the author only in N)."""
    return list(
        db.files.find({"file_id": {"$in": list(file_ids)}}, LIST_PROJECTION).sort(LIST_SORT)
    )


def tool_files_by_ids(db: Database, *, file_ids: list[str], tool_resources: list[str]) -> Any:
    """`getToolFilesByIds` (B): OCR'd text files of agents, vectorised files, and
    code-interpreter files among the ids, by the tool resources named (`model.TOOL_RESOURCE_*`;
    B's text resource is `ocr`). A resource set naming none of the three leaves `$or: []`,
    which Mongoose's cast deletes (mongoose lib/cast.js lines 87-90): every file among the ids
    comes back. B rethrows every failure as one generic Error."""
    resources = set(tool_resources or ())
    if not file_ids or not resources:
        return []
    try:
        either: list[dict[str, Any]] = []
        if model.TOOL_RESOURCE_TEXT in resources:
            either.append({"text": {"$exists": True, "$ne": None}, "context": "agents"})
        if model.TOOL_RESOURCE_FILE_SEARCH in resources:
            either.append({"embedded": True})
        if model.TOOL_RESOURCE_EXECUTE_CODE in resources:
            either.append({"metadata.fileIdentifier": {"$exists": True}})
        query = cast_filter("files", {"file_id": {"$in": list(file_ids)}, "$or": either})
        return list(db.files.find(query, LIST_PROJECTION).sort(LIST_SORT))
    except Exception:
        raise RuntimeError(TOOL_FILES_ERROR) from None


def find_by_file_id(db: Database, *, file_id: str, extra: dict | None = None) -> dict | None:
    """`findFileById(file_id, options)`: `findOne({file_id, ...options})` with text included;
    option keys outside the schema are dropped by strictQuery (a `tenantId` filter, N-only,
    matches as if absent)."""
    return db.files.find_one(_strict_filter({"file_id": file_id, **(extra or {})}))


def create(db: Database, *, data: dict, disable_ttl: bool = False) -> dict | None:
    """`createFile`: `findOneAndUpdate({file_id}, {...data, expiresAt: now+1h}, {upsert, new})`.
    A plain object is wrapped in $set; timestamps and schema defaults go to $setOnInsert;
    re-creating an existing file_id overwrites it and re-arms its TTL."""
    now = utcnow()
    file_data = {**data, "expiresAt": now + FILE_TTL}
    if disable_ttl:
        del file_data["expiresAt"]
    to_set = {**_strict_set(file_data), "updatedAt": now}
    defaults = model.materialize(model.FILE_DEFAULTS, now)  # setDefaultsOnInsert (§1 #8)
    on_insert = {k: v for k, v in defaults.items() if k not in to_set}
    on_insert.update(createdAt=now, __v=0)
    return db.files.find_one_and_update(
        {"file_id": data.get("file_id")},
        {"$set": to_set, "$setOnInsert": on_insert},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )


def update(db: Database, *, data: dict) -> dict | None:
    """`updateFile({file_id, ...update})`: $set the rest, $unset expiresAt (file kept)."""
    file_id = data.get("file_id")
    rest = {k: v for k, v in data.items() if k != "file_id"}
    return db.files.find_one_and_update(
        {"file_id": file_id},
        {"$set": {**_strict_set(rest), "updatedAt": utcnow()}, "$unset": {"expiresAt": ""}},
        return_document=ReturnDocument.AFTER,
    )


def increment_usage(db: Database, *, file_id: str, inc: int = 1) -> dict | None:
    """`updateFileUsage`: $inc usage, drop TTL and temp_file_id (timestamps add updatedAt)."""
    return db.files.find_one_and_update(
        {"file_id": file_id},
        {
            "$inc": {"usage": inc},
            "$unset": {"expiresAt": "", "temp_file_id": ""},
            "$set": {"updatedAt": utcnow()},
        },
        return_document=ReturnDocument.AFTER,
    )


def delete_files(db: Database, *, file_ids: list[str], user_id: str | None = None) -> int:
    """`deleteFiles(file_ids, user)`: LibreChat quirk (§4.4, §8) — when a user is given the
    filter becomes `{user}` and **every** file of that user is deleted, whatever the ids."""
    query: dict[str, Any] = {"file_id": {"$in": list(file_ids or [])}}
    if user_id:
        query = {"user": oid(user_id, "user")}
    return db.files.delete_many(query).deleted_count
