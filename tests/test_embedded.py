from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import bson
import pytest
from bson import Decimal128, ObjectId
from bson.int64 import Int64
from click.testing import CliRunner
from pymongo import (
    DeleteMany,
    DeleteOne,
    InsertOne,
    MongoClient,
    ReturnDocument,
    UpdateMany,
    UpdateOne,
)
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from migrator import embedded
from migrator.cli import main
from migrator.model import ensure_indexes
from tests.support import every_bson_type


def test_background_server_keeps_its_data(tmp_path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "data")
    started = runner.invoke(main, ["server", "start", "--data-dir", data])
    assert started.exit_code == 0, started.output
    uri = started.output.strip()
    assert uri.startswith("mongodb://127.0.0.1:")
    try:
        again = runner.invoke(main, ["server", "start", "--data-dir", data])
        assert again.exit_code == 2 and "already running" in again.output
        status = runner.invoke(main, ["server", "status", "--data-dir", data])
        assert status.exit_code == 0 and uri in status.output
        MongoClient(uri).LibreChat.users.insert_one({"email": "a@b.c"})
        # A command without --mongo-uri uses the running server of the data folder.
        doctor = runner.invoke(main, ["doctor", "--data-dir", data])
        assert doctor.exit_code == 0 and "(1 collections)" in doctor.output, doctor.output
    finally:
        stopped = runner.invoke(main, ["server", "stop", "--data-dir", data])
    assert "stopped" in stopped.output
    assert runner.invoke(main, ["server", "status", "--data-dir", data]).exit_code == 3
    # Restarted, the folder still holds the document and the index definitions.
    handle = embedded.start(tmp_path / "data")
    try:
        client = MongoClient(handle.uri)
        assert client.LibreChat.users.find_one({}, {"_id": 0}) == {"email": "a@b.c"}
    finally:
        handle.stop()


def test_a_restart_keeps_every_bson_type_byte_for_byte(tmp_path) -> None:
    """The snapshot written at stop and loaded at start holds what a client reads and stores
    what a client's insert of it would: the same bytes after a restart (a UUID among them,
    which once stopped the snapshot from being written), and found by its own values."""
    from bson.codec_options import CodecOptions
    from bson.raw_bson import RawBSONDocument

    doc = every_bson_type()
    raw = CodecOptions(document_class=RawBSONDocument)
    bytes_read = []
    for _ in range(2):
        handle = embedded.start(tmp_path)
        try:
            coll = MongoClient(handle.uri).keep.get_collection("types", codec_options=raw)
            if not bytes_read:
                coll.insert_one(dict(doc))
                coll.create_index("uuid", unique=True)
            bytes_read.append([r.raw for r in coll.find()])
            assert coll.count_documents({"uuid": doc["uuid"], "l": doc["l"], "d": doc["d"]}) == 1
        finally:
            handle.stop()
    assert bytes_read[0] == bytes_read[1] and len(bytes_read[1]) == 1


def test_one_server_per_data_folder(tmp_path) -> None:
    first = embedded.start(tmp_path)
    try:
        try:
            embedded.start(tmp_path)
            raise AssertionError("a second server on the same folder must be refused")
        except Exception as exc:  # CannotRun, with the launcher's reason
            assert "in use" in str(exc)
    finally:
        first.stop()


@pytest.mark.parametrize("batch_size", [1, 2, 101, None])
def test_cursors_read_past_the_first_batch(mongo_db: Database, batch_size: int | None) -> None:
    mongo_db.c.insert_many([{"_id": i, "n": i % 7} for i in range(250)])
    opts = {} if batch_size is None else {"batch_size": batch_size}
    assert [d["_id"] for d in mongo_db.c.find({}, sort=[("_id", 1)], **opts)] == list(range(250))
    pipeline = [{"$match": {"n": {"$gte": 0}}}, {"$sort": {"_id": -1}}]
    agg = {} if batch_size is None else {"batchSize": batch_size}
    got = [d["_id"] for d in mongo_db.c.aggregate(pipeline, **agg)]
    assert got == list(range(249, -1, -1))


