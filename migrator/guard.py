"""The read-only guard: a source database handed to either path refuses every write before
anything reaches the server (issue #7). Reads pass through to pymongo unchanged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database

from migrator.errors import MigratorError

READ_METHODS = frozenset(
    {
        "find",
        "find_one",
        "count_documents",
        "estimated_document_count",
        "distinct",
        "list_indexes",
        "index_information",
        "options",
        "name",
        "full_name",
        "codec_options",
        "read_preference",
        "read_concern",
        "write_concern",
        "with_options",
    }
)
READ_COMMANDS = frozenset(
    {
        "ping",
        "hello",
        "ismaster",
        "isMaster",
        "buildInfo",
        "buildinfo",
        "listCollections",
        "dbStats",
        "collStats",
        "count",
        "distinct",
    }
)
WRITE_STAGES = ("$out", "$merge")


class WriteRefused(MigratorError):
    """A write was attempted on a database the tool only verifies."""

    exit_code = 3


SESSION_METHODS = frozenset(
    {
        "find",
        "find_one",
        "count_documents",
        "distinct",
        "aggregate",
        "list_indexes",
        "index_information",
    }
)


class ReadOnlyCollection:
    def __init__(self, collection: Collection, session: Any = None) -> None:
        self._c = collection
        self._session = session

    def __getattr__(self, name: str) -> Any:
        if name in SESSION_METHODS and self._session is not None:
            return self._in_session(getattr(self._c, name))
        if name in READ_METHODS:
            return getattr(self._c, name)
        raise WriteRefused(
            f"refused {self._c.full_name}.{name}(): the source database is read-only for migrator"
        )

    def _in_session(self, method: Any) -> Any:
        """Every read of a bound view runs in its session (a shared snapshot, see runner)."""

        def call(*args: Any, **kw: Any) -> Any:
            if kw.get("session") is None:
                kw["session"] = self._session
            return method(*args, **kw)

        return call

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]], *args: Any, **kw: Any) -> Any:
        if any(stage in s for s in pipeline for stage in WRITE_STAGES):
            raise WriteRefused(f"refused an $out/$merge aggregation on {self._c.full_name}")
        if self._session is not None and kw.get("session") is None:
            kw["session"] = self._session
        return self._c.aggregate(pipeline, *args, **kw)


class ReadOnlyDatabase:
    def __init__(self, database: Database, session: Any = None) -> None:
        self._db = database
        self._session = session
        self.name = database.name

    def with_session(self, session: Any) -> ReadOnlyDatabase:
        """The same guarded database, every read bound to ``session``."""
        return ReadOnlyDatabase(self._db, session)

    def __getitem__(self, name: str) -> ReadOnlyCollection:
        return ReadOnlyCollection(self._db[name], self._session)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ("list_collection_names", "codec_options", "read_preference"):
            return getattr(self._db, name)
        if name in ("client",):
            return ReadOnlyClient(self._db.client)
        if name in ("command", "drop_collection", "create_collection", "get_collection"):
            return getattr(self, f"_{name}")
        return ReadOnlyCollection(self._db[name], self._session)

    def _get_collection(self, name: str, **kw: Any) -> ReadOnlyCollection:
        return ReadOnlyCollection(self._db.get_collection(name, **kw), self._session)

    def _command(self, command: Any, *args: Any, **kw: Any) -> Any:
        name = command if isinstance(command, str) else next(iter(command))
        if name not in READ_COMMANDS:
            raise WriteRefused(f"refused command {name!r} on {self.name}: read-only source")
        return self._db.command(command, *args, **kw)

    def _drop_collection(self, *_: Any, **__: Any) -> Any:
        raise WriteRefused(f"refused drop_collection on {self.name}: read-only source")

    def _create_collection(self, *_: Any, **__: Any) -> Any:
        raise WriteRefused(f"refused create_collection on {self.name}: read-only source")


class ReadOnlyClient:
    """What a path may reach through ``db.client``: sessions and read-only admin commands."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.admin = ReadOnlyDatabase(client.admin)

    def start_session(self, *args: Any, **kw: Any) -> Any:
        return self._client.start_session(*args, **kw)

    def __getitem__(self, name: str) -> ReadOnlyDatabase:
        return ReadOnlyDatabase(self._client[name])


def read_only(database: Database) -> Database:
    """The guarded view of ``database`` (typed as a Database for the paths' signatures)."""
    return ReadOnlyDatabase(database)  # type: ignore[return-value]
