"""Conversations: sidebar pages, one conversation, its files, counts, save / archive / rename /
delete / bulk save (docs/librechat.md §4.2, column B).

``legacy`` is direct pymongo calls spelling out what Mongoose does in LibreChat B's
``api/models/Conversation.js``; ``gateway`` (``gw_*``) calls the Conversation and Message
repositories only.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from migrator.services.base import Operation
from migrator.services.conversations import gateway, inputs, legacy
from migrator.services.messages import WRITE_RULES  # chat documents: the same volatile fields

OPERATIONS = [
    Operation(
        "conversations.list_page",
        "read",
        legacy.list_page,
        gateway.gw_list_page,
        inputs.list_args,
        hazards={
            **dict.fromkeys(inputs.CONVERSATION_HAZARDS, "user"),
            "many_conversations": "user",
        },
    ),
    Operation(
        "conversations.get",
        "read",
        legacy.get,
        gateway.gw_get,
        inputs.convo_args,
        hazards=dict.fromkeys(inputs.CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.find_owner",
        "read",
        legacy.find_owner,
        gateway.gw_find_owner,
        inputs.conversation_ids,
        hazards=dict.fromkeys(inputs.CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.files",
        "read",
        legacy.files,
        gateway.gw_files,
        inputs.conversation_ids,
        hazards=dict.fromkeys(inputs.CONVERSATION_HAZARDS, "conversationId"),
    ),
    Operation(
        "conversations.count_by_user",
        "read",
        legacy.count_by_user,
        gateway.gw_count_by_user,
        inputs.user_args,
        hazards={"many_conversations": "user"},
    ),
    Operation(
        "conversations.save",
        "write",
        legacy.save,
        gateway.gw_save,
        inputs.save_args,
        rules=WRITE_RULES,
        footprint=inputs.save_footprint,
        hazards={"orphan_messages": "conversationId"},
    ),
    Operation(
        "conversations.archive",
        "write",
        legacy.archive,
        gateway.gw_archive,
        inputs.archive_args,
        rules=WRITE_RULES,
        footprint=inputs.save_footprint,
    ),
    Operation(
        "conversations.rename",
        "write",
        legacy.rename,
        gateway.gw_rename,
        inputs.rename_args,
        rules=WRITE_RULES,
        footprint=inputs.save_footprint,
    ),
    Operation(
        "conversations.delete",
        "write",
        legacy.delete,
        gateway.gw_delete,
        inputs.delete_args,
        rules=WRITE_RULES,
        footprint=inputs.delete_footprint,
    ),
    Operation(
        "conversations.bulk_save",
        "write",
        legacy.bulk_save,
        gateway.gw_bulk_save,
        inputs.bulk_args,
        rules=WRITE_RULES,
        footprint=inputs.bulk_footprint,
    ),
]
