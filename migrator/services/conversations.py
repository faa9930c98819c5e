"""Conversations: sidebar pages, one conversation, its files, counts, save / archive / rename /
delete / bulk save (docs/librechat.md §4.2, column B).

Legacy functions are direct pymongo calls spelling out what Mongoose does in LibreChat B's
``api/models/Conversation.js``; gateway functions (``gw_*``) call the Conversation and Message
repositories only.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.base import Args, Operation, Sampler
from migrator.services.messages import (
    UNKNOWN_USER,
    UNKNOWN_UUID,
    bulk_result,
    empty_bulk_result,
    iso,
    js_date,
    on_insert,
    strict_set,
    string_owner,
    temp_expiry,
)
from migrator.services.mongoose import cast_filter

PAGE_LIMIT = 25  # the client never sends `limit`
LIST_PROJECTION = dict.fromkeys(
    (
        "conversationId",
        "endpoint",
        "title",
        "createdAt",
        "updatedAt",
        "user",
        "model",
        "agent_id",
        "assistant_id",
        "spec",
        "iconURL",
    ),
    1,
)
# What B's catch blocks answer instead of throwing.
LIST_ERROR = {"message": "Error getting conversations"}
GET_ERROR = {"message": "Error getting single conversation"}
SAVE_ERROR = {"message": "Error saving conversation"}


class ConversationNotFound(Exception):
    """deleteConvos: `throw new Error('Conversation not found or already deleted.')`."""

    def __init__(self) -> None:
        super().__init__("Conversation not found or already deleted.")


class BulkSaveFailed(Exception):
    """bulkSaveConvos: `throw new Error('Failed to save conversations in bulk.')`."""

    def __init__(self) -> None:
        super().__init__("Failed to save conversations in bulk.")


# --- reads ----------------------------------------------------------------------------------


def list_page(
    db: Database,
    *,
    user: Any,
    cursor: str | None = None,
    is_archived: bool = False,
    tags: Any = None,
    order: str = "desc",
    limit: int = PAGE_LIMIT,
) -> dict[str, Any]:
    """`GET /api/convos`: `getConvosByCursor(user, {cursor, isArchived, tags, order})` (B).

    LibreChat B quirks kept:
    - popped-row cursor: `limit + 1` rows are read and the **popped** extra row's
      `updatedAt.toISOString()` is the next cursor, while the next page filters with a strict
      `$lt` — one conversation per page is never listed (fixed upstream by PR #11242);
    - `order=asc` flips the sort but the cursor stays `$lt`, so asc paging is broken;
    - `tags` only filters when it is a non-empty array;
    - temporary chats are hidden by `expiredAt` null/missing, whatever the date;
    - errors (an Invalid Date cursor fails Mongoose's Date cast) are caught and answered as
      `{message: 'Error getting conversations'}`.
    """
    filters: list[dict[str, Any]] = [{"user": string_owner(user)}]
    if is_archived:
        filters.append({"isArchived": True})
    else:
        filters.append({"$or": [{"isArchived": False}, {"isArchived": {"$exists": False}}]})
    if isinstance(tags, list) and tags:
        filters.append({"tags": {"$in": tags}})
    filters.append({"$or": [{"expiredAt": None}, {"expiredAt": {"$exists": False}}]})
    try:
        if cursor:
            filters.append({"updatedAt": {"$lt": js_date(cursor, "updatedAt")}})
        query = filters[0] if len(filters) == 1 else {"$and": filters}
        found = db.conversations.find(query, LIST_PROJECTION)
        rows = list(found.sort("updatedAt", 1 if order == "asc" else -1).limit(limit + 1))
        next_cursor = None
        if len(rows) > limit:
            last = rows.pop()
            updated = last.get("updatedAt")
            if not isinstance(updated, datetime):  # `.toISOString` of a non-Date: TypeError
                return dict(LIST_ERROR)
            next_cursor = iso(updated)
        return {"conversations": rows, "nextCursor": next_cursor}
    except (model.CastError, PyMongoError):
        return dict(LIST_ERROR)


def gw_list_page(
    gw: DbGateway,
    *,
    user: Any,
    cursor: str | None = None,
    is_archived: bool = False,
    tags: Any = None,
    order: str = "desc",
    limit: int = PAGE_LIMIT,
) -> dict[str, Any]:
    repo = gw.get_repository("Conversation")
    try:
        rows, extra = repo.get_convos_by_cursor(
            user, cursor=cursor, limit=limit, is_archived=is_archived, tags=tags, order=order
        )
    except (model.CastError, PyMongoError):
        return dict(LIST_ERROR)
    next_cursor = None
    if extra is not None:
        updated = extra.get("updatedAt")
        if not isinstance(updated, datetime):
            return dict(LIST_ERROR)
        next_cursor = updated.isoformat(timespec="milliseconds") + "Z"
    return {"conversations": rows, "nextCursor": next_cursor}


def get(db: Database, *, user: Any, conversation_id: str) -> dict | None:
    """`getConvo(user, conversationId)`: `findOne({user, conversationId})` lean, the whole
    document (with its `messages` ObjectIds)."""
    try:
        return db.conversations.find_one(
            {"user": string_owner(user), "conversationId": conversation_id}
        )
    except PyMongoError:
        return dict(GET_ERROR)


def gw_get(gw: DbGateway, *, user: Any, conversation_id: str) -> dict | None:
    try:
        return gw.get_repository("Conversation").find_by_conversation_id(conversation_id, user)
    except PyMongoError:
        return dict(GET_ERROR)


def find_owner(db: Database, *, conversation_id: str) -> dict | None:
    """`searchConversation(conversationId)`: the access-check middleware's lookup of the owner
    before every message load — `findOne({conversationId}, 'conversationId user')`."""
    return db.conversations.find_one(
        {"conversationId": conversation_id}, {"conversationId": 1, "user": 1}
    )


def gw_find_owner(gw: DbGateway, *, conversation_id: str) -> dict | None:
    return gw.get_repository("Conversation").find_by_conversation_id(
        conversation_id, select={"conversationId": 1, "user": 1}
    )


def files(db: Database, *, conversation_id: str) -> list:
    """`getConvoFiles(conversationId)`: `findOne({conversationId}, 'files')?.files ?? []`.
    No user filter (B)."""
    found = db.conversations.find_one({"conversationId": conversation_id}, {"files": 1})
    value = found.get("files") if found is not None else None
    return value if value is not None else []


def gw_files(gw: DbGateway, *, conversation_id: str) -> list:
    return gw.get_repository("Conversation").get_convo_files(conversation_id)


def count_by_user(db: Database, *, user: Any) -> int:
    """`config/user-stats.js`: `countDocuments({user: user._id})` — the ObjectId is cast to the
    String path's hex."""
    return db.conversations.count_documents({"user": string_owner(user)})


def gw_count_by_user(gw: DbGateway, *, user: Any) -> int:
    return gw.get_repository("Conversation").count_user_conversations(user)


# --- writes ---------------------------------------------------------------------------------


def save(
    db: Database,
    *,
    user: Any,
    conversation: dict,
    is_temporary: bool = False,
    unset_fields: dict | None = None,
) -> dict:
    """`saveConvo(req, {conversationId, newConversationId, ...convo}, {unsetFields})` (B).

    1. the conversation's message `_id`s, `createdAt` asc — B has **no user filter** here;
    2. `findOneAndUpdate({conversationId, user}, {$set: {...convo, messages, user, expiredAt},
       $unset}, {new, upsert})`: unknown keys dropped (strict), `createdAt` immutable,
       `updatedAt` now, on insert the schema defaults + `createdAt` + `__v`;
    3. `expiredAt` = now + retention when the request is temporary, else **null** — so every
       save of a temporary chat without the flag (rename, archive) makes it permanent;
    4. any error (e.g. E11000 on the global unique `conversationId_1` when the id belongs to
       another user, §8) is answered as `{message: 'Error saving conversation'}`.
    """
    payload = dict(conversation)
    conversation_id = payload.pop("conversationId", None)
    new_id = payload.pop("newConversationId", None)
    owner = string_owner(user)
    now = utcnow()
    try:
        found = db.messages.find({"conversationId": conversation_id}, {"_id": 1, "messageId": 1})
        update = {**payload, "messages": [m["_id"] for m in found.sort("createdAt", 1)]}
        update["user"] = owner
        if new_id:
            update["conversationId"] = new_id
        update["expiredAt"] = temp_expiry(now) if is_temporary else None
        to_set = strict_set("conversations", update)
        to_set["updatedAt"] = now
        ops: dict[str, Any] = {"$set": to_set}
        unset = {
            k: v
            for k, v in (unset_fields or {}).items()
            if k in model.SCHEMA_FIELDS["conversations"]
        }
        if unset:
            ops["$unset"] = unset
        ops["$setOnInsert"] = on_insert("conversations", set(to_set) | set(unset), now)
        return db.conversations.find_one_and_update(
            {"conversationId": conversation_id, "user": owner},
            ops,
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except (PyMongoError, model.CastError):
        return dict(SAVE_ERROR)


def gw_save(
    gw: DbGateway,
    *,
    user: Any,
    conversation: dict,
    is_temporary: bool = False,
    unset_fields: dict | None = None,
) -> dict:
    payload = {k: v for k, v in conversation.items() if k != "newConversationId"}
    conversation_id = payload.pop("conversationId", None)
    try:
        payload["messages"] = gw.get_repository("Message").message_ids_of(conversation_id)
        payload["user"] = user
        if conversation.get("newConversationId"):
            payload["conversationId"] = conversation["newConversationId"]
        payload["expiredAt"] = temp_expiry(utcnow()) if is_temporary else None
        return gw.get_repository("Conversation").save_convo(
            conversation_id, user, payload, unset_fields
        )
    except (PyMongoError, model.CastError):
        return dict(SAVE_ERROR)


def archive(db: Database, *, user: Any, conversation_id: str, is_archived: bool = True) -> dict:
    """`POST /api/convos/update` with `arg: {conversationId, isArchived}` ⇒ saveConvo (B).

    Quirks of going through saveConvo: an unknown conversationId is upserted as a new
    'New Chat' conversation, and a temporary chat becomes permanent (`expiredAt: null`).
    """
    return save(
        db, user=user, conversation={"conversationId": conversation_id, "isArchived": is_archived}
    )


def gw_archive(gw: DbGateway, *, user: Any, conversation_id: str, is_archived: bool = True) -> dict:
    return gw_save(
        gw, user=user, conversation={"conversationId": conversation_id, "isArchived": is_archived}
    )


def rename(db: Database, *, user: Any, conversation_id: str, title: Any) -> dict:
    """`POST /api/convos/update` with `arg: {conversationId, title}` ⇒ saveConvo (B): the title
    is stored as sent (no trim / length limit in B) with the same upsert quirks as archive."""
    return save(db, user=user, conversation={"conversationId": conversation_id, "title": title})


def gw_rename(gw: DbGateway, *, user: Any, conversation_id: str, title: Any) -> dict:
    return gw_save(gw, user=user, conversation={"conversationId": conversation_id, "title": title})


def delete(db: Database, *, user: Any, filter: dict) -> dict[str, Any]:
    """`deleteConvos(user, filter)` (`DELETE /api/convos`: `{conversationId}`; `/all`: `{}`).

    `{...filter, user}` (unknown keys dropped by strictQuery) → the ids, none ⇒ throws →
    `deleteMany` → the messages by `conversationId $in ids` with **no user filter** (B).
    """
    query = cast_filter("conversations", {**filter, "user": string_owner(user)})
    ids = [c.get("conversationId") for c in db.conversations.find(query, {"conversationId": 1})]
    if not ids:
        raise ConversationNotFound()
    convos = db.conversations.delete_many(query)
    messages = db.messages.delete_many({"conversationId": {"$in": ids}})
    return {
        "acknowledged": convos.acknowledged,
        "deletedCount": convos.deleted_count,
        "messages": {"acknowledged": messages.acknowledged, "deletedCount": messages.deleted_count},
    }


def gw_delete(gw: DbGateway, *, user: Any, filter: dict) -> dict[str, Any]:
    convos = gw.get_repository("Conversation")
    query = {**filter, "user": user}
    ids = convos.conversation_ids(query)
    if not ids:
        raise ConversationNotFound()
    deleted = convos.delete_many(query)
    messages = gw.get_repository("Message").delete_by_conversation_ids(ids)
    return {
        "acknowledged": True,
        "deletedCount": deleted,
        "messages": {"acknowledged": True, "deletedCount": messages},
    }


def bulk_save(db: Database, *, conversations: list[dict]) -> dict[str, Any]:
    """`bulkSaveConvos` (import, fork, duplicate): `updateOne({conversationId, user}, convo,
    {upsert, timestamps: false})` per conversation; failure ⇒ 'Failed to save conversations in
    bulk.'."""
    if not conversations:
        return empty_bulk_result()
    now = utcnow()
    requests = []
    try:
        for convo in conversations:
            to_set = strict_set("conversations", convo)
            if "user" in to_set:
                to_set["user"] = string_owner(to_set["user"])
            insert = on_insert("conversations", set(to_set), now, timestamps=False)
            query = {
                "conversationId": convo.get("conversationId"),
                "user": string_owner(convo.get("user")),
            }
            update = {"$setOnInsert": insert, **({"$set": to_set} if to_set else {})}
            requests.append(UpdateOne(query, update, upsert=True))
        return bulk_result(db.conversations.bulk_write(requests))
    except (PyMongoError, model.CastError):
        raise BulkSaveFailed() from None


def gw_bulk_save(gw: DbGateway, *, conversations: list[dict]) -> dict[str, Any]:
    try:
        return gw.get_repository("Conversation").bulk_save_convos(conversations)
    except (PyMongoError, model.CastError):
        raise BulkSaveFailed() from None


# --- samplers -------------------------------------------------------------------------------


# Hazards whose refs carry a conversation's owner and id (manifest, migrator.seed.hazards).
CONVERSATION_HAZARDS = (
    "temporary_conversations",
    "archived_conversations",
    "imported_conversation_without_expiredAt",
    "legacy_conversation_agentOptions",
    "conversations_updated_later",
)


def _heavy_users(s: Sampler, k: int = 2) -> list[str]:
    """Users with many conversations (a second sidebar page): the planted one, then owners of
    random conversations (drawn in proportion to how many they own)."""
    planted = s.ref_values("many_conversations", "user")
    return list(dict.fromkeys([*planted, *s.owners("conversations", "user", 8)]))[:k]


def _someone_elses(s: Sampler, user: Any) -> dict | None:
    """A conversation that ``user`` does not own (the first by _id), or None."""
    return s.db.conversations.find_one(
        {"user": {"$ne": user}}, {"conversationId": 1, "user": 1}, sort=[("_id", 1)]
    )


def _list_args(s: Sampler) -> list[Args]:
    planted = [u for h in CONVERSATION_HAZARDS for u in s.ref_values(h, "user")]
    users = [str(u["_id"]) for u in s.pick("users")]
    out: list[Args] = [{"user": u} for u in dict.fromkeys([*planted, *users])]
    for user in s.ref_values("archived_conversations", "user"):
        out.append({"user": user, "is_archived": True})
    for user in _heavy_users(s):
        first = list_page(s.db, user=user)
        out.append({"user": user})
        if first.get("nextCursor"):  # the real cursor of the first page
            out.append({"user": user, "cursor": first["nextCursor"]})
        out.append({"user": user, "order": "asc"})
        out.append({"user": user, "limit": 4})
        small = list_page(s.db, user=user, limit=4)
        if small.get("nextCursor"):
            out.append({"user": user, "limit": 4, "cursor": small["nextCursor"]})
    for c in s.pick("conversations", {"isArchived": True}, ("user",), 2):
        out.append({"user": c["user"], "is_archived": True})
    for c in s.pick("conversations", {"tags.0": {"$exists": True}}, ("user", "tags"), 2):
        out.append({"user": c["user"], "tags": c["tags"][:1]})
        out.append({"user": c["user"], "tags": c["tags"][0]})  # not an array: ignored
    if users:
        out += [
            {"user": ObjectId(users[0])},  # cast to the String path's hex
            {"user": users[0], "cursor": "1970-01-01T00:00:00.000Z"},  # past the end
            {"user": users[0], "cursor": "not-a-date"},  # Invalid Date ⇒ error answer
            {"user": users[0], "tags": []},
            {"user": users[0], "tags": ["no-such-tag"]},
        ]
    return [*out, {"user": UNKNOWN_USER}, {"user": ""}]


def _planted_conversations(s: Sampler) -> list[dict]:
    return [
        {"user": r["user"], "conversationId": r["conversationId"]}
        for h in CONVERSATION_HAZARDS
        for r in s.hazard_refs(h)
        if "conversationId" in r
    ]


def _convo_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"]}
        for c in [*_planted_conversations(s), *found]
    ]
    other = _someone_elses(s, found[0]["user"]) if found else None
    if other is not None:  # someone else's conversation: the owner filter must hide it
        out.append({"user": found[0]["user"], "conversation_id": other["conversationId"]})
    if found:
        out.append(
            {"user": ObjectId(found[0]["user"]), "conversation_id": out[0]["conversation_id"]}
        )
        out.append({"user": found[0]["user"], "conversation_id": out[0]["conversation_id"].upper()})
    return [*out, {"user": UNKNOWN_USER, "conversation_id": UNKNOWN_UUID}]


def _conversation_ids(s: Sampler) -> list[Args]:
    found = [*_planted_conversations(s), *s.pick("conversations", fields=("conversationId",))]
    with_files = s.pick("conversations", {"files.0": {"$exists": True}}, ("conversationId",), 2)
    ids = [c["conversationId"] for c in [*found, *with_files]]
    return [{"conversation_id": cid} for cid in [*ids, UNKNOWN_UUID, ""]]


def _user_args(s: Sampler) -> list[Args]:
    planted = s.ref_values("many_conversations", "user")
    users = list(dict.fromkeys([*planted, *(str(u["_id"]) for u in s.pick("users"))]))
    out: list[Args] = [{"user": u} for u in users]
    if users:
        out += [{"user": ObjectId(users[0])}, {"user": users[0].upper()}]
    return [*out, {"user": UNKNOWN_USER}, {"user": ""}]


def _new_uuid(s: Sampler) -> str:
    return str(uuid.UUID(int=s.rng.getrandbits(128), version=4))


def _save_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user", "endpoint", "model"))
    out: list[Args] = []
    for i, c in enumerate(found):
        convo = {
            "conversationId": c["conversationId"],
            "endpoint": c.get("endpoint"),
            "model": c.get("model"),
            "title": f"Saved title {i}",
            "temperature": 0.7,
            "isEdited": False,  # not in the schema: dropped
        }
        args: Args = {"user": c["user"], "conversation": convo}
        if i % 3 == 1:
            args["unset_fields"] = {"temperature": 1, "notInSchema": 1}
            del convo["temperature"]
        if i % 3 == 2:
            convo["newConversationId"] = _new_uuid(s)  # fork / regenerate under a new id
        out.append(args)
    users = [c["user"] for c in found] or [UNKNOWN_USER]
    out += [
        # a brand-new conversation (first message of a chat), permanent and temporary
        {"user": users[0], "conversation": {"conversationId": _new_uuid(s), "endpoint": "openAI",
                                             "model": "gpt-4o", "title": "Brand new"}},
        {"user": users[0], "conversation": {"conversationId": _new_uuid(s), "endpoint": "openAI",
                                             "model": "gpt-4o-mini"}, "is_temporary": True},
    ]  # fmt: skip
    other = _someone_elses(s, users[0])
    if other is not None:  # another user's id: E11000 on conversationId_1 ⇒ error answer
        out.append({"user": users[0], "conversation": {"conversationId": other["conversationId"],
                                                        "title": "hijack"}})  # fmt: skip
    orphans = s.hazard_refs("orphan_messages")[:1] or [
        s.db.messages.find_one({"conversationId": cid}, {"conversationId": 1, "user": 1})
        for cid in s.orphans("messages", "conversationId", "conversations")
    ]
    for m in orphans:  # orphan messages (§8): the late saveConvo adopts them
        out.append({"user": m["user"], "conversation": {"conversationId": m["conversationId"]}})
    return out


def _archive_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"], "is_archived": True}
        for c in found
    ]
    for c in s.pick("conversations", {"isArchived": True}, ("conversationId", "user"), 1):
        out.append(
            {"user": c["user"], "conversation_id": c["conversationId"], "is_archived": False}
        )
    for c in s.pick(
        "conversations", {"expiredAt": {"$type": "date"}}, ("conversationId", "user"), 1
    ):
        # archiving a temporary chat clears its expiredAt (B)
        out.append({"user": c["user"], "conversation_id": c["conversationId"], "is_archived": True})
    user = found[0]["user"] if found else UNKNOWN_USER
    return [*out, {"user": user, "conversation_id": _new_uuid(s), "is_archived": True}]


def _rename_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "conversation_id": c["conversationId"], "title": f"  Renamed {i} "}
        for i, c in enumerate(found)
    ]
    user = found[0]["user"] if found else UNKNOWN_USER
    other = _someone_elses(s, user)
    if other is not None:
        out.append({"user": user, "conversation_id": other["conversationId"],
                    "title": "someone else's"})  # fmt: skip
    return [*out, {"user": user, "conversation_id": _new_uuid(s), "title": ""}]


