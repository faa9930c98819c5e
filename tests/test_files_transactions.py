"""Files and transactions: both paths agree on seeded data, leave the same state, reproduce
LibreChat B's quirks, and deliberately wrong gateways are caught.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import math
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId, json_util
from pymongo.database import Database
from support import Twins, both_paths, outcome

from migrator.choices import gateway_class
from migrator.compare.rules import Rules
from migrator.gateway import DbGateway
from migrator.gateway.repository import utcnow
from migrator.services import catalog, files, transactions
from migrator.services.base import Operation, Sampler
from migrator.services.files import gateway as files_gw
from migrator.services.files import legacy as files_legacy
from migrator.services.transactions import gateway as tx_gw
from migrator.services.transactions import legacy as tx_legacy

OPS = {op.name: op for op in [*files.OPERATIONS, *transactions.OPERATIONS]}
READS = sorted(name for name, op in OPS.items() if op.kind == "read")
WRITES = sorted(name for name, op in OPS.items() if op.kind == "write")
VOLATILE = "<volatile>"


# --- helpers --------------------------------------------------------------------------------


def scrub(value: Any, rules: Rules, path: str = "") -> Any:
    """The value with volatile fields replaced by a marker (presence still counts) and
    top-level unordered arrays sorted by their key."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            volatile = any(fnmatch.fnmatchcase(sub, p) for p in rules.volatile)
            out[key] = VOLATILE if volatile else scrub(item, rules, sub)
        return out
    if isinstance(value, list):
        items = [scrub(item, rules, path) for item in value]
        key = rules.unordered.get(path)
        if key is not None and all(isinstance(i, dict) for i in value):
            order = sorted(range(len(value)), key=lambda i: str(value[i].get(key)))
            items = [items[i] for i in order]
        return items
    return value


def scrub_outcome(result: tuple[str, Any], rules: Rules) -> tuple[str, Any]:
    kind, value = result
    return kind, scrub(value, rules) if kind == "value" else value


def footprint_state(db: Database, op: Operation, args: dict) -> dict[str, list]:
    """The footprint's documents, volatile fields masked, in a canonical order."""
    assert op.footprint is not None
    state = {}
    for collection, query in op.footprint(db, args).items():
        docs = [scrub(doc, op.rules) for doc in db[collection].find(query)]
        state[collection] = sorted(docs, key=lambda d: json_util.dumps(d, sort_keys=True))
    return state


def non_empty(result: tuple[str, Any]) -> bool:
    kind, value = result
    return kind == "value" and value not in (None, [], {}, 0)


def run_write(
    op: Operation, twins: tuple[Database, Database], gateway: type[DbGateway] = DbGateway
) -> list:
    """Sample from the legacy twin before any write, then apply every input to both twins
    (legacy on [0], ``op.gateway`` through ``gateway`` on [1]); returns rows of
    (args, legacy outcome, gateway outcome, state0, state1, state0 before the write)."""
    legacy_db, gateway_db = twins
    gw = gateway(gateway_db)
    inputs = list(op.sample(Sampler(legacy_db, 6, seed=5)))
    rows = []
    for args in inputs:
        before = footprint_state(legacy_db, op, args)
        legacy = outcome(op.legacy, legacy_db, **copy.deepcopy(args))
        result = outcome(op.gateway, gw, **copy.deepcopy(args))
        rows.append(
            (
                args,
                scrub_outcome(legacy, op.rules),
                scrub_outcome(result, op.rules),
                footprint_state(legacy_db, op, args),
                footprint_state(gateway_db, op, args),
                before,
            )
        )
    return rows


# --- (1) reads: both paths agree on seeded data ----------------------------------------------


def test_catalog_lists_both_areas() -> None:
    assert set(READS) >= {
        "files.list_for_user",
        "files.by_ids",
        "files.tool_files_by_ids",
        "files.find_by_file_id",
        "transactions.by_user",
        "transactions.spend_by_user",
        "transactions.spend_by_model",
        "transactions.balance",
    }
    assert set(WRITES) >= {
        "files.create",
        "files.update",
        "files.increment_usage",
        "files.delete_files",
        "transactions.create_transaction",
        "transactions.spend_tokens",
    }
    assert all(OPS[name].footprint is not None for name in WRITES)
    listed = catalog()
    assert all(listed.get(name) is op for name, op in OPS.items())


