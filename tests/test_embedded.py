from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from bson import Decimal128, ObjectId
from bson.int64 import Int64
from click.testing import CliRunner
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure

from migrator import embedded
from migrator.cli import main


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
