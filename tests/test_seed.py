"""`migrator seed`: determinism, shape (§2-§3), distributions (§7) and hazards (§8).

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import math
import re
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from click.testing import CliRunner
from pymongo import MongoClient
from pymongo.database import Database

from migrator import settings
from migrator.cli import main
from migrator.errors import ConfigError
from migrator.model import COLLECTIONS, INDEXES, NO_PARENT, OWNER_FIELDS, SCHEMA_FIELDS, multiplier
from migrator.seed import HAZARDS, SeedSummary, seed, seed_database

USERS = 30


@pytest.fixture(scope="module")
def seeded(mongo_client: MongoClient) -> Iterator[tuple[Database, SeedSummary]]:
    """One seeded database shared by the read-only checks of this module."""
    name = f"migrator_test_seed_{uuid.uuid4().hex[:8]}"
    db = mongo_client[name]
    summary = seed(db, users=USERS, seed=7)
    yield db, summary
    mongo_client.drop_database(name)


def _all(db: Database, collection: str) -> list[dict[str, Any]]:
    return list(db[collection].find().sort("_id", 1))


def _quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def _snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """All documents, minus those a real server's TTL monitor may remove at any moment."""
    now = datetime.now(UTC).replace(tzinfo=None)  # pymongo returns naive UTC
    ttl = {
        (c, s.keys[0][0]): timedelta(seconds=s.expire_after_seconds)
        for c, specs in INDEXES.items()
        for s in specs
        if s.expire_after_seconds is not None
    }

    def alive(collection: str, doc: dict[str, Any]) -> bool:
        return not any(
            isinstance(doc.get(field), datetime) and doc[field] + after <= now
            for (coll, field), after in ttl.items()
            if coll == collection
        )

    return {c: [d for d in _all(db, c) if alive(c, d)] for c in COLLECTIONS}


# -- determinism and the empty-database guard --------------------------------------------------


def test_same_seed_gives_identical_data(mongo_db: Database) -> None:
    calls: list[tuple[str, int]] = []
    first = seed(mongo_db, users=20, seed=3, progress=lambda c, n: calls.append((c, n)))
    before = _snapshot(mongo_db)
    again = seed(mongo_db, users=20, seed=3, drop=True)
    after = _snapshot(mongo_db)

    assert sum(len(docs) for docs in before.values()) > 1000
    assert before == after
    assert first.counts == again.counts and first.hazards == again.hazards
    assert again.dropped == list(COLLECTIONS)
    # progress reports every collection with growing counts, ending at the summary's counts
    last: dict[str, int] = {}
    for collection, n in calls:
        assert n > last.get(collection, 0)
        last[collection] = n
    assert last == {c: n for c, n in first.counts.items() if n}


def test_another_seed_gives_other_data(mongo_db: Database) -> None:
    one = seed(mongo_db, users=3, seed=1)
    users_one = _all(mongo_db, "users")
    two = seed(mongo_db, users=3, seed=2, drop=True)
    users_two = _all(mongo_db, "users")
    assert [u["_id"] for u in users_one] != [u["_id"] for u in users_two]
    assert one.counts["users"] == two.counts["users"] == 3


def test_refuses_a_non_empty_database_without_drop(mongo_db: Database) -> None:
    mongo_db.users.insert_one({"email": "someone@example.com"})
    with pytest.raises(ConfigError) as raised:
        seed(mongo_db, users=2)
    message = str(raised.value)
    assert f"database {mongo_db.name} already holds data (users: 1 documents)" in message
    assert "--drop" in message
    assert mongo_db.messages.estimated_document_count() == 0  # nothing was written

    summary = seed(mongo_db, users=2, drop=True)
    assert summary.dropped == ["users"]
    assert mongo_db.users.count_documents({"email": "someone@example.com"}) == 0
    assert mongo_db.users.count_documents({}) == 2


