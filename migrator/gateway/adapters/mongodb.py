"""The MongoDB adapter: owns the database handle and sessions; repositories get collections."""

from __future__ import annotations

from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database


class MongoAdapter:
    type = "mongodb"

    def __init__(self, database: Database) -> None:
        self.database = database
        self.connected = True

    def collection(self, name: str) -> Collection:
        return self.database[name]

    def start_session(self) -> ClientSession:
        return self.database.client.start_session()

    def ping(self) -> bool:
        self.database.client.admin.command("ping")
        return True

    def close(self) -> None:
        self.connected = False
