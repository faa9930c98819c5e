"""Entity name -> repository class (the names of the TypeScript gateway's registry, §6).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import importlib

from migrator.gateway.repository import Repository

REGISTRY: dict[str, str] = {
    "User": "auth:UserRepository",
    "Session": "auth:SessionRepository",
    "Token": "auth:TokenRepository",
    "Balance": "auth:BalanceRepository",
    "Conversation": "conversations:ConversationRepository",
    "ConversationTag": "conversations:ConversationTagRepository",
    "Message": "messages:MessageRepository",
    "File": "files:FileRepository",
    "Transaction": "transactions:TransactionRepository",
    "Agent": "agents:AgentRepository",
    "AclEntry": "agents:AclEntryRepository",
    "Prompt": "prompts:PromptRepository",
    "PromptGroup": "prompts:PromptGroupRepository",
}


def repository_class(name: str) -> type[Repository]:
    target = REGISTRY[name]
    module, cls = target.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)
