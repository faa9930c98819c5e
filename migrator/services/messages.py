"""Messages: load, page, count, save, edit, delete-since, bulk save (docs/librechat.md §4.3, B).

Legacy functions are direct pymongo calls spelling out what Mongoose does in LibreChat B's
``api/models/Message.js`` and ``api/server/routes/messages.js``; gateway functions (``gw_*``)
call the Message repository only.

The module also holds the hand-written Mongoose behaviours both chat areas' legacy paths share
(JS date parsing, strict ``$set``, upsert defaults); ``conversations`` imports them.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.base import Args, Operation, Sampler

UNKNOWN_USER = "5f0000000000000000000000"  # a well-formed user id no seeded document has
UNKNOWN_UUID = "00000000-dead-4bee-8000-000000000000"  # no seeded conversation/message has it
PAGE_SIZE = 25  # GET /api/messages: `parseInt(pageSize) || 25`
SORT_FIELDS = ("endpoint", "createdAt", "updatedAt")  # the route's whitelist for `sortBy`
# B's `interface.temporaryChatRetention` default (720 h = 30 days), §4.2.
TEMP_CHAT_RETENTION = timedelta(hours=720)
# zod 3 `z.string().uuid()` (saveMessage's `idSchema`): any version, either case, nil allowed.
ZOD_UUID = re.compile(
    r"^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$"
)
_JS_NUMBER = re.compile(
    r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|0[xX][0-9a-fA-F]+|0[oO][0-7]+"
    r"|0[bB][01]+"
)


# --- Mongoose behaviours, by hand (§1) -------------------------------------------------------


def js_date(value: Any, path: str) -> Any:
    """Mongoose's cast of a value on a Date path (§1 #4): a string goes through JS
    ``new Date(str)``; an Invalid Date is a CastError. null/undefined stay null.

    Covers the ISO forms B's cursors carry (``toISOString()``); a date-time without an offset
    is read as UTC (JS would use the server's zone, UTC in LibreChat's images). JS's
    ``Date.toString()`` form (N's message cursors) is not parsed here."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise model.CastError(path, value, "date") from None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)  # JS: ms
    return value


def iso(value: datetime) -> str:
    """JS ``Date.prototype.toISOString()``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def string_owner(user: Any) -> Any:
    """`user` is a String path on conversations/messages: Mongoose casts an ObjectId to its hex
    (user-stats passes `user._id`) and never casts the other way (§1 #2)."""
    return str(user) if isinstance(user, ObjectId) else user


def strict_set(collection: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """`strict` (§1 #6): unknown top-level keys are dropped, Date paths cast, and `createdAt`
    dropped because timestamps make it immutable (§1 #7, belief)."""
    fields = model.SCHEMA_FIELDS[collection]
    dates = model.DATE_FIELDS[collection]
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields or key == "createdAt":
            continue
        out[key] = js_date(value, key) if key in dates else value
    return out


def on_insert(
    collection: str, touched: set[str], now: datetime, *, timestamps: bool = True
) -> dict[str, Any]:
    """What Mongoose adds with `$setOnInsert` on an upsert: schema defaults of paths no
    operator of the update names (setDefaultsOnInsert, §1 #8), `createdAt` (§1 #7) and
    `__v: 0` unless the update sets `__v` itself (decorateUpdateWithVersionKey)."""
    out = {
        k: v
        for k, v in model.materialize(model.DEFAULTS[collection], now).items()
        if k not in touched
    }
    if timestamps:
        out["createdAt"] = now
    if "__v" not in touched:
        out["__v"] = 0
    return out


def js_is_nan(value: Any) -> bool:
    """JS global ``isNaN(value)``: true when ``Number(value)`` is NaN."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return isinstance(value, float) and math.isnan(value)
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and _JS_NUMBER.fullmatch(text) is None
    return True  # objects (other than [] / [n], which nobody sends) convert to NaN


def temp_expiry(now: datetime) -> datetime:
    """`createTempChatExpirationDate`: now + the retention (default 720 h)."""
    return now + TEMP_CHAT_RETENTION


def bulk_result(result: Any) -> dict[str, Any]:
    """The counts of Mongoose's bulkWrite result (a driver BulkWriteResult)."""
    return {
        "insertedCount": result.inserted_count,
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "deletedCount": result.deleted_count,
        "upsertedCount": result.upserted_count,
        "upsertedIds": {str(i): _id for i, _id in (result.upserted_ids or {}).items()},
    }


def empty_bulk_result() -> dict[str, Any]:
    """Mongoose answers an empty bulkWrite itself, without calling the server."""
    counts = ("insertedCount", "matchedCount", "modifiedCount", "deletedCount", "upsertedCount")
    return {**dict.fromkeys(counts, 0), "upsertedIds": {}}


HIDDEN = model.MESSAGE_DEFAULT_PROJECTION  # {_meiliIndex: 0}: select:false (§1 #10)
# GET /api/messages/:conversationId selects '-_id -__v -user'; _meiliIndex stays hidden.
LOAD_PROJECTION = {"_id": 0, "__v": 0, "user": 0, **HIDDEN}


# --- reads ----------------------------------------------------------------------------------


def by_conversation(db: Database, *, conversation_id: str) -> list[dict]:
    """Load a conversation: `getMessages({conversationId}, '-_id -__v -user')`, createdAt asc.

    LibreChat B quirk: no `user` filter (the route's getConvo middleware checks ownership), so
    another user's messages under the same conversationId come back too.
    """
    cursor = db.messages.find({"conversationId": conversation_id}, LOAD_PROJECTION)
    return list(cursor.sort("createdAt", 1))


def gw_by_conversation(gw: DbGateway, *, conversation_id: str) -> list[dict]:
    return gw.get_repository("Message").find_by_conversation_id(
        conversation_id, select={"_id": 0, "__v": 0, "user": 0}
    )


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
        value = js_date(cursor, field) if field in model.DATE_FIELDS["messages"] else cursor
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


def gw_list_page(
    gw: DbGateway,
    *,
    conversation_id: str,
    user: str,
    cursor: str | None = None,
    sort_by: str = "createdAt",
    sort_direction: str = "desc",
    page_size: Any = None,
) -> dict[str, Any]:
    size = _leading_int(page_size) or PAGE_SIZE
    field = sort_by if sort_by in SORT_FIELDS else "createdAt"
    messages, next_value = gw.get_repository("Message").get_messages_page(
        conversation_id,
        user,
        cursor=cursor,
        sort_field=field,
        descending=sort_direction != "asc",
        page_size=size,
    )
    if isinstance(next_value, datetime):
        next_value = next_value.isoformat(timespec="milliseconds") + "Z"
    return {"messages": messages, "nextCursor": next_value}


def _leading_int(raw: Any) -> int:
    """The integer a query-string value starts with (0 when none)."""
    text = "" if raw is None else str(raw).lstrip()
    sign = 1
    if text[:1] in ("+", "-"):
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    digits = "".join(itertools.takewhile(lambda c: c in "0123456789", text))
    return sign * int(digits) if digits else 0


def get_one(db: Database, *, conversation_id: str, message_id: str, user: str) -> dict[str, Any]:
    """`GET /api/messages?conversationId&messageId`: `findOne({conversationId, messageId,
    user})`, answered as a one-row page."""
    found = db.messages.find_one(
        {"conversationId": conversation_id, "messageId": message_id, "user": string_owner(user)},
        HIDDEN,
    )
    return {"messages": [found] if found else [], "nextCursor": None}


def gw_get_one(
    gw: DbGateway, *, conversation_id: str, message_id: str, user: str
) -> dict[str, Any]:
    found = gw.get_repository("Message").find_by_message_id(
        message_id, user, conversation_id=conversation_id
    )
    return {"messages": [] if found is None else [found], "nextCursor": None}


def count_by_conversation(db: Database, *, conversation_id: str) -> int:
    """Messages in a conversation: `countDocuments({conversationId})` — like B's load, no user
    filter (LibreChat core has no such count; the conversation's `messages` array mirrors it)."""
    return db.messages.count_documents({"conversationId": conversation_id})


def gw_count_by_conversation(gw: DbGateway, *, conversation_id: str) -> int:
    return gw.get_repository("Message").count_conversation_messages(conversation_id)


def count_by_user(db: Database, *, user: Any) -> int:
    """`config/user-stats.js`: `countDocuments({user: user._id})` — the ObjectId is cast to the
    String path's hex."""
    return db.messages.count_documents({"user": string_owner(user)})


def gw_count_by_user(gw: DbGateway, *, user: Any) -> int:
    return gw.get_repository("Message").count_user_messages(user)


# --- writes ---------------------------------------------------------------------------------


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


def gw_save(
    gw: DbGateway, *, user: str, message: dict, is_temporary: bool = False
) -> dict[str, Any] | None:
    conversation_id = message.get("conversationId")
    try:
        valid = isinstance(conversation_id, str) and len(conversation_id) == 36
        valid = valid and str(uuid.UUID(conversation_id)) == conversation_id.lower()
    except ValueError:
        valid = False
    if not valid:
        return None
    repo = gw.get_repository("Message")
    data = {k: v for k, v in message.items() if k != "newMessageId"}
    data["messageId"] = message.get("newMessageId") or message.get("messageId")
    data["expiredAt"] = temp_expiry(utcnow()) if is_temporary else None
    count = data.get("tokenCount")
    if count is not None and _not_a_number(count):
        data["tokenCount"] = 0
    try:
        return repo.save_message(message.get("messageId"), user, data)
    except DuplicateKeyError:
        existing = repo.find_by_message_id(message.get("messageId"), user)
        if existing is not None:
            return existing
        return {**message, "messageId": message.get("messageId"), "user": repo.owner(user)}


def _not_a_number(value: Any) -> bool:
    """`isNaN(x)` as JS computes `Number(x)`: numbers are themselves, strings are numeric
    literals (decimal, Infinity, 0x/0o/0b) or NaN, null/booleans are numbers."""
    if value is None or isinstance(value, bool | int):
        return False
    if isinstance(value, float):
        return math.isnan(value)
    if not isinstance(value, str):
        return True
    text = value.strip()
    if text in ("", "Infinity", "+Infinity", "-Infinity"):
        return False
    if "_" in text or text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        return True  # Python's float() accepts these, JS's Number() does not
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if text[:2].lower() == prefix:
            try:
                int(text[2:], base)
                return False
            except ValueError:
                return True
    try:
        float(text)
        return False
    except ValueError:
        return True


def update_text(db: Database, *, user: str, message_id: str, text: str) -> dict[str, int]:
    """`updateMessageText`: `updateOne({messageId, user}, {text})` (+ updatedAt). LibreChat
    returns nothing; the observation is the driver's matched/modified counts."""
    result = db.messages.update_one(
        {"messageId": message_id, "user": string_owner(user)},
        {"$set": {"text": text, "updatedAt": utcnow()}},
    )
    return {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}


def gw_update_text(gw: DbGateway, *, user: str, message_id: str, text: str) -> dict[str, int]:
    return gw.get_repository("Message").update_message_text(message_id, user, text)


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
    since = js_date(message.get("createdAt"), "createdAt")
    result = db.messages.delete_many(
        {"conversationId": conversation_id, "user": owner, "createdAt": {"$gt": since}}
    )
    return {"acknowledged": result.acknowledged, "deletedCount": result.deleted_count}


def gw_delete_since(
    gw: DbGateway, *, user: str, message_id: str, conversation_id: str
) -> dict[str, Any] | None:
    deleted = gw.get_repository("Message").delete_messages_since(message_id, conversation_id, user)
    return None if deleted is None else {"acknowledged": True, "deletedCount": deleted}


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


def gw_bulk_save(
    gw: DbGateway, *, messages: list[dict], override_timestamp: bool = False
) -> dict[str, Any]:
    return gw.get_repository("Message").bulk_save_messages(
        messages, override_timestamp=override_timestamp
    )


# --- samplers -------------------------------------------------------------------------------


def _conversations(s: Sampler, n: int | None = -1) -> list[dict]:
    return s.pick("conversations", fields=("conversationId", "user"), n=n)


# Planted hazards whose refs carry a message's conversation (migrator.seed.hazards).
ODD_HAZARDS = ("messages_without_timestamps", "string_created_at", "orphan_messages")
THREAD_HAZARDS = (
    *ODD_HAZARDS, "long_conversation", "temporary_conversations", "legacy_message_plugin",
    "messages_updated_later",
)  # fmt: skip


def _odd_conversation_ids(s: Sampler) -> list[str]:
    """Conversation ids of the §8 hazards: imported rows without createdAt, raw string dates,
    orphan messages — from the seed's manifest, else a few random probes."""
    out = [cid for h in ODD_HAZARDS for cid in s.ref_values(h, "conversationId")[:1]]
    if out:
        return out
    for query in ({"createdAt": {"$exists": False}}, {"createdAt": {"$type": "string"}}):
        out += [m["conversationId"] for m in s.probe("messages", query, ("conversationId",))]
    return out + s.orphans("messages", "conversationId", "conversations")


def _planted_threads(s: Sampler) -> list[dict]:
    return [
        {"conversationId": r["conversationId"], "user": r.get("user")}
        for h in THREAD_HAZARDS
        for r in s.hazard_refs(h)[:1]
        if r.get("conversationId")
    ]


def _by_conversation_args(s: Sampler) -> list[Args]:
    planted = [t["conversationId"] for t in _planted_threads(s)]
    ids = [*planted, *(c["conversationId"] for c in _conversations(s))]
    ids = list(dict.fromkeys([*ids, *_odd_conversation_ids(s)]))
    return [{"conversation_id": cid} for cid in [*ids, UNKNOWN_UUID, ""]]


def _owned(s: Sampler, cid: str) -> str | None:
    doc = s.db.messages.find_one({"conversationId": cid}, {"user": 1})
    return doc.get("user") if doc else None


def _long_threads(s: Sampler, k: int = 2) -> list[tuple[str, str]]:
    """(conversationId, user) of long conversations: the planted one, then the threads of
    random messages (drawn in proportion to their length)."""
    planted = [(r["conversationId"], r["user"]) for r in s.hazard_refs("long_conversation")]
    drawn = s.pick("messages", {"createdAt": {"$type": "date"}}, ("conversationId", "user"), 6)
    pairs = [*planted, *((m["conversationId"], m.get("user")) for m in drawn)]
    return list(dict.fromkeys(pairs))[:k]


def _page_args(s: Sampler) -> list[Args]:
    convos = _conversations(s)
    out: list[Args] = [
        {"conversation_id": c["conversationId"], "user": c["user"]}
        for c in [*_planted_threads(s), *convos]
    ]
    # Long conversations paged 3 at a time with the real next cursor of their first page.
    for cid, user in _long_threads(s):
        base = {"conversation_id": cid, "user": user, "page_size": "3"}
        for variant in (
            {},
            {"sort_by": "updatedAt", "sort_direction": "asc"},
            {"sort_by": "endpoint"},
        ):
            first = list_page(s.db, **base, **variant)
            out.append({**base, **variant})
            if first["nextCursor"] is not None:
                out.append({**base, **variant, "cursor": first["nextCursor"]})
    for cid in _odd_conversation_ids(s):
        owner = _owned(s, cid)
        out.append({"conversation_id": cid, "user": owner, "page_size": 1})
        out.append({"conversation_id": cid, "user": owner, "cursor": "2030-01-01T00:00:00.000Z"})
    if convos:  # someone else's conversation: the `user` filter must hide it
        other = s.db.conversations.find_one(
            {"user": {"$ne": convos[0]["user"]}}, {"conversationId": 1}, sort=[("_id", 1)]
        )
        if other is not None:
            out.append({"conversation_id": other["conversationId"], "user": convos[0]["user"]})
    if convos:
        first = {"conversation_id": convos[0]["conversationId"], "user": convos[0]["user"]}
        out += [
            {**first, "cursor": "1970-01-01T00:00:00.000Z"},  # a cursor past the end
            {**first, "cursor": "not-a-date"},  # Invalid Date: CastError
            {**first, "sort_by": "bogus", "sort_direction": "sideways", "page_size": "abc"},
            {**first, "user": ObjectId(first["user"])},  # ObjectId cast to the String path
        ]
    return [*out, {"conversation_id": UNKNOWN_UUID, "user": UNKNOWN_USER}]


def _get_one_args(s: Sampler) -> list[Args]:
    planted = [
        r for h in ("legacy_message_plugin", "messages_without_timestamps", "string_created_at")
        for r in s.hazard_refs(h)[:1] if r.get("messageId")
    ]  # fmt: skip
    found = [*planted, *s.pick("messages", fields=("conversationId", "messageId", "user"))]
    out = [
        {"conversation_id": m["conversationId"], "message_id": m["messageId"], "user": m["user"]}
        for m in found
    ]
    if found:
        first = out[0]
        out += [
            {**first, "user": UNKNOWN_USER},  # another user's message
            {**first, "conversation_id": UNKNOWN_UUID},  # right message, wrong conversation
            {**first, "message_id": first["message_id"].upper()},  # ids are case-sensitive
        ]
    return out


def _count_conversation_args(s: Sampler) -> list[Args]:
    return _by_conversation_args(s)


def _count_user_args(s: Sampler) -> list[Args]:
    users = [str(u["_id"]) for u in s.pick("users")]
    out: list[Args] = [{"user": u} for u in users]
    if users:
        out.append({"user": ObjectId(users[0])})  # user-stats passes the ObjectId
        out.append({"user": users[0].upper()})  # hex case matters on a String path
    return [*out, {"user": UNKNOWN_USER}, {"user": ""}]


def _new_uuid(s: Sampler) -> str:
    return str(uuid.UUID(int=s.rng.getrandbits(128), version=4))


def _save_args(s: Sampler) -> list[Args]:
    found = s.pick(
        "messages",
        {"createdAt": {"$type": "date"}},
        ("conversationId", "messageId", "user", "parentMessageId", "endpoint", "sender"),
    )
    out: list[Args] = []
    for i, m in enumerate(found):
        base = {k: m[k] for k in ("conversationId", "messageId", "parentMessageId") if k in m}
        if i % 3 == 0:  # the response message of the same turn, new
            msg = {
                **base,
                "messageId": _new_uuid(s),
                "parentMessageId": m["messageId"],
                "sender": "GPT-4o",
                "text": "A new answer.",
                "isCreatedByUser": False,
                "model": "gpt-4o",
                "endpoint": m.get("endpoint"),
                "tokenCount": 42,
                "unfinished": False,
                "error": False,
                "clientTimestamp": "not in the schema",
            }
        elif i % 3 == 1:  # the final save of a streamed response
            msg = {
                **base,
                "text": "Edited text",
                "tokenCount": float("nan"),
                "finish_reason": "stop",
            }
        else:  # an edit that renames the message id
            msg = {**base, "newMessageId": _new_uuid(s), "text": "renamed", "sender": "User"}
        out.append({"user": m["user"], "message": msg, "is_temporary": i % 4 == 3})
    if found:
        m = found[0]
        out += [
            # the id belongs to another user: E11000 on messageId_1 ⇒ params echoed back
            {"user": UNKNOWN_USER, "message": {"conversationId": m["conversationId"],
                                               "messageId": m["messageId"], "text": "x"}},
            # conversationId 'new' (not a UUID) is skipped
            {"user": m["user"], "message": {"conversationId": "new", "messageId": _new_uuid(s)}},
            {"user": m["user"], "message": {"conversationId": m["conversationId"].upper(),
                                            "messageId": _new_uuid(s), "tokenCount": None,
                                            "text": "upper-case conversation id"}},
        ]  # fmt: skip
    return out


def _update_text_args(s: Sampler) -> list[Args]:
    found = s.pick("messages", fields=("messageId", "user"))
    out: list[Args] = [
        {"user": m["user"], "message_id": m["messageId"], "text": f"edited {i}"}
        for i, m in enumerate(found)
    ]
    if found:
        out.append({"user": UNKNOWN_USER, "message_id": found[0]["messageId"], "text": "nope"})
    return [*out, {"user": UNKNOWN_USER, "message_id": UNKNOWN_UUID, "text": ""}]


def _delete_since_args(s: Sampler) -> list[Args]:
    found = s.pick("messages", fields=("messageId", "user", "conversationId"))
    odd = [
        r for h in ("messages_without_timestamps", "string_created_at")
        for r in s.hazard_refs(h)[:1] if r.get("messageId")
    ] or [
        m
        for query in ({"createdAt": {"$exists": False}}, {"createdAt": {"$type": "string"}})
        for m in s.probe("messages", query, ("messageId", "user", "conversationId"))
    ]  # fmt: skip
    out: list[Args] = [
        {"user": m["user"], "message_id": m["messageId"], "conversation_id": m["conversationId"]}
        for m in [*found, *odd]
    ]
    if found:
        out.append({**out[0], "user": UNKNOWN_USER})
    return [*out, {"user": UNKNOWN_USER, "message_id": UNKNOWN_UUID, "conversation_id": ""}]


def _bulk_save_args(s: Sampler) -> list[Args]:
    out: list[Args] = []
    for i, convo in enumerate(_conversations(s, n=2 if s.n is None else min(s.n, 3))):
        copies = list(
            s.db.messages.find({"conversationId": convo["conversationId"]}, {"_id": 0})
            .sort("createdAt", 1)
            .limit(4)
        )
        if not copies:
            continue
        fork = _new_uuid(s)  # forkConversation: the thread copied under new ids
        forked = [
            {**m, "messageId": _new_uuid(s), "conversationId": fork, "importedFrom": "fork"}
            for m in copies
        ]
        # plus one existing message re-saved (an update, not an insert)
        forked.append({**copies[0], "text": "re-imported", "__v": 0})
        out.append({"messages": forked, "override_timestamp": i % 2 == 1})
    return [*out, {"messages": []}]


def _footprint_ids(args: Args) -> dict[str, dict]:
    msg = args.get("message") or {}
    ids = [msg.get("messageId"), msg.get("newMessageId")]
    return {"messages": {"messageId": {"$in": [i for i in ids if i is not None]}}}


def _bulk_footprint(db: Database, args: Args) -> dict[str, dict]:
    ids = [m.get("messageId") for m in args["messages"]]
    return {"messages": {"messageId": {"$in": ids}}}


READ_RULES = Rules()
WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "expiredAt", "upsertedIds.*"))

OPERATIONS = [
    Operation(
        "messages.by_conversation",
        "read",
        by_conversation,
        gw_by_conversation,
        _by_conversation_args,
        READ_RULES,
        hazards=dict.fromkeys(THREAD_HAZARDS, "conversationId"),
    ),
    Operation(
        "messages.list_page",
        "read",
        list_page,
        gw_list_page,
        _page_args,
        READ_RULES,
        hazards=dict.fromkeys(THREAD_HAZARDS, "conversationId"),
    ),
    Operation(
        "messages.get_one",
        "read",
        get_one,
        gw_get_one,
        _get_one_args,
        READ_RULES,
        hazards={
            "legacy_message_plugin": "messageId",
            "messages_without_timestamps": "messageId",
            "string_created_at": "messageId",
        },
    ),
    Operation(
        "messages.count_by_conversation",
        "read",
        count_by_conversation,
        gw_count_by_conversation,
        _count_conversation_args,
        READ_RULES,
        hazards=dict.fromkeys(THREAD_HAZARDS, "conversationId"),
    ),
    Operation("messages.count_by_user", "read", count_by_user, gw_count_by_user, _count_user_args),
    Operation(
        "messages.save",
        "write",
        save,
        gw_save,
        _save_args,
        rules=WRITE_RULES,
        footprint=lambda db, a: _footprint_ids(a),
    ),
    Operation(
        "messages.update_text",
        "write",
        update_text,
        gw_update_text,
        _update_text_args,
        rules=WRITE_RULES,
        footprint=lambda db, a: {"messages": {"messageId": a["message_id"]}},
    ),
    Operation(
        "messages.delete_since",
        "write",
        delete_since,
        gw_delete_since,
        _delete_since_args,
        rules=WRITE_RULES,
        hazards={"messages_without_timestamps": "messageId", "string_created_at": "messageId"},
        footprint=lambda db, a: {
            "messages": {
                "$or": [{"messageId": a["message_id"]}, {"conversationId": a["conversation_id"]}]
            }
        },
    ),
    Operation(
        "messages.bulk_save",
        "write",
        bulk_save,
        gw_bulk_save,
        _bulk_save_args,
        rules=WRITE_RULES,
        footprint=_bulk_footprint,
    ),
]
