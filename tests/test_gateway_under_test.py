"""The gateway under test, end to end: every job (verify reads and writes, counts, bench,
preflight) judges the gateway the user selected — here external processes speaking the
JSON-lines protocol — and never another one. A wrong external gateway is caught through the
protocol; an operation a gateway does not offer is "not verified", never a pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from migrator import settings
from migrator.bench import bench
from migrator.counts import counts
from migrator.paths import GatewayChoice
from migrator.preflight import load_config, preflight
from migrator.sampling import SampledInputs
from migrator.services import catalog
from migrator.verify import verify

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "node-gateway" / "gateway.js"
FAULTY = ROOT / "tests" / "gateways" / "faulty.js"
PARTIAL = ROOT / "tests" / "gateways" / "partial.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not (REFERENCE.parent / "node_modules" / "mongodb").is_dir(),
    reason="node, or examples/node-gateway/node_modules (tests/conftest.py installs it)",
)


def _cmd(script: Path, **env: str) -> str:
    prefix = " ".join(f"{k}={v}" for k, v in env.items())
    return f"env {prefix} {NODE} {script}" if env else f"{NODE} {script}"


def _cfg(mongo_server, database) -> settings.Settings:
    return settings.resolve(mongo_uri=mongo_server.uri, db=database.name, environ={})


def test_reference_gateway_verifies_every_operation_reads_and_writes(
    mongo_server, seeded_db
) -> None:
    result = verify(
        _cfg(mongo_server, seeded_db),
        samples=3,
        writes=True,
        calibrate=False,
        gateway=GatewayChoice.of(cmd=_cmd(REFERENCE)),
    )
    assert len(result.ops) == len(catalog()) == 56
    assert result.verified == [op.name for op in result.ops], result.coverage()
    assert result.passed, (result.failing, result.coverage())
    assert result.coverage().startswith("56/56 operations verified through migrator-node-gateway")
    writes = [op for op in result.ops if op.kind == "write"]
    assert writes and all(op.inputs > 0 for op in writes)
    assert "second process" in result.environment["write_method"]


def test_every_write_input_reached_the_external_process(mongo_server, seeded_db, tmp_path) -> None:
    """The false PASS cannot come back: the gateway's own trace shows each write call."""
    trace = tmp_path / "trace.jsonl"
    result = verify(
        _cfg(mongo_server, seeded_db),
        ops=["files.*", "conversations.*"],
        samples=2,
        writes=True,
        calibrate=False,
        gateway=GatewayChoice.of(
            cmd=_cmd(FAULTY, MIGRATOR_FAULTS="tracing", MIGRATOR_TRACE=str(trace))
        ),
    )
    assert result.passed, result.failing
    received: dict[str, int] = {}
    for line in trace.read_text().splitlines():
        op = json.loads(line)["op"]
        received[op] = received.get(op, 0) + 1
    for op in result.ops:
        if op.kind == "write":
            assert op.inputs > 0
            assert received.get(op.name, 0) >= op.inputs, (op.name, received)


@pytest.mark.parametrize(
    ("fault", "ops", "caught"),
    [
        ("unscoped-delete", ["conversations.delete", "files.delete_files"], "after the write"),
        ("lost-inc", ["files.increment_usage"], "after the write"),
    ],
)
def test_wrong_external_gateway_is_caught_on_writes(
    mongo_server, seeded_db, fault, ops, caught
) -> None:
    result = verify(
        _cfg(mongo_server, seeded_db),
        ops=ops,
        samples=4,
        writes=True,
        calibrate=False,
        gateway=GatewayChoice.of(cmd=_cmd(FAULTY, MIGRATOR_FAULTS=fault)),
    )
    assert not result.passed
    wrong = [op for op in result.ops if op.kind == "write" and op.disagreed]
    assert wrong, result.coverage()
    assert any(caught in kind for op in wrong for kind in op.kinds), [op.kinds for op in wrong]


def test_counts_through_the_external_gateway(mongo_server, seeded_db, tmp_path) -> None:
    clean = counts(
        _cfg(mongo_server, seeded_db),
        history=None,
        gateway=GatewayChoice.of(cmd=_cmd(REFERENCE)),
    )
    assert clean.passed and clean.clean, clean.drifting
    assert "migrator-node-gateway" in clean.environment["gateway"]
    wrong = counts(
        _cfg(mongo_server, seeded_db),
        history=None,
        gateway=GatewayChoice.of(cmd=_cmd(FAULTY, MIGRATOR_FAULTS="string-owner-counts")),
    )
    assert not wrong.passed
    assert wrong.drifting, "string owners must show at the owner level"
    assert all(c.levels["owner"].differing for c in wrong.collections if c.name in wrong.drifting)


