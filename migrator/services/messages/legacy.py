"""Messages, the legacy path: direct pymongo spelling out B's ``api/models/Message.js`` and
``api/server/routes/messages.js``.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from migrator import model
from migrator.gateway.repository import utcnow
from migrator.services.js import iso, js_is_nan
from migrator.services.messages.shared import PAGE_SIZE, SORT_FIELDS, temp_expiry
from migrator.services.mongoose import (
    bulk_result,
    cast_date,
    empty_bulk_result,
    on_insert,
    strict_set,
    string_owner,
)

# zod 3 `z.string().uuid()` (saveMessage's `idSchema`): any version, either case, nil allowed.
ZOD_UUID = re.compile(
    r"^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$"
)

HIDDEN = model.MESSAGE_DEFAULT_PROJECTION  # {_meiliIndex: 0}: select:false (§1 #10)

# GET /api/messages/:conversationId selects '-_id -__v -user'; _meiliIndex stays hidden.
LOAD_PROJECTION = {"_id": 0, "__v": 0, "user": 0, **HIDDEN}


def by_conversation(db: Database, *, conversation_id: str) -> list[dict]:
    """Load a conversation: `getMessages({conversationId}, '-_id -__v -user')`, createdAt asc.

    LibreChat B quirk: no `user` filter (the route's getConvo middleware checks ownership), so
    another user's messages under the same conversationId come back too.
    """
    cursor = db.messages.find({"conversationId": conversation_id}, LOAD_PROJECTION)
    return list(cursor.sort("createdAt", 1))


def list_page(
    db: Database,
    *,
    conversation_id: str,
    user: str,
    cursor: str | None = None,
    sort_by: str = "createdAt",
    sort_direction: str = "desc",
    page_size: Any = None,
) -> dict[str, Any]:
    """`GET /api/messages?conversationId=…` (B): one page of `pageSize` (default 25).

    LibreChat B quirks: `limit(pageSize + 1)` and the **popped** extra row's sort value becomes
    `nextCursor`, while the next page filters with a strict `$lt`/`$gt` — so one message per
    page is never shown (fixed upstream by PR #11242). The cursor string is cast by the sort
    path's type: a JS date for createdAt/updatedAt (an invalid one is a CastError, a 500), a
    plain string for endpoint. `nextCursor` is what the JSON response carries: a Date as ISO,
    missing (`undefined`, imported rows without createdAt) as None.
    """
    size = _page_size(page_size)
    field = sort_by if sort_by in SORT_FIELDS else "createdAt"
    order = 1 if sort_direction == "asc" else -1
    query: dict[str, Any] = {"conversationId": conversation_id, "user": string_owner(user)}
    if cursor:
        value = cast_date(cursor, field) if field in model.DATE_FIELDS["messages"] else cursor
        query[field] = {"$gt": value} if order == 1 else {"$lt": value}
    rows = list(db.messages.find(query, HIDDEN).sort(field, order).limit(size + 1))
    next_cursor = None
    if len(rows) > size:
        popped = rows.pop().get(field)  # undefined when the row lacks the field
        next_cursor = iso(popped) if isinstance(popped, datetime) else popped
    return {"messages": rows, "nextCursor": next_cursor}


def _page_size(raw: Any) -> int:
    """`parseInt(pageSize, 10) || 25`: the leading integer, NaN or 0 ⇒ 25."""
    match = re.match(r"\s*([+-]?\d+)", str(raw)) if raw is not None else None
    size = int(match.group(1)) if match else 0
    return size or PAGE_SIZE


def get_one(db: Database, *, conversation_id: str, message_id: str, user: str) -> dict[str, Any]:
    """`GET /api/messages?conversationId&messageId`: `findOne({conversationId, messageId,
    user})`, answered as a one-row page."""
    found = db.messages.find_one(
        {"conversationId": conversation_id, "messageId": message_id, "user": string_owner(user)},
        HIDDEN,
    )
    return {"messages": [found] if found else [], "nextCursor": None}


def count_by_conversation(db: Database, *, conversation_id: str) -> int:
    """Messages in a conversation: `countDocuments({conversationId})` — like B's load, no user
    filter (LibreChat core has no such count; the conversation's `messages` array mirrors it)."""
    return db.messages.count_documents({"conversationId": conversation_id})


def count_by_user(db: Database, *, user: Any) -> int:
    """`config/user-stats.js`: `countDocuments({user: user._id})` — the ObjectId is cast to the
    String path's hex."""
    return db.messages.count_documents({"user": string_owner(user)})


def save(
    db: Database, *, user: str, message: dict, is_temporary: bool = False
) -> dict[str, Any] | None:
    """`saveMessage(req, params)` (B), once per user message and per response.

    - a conversationId that is not a UUID (e.g. `'new'`) is logged and skipped: undefined;
    - the whole params object is the update (plain object ⇒ `$set`, unknown keys dropped by
      strict mode), with `user`, `messageId = newMessageId || messageId` and `expiredAt`
      (now + retention when the request is temporary, else null);
    - `tokenCount` that JS `isNaN` rejects is reset to 0;
    - upsert keyed by `{messageId, user}`; E11000 (the global unique `messageId_1` index, §8:
      the id belongs to another user) ⇒ the caller's own message if it exists, else the raw
      params echoed back.
    """
    conversation_id = message.get("conversationId")
    if not isinstance(conversation_id, str) or not ZOD_UUID.fullmatch(conversation_id):
        return None  # LibreChat: `logger.warn('Invalid conversation ID')`; return;
    now = utcnow()
    owner = string_owner(user)
    update = {**message, "user": owner}
    update["messageId"] = message.get("newMessageId") or message.get("messageId")
    update["expiredAt"] = temp_expiry(now) if is_temporary else None
    if update.get("tokenCount") is not None and js_is_nan(update["tokenCount"]):
        update["tokenCount"] = 0
    to_set = strict_set("messages", update)
    to_set["updatedAt"] = now
    query = {"messageId": message.get("messageId"), "user": owner}
    try:
        return db.messages.find_one_and_update(
            query,
            {"$set": to_set, "$setOnInsert": on_insert("messages", set(to_set), now)},
            projection=HIDDEN,
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        existing = db.messages.find_one(query, HIDDEN)
        if existing is not None:
            return existing
        return {**message, "messageId": message.get("messageId"), "user": owner}


def update_text(db: Database, *, user: str, message_id: str, text: str) -> dict[str, int]:
    """`updateMessageText`: `updateOne({messageId, user}, {text})` (+ updatedAt). LibreChat
    returns nothing; the observation is the driver's matched/modified counts."""
    result = db.messages.update_one(
        {"messageId": message_id, "user": string_owner(user)},
        {"$set": {"text": text, "updatedAt": utcnow()}},
    )
    return {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}


def delete_since(
    db: Database, *, user: str, message_id: str, conversation_id: str
) -> dict[str, Any] | None:
    """`deleteMessagesSince` (edit / regenerate): the user's message by `{messageId, user}`,
    then `deleteMany({conversationId, user, createdAt: {$gt: message.createdAt}})`.

    Quirks kept: the conversationId is the caller's, not the message's; a message without
    createdAt (imported) gives `$gt: null`, which matches nothing; a string createdAt (written
    raw) is cast to a Date by the Date path, so it never matches string-dated siblings.
    Unknown message ⇒ undefined.
    """
    owner = string_owner(user)
    message = db.messages.find_one({"messageId": message_id, "user": owner})
    if message is None:
        return None
    since = cast_date(message.get("createdAt"), "createdAt")
    result = db.messages.delete_many(
        {"conversationId": conversation_id, "user": owner, "createdAt": {"$gt": since}}
    )
    return {"acknowledged": result.acknowledged, "deletedCount": result.deleted_count}


def bulk_save(
    db: Database, *, messages: list[dict], override_timestamp: bool = False
) -> dict[str, Any]:
    """`bulkSaveMessages` (import, fork, duplicate): one upsert `updateOne` per message keyed by
    `{messageId}` only (no user), the message as a plain update (⇒ strict `$set`),
    `timestamps: !overrideTimestamp`."""
    if not messages:
        return empty_bulk_result()
    now = utcnow()
    requests = []
    for msg in messages:
        to_set = strict_set("messages", msg)
        if "user" in to_set:
            to_set["user"] = string_owner(to_set["user"])
        if not override_timestamp:
            to_set["updatedAt"] = now
        insert = on_insert("messages", set(to_set), now, timestamps=not override_timestamp)
        update = {"$setOnInsert": insert, **({"$set": to_set} if to_set else {})}
        requests.append(UpdateOne({"messageId": msg.get("messageId")}, update, upsert=True))
    return bulk_result(db.messages.bulk_write(requests))
