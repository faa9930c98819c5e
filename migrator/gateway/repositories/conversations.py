"""Conversation and ConversationTag repositories (IConversationRepository,
IConversationTagRepository, docs/librechat.md §6).

Both chat repositories share ``ChatSchemaMixin``: two schema behaviours the base repository
does not (yet) have, kept here so these repositories behave like the Mongoose model.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from migrator import model
from migrator.gateway.repository import Doc, Repository, parse_date, utcnow

# getConvosByCursor's `.select(...)` (B).
LIST_FIELDS = (
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
)


class ChatSchemaMixin(Repository):
    """Schema behaviours on top of the base repository:

    - a string on a Date path that JS ``new Date()`` cannot parse is a CastError (§1 #4);
      the base leaves it as a string, which then matches raw string dates instead of failing;
    - an upsert whose update sets ``__v`` itself gets no ``$setOnInsert.__v`` (Mongoose's
      decorateUpdateWithVersionKey), which would otherwise conflict on the server.
    """

    def cast_value(self, field: str, value: Any) -> Any:
        if field.split(".", 1)[0] in self.date_fields and isinstance(value, str):
            parsed = parse_date(value)
            if not isinstance(parsed, datetime):
                raise model.CastError(field, value, "date")
            return parsed
        return super().cast_value(field, value)

    def update_doc(
        self, update: Mapping[str, Any], *, upsert: bool, now: datetime, timestamps: bool = True
    ) -> Doc:
        ops = super().update_doc(update, upsert=upsert, now=now, timestamps=timestamps)
        sets_version = any("__v" in ops.get(op, {}) for op in ("$set", "$inc", "$unset"))
        if upsert and sets_version and "$setOnInsert" in ops:
            ops["$setOnInsert"].pop("__v", None)
            if not ops["$setOnInsert"]:
                del ops["$setOnInsert"]
        return ops

    def owner(self, user: Any) -> Any:
        """The String-path cast of an owner (an ObjectId becomes its hex, §1 #2)."""
        return self.cast_value("user", user)

    def bulk_upsert(
        self, items: Sequence[Mapping[str, Any]], keys: Sequence[str], *, timestamps: bool
    ) -> dict[str, Any]:
        """Mongoose ``bulkWrite`` of ``updateOne({keys…}, item, {upsert: true})`` per item."""
        if not items:
            return {
                "insertedCount": 0,
                "matchedCount": 0,
                "modifiedCount": 0,
                "deletedCount": 0,
                "upsertedCount": 0,
                "upsertedIds": {},
            }
        now = utcnow()
        requests = [
            UpdateOne(
                self.filter({k: item.get(k) for k in keys}),
                self.update_doc(item, upsert=True, now=now, timestamps=timestamps),
                upsert=True,
            )
            for item in items
        ]
        result = self.bulk_write(requests)
        return {
            "insertedCount": result.inserted_count,
            "matchedCount": result.matched_count,
            "modifiedCount": result.modified_count,
            "deletedCount": result.deleted_count,
            "upsertedCount": result.upserted_count,
            "upsertedIds": {str(k): v for k, v in (result.upserted_ids or {}).items()},
        }


class ConversationRepository(ChatSchemaMixin):
    collection_name = "conversations"

    def find_by_conversation_id(
        self, conversation_id: str, user: Any = None, select: Mapping[str, int] | None = None
    ) -> Doc | None:
        query: dict[str, Any] = {"conversationId": conversation_id}
        if user is not None:
            query["user"] = user
        return self.find_one(query, select)

    def get_convos_by_cursor(
        self,
        user: Any,
        *,
        cursor: str | None = None,
        limit: int = 25,
        is_archived: bool = False,
        tags: Any = None,
        order: str = "desc",
    ) -> tuple[list[Doc], Doc | None]:
        """One sidebar page and the extra row that tells there is a next page (or None).

        The extra row is *not* returned: LibreChat B builds its next cursor from it, so the
        caller reproduces the popped-row cursor of §4.2.
        """
        clauses: list[dict[str, Any]] = [{"user": user}]
        if is_archived:
            clauses.append({"isArchived": True})
        else:
            clauses.append({"$or": [{"isArchived": False}, {"isArchived": {"$exists": False}}]})
        if isinstance(tags, list) and tags:
            clauses.append({"tags": {"$in": tags}})
        clauses.append({"$or": [{"expiredAt": None}, {"expiredAt": {"$exists": False}}]})
        if cursor:
            clauses.append({"updatedAt": {"$lt": cursor}})
        rows = self.find(
            {"$and": clauses},
            select=dict.fromkeys(LIST_FIELDS, 1),
            sort={"updatedAt": 1 if order == "asc" else -1},
            limit=limit + 1,
        )
        extra = rows.pop() if len(rows) > limit else None
        return rows, extra

    def get_convo_files(self, conversation_id: str) -> list[str]:
        found = self.find_one({"conversationId": conversation_id}, {"files": 1})
        files = found.get("files") if found else None
        return [] if files is None else files

    def count_user_conversations(self, user: Any) -> int:
        return self.count({"user": user})

    def save_convo(
        self,
        conversation_id: str,
        user: Any,
        data: Mapping[str, Any],
        unset_fields: Mapping[str, Any] | None = None,
    ) -> Doc | None:
        """Upsert keyed by ``{conversationId, user}``: ``$set`` the data, optional ``$unset``."""
        update: dict[str, Any] = {"$set": dict(data)}
        if unset_fields:
            update["$unset"] = dict(unset_fields)
        return self.find_one_and_update(
            {"conversationId": conversation_id, "user": user}, update, upsert=True
        )

    def conversation_ids(self, query: Mapping[str, Any]) -> list[str]:
        rows = self.find(query, select={"conversationId": 1})
        return [r.get("conversationId") for r in rows]  # a missing id is kept, as in JS

    def bulk_save_convos(self, conversations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Import / fork / duplicate: upserts keyed by ``{conversationId, user}``, no
        timestamps."""
        return self.bulk_upsert(conversations, ("conversationId", "user"), timestamps=False)


class ConversationTagRepository(ChatSchemaMixin):
    collection_name = "conversationtags"

    def get_user_tags(self, user: Any) -> list[Doc]:
        return self.find({"user": user}, sort={"position": 1})

    def find_user_tag(self, user: Any, tag: str) -> Doc | None:
        return self.find_one({"user": user, "tag": tag})

    def get_max_position(self, user: Any) -> int:
        top = self.find_one({"user": user}, {"position": 1}, sort={"position": -1})
        return int(top.get("position", 0)) if top else 0


__all__ = ["ChatSchemaMixin", "ConversationRepository", "ConversationTagRepository"]
