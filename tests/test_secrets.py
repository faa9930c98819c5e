"""Issue 14 item 3: one masking function for every connection string or option."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner

from migrator import db
from migrator.cli import main
from migrator.secrets import mask_text, mask_uri

# (URI, secrets that must not survive, text that must survive)
URIS = [
    ("MONGODB://admin:UpperS3cret@db.example:27017/LibreChat", ["UpperS3cret"], "db.example:27017"),
    ("Mongodb+SRV://admin:SrvS3cret@c.x.net/db", ["SrvS3cret"], "c.x.net/db"),
    # the driver splits userinfo at the LAST `@` of the host part
    ("mongodb://admin:p@ss@AtS3cret@db.example/LibreChat", ["AtS3cret", "p@ss"], "@db.example"),
    ("mongodb+srv://admin:p@ssAt@c.x.net/?w=1", ["ssAt"], "@c.x.net/?w=1"),
    # a `/` in the password (the driver refuses it; its error must not print it either)
    ("mongodb://admin:sl/ashS3cret@db.example/db", ["ashS3cret"], "@db.example/db"),
    ("mongodb://admin:1234/slash@db.example/db", ["1234", "slash"], "@db.example/db"),
    (
        "mongodb://h:1/db?authMechanism=MONGODB-AWS&authMechanismProperties="
        "AWS_SESSION_TOKEN:Tok3nS3cret/+=,SERVICE_NAME:mongodb",
        ["Tok3nS3cret"],
        "SERVICE_NAME:mongodb",
    ),
    (
        "mongodb://h:1/db?authMechanismProperties=AWS_SESSION_TOKEN%3AEncTok3n",
        ["EncTok3n"],
        "authMechanismProperties=",
    ),
    (
        "mongodb://h:1/db?tls=true&tlsCertificateKeyFilePassword=PemS3cret",
        ["PemS3cret"],
        "tls=true",
    ),
    (
        "mongodb://h:1/?proxyHost=p&proxyUsername=PxUser;proxyPassword=PxS3cret",
        ["PxUser", "PxS3cret"],
        "proxyHost=p",
    ),
    ("mongdb://u:TypoS3cret@h/db", ["TypoS3cret"], "@h/db"),  # a mistyped scheme
    ("u:NoSchemeS3cret@h/db", ["NoSchemeS3cret"], "@h/db"),
]


@pytest.mark.parametrize(("uri", "secrets", "kept"), URIS)
def test_mask_uri(uri: str, secrets: list[str], kept: str) -> None:
    forms = [mask_uri(uri), db.mask_uri(uri)]
    if "://" in uri:  # free text: a URI is recognised by its scheme
        forms.append(mask_text(f"error: at {uri}: refused"))
    for masked in forms:
        for secret in secrets:
            assert secret not in masked, masked
        assert kept in masked
        assert "***" in masked


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://h:27017,h2:27018/db?replicaSet=rs&appName=me@x",
        "mongodb://[::1]:27017/db",
        "mongodb://%2Ftmp%2Fmongodb-27017.sock/db",
        "mongodb://user@h/db",  # no password: nothing to hide
    ],
)
def test_nothing_to_mask_is_left_alone(uri: str) -> None:
    assert mask_uri(uri) == uri


def test_mask_text_in_json_markdown_and_stderr() -> None:
    text = (
        '{"uri": "mongodb://h/db?tlsCertificateKeyFilePassword=pw1", "tokenCredits": 100}\n'
        "| MONGODB://u:pw2@h | x |\n"
        "MONGO_PASSWORD=pw3 {'AWS_SESSION_TOKEN': 'pw4'} refresh_token=pw5\n"
    )
    out = mask_text(text)
    for secret in ("pw1", "pw2", "pw3", "pw4", "pw5"):
        assert secret not in out
    # the structure around a masked value stays intact, and data that is no secret too
    assert '"tokenCredits": 100' in out
    assert '=***", "tokenCredits"' in out
    assert mask_text(out) == out  # idempotent


# --- every secret form through every command ------------------------------------------------

UNREACHABLE = "127.0.0.1:9"  # connection refused: the commands end with exit 3 ...
GIVE_UP = "serverSelectionTimeoutMS=300"  # ... soon: a timeout the URI sets is honoured
COMMANDS = ["doctor", "verify", "counts", "bench", "preflight"]
LEAKY = f"{sys.executable} {Path(__file__).parent / 'data' / 'leaky_gateway.py'}"
TINY_CONFIG = (
    '[verify]\nops = ["auth.count_users"]\nsamples = 1\nwrites = false\n'
    '[counts]\ncollections = ["users"]\n'
    '[bench]\nops = ["auth.count_users"]\npairs = 3\nwarmup = 0\n'
)


def _command_args(command: str, out: Path) -> list[str]:
    """The smallest run of each command."""
    if command == "doctor":
        return []
    if command == "verify":
        return ["--ops", "auth.count_users", "--samples", "1", "--no-calibrate", "--out", str(out)]
    if command == "counts":
        return ["--collections", "users", "--out", str(out)]  # history: out/counts-history.jsonl
    if command == "bench":
        args = ["--ops", "auth.count_users", "--pairs", "3", "--warmup", "0", "--samples", "1"]
        return [*args, "--out", str(out)]
    config = out.parent / "tiny.toml"
    config.write_text(TINY_CONFIG)
    return ["--config", str(config), "--out", str(out)]


def _with_options(uri: str, options: str) -> str:
    """``uri`` (the embedded server's) on database ``db`` with extra query options."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, options) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _cases(
    tmp: Path, server_uri: str, db_name: str
) -> list[tuple[str, list[str], list[str], set[int]]]:
    """(case, connection arguments, secrets, acceptable exit codes)."""
    env = tmp / ".env"
    env.write_text(
        "# LibreChat\n"
        f'MONGO_URI="mongodb://admin:EnvS3cret@{UNREACHABLE}/LibreChat?{GIVE_UP}" # prod, do not '
        "commit\n"
    )
    tok = "AWS_SESSION_TOKEN:Tok3nS3cret%2Fx%2By%3D"  # a token as a URI carries it
    reachable = _with_options(server_uri, f"authMechanismProperties={tok}")
    gateway = _with_options(server_uri, "authMechanismProperties=AWS_SESSION_TOKEN:GwTok3nS3cret")
    return [
        (
            "upper-case scheme",
            ["--mongo-uri", f"MONGODB://admin:UpperS3cret@{UNREACHABLE}/LibreChat"],
            ["UpperS3cret"],
            {2},
        ),
        (
            "@ in the password",
            ["--mongo-uri", f"mongodb://admin:p@ssAtS3cret@{UNREACHABLE}/LibreChat"],
            ["ssAtS3cret"],
            {2},
        ),
        ("quoted .env value with a comment", ["--env-file", str(env)], ["EnvS3cret"], {3}),
        (
            "query-string secrets, unreachable",
            [
                "--mongo-uri",
                f"mongodb://{UNREACHABLE}/LibreChat?tls=true&tlsCertificateKeyFilePassword=PemS3cret"
                f"&authMechanismProperties={tok}&{GIVE_UP}",
            ],
            ["PemS3cret", "Tok3nS3cret"],
            {3},
        ),
        (
            "query-string secrets, reports written",
            ["--mongo-uri", reachable, "--db", db_name, "--gateway-uri", gateway],
            ["Tok3nS3cret", "GwTok3nS3cret"],
            {0, 1},
        ),
        (
            "external gateway quoting its URI on stderr",
            ["--mongo-uri", reachable, "--db", db_name, "--gateway-cmd", LEAKY],
            ["Tok3nS3cret"],
            {3},
        ),
    ]


