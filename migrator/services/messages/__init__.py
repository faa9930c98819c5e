"""Messages: load, page, count, save, edit, delete-since, bulk save (docs/librechat.md §4.3, B).

``legacy`` is direct pymongo spelling out what Mongoose does in LibreChat B's
``api/models/Message.js`` and ``api/server/routes/messages.js``; ``gateway`` (``gw_*``) calls
the Message repository only. The hand-written Mongoose behaviours both chat areas' legacy paths
use (Date cast, strict ``$set``, upsert defaults) are in ``migrator.services.mongoose``.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from migrator.compare.rules import Rules
from migrator.services.base import Operation
from migrator.services.messages import gateway, inputs, legacy

WRITE_RULES = Rules(volatile=("_id", "createdAt", "updatedAt", "expiredAt", "upsertedIds.*"))

OPERATIONS = [
    Operation(
        "messages.by_conversation",
        "read",
        legacy.by_conversation,
        gateway.gw_by_conversation,
        inputs.by_conversation_args,
        hazards=dict.fromkeys(inputs.THREAD_HAZARDS, "conversationId"),
    ),
    Operation(
        "messages.list_page",
        "read",
        legacy.list_page,
        gateway.gw_list_page,
        inputs.page_args,
        hazards=dict.fromkeys(inputs.THREAD_HAZARDS, "conversationId"),
    ),
    Operation(
        "messages.get_one",
        "read",
        legacy.get_one,
        gateway.gw_get_one,
        inputs.get_one_args,
        hazards={
            "legacy_message_plugin": "messageId",
            "messages_without_timestamps": "messageId",
            "string_created_at": "messageId",
        },
    ),
    Operation(
        "messages.count_by_conversation",
        "read",
        legacy.count_by_conversation,
        gateway.gw_count_by_conversation,
        inputs.count_conversation_args,
        hazards=dict.fromkeys(inputs.THREAD_HAZARDS, "conversationId"),
    ),
    Operation(
        "messages.count_by_user",
        "read",
        legacy.count_by_user,
        gateway.gw_count_by_user,
        inputs.count_user_args,
    ),
    Operation(
        "messages.save",
        "write",
        legacy.save,
        gateway.gw_save,
        inputs.save_args,
        rules=WRITE_RULES,
        footprint=lambda db, a: inputs.footprint_ids(a),
    ),
    Operation(
        "messages.update_text",
        "write",
        legacy.update_text,
        gateway.gw_update_text,
        inputs.update_text_args,
        rules=WRITE_RULES,
        footprint=lambda db, a: {"messages": {"messageId": a["message_id"]}},
    ),
    Operation(
        "messages.delete_since",
        "write",
        legacy.delete_since,
        gateway.gw_delete_since,
        inputs.delete_since_args,
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
        legacy.bulk_save,
        gateway.gw_bulk_save,
        inputs.bulk_save_args,
        rules=WRITE_RULES,
        footprint=inputs.bulk_footprint,
    ),
]
