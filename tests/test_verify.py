from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from migrator import settings
from migrator.cli import main
from migrator.compare import Rules
from migrator.paths import GatewayChoice
from migrator.services.base import Operation
from migrator.verify import verify
from migrator.verify.report import markdown
from migrator.verify.result import timing
from migrator.verify.runner import RunOptions, run_operation


def _cfg(server, legacy_db: str, gateway_db: str | None = None):
    return settings.resolve(mongo_uri=server.uri, db=legacy_db, gateway_db=gateway_db, environ={})


def _by_name(result):
    return {op.name: op for op in result.ops}


def test_identical_databases_pass(mongo_server, seeded_db) -> None:
    result = verify(_cfg(mongo_server, seeded_db.name), ops=["auth.*"], samples=6, seed=2)
    assert result.passed, result.failing
    assert all(op.inputs > 0 for op in result.ops)
    assert sum(op.verdicts["match"] for op in result.ops) > 30
    # Where the time went: the parts add up to the run, each measured, none negative.
    t = timing(result)
    parts = ("paths", "sampling", "calibration", "sandbox", "tool_own")
    assert t["paths_seconds"] > 0 and t["sampling_seconds"] > 0 and t["calibration_seconds"] > 0
    assert t["sandbox_seconds"] == 0  # reads only
    assert sum(t[f"{p}_seconds"] for p in parts) == pytest.approx(t["seconds"], abs=0.01)
    assert t["tool_own_ratio"] == pytest.approx(t["tool_own_seconds"] / t["paths_seconds"], 0.01)
    uncalibrated = verify(
        _cfg(mongo_server, seeded_db.name), ops=["auth.count_*"], samples=2, calibrate=False
    )
    assert timing(uncalibrated)["calibration_seconds"] == 0


def test_injected_differences_are_reported_with_type_key_and_path(mongo_server, twin_dbs) -> None:
    source, target = twin_dbs()
    user = source.users.find_one(
        {"email": {"$regex": "^[a-z]"}, "name": {"$exists": True}}, sort=[("_id", 1)]
    )
    target.users.update_one({"_id": user["_id"]}, {"$set": {"email": user["email"].upper()}})
    other = source.users.find_one(
        {"_id": {"$ne": user["_id"]}, "name": {"$exists": True}}, sort=[("_id", 1)]
    )
    target.users.update_one({"_id": other["_id"]}, {"$unset": {"name": ""}})
    result = verify(
        _cfg(mongo_server, source.name, target.name),
        ops=["auth.get_user_by_id", "auth.find_user_by_email"],
        samples=None,
    )
    ops = _by_name(result)
    assert not result.passed
    by_id = ops["auth.get_user_by_id"]
    assert by_id.kinds["field value differs"] >= 1 and by_id.kinds["field missing"] >= 1
    assert by_id.fields["email"] >= 1 and by_id.fields["name"] >= 1
    examples = by_id.examples["field missing"]
    assert any(
        ex.args["user_id"] == str(other["_id"]) and ex.difference.path == "name" for ex in examples
    )
    # Login by the original (lower-case) email finds nothing on the target: a type difference.
    by_email = ops["auth.find_user_by_email"]
    assert by_email.verdicts["mismatch"] >= 1
    assert "document missing" in by_email.kinds


def _nondeterministic(db, **_):
    return {"v": 1, "nonce": random.random()}


def test_nondeterministic_field_is_noise_not_mismatch() -> None:
    op = Operation(
        "test.noisy",
        "read",
        _nondeterministic,
        _nondeterministic,
        lambda s: [{"i": i} for i in range(5)],
    )
    result = run_operation(
        op, [{"i": i} for i in range(5)], _Fn(op.legacy), _Fn(op.gateway), Rules(), RunOptions()
    )
    assert result.noise == ["nonce"]
    assert result.verdicts["noise"] == 5 and result.verdicts["mismatch"] == 0
    assert result.passed


class _Fn:
    name = "fn"

    def __init__(self, fn):
        self.fn = fn

    def call(self, op, args):
        return self.fn(None, **args)


