"""What an operation is: a name, two implementations, an input sampler and compare rules.

Each service module lists its operations; ``migrator.services`` collects them in one catalog.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

import copy
import functools
import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from migrator.compare.rules import Rules
from migrator.errors import MigratorError, server_lost
from migrator.gateway.repository import utcnow

Args = dict[str, Any]
PIVOTS = 4  # range reads per pick
# `_id` bounds per (database, collection), read once per process: they only shape where
# pivots fall (a pivot past the end wraps around), so a stale pair costs nothing.
_BOUNDS: dict[tuple[str, str], tuple[int, int] | None] = {}
UNKNOWN_ID = "5f0000000000000000000000"  # a well-formed ObjectId no seeded document has
UNKNOWN_UUID = "00000000-dead-4bee-8000-000000000000"  # no seeded conversation/message has it
Kind = Literal["read", "write"]


@dataclass
class Sampler:
    """Draws realistic arguments from the source database, deterministically for a seed.

    ``n`` is the number of inputs wanted; ``None`` means every input there is (``--samples all``).
    A sample of ``n`` reads O(n) documents, whatever the collection's size: a few indexed range
    reads from random ``_id`` pivots (``_id >= pivot``, sorted, short limit). Planted hazards
    come from the seed's manifest (``hazard_refs``), so no sampler has to scan for them.
    """

    db: Database
    n: int | None
    seed: int = 1
    now: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._manifest: dict[str, list[dict[str, Any]]] | None = None

    def pick(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        fields: Iterable[str] = ("_id",),
        n: int | None = -1,
    ) -> list[dict[str, Any]]:
        """Up to ``n`` (default: the sampler's n) random documents' ``fields``."""
        want = self.n if n == -1 else n
        projection = {f: 1 for f in fields}
        query = dict(query or {})
        if want is None:  # --samples all: every document, in _id order
            return list(self.db[collection].find(query, projection).sort("_id", 1))
        if want <= 0:
            return []
        bounds = self._id_bounds(collection)
        if bounds is None:  # no ObjectId _ids to pivot on: the first ones
            return list(self.db[collection].find(query, projection).sort("_id", 1).limit(want))
        # A few pivots, each an indexed range read of a short run; then `want` of the runs'
        # documents at random. Few round trips, and still O(want) documents read.
        runs = min(want, PIVOTS)
        per_run = -(-2 * want // runs)
        chosen: dict[Any, dict[str, Any]] = {}
        for _ in range(runs):
            for doc in self._run(collection, query, projection, bounds, per_run):
                chosen.setdefault(doc["_id"], doc)
        docs = list(chosen.values())
        return self.rng.sample(docs, min(want, len(docs)))

    def _id_bounds(self, collection: str) -> tuple[int, int] | None:
        key = (self.db.name, collection)
        if key not in _BOUNDS:
            coll = self.db[collection]
            low = coll.find_one({}, {"_id": 1}, sort=[("_id", 1)])
            high = coll.find_one({}, {"_id": 1}, sort=[("_id", -1)])
            ids = [d["_id"] if d else None for d in (low, high)]
            ok = all(isinstance(i, ObjectId) for i in ids)
            _BOUNDS[key] = (
                (int.from_bytes(ids[0].binary, "big"), int.from_bytes(ids[1].binary, "big"))
                if ok
                else None
            )
        return _BOUNDS[key]

    def _run(
        self,
        collection: str,
        query: dict[str, Any],
        projection: dict[str, int],
        bounds: tuple[int, int],
        size: int,
    ) -> list[dict[str, Any]]:
        """Up to ``size`` matching documents from a random ``_id`` on (wrapping around)."""
        pivot = ObjectId(self.rng.randint(*bounds).to_bytes(12, "big"))
        after = {"_id": {"$gte": pivot}}
        ranged = {"$and": [query, after]} if "_id" in query else {**query, **after}
        coll = self.db[collection]
        found = list(coll.find(ranged, projection).sort("_id", 1).limit(size))
        if len(found) < size:
            found += coll.find(query, projection).sort("_id", 1).limit(size - len(found))
        return found

    def probe(
        self, collection: str, query: Mapping[str, Any], fields: Iterable[str] = ("_id",)
    ) -> list[dict[str, Any]]:
        """One document matching a selective ``query`` (a hazard on a database without a
        manifest), as a list: one read the server answers from the query's own index, where
        a pivoted range read would walk the ``_id`` index past every non-matching document."""
        found = self.db[collection].find_one(dict(query), {f: 1 for f in fields})
        return [] if found is None else [found]

    def hazard_refs(self, hazard: str) -> list[dict[str, Any]]:
        """Where the seed planted ``hazard`` (its manifest refs), [] on other databases."""
        if self._manifest is None:
            from migrator.seed.hazards import read_manifest

            self._manifest = read_manifest(self.db)
        return list(self._manifest.get(hazard, []))

    def ref_values(self, hazard: str, key: str) -> list[Any]:
        """One field of every manifest ref of ``hazard`` (e.g. its users)."""
        return [r[key] for r in self.hazard_refs(hazard) if r.get(key) is not None]

    def owners(self, collection: str, field: str, n: int) -> list[Any]:
        """Distinct ``field`` values of random documents: owners weighted by how many
        documents they own (heavy users come first more often), in O(n) reads."""
        docs = self.pick(collection, {field: {"$nin": [None, ""]}}, (field,), n=n)
        return list(dict.fromkeys(d[field] for d in docs if d.get(field) is not None))

    def orphans(
        self,
        child: str,
        field: str,
        parent: str,
        parent_field: str | None = None,
        n: int = 1,
        probe: int = 40,
    ) -> list[Any]:
        """Up to ``n`` values of ``child.field`` that no ``parent`` document holds (e.g. orphan
        messages' conversationIds), among ``probe`` random children: one ``$in`` read."""
        parent_field = parent_field or field
        values = self.owners(child, field, probe)
        if not values:
            return []
        held = {
            d[parent_field]
            for d in self.db[parent].find(
                {parent_field: {"$in": values}}, {parent_field: 1, "_id": 0}
            )
        }
        return [v for v in values if v not in held][:n]

    def past(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def new_uuid(self) -> str:
        """A random UUID v4 (a new conversation, message or file id), from the sampler's seed."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


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
    # Planted hazards (migrator.seed.hazards) this operation can observe, each with the manifest
    # ref field an input carries to reach it; the sampler puts those inputs first.
    hazards: Mapping[str, str] = field(default_factory=dict)

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]


def footprint_oid(value: Any) -> Any:
    """An owner id for a footprint's filter: the ObjectId a string names, else the value as
    given (a filter on it then matches nothing)."""
    try:
        return ObjectId(value) if isinstance(value, str) else value
    except InvalidId:
        return value


def op_doc(fn: Callable[..., Any]) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


F = TypeVar("F", bound=Callable[..., Any])


def catch_all(answer: Any) -> Callable[[F], F]:
    """LibreChat's catch-all around a call (``catch (error) { logger.error(...); return answer }``):
    any failure is answered with a copy of ``answer`` — except the tool's own refusals
    (:class:`MigratorError`, e.g. the read-only guard) and a lost server, which are not
    LibreChat's to swallow: swallowed, a lost server would let a run go on judging empty
    answers (both paths "agree") instead of stopping."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def caught(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except MigratorError:
                raise
            except Exception as exc:
                if server_lost(exc) is not None:
                    raise
                return copy.deepcopy(answer)

        return caught  # type: ignore[return-value]

    return wrap
