"""The two paths of every job, opened (and closed) in one place.

The **legacy path** is the oracle: pymongo calls on the source database behind the read-only
guard. The **gateway path** is the gateway under test, chosen once per run and used by every job
(verify reads and writes, counts, bench, preflight):

* the built-in Python gateway, or one of its named variants (``--gateway``);
* an external process speaking the JSON-lines protocol (``--gateway-cmd``);
* a LibreChat checkout's own db-gateway, driven by the Node adapter that ships with migrator
  (``--librechat PATH``).

No job swaps in another gateway: an operation the selected gateway cannot run is reported "not
verified" with the reason (``Paths.why_not``), never as passing.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymongo
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator import db
from migrator.choices import BUILTIN, LEGACY_CHOICES, LIBRECHAT, ORACLE, GatewayChoice
from migrator.errors import ConfigError, ServerLost, server_lost
from migrator.gateway import DbGateway
from migrator.gateway.external import ExternalGateway
from migrator.guard import read_only
from migrator.services.base import Args, Operation
from migrator.settings import Settings
from migrator.snapshot import Snapshot

HEALTH_TIMEOUT_S = 3.0
ProgressLine = Callable[[str], None]


class LegacyPath:
    name = "legacy"

    def __init__(self, database: Database) -> None:
        self.db = database

    def call(self, op: Operation, args: Args) -> Any:
        return op.legacy(self.db, **args)

    def bound(self, session: Any) -> LegacyPath:
        return LegacyPath(self.db.with_session(session))


class GatewayPath:
    """The built-in gateway (or a variant) over a database."""

    name = "gateway"

    def __init__(
        self, database: Database, factory: Callable[[Database], DbGateway] = DbGateway
    ) -> None:
        self.db, self.factory = database, factory
        self.gw = factory(database)

    def call(self, op: Operation, args: Args) -> Any:
        return op.gateway(self.gw, **args)

    def bound(self, session: Any) -> GatewayPath:
        return GatewayPath(self.db.with_session(session), self.factory)


class ExternalPath:
    """A path served by another process: the gateway, or (``branch="legacy"``) the
    application's own legacy code in that process."""

    def __init__(self, client: ExternalGateway, branch: str | None = None) -> None:
        self.client, self.branch = client, branch
        self.name = "legacy" if branch == "legacy" else "gateway"
        self.last_ns: int | None = None  # what the process reported for the last call
        self.pipe_ns = 0  # the pipe's own cost per call, where measured (bench)

    def call(self, op: Operation, args: Args) -> Any:
        self.last_ns = None
        value, self.last_ns = self.client.call_timed(op.name, args, branch=self.branch)
        return value


