"""Fixtures reach the database through the product's own seam (`migrator.db.server`):
a real MongoDB when MIGRATOR_TEST_MONGO_URI is set, else the embedded default."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture
def twin_dbs(
    mongo_client: MongoClient, twin_template: Database
) -> Iterator[tuple[Database, Database]]:
    """Two identical seeded databases (copies of one seeded template, indexes included):
    run the legacy path on one and the gateway path on the other."""
    from migrator.model import ensure_indexes

    names = [f"migrator_test_twin_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    dbs = (mongo_client[names[0]], mongo_client[names[1]])
    for database in dbs:
        ensure_indexes(database)
        for coll in twin_template.list_collection_names():
            docs = list(twin_template[coll].find({}))
            if docs:
                database[coll].insert_many(docs)
    yield dbs
    for name in names:
        mongo_client.drop_database(name)