def _delete_args(s: Sampler) -> list[Args]:
    found = s.pick("conversations", fields=("conversationId", "user"))
    out: list[Args] = [
        {"user": c["user"], "filter": {"conversationId": c["conversationId"]}} for c in found
    ]
    if found:
        first = found[0]
        out += [
            {"user": UNKNOWN_USER, "filter": {"conversationId": first["conversationId"]}},
            {"user": first["user"], "filter": {"conversationId": UNKNOWN_UUID, "bogus": 1}},
        ]
    owners = s.owners("conversations", "user", 5)
    counts = {u: s.db.conversations.count_documents({"user": u}) for u in owners}
    if counts:  # `DELETE /api/convos/all` for the lightest of a few owners
        out.append({"user": min(counts, key=lambda u: (counts[u], u)), "filter": {}})
    return out


def _bulk_args(s: Sampler) -> list[Args]:
    found = list(
        s.db.conversations.find({}, {"_id": 0}).sort("_id", 1).limit(2 if s.n is None else s.n)
    )
    if not found:
        return [{"conversations": []}]
    batch: list[dict] = []
    for i, c in enumerate(found):
        if i % 2 == 0:  # duplicate: a copy under a new id, timestamps kept as given
            batch.append({**c, "conversationId": _new_uuid(s), "title": f"{c.get('title')} (copy)"})
        else:  # re-import of an existing one
            batch.append({**c, "title": "re-imported", "importSource": "chatgpt"})
    imported = {
        "conversationId": _new_uuid(s),
        "user": found[0]["user"],
        "title": "Imported chat",
        "endpoint": "openAI",
        "model": "gpt-4",
        "createdAt": s.past(400),
        "updatedAt": s.past(399),
    }
    return [{"conversations": [*batch, imported]}, {"conversations": []}]