@dataclass
class Paths:
    """Both paths of one run, with the servers they read and what ran."""

    cfg: Settings
    choice: GatewayChoice
    uri: str  # the legacy server's URI (sandboxes live there)
    client: MongoClient
    g_client: MongoClient
    info: db.ServerInfo
    g_info: db.ServerInfo
    legacy: LegacyPath | ExternalPath
    gateway: GatewayPath | ExternalPath
    external: ExternalGateway | None = None
    # A second opinion on the oracle: the application's own legacy branch (or, with
    # ``legacy="librechat"``, the built-in oracle), compared with the legacy path per input.
    opinion: LegacyPath | ExternalPath | None = None
    opinion_note: str | None = None  # what the second opinion is, or why there is none
    source_db: Database | None = None

    @property
    def source(self) -> Database:
        """The guarded source database (samplers read it)."""
        assert self.source_db is not None
        return self.source_db

    @property
    def other_server(self) -> bool:
        return self.g_client is not self.client

    @property
    def gateway_name(self) -> str:
        """What actually answered the gateway calls, for every report."""
        if self.external is None:
            return self.choice.describe()
        ext = self.external
        name = f"{ext.name} {ext.version}".strip()
        return f"{name} (protocol {ext.protocol}) — {self.choice.describe()}"

    def why_not(self, op: Operation) -> str | None:
        """Why the selected gateway cannot verify ``op`` (None: it can)."""
        if self.external is None:
            return None
        write = op.kind == "write"
        why = self.external.why_not(op.name, write=write)
        if why is None and isinstance(self.legacy, ExternalPath):
            why = self.external.why_not(op.name, write=write, branch="legacy")
        return why

    def opinion_for(self, op: Operation) -> LegacyPath | ExternalPath | None:
        """The second opinion on ``op``'s legacy answer, where one can be asked."""
        own = isinstance(self.opinion, ExternalPath) and self.external is not None
        if own and self.external.why_not(op.name, branch="legacy") is not None:  # type: ignore[union-attr]
            return None
        return self.opinion

    def offers(self, name: str) -> bool:
        """Whether the gateway offers a protocol operation such as ``counts.count``."""
        return self.external is None or (
            self.external.supports(name) and self.external.protocol >= 2
        )

    def check_alive(self) -> None:
        """Raise :class:`ServerLost` when a server or the gateway process is gone (a call
        that timed out may mean that, and then the run must stop, not count timeouts)."""
        for client in dict.fromkeys((self.client, self.g_client)):
            try:
                with pymongo.timeout(HEALTH_TIMEOUT_S):
                    client.admin.command("ping")
            except PyMongoError as exc:
                lost = server_lost(exc) or ServerLost(f"the database server was lost: {exc}")
                raise lost from None
        if self.external is not None and not self.external.alive:
            raise ServerLost(f"the gateway process `{self.external.cmdline}` has exited")

    def snapshot(self) -> Snapshot:
        """How both paths can read at one point in time: one snapshot session shared by both,
        one per path (another server), or none, and why."""
        if self.external is not None:
            return Snapshot.none("the gateway is another process")
        if not (self.info.features and self.info.features.snapshot_reads):
            return Snapshot.none("the server has no snapshot reads")
        if not self.other_server:
            return Snapshot.shared()
        if not (self.g_info.features and self.g_info.features.snapshot_reads):
            return Snapshot.none("the gateway reads another server, which has no snapshot reads")
        return Snapshot.per_path("the gateway reads another server")

    @contextmanager
    def writes_gateway(self, scratch: Database) -> Iterator[GatewayPath | ExternalPath]:
        """The gateway under test, writing to a scratch database: the built-in gateway over
        it, or a second process of the external gateway started on it (a gateway connects
        once, to one database)."""
        if self.external is None:
            yield GatewayPath(scratch, self.choice.factory())
            return
        child = self.external.spawn(self.uri, scratch.name)
        try:
            yield ExternalPath(child)
        finally:
            child.close()

    @contextmanager
    def writes_legacy(self, scratch: Database) -> Iterator[LegacyPath | ExternalPath]:
        """The legacy path writing to a scratch database: the oracle over it, or (with
        ``legacy="librechat"``) the checkout's legacy branch in a process started on it."""
        if not isinstance(self.legacy, ExternalPath):
            yield LegacyPath(scratch)
            return
        child = self.legacy.client.spawn(self.uri, scratch.name)
        try:
            yield ExternalPath(child, branch="legacy")
        finally:
            child.close()

    def environment(self) -> dict[str, Any]:
        """The environment every report names."""
        from migrator.report import git_revision

        return {
            "server": self.info.to_dict(),
            "gateway_server": self.g_info.to_dict(),
            "legacy_db": self.cfg.db,
            "gateway_db": self.cfg.gateway_db,
            "migration": self.cfg.migration,
            "pymongo": pymongo.version,
            "python": platform.python_version(),
            "host": platform.node(),
            "git_revision": git_revision(),
            "gateway": self.gateway_name,
            "gateway_kind": (
                "librechat"
                if self.choice.librechat
                else "external"
                if self.choice.cmd
                else "built-in"
            ),
            "use_db_gateway": self.cfg.use_db_gateway,
        }


