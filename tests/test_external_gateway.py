"""The external-process gateway: the Node.js reference gateway (examples/node-gateway) against
the Python legacy path on seeded data — every read, every write (in sandboxes, through a second
gateway process), the count job's questions —, protocol v2 (`ns`, `$noop`), the protocol's BSON
round trips and failure modes, and the test gateways of tests/gateways."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bson import (
    DBRef,
    Decimal128,
    Int64,
    MaxKey,
    MinKey,
    ObjectId,
    Regex,
    Timestamp,
)
from bson.binary import Binary
from bson.code import Code
from pymongo import MongoClient
from pymongo.database import Database

from migrator import db, model
from migrator.compare import Observation, compare
from migrator.compare.diff import MATCH
from migrator.compare.rules import Rules
from migrator.counts.queries import day_pipeline, owner_pipeline, recent_filter, settled_filter
from migrator.errors import CannotRun
from migrator.gateway.external import (
    ExternalGateway,
    ExternalOperationError,
    decode,
    encode,
    error_type,
)
from migrator.guard import read_only
from migrator.model import OWNER_FIELDS
from migrator.services import Sampler, catalog
from migrator.verify import sandbox

NODE_DIR = Path(__file__).resolve().parent.parent / "examples" / "node-gateway"
GATEWAY_JS = NODE_DIR / "gateway.js"
NODE = shutil.which("node")

if NODE is None:
    pytest.skip(
        "`node` is not on PATH (the Node reference gateway needs it)", allow_module_level=True
    )
if not (NODE_DIR / "node_modules" / "mongodb").is_dir():
    pytest.skip(
        "examples/node-gateway/node_modules is missing and npm could not install it (conftest.py)",
        allow_module_level=True,
    )

CMD = [NODE, str(GATEWAY_JS)]
AUTH_OPS = (
    "auth.get_user_by_id",
    "auth.find_user_by_email",
    "auth.count_users",
    "auth.find_session",
    "auth.count_active_sessions",
    "auth.get_balance",
)


def same(a: Any, b: Any, path: str = "$") -> None:
    """Equal values of exactly the same types, recursively, with the same key order."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        if math.isnan(a):
            assert math.isnan(b), f"{path}: nan != {b!r}"
        else:
            assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{path}: {a} != {b}"
    elif isinstance(a, DBRef):
        assert (a.collection, a.database) == (b.collection, b.database), path
        same(a.id, b.id, f"{path}.$id")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def observe(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """('value', v) or ('error', type name): the remote type for an external error."""
    try:
        return "value", fn(*args, **kwargs)
    except Exception as exc:
        return "error", error_type(exc)


@pytest.fixture(scope="module")
def gateway(mongo_server: db.Server, seeded_db: Database) -> Iterator[ExternalGateway]:
    with ExternalGateway.for_database(CMD, mongo_server.uri, seeded_db.name) as gw:
        try:
            gw.call("auth.count_users")
        except ExternalOperationError as exc:
            if 'BSON element "id" is missing' in exc.message:
                pytest.fail(
                    "the server sends cursor ids as int32 and the Node driver requires int64 "
                    "(MongoDB's type): the embedded engine needs its cursor-id fix "
                    f"(migrator/embedded/_serve.py); driver said: {exc}"
                )
            raise
        yield gw


@pytest.fixture(scope="module")
def echo_gateway() -> Iterator[ExternalGateway]:
    """No database needed: `$echo` and `$sleep` only."""
    with ExternalGateway(CMD, timeout_s=20) as gw:
        yield gw


# --- handshake ----------------------------------------------------------------------------------


def test_handshake_lists_every_operation(echo_gateway: ExternalGateway) -> None:
    assert echo_gateway.name == "migrator-node-gateway"
    assert echo_gateway.version == "0.2.0"
    assert echo_gateway.info["protocol"] == 2
    assert echo_gateway.info["branches"] == ["gateway"]
    for op in (*AUTH_OPS, "$echo", "$sleep", "$noop", "counts.count", "counts.aggregate"):
        assert echo_gateway.supports(op), op
    assert not echo_gateway.supports("auth.no_such_op")
    assert set(catalog()) <= echo_gateway.ops
    assert len(catalog()) == 56
    assert {op for op in echo_gateway.ops if not op.startswith("$")} == {
        *catalog(),
        "counts.count",
        "counts.aggregate",
    }


# --- reads: the Node gateway agrees with the legacy path ---------------------------------------

READ_OPS = sorted(name for name, op in catalog().items() if op.kind == "read")


def agree(op: Any, legacy: tuple[str, Any], external: tuple[str, Any], where: str) -> None:
    """Same outcome; errors of the same type; values equal with exactly the same BSON types
    and key order — or, where the op's rules make order irrelevant, equal under them."""
    assert legacy[0] == external[0], f"{where}: legacy {legacy} vs node {external}"
    if legacy[0] == "error":
        assert legacy[1] == external[1], f"{where}: error types differ"
    elif op.rules.unordered:
        verdict = compare(Observation(value=legacy[1]), Observation(value=external[1]), op.rules)
        assert verdict.status == MATCH, f"{where}: {verdict}"
        exact = compare(
            Observation(value=legacy[1]),
            Observation(value=external[1]),
            dataclasses.replace(op.rules, numeric_types=False),
        )
        assert exact.status == MATCH, f"{where} (BSON types): {exact}"
    else:
        same(legacy[1], external[1], where)


@pytest.mark.parametrize("op_name", READ_OPS)
def test_node_gateway_agrees_with_legacy(
    op_name: str, gateway: ExternalGateway, seeded_db: Database
) -> None:
    op = catalog()[op_name]
    inputs = list(op.sample(Sampler(seeded_db, 6, seed=3)))
    assert inputs
    values = 0
    for args in inputs:
        where = f"{op_name}{args}"
        external = observe(gateway.call, op_name, args)
        legacy = observe(op.legacy, seeded_db, **args)
        agree(op, legacy, external, where)
        values += legacy[0] == "value" and legacy[1] not in (None, [], {})
    assert values, f"{op_name}: no sampled input found data; the comparison proved nothing"


def test_every_catalog_read_is_tested(gateway: ExternalGateway) -> None:
    offered = {name for name in gateway.ops if name in catalog()}
    assert offered == set(catalog())
    assert set(READ_OPS) == {n for n in offered if catalog()[n].kind == "read"}


# --- writes: the Node gateway leaves the same state as the legacy path --------------------------

WRITE_OPS = sorted(name for name, op in catalog().items() if op.kind == "write")


@pytest.fixture(scope="module")
def write_boxes(
    mongo_client: MongoClient, mongo_server: db.Server
) -> Iterator[tuple[tuple[Database, Database], ExternalGateway]]:
    """The two scratch sandboxes and a second gateway process connected to the gateway one (as
    the tool starts it for the write phase: one connection, one database, reset between
    inputs)."""
    with (
        sandbox.sandboxes(mongo_client, sandbox.new_run_id()) as boxes,
        ExternalGateway.for_database(CMD, mongo_server.uri, boxes[1].name) as ext,
    ):
        yield boxes, ext


def remote_types(fn: Any) -> Any:
    """``fn`` raising the remote error as an exception of that class name: the sandbox names an
    error by ``type(exc).__name__``, not by ``error_type``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ExternalOperationError as exc:
            raise type(exc.type, (Exception,), {})(exc.message) from None

    return call


def run_write(
    op_name: str,
    args: dict,
    source: Database,
    boxes: tuple[Database, Database],
    ext: ExternalGateway,
    rules: Rules | None = None,
) -> Any:
    op = dataclasses.replace(catalog()[op_name], gateway=remote_types(ext.bind(op_name)))
    if rules is not None:
        op = dataclasses.replace(op, rules=rules)
    verdict, _ = sandbox.verify_write(op, args, source, boxes)
    return verdict


@pytest.mark.parametrize("op_name", WRITE_OPS)
def test_node_gateway_writes_agree_with_legacy(
    op_name: str, write_boxes: Any, seeded_db: Database
) -> None:
    boxes, ext = write_boxes
    source = read_only(seeded_db)
    op = catalog()[op_name]
    inputs = list(op.sample(Sampler(source, 4, seed=5)))
    assert inputs
    # BSON types too: int32 / int64 / double as the legacy path writes them.
    exact = dataclasses.replace(op.rules, numeric_types=False)
    for args in inputs:
        verdict = run_write(op_name, args, source, boxes, ext, exact)
        assert verdict.passed, f"{op_name}{args}: {verdict.status} {verdict.differences[:5]}"


# --- counts (v2) --------------------------------------------------------------------------------

COUNTED = sorted(OWNER_FIELDS)


def by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: repr(r["_id"]))


@pytest.mark.parametrize("collection", COUNTED)
def test_counts_are_what_pymongo_counts(
    collection: str, gateway: ExternalGateway, seeded_db: Database
) -> None:
    cutoff = datetime(2025, 8, 14, 12, 0, 0)
    for query in ({}, recent_filter(collection, cutoff), settled_filter(collection, cutoff)):
        expected = seeded_db[collection].count_documents(query)
        same(expected, gateway.call("counts.count", {"collection": collection, "filter": query}))
    for pipeline in (owner_pipeline(collection, cutoff), day_pipeline(collection, cutoff)):
        expected = list(seeded_db[collection].aggregate(pipeline))
        got = gateway.call("counts.aggregate", {"collection": collection, "pipeline": pipeline})
        assert expected, f"{collection}: the pipeline found nothing to compare"
        same(by_id(expected), by_id(got), collection)


def test_counts_keep_owner_types_apart(gateway: ExternalGateway, seeded_db: Database) -> None:
    # An ObjectId owner is counted as an ObjectId (not its hex): the filter reaches the server
    # as it was sent.
    row = seeded_db.files.find_one({}, {"user": 1})
    assert row is not None and isinstance(row["user"], ObjectId)
    as_oid = {"collection": "files", "filter": {"user": row["user"]}}
    as_hex = {"collection": "files", "filter": {"user": str(row["user"])}}
    assert gateway.call("counts.count", as_oid) == seeded_db.files.count_documents(as_oid["filter"])
    assert gateway.call("counts.count", as_oid) > 0
    assert gateway.call("counts.count", as_hex) == 0


# --- timing (v2): ns and $noop --------------------------------------------------------------------


class RawGateway:
    """The protocol by hand, to see the envelope itself (the client keeps only `value`)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
            text=True,
        )
        self.next_id = 0

    def request(self, op: str, args: dict | None = None) -> tuple[dict, int]:
        """(the response envelope as plain JSON, the wall time of the round trip in ns)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = json.dumps({"id": self.next_id, "op": op, "args": json.loads(encode(args or {}))})
        self.next_id += 1
        t0 = time.perf_counter_ns()
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        wall = time.perf_counter_ns() - t0
        return json.loads(answer), wall

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def raw_gateway(mongo_server: db.Server, seeded_db: Database) -> Iterator[RawGateway]:
    raw = RawGateway(CMD, {"MONGO_URI": mongo_server.uri, "MIGRATOR_GATEWAY_DB": seeded_db.name})
    yield raw
    raw.close()


def test_every_response_carries_ns_below_the_wall_time(
    raw_gateway: RawGateway, seeded_db: Database
) -> None:
    user = seeded_db.users.find_one({}, {"_id": 1})
    assert user is not None
    calls = [
        ("$hello", {"protocol": 2}),
        ("$noop", {}),
        ("auth.count_users", {}),  # connects
        ("auth.get_user_by_id", {"user_id": str(user["_id"])}),
        ("messages.by_conversation", {"conversation_id": "none"}),
        ("auth.get_user_by_id", {"user_id": "not-an-object-id"}),  # an error answer
        ("auth.no_such_op", {}),
        ("$noop", {}),
    ]
    for op, args in calls:
        response, wall = raw_gateway.request(op, args)
        assert response["id"] == raw_gateway.next_id - 1
        ns = response["ns"]
        assert type(ns) is int, f"{op}: ns {ns!r} is not a plain JSON integer"
        assert 0 < ns < wall, f"{op}: ns {ns} not below the wall time {wall}"
    noop, _ = raw_gateway.request("$noop", {})
    assert noop["value"] is None and "error" not in noop
    hello, _ = raw_gateway.request("$hello", {})
    assert hello["value"]["protocol"] in (2, {"$numberInt": "2"})


def test_noop_through_the_client(echo_gateway: ExternalGateway) -> None:
    assert echo_gateway.call("$noop", {}) is None
    assert echo_gateway.supports("$noop")


# --- the reference gateway's schema facts are migrator.model's ----------------------------------


def test_schema_facts_match_the_model() -> None:
    script = """
        const m = require('./lib/mongoose');
        const t = require('./ops/transactions');
        const sorted = (set) => [...set].sort();
        const out = {fields: {}, defaults: {}, dates: {}, oids: {}, lower: {}, rates: {}};
        for (const [k, v] of Object.entries(m.SCHEMA_FIELDS)) out.fields[k] = sorted(v);
        for (const [k, v] of Object.entries(m.DATE_FIELDS)) out.dates[k] = sorted(v);
        for (const [k, v] of Object.entries(m.OBJECTID_FIELDS)) out.oids[k] = sorted(v);
        for (const [k, v] of Object.entries(m.LOWERCASE_FIELDS)) out.lower[k] = sorted(v);
        out.owners = m.OWNER_FIELDS;
        out.token_query_keys = m.TOKEN_QUERY_KEYS;
        out.tool_resources = [
          m.TOOL_RESOURCE_TEXT, m.TOOL_RESOURCE_FILE_SEARCH, m.TOOL_RESOURCE_EXECUTE_CODE,
        ];
        for (const [k, v] of Object.entries(m.DEFAULTS)) {
          out.defaults[k] = {};
          for (const [f, x] of Object.entries(v)) out.defaults[k][f] = x === m.NOW ? 'NOW' : x;
        }
        const models = ['gpt-4o-2024', 'gpt-4.1-mini', 'claude-sonnet-4-2025', 'x-unknown', ''];
        for (const name of models) {
          for (const type of ['prompt', 'completion', 'credits', '']) {
            out.rates[`${name}|${type}`] = t.multiplier(name, type);
          }
        }
        console.log(JSON.stringify(out));
    """
    done = subprocess.run(
        [NODE, "-e", script], cwd=NODE_DIR, capture_output=True, text=True, check=True
    )
    facts = json.loads(done.stdout)
    assert facts["fields"] == {k: sorted(v) for k, v in model.SCHEMA_FIELDS.items()}
    for collection, defaults in facts["defaults"].items():
        facts_py = model.DEFAULTS[collection].items()
        expected = {k: "NOW" if v is model.NOW else v for k, v in facts_py}
        assert defaults == expected, collection
        assert list(defaults) == list(expected), f"{collection}: key order"
    assert facts["dates"] == {k: sorted(v) for k, v in model.DATE_FIELDS.items()}
    assert facts["oids"] == {k: sorted(v) for k, v in model.OBJECTID_FIELDS.items()}
    assert facts["lower"] == {k: sorted(v) for k, v in model.LOWERCASE_FIELDS.items()}
    assert facts["owners"] == {k: list(v) for k, v in model.OWNER_FIELDS.items()}
    # version-dependent facts of LibreChat's code (B): findToken's keys, the tool resources
    assert facts["token_query_keys"] == list(model.TOKEN_QUERY_KEYS)
    assert facts["tool_resources"] == [
        model.TOOL_RESOURCE_TEXT,
        model.TOOL_RESOURCE_FILE_SEARCH,
        model.TOOL_RESOURCE_EXECUTE_CODE,
    ]
    for key, rate in facts["rates"].items():
        name, token_type = key.split("|")
        assert rate == model.multiplier(name, token_type), key


CAST_HEX = "65a000000000000000000001"
CAST_CASES: list[tuple[str, dict, bool]] = [
    ("tokens", {"$and": []}, False),
    ("tokens", {"$and": [{"userId": CAST_HEX}, {"token": "t"}]}, False),
    ("tokens", {"$and": [{"userId": "not-hex"}]}, False),
    ("files", {"file_id": {"$in": ["a"]}, "$or": [], "$nor": []}, False),
    ("files", {"$or": [{"tenantId": "t"}]}, False),
    ("files", {"$or": [{"tenantId": "t"}, {}]}, False),
    ("files", {"$and": [{"tenantId": "t", "embedded": True}]}, False),
    ("files", {"$or": {"embedded": True}}, False),
    ("files", {"$or": ["embedded"]}, False),
    ("files", {"file_id": "f", "tenantId": "t", "$comment": "kept"}, False),
    ("files", {"user": {"$in": [CAST_HEX], "$ne": CAST_HEX},
               "$or": [{"user": {"$nin": [CAST_HEX]}}]}, False),
    ("files", {"user": {"$in": ["not-hex"]}}, False),
    ("files", {"metadata.fileIdentifier": {"$exists": True},
               "updatedAt": {"$lt": "2025-01-02T03:04:05.678Z"}}, False),
    ("files", {"expiresAt": "yesterday"}, False),
    ("conversations", {"conversationId": "c", "bogus": 1, "user": ObjectId(CAST_HEX)}, False),
    ("conversations", {"user": 42, "messages": [CAST_HEX], "expiredAt": None}, False),
    ("users", {"email": "A@Example.COM", "username": {"$in": ["Bob"]}}, False),
    ("promptgroups", {"name": "x", "projectIds": [CAST_HEX], "author": ObjectId(CAST_HEX),
                      "productionId": None}, True),
    ("promptgroups", {"name": "x", "notInSchema": True}, True),
    ("promptgroups", {"name": "x", "projectIds": ["bad"]}, True),
    ("prompts", {"prompt": "p", "type": "text", "groupId": CAST_HEX}, True),
]  # fmt: skip


def test_cast_filter_is_the_oracles() -> None:
    """lib/mongoose.js castFilter sends what migrator/services/mongoose.py's cast_filter sends
    (Mongoose 8's query cast): the same filter with the same BSON types, or the same error."""
    from migrator.services.mongoose import cast_filter

    script = """
        const { EJSON } = require('mongodb').BSON;
        const m = require('./lib/mongoose');
        const { errorType } = require('./lib/errors');
        const cases = EJSON.deserialize(JSON.parse(process.argv[1]), { relaxed: false });
        const out = cases.map(([collection, query, upsert]) => {
          try {
            return { value: m.castFilter(collection, query, { upsert }) };
          } catch (err) {
            return { error: errorType(err) };
          }
        });
        console.log(EJSON.stringify(out, { relaxed: false }));
    """
    arg = encode([list(c) for c in CAST_CASES])
    done = subprocess.run(
        [NODE, "-e", script, arg], cwd=NODE_DIR, capture_output=True, text=True, check=True
    )
    got = decode(done.stdout)
    for (collection, query, upsert), node in zip(CAST_CASES, got, strict=True):
        where = f"{collection} {query} upsert={upsert}"
        try:
            expected: dict = {"value": cast_filter(collection, query, upsert=upsert)}
        except Exception as exc:
            expected = {"error": type(exc).__name__}
        same(expected, node, where)


# --- the test gateways (tests/gateways): each fault is observable ------------------------------

GATEWAYS_DIR = Path(__file__).resolve().parent / "gateways"
FAULTY = [NODE, str(GATEWAYS_DIR / "faulty.js")]
PARTIAL = [NODE, str(GATEWAYS_DIR / "partial.js")]


def write_verdicts(
    op_name: str, source: Database, boxes: tuple[Database, Database], ext: ExternalGateway
) -> list[Any]:
    guarded = read_only(source)
    inputs = list(catalog()[op_name].sample(Sampler(guarded, 4, seed=5)))
    return [run_write(op_name, args, guarded, boxes, ext) for args in inputs]


@pytest.fixture
def faulty_boxes(
    request: pytest.FixtureRequest, mongo_client: MongoClient, mongo_server: db.Server
) -> Iterator[tuple[tuple[Database, Database], ExternalGateway]]:
    env = {"MIGRATOR_FAULTS": request.param}
    with (
        sandbox.sandboxes(mongo_client, sandbox.new_run_id()) as boxes,
        ExternalGateway.for_database(FAULTY, mongo_server.uri, boxes[1].name, env=env) as ext,
    ):
        yield boxes, ext


@pytest.mark.parametrize(
    ("faulty_boxes", "op_name", "seen"),
    [
        ("lost-inc", "files.increment_usage", "usage"),
        ("unscoped-delete", "conversations.delete", "conversations"),
        ("unscoped-delete", "files.delete_files", "files"),
    ],
    indirect=["faulty_boxes"],
)
def test_each_write_fault_is_caught(
    faulty_boxes: Any, op_name: str, seen: str, seeded_db: Database
) -> None:
    boxes, ext = faulty_boxes
    verdicts = write_verdicts(op_name, seeded_db, boxes, ext)
    caught = [v for v in verdicts if not v.passed]
    assert caught, f"{op_name}: the fault went unnoticed on {len(verdicts)} inputs"
    assert any(seen in d.path for v in caught for d in v.differences), caught[0].differences


@pytest.mark.parametrize("faulty_boxes", [""], indirect=True)
def test_the_faulty_gateway_without_faults_is_the_reference(
    faulty_boxes: Any, seeded_db: Database
) -> None:
    boxes, ext = faulty_boxes
    for op_name in ("files.increment_usage", "conversations.delete", "files.delete_files"):
        verdicts = write_verdicts(op_name, seeded_db, boxes, ext)
        assert all(v.passed for v in verdicts), op_name


def test_string_owner_counts_are_caught(mongo_server: db.Server, seeded_db: Database) -> None:
    cutoff = datetime(2025, 8, 14, 12, 0, 0)
    env = {"MIGRATOR_FAULTS": "string-owner-counts"}
    with ExternalGateway.for_database(FAULTY, mongo_server.uri, seeded_db.name, env=env) as gw:
        for collection in ("files", "transactions"):  # ObjectId owners
            pipeline = owner_pipeline(collection, cutoff)
            expected = by_id(list(seeded_db[collection].aggregate(pipeline)))
            got = gw.call("counts.aggregate", {"collection": collection, "pipeline": pipeline})
            assert {type(r["_id"]) for r in expected} == {ObjectId}
            assert {type(r["_id"]) for r in got} == {str}, collection
            assert sorted(str(r["_id"]) for r in expected) == sorted(r["_id"] for r in got)
        # String owners and plain counts are unaffected: only the typed grouping is wrong.
        pipeline = owner_pipeline("conversations", cutoff)
        expected = by_id(list(seeded_db.conversations.aggregate(pipeline)))
        got = gw.call("counts.aggregate", {"collection": "conversations", "pipeline": pipeline})
        same(expected, by_id(got))
        query = settled_filter("files", cutoff)
        assert gw.call("counts.count", {"collection": "files", "filter": query}) == (
            seeded_db.files.count_documents(query)
        )


def test_tracing_proves_every_call_arrived(
    tmp_path: Path, mongo_server: db.Server, seeded_db: Database
) -> None:
    trace = tmp_path / "trace.jsonl"
    env = {"MIGRATOR_FAULTS": "tracing", "MIGRATOR_TRACE": str(trace)}
    op = catalog()["files.find_by_file_id"]
    inputs = list(op.sample(Sampler(seeded_db, 3, seed=5)))
    with ExternalGateway.for_database(FAULTY, mongo_server.uri, seeded_db.name, env=env) as gw:
        for args in inputs:
            same(op.legacy(seeded_db, **args), gw.call(op.name, args))
        gw.call("$noop", {})
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines[0] == {"op": "$hello", "id": 0}
    assert lines[1:] == [
        *({"op": op.name, "id": i} for i in range(1, len(inputs) + 1)),
        {"op": "$noop", "id": len(inputs) + 1},
    ]


def test_an_unknown_fault_is_refused_at_start() -> None:
    with pytest.raises(CannotRun, match="unknown MIGRATOR_FAULTS bogus"):
        ExternalGateway(FAULTY, env={"MIGRATOR_FAULTS": "lost-inc,bogus"})


def test_partial_gateway_says_what_it_leaves_out(
    mongo_server: db.Server, seeded_db: Database
) -> None:
    dropped = {n for n in catalog() if n.split(".")[0] in ("agents", "prompts")}
    assert dropped
    with ExternalGateway.for_database(PARTIAL, mongo_server.uri, seeded_db.name) as gw:
        assert gw.info["protocol"] == 2
        assert set(gw.info["not_offered"]) == dropped
        assert all(gw.info["not_offered"].values())
        assert not dropped & gw.ops
        assert set(catalog()) - dropped <= gw.ops
        assert {"counts.count", "counts.aggregate", "$noop"} <= gw.ops
        with pytest.raises(ExternalOperationError) as refused:
            gw.call("agents.count_promoted", {})
        assert refused.value.type == "UnknownOperation"


def test_partial_gateway_as_protocol_1_serves_reads_only(
    mongo_server: db.Server, seeded_db: Database
) -> None:
    env = {"MONGO_URI": mongo_server.uri, "MIGRATOR_GATEWAY_DB": seeded_db.name}
    raw = RawGateway(PARTIAL, {**env, "MIGRATOR_PROTOCOL": "1"})
    try:
        hello, _ = raw.request("$hello", {"protocol": 2})
        info = decode(json.dumps(hello["value"]))
        assert info["protocol"] == 1
        assert "ns" not in hello and "branches" not in info
        kept = {
            name
            for name, op in catalog().items()
            if op.kind == "read" and not name.startswith(("agents.", "prompts."))
        }
        assert set(info["ops"]) == {*kept, "$echo", "$sleep", "$exit"}
        answer, _ = raw.request("auth.count_users", {})
        assert "ns" not in answer
        assert decode(json.dumps(answer["value"])) == seeded_db.users.count_documents({})
        for op in ("$noop", "files.increment_usage", "counts.count"):
            refused, _ = raw.request(op, {})
            assert refused["error"]["type"] == "UnknownOperation", op
    finally:
        raw.close()


def test_bind_is_a_drop_in_gateway_function(gateway: ExternalGateway, seeded_db: Database) -> None:
    op = catalog()["auth.count_users"]
    fn = gateway.bind(op.name)
    assert fn(None) == op.legacy(seeded_db) == seeded_db.users.count_documents({})


def test_errors_compare_by_type(gateway: ExternalGateway, seeded_db: Database) -> None:
    op = catalog()["auth.get_user_by_id"]
    with pytest.raises(Exception) as legacy:
        op.legacy(seeded_db, user_id="not-an-object-id")
    with pytest.raises(ExternalOperationError) as external:
        gateway.call(op.name, {"user_id": "not-an-object-id"})
    assert error_type(legacy.value) == error_type(external.value) == "CastError"
    assert external.value.type == "CastError"
    assert external.value.op == op.name
    assert "not-an-object-id" in external.value.message
    with pytest.raises(ExternalOperationError) as unknown:
        gateway.call("auth.no_such_op", {})
    assert unknown.value.type == "UnknownOperation"
    # the process is still usable after error answers
    assert gateway.call("auth.count_users") == seeded_db.users.count_documents({})


# --- BSON round trips ---------------------------------------------------------------------------


def every_type() -> dict[str, Any]:
    oid = ObjectId("65f1a2b3c4d5e6f7a8b9c0d1")
    return {
        "objectId": oid,
        "date": datetime(2025, 8, 14, 9, 30, 12, 345000),
        "epoch": datetime(1970, 1, 1),
        "before_epoch": datetime(1969, 7, 20, 20, 17, 40),
        "int32": 42,
        "int32_min": -(2**31),
        "int32_max": 2**31 - 1,
        "int64_small": Int64(7),
        "int64_zero": Int64(0),
        "int64_large": Int64(2**62 + 1),
        "int64_beyond_js_safe": Int64(2**53 + 1),
        "int64_min": Int64(-(2**63)),
        "double": 3.25,
        "double_whole": 1.0,
        "double_zero": 0.0,
        "double_negative_zero": -0.0,
        "double_tiny": 5e-324,
        "double_huge": 1.7976931348623157e308,
        "double_inf": math.inf,
        "double_neg_inf": -math.inf,
        "double_tenth": 0.1,
        "decimal": Decimal128("1.10"),
        "decimal_negative_zero": Decimal128("-0"),
        "decimal_big": Decimal128("9.999999999999999999999999999999999E+6144"),
        "decimal_nan": Decimal128("NaN"),
        "true": True,
        "false": False,
        "null": None,
        "string": "plain",
        "empty_string": "",
        "unicode": 'héllo — 世界 🚀 \u0000 nul, \t tab, \n newline, "quote" \\ backslash',
        "ключ ünïcödé": "unicode key",
        "nested": {"a": {"b": {"c": [1, Int64(2), 3.0, {"d": None}]}}, "empty": {}},
        "array": [1, "two", 3.0, Int64(4), None, [], [oid], {"k": True}],
        "empty_array": [],
        "bytes": b"\x00\x01\xfebinary",
        "binary_uuid": Binary(bytes(range(16)), 4),
        "binary_user": Binary(b"custom", 0x80),
        "binary_md5": Binary(b"0123456789abcdef", 5),
        "regex": Regex(r"^ab+c\d$", "im"),
        "regex_plain": Regex("x", ""),
        "timestamp": Timestamp(1_700_000_000, 7),
        "minKey": MinKey(),
        "maxKey": MaxKey(),
        "code": Code("function () { return 1; }"),
        "dbref": DBRef("users", oid),
    }


def test_echo_round_trips_every_bson_type(echo_gateway: ExternalGateway) -> None:
    doc = every_type()
    back = echo_gateway.call("$echo", doc)
    same(doc, back)


def test_echo_round_trips_the_seeded_dataset(
    echo_gateway: ExternalGateway, seeded_db: Database
) -> None:
    seen: set[str] = set()

    def types(value: Any) -> None:
        seen.add(type(value).__name__)
        if isinstance(value, dict):
            for v in value.values():
                types(v)
        elif isinstance(value, list):
            for v in value:
                types(v)

    for name in sorted(seeded_db.list_collection_names()):
        docs = list(seeded_db[name].find())
        types(docs)
        for start in range(0, len(docs), 250):
            batch = {"collection": name, "docs": docs[start : start + 250]}
            same(batch, echo_gateway.call("$echo", batch), name)
    # The dataset's own types all went through (and the constructed document covers the rest).
    assert {"ObjectId", "datetime", "int", "str", "bool", "dict", "list"} <= seen


def test_python_ints_beyond_int32_come_back_as_int64(echo_gateway: ExternalGateway) -> None:
    # As in a BSON round trip: pymongo stores such an int as int64 and reads back Int64.
    back = echo_gateway.call("$echo", {"n": 2**40, "small": 5})
    same(back, {"n": Int64(2**40), "small": 5})


# --- failure modes ------------------------------------------------------------------------------


def test_a_call_that_hangs_times_out(echo_gateway: ExternalGateway) -> None:
    with pytest.raises(TimeoutError, match=r"\$sleep"):
        echo_gateway.call("$sleep", {"ms": 1500}, timeout_s=0.3)
    # The late answer is discarded; the next call gets its own answer.
    same(echo_gateway.call("$echo", {"after": "timeout"}), {"after": "timeout"})


def test_a_gateway_that_dies_is_cannot_run_in_one_line() -> None:
    gw = ExternalGateway(CMD, timeout_s=20)
    with pytest.raises(CannotRun) as died:
        gw.call("$exit", {"code": 3})
    message = str(died.value)
    assert "\n" not in message
    assert "exited with code 3" in message
    assert "exiting with code 3 as asked" in message  # its last stderr line
    assert died.value.exit_code == 3
    with pytest.raises(CannotRun, match="closed"):
        gw.call("$echo", {})
    gw.close()  # idempotent


def test_a_command_that_cannot_start_is_cannot_run() -> None:
    with pytest.raises(CannotRun, match="cannot start external gateway") as err:
        ExternalGateway("no-such-gateway-command-xyz --flag")
    assert "\n" not in str(err.value)


def test_a_gateway_that_exits_at_start_is_cannot_run() -> None:
    script = "console.error('Error: Cannot find module ./repositories'); process.exit(7)"
    with pytest.raises(CannotRun) as err:
        ExternalGateway([NODE, "-e", script])
    message = str(err.value)
    assert "exited with code 7" in message
    assert "Cannot find module ./repositories" in message
    assert "\n" not in message


def test_a_gateway_that_writes_non_json_is_cannot_run() -> None:
    script = (
        "import sys; print('oops, a log line', file=sys.stderr, flush=True); "
        "print('Server listening on 3080', flush=True); sys.stdin.read()"
    )
    with pytest.raises(CannotRun) as err:
        ExternalGateway([sys.executable, "-c", script], timeout_s=10)
    message = str(err.value)
    assert "non-JSON" in message and "Server listening on 3080" in message
    assert "oops, a log line" in message
    assert "\n" not in message


def test_credentials_in_the_command_are_masked() -> None:
    with pytest.raises(CannotRun) as err:
        ExternalGateway("no-such-gateway mongodb://admin:s3cret@db.example:27017/LibreChat")
    assert "s3cret" not in str(err.value)
    assert "admin:***@" in str(err.value)


# --- record mode --------------------------------------------------------------------------------


def test_record_mode_writes_the_replay_file(
    tmp_path: Path, mongo_server: db.Server, seeded_db: Database
) -> None:
    replay = tmp_path / "calls.jsonl"
    user = seeded_db.users.find_one({}, {"_id": 1})
    assert user is not None
    now = datetime(2025, 8, 14, 12, 0, 0, 123000)
    calls = [
        ("auth.get_user_by_id", {"user_id": str(user["_id"])}),
        ("auth.count_active_sessions", {"user_id": str(user["_id"]), "now": now}),
        ("auth.get_user_by_id", {"user_id": "not-an-object-id"}),  # errors are recorded too
    ]
    with ExternalGateway.for_database(
        CMD, mongo_server.uri, seeded_db.name, env={"MIGRATOR_RECORD": str(replay)}
    ) as gw:
        gw.call("$echo", {"not": "recorded"})  # protocol ops are not part of the replay
        for op_name, args in calls:
            observe(gw.call, op_name, args)
    lines = replay.read_text().splitlines()
    assert len(lines) == len(calls)
    for line, (op_name, args) in zip(lines, calls, strict=True):
        entry = json.loads(line)
        assert list(entry) == ["op", "args", "at"]
        assert entry["op"] == op_name
        same(decode(json.dumps(entry["args"])), args)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["at"])
        datetime.fromisoformat(entry["at"])
    assert '"$date"' in lines[1]  # canonical EJSON keeps the datetime a datetime
