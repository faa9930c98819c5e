"""The schema facts in migrator.model: token rates, defaults, index specs.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime

from migrator import model


def test_multiplier_prefers_the_longest_matching_key() -> None:
    # "gpt-4o-mini" contains both "gpt-4o" and "gpt-4o-mini": the longer key wins (§4.5)
    assert model.multiplier("gpt-4o-mini", "prompt") == 0.15
    assert model.multiplier("gpt-4o-2024-08-06", "completion") == 10
    assert model.multiplier("claude-sonnet-4-20250514", "completion") == 15
    assert model.multiplier("anthropic.claude-3-5-sonnet-20241022-v2:0", "prompt") == 3
    assert model.multiplier("gpt-4.1-mini", "prompt") == 0.4


def test_multiplier_defaults() -> None:
    assert model.multiplier("some-local-model", "prompt") == model.DEFAULT_RATE == 6
    assert model.multiplier(None, "credits") == 1  # top-ups carry no model
    assert model.multiplier("gpt-4o", None) == 1
    assert model.cache_multiplier("claude-3-7-sonnet-20250219", "read") == 0.3
    assert model.cache_multiplier("gpt-4o", "write") is None


def test_materialize_fills_now_and_copies_mutables() -> None:
    now = datetime(2025, 5, 1, 12, 0, 0, 123000)
    first = model.materialize(model.BALANCE_DEFAULTS, now)
    assert first["lastRefill"] == now and first["refillIntervalUnit"] == "days"
    convo = model.materialize(model.CONVERSATION_DEFAULTS, now)
    convo["tags"].append("Saved")
    assert model.CONVERSATION_DEFAULTS["tags"] == []  # the shared default stays untouched
    assert convo["title"] == "New Chat" and convo["endpoint"] is None


def test_index_specs_cover_every_collection_with_default_names() -> None:
    assert set(model.INDEXES) == set(model.COLLECTIONS)
    names = {s.name for s in model.INDEXES["conversations"]}
    assert {"conversationId_1", "conversationId_1_user_1", "expiredAt_1"} <= names
    ttl = {
        (coll, s.keys[0][0]): s.expire_after_seconds
        for coll, specs in model.INDEXES.items()
        for s in specs
        if s.expire_after_seconds is not None
    }
    assert ttl == {  # §1 #13
        ("users", "expiresAt"): 604800,
        ("sessions", "expiration"): 0,
        ("tokens", "expiresAt"): 0,
        ("conversations", "expiredAt"): 0,
        ("messages", "expiredAt"): 0,
        ("files", "expiresAt"): 3600,
    }
    assert not any(s.unique for s in model.INDEXES["balances"])  # §3.4: not unique


def test_defaults_and_hidden_fields_are_schema_fields() -> None:
    for collection, defaults in model.DEFAULTS.items():
        assert set(defaults) <= model.SCHEMA_FIELDS[collection], collection
    for collection, hidden in model.HIDDEN_FIELDS.items():
        assert set(hidden) <= model.SCHEMA_FIELDS[collection]
    for collection, (owner, _) in model.OWNER_FIELDS.items():
        assert owner in model.SCHEMA_FIELDS[collection]
