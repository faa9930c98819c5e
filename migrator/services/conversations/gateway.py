"""Conversations, the gateway path: the Conversation and Message repositories only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError

from migrator import model
from migrator.gateway.core import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services.conversations.shared import (
    GET_ERROR,
    LIST_ERROR,
    PAGE_LIMIT,
    SAVE_ERROR,
    BulkSaveFailed,
    ConversationNotFound,
)
from migrator.services.messages.shared import temp_expiry


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


def gw_get(gw: DbGateway, *, user: Any, conversation_id: str) -> dict | None:
    try:
        return gw.get_repository("Conversation").find_by_conversation_id(conversation_id, user)
    except PyMongoError:
        return dict(GET_ERROR)


def gw_find_owner(gw: DbGateway, *, conversation_id: str) -> dict | None:
    return gw.get_repository("Conversation").find_by_conversation_id(
        conversation_id, select={"conversationId": 1, "user": 1}
    )


def gw_files(gw: DbGateway, *, conversation_id: str) -> list:
    return gw.get_repository("Conversation").get_convo_files(conversation_id)


def gw_count_by_user(gw: DbGateway, *, user: Any) -> int:
    return gw.get_repository("Conversation").count_user_conversations(user)


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


def gw_archive(gw: DbGateway, *, user: Any, conversation_id: str, is_archived: bool = True) -> dict:
    return gw_save(
        gw, user=user, conversation={"conversationId": conversation_id, "isArchived": is_archived}
    )


def gw_rename(gw: DbGateway, *, user: Any, conversation_id: str, title: Any) -> dict:
    return gw_save(gw, user=user, conversation={"conversationId": conversation_id, "title": title})


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


def gw_bulk_save(gw: DbGateway, *, conversations: list[dict]) -> dict[str, Any]:
    try:
        return gw.get_repository("Conversation").bulk_save_convos(conversations)
    except (PyMongoError, model.CastError):
        raise BulkSaveFailed() from None
