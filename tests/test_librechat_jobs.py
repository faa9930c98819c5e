"""`--librechat PATH` through every job, on our LibreChat-shaped fixture checkout: verify,
counts, bench and preflight judge the checkout's own gateway; its divergent repository method
is caught, its not-routed operations are "not verified" with LibreChat's reason, and its own
legacy branch gives a second opinion on the oracle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrator import settings
from migrator.bench import bench
from migrator.cli import main
from migrator.counts import counts
from migrator.paths import GatewayChoice
from migrator.verify import verify

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "librechat"
ROUTED_READS = [
    "auth.get_user_by_id",
    "auth.find_user_by_email",
    "auth.count_users",
    "conversations.get",
    "conversations.list_page",
]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="`node` and `npm` are needed to drive a LibreChat gateway",
)


def _cfg(mongo_server, database) -> settings.Settings:
    return settings.resolve(mongo_uri=mongo_server.uri, db=database.name, environ={})


CHECKOUT = GatewayChoice.of(librechat=str(FIXTURE))


def test_verify_catches_the_divergent_method_and_names_what_is_not_routed(
    mongo_server, seeded_db
) -> None:
    result = verify(
        _cfg(mongo_server, seeded_db),
        ops=[*ROUTED_READS, "messages.by_conversation"],
        samples=6,
        calibrate=False,
        gateway=CHECKOUT,
    )
    assert result.failing == ["conversations.list_page"], result.coverage()
    by_name = {op.name: op for op in result.ops}
    assert "not gateway-routed in this checkout" in by_name["messages.by_conversation"].not_verified
    assert not result.passed
    for name in ROUTED_READS:
        if name != "conversations.list_page":
            assert by_name[name].passed, (name, by_name[name].kinds)
    # The checkout's own legacy branch answered too, and agrees with the oracle.
    asked = [op for op in result.ops if op.opinion]
    assert asked and all(set(op.opinion) <= {"match", "ignored", "both-error"} for op in asked), [
        (op.name, dict(op.opinion)) for op in asked
    ]
    assert "LibreChat checkout" in result.environment["gateway"]


def test_legacy_librechat_makes_the_checkouts_own_branch_the_legacy_path(
    mongo_server, seeded_db
) -> None:
    result = verify(
        _cfg(mongo_server, seeded_db),
        ops=["auth.get_user_by_id", "conversations.get"],
        samples=4,
        calibrate=False,
        gateway=CHECKOUT,
        legacy="librechat",
    )
    assert result.passed, result.coverage()
    assert all(op.opinion for op in result.ops)  # the built-in oracle as the second opinion
    assert "built-in oracle" in result.environment["second_opinion"]


def test_counts_through_the_checkouts_repositories(mongo_server, seeded_db) -> None:
    result = counts(
        _cfg(mongo_server, seeded_db),
        collections=["users", "conversations", "files"],
        history=None,
        gateway=CHECKOUT,
    )
    assert result.not_verified is None
    assert result.passed and result.clean, result.drifting
    assert all(c.legacy.total == c.gateway.total > 0 for c in result.collections)


def test_bench_times_both_branches_inside_the_node_process(mongo_server, seeded_db) -> None:
    result = bench(
        _cfg(mongo_server, seeded_db),
        ops=["auth.get_user_by_id", "conversations.list_page", "messages.by_conversation"],
        pairs=20,
        warmup=2,
        gateway=CHECKOUT,
    )
    env = result.environment
    assert env["timing"].startswith("both paths inside the gateway process")
    by_name = {m.name: m for m in result.measurements}
    assert "not gateway-routed" in by_name["messages.by_conversation"].skipped
    measured = by_name["auth.get_user_by_id"]
    assert measured.ab is not None and measured.ab.pairs == 20
    assert measured.aa is not None  # A/A: the legacy branch against itself
    assert all(w > 0 for w in measured.ab.a.wall_ns)


def test_doctor_lists_the_routing(mongo_server, seeded_db) -> None:
    run = CliRunner().invoke(
        main,
        [
            "doctor",
            "--mongo-uri",
            mongo_server.uri,
            "--db",
            seeded_db.name,
            "--librechat",
            str(FIXTURE),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "conversations.list_page" in run.output
    assert "not gateway-routed in this checkout" in run.output


def test_a_bad_checkout_path_is_a_usage_error(tmp_path) -> None:
    run = CliRunner().invoke(main, ["verify", "--librechat", str(tmp_path / "nowhere")])
    assert run.exit_code == 2, run.output
    assert "Traceback" not in run.output