@pytest.mark.parametrize("name", READS)
def test_read_paths_agree(seeded_db: Database, name: str) -> None:
    op = OPS[name]
    rows = both_paths(op, seeded_db, n=8)
    assert len(rows) >= 4
    for args, legacy, gateway in rows:
        assert scrub_outcome(legacy, op.rules) == scrub_outcome(gateway, op.rules), args
    assert any(non_empty(legacy) for _, legacy, _ in rows), "every input returned nothing"


# --- (2) writes: same return values, same resulting documents --------------------------------


# Each area's writes run in turn on one twin pair (seeding a pair costs seconds on the
# embedded engine); the twins stay identical as long as both paths agree. Deletes go last,
# spend_tokens before create_transaction (which gives the balance-less user a balance).
WRITE_ORDER = {
    "files": ("files.create", "files.update", "files.increment_usage", "files.delete_files"),
    "transactions": ("transactions.spend_tokens", "transactions.create_transaction"),
}


@pytest.mark.parametrize("area", sorted(WRITE_ORDER))
def test_write_paths_leave_same_state(twin_dbs: Twins, area: str) -> None:
    names = WRITE_ORDER[area]
    assert set(names) == {n for n in WRITES if OPS[n].area == area}
    legacy_db, gateway_db = twins = twin_dbs()
    for name in names:
        op = OPS[name]
        rows = run_write(op, twins)
        assert len(rows) >= 3, name
        for args, legacy, gateway, state0, state1, _ in rows:
            assert legacy == gateway, (name, args)
            assert state0 == state1, (name, args)
        assert any(non_empty(row[1]) for row in rows), name
        assert any(row[3] != row[5] for row in rows), f"{name} changed nothing"
        for collection in ("files", "transactions", "balances"):
            counts = [d[collection].count_documents({}) for d in (legacy_db, gateway_db)]
            assert counts[0] == counts[1], (name, collection)


# --- LibreChat B quirks the legacy path (and the gateway) must reproduce ---------------------


def _file(user: ObjectId, file_id: str, **extra: Any) -> dict:
    now = utcnow()
    doc = {"user": user, "file_id": file_id, "bytes": 1, "filename": f"{file_id}.txt"}
    doc.update(filepath=f"/uploads/{file_id}", object="file", type="text/plain", usage=0)
    doc.update(source="local", createdAt=now, updatedAt=now, __v=0, **extra)
    return doc


def test_delete_files_with_a_user_deletes_all_of_them(mongo_db: Database) -> None:
    alice, bob = ObjectId(), ObjectId()
    mongo_db.files.insert_many(
        [_file(alice, f"a{i}") for i in range(3)] + [_file(bob, f"b{i}") for i in range(4)]
    )
    # one id named, but every file of the user goes (deleteFiles quirk)
    assert files_legacy.delete_files(mongo_db, file_ids=["a0"], user_id=str(alice)) == 3
    gw = DbGateway(mongo_db)
    assert files_gw.gw_delete_files(gw, file_ids=["b0"], user_id=str(bob)) == 4
    mongo_db.files.insert_many([_file(bob, "c0"), _file(bob, "c1")])
    assert files_gw.gw_delete_files(gw, file_ids=["c0"]) == 1
    assert files_legacy.delete_files(mongo_db, file_ids=["c1"]) == 1
    assert mongo_db.files.count_documents({}) == 0


