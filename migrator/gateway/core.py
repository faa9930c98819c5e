"""``DbGateway``: the entry point of the built-in gateway (IDbGateway, docs/librechat.md §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pymongo.database import Database
from pymongo.errors import PyMongoError

from migrator.errors import ConfigError
from migrator.gateway.adapters import ADAPTERS
from migrator.gateway.repositories import REGISTRY, repository_class
from migrator.gateway.repository import Repository

R = TypeVar("R", bound=Repository)


class DbGateway:
    """connect / disconnect / get_repository / transaction / health_check."""

    def __init__(self, database: Database, type: str = "mongodb") -> None:
        if type not in ADAPTERS:
            raise ConfigError(f"gateway type must be one of {sorted(ADAPTERS)}, got {type!r}")
        self.adapter = ADAPTERS[type](database)
        self._session = None
        self.transactions_used = False
        self._transactions: bool | None = None

    @classmethod
    def connect(cls, database: Database, type: str = "mongodb") -> DbGateway:
        return cls(database, type)

    def disconnect(self) -> None:
        self.adapter.close()

    def is_connected(self) -> bool:
        return self.adapter.connected

    def get_type(self) -> str:
        return self.adapter.type

    def get_repository(self, name: str) -> Any:
        if name not in REGISTRY:
            raise ConfigError(f"unknown repository {name!r}; known: {', '.join(sorted(REGISTRY))}")
        cls = repository_class(name)
        return cls(self.adapter.collection(cls.collection_name), self._session)

    def transaction(self, fn: Callable[[DbGateway], Any]) -> Any:
        """Run ``fn`` in a transaction; without server support, run it plainly (graceful)."""
        if not self.supports_transactions():
            return fn(self)
        with self.adapter.start_session() as session:
            self._session = session
            try:
                result = session.with_transaction(lambda _s: fn(self))
            finally:
                self._session = None
        self.transactions_used = True
        return result

    def supports_transactions(self) -> bool:
        if self._transactions is None:
            with self.adapter.start_session() as session:
                try:
                    session.start_transaction()
                    self.adapter.collection("__migrator_probe").find_one({}, session=session)
                    session.abort_transaction()
                    self._transactions = True
                except PyMongoError:
                    self._transactions = False
        return self._transactions

    def health_check(self) -> bool:
        try:
            return self.adapter.ping()
        except PyMongoError:
            return False