def test_counts_refuses_a_gateway_without_the_count_operations(mongo_server, seeded_db) -> None:
    result = counts(
        _cfg(mongo_server, seeded_db),
        history=None,
        gateway=GatewayChoice.of(cmd=_cmd(PARTIAL, MIGRATOR_PROTOCOL="1")),
    )
    assert not result.passed and result.not_verified
    assert "counts.count" in result.not_verified


def test_bench_times_the_gateway_inside_its_process(mongo_server, seeded_db) -> None:
    result = bench(
        _cfg(mongo_server, seeded_db),
        ops=["auth.get_user_by_id", "messages.by_conversation"],
        pairs=30,
        warmup=3,
        aa=False,
        gateway=GatewayChoice.of(cmd=_cmd(REFERENCE)),
    )
    env = result.environment
    assert env["pipe"]["median_ns"] > 0 and env["pipe"]["op"] == "$noop"
    assert "protocol v2 `ns`" in env["timing"]
    measured = [m for m in result.measurements if m.ab is not None]
    assert len(measured) == 2
    for m in measured:
        # The gateway's own time excludes the pipe: far below a pipe round trip would allow.
        assert min(m.ab.b.wall_ns) < env["pipe"]["median_ns"] + max(m.ab.b.wall_ns)
        assert all(w >= 0 for w in m.ab.b.wall_ns)


def _preflight_config(**verify: object) -> dict:
    config = load_config(None)
    # auth offered, agents and prompts not: enough for coverage, a fraction of the catalog.
    config["verify"].update(ops=["auth.*", "agents.*", "prompts.*"], samples=2, **verify)
    config["counts"].update(collections=["users", "files", "conversations"], history="")
    # Coverage is the point here, not speed: the Node driver's calls cost more than
    # pymongo's on the embedded engine, which bench rightly reports (see its own tests).
    config["bench"].update(
        ops=["auth.get_user_by_id"], pairs=20, warmup=2, warn_pct=1e6, fail_pct=1e6
    )
    return config


def test_preflight_with_a_gateway_that_omits_operations(mongo_server, seeded_db, tmp_path) -> None:
    cfg = _cfg(mongo_server, seeded_db)
    partial = GatewayChoice.of(cmd=_cmd(PARTIAL))
    sampled = SampledInputs()  # both runs judge the same inputs
    strict = preflight(cfg, _preflight_config(), tmp_path / "all", gateway=partial, sampled=sampled)
    assert not strict.go
    missing = [op.name for op in strict.verify.unverified]
    assert missing and all(not op.offered for op in strict.verify.unverified)
    head = strict.reports["preflight"]["md"].read_text()
    assert "NO-GO" in head.splitlines()[0]
    assert all(name in head for name in missing)
    lenient = preflight(
        cfg,
        _preflight_config(require="offered"),
        tmp_path / "offered",
        gateway=partial,
        sampled=sampled,
    )
    assert lenient.go, lenient.reasons
    assert all(name in lenient.verify.coverage() for name in missing)


def test_v1_gateway_still_verifies_reads(mongo_server, seeded_db) -> None:
    result = verify(
        _cfg(mongo_server, seeded_db),
        ops=["auth.*"],
        samples=3,
        writes=True,
        calibrate=False,
        gateway=GatewayChoice.of(cmd=_cmd(PARTIAL, MIGRATOR_PROTOCOL="1")),
    )
    reads = [op for op in result.ops if op.kind == "read"]
    writes = [op for op in result.ops if op.kind == "write"]
    assert reads and all(op.not_verified is None and op.passed for op in reads)
    assert writes and all("protocol 1" in (op.not_verified or "") for op in writes)
    assert not result.passed  # require = "all": the unverified writes are NO-GO


def test_cli_gateway_options_are_exclusive() -> None:
    from click.testing import CliRunner

    from migrator.cli import main

    run = CliRunner().invoke(main, ["verify", "--gateway", "faulty-demo", "--gateway-cmd", "x"])
    assert run.exit_code == 2
    assert "choose one gateway under test" in run.output