def _save_footprint(db: Database, args: Args) -> dict[str, dict]:
    convo = args.get("conversation") or {"conversationId": args.get("conversation_id")}
    ids = [convo.get("conversationId"), convo.get("newConversationId")]
    return {
        "conversations": {"conversationId": {"$in": [i for i in ids if i is not None]}},
        "messages": {"conversationId": convo.get("conversationId")},
    }


def _delete_footprint(db: Database, args: Args) -> dict[str, dict]:
    fields = model.SCHEMA_FIELDS["conversations"]
    query = {k: v for k, v in args["filter"].items() if k in fields}
    query["user"] = string_owner(args["user"])
    ids = db.conversations.distinct("conversationId", query)
    return {"conversations": query, "messages": {"conversationId": {"$in": ids}}}


def _bulk_footprint(db: Database, args: Args) -> dict[str, dict]:
    ids = [c.get("conversationId") for c in args["conversations"]]
    return {"conversations": {"conversationId": {"$in": ids}}}


READ_RULES = Rules()
WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "expiredAt", "upsertedIds.*"))

OPERATIONS = [
    Operation(
        "conversations.list_page",
        "read",
        list_page,
        gw_list_page,
        _list_args,
        READ_RULES,
        hazards={
            **dict.fromkeys(CONVERSATION_HAZARDS, "user"),
            "many_conversations": "user",
        },
    ),
    Operation(
        "conversations.get",
        "read",
        get,
        gw_get,
        _convo_args,
        READ_RULES,
        hazards=dict.fromkeys(CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.find_owner",
        "read",
        find_owner,
        gw_find_owner,
        _conversation_ids,
        READ_RULES,
        hazards=dict.fromkeys(CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.files",
        "read",
        files,
        gw_files,
        _conversation_ids,
        READ_RULES,
        hazards=dict.fromkeys(CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.count_by_user",
        "read",
        count_by_user,
        gw_count_by_user,
        _user_args,
        hazards={"many_conversations": "user"},
    ),
    Operation(
        "conversations.save",
        "write",
        save,
        gw_save,
        _save_args,
        rules=WRITE_RULES,
        footprint=_save_footprint,
        hazards={"orphan_messages": "conversationId"},
    ),
    Operation(
        "conversations.archive",
        "write",
        archive,
        gw_archive,
        _archive_args,
        rules=WRITE_RULES,
        footprint=_save_footprint,
    ),
    Operation(
        "conversations.rename",
        "write",
        rename,
        gw_rename,
        _rename_args,
        rules=WRITE_RULES,
        footprint=_save_footprint,
    ),
    Operation(
        "conversations.delete",
        "write",
        delete,
        gw_delete,
        _delete_args,
        rules=WRITE_RULES,
        footprint=_delete_footprint,
    ),
    Operation(
        "conversations.bulk_save",
        "write",
        bulk_save,
        gw_bulk_save,
        _bulk_args,
        rules=WRITE_RULES,
        footprint=_bulk_footprint,
    ),
]
