"""What to count and how each path counts it: the filters and pipelines built from the schema
facts, and the counters (driver, built-in gateway, external gateway)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from migrator import model
from migrator.counts.result import DAY, NO_DATE, NO_OWNER, OWNER, Side
from migrator.gateway import DbGateway
from migrator.gateway.repositories import REGISTRY, repository_class

# --------------------------------------------------------------------------------------------
# What to count: filters and pipelines built from the schema facts
# --------------------------------------------------------------------------------------------


def _has(collection: str, path: str) -> bool:
    return path in model.DATE_FIELDS.get(collection, frozenset())


def recent_filter(collection: str, cutoff: datetime) -> dict[str, Any]:
    """Documents inside the settle window: last written at or after ``cutoff`` — by
    ``updatedAt``, else ``createdAt``; without timestamps by the ``_id``'s creation time.

    Only Date comparisons are used (MongoDB compares a Date with Dates only), so a date that
    is missing or an ISO string (a seeded hazard) never places a document in the window."""
    if _has(collection, "updatedAt"):
        return {
            "$or": [
                {"updatedAt": {"$gte": cutoff}},
                # updatedAt is not an old Date (missing, a string): fall back to createdAt
                {"createdAt": {"$gte": cutoff}, "updatedAt": {"$not": {"$lt": cutoff}}},
            ]
        }
    if _has(collection, "createdAt"):
        return {"createdAt": {"$gte": cutoff}}
    return {"_id": {"$gte": ObjectId.from_datetime(cutoff)}}


def settled_filter(collection: str, cutoff: datetime) -> dict[str, Any]:
    """The complement of ``recent_filter``: what both sides count. Documents that cannot be
    placed in time are always counted."""
    recent = recent_filter(collection, cutoff)
    if "$or" in recent:
        return {"$nor": recent["$or"]}
    (path, condition), *_ = recent.items()
    return {path: {"$not": condition}}


def owner_pipeline(collection: str, cutoff: datetime) -> list[dict[str, Any]]:
    owner = model.OWNER_FIELDS[collection][0]
    return [
        {"$match": settled_filter(collection, cutoff)},
        {"$group": {"_id": f"${owner}", "n": {"$sum": 1}}},
    ]


def day_pipeline(collection: str, cutoff: datetime) -> list[dict[str, Any]]:
    """Documents per UTC day of ``createdAt``; a ``createdAt`` that is not a Date -> NO_DATE."""
    day = {
        "$cond": [
            {"$eq": [{"$type": "$createdAt"}, "date"]},
            {"$dateToString": {"format": "%Y-%m-%d", "date": "$createdAt"}},
            NO_DATE,
        ]
    }
    return [
        {"$match": settled_filter(collection, cutoff)},
        {"$group": {"_id": day, "n": {"$sum": 1}}},
    ]


def owner_key(value: Any) -> tuple[str, str]:
    """(join key, stored type): ObjectId and string owners both join on the hex string."""
    if value is None:
        return NO_OWNER, "none"
    if isinstance(value, ObjectId):
        return str(value), "objectid"
    if isinstance(value, str):
        return value, "string"
    return str(value), type(value).__name__


# --------------------------------------------------------------------------------------------
# The two paths: the same questions, asked through the driver and through the repositories
# --------------------------------------------------------------------------------------------


class LegacyCounter:
    """Direct driver calls on the (read-only) source database."""

    path = "legacy"

    def __init__(self, database: Any) -> None:
        self.db = database

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return self.db[collection].count_documents(dict(query), session=session)

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        return list(self.db[collection].aggregate(pipeline, session=session, allowDiskUse=True))


class ExternalCounter:
    """An external gateway's repositories, through protocol v2's ``counts.count`` and
    ``counts.aggregate`` (no session can cross the pipe)."""

    path = "gateway"

    def __init__(self, client: Any) -> None:
        self.client = client

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return int(self.client.call("counts.count", {"collection": collection, "filter": query}))

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        rows = self.client.call(
            "counts.aggregate", {"collection": collection, "pipeline": pipeline}
        )
        return list(rows or [])


class GatewayCounter:
    """The gateway's repositories: ``count`` (strict, cast filter) and ``aggregate``."""

    path = "gateway"

    def __init__(self, gateway: DbGateway) -> None:
        self.gateway = gateway
        self.entities = {repository_class(n).collection_name: n for n in REGISTRY}

    def _repo(self, collection: str, session: Any) -> Any:
        repo = self.gateway.get_repository(self.entities[collection])
        repo.session = session
        return repo

    def count(self, collection: str, query: Mapping[str, Any], session: Any) -> int:
        return self._repo(collection, session).count(query)

    def aggregate(self, collection: str, pipeline: list[dict], session: Any) -> list[dict]:
        return self._repo(collection, session).aggregate(pipeline)


def count_side(
    counter: LegacyCounter | GatewayCounter | ExternalCounter,
    collection: str,
    cutoff: datetime,
    by: Sequence[str],
    session: Any = None,
) -> Side:
    side = Side()
    side.total = counter.count(collection, settled_filter(collection, cutoff), session)
    side.recent = counter.count(collection, recent_filter(collection, cutoff), session)
    if OWNER in by and collection in model.OWNER_FIELDS:
        for row in counter.aggregate(collection, owner_pipeline(collection, cutoff), session):
            key, kind = owner_key(row["_id"])
            side.owners[key] = side.owners.get(key, 0) + int(row["n"])
            side.owner_types[kind] += int(row["n"])
    if DAY in by and _has(collection, "createdAt"):
        for row in counter.aggregate(collection, day_pipeline(collection, cutoff), session):
            key = row["_id"] if isinstance(row["_id"], str) else NO_DATE
            side.days[key] = side.days.get(key, 0) + int(row["n"])
    return side