def test_get_more_and_kill_cursors_take_the_int64_cursor_id(mongo_db: Database) -> None:
    mongo_db.c.insert_many([{"_id": i} for i in range(10)])
    first = mongo_db.command("find", "c", sort={"_id": 1}, batchSize=2)["cursor"]
    assert isinstance(first["id"], Int64) and [d["_id"] for d in first["firstBatch"]] == [0, 1]
    more = mongo_db.command("getMore", first["id"], collection="c", batchSize=3)["cursor"]
    assert more["id"] == first["id"] and [d["_id"] for d in more["nextBatch"]] == [2, 3, 4]
    killed = mongo_db.command("killCursors", "c", cursors=[first["id"]])
    assert killed["cursorsKilled"] == [first["id"]]


def _ids(cursor: Iterable[dict]) -> list[str]:
    return sorted(str(d["_id"]) for d in cursor)


@pytest.mark.parametrize("field", ["ix", "f"])  # with a single-field index, and without
def test_equality_lookups_keep_mongodb_semantics(mongo_db: Database, field: str) -> None:
    """The launcher answers equality/$in/$or lookups from hash buckets: the results must be
    MongoDB's, including where hashing by value would be wrong (numbers across BSON types,
    null vs missing, nested arrays, strings vs ObjectIds, collation) and after writes."""
    c = mongo_db.c
    c.create_index("ix")
    oid = ObjectId()
    values: list[tuple[Any, Any]] = [
        (1, "a"),
        (2, ["a", "b"]),
        (3, [["a"]]),  # {f: "a"} does not look into nested arrays
        (4, oid),
        (5, str(oid)),  # a string never equals an ObjectId
        (6, True),  # nor a boolean 1
        (7, 1),
        (8, 1.0),
        (9, Int64(1)),
        (10, Decimal128("1")),
        (11, None),
        (12, "A"),
        ("s", {"k": "a"}),
        (oid, "b"),
    ]
    c.insert_many([{"_id": i, "ix": v, "f": v} for i, v in values] + [{"_id": 13}])
    q = {field: "a"}
    assert _ids(c.find(q)) == ["1", "2"]
    assert _ids(c.find({field: oid})) == ["4"]
    assert _ids(c.find({field: str(oid)})) == ["5"]
    assert _ids(c.find({field: True})) == ["6"]
    assert _ids(c.find({field: 1.0})) == ["10", "7", "8", "9"]
    assert _ids(c.find({field: None})) == ["11", "13"]
    assert _ids(c.find({field: ["a", "b"]})) == ["2"]
    assert _ids(c.find({field: {"k": "a"}})) == ["s"]
    assert _ids(c.find({field: {"$in": ["b", oid]}})) == sorted(["2", "4", str(oid)])
    assert _ids(c.find({field: {"$in": ["b", 1]}})) == sorted(["10", "2", "7", "8", "9", str(oid)])
    assert _ids(c.find({"$or": [q, {field: True}]})) == ["1", "2", "6"]
    assert _ids(c.find({"$or": [q, {field: None}]})) == ["1", "11", "13", "2"]
    assert _ids(c.find({**q, "_id": {"$in": [2, 3]}})) == ["2"]
    assert _ids(c.find({"_id": {"$in": ["s", oid, 12]}})) == sorted(["12", "s", str(oid)])
    assert _ids(c.find({"_id": {"$in": ["s", oid]}, field: "b"})) == [str(oid)]
    assert _ids(c.find(q, collation={"locale": "en", "strength": 2})) == ["1", "12", "2"]
    assert [d["_id"] for d in c.find(q).sort("_id", -1).limit(1)] == [2]
    assert c.count_documents({field: {"$in": ["a", "b"]}}) == 3
    # Writes: every lookup sees them at once.
    c.insert_one({"_id": 20, field: "a"})
    assert _ids(c.find(q)) == ["1", "2", "20"]
    c.update_one({"_id": 20}, {"$set": {field: "z"}})
    assert _ids(c.find(q)) == ["1", "2"] and _ids(c.find({field: "z"})) == ["20"]
    assert c.update_many(q, {"$set": {"g": 1}}).modified_count == 2
    assert c.delete_many({field: {"$in": ["z"]}}).deleted_count == 1
    assert _ids(c.find({field: "z"})) == []


