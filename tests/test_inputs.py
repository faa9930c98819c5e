"""Issue 14 item 4: every input file read with one clear line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator import settings
from migrator.cli import main
from migrator.compare.rules import load_rules
from migrator.errors import ConfigError
from migrator.services import catalog
from migrator.verify import read_replay

DEAD = "mongodb://127.0.0.1:9/LibreChat"  # never contacted: every case fails before
LATIN1 = "café".encode("latin-1")  # b"caf\xe9": not UTF-8


def _run(args: list[str], env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner(env={"MONGO_URI": None, **(env or {})}).invoke(main, args)
    return result.exit_code, result.output


def _one_line_exit_2(code: int, output: str, *needles: str) -> None:
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in lines[0], output


def _bad_file_is_exit_2(
    tmp_path: Path, command: str, option: str, name: str, content: bytes, *needles: str
) -> Path:
    """``command`` run with ``option`` naming a file of ``content``: one line, exit 2, naming
    the needles (``{file}`` stands for the file's path)."""
    path = tmp_path / name
    path.write_bytes(content)
    code, out = _run(
        [command, "--mongo-uri", DEAD, option, str(path), "--out", str(tmp_path / "r")]
    )
    _one_line_exit_2(code, out, *(n.replace("{file}", str(path)) for n in needles))
    return path


# --- replay -----------------------------------------------------------------------------------

REPLAY_CASES = [
    (
        b'{"op": "auth.count_users", "args": {}}\n'
        + b'{"op": "auth.get_user_by_id", "args": {"user_id": "'
        + LATIN1
        + b'"}}\n',
        "line 2: byte 0xe9 is not UTF-8",
    ),
    (
        b'{"op": "auth.get_user_by_id", "args": {"user_id": {"$oid": "xyz"}}}\n',
        "line 1 is not valid Extended JSON: 'xyz' is not a valid ObjectId",
    ),
    (
        b'{"op": "auth.count_active_sessions", "args": {"now": {"$date": "nope"}}}\n',
        "line 1 is not valid Extended JSON",
    ),
    (
        b'{"op": "auth.count_users", "args": {}}\n{"op": "auth.count_users"\n',
        "line 2 is not valid Extended JSON",
    ),
    (
        b'{"op": "auth.count_users", "args": {}, "at": "2026-01-01", "user": "x"}\n',
        "line 1 has unknown key 'user'; expected only op, args, at",
    ),
    (
        b'{"op": "auth.no_such_op", "args": {}}\n',
        "line 1 names unknown operation 'auth.no_such_op'",
    ),
    (
        b'{"op": "auth.get_user_by_id", "args": {"userid": "x"}}\n',
        "line 1: auth.get_user_by_id has no argument 'userid'; it takes",
    ),
    (b'{"op": "auth.count_users", "args": [1]}\n', 'line 1: "args" must be an object'),
    (b"[1, 2]\n", "line 1 is not a call record"),
]


@pytest.mark.parametrize(("content", "message"), REPLAY_CASES)
def test_bad_replay_is_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    replay = _bad_file_is_exit_2(
        tmp_path, "verify", "--replay", "calls.jsonl", content, "{file}", message
    )
    with pytest.raises(ConfigError, match="--replay"):
        read_replay(replay)


def test_good_replay_with_bom_reads(tmp_path: Path) -> None:
    replay = tmp_path / "calls.jsonl"
    data = (Path(__file__).parent / "data" / "replay.jsonl").read_bytes()
    replay.write_bytes(b"\xef\xbb\xbf" + data)
    assert sorted(read_replay(replay)) == sorted(
        read_replay(Path(__file__).parent / "data" / "replay.jsonl")
    )


# --- rules --------------------------------------------------------------------------------------

RULES_CASES = [
    ('[[rule]]\nops = "' + "café" + '"\n', "latin-1", "line 2: byte 0xe9 is not UTF-8"),
    (
        '[[rule]]\nops = "convrsations.*"\nignore = ["updatedAt"]\n',
        "utf-8",
        "rule 1: ops = 'convrsations.*' matches no operation",
    ),
    ('[[rule]]\nops = ["auth.*"]\n', "utf-8", "rule 1: ops must be one operation glob"),
    (
        '[[rule]]\nops = "auth.*"\nignore = "updatedAt"\n',
        "utf-8",
        "rule 1: ignore must be a list of path globs",
    ),
    (
        '[[rule]]\nops = "auth.*"\ndatetime_ms = "false"\n',
        "utf-8",
        "rule 1: datetime_ms must be true or false",
    ),
    (
        '[[rule]]\nops = "auth.*"\ntolerance = { "x" = "big" }\n',
        "utf-8",
        "rule 1: tolerance must be a table of path glob = a number",
    ),
    ('[[rules]]\nops = "auth.*"\n', "utf-8", "unknown top-level key 'rules'"),
    ('[[rule]]\nops = "auth.*"\nignor = ["x"]\n', "utf-8", "rule 1 has unknown key 'ignor'"),
    ("[[rule]\n", "utf-8", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "encoding", "message"), RULES_CASES)
def test_bad_rules_file_is_exit_2(tmp_path: Path, text: str, encoding: str, message: str) -> None:
    data = text.encode(encoding)
    _bad_file_is_exit_2(
        tmp_path, "verify", "--rules", "rules.toml", data, "--rules {file}", message
    )


def test_rules_file_with_bom_and_good_globs_loads(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_bytes(b"\xef\xbb\xbfrule:\n  - ops: '*.list_page'\n    ignore: [updatedAt]\n")
    [(glob, loaded)] = load_rules(str(rules), catalog())
    assert glob == "*.list_page" and loaded.ignore == ("updatedAt",)


# --- preflight config -----------------------------------------------------------------------

CONFIG_CASES = [
    ("[verify]\n# " + "café" + "\nsamples = 2\n", "latin-1", "line 2: byte 0xe9 is not UTF-8"),
    ("[verify]\nsampels = 2\n", "utf-8", "unknown key 'sampels' in [verify]"),
    ("[verfy]\nsamples = 2\n", "utf-8", "unknown section [verfy]"),
    (
        '[verify]\nops = ["convrsations.*"]\n',
        "utf-8",
        "[verify] ops: 'convrsations.*' matches no operation",
    ),
    ("[bench]\nops = [1]\n", "utf-8", "[bench] ops must be a list of operation globs"),
    ("[verify\n", "utf-8", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "encoding", "message"), CONFIG_CASES)
def test_bad_config_is_exit_2(tmp_path: Path, text: str, encoding: str, message: str) -> None:
    data = text.encode(encoding)
    _bad_file_is_exit_2(
        tmp_path, "preflight", "--config", "migrator.toml", data, "--config", message
    )


# --- counts history -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"schema_version": 1, "run_at": "x", "collections": {}}\n' + LATIN1 + b"\n",
            "line 2: byte 0xe9 is not UTF-8",
        ),
        (
            b'{"schema_version": 1, "run_at": "x", "collections": {}}\n{"schema_version": \n',
            "line 2 is corrupt",
        ),
    ],
)
def test_bad_history_is_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    history = _bad_file_is_exit_2(
        tmp_path, "counts", "--history", "h.jsonl", content, "--history {file}", message
    )
    assert history.read_bytes() == content  # left as it was


