"""What both conversation paths share: the page size and the answers and errors of B's
``api/models/Conversation.js`` where it does not return a conversation."""

from __future__ import annotations

PAGE_LIMIT = 25  # the client never sends `limit`

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