def test_equality_lookups_inside_a_transaction(
    mongo_client: MongoClient, mongo_db: Database
) -> None:
    mongo_db.c.insert_many([{"_id": i, "f": "a" if i % 2 else "b"} for i in range(10)])
    assert len(list(mongo_db.c.find({"f": "a"}))) == 5
    with mongo_client.start_session() as session:
        try:
            session.start_transaction()
            mongo_db.c.insert_one({"_id": 10, "f": "a"}, session=session)
        except OperationFailure:
            pytest.skip("this server has no transactions")
        mongo_db.c.delete_one({"_id": 1}, session=session)
        inside = _ids(mongo_db.c.find({"f": "a"}, session=session))
        assert inside == ["10", "3", "5", "7", "9"]
        assert _ids(mongo_db.c.find({"f": "a"})) == ["1", "3", "5", "7", "9"]
        session.abort_transaction()
    assert _ids(mongo_db.c.find({"f": "a"})) == ["1", "3", "5", "7", "9"]
    with mongo_client.start_session() as session, session.start_transaction():
        mongo_db.c.update_one({"_id": 3}, {"$set": {"f": "b"}}, session=session)
    assert _ids(mongo_db.c.find({"f": "a"})) == ["1", "5", "7", "9"]
    assert _ids(mongo_db.c.find({"f": {"$in": ["b"]}})) == ["0", "2", "3", "4", "6", "8"]


# --- the launcher's write shortcuts: same results and states with them on and off -----------


PROBE = Path(__file__).with_name("engine_state_probe.py")