# --- .env -------------------------------------------------------------------------------------


def test_env_file_forms(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(
        b"\xef\xbb\xbf"  # a byte-order mark (Windows editors)
        + b'MONGO_URI="mongodb://u:p@db.example:27017/Chats" # prod\n'
        + b"USE_DB_GATEWAY='true'   # flipped on Monday\n"
        + b'CERT="-----BEGIN-----\nabc\n-----END-----"\n'
        + b"PLAIN=a b # comment\nHASH=a#b\n"
    )
    values = settings.read_env_file(env)
    assert values["MONGO_URI"] == "mongodb://u:p@db.example:27017/Chats"
    assert values["USE_DB_GATEWAY"] == "true"
    assert values["CERT"] == "-----BEGIN-----\nabc\n-----END-----"
    assert (values["PLAIN"], values["HASH"]) == ("a b", "a#b")
    s = settings.resolve(env_file=env, environ={})
    assert (s.mongo_uri, s.db, s.use_db_gateway) == (values["MONGO_URI"], "Chats", "true")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"A=1\nMONGO_URI=\n", "--env-file {env} line 2: MONGO_URI is empty"),
        (b'MONGO_URI="" # none\n', "--env-file {env} line 1: MONGO_URI is empty"),
        (
            b"A=" + LATIN1 + b"\nMONGO_URI=mongodb://h/db\n",
            "--env-file {env} line 1: byte 0xe9 is not UTF-8",
        ),
        (
            b'MONGO_URI="mongodb://u:pw@h/db\nA=1\n',
            "--env-file {env} line 1: MONGO_URI's value opens a \" quote that is never closed",
        ),
        (
            b'MONGO_URI="mongodb://h/db" prod\n',
            "--env-file {env} line 1: unexpected 'prod' after MONGO_URI's closing \" quote",
        ),
        (b"A=1\n", "--env-file {env} has no MONGO_URI line"),
    ],
)
@pytest.mark.parametrize("command", ["doctor", "verify", "counts", "bench", "preflight"])
def test_bad_env_file_is_exit_2(tmp_path: Path, content: bytes, message: str, command: str) -> None:
    env = tmp_path / ".env"
    env.write_bytes(content)
    code, out = _run(
        [
            command,
            "--env-file",
            str(env),
            *([] if command == "doctor" else ["--out", str(tmp_path / "r")]),
        ]
    )
    _one_line_exit_2(code, out, message.format(env=env))


@pytest.mark.parametrize(
    "command", ["doctor", "verify", "counts", "bench", "preflight", "clean", "seed"]
)
def test_empty_mongo_uri_is_a_usage_error(tmp_path: Path, command: str) -> None:
    code, out = _run([command], env={"MONGO_URI": ""})
    _one_line_exit_2(code, out, "MONGO_URI is set but empty in the environment")
    code, out = _run([command, "--mongo-uri", " "])
    _one_line_exit_2(code, out, "--mongo-uri is empty")


def test_env_file_wins_over_the_environment(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MONGO_URI=mongodb://from-file/A\n")
    s = settings.resolve(env_file=env, environ={"MONGO_URI": "mongodb://from-env/B"})
    assert s.mongo_uri == "mongodb://from-file/A"
    # and through the CLI, where click also reads $MONGO_URI: the file still wins
    env.write_text("MONGO_URI=\n")
    code, out = _run(["doctor", "--env-file", str(env)], env={"MONGO_URI": "mongodb://from-env/B"})
    _one_line_exit_2(code, out, "MONGO_URI is empty")
