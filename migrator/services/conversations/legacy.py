"""Conversations, the legacy path: direct pymongo spelling out B's
``api/models/Conversation.js``.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.conversations.shared import (
    GET_ERROR,
    LIST_ERROR,
    PAGE_LIMIT,
    SAVE_ERROR,
    BulkSaveFailed,
    ConversationNotFound,
)
from migrator.services.js import iso
from migrator.services.messages.shared import temp_expiry
from migrator.services.mongoose import (
    bulk_result,
    cast_date,
    cast_filter,
    empty_bulk_result,
    on_insert,
    strict_set,
    string_owner,
)

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
            filters.append({"updatedAt": {"$lt": cast_date(cursor, "updatedAt")}})
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


def get(db: Database, *, user: Any, conversation_id: str) -> dict | None:
    """`getConvo(user, conversationId)`: `findOne({user, conversationId})` lean, the whole
    document (with its `messages` ObjectIds)."""
    try:
        return db.conversations.find_one(
            {"user": string_owner(user), "conversationId": conversation_id}
        )
    except PyMongoError:
        return dict(GET_ERROR)


def find_owner(db: Database, *, conversation_id: str) -> dict | None:
    """`searchConversation(conversationId)`: the access-check middleware's lookup of the owner
    before every message load — `findOne({conversationId}, 'conversationId user')`."""
    return db.conversations.find_one(
        {"conversationId": conversation_id}, {"conversationId": 1, "user": 1}
    )


def files(db: Database, *, conversation_id: str) -> list:
    """`getConvoFiles(conversationId)`: `findOne({conversationId}, 'files')?.files ?? []`.
    No user filter (B)."""
    found = db.conversations.find_one({"conversationId": conversation_id}, {"files": 1})
    value = found.get("files") if found is not None else None
    return value if value is not None else []


def count_by_user(db: Database, *, user: Any) -> int:
    """`config/user-stats.js`: `countDocuments({user: user._id})` — the ObjectId is cast to the
    String path's hex."""
    return db.conversations.count_documents({"user": string_owner(user)})


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


def archive(db: Database, *, user: Any, conversation_id: str, is_archived: bool = True) -> dict:
    """`POST /api/convos/update` with `arg: {conversationId, isArchived}` ⇒ saveConvo (B).

    Quirks of going through saveConvo: an unknown conversationId is upserted as a new
    'New Chat' conversation, and a temporary chat becomes permanent (`expiredAt: null`).
    """
    return save(
        db, user=user, conversation={"conversationId": conversation_id, "isArchived": is_archived}
    )


def rename(db: Database, *, user: Any, conversation_id: str, title: Any) -> dict:
    """`POST /api/convos/update` with `arg: {conversationId, title}` ⇒ saveConvo (B): the title
    is stored as sent (no trim / length limit in B) with the same upsert quirks as archive."""
    return save(db, user=user, conversation={"conversationId": conversation_id, "title": title})


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
