"""`--librechat PATH`: the Node adapter driving a LibreChat checkout's own db-gateway, on our
LibreChat-shaped fixture (tests/fixtures/librechat): checkout validation, preparation and its
cache, the handshake's routing, calls on seeded data through both branches, counts, timing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from migrator.compare import Observation, compare
from migrator.errors import CannotRun, ConfigError
from migrator.gateway.external import ExternalGateway, error_type
from migrator.librechat import LibreChatGateway, find_checkout, prepare
from migrator.services import Sampler, catalog

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "librechat"

if shutil.which("node") is None or shutil.which("npm") is None:
    pytest.skip("`node` and `npm` are needed to drive a LibreChat gateway", allow_module_level=True)

FIXTURE_ROUTED = {
    "auth.get_user_by_id",
    "auth.find_user_by_email",
    "auth.find_user_for_openid",
    "auth.count_users",
    "conversations.get",
    "conversations.find_owner",
    "conversations.list_page",
    "files.find_by_file_id",
    "files.increment_usage",
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("librechat-cache")


@pytest.fixture(scope="module")
def prepared(cache: Path) -> LibreChatGateway:
    lines: list[str] = []
    gw = prepare(FIXTURE, lines.append, cache=cache)
    assert any("installing" in line for line in lines), lines  # first use: a progress line
    return gw


def _start(gw: LibreChatGateway, db: Database) -> ExternalGateway:
    uri = db.client.address and f"mongodb://{db.client.address[0]}:{db.client.address[1]}/"
    return ExternalGateway.for_database(gw.argv, uri, db.name, env=gw.env, cwd=gw.cwd)


@pytest.fixture(scope="module")
def gateway(prepared: LibreChatGateway, seeded_db: Database) -> Iterator[ExternalGateway]:
    with _start(prepared, seeded_db) as gw:
        yield gw


@pytest.fixture(scope="module")
def legacy(prepared: LibreChatGateway, seeded_db: Database) -> Iterator[ExternalGateway]:
    with _start(prepared.with_branch("legacy"), seeded_db) as gw:
        yield gw


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "value", fn(*args, **kwargs)
    except Exception as exc:
        return "error", error_type(exc)


def verdict(op_name: str, a: tuple[str, Any], b: tuple[str, Any]) -> str:
    if a[0] != b[0] or a[0] == "error":
        return "match" if a == b else f"{a} vs {b}"
    rules = catalog()[op_name].rules
    return compare(Observation(value=a[1]), Observation(value=b[1]), rules).status


# --- the checkout -----------------------------------------------------------------------------


def test_a_path_that_is_not_a_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        find_checkout(tmp_path / "missing")
    with pytest.raises(ConfigError, match="not a LibreChat checkout"):
        prepare(tmp_path)
    assert ConfigError.exit_code == 2


def test_a_checkout_without_db_gateway_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "packages" / "data-schemas").mkdir(parents=True)
    with pytest.raises(CannotRun, match="no packages/db-gateway"):
        prepare(tmp_path)


def test_a_broken_build_cannot_run_and_leaves_nothing_half_built(
    tmp_path: Path, prepared: LibreChatGateway, cache: Path
) -> None:
    broken = tmp_path / "LibreChat"
    shutil.copytree(FIXTURE, broken)
    repo = broken / "packages/db-gateway/src/adapters/mongodb/repositories/MongoUserRepository.ts"
    repo.write_text(repo.read_text() + "\nexport const = ;\n")
    with pytest.raises(CannotRun, match="broken build"):
        prepare(tmp_path, lambda _: None, cache=cache)  # a folder holding LibreChat/ is accepted
    assert not list(cache.rglob(".tmp-*")), "a failed build left temporary files behind"


def test_preparation_is_cached(prepared: LibreChatGateway, cache: Path) -> None:
    lines: list[str] = []
    again = prepare(FIXTURE, lines.append, cache=cache)
    assert lines == [] and again.bundle == prepared.bundle and again.deps == prepared.deps
    assert (prepared.deps.parent / ".complete").is_file()
    assert "@librechat/db-gateway 0.0.1-fixture" in prepared.describe()
    assert prepared.externals == ["mongoose"]


# --- routing ------------------------------------------------------------------------------------


def test_routing_follows_the_checkouts_use_db_gateway_branches(prepared: LibreChatGateway) -> None:
    routes = prepared.routing()
    assert set(routes) == set(catalog())
    assert {op for op, r in routes.items() if r["routed"]} == FIXTURE_ROUTED
    mirrors = routes["conversations.get"]["mirrors"]
    assert mirrors.startswith("api/models/conversationOperations.js:")
    off = routes["messages.by_conversation"]["reason"]
    assert off.startswith("not gateway-routed in this checkout: api/models/messageOperations.js:")
    assert "switched off in code" in off
    assert "is not in this checkout" in routes["agents.get"]["reason"]
    info = prepared.info()
    assert "getConvosByCursor" in info["repositories"]["Conversation"]


def test_handshake_offers_the_routed_operations_with_reasons_for_the_rest(
    gateway: ExternalGateway,
) -> None:
    info = gateway.info
    assert info["protocol"] == 2 and info["branches"] == ["gateway", "legacy"]
    assert gateway.ops == FIXTURE_ROUTED | {"counts.count", "counts.aggregate"}
    assert set(info["not_offered"]) == set(catalog()) - FIXTURE_ROUTED
    assert "switched off" in info["not_offered"]["messages.by_conversation"]


# --- calls on seeded data -------------------------------------------------------------------


@pytest.mark.parametrize(
    "op_name",
    [
        "auth.get_user_by_id",
        "auth.count_users",
        "conversations.get",
        "conversations.find_owner",
        "files.find_by_file_id",
    ],
)
def test_routed_reads_answer_like_the_oracle_on_both_branches(
    op_name: str, gateway: ExternalGateway, legacy: ExternalGateway, seeded_db: Database
) -> None:
    op = catalog()[op_name]
    inputs = list(op.sample(Sampler(seeded_db, 5, seed=3)))
    assert inputs
    for args in inputs:
        oracle = outcome(op.legacy, seeded_db, **args)
        assert verdict(op_name, oracle, outcome(gateway.call, op_name, args)) == "match", args
        assert verdict(op_name, oracle, outcome(legacy.call, op_name, args)) == "match", args


def test_the_divergent_repository_method_is_caught(
    gateway: ExternalGateway, seeded_db: Database
) -> None:
    op = catalog()["conversations.list_page"]
    verdicts = [
        verdict(
            op.name, outcome(op.legacy, seeded_db, **args), outcome(gateway.call, op.name, args)
        )
        for args in op.sample(Sampler(seeded_db, 8, seed=3))
    ]
    assert "mismatch" in verdicts, verdicts


def test_a_switched_off_operation_is_refused_on_the_gateway_branch_and_answered_on_legacy(
    gateway: ExternalGateway, legacy: ExternalGateway, seeded_db: Database
) -> None:
    op = catalog()["messages.by_conversation"]
    args = next(iter(op.sample(Sampler(seeded_db, 1, seed=3))))
    assert outcome(gateway.call, op.name, args) == ("error", "NotOffered")
    oracle = outcome(op.legacy, seeded_db, **args)
    assert verdict(op.name, oracle, outcome(legacy.call, op.name, args)) == "match"


def test_counts_go_through_the_repositories(gateway: ExternalGateway, seeded_db: Database) -> None:
    user = seeded_db.conversations.find_one({}, {"user": 1})["user"]
    flt = {"user": user, "isArchived": {"$ne": True}}
    assert gateway.call("counts.count", {"collection": "conversations", "filter": flt}) == (
        seeded_db.conversations.count_documents(flt)
    )
    pipeline = [
        {"$match": {"createdAt": {"$type": "date"}}},
        {"$group": {"_id": "$user", "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]
    assert gateway.call("counts.aggregate", {"collection": "messages", "pipeline": pipeline}) == (
        list(seeded_db.messages.aggregate(pipeline))
    )
    assert outcome(gateway.call, "counts.count", {"collection": "nope", "filter": {}}) == (
        "error",
        "NotOffered",
    )


def test_every_response_carries_ns_and_a_request_may_name_its_branch(
    prepared: LibreChatGateway, seeded_db: Database
) -> None:
    uri = f"mongodb://{seeded_db.client.address[0]}:{seeded_db.client.address[1]}/"
    user_id = str(seeded_db.users.find_one({})["_id"])
    requests = [
        {"id": 0, "op": "$hello", "args": {"protocol": 2}},
        {"id": 1, "op": "$noop", "args": {}},
        {"id": 2, "op": "auth.get_user_by_id", "args": {"user_id": user_id}},
        {"id": 3, "op": "auth.get_user_by_id", "args": {"user_id": user_id}, "branch": "legacy"},
        {"id": 4, "op": "auth.get_user_by_id", "args": {"user_id": "nope"}},
    ]
    out = subprocess.run(
        prepared.argv,
        input="".join(json.dumps(r) + "\n" for r in requests),
        text=True,
        capture_output=True,
        timeout=120,
        cwd=prepared.cwd,
        env={**os.environ, **prepared.env, "MONGO_URI": uri, "MIGRATOR_GATEWAY_DB": seeded_db.name},
    )
    responses = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in responses] == [0, 1, 2, 3, 4], out.stderr[-500:]
    assert all(isinstance(r["ns"], int) and r["ns"] > 0 for r in responses)
    assert responses[1]["value"] is None
    assert responses[2]["value"]["_id"] == responses[3]["value"]["_id"] == {"$oid": user_id}
    assert responses[4]["error"]["type"] == "CastError"
    assert "fixture gateway connected" in out.stderr  # the checkout's console.log kept off stdout