def _second_opinion(paths: Paths, oracle: LegacyPath, legacy: str) -> None:
    """Where the gateway process can also answer with the application's legacy code, that
    answer checks the oracle (or, with ``legacy="librechat"``, is the legacy path)."""
    ext = paths.external
    if ext is None or "legacy" not in ext.branches:
        return
    own = ExternalPath(ext, branch="legacy")
    if legacy == LIBRECHAT:
        paths.legacy, paths.opinion = own, oracle
        paths.opinion_note = "the built-in oracle, compared with the checkout's legacy branch"
    elif paths.cfg.migration:
        paths.opinion_note = (
            "not asked: the checkout's legacy branch would read the gateway's database"
        )
    else:
        paths.opinion = own
        paths.opinion_note = "the checkout's own legacy branch, compared with the built-in oracle"


def start_external(
    choice: GatewayChoice, uri: str, database: str, progress: ProgressLine | None
) -> ExternalGateway:
    if choice.librechat:
        from migrator import librechat

        prepared = librechat.prepare(choice.librechat, progress=progress)
        return ExternalGateway.for_database(
            prepared.argv, uri, database, env=prepared.env, cwd=prepared.cwd
        )
    assert choice.cmd is not None
    return ExternalGateway.for_database(choice.cmd, uri, database)


@contextmanager
def open_paths(
    cfg: Settings,
    choice: GatewayChoice | None = None,
    *,
    features: bool = True,
    event_listeners: list[Any] | None = None,
    progress: ProgressLine | None = None,
    legacy: str = ORACLE,
) -> Iterator[Paths]:
    """Connect to the servers, open both paths, and close everything afterwards.

    ``event_listeners`` (bench) are registered on every client, which then keeps one pooled
    connection open before the first timed call. ``legacy="librechat"`` makes the checkout's
    own legacy branch the legacy path (the built-in oracle then gives the second opinion).
    """
    choice = choice or GatewayChoice()
    if legacy not in LEGACY_CHOICES:
        raise ConfigError(f"--legacy must be one of {', '.join(LEGACY_CHOICES)}, got {legacy!r}")
    if legacy == LIBRECHAT and not choice.librechat:
        raise ConfigError("--legacy librechat needs --librechat PATH (the checkout to ask)")
    if legacy == LIBRECHAT and cfg.migration:
        raise ConfigError(
            "--legacy librechat reads through the gateway's connection: it cannot be used when "
            "the gateway reads another database (--gateway-uri / --gateway-db)"
        )
    extra: dict[str, Any] = (
        {"event_listeners": event_listeners, "minPoolSize": 1} if event_listeners else {}
    )
    with db.server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv:
        client = srv.client(**extra)
        g_client = client
        external: ExternalGateway | None = None
        try:
            info = db.server_info(client, srv.uri, features=features)
            source = db.librechat_database(client, cfg.db, info.uri)
            g_info = info
            if cfg.gateway_uri and cfg.gateway_uri != srv.uri:
                g_client = db.Server(cfg.gateway_uri).client(**extra)
                g_info = db.server_info(g_client, cfg.gateway_uri, features=features)
            gateway: GatewayPath | ExternalPath
            if choice.external:
                external = start_external(
                    choice, cfg.gateway_uri or srv.uri, cfg.gateway_db, progress
                )
                gateway = ExternalPath(external)
            else:
                gateway = GatewayPath(read_only(g_client[cfg.gateway_db]), choice.factory())
            oracle = LegacyPath(read_only(source))
            paths = Paths(
                cfg=cfg,
                choice=choice,
                uri=srv.uri,
                client=client,
                g_client=g_client,
                info=info,
                g_info=g_info,
                legacy=oracle,
                gateway=gateway,
                external=external,
                source_db=oracle.db,
            )
            _second_opinion(paths, oracle, legacy)
            yield paths
        finally:
            if external is not None:
                external.close()
            if g_client is not client:
                g_client.close()
            client.close()


__all__ = [
    "BUILTIN",
    "ExternalPath",
    "GatewayChoice",
    "GatewayPath",
    "LegacyPath",
    "Paths",
    "open_paths",
]