def test_create_file_ttl_defaults_and_usage(mongo_db: Database) -> None:
    user = ObjectId()
    data = {"user": str(user), "file_id": "f1", "bytes": 5, "filename": "x.png"}
    data.update(filepath="/images/x.png", type="image/png", temp_file_id="t1", junk=1)
    before = utcnow()
    legacy = files_legacy.create(mongo_db, data=data)
    gateway = files_gw.gw_create(DbGateway(mongo_db), data={**data, "file_id": "f2"})
    for doc in (legacy, gateway):
        assert doc is not None
        assert doc["user"] == user  # cast to ObjectId
        assert "junk" not in doc  # strict
        assert (doc["object"], doc["usage"], doc["source"], doc["__v"]) == ("file", 0, "local", 0)
        assert before + timedelta(minutes=59) <= doc["expiresAt"] <= utcnow() + timedelta(hours=1)
        assert doc["createdAt"] == doc["updatedAt"]
    used = files_legacy.increment_usage(mongo_db, file_id="f1")
    gw_used = files_gw.gw_increment_usage(DbGateway(mongo_db), file_id="f2", inc=3)
    assert used is not None and gw_used is not None
    assert (used["usage"], gw_used["usage"]) == (1, 3)
    for doc in (used, gw_used):
        assert "expiresAt" not in doc and "temp_file_id" not in doc
    kept = files_legacy.create(mongo_db, data={**data, "file_id": "f3"}, disable_ttl=True)
    assert kept is not None and "expiresAt" not in kept


def test_tool_files_with_no_known_resource_drops_the_empty_or(seeded_db: Database) -> None:
    """mongoose 8 lib/cast.js lines 87-90 (`delete empty: {$or: []} -> {}`): a resource set
    naming no condition of B leaves `$or: []`, which Mongoose deletes: every file among the ids
    comes back, newest update first, text excluded (N's `context` is such a resource in B)."""
    ids = [f["file_id"] for f in seeded_db.files.find({}, {"file_id": 1}).limit(3)]
    expected = list(
        seeded_db.files.find({"file_id": {"$in": ids}}, {"text": 0}).sort("updatedAt", -1)
    )
    assert len(expected) == 3
    for fn, target in (
        (files_legacy.tool_files_by_ids, seeded_db),
        (files_gw.gw_tool_files_by_ids, DbGateway(seeded_db)),
    ):
        for resources in (["image_edit"], ["context"]):
            assert fn(target, file_ids=ids, tool_resources=resources) == expected
        assert fn(target, file_ids=ids, tool_resources=[]) == []


@pytest.mark.parametrize("path", ["legacy", "gateway"])
def test_create_transaction_rates_and_balance(mongo_db: Database, path: str) -> None:
    funded, unfunded = ObjectId(), ObjectId()
    mongo_db.balances.insert_one({"user": funded, "tokenCredits": 10_000, "__v": 0})
    if path == "legacy":

        def create(data: dict) -> Any:
            return tx_legacy.create_transaction(mongo_db, data=data)
    else:
        gw = DbGateway(mongo_db)

        def create(data: dict) -> Any:
            return tx_gw.gw_create_transaction(gw, data=data)

    on = {"enabled": True}
    # incomplete completion: rate x1.15, value ceil(-333 * 15 * 1.15) = ceil(-5744.25)
    incomplete = create(
        {"user": str(funded), "model": "claude-sonnet-4-20250514", "tokenType": "completion",
         "context": "incomplete", "rawAmount": -333, "balance": on}
    )  # fmt: skip
    assert incomplete["completion"] == -5744
    assert math.isclose(incomplete["rate"], 15 * 1.15)
    assert incomplete["balance"] == 10_000 - 5744
    # more than the balance: clamped at zero, never negative
    clamped = create(
        {"user": str(funded), "model": "gpt-4o", "tokenType": "prompt", "rawAmount": -10_000,
         "balance": on}
    )  # fmt: skip
    assert clamped == {"rate": 2.5, "user": str(funded), "balance": 0, "prompt": -25_000}
    # no balance document: updateBalance upserts one at 0 with the schema defaults
    assert create(
        {"user": str(unfunded), "model": "gpt-4o", "tokenType": "prompt", "rawAmount": -4,
         "balance": on}
    )["balance"] == 0  # fmt: skip
    created = mongo_db.balances.find_one({"user": unfunded}, {"_id": 0, "lastRefill": 0})
    assert created == {
        "user": unfunded,
        "tokenCredits": 0,
        "autoRefillEnabled": False,
        "refillIntervalValue": 30,
        "refillIntervalUnit": "days",
        "refillAmount": 0,
        "__v": 0,
    }
    # balance disabled: recorded, balance untouched, nothing returned
    assert create({"user": str(funded), "tokenType": "credits", "rawAmount": 7}) is None
    stored = mongo_db.transactions.find_one({"tokenType": "credits"})
    assert stored is not None and (stored["rate"], stored["tokenValue"]) == (1, 7)
    assert mongo_db.transactions.count_documents({}) == 4
    assert "balance" not in stored and "endpointTokenConfig" not in stored


