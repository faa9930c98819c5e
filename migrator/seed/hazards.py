"""The §8 data-consistency hazards the seed writes on purpose, and which users carry them.

Each hazard is planned on a small share of users ("carriers", at least one when the dataset is
big enough) so that even a 20-user seed contains every hazard; some also occur naturally at a
low rate. The generator counts every row it writes with a hazard.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator.model import HAZARD_MANIFEST


@dataclass(frozen=True)
class Hazard:
    name: str
    unit: str  # what `count` counts
    description: str
    # one carrier per this many users (at least one); None: written along with another hazard
    users_per_carrier: int | None


HAZARDS: tuple[Hazard, ...] = (
    Hazard(
        "mixed_case_email", "users", "email written raw with capitals while its lower-case twin "
        "exists; the unique email_1 index is case-sensitive (§8)", 100,
    ),
    Hazard(
        "orphan_messages", "messages", "messages whose conversationId has no conversation "
        "(crash between saveMessage and saveConvo, §8)", 50,
    ),
    Hazard(
        "orphan_files_conversation", "files", "files whose conversationId matches no "
        "conversation (§8)", 60,
    ),
    Hazard("orphan_files_user", "files", "files whose user matches no user (§8)", 80),
    Hazard(
        "messages_without_timestamps", "messages", "imported (ChatGPT) messages without "
        "createdAt/updatedAt: B's importer bulk-writes with timestamps off (§8)", 40,
    ),
    Hazard(
        "string_created_at", "messages", "messages whose createdAt/updatedAt are ISO strings "
        "written raw by another tool; $lt/$gt on dates never match them (§8)", 40,
    ),
    Hazard(
        "imported_conversation_without_expiredAt", "conversations", "imported conversations "
        "lacking expiredAt (absent, not null; §8); written with messages_without_timestamps",
        None,
    ),
    Hazard("archived_conversations", "conversations", "isArchived: true (§7: 1-3 %)", 60),
    Hazard(
        "temporary_conversations", "conversations", "temporary chats: expiredAt set (TTL) on "
        "the conversation and its messages (§4.2, §8)", 60,
    ),
    Hazard(
        "duplicate_balances", "balances", "a second balance document for the same user; "
        "balances.user is not unique and findOne picks either (§3.4, §8)", 100,
    ),
    Hazard(
        "legacy_message_plugin", "messages", "legacy gptPlugins responses carrying `plugin` "
        "(L/B-only path, §3.6)", 100,
    ),
    Hazard(
        "legacy_conversation_agentOptions", "conversations", "legacy gptPlugins conversations "
        "carrying `agentOptions` (L/B-only path, §3.5); written with legacy_message_plugin",
        None,
    ),
    Hazard(
        "tokens_without_type", "tokens", "email-verification / password-reset tokens without "
        "`type` (B shape; N expects a type and falls back to null, §3.3, §8)", 60,
    ),
    Hazard(
        "promptgroup_without_production", "promptgroups", "prompt group with productionId: "
        "null and no prompt (creation interrupted, §4.7, §8)", 200,
    ),
    Hazard(
        "expired_sessions", "sessions", "sessions past their expiration; a real server's TTL "
        "monitor removes them within a minute (§3.2)", 50,
    ),
    Hazard(
        "users_with_ttl", "users", "unverified local users carrying expiresAt (TTL 7 d after "
        "the value, §1 #13)", 60,
    ),
    Hazard(
        "authorless_agents", "agents", "agents (with their ACL entries) whose author no longer "
        "exists: user deletion leaves them behind (§8)", 200,
    ),
    # Shapes that expose order, limit and timestamp bugs (one carrier at any size).
    Hazard(
        "many_files", "files", "a user with more files than a plausible 100-row cap "
        "(getFiles has no limit)", 100_000,
    ),
    Hazard(
        "long_conversation", "messages", "a conversation with more messages than a plausible "
        "100-row cap (getMessages has no limit)", 100_000,
    ),
    Hazard(
        "many_transactions", "transactions", "a user with more transactions than a plausible "
        "100-row cap (getTransactions has no limit): the long conversation's spend", None,
    ),
    Hazard(
        "many_conversations", "conversations", "a user with more visible conversations than "
        "a sidebar page (25), several resumed long after they started", 100_000,
    ),
    Hazard(
        "conversations_updated_later", "conversations", "conversations resumed or renamed "
        "long after they started: updatedAt order differs from createdAt order", None,
    ),
    Hazard(
        "messages_updated_later", "messages", "messages edited or rated after they were "
        "written (updatedAt > createdAt)", None,
    ),
    Hazard(
        "files_updated_later", "files", "files used again after the upload (updatedAt > "
        "createdAt, so updatedAt order differs from createdAt order)", None,
    ),
    Hazard(
        "sort_key_ties", "agents", "public agents and prompt groups of one author sharing "
        "updatedAt, stored out of _id order: their order is the sort's second key (_id)",
        100_000,
    ),
)  # fmt: skip

BY_NAME: dict[str, Hazard] = {h.name: h for h in HAZARDS}
# A mixed-case twin copies the email of the user just before it, so carriers need index >= 2.
_MIN_INDEX = {"mixed_case_email": 2}


def plan_carriers(rng: random.Random, n_users: int) -> dict[str, frozenset[int]]:
    """For each hazard, the user indices that carry it (admin, index 0, carries none)."""
    plan: dict[str, frozenset[int]] = {}
    for hazard in HAZARDS:
        if hazard.users_per_carrier is None:
            continue
        low = _MIN_INDEX.get(hazard.name, 1)
        pool = list(range(low, n_users))
        if hazard.name == "mixed_case_email":
            pool = [i for i in pool if i % 2 == 1]  # twins (i - 1) are even: never carriers
        want = max(1, n_users // hazard.users_per_carrier)
        plan[hazard.name] = frozenset(rng.sample(pool, min(want, len(pool))))
    return plan


MAX_REFS = 3  # where each hazard is, as recorded in the manifest


class HazardCounter:
    """Counts hazardous rows as the generator writes them, and remembers where the first few
    are (``refs``: the identifiers an operation's input would carry, e.g. ``user``,
    ``conversationId``, ``file_id``) for the manifest."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {h.name: 0 for h in HAZARDS}
        self.refs: dict[str, list[dict[str, Any]]] = {h.name: [] for h in HAZARDS}

    def add(self, name: str, n: int = 1, ref: dict[str, Any] | None = None) -> None:
        if name not in self.counts:
            raise KeyError(f"unknown hazard {name!r}")
        self.counts[name] += n
        if ref is not None and len(self.refs[name]) < MAX_REFS:
            self.refs[name].append({k: v for k, v in ref.items() if v is not None})

    def manifest(self) -> list[dict[str, Any]]:
        """One document per hazard planted: ``{_id: name, count, unit, refs: [{...}]}``."""
        return [
            {"_id": h.name, "count": self.counts[h.name], "unit": h.unit, "refs": self.refs[h.name]}
            for h in HAZARDS
            if self.counts[h.name]
        ]


def write_manifest(db: Database, hazards: HazardCounter, *, users: int, seed: int) -> None:
    """The manifest collection (``model.HAZARD_MANIFEST``): one document per planted hazard,
    ``{_id: name, count, unit, refs: [{user, conversationId, ...}]}``, and ``{_id: "_seed",
    users, seed}``. Samplers read it to put an input on every hazard first."""
    docs = [{"_id": "_seed", "users": users, "seed": seed}, *hazards.manifest()]
    db[HAZARD_MANIFEST].insert_many(docs)


def read_manifest(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Hazard name -> refs, from a seeded database's manifest ({} when there is none)."""
    try:
        docs = db[HAZARD_MANIFEST].find({"_id": {"$ne": "_seed"}}).limit(200)
        return {d["_id"]: d.get("refs", []) for d in docs}
    except PyMongoError:
        return {}
