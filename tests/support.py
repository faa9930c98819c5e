"""Shared test helpers: run an operation through both paths on real data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.database import Database

from migrator.gateway import DbGateway
from migrator.services.base import Operation, Sampler

# conftest's `twin_dbs` fixture: a maker of identical database pairs (legacy, gateway).
Twins = Callable[..., tuple[Database, Database]]


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """('value', v) or ('error', TypeName): an exception is an observation."""
    try:
        return "value", fn(*args, **kwargs)
    except Exception as exc:
        return "error", type(exc).__name__


def both_paths(
    op: Operation, db: Database, n: int = 8, seed: int = 3
) -> list[tuple[dict, Any, Any]]:
    """(args, legacy outcome, gateway outcome) for every sampled input of a read."""
    gw = DbGateway(db)
    rows = []
    for args in op.sample(Sampler(db, n, seed=seed)):
        rows.append((args, outcome(op.legacy, db, **args), outcome(op.gateway, gw, **args)))
    return rows