# --- (3) deliberately wrong gateways are caught ----------------------------------------------


def wrong_list_for_user(gw: DbGateway, *, user_id: str) -> list[dict]:
    """Oldest first instead of newest first."""
    return gw.get_repository("File").find(
        {"user": user_id}, select={"text": 0}, sort={"updatedAt": 1}
    )


def wrong_by_ids(gw: DbGateway, *, file_ids: list[str]) -> list[dict]:
    """Returns the extracted text that getFiles leaves out."""
    return gw.get_repository("File").find({"file_id": {"$in": file_ids}}, sort={"updatedAt": -1})


def wrong_spend_by_model(gw: DbGateway, *, user_id: str) -> list[dict]:
    """Passes the hex string to an aggregation, which Mongoose does not cast (§1 #3)."""
    return gw.get_repository("Transaction").aggregate(
        [
            {"$match": {"user": user_id}},
            {
                "$group": {
                    "_id": {"model": "$model", "tokenType": "$tokenType"},
                    "tokens": {"$sum": "$rawAmount"},
                    "credits": {"$sum": "$tokenValue"},
                }
            },
            {"$sort": {"_id.model": 1, "_id.tokenType": 1}},
        ]
    )


def wrong_balance(gw: DbGateway, *, user_id: str) -> Any:
    """Treats a missing balance as None rather than B's 0."""
    doc = gw.get_repository("Balance").find_by_user(user_id)
    return None if doc is None else doc.get("tokenCredits")


@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("files.list_for_user", wrong_list_for_user),
        ("files.by_ids", wrong_by_ids),
        ("transactions.spend_by_model", wrong_spend_by_model),
        ("transactions.balance", wrong_balance),
    ],
)
def test_wrong_read_gateway_disagrees(seeded_db: Database, name: str, wrong: Any) -> None:
    op = OPS[name]
    gw = DbGateway(seeded_db)
    differ = []
    for args in op.sample(Sampler(seeded_db, 8, seed=3)):
        legacy = scrub_outcome(outcome(op.legacy, seeded_db, **args), op.rules)
        assert legacy == scrub_outcome(outcome(op.gateway, gw, **args), op.rules), args
        if legacy != scrub_outcome(outcome(wrong, gw, **args), op.rules):
            differ.append(args)
    assert differ, f"the wrong {name} gateway was not caught"


def wrong_create_transaction(gw: DbGateway, *, data: dict) -> Any:
    """Lets the balance go below zero (no clamp) — an atomic $inc instead of B's loop."""
    tx_data = {k: v for k, v in data.items() if k not in ("balance", "transactions")}
    if (data.get("transactions") or {}).get("enabled") is False or tx_data["rawAmount"] != tx_data[
        "rawAmount"
    ]:
        return None
    tx = gw.get_repository("Transaction").create_transaction(tx_data)
    if not (data.get("balance") or {}).get("enabled"):
        return None
    updated = gw.get_repository("Balance").find_one_and_update(
        {"user": tx["user"]}, {"$inc": {"tokenCredits": tx["tokenValue"]}}, upsert=True
    )
    return {
        "rate": tx["rate"],
        "user": str(tx["user"]),
        "balance": updated["tokenCredits"],
        tx["tokenType"]: tx["tokenValue"],
    }


def test_wrong_write_gateways_disagree(twin_dbs: Twins) -> None:
    """Each wrong write is caught by its return value or by the state it leaves: the shared
    `lost-inc` variant (files.increment_usage never increments `usage`) and a create_transaction
    without the clamp."""
    twins = twin_dbs()
    for op, gateway in (
        (OPS["files.increment_usage"], gateway_class("lost-inc")),
        (
            dataclasses.replace(
                OPS["transactions.create_transaction"], gateway=wrong_create_transaction
            ),
            DbGateway,
        ),
    ):
        rows = run_write(op, twins, gateway)
        caught = [args for args, lv, gv, s0, s1, _ in rows if lv != gv or s0 != s1]
        assert caught, f"the wrong {op.name} gateway was not caught"
