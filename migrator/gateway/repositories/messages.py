"""Message repository (IMessageRepository, docs/librechat.md §6).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from migrator.gateway.repositories.conversations import ChatSchemaMixin
from migrator.gateway.repository import Doc, utcnow


class MessageRepository(ChatSchemaMixin):
    collection_name = "messages"

    # -- reads ---------------------------------------------------------------------------------

    def get_messages(
        self, query: Mapping[str, Any], select: Mapping[str, int] | None = None
    ) -> list[Doc]:
        """LibreChat's ``getMessages``: a filter, optional select, always ``createdAt`` asc."""
        return self.find(query, select=select, sort={"createdAt": 1})

    def find_by_conversation_id(
        self, conversation_id: str, select: Mapping[str, int] | None = None
    ) -> list[Doc]:
        return self.get_messages({"conversationId": conversation_id}, select)

    def get_messages_page(
        self,
        conversation_id: str,
        user: Any,
        *,
        cursor: Any = None,
        sort_field: str = "createdAt",
        descending: bool = True,
        page_size: int = 25,
    ) -> tuple[list[Doc], Any]:
        """A page of one user's conversation and the sort value of the row after it.

        Like B, the value is read from the extra row fetched with ``limit(page_size + 1)``
        (the popped-row cursor of §4.3): the caller passes it back as ``cursor``.
        """
        query: dict[str, Any] = {"conversationId": conversation_id, "user": user}
        if cursor:
            query[sort_field] = {"$lt" if descending else "$gt": cursor}
        rows = self.find(query, sort={sort_field: -1 if descending else 1}, limit=page_size + 1)
        if len(rows) <= page_size:
            return rows, None
        return rows, rows.pop().get(sort_field)

    def find_by_message_id(
        self, message_id: str, user: Any, conversation_id: str | None = None
    ) -> Doc | None:
        query: dict[str, Any] = {"messageId": message_id, "user": user}
        if conversation_id is not None:
            query["conversationId"] = conversation_id
        return self.find_one(query)

    def message_ids_of(self, conversation_id: str) -> list[Any]:
        """The ``_id``s of a conversation's messages in ``createdAt`` order (for saveConvo)."""
        return [
            m["_id"] for m in self.get_messages({"conversationId": conversation_id}, {"_id": 1})
        ]

    def count_conversation_messages(self, conversation_id: str) -> int:
        return self.count({"conversationId": conversation_id})

    def count_user_messages(self, user: Any) -> int:
        return self.count({"user": user})

    # -- writes --------------------------------------------------------------------------------

    def save_message(self, message_id: str, user: Any, data: Mapping[str, Any]) -> Doc | None:
        """Upsert keyed by ``{messageId, user}``; the data (with ``user``) is ``$set``."""
        owner = self.owner(user)
        return self.find_one_and_update(
            {"messageId": message_id, "user": owner}, {**data, "user": owner}, upsert=True
        )

    def update_message_text(self, message_id: str, user: Any, text: str) -> dict[str, int]:
        result = self.collection.update_one(
            self.filter({"messageId": message_id, "user": user}),
            self.update_doc({"text": text}, upsert=False, now=utcnow()),
            session=self.session,
        )
        return {"matchedCount": result.matched_count, "modifiedCount": result.modified_count}

    def delete_messages_since(self, message_id: str, conversation_id: str, user: Any) -> int | None:
        """Delete the user's messages of ``conversation_id`` created after ``message_id``;
        None when the user has no such message."""
        anchor = self.find_by_message_id(message_id, user)
        if anchor is None:
            return None
        return self.delete_many(
            {
                "conversationId": conversation_id,
                "user": user,
                "createdAt": {"$gt": anchor.get("createdAt")},
            }
        )

    def delete_by_conversation_ids(self, conversation_ids: Sequence[str]) -> int:
        return self.delete_many({"conversationId": {"$in": list(conversation_ids)}})

    def bulk_save_messages(
        self, messages: Sequence[Mapping[str, Any]], *, override_timestamp: bool = False
    ) -> dict[str, Any]:
        """Import / fork: upserts keyed by ``{messageId}`` alone."""
        return self.bulk_upsert(messages, ("messageId",), timestamps=not override_timestamp)


__all__ = ["MessageRepository"]
