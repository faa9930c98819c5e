"""What every generator step shares: the random stream, id factory, writer and hazard counts."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from migrator.seed.hazards import HazardCounter
from migrator.seed.ids import Ids

Progress = Callable[[str, int], None]


# Collections whose insertion order the generator plants itself (sort-key ties).
KEEP_ORDER = frozenset({"agents", "promptgroups"})


class BatchWriter:
    """Buffers documents per collection and writes them with ``insert_many`` batches.

    With ``shuffle`` each batch is inserted in a random order (of that stream, so the seed
    stays deterministic): a server's natural order then follows no sort key, and a gateway
    that forgets a sort cannot pass by luck of insertion order."""

    def __init__(
        self,
        db: Database,
        progress: Progress | None,
        batch_size: int = 1000,
        shuffle: random.Random | None = None,
    ) -> None:
        self.db = db
        self.progress = progress
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, collection: str, doc: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(collection, [])
        buffer.append(doc)
        if len(buffer) >= self.batch_size:
            self.flush(collection)

    def flush(self, collection: str) -> None:
        buffer = self.buffers.get(collection)
        if not buffer:
            return
        if self.shuffle is not None and collection not in KEEP_ORDER:
            self.shuffle.shuffle(buffer)
        self.db[collection].insert_many(buffer, ordered=True)
        self.counts[collection] = self.counts.get(collection, 0) + len(buffer)
        self.buffers[collection] = []
        if self.progress is not None:
            self.progress(collection, self.counts[collection])

    def close(self) -> None:
        for collection in list(self.buffers):
            self.flush(collection)


@dataclass(frozen=True, slots=True)
class UserRef:
    """The little the later phases need to know about a written user."""

    index: int
    id: ObjectId
    created: datetime
    name: str
    email: str

    @property
    def hex(self) -> str:
        return str(self.id)


@dataclass(frozen=True, slots=True)
class AgentRef:
    id: str  # agent_<nanoid>
    name: str
    provider: str
    model: str
    created: datetime


@dataclass
class Ctx:
    rng: random.Random
    ids: Ids
    out: BatchWriter
    hazards: HazardCounter
    carriers: dict[str, frozenset[int]]
    public_agents: list[AgentRef] = field(default_factory=list)
    own_agents: dict[int, list[AgentRef]] = field(default_factory=dict)

    def carries(self, hazard: str, user: UserRef) -> bool:
        return user.index in self.carriers.get(hazard, ())

    def chance(self, p: float) -> bool:
        return self.rng.random() < p
