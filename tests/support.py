"""Shared test helpers: run an operation through both paths on real data and compare what
they answer and leave behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pymongo.database import Database

from migrator.compare.normalize import normalize
from migrator.compare.rules import Rules
from migrator.gateway import DbGateway
from migrator.services import catalog
from migrator.services.base import Args, Operation, Sampler

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


def assert_in_catalog(ops: Iterable[Operation], areas: Iterable[str]) -> None:
    """The operations are the catalog's, of these areas, and every write has a footprint."""
    listed, areas = catalog(), set(areas)
    for op in ops:
        assert listed.get(op.name) is op, op.name
        assert op.area in areas, op.name
        assert op.kind == "read" or op.footprint is not None, op.name


def agreeing_rows(op: Operation, db: Database, *, at_least: int = 1) -> list[tuple]:
    """``both_paths`` of a read with at least ``at_least`` inputs, every one answered alike."""
    rows = both_paths(op, db, n=8)
    assert len(rows) >= at_least, f"{op.name}: {len(rows)} inputs"
    differ = [(args, leg, gw) for args, leg, gw in rows if leg != gw]
    assert not differ, f"{len(differ)} of {len(rows)} inputs differ; first: {differ[0]}"
    return rows


def assert_not_vacuous(rows: list[tuple], nonempty: Callable[[Any], bool]) -> None:
    assert any(leg[0] == "value" and nonempty(leg[1]) for _, leg, _ in rows), (
        "every sampled input gave an empty answer: the agreement is vacuous"
    )


def nonempty(value: Any, pages: Iterable[str] = ()) -> bool:
    """A read answer that carries data: a page (under one of the ``pages`` keys) with rows, a
    count above zero, a document."""
    pages = tuple(pages)
    if isinstance(value, Mapping) and any(k in value for k in pages):
        return any(bool(value.get(k)) for k in pages)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value > 0
    return bool(value)


def settled(value: Any, rules: Rules) -> Any:
    """An observation with its volatile fields (generated ids, clocks) masked."""
    return normalize(value, rules)


def footprint_state(db: Database, footprint: Mapping[str, Mapping], rules: Rules) -> dict:
    """The documents a footprint names, volatile fields masked, in a stable order."""
    return {
        collection: sorted((settled(d, rules) for d in db[collection].find(dict(query))), key=repr)
        for collection, query in footprint.items()
    }


def write_problems(
    op: Operation, inputs: list[Args], legacy_db: Database, gateway_db: Database
) -> list[str]:
    """Apply every input of a write to both twins (legacy on the first, the gateway on the
    second): the answers and footprint documents that differ, or a vacuous run (no document
    changed, no answer). None found is a pass."""
    assert op.footprint is not None, op.name
    footprints = [op.footprint(legacy_db, args) for args in inputs]
    before = [footprint_state(legacy_db, fp, op.rules) for fp in footprints]
    gw = DbGateway(gateway_db)
    problems, answered = [], False
    for args in inputs:
        leg = outcome(op.legacy, legacy_db, **args)
        got = outcome(op.gateway, gw, **args)
        if settled(leg, op.rules) != settled(got, op.rules):
            problems.append(f"{op.name}: answers differ for {args}: {leg} vs {got}")
        answered = answered or (leg[0] == "value" and bool(leg[1]))
    changed = 0
    for fp, was in zip(footprints, before, strict=True):
        after = footprint_state(legacy_db, fp, op.rules)
        if after != footprint_state(gateway_db, fp, op.rules):
            problems.append(f"{op.name}: documents differ in {fp}")
        changed += after != was
    if not changed or not answered:
        problems.append(f"{op.name}: vacuous (changed {changed}, answered {answered})")
    return problems


def every_bson_type() -> dict[str, Any]:
    """One document holding a value of every BSON type (binary subtypes, a UUID, NaN, regex
    flags, code with a scope, a DBRef with extras, nested SON), for byte-for-byte checks."""
    from datetime import UTC, datetime
    from uuid import UUID

    from bson import (
        SON,
        Binary,
        Code,
        DBRef,
        Decimal128,
        MaxKey,
        MinKey,
        ObjectId,
        Regex,
        Timestamp,
    )
    from bson.int64 import Int64

    return {
        "_id": ObjectId("64b0000000000000000000aa"), "s": "ü €", "i": 7, "l": Int64(2**40),
        "big": 2**62, "f": 1.5, "nan": float("nan"), "d": Decimal128("1.10"), "t": True,
        "none": None, "when": datetime(2024, 2, 29, 12, 0, 1, 5000, tzinfo=UTC),
        "uuid": Binary(UUID(int=7).bytes, 4), "old": Binary(b"\x00\x01", 2),
        "md5": Binary(b"x" * 16, 5), "mine": Binary(b"\xff", 0x80), "raw": Binary(b"ab"),
        "re": Regex("^a.b", "imsx"), "code": Code("f()"), "scoped": Code("g()", {"x": 1}),
        "ts": Timestamp(1700000000, 3), "min": MinKey(), "max": MaxKey(),
        "ref": DBRef("c", ObjectId("64b0000000000000000000bb"), "db", extra="e"),
        "nested": SON([("z", 1), ("a", [{"b": [Int64(1), 2.5]}, [], {}])]), "empty": {},
    }  # fmt: skip
