"""Fixtures reach the database through the product's own seam (`migrator.db.server`):
a real MongoDB when MIGRATOR_TEST_MONGO_URI is set, else the embedded default."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from migrator import db

NODE_GATEWAY = Path(__file__).resolve().parents[1] / "examples" / "node-gateway"


def pytest_configure(config: pytest.Config) -> None:
    """The reference Node gateway's packages, installed once (npm ci, cached in its
    node_modules), so the README's test command runs every test CI runs. Done before any
    test module is collected, in the main process only (not in each xdist worker)."""
    if hasattr(config, "workerinput"):
        return
    if (NODE_GATEWAY / "node_modules" / "mongodb").is_dir() or not shutil.which("npm"):
        return
    subprocess.run(
        ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
        cwd=NODE_GATEWAY,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[db.Server]:
    uri = os.environ.get("MIGRATOR_TEST_MONGO_URI") or None
    with db.server(uri, data_dir=tmp_path_factory.mktemp("engine")) as srv:
        yield srv


@pytest.fixture
def unshared_server(mongo_server: db.Server) -> db.Server:
    """The server, for a test that forces scratch databases away (`clean --force` drops every
    run's, live ones too): skipped when other test workers share it (MIGRATOR_TEST_MONGO_URI
    with -n 2), where it would drop their sandboxes mid-run."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1))
    if not mongo_server.started_by_us and workers > 1:
        pytest.skip(
            "not verified here: a server shared by several test workers "
            "(MIGRATOR_TEST_MONGO_URI); --force would drop the other workers' live "
            "sandboxes. Run this test alone (-n0) to check it"
        )
    return mongo_server


@pytest.fixture(scope="session")
def mongo_client(mongo_server: db.Server) -> Iterator[MongoClient]:
    client = mongo_server.client()
    db.ping(client, mongo_server.uri)
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client: MongoClient) -> Iterator[Database]:
    """A fresh, empty database, dropped after the test."""
    name = f"migrator_test_{uuid.uuid4().hex[:8]}"
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture(scope="session")
def seeded_db(mongo_client: MongoClient) -> Iterator[Database]:
    """A seeded LibreChat database shared by read-only tests (never written by them)."""
    from migrator.seed import seed

    name = f"migrator_test_seeded_{uuid.uuid4().hex[:8]}"
    database = mongo_client[name]
    seed(database, users=24, seed=7)
    yield database
    mongo_client.drop_database(name)


@pytest.fixture(scope="session")
def twin_template(mongo_client: MongoClient) -> Iterator[Database]:
    from migrator.seed import seed

    name = f"migrator_test_template_{uuid.uuid4().hex[:8]}"
    seed(mongo_client[name], users=12, seed=11)
    yield mongo_client[name]
    mongo_client.drop_database(name)


# What a twin pair holds: collection -> filter of the documents copied (None: all of them).
Only = Mapping[str, Mapping[str, Any] | None]


@pytest.fixture
def twin_dbs(
    request: pytest.FixtureRequest, mongo_client: MongoClient
) -> Iterator[Callable[..., tuple[Database, Database]]]:
    """Make two identical databases (LibreChat's indexes, then the same documents copied from a
    seeded source): run the legacy path on one and the gateway path on the other.

    ``twin_dbs()`` copies all of ``twin_template``; ``twin_dbs(seeded_db, only={...})`` copies
    just the named collections (filtered) of another source, far cheaper on the embedded engine
    for a focused check. Every pair made is dropped after the test."""
    from migrator.model import ensure_indexes

    made: list[str] = []

    def make(source: Database | None = None, only: Only | None = None) -> tuple[Database, Database]:
        if source is None:
            source = request.getfixturevalue("twin_template")
        wanted = only if only is not None else dict.fromkeys(source.list_collection_names())
        docs = {c: list(source[c].find(dict(q or {}))) for c, q in wanted.items()}
        names = [f"migrator_test_twin_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        made.extend(names)
        for name in names:
            database = mongo_client[name]
            ensure_indexes(database)
            for collection, rows in docs.items():
                if rows:
                    database[collection].insert_many([dict(r) for r in rows])
        return mongo_client[names[0]], mongo_client[names[1]]

    yield make
    for name in made:
        mongo_client.drop_database(name)
