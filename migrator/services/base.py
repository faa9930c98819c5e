"""What an operation is: a name, two implementations, an input sampler and compare rules.

Each service module lists its operations; ``migrator.services`` collects them in one catalog.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from migrator import model
from migrator.compare.rules import Rules
from migrator.gateway.repository import utcnow

Args = dict[str, Any]
UNKNOWN_ID = "5f0000000000000000000000"  # a well-formed ObjectId no seeded document has
Kind = Literal["read", "write"]


@dataclass
class Sampler:
    """Draws realistic arguments from the source database, deterministically for a seed.

    ``n`` is the number of inputs wanted; ``None`` means every input there is (``--samples all``).
    Sampling streams ids with reservoir sampling, so memory stays O(n), not O(collection).
    """

    db: Database
    n: int | None
    seed: int = 1
    now: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        fields: Iterable[str] = ("_id",),
        n: int | None = -1,
    ) -> list[dict[str, Any]]:
        """Up to ``n`` (default: the sampler's n) random documents' ``fields`` (reservoir)."""
        want = self.n if n == -1 else n
        projection = {f: 1 for f in fields}
        cursor = self.db[collection].find(dict(query or {}), projection).sort("_id", 1)
        if want is None:
            return list(cursor)
        chosen: list[dict[str, Any]] = []
        for i, doc in enumerate(cursor):
            if i < want:
                chosen.append(doc)
            else:
                j = self.rng.randint(0, i)
                if j < want:
                    chosen[j] = doc
        return chosen

    def orphans(
        self,
        child: str,
        field: str,
        parent: str,
        parent_field: str | None = None,
        n: int = 1,
        batch: int = 500,
    ) -> list[Any]:
        """Up to ``n`` values of ``child.field`` that no ``parent`` document holds (e.g. orphan
        messages' conversationIds). Streams grouped ids and checks them in batches: bounded
        memory, and no `distinct` (whose reply must fit in 16 MB)."""
        parent_field = parent_field or field
        found: list[Any] = []
        ids = self.db[child].aggregate(
            [
                {"$match": {field: {"$nin": [None, ""]}}},
                {"$group": {"_id": f"${field}"}},
                {"$sort": {"_id": 1}},
            ]
        )
        chunk: list[Any] = []

        def flush() -> None:
            held = {
                d[parent_field]
                for d in self.db[parent].find(
                    {parent_field: {"$in": chunk}}, {parent_field: 1, "_id": 0}
                )
            }
            found.extend(v for v in chunk if v not in held)
            chunk.clear()

        for doc in ids:
            chunk.append(doc["_id"])
            if len(chunk) >= batch:
                flush()
                if len(found) >= n:
                    break
        if chunk and len(found) < n:
            flush()
        return found[:n]

    def past(self, days: int) -> datetime:
        return self.now - timedelta(days=days)


@dataclass(frozen=True)
class Operation:
    name: str  # "<area>.<verb_noun>"
    kind: Kind
    legacy: Callable[..., Any]  # legacy(db: Database, **args)
    gateway: Callable[..., Any]  # gateway(gw: DbGateway, **args)
    sample: Callable[[Sampler], Iterator[Args] | list[Args]]
    rules: Rules = field(default_factory=Rules)
    # Writes: the documents an input may touch, as {collection: filter}, copied to sandboxes.
    footprint: Callable[[Database, Args], dict[str, dict[str, Any]]] | None = None
    doc: str = ""

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]


def oid(value: Any, path: str = "_id") -> Any:
    """Mongoose's cast of a string on an ObjectId path (§1 #2): invalid strings throw."""
    if isinstance(value, str):
        try:
            return ObjectId(value)
        except InvalidId:
            raise model.CastError(path, value) from None
    return value


def op_doc(fn: Callable[..., Any]) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
