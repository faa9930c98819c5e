"""Write operations verified in sandboxes (issue #7)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
from collections import Counter

import bson
from click.testing import CliRunner
from pymongo import MongoClient, ReturnDocument, monitoring

from migrator import services, settings
from migrator.choices import gateway_class
from migrator.clean import clean
from migrator.cli import main
from migrator.gateway import DbGateway
from migrator.gateway.repository import utcnow
from migrator.guard import WriteRefused, read_only
from migrator.paths import GatewayPath
from migrator.scratch import SCRATCH_PREFIX
from migrator.services.base import Sampler
from migrator.verify import sandbox, verify


def content_hash(database) -> str:
    digest = hashlib.sha256()
    for name in sorted(database.list_collection_names()):
        digest.update(name.encode())
        for doc in database[name].find({}).sort("_id", 1):
            digest.update(bson.encode(doc))
    return digest.hexdigest()


def _cfg(server, name):
    return settings.resolve(mongo_uri=server.uri, db=name, environ={})


def test_every_write_agrees_and_the_source_is_untouched(
    mongo_server, mongo_client, seeded_db
) -> None:
    before = content_hash(seeded_db)
    result = verify(
        _cfg(mongo_server, seeded_db.name),
        samples=3,
        writes=True,
        calibrate=False,
    )
    writes = [op for op in result.ops if op.kind == "write"]
    catalog = services.catalog().values()
    assert {op.name for op in writes} == {op.name for op in catalog if op.kind == "write"}
    assert all(op.inputs > 0 for op in writes)
    assert result.passed, [(op.name, dict(op.kinds)) for op in writes if not op.passed]
    assert content_hash(seeded_db) == before
    ours = f"{SCRATCH_PREFIX}{os.getpid()}x"  # this run's; other test workers may share the server
    assert not [n for n in mongo_client.list_database_names() if n.startswith(ours)]
    assert "sandbox" in result.environment["write_method"]


def _run_variant(mongo_client, source, name, wrong=None, gateway=DbGateway):
    """The write ``name`` verified in sandboxes, its gateway side replaced by the function
    ``wrong`` (the built-in gateway's repositories underneath) or run through ``gateway``."""
    op = services.catalog()[name]
    if wrong is not None:
        op = dataclasses.replace(op, gateway=wrong)
    guarded = read_only(source)
    inputs = list(op.sample(Sampler(guarded, 3, seed=5)))
    with sandbox.sandboxes(mongo_client, sandbox.new_run_id()) as boxes:
        return sandbox.run_writes(op, inputs, guarded, boxes, GatewayPath(boxes[1], gateway))


def test_lost_inc_is_caught(mongo_client, seeded_db) -> None:
    result = _run_variant(
        mongo_client, seeded_db, "files.increment_usage", gateway=gateway_class("lost-inc")
    )
    assert not result.passed
    assert result.fields["usage"] >= 1
    assert any(k.startswith("return: ") for k in result.kinds)
    assert "field value differs after the write" in result.kinds


def test_upsert_without_defaults_is_caught(mongo_client, seeded_db) -> None:
    def no_defaults(gw, *, data, disable_ttl=False):
        repo = gw.get_repository("File")
        now = utcnow()
        return repo.collection.find_one_and_update(
            {"file_id": data["file_id"]},
            {"$set": {**data, "updatedAt": now}, "$setOnInsert": {"createdAt": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    result = _run_variant(mongo_client, seeded_db, "files.create", no_defaults)
    assert not result.passed
    assert {"object", "usage", "__v"} & set(result.fields)


def test_delete_without_owner_filter_is_caught(mongo_client, seeded_db) -> None:
    def unscoped(gw, *, user_id, session_id):
        return gw.get_repository("Session").delete_many({"_id": {"$ne": session_id}})

    result = _run_variant(mongo_client, seeded_db, "auth.delete_other_sessions", unscoped)
    assert not result.passed
    assert result.kinds["document only in legacy's state after the write"] >= 1
    example = result.examples["document only in legacy's state after the write"][0]
    assert example.difference.legacy  # names the deleted bystander document


def test_missing_updated_at_bump_is_caught(mongo_client, seeded_db) -> None:
    def no_bump(gw, *, user_id, data):
        repo = gw.get_repository("User")
        return repo.collection.find_one_and_update(
            repo.filter({"_id": user_id}),
            {
                "$set": {k: v for k, v in data.items() if k in repo.fields},
                "$unset": {"expiresAt": ""},
            },
            projection=repo.projection(None),
            return_document=ReturnDocument.AFTER,
        )

    result = _run_variant(mongo_client, seeded_db, "auth.update_user", no_bump)
    assert not result.passed
    assert result.fields["updatedAt"] >= 1


class _Commands(monitoring.CommandListener):
    def __init__(self):
        self.names: list[str] = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_guard_refuses_before_the_server_sees_anything(mongo_server, seeded_db) -> None:
    listener = _Commands()
    client = MongoClient(mongo_server.uri, event_listeners=[listener])
    guarded = read_only(client[seeded_db.name])
    guarded.users.find_one({})
    for attempt in (
        lambda: guarded.users.insert_one({"x": 1}),
        lambda: guarded.files.update_many({}, {"$set": {"x": 1}}),
        lambda: guarded.sessions.find_one_and_delete({}),
        lambda: guarded.messages.bulk_write([]),
        lambda: guarded.drop_collection("users"),
    ):
        try:
            attempt()
            raise AssertionError("a write went through the guard")
        except WriteRefused:
            pass
    client.close()
    assert [n for n in listener.names if n != "endSessions"] == ["find"]  # only the read


def test_leftover_scratch_databases_are_dropped(unshared_server, mongo_client) -> None:
    mongo_server = unshared_server
    dead = f"{SCRATCH_PREFIX}999999x0_legacy"
    mongo_client[dead][sandbox.META].insert_one(
        {"pid": _dead_pid(), "host": platform.node(), "started": utcnow()}
    )
    live = f"{SCRATCH_PREFIX}{os.getpid()}xlive_legacy"
    mongo_client[live][sandbox.META].insert_one(
        {"pid": os.getpid(), "host": platform.node(), "started": utcnow()}
    )
    try:
        dropped = sandbox.drop_leftovers(mongo_client)
        assert dead in dropped and live not in dropped
        result = CliRunner().invoke(main, ["clean", "--mongo-uri", mongo_server.uri])
        assert result.exit_code == 0 and f"left {live}: owner pid" in result.output
        assert live in mongo_client.list_database_names()  # its owner (this process) runs
        result = CliRunner().invoke(main, ["clean", "--force", "--mongo-uri", mongo_server.uri])
        assert result.exit_code == 0 and live in result.output
        assert not [n for n in mongo_client.list_database_names() if n.startswith(SCRATCH_PREFIX)]
    finally:
        mongo_client.drop_database(live)


def test_clean_is_a_library_function(unshared_server, mongo_client) -> None:
    """`migrator clean` is clean(): the owner decides, unless forced."""
    mongo_server = unshared_server
    dead = f"{SCRATCH_PREFIX}999999x1_legacy"
    mongo_client[dead][sandbox.META].insert_one(
        {"pid": _dead_pid(), "host": platform.node(), "started": utcnow()}
    )
    live = f"{SCRATCH_PREFIX}{os.getpid()}xlive1_legacy"
    mongo_client[live][sandbox.META].insert_one(
        {"pid": os.getpid(), "host": platform.node(), "started": utcnow()}
    )
    cfg = settings.resolve(mongo_uri=mongo_server.uri)
    try:
        swept = clean(cfg)
        assert dead in swept.dropped and live not in swept.dropped
        assert (live, f"owner pid {os.getpid()} on this host is still running") in swept.spared
        assert live in clean(cfg, force=True).dropped
        assert live not in mongo_client.list_database_names()
    finally:
        mongo_client.drop_database(dead)
        mongo_client.drop_database(live)


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_settle_turns_a_sandbox_into_any_other_by_difference(mongo_client) -> None:
    box = mongo_client[f"{SCRATCH_PREFIX}{os.getpid()}xsettle_legacy"]
    try:
        a = sandbox.Contents({"files": [{"_id": 1, "n": 1}, {"_id": 2, "n": 2}]})
        b = sandbox.Contents({"files": [{"_id": 2, "n": 3}], "tokens": [{"_id": "t"}]})
        sandbox.settle(box, sandbox.Contents(), a)
        assert sandbox.read_state(box, a).raw == a.raw
        assert a.differing(b) == {("files", 1), ("files", 2), ("tokens", "t")}
        sandbox.settle(box, a, b)
        assert sandbox.read_state(box, b).raw == b.raw
        # A document in a collection the expected state does not know is still read.
        box.sessions.insert_one({"_id": "stray"})
        assert sandbox.read_state(box, b).docs["sessions"] == {"stray": {"_id": "stray"}}
    finally:
        mongo_client.drop_database(box.name)


def test_each_input_sees_only_its_baseline(mongo_client, seeded_db) -> None:
    """Inputs run one after another in the same sandboxes judge as each does alone, and the
    sandboxes are left empty: the put-back after each input is exact."""
    guarded = read_only(seeded_db)
    for name in ("conversations.delete", "files.increment_usage", "auth.create_user"):
        op = services.catalog()[name]
        inputs = list(op.sample(Sampler(guarded, 3, seed=5)))
        with sandbox.sandboxes(mongo_client, sandbox.new_run_id()) as boxes:
            together = sandbox.run_writes(op, inputs, guarded, boxes)
            assert all(sandbox.read_state(b, sandbox.Contents()).docs == {} for b in boxes)
            alone = [sandbox.verify_write(op, args, guarded, boxes)[0] for args in inputs]
        assert together.inputs == len(inputs) >= 2
        assert together.passed, (name, dict(together.kinds))
        assert dict(together.verdicts) == dict(Counter(v.status for v in alone)), name
