"""The embedded engine's read shortcuts (migrator/embedded/_serve.py) answer exactly what the
engine answers with them off (``MIGRATOR_ENGINE_READ_SHORTCUTS=off``): the ordered ``_id`` walk
(a read sorted by ``_id`` with a limit, without scanning the collection), ``distinct``'s
hashed duplicate check, ``$in``'s hashed membership, ``$lookup``'s hash join, and replies
encoded in one pass (byte for byte).

Two engines hold the same documents, one with the shortcuts, one without; every read runs on
both. The collection's rows are stored out of ``_id`` order, so natural order never passes
for ``_id`` order by chance."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import Decimal128, ObjectId
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.collection import Collection

from migrator import embedded
from migrator.db import EMBEDDED_OPTIONS
from tests.support import every_bson_type

ROWS = 800
USERS = ["ann", "bob", "cy", "dee", "eve"]


def _even_id(rng: random.Random) -> ObjectId:
    """A random ObjectId whose successor (+1) no stored _id can be: a bound between two."""
    return ObjectId((rng.getrandbits(95) * 2).to_bytes(12, "big"))


def _next_id(oid: ObjectId) -> ObjectId:
    return ObjectId((int(str(oid), 16) + 1).to_bytes(12, "big"))


def _document(rng: random.Random, oid: ObjectId) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": oid, "u": rng.choice(USERS), "n": rng.randrange(100)}
    doc["k"] = f"k{rng.randrange(40)}"  # rare values: a small superset, sorted outright
    if rng.random() < 0.3:
        doc["flag"] = rng.random() < 0.5
    if rng.random() < 0.5:
        doc["tags"] = rng.sample(["x", "y", "z"], rng.randrange(1, 3))
    return doc


@dataclass
class Twins:
    """The same collection on an engine with the read shortcuts and on one without."""

    on: Collection
    off: Collection
    pids: dict[str, int]  # "on"/"off": the engine's process


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    """ROWS documents, ``u`` indexed, on both engines."""
    handles, clients = [], []
    try:
        for mode in ("on", "off"):
            with pytest.MonkeyPatch.context() as env:
                env.setenv("MIGRATOR_ENGINE_READ_SHORTCUTS", mode)
                handles.append(embedded.start(tmp_path_factory.mktemp(f"walk-{mode}")))
            clients.append(MongoClient(handles[-1].uri, **EMBEDDED_OPTIONS))
        rng = random.Random(5)
        ids = [_even_id(rng) for _ in range(ROWS)]  # stored out of _id order
        docs = [_document(rng, oid) for oid in ids]
        colls = [client.walk_test.c for client in clients]
        for coll in colls:
            coll.create_index("u")
            coll.insert_many([dict(d) for d in docs])
        yield Twins(colls[0], colls[1], {"on": handles[0].pid, "off": handles[1].pid})
    finally:
        for client in clients:
            client.close()
        for handle in handles:
            handle.stop()


def _same(on: Collection, off: Collection, read: Callable[[Collection], Any]) -> Any:
    got, want = read(on), read(off)
    assert got == want and repr(got) == repr(want)  # the same documents, fields in order
    return got


def _pivots(coll: Collection) -> list[ObjectId]:
    """Bounds that hit a stored _id, fall between two, and lie outside every one."""
    ids = sorted(d["_id"] for d in coll.find({}, {"_id": 1}))
    return [ids[0], ids[200], _next_id(ids[500]), ids[-1], ObjectId("0" * 24), ObjectId("f" * 24)]


RANGES = ["$gt", "$gte", "$lt", "$lte"]
FILTERS: list[dict[str, Any]] = [
    {},
    {"u": "bob"},  # indexed: a large hash bucket filters the walk
    {"k": "k7"},  # a small bucket (hashed on first use), put in _id order outright
    {"u": {"$in": ["ann", "cy"]}, "n": {"$lt": 50}},
    {"flag": True},  # unindexed, hashed on first use
    {"n": {"$gte": 90}},  # nothing bounds it: the walk alone
    {"tags": "x", "flag": {"$exists": False}},
    {"$or": [{"u": "eve"}, {"n": 7}]},
    {"u": "nobody"},
    # several bounded clauses: their supersets intersect
    {"u": "ann", "tags": "y"},
    {"u": {"$in": ["bob", "dee"]}, "$or": [{"k": "k3"}, {"flag": False}], "tags": "z"},
    {"$and": [{"k": {"$in": ["k1", "k2", "k9"]}}, {"u": "eve"}, {"flag": True}]},
]


def test_ranges_filters_and_directions(twins: Twins) -> None:
    on, off = twins.on, twins.off
    pivots = _pivots(off)
    # Every filter meets every bound and direction; pivots take turns (each a few times).
    turn = 0
    for direction in (1, -1):
        for op in RANGES:
            for extra in FILTERS:
                for pivot in (pivots[turn % 2], pivots[2 + turn % 4]):
                    query = {**extra, "_id": {op: pivot}}
                    _same(
                        on,
                        off,
                        lambda c, q=query, d=direction: list(c.find(q).sort("_id", d).limit(7)),
                    )
                turn += 1
    for query in FILTERS:  # no sort, no limit: every match, in natural order
        _same(on, off, lambda c, q=query: list(c.find(q)))
    # Both bounds, an $and around the range, find_one, and no range at all.
    lo, hi = pivots[1], pivots[2]
    _same(
        on, off, lambda c: list(c.find({"_id": {"$gte": lo, "$lt": hi}}).sort("_id", -1).limit(9))
    )
    _same(
        on,
        off,
        lambda c: list(
            c.find({"$and": [{"u": "ann"}, {"_id": {"$gt": lo}}]}).sort("_id", 1).limit(4)
        ),
    )
    for direction in (1, -1):
        first = _same(on, off, lambda c, d=direction: c.find_one({}, sort=[("_id", d)]))
        assert first is not None
    assert (
        _same(on, off, lambda c: list(c.find({"_id": {"$gt": pivots[3]}}).sort("_id", 1).limit(3)))
        == []
    )


def test_projection_skip_limits_and_batches(twins: Twins) -> None:
    on, off = twins.on, twins.off
    pivot = _pivots(off)[1]
    q = {"_id": {"$gte": pivot}, "n": {"$lt": 80}}
    for limit in (1, 101, 102, 250, ROWS + 10):  # around and past the first batch
        for batch in (None, 10):

            def read(c: Collection, limit: int = limit, batch: int | None = batch) -> list:
                cursor = c.find(q, {"u": 1}).sort("_id", 1).limit(limit)
                return list(cursor if batch is None else cursor.batch_size(batch))

            _same(on, off, read)
    _same(on, off, lambda c: list(c.find(q).sort("_id", -1).skip(5).limit(20)))
    _same(on, off, lambda c: list(c.find(q).sort("_id", 1).skip(ROWS).limit(5)))


def test_aggregation_prefix(twins: Twins) -> None:
    on, off = twins.on, twins.off
    pivot = _pivots(off)[2]
    pipelines: list[list[dict[str, Any]]] = [
        [{"$match": {"_id": {"$lte": pivot}}}, {"$sort": {"_id": -1}}, {"$limit": 5}],
        [
            {"$match": {"u": "dee", "_id": {"$gt": pivot}}},
            {"$sort": {"_id": 1}},
            {"$skip": 2},
            {"$limit": 120},
            {"$project": {"n": 1}},
        ],
        [{"$sort": {"_id": 1}}, {"$limit": 3}, {"$group": {"_id": None, "n": {"$sum": "$n"}}}],
    ]
    for pipeline in pipelines:
        for batch in (None, 2):
            opts = {} if batch is None else {"batchSize": batch}
            _same(on, off, lambda c, p=pipeline, o=opts: list(c.aggregate(p, **o)))


def test_after_writes(twins: Twins) -> None:
    on, off = twins.on, twins.off
    pivots = _pivots(off)
    rng = random.Random(9)
    fresh = [_document(rng, _even_id(rng)) for _ in range(40)]
    # New rows inside the range (between stored ids), deletes, updates that move rows in and
    # out of a filter: each kind of write, then reads that cross them.
    inside = _next_id(pivots[1])
    fresh.append({"_id": inside, "u": "bob", "n": 1})
    steps: list[Callable[[Collection], Any]] = [
        lambda c: c.insert_many([dict(d) for d in fresh]),
        lambda c: c.insert_one({"_id": ObjectId("0" * 23 + "1"), "u": "ann", "n": 2}),
        lambda c: c.delete_many({"u": "cy", "n": {"$lt": 30}}),
        lambda c: c.delete_one({"_id": pivots[1]}),
        lambda c: c.update_many({"u": "eve", "n": {"$gt": 50}}, {"$set": {"u": "bob"}}),
        lambda c: c.update_one({"_id": inside}, {"$set": {"n": 99}}),
        lambda c: c.replace_one({"_id": pivots[2]}, {"u": "dee", "n": 3}),
    ]
    extras: list[dict[str, Any]] = [{}, {"u": "bob"}, {"k": "k3"}, {"n": {"$gte": 90}}]

    def reads() -> None:
        turn = 0
        for op in RANGES:
            for direction in (1, -1):
                query = {**extras[turn % len(extras)], "_id": {op: pivots[1]}}
                turn += 1
                _same(
                    on,
                    off,
                    lambda c, q=query, d=direction: list(c.find(q).sort("_id", d).limit(6)),
                )
        _same(on, off, lambda c: c.find_one({}, sort=[("_id", 1)]))

    reads()  # the walk's order and hashes exist before the writes: kept in step by them
    for step in steps:
        step(on)
        step(off)
        reads()


def test_other_id_types_keep_the_engine_path(twins: Twins) -> None:
    """A string, number or missing-type mix sorts by BSON type first: the engine decides."""
    on, off = twins.on, twins.off
    odd = [{"_id": "a-string", "u": "bob", "n": 1}, {"_id": 5, "u": "bob", "n": 2}]
    for c in (on, off):
        c.insert_many([dict(d) for d in odd])
    try:
        for direction in (1, -1):
            got = _same(
                on,
                off,
                lambda c, d=direction: list(c.find({"u": "bob"}).sort("_id", d).limit(2 * ROWS)),
            )
            assert {d["_id"] for d in got} >= {"a-string", 5}
            _same(
                on,
                off,
                lambda c, d=direction: list(
                    c.find({"_id": {"$gte": ObjectId("0" * 24)}}).sort("_id", d).limit(3)
                ),
            )
    finally:
        for c in (on, off):
            c.delete_many({"_id": {"$in": ["a-string", 5]}})
    # With them gone, the walk is back (and still exact).
    _same(on, off, lambda c: list(c.find({"u": "bob"}).sort("_id", -1).limit(5)))


def test_collation_and_hint_keep_the_engine_path(twins: Twins) -> None:
    on, off = twins.on, twins.off
    pivot = _pivots(off)[1]
    q = {"u": "BOB", "_id": {"$gte": pivot}}
    collation = {"locale": "en", "strength": 2}
    got = _same(on, off, lambda c: list(c.find(q, collation=collation).sort("_id", 1).limit(4)))
    assert got and all(d["u"] == "bob" for d in got)
    _same(on, off, lambda c: list(c.find({"u": "bob"}).sort("_id", 1).hint("u_1").limit(4)))


def _in_transaction(c: Collection, doc: dict[str, Any], read: Callable[..., Any]) -> list:
    """``read(session=...)`` inside a transaction that inserted ``doc`` (then aborted), and
    ``read()`` after it. Both twins are the embedded engine, which has transactions."""
    with c.database.client.start_session() as session:
        session.start_transaction()
        c.insert_one(doc, session=session)
        inside = read(session=session)
        session.abort_transaction()
    return [inside, read()]


def test_inside_a_transaction(twins: Twins) -> None:
    on, off = twins.on, twins.off
    doc = {"_id": ObjectId("f" * 23 + "0"), "u": "ann", "n": 5}

    def read(c: Collection) -> list:
        return _in_transaction(
            c, doc, lambda **kw: list(c.find({"u": "ann"}, **kw).sort("_id", -1).limit(3))
        )

    got = _same(on, off, read)
    assert got[0][0]["_id"] == ObjectId("f" * 23 + "0") and got[0][1:] == got[1][:2]


def test_count_documents_keeps_the_engine_semantics(kinds: tuple[Collection, Collection]) -> None:
    """countDocuments' pipeline is answered by the engine's count: the same document (or
    none) as its $group, whatever the filter, in a session's transaction too; other shapes
    (skip/limit, another _id, $expr) keep the pipeline."""
    on, off = kinds
    for query in ({}, {"g": 1}, {"v": 1}, {"v": None}, {"v": "a"}, {"v": {"$in": ["a", 1]}},
                  {"g": 9}, {"$expr": {"$eq": ["$g", 2]}}, {"v": {"$size": 2}}):  # fmt: skip
        got = _same(on, off, lambda c, q=query: c.count_documents(q))
        pipeline = [{"$match": query}, {"$group": {"_id": 1, "n": {"$sum": 1}}}]
        _same(on, off, lambda c, p=pipeline: list(c.aggregate(p)))
        assert got == sum(1 for _ in off.find(query)), query
    assert _same(on, off, lambda c: c.count_documents({"g": 9})) == 0
    _same(on, off, lambda c: c.count_documents({"g": 0}, skip=1, limit=3))
    for group in ({"_id": None, "n": {"$sum": 1}}, {"_id": 1, "n": {"$sum": 2}}, {"_id": 1.0}):
        _same(on, off, lambda c, g=group: list(c.aggregate([{"$match": {}}, {"$group": g}])))

    def counts(c: Collection) -> list[int]:
        return _in_transaction(
            c, {"_id": "new", "g": 1}, lambda **kw: c.count_documents({"g": 1}, **kw)
        )

    inside, after = _same(on, off, counts)
    assert inside == after + 1


def test_sorts_keep_the_engine_order(kinds: tuple[Collection, Collection]) -> None:
    """Sorts on dates and ObjectIds (compared natively by the launcher) with ties, beside
    values of every other kind (the engine's comparator), in both directions."""
    on, off = kinds
    base = datetime(2024, 5, 1, 12, 0, 0, 123000)
    rng = random.Random(9)
    docs = [
        {"_id": f"t{i:02d}", "at": base + timedelta(seconds=rng.randrange(4)), "o": _even_id(rng)}
        for i in range(30)
    ]
    docs += [{"_id": "t-null", "at": None}, {"_id": "t-gone"}, {"_id": "t-str", "at": "2024"}]
    docs += [{"_id": f"t-kind{i}", "at": v, "o": v} for i, v in enumerate(_kinds()[:13])]
    for c in (on, off):
        c.insert_many([dict(d) for d in docs])
    for sort in ([("at", -1), ("_id", 1)], [("at", 1), ("o", -1)], [("o", 1)]):
        for limit in (0, 5):
            _same(on, off, lambda c, s=sort, n=limit: list(c.find({}).sort(s).limit(n)))
        pipeline = [{"$sort": dict(sort)}, {"$limit": 7}]
        _same(on, off, lambda c, p=pipeline: list(c.aggregate(p)))


def _server_cpu_ms(pid: int) -> float:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
            total += int(fh.read().split()[0])
    return total / 1e6


@pytest.mark.skipif(not os.path.exists("/proc/self/schedstat"), reason="needs /proc schedstat")
def test_walk_does_not_scan(twins: Twins) -> None:
    """Server CPU per call (ratios in one run, robust on a busy machine): with the walk, a
    sampler-shaped read costs about what fetching the same documents by ``_id $in`` costs (a
    little more: it also reads the rows a filter passes over; 1.3-2.2x measured, since ``$in``
    is hashed); on the engine's own path, which matches and sorts every row, several times
    that (8-17x)."""
    pivot = _pivots(twins.off)[1]
    ranged = [{"_id": {"$gte": pivot}}, {"_id": {"$gte": pivot}, "tags": "y"}]
    found = [[d["_id"] for d in twins.on.find(q).sort("_id", 1).limit(10)] for q in ranged]

    def cpu_per_call(side: str, read: Callable[[Collection], Any]) -> float:
        c, pid = getattr(twins, side), twins.pids[side]
        before = _server_cpu_ms(pid)
        for _ in range(10):
            read(c)
        return (_server_cpu_ms(pid) - before) / 10

    def walk(c: Collection) -> None:
        for q in ranged:
            list(c.find(q).sort("_id", 1).limit(10))

    def by_ids(c: Collection) -> None:
        for ids in found:
            list(c.find({"_id": {"$in": ids}}))

    floor, walked = cpu_per_call("on", by_ids), cpu_per_call("on", walk)
    scanned = cpu_per_call("off", walk)
    assert walked < 3 * floor and scanned > 3 * walked, (floor, walked, scanned)


def test_distinct_keeps_the_engine_semantics(twins: Twins) -> None:
    """Values of every BSON kind, equal across types or not (1, 1.0, Int64, Decimal128; null
    and missing; arrays unwound; strings vs ObjectIds vs booleans), in the engine's order."""
    on, off = twins.on, twins.off
    oid = ObjectId()
    values: list[Any] = ["a", "a", "A", "b", oid, str(oid), oid, True, False]
    values += [1, 1.0, Int64(1), Decimal128("1"), 0, None]  # equal across numeric types
    values += [["a", "b", oid], [["a"]], [], {"k": "a"}, {"k": "a"}]  # unwound, nested, docs
    values += [[{"k": "c"}, {"k": ["d", "a"]}], {"k": {"j": 1}}]  # paths through arrays
    docs = [{"_id": f"d{i}", "v": v, "g": i % 2} for i, v in enumerate(values)]
    docs.append({"_id": "missing", "g": 0})
    for c in (on, off):
        c.database.distinct_test.insert_many([dict(d) for d in docs])
    try:
        for query in ({"g": 1}, {"v": {"$in": ["a", oid, True]}}):
            _same(on, off, lambda c, q=query: c.database.distinct_test.distinct("v", q))
        got = _same(on, off, lambda c: c.database.distinct_test.distinct("v"))
        assert "a" in got and oid in got and str(oid) in got and True in got and None in got
        assert sum(1 for v in got if v == 1 and v is not True) == 1  # 1, 1.0, Int64, Decimal
        for key in ("v.k", "v.0", "v.k.j", "_id", "g"):  # read with only the key's own field
            got = _same(on, off, lambda c, k=key: c.database.distinct_test.distinct(k, {}))
            assert got, key
        _same(
            on,
            off,
            lambda c: c.database.distinct_test.distinct(
                "v", collation={"locale": "en", "strength": 2}
            ),
        )
    finally:
        for c in (on, off):
            c.database.distinct_test.drop()


def _kinds() -> list[Any]:
    """Values of every BSON kind, several equal across types (1, 1.0, Int64, Decimal128)."""
    oid = ObjectId("64b000000000000000000001")
    values: list[Any] = ["a", "A", "b", oid, str(oid), True, False, 1, 1.0, Int64(1)]
    values += [Decimal128("1"), 0, None, ["a", oid], [["a"]], [], {"k": "a"}, [1, "b"]]
    return values


@pytest.fixture
def kinds(twins: Twins) -> Iterator[tuple[Collection, Collection]]:
    """A ``kinds`` collection on both engines: ``v`` holds every kind once, one row lacks it."""
    docs = [{"_id": f"d{i:02d}", "v": v, "g": i % 3} for i, v in enumerate(_kinds())]
    docs.append({"_id": "missing", "g": 0})
    pair = (twins.on.database.kinds, twins.off.database.kinds)
    for c in pair:
        c.insert_many([dict(d) for d in docs])
    try:
        yield pair
    finally:
        for c in pair:
            c.drop()


def test_in_keeps_the_engine_semantics(kinds: tuple[Collection, Collection]) -> None:
    """Hashed only when every listed value is a string, ObjectId or boolean; candidates of
    other kinds (numbers, null, arrays, documents) still meet the engine's comparison."""
    on, off = kinds
    oid = ObjectId("64b000000000000000000001")
    queries: list[dict[str, Any]] = [
        {"v": {"$in": ["a", oid, True]}},  # hashed: array elements match too
        {"v": {"$in": [str(oid), False, "zzz"]}},
        {"v": {"$in": ["b"]}, "g": {"$in": [1, 2]}},  # one hashed, one not (numbers)
        {"v": {"$in": [1, "a"]}},  # a number listed: the engine's path
        {"v": {"$in": [None, "A"]}},  # null listed (matches missing): the engine's path
        {"v": {"$not": {"$in": ["a", True]}}},
        {"v": {"$nin": ["a", oid]}},
        {"v": {"$elemMatch": {"$in": ["a", "b"]}}},
        {"$or": [{"v": {"$in": ["A"]}}, {"_id": {"$in": ["d03", "missing"]}}]},
        # An unbounded branch: every row meets the matcher's $in, not only a hash bucket's.
        {"$or": [{"v": {"$in": [str(oid), False, "b"]}}, {"g": 2}]},
    ]
    for query in queries:
        got = _same(on, off, lambda c, q=query: list(c.find(q)))
        assert got or "$elemMatch" in query["v"]  # each one matches something
    for values in (["a", oid, True], [str(oid), "A", 1]):  # after a stage: every row matched
        pipeline = [{"$addFields": {"w": "$v"}}, {"$match": {"w": {"$in": values}}}]
        assert _same(on, off, lambda c, p=pipeline: list(c.aggregate(p)))


def test_lookup_keeps_the_engine_semantics(kinds: tuple[Collection, Collection]) -> None:
    """Each local value of every kind joined to a foreign field of every kind: across numeric
    types, null with missing, arrays element by element, as the engine's nested loop does."""
    on, off = kinds
    for c in (on, off):
        c.database.kinds_local.insert_many(
            [{"_id": i, "ref": v} for i, v in enumerate([*_kinds(), "nothing"])] + [{"_id": -1}]
        )
        # An integer past 2**53 equal to a double (the engine's hash key for a number rounds):
        # $mul leaves a plain integer, as an update or a pipeline's arithmetic does.
        c.insert_one({"_id": "big", "v": 2.0**60, "g": 0})
        c.database.kinds_local.insert_one({"_id": "big", "ref": 2**30})
        c.database.kinds_local.update_one({"_id": "big"}, {"$mul": {"ref": 2**30}})
    try:
        for foreign in ("v", "_id"):
            pipeline = [
                {"$lookup": {"from": "kinds", "localField": "ref", "foreignField": foreign,
                             "as": "joined"}},
                {"$sort": {"_id": 1}},
            ]  # fmt: skip
            got = _same(on, off, lambda c, p=pipeline: list(c.database.kinds_local.aggregate(p)))
            assert foreign == "_id" or any(len(row["joined"]) > 1 for row in got)
            big = next(row for row in got if row["_id"] == "big")
            assert [d["_id"] for d in big["joined"]] == (["big"] if foreign == "v" else [])
    finally:
        for c in (on, off):
            c.database.kinds_local.drop()


def test_replies_are_the_engines_bytes(twins: Twins) -> None:
    """Documents of every BSON type, stored and answered (a find, an aggregation computing
    the engine's own number types), are the same bytes with the one-pass encoder."""
    from bson.codec_options import CodecOptions
    from bson.raw_bson import RawBSONDocument

    doc = every_bson_type()
    raw = CodecOptions(document_class=RawBSONDocument)
    pair = [c.database.get_collection("types", codec_options=raw) for c in (twins.on, twins.off)]
    for c in pair:
        c.database.types.insert_one(dict(doc))
    try:
        group = {"_id": None, "n": {"$sum": "$l"}, "d": {"$sum": "$d"}, "f": {"$avg": "$f"}}
        reads: list[Callable[[Collection], Any]] = [
            lambda c: [r.raw for r in c.find()],
            lambda c: [r.raw for r in c.find({}, {"nested.a.b": 1, "ref": 1, "uuid": 1})],
            lambda c: [r.raw for r in c.aggregate([{"$group": group}])],
            lambda c: [r.raw for r in c.aggregate([{"$project": {"x": {"$toLong": "$i"}}}])],
        ]
        for read in reads:
            got, want = read(pair[0]), read(pair[1])
            assert got == want and got and all(got)
    finally:
        for c in pair:
            c.drop()