def test_report_stays_bounded_with_thousands_of_mismatches() -> None:
    op = Operation(
        "test.broken",
        "read",
        lambda db, i: {"n": i, "tag": "a" * 50},
        lambda db, i: {"n": i + 1, "tag": "b" * 50},
        lambda s: [],
    )
    inputs = [{"i": i} for i in range(3000)]
    result = run_operation(
        op,
        inputs,
        _Fn(op.legacy),
        _Fn(op.gateway),
        Rules(),
        RunOptions(calibrate=False, recheck=False),
    )
    assert result.verdicts["mismatch"] == 3000
    assert all(len(v) <= 3 for v in result.examples.values())
    from migrator.verify import VerifyResult

    vr = VerifyResult(
        started=__import__("datetime").datetime(2026, 1, 1),
        environment={
            "server": {"kind": "k", "version": "v", "uri": "u"},
            "gateway_server": {"uri": "u"},
            "legacy_db": "a",
            "gateway_db": "b",
            "migration": True,
            "snapshot_reads": "no",
            "pymongo": "x",
            "python": "y",
            "host": "h",
            "gateway": "g",
        },
        options={},
        ops=[result],
    )
    assert len(markdown(vr)) < 6000


def test_cli_writes_reports_and_exit_codes(mongo_server, seeded_db, tmp_path) -> None:
    out = tmp_path / "reports"
    runner = CliRunner()
    base = ["verify", "--mongo-uri", mongo_server.uri, "--db", seeded_db.name, "--out", str(out)]
    ok = runner.invoke(main, [*base, "--ops", "auth.count_*", "--samples", "3"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(next(out.glob("verify-*.json")).read_text())
    assert data["schema_version"] == 1 and data["passed"] is True
    assert {o["name"] for o in data["operations"]} == {
        "auth.count_users",
        "auth.count_active_sessions",
    }
    assert next(out.glob("verify-*.md")).read_text().startswith("# migrator verify — GO")
    assert "<testsuite" in next(out.glob("verify-*.xml")).read_text()
    assert not list(out.glob("*.partial"))


def test_cli_bad_input_is_one_line(mongo_server, seeded_db, tmp_path) -> None:
    runner = CliRunner()
    base = [
        "verify",
        "--mongo-uri",
        mongo_server.uri,
        "--db",
        seeded_db.name,
        "--out",
        str(tmp_path),
    ]
    cases = [
        ([*base, "--ops", "nope.*"], 2, "matches no operation"),
        ([*base, "--samples", "-3"], 2, "--samples must be a positive integer or `all`, got '-3'"),
        ([*base, "--format", "pdf"], 2, "--format takes"),
    ]
    bad_rules = tmp_path / "r.toml"
    bad_rules.write_text('[[rule]]\nops = "auth.*"\nignor = ["x"]\n')
    cases.append(([*base, "--rules", str(bad_rules)], 2, "unknown key 'ignor'"))
    cases.append(
        (
            [
                "verify",
                "--mongo-uri",
                mongo_server.uri,
                "--db",
                "empty_db_x",
                "--out",
                str(tmp_path),
            ],
            2,
            "has no LibreChat collections",
        )
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases.append(([*base[:-1], str(blocker / "sub")], 2, "cannot write reports"))
    cases.append(
        (
            ["verify", "--mongo-uri", "mongodb://127.0.0.1:1", "--out", str(tmp_path)],
            3,
            "cannot reach MongoDB",
        )
    )
    for args, code, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == code, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.output


def test_source_is_never_written(mongo_server, seeded_db) -> None:
    from migrator.guard import WriteRefused, read_only

    guarded = read_only(seeded_db)
    before = seeded_db.users.count_documents({})
    for attempt in (
        lambda: guarded.users.insert_one({"x": 1}),
        lambda: guarded.users.delete_many({}),
        lambda: guarded.users.aggregate([{"$out": "x"}]),
        lambda: guarded.command("dropDatabase"),
    ):
        try:
            attempt()
            raise AssertionError("a write went through the guard")
        except WriteRefused:
            pass
    assert seeded_db.users.count_documents({}) == before


def test_replay_file_drives_the_inputs(mongo_server, seeded_db) -> None:
    from pathlib import Path

    replay = Path(__file__).parent / "data" / "replay.jsonl"
    result = verify(_cfg(mongo_server, seeded_db.name), replay=str(replay))
    assert {op.name: op.inputs for op in result.ops} == {
        "auth.count_users": 1,
        "auth.get_user_by_id": 1,
        "auth.count_active_sessions": 1,
    }
    assert result.passed


def test_external_gateway_process_is_verified_by_the_same_run(mongo_server, seeded_db) -> None:
    import shutil
    from pathlib import Path

    import pytest

    shim = Path(__file__).parents[1] / "examples" / "node-gateway"
    if not shutil.which("node") or not (shim / "node_modules").exists():
        pytest.skip(
            "node or npm missing (the test run installs the gateway's packages when npm exists)"
        )
    result = verify(
        _cfg(mongo_server, seeded_db.name),
        ops=["auth.*"],
        samples=4,
        gateway=GatewayChoice.of(cmd=f"node {shim / 'gateway.js'}"),
    )
    assert len(result.verified) == 8 and result.passed, result.coverage()
    assert "migrator-node-gateway" in result.environment["gateway"]
    assert f"node {shim / 'gateway.js'}" in result.environment["gateway"]


def test_injected_data_differences_across_areas(mongo_server, twin_dbs) -> None:
    """A copied database with one injected difference per kind: each shows as a mismatch of the
    right type, on the operations that read that data, with the document's key and field."""
    from datetime import timedelta

    source, target = twin_dbs()
    convo = source.conversations.find_one(
        {"expiredAt": None, "isArchived": False}, sort=[("_id", 1)]
    )
    msgs = list(
        source.messages.find(
            {"conversationId": convo["conversationId"], "createdAt": {"$type": "date"}}
        ).sort("_id", 1)
    )
    gone, stringy = msgs[0], msgs[-1]
    target.messages.delete_one({"_id": gone["_id"]})
    target.messages.update_one(
        {"_id": stringy["_id"]}, {"$set": {"createdAt": stringy["createdAt"].isoformat()}}
    )
    target.conversations.update_one(
        {"_id": convo["_id"]}, {"$set": {"updatedAt": convo["updatedAt"] + timedelta(hours=1)}}
    )
    tx = source.transactions.find_one({}, sort=[("_id", 1)])
    target.transactions.update_one({"_id": tx["_id"]}, {"$set": {"tokenValue": -1.5}})
    owner_file = source.files.find_one({}, sort=[("_id", 1)])
    extra = {k: v for k, v in owner_file.items() if k != "_id"} | {"file_id": "extra-file-id"}
    target.files.insert_one(extra)

    result = verify(
        _cfg(mongo_server, source.name, target.name),
        ops=[
            "messages.by_conversation",
            "conversations.get",
            "transactions.by_user",
            "files.list_for_user",
        ],
        samples=None,
        calibrate=False,
    )
    ops = _by_name(result)

    def has(op, kind, path, key=None):
        examples = ops[op].examples.get(kind, [])
        return ops[op].kinds[kind] >= 1 and any(
            ex.difference.path == path
            and (
                key is None
                or key in str(ex.difference.doc)
                or key in str(ex.difference.legacy)
                or key in str(ex.difference.gateway)
            )
            for ex in examples
        )

    assert has("messages.by_conversation", "document missing", "", gone["messageId"])
    assert has("messages.by_conversation", "type differs", "createdAt", stringy["messageId"])
    assert has("conversations.get", "field value differs", "updatedAt")
    assert has("transactions.by_user", "field value differs", "tokenValue", str(tx["_id"]))
    assert has("files.list_for_user", "document extra", "", "extra-file-id")
    assert not result.passed and set(result.failing) == set(ops)


def test_both_paths_read_each_input_in_one_snapshot(mongo_server, seeded_db) -> None:
    from pymongo import MongoClient, monitoring

    from migrator import services
    from migrator.guard import read_only
    from migrator.paths import GatewayPath, LegacyPath
    from migrator.services.base import Sampler

    class Sessions(monitoring.CommandListener):
        def __init__(self):
            self.reads: list[tuple[str, object]] = []

        def started(self, event):
            if event.command_name == "find":
                level = event.command.get("readConcern", {}).get("level")
                self.reads.append((level, event.command.get("lsid")))

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    listener = Sessions()
    client = MongoClient(mongo_server.uri, event_listeners=[listener])
    source = read_only(client[seeded_db.name])
    op = services.catalog()["auth.get_user_by_id"]
    inputs = list(op.sample(Sampler(source, 3, seed=1)))[:3]
    listener.reads.clear()  # the sampler's own read is not part of a comparison
    result = run_operation(
        op,
        inputs,
        LegacyPath(source),
        GatewayPath(source),
        op.rules,
        RunOptions(calibrate=False, snapshot_client=client),
    )
    client.close()
    assert result.passed and result.inputs == 3
    assert len(listener.reads) == 6 and {level for level, _ in listener.reads} == {"snapshot"}
    sessions = [str(lsid) for _, lsid in listener.reads]
    assert sessions[0::2] == sessions[1::2]  # each input's two reads share one session