def _probed_run(mode: str) -> dict[str, Any]:
    """The launcher's Engine (in tests/engine_state_probe.py, under the engine's Python) with
    the write shortcuts ``mode``: the writes' outcomes, what a client then reads, and the
    engine's internal state."""
    env = {**os.environ, "MIGRATOR_ENGINE_WRITE_SHORTCUTS": mode}
    probe = subprocess.Popen(
        [embedded.engine_python(), str(PROBE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert probe.stdout is not None and probe.stdin is not None
        client = MongoClient(probe.stdout.readline().strip())
        db = client.shortcuts
        run = {"outcomes": _writes(db), "transactions": _transactions(db), "read": _state(db)}
        client.close()
        probe.stdin.write("dump\n")
        probe.stdin.flush()
        dumped = probe.stdout.readline()
        assert dumped, "the engine probe stopped (its error is in the captured stderr)"
        run["engine"] = json.loads(dumped)
    finally:
        probe.kill()
        probe.wait()
    return run


@pytest.fixture(scope="module")
def probed() -> dict[str, dict[str, Any]]:
    if os.environ.get("MIGRATOR_TEST_MONGO_URI"):
        pytest.skip("not verified: the write shortcuts are the embedded engine's")
    return {mode: _probed_run(mode) for mode in ("off", "on")}


def _oid(n: int) -> ObjectId:
    return ObjectId(f"{n:024x}")


PAST = datetime(2001, 1, 1)
LATER = datetime(2101, 1, 1)


def _message(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": _oid(n),
        "messageId": f"m{n}",
        "conversationId": f"c{n % 3}",
        "user": f"u{n % 2}",
        "text": f"message {n}",
        "tokenCount": n,
        "createdAt": datetime(2025, 1, 1 + n % 27, 12, n % 60),
        "updatedAt": datetime(2025, 2, 1),
        "expiredAt": None,
        **extra,
    }


def _outcome(call: Callable[[], Any]) -> Any:
    """A write's result, or its error as the client sees it (code, message, details)."""
    try:
        result = call()
    except PyMongoError as exc:
        details = getattr(exc, "details", None)
        return ("error", type(exc).__name__, getattr(exc, "code", None), str(exc), details)
    if result is None or isinstance(result, dict):
        return result
    return {
        key: getattr(result, key)
        for key in (
            "inserted_id",
            "inserted_ids",
            "matched_count",
            "modified_count",
            "upserted_id",
            "deleted_count",
            "upserted_ids",
            "inserted_count",
        )
        if hasattr(result, key)
    }


def _writes(db: Database) -> list[Any]:
    """LibreChat-shaped writes over its own indexes (unique, compound unique, sparse unique,
    TTL, multikey), each kind of failure included; returns every outcome in order."""
    ensure_indexes(db)
    db.agents.create_index("author")
    db.create_collection("checked", validator={"$jsonSchema": {"required": ["n"]}})
    m, users, agents = db.messages, db.users, db.agents
    steps: list[Callable[[], Any]] = [
        lambda: m.insert_many([_message(n) for n in range(12)]),
        lambda: m.insert_many([_message(20), _message(21, messageId="m3"), _message(22)]),
        lambda: m.insert_many(
            [_message(30, messageId="m1"), _message(31), _message(32, messageId="m2")],
            ordered=False,
        ),
        lambda: m.insert_many([_message(40), _message(40)], ordered=False),
        lambda: m.insert_one(_message(41, expiredAt=PAST)),  # purged by the next write
        lambda: m.insert_one(_message(42, expiredAt=LATER)),
        lambda: m.update_one({"_id": _oid(1)}, {"$set": {"text": "edited"}}),
        lambda: m.update_one({"_id": _oid(2)}, {"$set": {"conversationId": "c9", "user": "u7"}}),
        lambda: m.update_one({"_id": _oid(3)}, {"$set": {"messageId": "m4"}}),  # duplicate
        lambda: m.update_many({"conversationId": "c0"}, {"$set": {"updatedAt": LATER}}),
        lambda: m.update_many({"user": "u1"}, {"$inc": {"tokenCount": 1}, "$unset": {"text": 1}}),
        lambda: m.update_many({"conversationId": "c1"}, {"$set": {"messageId": "same"}}),
        lambda: m.update_one(
            {"messageId": "new", "_id": _oid(70)}, {"$set": {"text": "up"}}, upsert=True
        ),
        lambda: m.update_one({"messageId": "m5", "_id": _oid(71)}, {"$set": {"x": 1}}, upsert=True),
        lambda: m.update_one(
            {"messageId": "m6", "user": "nobody", "_id": _oid(72)}, {"$set": {"x": 1}}, upsert=True
        ),
        lambda: m.replace_one({"_id": _oid(7)}, _message(7, text="replaced")),
        lambda: m.replace_one({"_id": _oid(8)}, _message(8, messageId="m9")),
        lambda: m.update_one({"_id": _oid(9)}, {"$set": {"expiredAt": PAST}}),
        lambda: m.find_one_and_update(
            {"conversationId": "c2"},
            {"$set": {"text": "f"}},
            sort=[("createdAt", -1)],
            projection={"text": 1, "messageId": 1},
            return_document=ReturnDocument.AFTER,
        ),
        lambda: m.find_one_and_update(
            {"messageId": "m10"}, {"$set": {"messageId": "m11"}}, return_document=True
        ),
        lambda: m.find_one_and_update(
            {"messageId": "fresh", "_id": _oid(73)},
            {"$set": {"user": "u0"}},
            upsert=True,
            return_document=True,
        ),
        lambda: m.delete_many({"_id": {"$in": [_oid(0), _oid(4), _oid(99)]}}),
        lambda: m.delete_many({"conversationId": "c9"}),
        lambda: m.delete_one({"user": "u1"}),
        lambda: m.find_one_and_delete({"user": "u0"}, sort=[("tokenCount", -1)]),
        lambda: m.insert_many([_message(n) for n in range(50, 56)]),
        lambda: m.bulk_write(
            [
                InsertOne(_message(60)),
                UpdateOne({"_id": _oid(60)}, {"$set": {"text": "b"}}),
                UpdateMany({"user": "u0"}, {"$set": {"seen": True}}),
                DeleteOne({"_id": _oid(51)}),
                InsertOne(_message(61, messageId="m60")),
                DeleteMany({"tokenCount": {"$gt": 54}}),
            ],
            ordered=False,
        ),
        lambda: users.insert_many(
            [
                {"_id": _oid(100), "email": "a@x", "googleId": "g1", "expiresAt": LATER},
                {"_id": _oid(101), "email": "b@x"},
                {"_id": _oid(102), "email": "c@x"},  # no googleId twice: sparse, allowed
            ]
        ),
        lambda: users.insert_one({"_id": _oid(103), "email": "d@x", "googleId": "g1"}),
        lambda: users.insert_one({"_id": _oid(104), "email": "a@x"}),
        lambda: users.update_one({"_id": _oid(101)}, {"$set": {"googleId": "g1"}}),
        lambda: users.update_one({"_id": _oid(101)}, {"$set": {"googleId": "g2"}}),
        lambda: users.update_one({"_id": _oid(100)}, {"$unset": {"googleId": 1}}),
        lambda: users.update_one({"_id": _oid(102)}, {"$set": {"googleId": "g1"}}),
        lambda: users.update_one({"_id": _oid(100)}, {"$set": {"expiresAt": PAST}}),
        lambda: agents.insert_many(
            [
                {"_id": _oid(200 + n), "id": f"a{n}", "projectIds": [_oid(n), _oid(n + 1)]}
                for n in range(4)
            ]
        ),
        lambda: agents.update_one({"id": "a0"}, {"$push": {"projectIds": _oid(9)}}),
        lambda: agents.update_many({}, {"$pull": {"projectIds": _oid(2)}}),
        lambda: agents.update_one({"id": "a1"}, {"$set": {"author": _oid(7), "id": "a2"}}),
        lambda: agents.update_one({"id": "a3"}, {"$set": {"projectIds": []}}),
        lambda: db.checked.insert_one({"_id": 1, "n": 1}),
        lambda: db.checked.insert_one({"_id": 2}),
        lambda: db.checked.insert_one({"_id": 3}, bypass_document_validation=True),
        lambda: db.checked.update_one({"_id": 1}, {"$unset": {"n": 1}}),
        lambda: db.checked.insert_many([{"_id": 4, "n": 1}, {"_id": 4.0, "n": 2}]),
        lambda: db.checked.insert_one({"_id": Int64(1), "n": 3}),
        lambda: db.checked.update_one({"_id": 4}, {"$set": {"n": Decimal128("2.5")}}),
        # Batches stop before what insert_one would refuse: validation, an odd or bad _id.
        lambda: db.checked.insert_many([{"_id": "a", "n": 1}, {"_id": "b"}, {"_id": "c", "n": 1}]),
        lambda: db.checked.insert_many(
            [{"_id": "d", "n": 1}, {"_id": "e"}, {"_id": "f", "n": 1}], ordered=False
        ),
        lambda: db.checked.insert_many(
            [{"_id": "g", "n": 1}, {"_id": [1], "n": 1}, {"_id": 5, "n": 1}, {"_id": "h", "n": 1}],
            ordered=False,
        ),
        lambda: db.checked.insert_many(
            [{"_id": "i", "n": 1}, {"_id": "j", "n": 1}, {"_id": "a", "n": 2}, {"_id": "k"}],
            ordered=False,
        ),
        lambda: db.checked.delete_many({"n": 1}),  # string and number ids mixed
        lambda: db.checked.delete_many({"_id": {"$in": ["x", "d", 4.0]}}),
    ]
    return [_outcome(step) for step in steps]


def _state(db: Database) -> dict[str, Any]:
    """Every collection in natural order (exact BSON), its indexes, and the order in which
    indexed equality reads return documents (the engine keeps an order per index key)."""
    state: dict[str, Any] = {}
    for name in sorted(db.list_collection_names()):
        coll = db[name]
        docs = list(coll.find({}))
        state[name] = [bson.encode(d) for d in docs]
        state[f"{name} indexes"] = coll.index_information()
        for field in ("conversationId", "user", "messageId", "projectIds", "googleId"):
            for value in sorted({repr(d.get(field)) for d in docs}):
                match = next(d.get(field) for d in docs if repr(d.get(field)) == value)
                if isinstance(match, list):
                    continue
                found = [d["_id"] for d in coll.find({field: match})]
                state[f"{name} {field}={value}"] = [repr(i) for i in found]
    return state


def _transactions(db: Database) -> list[Any]:
    """Writes inside transactions, aborted and committed, and what each showed."""
    db.t.create_index("k", unique=True)
    db.t.insert_many([{"_id": i, "k": i, "v": 0} for i in range(6)])
    out: list[Any] = []
    t = db.t
    with db.client.start_session() as s:
        s.start_transaction()
        out.append(_outcome(lambda: t.update_many({}, {"$inc": {"v": 1}}, session=s)))
        out.append(_outcome(lambda: t.delete_one({"k": 2}, session=s)))
        out.append(_outcome(lambda: t.insert_many([{"_id": 9, "k": 9}, {"_id": 8}], session=s)))
        out.append(_outcome(lambda: t.update_one({"k": 3}, {"$set": {"k": 4}}, session=s)))
        out.append(_outcome(lambda: t.delete_many({"k": {"$in": [0, 1]}}, session=s)))
        out.append(list(t.find({}, session=s)))
        s.abort_transaction()
    out.append(list(t.find({})))
    with db.client.start_session() as s, s.start_transaction():
        out.append(_outcome(lambda: t.update_one({"k": 1}, {"$set": {"k": 7}}, session=s)))
        out.append(_outcome(lambda: t.delete_many({"k": {"$in": [0, 5]}}, session=s)))
        out.append(_outcome(lambda: t.insert_many([{"_id": 20}, {"_id": 21}], session=s)))
    out.append(list(t.find({})))
    return out


def test_the_write_shortcuts_switch_is_live(probed: dict[str, dict[str, Any]]) -> None:
    assert probed["off"]["engine"]["write_shortcuts"] is False
    assert probed["on"]["engine"]["write_shortcuts"] is True


def test_write_shortcuts_give_the_engines_results(probed: dict[str, dict[str, Any]]) -> None:
    off, on = probed["off"], probed["on"]
    for i, (a, b) in enumerate(zip(off["outcomes"], on["outcomes"], strict=True)):
        assert b == a, f"step {i}"
    errors = [o for o in on["outcomes"] if isinstance(o, tuple)]
    assert {e[2] for e in errors} >= {11000, 121}, errors  # duplicates and validation seen
    assert len(errors) >= 12
    assert on["transactions"] == off["transactions"]
    assert on["read"] == off["read"]


def test_write_shortcuts_leave_the_engine_in_its_own_state(
    probed: dict[str, dict[str, Any]],
) -> None:
    off, on = probed["off"]["engine"], probed["on"]["engine"]
    assert sorted(on) == sorted(off)
    for key in off:
        if key != "write_shortcuts":
            assert on[key] == off[key], key