def test_no_secret_reaches_any_output_or_file(mongo_server, seeded_db, tmp_path: Path) -> None:
    """Each secret form through every command: stdout, stderr, every report and history file."""
    seen: list[str] = []
    for case, conn, secrets, codes in _cases(tmp_path, mongo_server.uri, seeded_db.name):
        for command in COMMANDS:
            if command == "doctor" and "--gateway-cmd" in conn:
                continue  # doctor runs no gateway
            out = tmp_path / f"{case.replace(' ', '_')}-{command}" / "reports"
            out.parent.mkdir(parents=True, exist_ok=True)
            args = [command, *conn, *_command_args(command, out)]
            result = CliRunner(env={"MONGO_URI": None}).invoke(main, args)
            where = f"{case} / {command}"
            assert result.exit_code in codes, (where, result.output, result.stderr)
            assert "Traceback" not in result.output + result.stderr, where
            texts = {"stdout": result.stdout, "stderr": result.stderr}
            files = [p for p in out.parent.rglob("*") if p.is_file() and p.suffix != ".png"]
            texts.update({str(p): p.read_text(errors="replace") for p in files})
            if codes == {0, 1}:
                has_json = any(p.suffix == ".json" for p in files)
                assert has_json or command == "doctor", (where, result.output)
                assert "***" in "".join(texts.values()), where  # the URI is there, masked
            for name, text in texts.items():
                for secret in secrets:
                    assert secret not in text, (where, name, text[:2000])
            seen.append(where)
    assert len(seen) == 6 * 5 - 1
