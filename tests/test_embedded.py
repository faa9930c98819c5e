from __future__ import annotations

from click.testing import CliRunner
from pymongo import MongoClient

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
