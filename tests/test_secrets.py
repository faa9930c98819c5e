"""Issue 14 item 3: one masking function for every connection string or option."""

from __future__ import annotations

import pytest

from migrator import db
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
