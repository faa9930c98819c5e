"""The seed's shapes and hazard manifest, hazard coverage of the samplers, and the single-bug
gateway variants that `verify` must catch on a freshly seeded demo-size database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.database import Database

from migrator import model, services, settings
from migrator.gateway.variants import BUG_VARIANTS
from migrator.paths import GatewayChoice
from migrator.seed import HAZARDS, seed
from migrator.seed.hazards import read_manifest
from migrator.services.base import Sampler
from migrator.verify import verify

DEMO_USERS = 25  # `migrator demo`'s size


@pytest.fixture(scope="module")
def demo_db(mongo_client: MongoClient) -> Iterator[Database]:
    name = f"migrator_test_demo_{uuid.uuid4().hex[:8]}"
    seed(mongo_client[name], users=DEMO_USERS, seed=1)
    yield mongo_client[name]
    mongo_client.drop_database(name)


def _values(args: Any) -> Iterator[str]:
    if isinstance(args, dict):
        for v in args.values():
            yield from _values(v)
    elif isinstance(args, list | tuple):
        for v in args:
            yield from _values(v)
    else:
        yield str(args)


def test_manifest_names_every_hazard_with_where_it_is(demo_db: Database) -> None:
    manifest = read_manifest(demo_db)
    assert set(manifest) == {h.name for h in HAZARDS}  # all planted at the demo's size
    assert all(manifest[name] for name in manifest), "every hazard has at least one ref"
    assert model.HAZARD_MANIFEST not in model.COLLECTIONS  # counts and verify never read it
    assert demo_db[model.HAZARD_MANIFEST].find_one({"_id": "_seed"})["users"] == DEMO_USERS


def test_every_observable_hazard_is_reached_at_default_samples(demo_db: Database) -> None:
    """Hazards × operations: each hazard an operation declares is carried by an input."""
    manifest = read_manifest(demo_db)
    checked = 0
    for op in services.catalog().values():
        inputs = list(op.sample(Sampler(demo_db, 20, seed=1)))
        seen = {v for args in inputs for v in _values(args)}
        for hazard, key in op.hazards.items():
            wanted = {str(r[key]) for r in manifest[hazard] if key in r}
            assert wanted & seen, f"{op.name} never reaches {hazard} ({key})"
            checked += 1
    assert checked >= 60


def test_seed_shapes_expose_order_limit_and_timestamp_bugs(demo_db: Database) -> None:
    refs = read_manifest(demo_db)
    heavy = refs["many_files"][0]["user"]
    assert demo_db.files.count_documents({"user": ObjectId(heavy)}) > 100
    spender = refs["many_transactions"][0]["user"]
    assert demo_db.transactions.count_documents({"user": ObjectId(spender)}) > 100
    long = refs["long_conversation"][0]["conversationId"]
    assert demo_db.messages.count_documents({"conversationId": long}) > 100
    busy = refs["many_conversations"][0]["user"]
    visible = {"user": busy, "isArchived": False, "expiredAt": None}
    assert demo_db.conversations.count_documents(visible) > 25
    for coll in ("conversations", "messages", "files"):  # changed after creation
        later = {"$expr": {"$gt": ["$updatedAt", "$createdAt"]}, "createdAt": {"$type": "date"}}
        assert demo_db[coll].count_documents(later) > 0, coll
    # insertion order follows no sort key: natural order differs from createdAt order
    natural = [m["_id"] for m in demo_db.messages.find({"conversationId": long}, {"_id": 1})]
    by_time = [
        m["_id"]
        for m in demo_db.messages.find({"conversationId": long}, {"_id": 1}).sort(
            [("createdAt", 1), ("_id", 1)]
        )
    ]
    assert natural != by_time
    # ties on updatedAt, stored against the second sort key (_id ascending)
    tie = demo_db.agents.find_one({"id": refs["sort_key_ties"][0]["agent_id"]})
    tied = list(demo_db.agents.find({"updatedAt": tie["updatedAt"]}, {"_id": 1}))
    assert len(tied) >= 3
    assert [d["_id"] for d in tied] == sorted((d["_id"] for d in tied), reverse=True)


def test_seed_is_deterministic_and_shuffles_insertion(mongo_client: MongoClient) -> None:
    names = [f"migrator_test_det_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        for name in names:
            seed(mongo_client[name], users=6, seed=3)
        a, b = (mongo_client[n] for n in names)
        for coll in (*model.COLLECTIONS, model.HAZARD_MANIFEST):
            assert list(a[coll].find({})) == list(b[coll].find({})), coll
    finally:
        for name in names:
            mongo_client.drop_database(name)


def _cfg(mongo_server: Any, name: str) -> settings.Settings:
    return settings.resolve(mongo_uri=mongo_server.uri, db=name, environ={})


def test_builtin_gateway_is_clean_on_the_new_shapes(mongo_server, demo_db: Database) -> None:
    result = verify(_cfg(mongo_server, demo_db.name))
    assert result.passed, result.failing


# Where each single-bug gateway shows on the demo's data at the default samples (measured with
# every read operation; sampling is per operation, so a run of fewer operations judges the
# same inputs of those it runs).
CAUGHT = {
    "no-sort": {
        "agents.list",
        "conversations.list_page",
        "files.by_ids",
        "files.list_for_user",
        "files.tool_files_by_ids",
        "messages.by_conversation",
        "messages.list_page",
        "prompts.prompts_of_group",
    },
    "sort-created": {
        "conversations.list_page",
        "files.by_ids",
        "files.list_for_user",
        "messages.list_page",
    },
    "cap-100": {"files.list_for_user", "messages.by_conversation", "transactions.by_user"},
    "no-temp-filter": {"conversations.list_page"},
    "descending": {
        "agents.list",
        "conversations.list_page",
        "messages.by_conversation",
        "messages.list_page",
    },
}


@pytest.mark.parametrize("variant", BUG_VARIANTS)
def test_each_wrong_gateway_is_caught(mongo_server, demo_db: Database, variant: str) -> None:
    """Caught on exactly the operations it breaks, and on no other of those that some variant
    breaks (in a run of every read operation, the others were clean under every variant)."""
    assert set(CAUGHT) == set(BUG_VARIANTS), "a new variant: say where it must be caught"
    suspects = sorted(set().union(*CAUGHT.values()))
    result = verify(
        _cfg(mongo_server, demo_db.name), ops=suspects, gateway=GatewayChoice.of(variant)
    )
    assert set(result.failing) == CAUGHT[variant], variant