def test_rejects_a_non_positive_user_count(mongo_db: Database) -> None:
    with pytest.raises(ConfigError, match="positive"):
        seed(mongo_db, users=0)


# -- shape -----------------------------------------------------------------------------------


def test_indexes_exist_as_specified(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    for collection, specs in INDEXES.items():
        found = {ix["name"]: ix for ix in db[collection].list_indexes()}
        for spec in specs:
            assert spec.name in found, f"{collection}.{spec.name}"
            index = found[spec.name]
            assert list(index["key"].items()) == list(spec.keys)
            assert bool(index.get("unique")) == spec.unique, spec.name
            assert bool(index.get("sparse")) == spec.sparse, spec.name
            assert index.get("expireAfterSeconds") == spec.expire_after_seconds, spec.name


def test_every_collection_is_filled_and_counted(seeded: tuple[Database, SeedSummary]) -> None:
    db, summary = seeded
    # the TTL monitor (real servers and the embedded one) removes expired sessions early
    ttl_slack = {"sessions": _hazards(summary)["expired_sessions"]}
    for collection in COLLECTIONS:
        written = summary.counts[collection]
        assert written > 0, collection
        stored = db[collection].count_documents({})
        assert written - ttl_slack.get(collection, 0) <= stored <= written, collection
    text = summary.to_text()
    assert all(c in text for c in COLLECTIONS)
    assert all(h.name in text for h in HAZARDS)


def test_documents_use_only_schema_fields_and_carry_version(
    seeded: tuple[Database, SeedSummary],
) -> None:
    db, _ = seeded
    for collection in COLLECTIONS:
        for doc in _all(db, collection):
            unknown = set(doc) - SCHEMA_FIELDS[collection]
            assert not unknown, f"{collection} {doc['_id']}: {unknown}"
            assert doc["__v"] == 0


def test_owner_fields_have_the_schema_type(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    user_ids = {u["_id"] for u in db.users.find({}, {"_id": 1})}
    for collection, (field, kind) in OWNER_FIELDS.items():
        owners = [doc[field] for doc in db[collection].find({}, {field: 1})]
        assert owners, collection
        if kind == "objectid":
            assert all(isinstance(o, ObjectId) for o in owners), collection
        else:
            assert all(isinstance(o, str) and ObjectId.is_valid(o) for o in owners), collection
            assert {ObjectId(o) for o in owners} <= user_ids, collection


def test_users_admin_providers_and_secrets(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    users = _all(db, "users")
    assert users[0]["role"] == "ADMIN"
    assert all(u["role"] == "USER" for u in users[1:])
    assert users[0]["createdAt"] == min(u["createdAt"] for u in users)
    by_provider = Counter(u["provider"] for u in users)
    assert by_provider["local"] > len(users) / 2
    for user in users:
        if user["provider"] == "local":
            assert re.fullmatch(r"\$2a\$10\$[./A-Za-z0-9]{53}", user["password"])
        else:
            assert "password" not in user and user[f"{user['provider']}Id"]
        assert user["personalization"] == {"memories": True}
        assert user["plugins"] == [] and user["refreshToken"] == []
        if user["twoFactorEnabled"]:
            assert user["totpSecret"] and len(user["backupCodes"]) == 10


def test_sessions_hash_and_expiry(seeded: tuple[Database, SeedSummary]) -> None:
    db, summary = seeded
    now = datetime.now(UTC).replace(tzinfo=None)
    sessions = _all(db, "sessions")
    assert all(re.fullmatch(r"[0-9a-f]{64}", s["refreshTokenHash"]) for s in sessions)
    assert len({s["refreshTokenHash"] for s in sessions}) == len(sessions)
    live = [s for s in sessions if s["expiration"] > now]
    expired = _hazards(summary)["expired_sessions"]
    assert len(sessions) - len(live) <= expired  # the rest stay valid for later tool runs
    assert len(live) >= len(sessions) - expired > 0


# -- distributions (§7) ------------------------------------------------------------------------


def test_conversations_per_user_are_heavy_tailed(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    per_user = Counter(c["user"] for c in db.conversations.find({}, {"user": 1}))
    counts = [per_user.get(str(u["_id"]), 0) for u in db.users.find({}, {"_id": 1})]
    median = statistics.median(counts)
    assert 1 <= median <= 10
    assert 4 <= statistics.mean(counts) <= 25
    assert max(counts) >= 3 * max(median, 1)  # a few power users
    assert sum(c < 50 for c in counts) >= 0.9 * len(counts)


def test_messages_per_conversation_median_and_tail(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    sizes = [len(c["messages"]) for c in db.conversations.find({}, {"messages": 1})]
    assert 4 <= statistics.median(sizes) <= 6
    p90 = _quantile(sizes, 0.9)
    assert 12 <= p90 <= 40
    assert max(sizes) >= 2 * p90  # heavy tail
    assert max(sizes) <= 400  # capped at a few hundred
    assert sum(s == 2 for s in sizes) / len(sizes) > 0.25  # many 2-message chats


def test_conversation_fields_and_mix(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    convos = _all(db, "conversations")
    endpoints = Counter(c["endpoint"] for c in convos)
    assert endpoints.most_common(1)[0][0] == "openAI" and len(endpoints) >= 5
    assert all(c["agent_id"].startswith("agent_") for c in convos if c["endpoint"] == "agents")
    tags = Counter(tuple(c["tags"]) for c in convos)
    assert tags[()] / len(convos) > 0.8 and tags[("Saved",)] > 0
    assert sum(c["isArchived"] for c in convos) / len(convos) < 0.06
    assert sum(c.get("expiredAt", None) is None for c in convos) / len(convos) > 0.9


# -- consistency ---------------------------------------------------------------------------------


def _messages_by_conversation(db: Database) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in db.messages.find():
        grouped[message["conversationId"]].append(message)
    return grouped


def test_conversation_messages_arrays_match_messages(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    grouped = _messages_by_conversation(db)
    for convo in db.conversations.find():
        ids = [m["_id"] for m in grouped[convo["conversationId"]]]
        assert sorted(convo["messages"]) == sorted(ids), convo["conversationId"]
        assert all(m["user"] == convo["user"] for m in grouped[convo["conversationId"]])


def test_message_trees(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    regenerated = 0
    for conversation_id, messages in _messages_by_conversation(db).items():
        by_id = {m["messageId"]: m for m in messages}
        roots = [m for m in messages if m["parentMessageId"] == NO_PARENT]
        assert len(roots) == 1 and roots[0]["isCreatedByUser"], conversation_id
        for m in messages:
            if m["parentMessageId"] == NO_PARENT:
                continue
            parent = by_id[m["parentMessageId"]]  # parents live in the same conversation
            assert parent["isCreatedByUser"] != m["isCreatedByUser"]  # user/assistant alternate
        children = Counter(m["parentMessageId"] for m in messages if not m["isCreatedByUser"])
        regenerated += sum(n > 1 for n in children.values())
    assert regenerated > 0  # some regenerations: sibling responses with one parent


def test_two_transactions_per_completion(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    spent: dict[str, Counter[str]] = defaultdict(Counter)
    completion_tokens: Counter[str] = Counter()
    for tx in db.transactions.find({"context": "message"}):
        spent[tx["conversationId"]][tx["tokenType"]] += 1
        if tx["tokenType"] == "completion":
            completion_tokens[tx["conversationId"]] -= tx["rawAmount"]
    grouped = _messages_by_conversation(db)
    checked = 0
    for convo in db.conversations.find({"expiredAt": {"$exists": True}}):  # not imported
        answers = [
            m
            for m in grouped[convo["conversationId"]]
            if not m["isCreatedByUser"] and not m["error"]
        ]
        counts = spent[convo["conversationId"]]
        assert counts["prompt"] == counts["completion"] == len(answers)
        assert completion_tokens[convo["conversationId"]] == sum(m["tokenCount"] for m in answers)
        checked += 1
    assert checked > 100


def test_transaction_values(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    transactions = _all(db, "transactions")
    contexts = Counter(t["context"] for t in transactions)
    assert contexts["message"] > contexts["title"] > 0
    structured = 0
    for tx in transactions:
        assert tx["rawAmount"] < 0 and tx["tokenValue"] < 0
        if "inputTokens" in tx:  # cached prompt: rate is the token-weighted mean
            structured += 1
            parts = tx["inputTokens"] + tx["writeTokens"] + tx["readTokens"]
            assert parts == tx["rawAmount"]
            assert math.isclose(tx["tokenValue"], tx["rawAmount"] * tx["rate"], rel_tol=1e-9)
        else:
            assert tx["rate"] == multiplier(tx["model"], tx["tokenType"])
            assert tx["tokenValue"] == tx["rawAmount"] * tx["rate"]
    assert structured > 0


def test_files(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    files = _all(db, "files")
    assert all(0 <= f["usage"] <= 5 and f["object"] == "file" for f in files)
    images = [f for f in files if f["filepath"].startswith("/images/")]
    assert images
    for f in images:
        assert f["filepath"] == f"/images/{f['user']}/{f['file_id']}__{f['filename']}"
    temp = [f for f in files if "temp_file_id" in f]
    assert temp and all(f["usage"] == 0 and isinstance(f["expiresAt"], datetime) for f in temp)
    assert any(f.get("embedded") is True for f in files)
    assert any(f["context"] == "agents" and f.get("text") for f in files)
    assert any(f.get("metadata", {}).get("fileIdentifier") for f in files)
    by_convo: dict[str, set[str]] = defaultdict(set)
    for f in files:
        if "conversationId" in f:
            by_convo[f["conversationId"]].add(f["file_id"])
    for convo in db.conversations.find({"files.0": {"$exists": True}}):
        assert set(convo["files"]) == by_convo[convo["conversationId"]]


def test_agents_prompts_and_acl(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    acl = _all(db, "aclentries")
    owners = {(e["resourceType"], e["resourceId"]): e for e in acl if e["permBits"] == 15}
    assert any(e["principalType"] == "public" and e["permBits"] == 1 for e in acl)
    for agent in _all(db, "agents"):
        assert re.fullmatch(r"agent_[A-Za-z0-9_-]{21}", agent["id"])
        assert agent["versions"] and agent["versions"][0]["name"]
        assert "author" not in agent["versions"][0]
        assert owners[("agent", agent["_id"])]["principalId"] == agent["author"]
    prompts = {p["_id"]: p for p in _all(db, "prompts")}
    for group in _all(db, "promptgroups"):
        assert owners[("promptGroup", group["_id"])]["principalId"] == group["author"]
        if group["productionId"] is not None:
            assert prompts[group["productionId"]]["groupId"] == group["_id"]


def test_conversation_tags_count_their_conversations(
    seeded: tuple[Database, SeedSummary],
) -> None:
    db, _ = seeded
    tagged: Counter[tuple[str, str]] = Counter()
    for convo in db.conversations.find({}, {"user": 1, "tags": 1}):
        tagged.update((convo["user"], tag) for tag in convo["tags"])
    positions: dict[str, list[int]] = defaultdict(list)
    for tag in _all(db, "conversationtags"):
        assert tag["count"] == tagged[(tag["user"], tag["tag"])]
        positions[tag["user"]].append(tag["position"])
    assert all(len(p) == len(set(p)) for p in positions.values())
    assert any(t["tag"] == "Saved" and t["position"] == 0 for t in _all(db, "conversationtags"))


# -- hazards (§8) --------------------------------------------------------------------------------


def _hazards(summary: SeedSummary) -> dict[str, int]:
    return {h.name: h.count for h in summary.hazards}


def test_every_hazard_is_present_and_counted(seeded: tuple[Database, SeedSummary]) -> None:
    db, summary = seeded
    declared = _hazards(summary)
    assert set(declared) == {h.name for h in HAZARDS}
    assert all(n > 0 for n in declared.values()), declared

    users = _all(db, "users")
    user_ids = {u["_id"] for u in users}
    emails = {u["email"] for u in users}
    convo_ids = {c["conversationId"] for c in db.conversations.find({}, {"conversationId": 1})}
    messages = list(db.messages.find({}, {"text": 0, "content": 0}))
    convos = _all(db, "conversations")
    files = _all(db, "files")
    per_user_balances = Counter(b["user"] for b in db.balances.find())

    found = {
        "mixed_case_email": sum(
            u["email"] != u["email"].lower() and u["email"].lower() in emails for u in users
        ),
        "orphan_messages": sum(m["conversationId"] not in convo_ids for m in messages),
        "orphan_files_conversation": sum(
            "conversationId" in f and f["conversationId"] not in convo_ids for f in files
        ),
        "orphan_files_user": sum(f["user"] not in user_ids for f in files),
        "messages_without_timestamps": sum("createdAt" not in m for m in messages),
        "string_created_at": sum(isinstance(m.get("createdAt"), str) for m in messages),
        "imported_conversation_without_expiredAt": sum("expiredAt" not in c for c in convos),
        "archived_conversations": sum(c["isArchived"] for c in convos),
        "temporary_conversations": sum(isinstance(c.get("expiredAt"), datetime) for c in convos),
        "duplicate_balances": sum(n > 1 for n in per_user_balances.values()),
        "legacy_message_plugin": sum("plugin" in m for m in messages),
        "legacy_conversation_agentOptions": sum("agentOptions" in c for c in convos),
        "tokens_without_type": db.tokens.count_documents({"type": {"$exists": False}}),
        "promptgroup_without_production": db.promptgroups.count_documents({"productionId": None}),
        "users_with_ttl": sum("expiresAt" in u for u in users),
        "authorless_agents": sum(a["author"] not in user_ids for a in db.agents.find()),
    }
    for name, n in found.items():
        assert n == declared[name], name
    # expired sessions may already be gone on a real server (TTL monitor)
    past = db.sessions.count_documents({"expiration": {"$lt": datetime(2026, 1, 1)}})
    assert past <= declared["expired_sessions"]
    # temporary chats must outlive any run: expiredAt far in the future, on messages too
    temporary = [c["conversationId"] for c in convos if isinstance(c.get("expiredAt"), datetime)]
    assert all(c["expiredAt"] > datetime(2029, 1, 1) for c in convos if c.get("expiredAt"))
    assert (
        db.messages.count_documents({"conversationId": {"$in": temporary}, "expiredAt": None}) == 0
    )


def test_seed_database_seeds_the_database_the_settings_name(mongo_server, mongo_client) -> None:
    """`migrator seed` is seed_database(): the server and database come from the settings."""
    name = f"migrator_test_seed_{uuid.uuid4().hex[:8]}"
    cfg = settings.resolve(mongo_uri=mongo_server.uri, db=name)
    try:
        summary = seed_database(cfg, users=2, seed=5)
        assert summary.database == name and summary.counts["users"] == 2
        assert mongo_client[name].users.estimated_document_count() == 2
        with pytest.raises(ConfigError, match="already holds data"):
            seed_database(cfg, users=2, seed=5)
        args = ["seed", "--mongo-uri", mongo_server.uri, "--db", name, "--users", "2", "--drop"]
        run = CliRunner().invoke(main, args)
        assert run.exit_code == 0, run.output
        assert run.stdout.startswith(f"Seeded database {name!r}: ")
        assert "Dropped first: " in run.stdout
    finally:
        mongo_client.drop_database(name)
