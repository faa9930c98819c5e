from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time

import pytest
from click.testing import CliRunner

from migrator import db, embedded, scratch, settings
from migrator.cli import main
from migrator.errors import CannotRun, ConfigError


def test_mask_uri_hides_password() -> None:
    assert (
        db.mask_uri("mongodb://bob:s3cr%40t@h:27017/LibreChat")
        == "mongodb://bob:***@h:27017/LibreChat"
    )
    assert db.mask_uri("mongodb+srv://u:p@c.x.net/?w=1") == "mongodb+srv://u:***@c.x.net/?w=1"
    assert db.mask_uri("mongodb://h:1/x") == "mongodb://h:1/x"


def test_db_name_defaults() -> None:
    assert settings.resolve(mongo_uri="mongodb://h/Chats", environ={}).db == "Chats"
    assert settings.resolve(mongo_uri="mongodb://h/", environ={}).db == "LibreChat"
    s = settings.resolve(mongo_uri="mongodb://h/A", gateway_db="B", environ={})
    assert (s.gateway_db, s.migration) == ("B", True)
    assert not settings.resolve(mongo_uri="mongodb://h/A", environ={}).migration
    with pytest.raises(ConfigError, match="--db must be a MongoDB database name"):
        settings.resolve(db="a/b", environ={})
    for empty in ({"db": ""}, {"gateway_db": ""}):  # given but empty: refused, not defaulted
        with pytest.raises(ConfigError, match="must be a MongoDB database name, got ''"):
            settings.resolve(mongo_uri="mongodb://h/A", environ={}, **empty)


def test_env_file(tmp_path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        '# LibreChat\nexport MONGO_URI="mongodb://u:pw@db:27017/LibreChat"\n'
        "USE_DB_GATEWAY=true # flipped\nOTHER='x'\n"
    )
    s = settings.resolve(env_file=env, environ={})
    assert (s.mongo_uri, s.db, s.use_db_gateway) == (
        "mongodb://u:pw@db:27017/LibreChat",
        "LibreChat",
        "true",
    )
    assert "pw" not in str(s.describe())
    assert env.read_text().startswith("# LibreChat")  # never edited
    (tmp_path / "bad.env").write_text("FOO=1\n")
    with pytest.raises(ConfigError, match="has no MONGO_URI"):
        settings.resolve(env_file=tmp_path / "bad.env", environ={})
    with pytest.raises(ConfigError, match="cannot read --env-file"):
        settings.resolve(env_file=tmp_path / "missing.env", environ={})


def _version(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.\d+(?:[-+.].*)?", text)
    assert match, f"not a MongoDB version string: {text!r}"
    return int(match[1]), int(match[2])


def test_server_info_and_features(mongo_server, mongo_client) -> None:
    """What `doctor` reports about the server in use is what that server is and can do."""
    info = db.server_info(mongo_client, mongo_server.uri, features=True)
    assert info.uri == db.mask_uri(mongo_server.uri)
    features = info.features
    assert features is not None
    assert all(type(v) is bool for v in dataclasses.asdict(features).values()), features
    version = _version(info.version)
    hello = mongo_client.admin.command("hello")
    if not os.environ.get("MIGRATOR_TEST_MONGO_URI"):
        # The fixture started a mongod on PATH (a single-node replica set), else the engine.
        assert info.kind == ("MongoDB" if shutil.which("mongod") else embedded.KIND)
    if info.kind == embedded.KIND:
        # The pinned engine (embedded.engine_packages()) answers as MongoDB 7.0.0 and accepts
        # transactions, snapshot sessions and $collStats (README, "The embedded default").
        assert hello.get("gitVersion") == "mongoeco"
        assert info.version == "7.0.0"
        assert features == db.Features(transactions=True, snapshot_reads=True, coll_stats=True)
    else:
        assert info.kind in ("MongoDB", "FerretDB"), info.kind
        assert hello.get("gitVersion") != "mongoeco"
    if info.kind == "MongoDB":
        # What MongoDB documents: transactions on a replica set (4.0+) or through mongos
        # (4.2+), snapshot reads on either from 5.0, $collStats everywhere (3.4+).
        mongos = hello.get("msg") == "isdbgrid"
        replicated = mongos or "setName" in hello
        assert features == db.Features(
            transactions=replicated and version >= ((4, 2) if mongos else (4, 0)),
            snapshot_reads=replicated and version >= (5, 0),
            coll_stats=True,
        ), (info.version, hello.get("setName"), hello.get("msg"))
    # The probe's scratch database is gone (other test workers' sandboxes may share the server).
    probes = f"{scratch.SCRATCH_PREFIX}probe_"
    assert not [n for n in mongo_client.list_database_names() if n.startswith(probes)]


def test_doctor_unreachable_fails_fast() -> None:
    runner = CliRunner()
    t0 = time.monotonic()
    result = runner.invoke(main, ["doctor", "--mongo-uri", "mongodb://u:hunter2@127.0.0.1:1/x"])
    assert time.monotonic() - t0 < 10
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach MongoDB")
    assert "hunter2" not in result.output and "***" in result.output


def test_doctor_against_server(mongo_server, mongo_client) -> None:
    result = CliRunner().invoke(main, ["doctor", "--mongo-uri", mongo_server.uri, "--json"])
    assert result.exit_code == 0, result.output
    legacy = json.loads(result.stdout)["legacy"]
    info = db.server_info(mongo_client, mongo_server.uri, features=True)
    assert (legacy["kind"], legacy["version"], legacy["uri"]) == (info.kind, info.version, info.uri)
    assert legacy["features"] == dataclasses.asdict(info.features)


def test_bad_uri_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["doctor", "--mongo-uri", "http://nope"])
    assert result.exit_code == 2 and "must start with mongodb://" in result.output


def test_ping_error_is_cannot_run() -> None:
    srv = db.Server("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")
    with pytest.raises(CannotRun):
        db.ping(srv.client(serverSelectionTimeoutMS=500), srv.uri)


def test_a_timeout_the_uri_sets_is_honoured_and_a_bad_one_refused() -> None:
    given = db.Server("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200").client()
    default = db.Server("mongodb://127.0.0.1:9/").client()
    try:
        assert given.options.server_selection_timeout == 0.2
        assert default.options.server_selection_timeout == db.CONNECT_TIMEOUT_MS / 1000
    finally:
        given.close()
        default.close()
    with pytest.raises(ConfigError, match="serverSelectionTimeoutMS must be a number"):
        db.Server("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=soon").client()
