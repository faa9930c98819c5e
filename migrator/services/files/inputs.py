"""Files' inputs: the arguments each operation is tried with, drawn from the source database
(planted hazards first), and the documents a write input may touch (its footprint)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from migrator import model
from migrator.services.base import UNKNOWN_ID, Args, Sampler, footprint_oid

UNKNOWN_FILE_ID = "00000000-dead-4bee-8f00-000000000000"
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


def file_users(s: Sampler) -> list[Args]:
    ids = _owner_ids(s)
    out = [{"user_id": u} for u in ids]
    if ids:  # ObjectId hex is case-insensitive: an upper-cased id still casts
        out.append({"user_id": ids[0].upper()})
    return [*out, {"user_id": UNKNOWN_ID}, {"user_id": ""}, {"user_id": "not-an-object-id"}]


def file_id_lists(s: Sampler) -> list[Args]:
    files = s.pick("files", fields=("file_id", "user"))
    ids = [f["file_id"] for f in files]
    # a file with extracted text first: list reads must leave `text` out
    texts = [f["file_id"] for f in s.probe("files", {"text": {"$type": "string"}}, ("file_id",))]
    out: list[Args] = [{"file_ids": [i]} for i in [*texts, *_planted_file_ids(s), *ids[:3]]]
    if len(ids) > 1:  # several owners at once: B does not scope by user
        out.append({"file_ids": ids})
        out.append({"file_ids": [ids[0].upper(), ids[1]]})  # file_id matching is exact
    return [*out, {"file_ids": [UNKNOWN_FILE_ID]}, {"file_ids": []}, {"file_ids": [""]}]


def tool_file_args(s: Sampler) -> list[Args]:
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


def file_id_args(s: Sampler) -> list[Args]:
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


def new_files(s: Sampler) -> list[Args]:
    n = 4 if s.n is None else max(2, min(s.n, 6))
    out: list[Args] = []
    for i, user in enumerate(s.pick("users", n=n)):
        file_id = s.new_uuid()
        name = f"upload-{i}.png"
        data = {
            "user": str(user["_id"]),
            "file_id": file_id,
            "temp_file_id": s.new_uuid(),
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


def file_updates(s: Sampler) -> list[Args]:
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


def usage_args(s: Sampler) -> list[Args]:
    temp = s.pick("files", {"temp_file_id": {"$exists": True}}, ("file_id",), n=2)
    files = s.pick("files", fields=("file_id",), n=4 if s.n is None else min(s.n, 4))
    ids = list(dict.fromkeys([f["file_id"] for f in temp + files]))
    out: list[Args] = [{"file_id": i} for i in ids]
    if ids:
        out.append({"file_id": ids[0], "inc": 2})
    return [*out, {"file_id": UNKNOWN_FILE_ID}]


def delete_args(s: Sampler) -> list[Args]:
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


def create_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["data"].get("file_id")}}


def update_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["data"].get("file_id")}}


def usage_footprint(db: Database, args: Args) -> dict[str, dict]:
    return {"files": {"file_id": args["file_id"]}}


def delete_footprint(db: Database, args: Args) -> dict[str, dict]:
    either: list[dict[str, Any]] = [{"file_id": {"$in": list(args.get("file_ids") or [])}}]
    if args.get("user_id"):
        either.append({"user": footprint_oid(args["user_id"])})
    return {"files": {"$or": either}}
