from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from migrator import db, scratch, settings
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


def test_server_info_and_features(mongo_server, mongo_client) -> None:
    info = db.server_info(mongo_client, mongo_server.uri, features=True)
    assert info.version and info.version[0].isdigit()
    assert info.features is not None
    assert not [
        n for n in mongo_client.list_database_names() if n.startswith(scratch.SCRATCH_PREFIX)
    ]


def test_doctor_unreachable_fails_fast() -> None:
    runner = CliRunner()
    t0 = time.monotonic()
    result = runner.invoke(main, ["doctor", "--mongo-uri", "mongodb://u:hunter2@127.0.0.1:1/x"])
    assert time.monotonic() - t0 < 10
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach MongoDB")
    assert "hunter2" not in result.output and "***" in result.output


def test_doctor_against_server(mongo_server) -> None:
    result = CliRunner().invoke(main, ["doctor", "--mongo-uri", mongo_server.uri, "--json"])
    assert result.exit_code == 0, result.output
    assert '"features"' in result.output


def test_bad_uri_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["doctor", "--mongo-uri", "http://nope"])
    assert result.exit_code == 2 and "must start with mongodb://" in result.output


def test_ping_error_is_cannot_run() -> None:
    srv = db.Server("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")
    with pytest.raises(CannotRun):
        db.ping(srv.client(serverSelectionTimeoutMS=500), srv.uri)
