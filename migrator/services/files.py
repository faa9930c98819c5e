"""Files: uploads, attachments and agent tool files (docs/librechat.md §4.4, column B).

Legacy functions are direct pymongo calls spelling out what Mongoose does in ``api/models/File.js``;
gateway functions call the File repository only.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.base import UNKNOWN_ID, Args, Operation, Sampler, oid
from migrator.services.mongoose import cast_filter

FILE_FIELDS = model.SCHEMA_FIELDS["files"]
LIST_PROJECTION = {"text": 0}  # getFiles' default select: extracted text stays out of lists
LIST_SORT = [("updatedAt", -1)]
FILE_TTL = timedelta(hours=1)  # createFile: expiresAt = now + 1 h (the TTL index adds 1 h more)
UNKNOWN_FILE_ID = "00000000-dead-4bee-8f00-000000000000"
TOOL_FILES_ERROR = "Error retrieving tool files"


def _now() -> datetime:
    return utcnow()


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


# --- reads ----------------------------------------------------------------------------------


def list_for_user(db: Database, *, user_id: str) -> list[dict]:
    """`GET /api/files`: `getFiles({user})`, text excluded, newest update first, no limit."""
    return list(db.files.find({"user": oid(user_id, "user")}, LIST_PROJECTION).sort(LIST_SORT))


def gw_list_for_user(gw: DbGateway, *, user_id: str) -> list[dict]:
    return gw.get_repository("File").find_by_user_id(user_id)


def by_ids(db: Database, *, file_ids: list[str]) -> list[dict]:
    """`getFiles({file_id: {$in}})`: B scopes by file_id only, **no user filter** (the delete
    route checks ownership afterwards; agent files add the author only in N)."""
    return list(
        db.files.find({"file_id": {"$in": list(file_ids)}}, LIST_PROJECTION).sort(LIST_SORT)
    )


def gw_by_ids(gw: DbGateway, *, file_ids: list[str]) -> list[dict]:
    return gw.get_repository("File").find_by_file_ids(file_ids)


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


def gw_tool_files_by_ids(gw: DbGateway, *, file_ids: list[str], tool_resources: list[str]) -> Any:
    try:
        return gw.get_repository("File").get_tool_files_by_ids(file_ids, tool_resources)
    except Exception:
        raise RuntimeError(TOOL_FILES_ERROR) from None


def find_by_file_id(db: Database, *, file_id: str, extra: dict | None = None) -> dict | None:
    """`findFileById(file_id, options)`: `findOne({file_id, ...options})` with text included;
    option keys outside the schema are dropped by strictQuery (a `tenantId` filter, N-only,
    matches as if absent)."""
    return db.files.find_one(_strict_filter({"file_id": file_id, **(extra or {})}))


def gw_find_by_file_id(gw: DbGateway, *, file_id: str, extra: dict | None = None) -> dict | None:
    return gw.get_repository("File").find_by_file_id(file_id, extra)


# --- writes ---------------------------------------------------------------------------------


def create(db: Database, *, data: dict, disable_ttl: bool = False) -> dict | None:
    """`createFile`: `findOneAndUpdate({file_id}, {...data, expiresAt: now+1h}, {upsert, new})`.
    A plain object is wrapped in $set; timestamps and schema defaults go to $setOnInsert;
    re-creating an existing file_id overwrites it and re-arms its TTL."""
    now = _now()
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


def gw_create(gw: DbGateway, *, data: dict, disable_ttl: bool = False) -> dict | None:
    return gw.get_repository("File").create_file(data, disable_ttl)


def update(db: Database, *, data: dict) -> dict | None:
    """`updateFile({file_id, ...update})`: $set the rest, $unset expiresAt (file kept)."""
    file_id = data.get("file_id")
    rest = {k: v for k, v in data.items() if k != "file_id"}
    return db.files.find_one_and_update(
        {"file_id": file_id},
        {"$set": {**_strict_set(rest), "updatedAt": _now()}, "$unset": {"expiresAt": ""}},
        return_document=ReturnDocument.AFTER,
    )


def gw_update(gw: DbGateway, *, data: dict) -> dict | None:
    rest = {k: v for k, v in data.items() if k != "file_id"}
    return gw.get_repository("File").update_file(data.get("file_id"), rest)


def increment_usage(db: Database, *, file_id: str, inc: int = 1) -> dict | None:
    """`updateFileUsage`: $inc usage, drop TTL and temp_file_id (timestamps add updatedAt)."""
    return db.files.find_one_and_update(
        {"file_id": file_id},
        {
            "$inc": {"usage": inc},
            "$unset": {"expiresAt": "", "temp_file_id": ""},
            "$set": {"updatedAt": _now()},
        },
        return_document=ReturnDocument.AFTER,
    )


def gw_increment_usage(gw: DbGateway, *, file_id: str, inc: int = 1) -> dict | None:
    return gw.get_repository("File").update_file_usage(file_id, inc)


def delete_files(db: Database, *, file_ids: list[str], user_id: str | None = None) -> int:
    """`deleteFiles(file_ids, user)`: LibreChat quirk (§4.4, §8) — when a user is given the
    filter becomes `{user}` and **every** file of that user is deleted, whatever the ids."""
    query: dict[str, Any] = {"file_id": {"$in": list(file_ids or [])}}
    if user_id:
        query = {"user": oid(user_id, "user")}
    return db.files.delete_many(query).deleted_count


def gw_delete_files(gw: DbGateway, *, file_ids: list[str], user_id: str | None = None) -> int:
    return gw.get_repository("File").bulk_delete(file_ids, user_id)


# --- samplers -------------------------------------------------------------------------------


def _new_uuid(s: Sampler) -> str:
    return str(uuid.UUID(int=s.rng.getrandbits(128), version=4))


OWNER_HAZARDS = ("many_files", "files_updated_later", "orphan_files_conversation")
FILE_HAZARDS = ("orphan_files_user", "orphan_files_conversation", "files_updated_later")


def _owner_ids(s: Sampler) -> list[str]:
    """Planted owners, users that own files (so reads return rows), then any users."""
    planted = [u for h in OWNER_HAZARDS for u in s.ref_values(h, "user")[:1]]
    owners = [str(f["user"]) for f in s.pick("files", fields=("user",))]
    users = [str(u["_id"]) for u in s.pick("users")]
    return list(dict.fromkeys(planted + owners[: max(1, len(owners) // 2)] + users))


def _planted_file_ids(s: Sampler) -> list[str]:
    return [f for h in FILE_HAZARDS for f in s.ref_values(h, "file_id")[:1]]


def _file_users(s: Sampler) -> list[Args]:
    ids = _owner_ids(s)
    out = [{"user_id": u} for u in ids]
    if ids:  # ObjectId hex is case-insensitive: an upper-cased id still casts
        out.append({"user_id": ids[0].upper()})
    return [*out, {"user_id": UNKNOWN_ID}, {"user_id": ""}, {"user_id": "not-an-object-id"}]


def _file_id_lists(s: Sampler) -> list[Args]:
    files = s.pick("files", fields=("file_id", "user"))
    ids = [f["file_id"] for f in files]
    # a file with extracted text first: list reads must leave `text` out
    texts = [f["file_id"] for f in s.probe("files", {"text": {"$type": "string"}}, ("file_id",))]
    out: list[Args] = [{"file_ids": [i]} for i in [*texts, *_planted_file_ids(s), *ids[:3]]]
    if len(ids) > 1:  # several owners at once: B does not scope by user
        out.append({"file_ids": ids})
        out.append({"file_ids": [ids[0].upper(), ids[1]]})  # file_id matching is exact
    return [*out, {"file_ids": [UNKNOWN_FILE_ID]}, {"file_ids": []}, {"file_ids": [""]}]


def _tool_file_args(s: Sampler) -> list[Args]:
    out: list[Args] = []
    for agent in s.pick("agents", {"tool_resources": {"$ne": {}}}, ("tool_resources",), n=4):
        resources = agent.get("tool_resources") or {}
        ids = [i for r in resources.values() for i in (r or {}).get("file_ids", [])]
        if not ids:
            continue
        out.append({"file_ids": ids, "tool_resources": sorted(resources)})
        out.append({"file_ids": ids, "tool_resources": ["file_search"]})
        out.append({"file_ids": ids, "tool_resources": [model.TOOL_RESOURCE_TEXT, "execute_code"]})
    attached = [f["file_id"] for f in s.pick("files", {"embedded": True}, ("file_id",), n=3)]
    if attached:  # vectorised message attachments qualify for file_search too
        both = ["file_search", model.TOOL_RESOURCE_TEXT]
        out.append({"file_ids": attached, "tool_resources": both})
        out.append({"file_ids": attached, "tool_resources": []})
        # a resource B knows no condition for: `$or: []`, deleted by Mongoose's cast
        out.append({"file_ids": attached, "tool_resources": ["image_edit"]})
    if attached:  # N's name for the text resource: no condition in B either
        out.append({"file_ids": attached, "tool_resources": ["context"]})
    return [*out, {"file_ids": [], "tool_resources": ["file_search"]}]


def _file_id_args(s: Sampler) -> list[Args]:
    files = s.pick("files", fields=("file_id", "user"))
    out: list[Args] = [{"file_id": f} for f in _planted_file_ids(s)]
    out += [{"file_id": f["file_id"]} for f in files]
    if files:
        first = files[0]
        out += [
            {"file_id": first["file_id"], "extra": {"user": str(first["user"])}},
            {"file_id": first["file_id"], "extra": {"user": UNKNOWN_ID}},
            {"file_id": first["file_id"], "extra": {"tenantId": "t-1"}},  # dropped: N-only
            {"file_id": first["file_id"].upper()},
        ]
    return [*out, {"file_id": UNKNOWN_FILE_ID}, {"file_id": ""}]


def _new_files(s: Sampler) -> list[Args]:
    n = 4 if s.n is None else max(2, min(s.n, 6))
    out: list[Args] = []
    for i, user in enumerate(s.pick("users", n=n)):
        file_id = _new_uuid(s)
        name = f"upload-{i}.png"
        data = {
            "user": str(user["_id"]),
            "file_id": file_id,
            "temp_file_id": _new_uuid(s),
            "bytes": 20_000 + 1_000 * i,
            "filename": name,
            "filepath": f"/images/{user['_id']}/{file_id}__{name}",
            "type": "image/png",
            "context": "message_attachment",
            "width": 1024,
            "height": 768,
            "notInSchema": "dropped by strict mode",
        }
        out.append({"data": data, "disable_ttl": i % 2 == 1})
    existing = s.pick("files", fields=("file_id", "user"), n=1)
    if existing:  # re-creating a known file_id overwrites it and re-arms the TTL
        f = existing[0]
        data = {"user": str(f["user"]), "file_id": f["file_id"], "filename": "again.txt"}
        out.append({"data": {**data, "bytes": 12, "filepath": "/x", "type": "text/plain"}})
    return out


def _file_updates(s: Sampler) -> list[Args]:
    # uploads still carrying a TTL first: updateFile must drop it
    expiring = s.pick("files", {"expiresAt": {"$exists": True}}, ("file_id",), n=2)
    files = s.pick("files", fields=("file_id",), n=4 if s.n is None else min(s.n, 4))
    ids = list(dict.fromkeys(f["file_id"] for f in expiring + files))
    out: list[Args] = [
        {
            "data": {
                "file_id": file_id,
                "filepath": f"https://files.example.s3.amazonaws.com/{file_id}",
                "source": "s3",
                "embedded": True,
                "notInSchema": 1,
            }
        }
        for file_id in ids
    ]
    return [*out, {"data": {"file_id": UNKNOWN_FILE_ID, "filepath": "/nowhere"}}]


def _usage_args(s: Sampler) -> list[Args]:
    temp = s.pick("files", {"temp_file_id": {"$exists": True}}, ("file_id",), n=2)
    files = s.pick("files", fields=("file_id",), n=4 if s.n is None else min(s.n, 4))
    ids = list(dict.fromkeys([f["file_id"] for f in temp + files]))
    out: list[Args] = [{"file_id": i} for i in ids]
    if ids:
        out.append({"file_id": ids[0], "inc": 2})
    return [*out, {"file_id": UNKNOWN_FILE_ID}]


def _delete_args(s: Sampler) -> list[Args]:
    files = s.pick("files", fields=("file_id", "user"), n=6)
    out: list[Args] = []
    if files:
        out.append({"file_ids": [files[0]["file_id"]]})
    if len(files) > 2:  # the quirk: one id named, every file of the user goes
        out.append({"file_ids": [files[1]["file_id"]], "user_id": str(files[1]["user"])})
        out.append({"file_ids": [], "user_id": str(files[2]["user"])})
    return [
        *out,
        {"file_ids": [UNKNOWN_FILE_ID]},
        {"file_ids": [UNKNOWN_FILE_ID], "user_id": UNKNOWN_ID},
        {"file_ids": [], "user_id": "not-an-object-id"},
    ]


# --- footprints and rules -------------------------------------------------------------------


def _as_oid(value: Any) -> Any:
    try:
        return ObjectId(value) if isinstance(value, str) else value
    except InvalidId:
        return value


def _create_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["data"].get("file_id")}}


def _update_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["data"].get("file_id")}}


def _usage_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["file_id"]}}


def _delete_footprint(db: Database, args: Args) -> dict[str, dict]:
    either: list[dict[str, Any]] = [{"file_id": {"$in": list(args.get("file_ids") or [])}}]
    if args.get("user_id"):
        either.append({"user": _as_oid(args["user_id"])})
    return {"files": {"$or": either}}


FILES_READ_RULES = Rules()  # every list is sorted by updatedAt desc: order is significant
FILES_WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "expiresAt"))


OPERATIONS = [
    Operation(
        "files.list_for_user",
        "read",
        list_for_user,
        gw_list_for_user,
        _file_users,
        hazards=dict.fromkeys(OWNER_HAZARDS, "user"),
    ),
    Operation(
        "files.by_ids",
        "read",
        by_ids,
        gw_by_ids,
        _file_id_lists,
        hazards=dict.fromkeys(FILE_HAZARDS, "file_id"),
    ),
    Operation(
        "files.tool_files_by_ids", "read", tool_files_by_ids, gw_tool_files_by_ids, _tool_file_args
    ),
    Operation(
        "files.find_by_file_id",
        "read",
        find_by_file_id,
        gw_find_by_file_id,
        _file_id_args,
        hazards=dict.fromkeys(FILE_HAZARDS, "file_id"),
    ),
    Operation(
        "files.create",
        "write",
        create,
        gw_create,
        _new_files,
        rules=FILES_WRITE_RULES,
        footprint=_create_footprint,
    ),
    Operation(
        "files.update",
        "write",
        update,
        gw_update,
        _file_updates,
        rules=FILES_WRITE_RULES,
        footprint=_update_footprint,
    ),
    Operation(
        "files.increment_usage",
        "write",
        increment_usage,
        gw_increment_usage,
        _usage_args,
        rules=FILES_WRITE_RULES,
        footprint=_usage_footprint,
    ),
    Operation(
        "files.delete_files",
        "write",
        delete_files,
        gw_delete_files,
        _delete_args,
        rules=FILES_WRITE_RULES,
        footprint=_delete_footprint,
    ),
]
