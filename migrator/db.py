"""Connections: which server, what it can do, and the read-only guard on source databases.

The one seam between the tool and a MongoDB server. Servers are found in this order
(docs/design.md, "The database"): an explicit URI; a ``mongod`` on PATH started for the run; the
embedded engine (``migrator.embedded``). Everything above this module speaks pymongo only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pymongo
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError, OperationFailure, PyMongoError

from migrator import embedded, secrets
from migrator.errors import CannotRun, ConfigError
from migrator.scratch import claim, scratch_name
from migrator.settings import Settings, mask_uri

CONNECT_TIMEOUT_MS = 5_000
# The embedded engine serves one command at a time; long commands must not trip heartbeats.
EMBEDDED_OPTIONS = {"connectTimeoutMS": 120_000, "socketTimeoutMS": 120_000}


@dataclass(frozen=True)
class Features:
    transactions: bool
    snapshot_reads: bool
    coll_stats: bool


@dataclass(frozen=True)
class ServerInfo:
    kind: str  # "MongoDB", "mongoeco (embedded)", ...
    version: str
    uri: str  # masked
    features: Features | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Server:
    """A reachable server: its URI and, when the tool started it, how to stop it."""

    uri: str
    started_by_us: bool = False
    kind_hint: str | None = None
    _stop: Any = field(default=None, repr=False)

    def client(self, **options: Any) -> MongoClient:
        given = {key.lower(): value for key, value in parse_qsl(urlsplit(self.uri).query)}
        for name in ("serverSelectionTimeoutMS", "connectTimeoutMS"):
            value = given.get(name.lower())
            if value is not None and not value.replace(".", "", 1).isdigit():
                raise ConfigError(
                    f"invalid MongoDB URI {mask_uri(self.uri)}: {name} must be a number of "
                    f"milliseconds, got {value!r}"
                )
        opts: dict[str, Any] = {
            name: CONNECT_TIMEOUT_MS
            for name in ("serverSelectionTimeoutMS", "connectTimeoutMS")
            if name.lower() not in given  # a timeout the URI sets is the user's choice
        }
        if self.kind_hint == embedded.KIND:
            opts.update(EMBEDDED_OPTIONS)
        opts.update(options)
        try:
            client: MongoClient = MongoClient(self.uri, **opts)
        except (ConfigurationError, ValueError) as exc:
            raise ConfigError(
                f"invalid MongoDB URI {mask_uri(self.uri)}: {secrets.mask_text(str(exc))}"
            ) from None
        if self.kind_hint is None and _is_embedded(client):
            # An explicit URI that leads to the embedded engine (e.g. `server start`'s): it
            # serves one command at a time, so give it the same long timeouts.
            self.kind_hint = embedded.KIND
            client.close()
            return self.client(**options)
        return client

    def close(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            stop()


@contextlib.contextmanager
def server(
    uri: str | None = None, *, data_dir: str | os.PathLike = ".migrator"
) -> Iterator[Server]:
    """Yield a reachable server; stop it afterwards if this call started it."""
    srv = _find_server(uri, Path(data_dir))
    try:
        yield srv
    finally:
        srv.close()


@contextlib.contextmanager
def connected(cfg: Settings) -> Iterator[MongoClient]:
    """A client of the legacy server (found or started as :func:`server` does), checked with a
    ping, closed afterwards (and the server stopped, if this call started it)."""
    with server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv:
        client = srv.client()
        try:
            ping(client, srv.uri)
            yield client
        finally:
            client.close()


def _is_embedded(client: MongoClient) -> bool:
    try:
        with pymongo.timeout(1.5):
            return client.admin.command("buildInfo").get("gitVersion") == "mongoeco"
    except PyMongoError:
        return False  # unreachable: `ping` reports it with the right exit code


def _find_server(uri: str | None, data_dir: Path) -> Server:
    if uri:
        if not uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError(
                f"--mongo-uri must start with mongodb:// or mongodb+srv://, got {mask_uri(uri)!r}"
            )
        return Server(uri)
    running = embedded.status(data_dir)
    if running is not None:
        return Server(running.uri, kind_hint=embedded.KIND)
    if shutil.which("mongod"):
        return _start_mongod()
    handle = embedded.start(data_dir)
    return Server(handle.uri, started_by_us=True, kind_hint=embedded.KIND, _stop=handle.stop)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_mongod() -> Server:
    """A throw-away single-node replica set (so transactions and snapshot reads work)."""
    dbpath = tempfile.mkdtemp(prefix="migrator-mongod-")
    port = _free_port()
    cmd = [
        "mongod",
        "--dbpath",
        dbpath,
        "--port",
        str(port),
        "--bind_ip",
        "127.0.0.1",
        "--replSet",
        "migrator",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(dbpath, ignore_errors=True)

    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + 30
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=1000)
    while True:
        try:
            client.admin.command("replSetInitiate")
            break
        except OperationFailure:
            break  # already initiated
        except PyMongoError:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop()
                raise CannotRun("mongod on PATH did not start within 30 s") from None
            time.sleep(0.3)
    while not client.admin.command("hello").get("isWritablePrimary"):
        if time.monotonic() > deadline:
            stop()
            raise CannotRun("mongod on PATH did not become primary within 30 s")
        time.sleep(0.2)
    client.close()
    return Server(uri, started_by_us=True, kind_hint="mongod (started for this run)", _stop=stop)


def ping(client: MongoClient, uri: str) -> None:
    """Fail with one clear line when the server cannot be reached or refuses us."""
    try:
        client.admin.command("ping")
    except OperationFailure as exc:
        if exc.code in (13, 18):
            raise CannotRun(
                f"authentication failed for {mask_uri(uri)}: "
                f"{secrets.mask_text(str(exc.details.get('errmsg', exc)))}"
            ) from None
        raise CannotRun(
            f"server at {mask_uri(uri)} refused ping: {secrets.mask_text(str(exc))}"
        ) from None
    except PyMongoError as exc:
        reason = str(exc).split(",")[0].split(" (configured timeouts")[0]
        raise CannotRun(
            f"cannot reach MongoDB at {mask_uri(uri)}: {secrets.mask_text(reason)}"
        ) from None


def server_info(client: MongoClient, uri: str, *, features: bool = False) -> ServerInfo:
    ping(client, uri)
    build = client.admin.command("buildInfo")
    kind = embedded.KIND if build.get("gitVersion") == "mongoeco" else "MongoDB"
    if kind == "MongoDB" and "ferretdb" in str(build).lower():
        kind = "FerretDB"
    feats = probe_features(client) if features else None
    return ServerInfo(
        kind=kind, version=str(build.get("version", "?")), uri=mask_uri(uri), features=feats
    )


def probe_features(client: MongoClient) -> Features:
    """Try each optional feature in a scratch database, then drop it."""
    name = scratch_name("probe")
    db = client[name]
    try:
        claim(db)  # its owner, so `migrator clean` leaves a running probe alone
        db.probe.insert_one({"n": 1})
        transactions = _works(lambda: _abort_transaction(client, db))
        snapshot = _works(lambda: _snapshot_read(client, db))
        coll_stats = _works(lambda: list(db.probe.aggregate([{"$collStats": {"count": {}}}])))
    finally:
        client.drop_database(name)
    return Features(transactions=transactions, snapshot_reads=snapshot, coll_stats=coll_stats)


def _works(fn: Any) -> bool:
    try:
        fn()
        return True
    except PyMongoError:
        return False


def _abort_transaction(client: MongoClient, db: Database) -> None:
    with client.start_session() as session:
        session.start_transaction()
        db.probe.insert_one({"n": 2}, session=session)
        session.abort_transaction()
    if db.probe.count_documents({}) != 1:
        raise OperationFailure("abort did not roll back")


def _snapshot_read(client: MongoClient, db: Database) -> None:
    with client.start_session(snapshot=True) as session:
        db.probe.find_one({}, session=session)


def driver_versions() -> dict[str, str]:
    import platform

    return {"pymongo": pymongo.version, "python": platform.python_version()}


def librechat_database(client: MongoClient, name: str, uri: str) -> Database:
    """The database ``name``, refused (exit 2) when it holds no LibreChat collection."""
    from migrator import model

    database = client[name]
    if not set(database.list_collection_names()) & set(model.COLLECTIONS):
        raise ConfigError(
            f"database {name!r} at {uri} has no LibreChat collections "
            f"(expected some of: users, conversations, messages, …)"
        )
    return database
