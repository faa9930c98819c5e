"""Messages, the gateway path: the Message repository only."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.messages.shared import PAGE_SIZE, SORT_FIELDS, temp_expiry


def gw_by_conversation(gw: DbGateway, *, conversation_id: str) -> list[dict]:
    return gw.get_repository("Message").find_by_conversation_id(
        conversation_id, select={"_id": 0, "__v": 0, "user": 0}
    )


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


def gw_get_one(
    gw: DbGateway, *, conversation_id: str, message_id: str, user: str
) -> dict[str, Any]:
    found = gw.get_repository("Message").find_by_message_id(
        message_id, user, conversation_id=conversation_id
    )
    return {"messages": [] if found is None else [found], "nextCursor": None}


def gw_count_by_conversation(gw: DbGateway, *, conversation_id: str) -> int:
    return gw.get_repository("Message").count_conversation_messages(conversation_id)


def gw_count_by_user(gw: DbGateway, *, user: Any) -> int:
    return gw.get_repository("Message").count_user_messages(user)


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


def gw_update_text(gw: DbGateway, *, user: str, message_id: str, text: str) -> dict[str, int]:
    return gw.get_repository("Message").update_message_text(message_id, user, text)


def gw_delete_since(
    gw: DbGateway, *, user: str, message_id: str, conversation_id: str
) -> dict[str, Any] | None:
    deleted = gw.get_repository("Message").delete_messages_since(message_id, conversation_id, user)
    return None if deleted is None else {"acknowledged": True, "deletedCount": deleted}


def gw_bulk_save(
    gw: DbGateway, *, messages: list[dict], override_timestamp: bool = False
) -> dict[str, Any]:
    return gw.get_repository("Message").bulk_save_messages(
        messages, override_timestamp=override_timestamp
    )
