from __future__ import annotations

import pytest
from bson.int64 import Int64
from click.testing import CliRunner
from pymongo import MongoClient
from pymongo.database import Database

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
