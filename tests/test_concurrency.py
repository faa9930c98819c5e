"""Issue 14 item 5: two runs at once keep their reports and their scratch databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from migrator import report, scratch
from migrator.cli import main
from migrator.verify import sandbox

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, text=True, **kw)


def test_report_names_are_unique_per_run() -> None:
    now = datetime(2026, 11, 23, 3, 15, tzinfo=UTC)
    first, second = report.stamp(now), report.stamp(now)
    assert first != second and first.startswith("20261123-031500-")
    code = "from migrator import report; print(report.RUN_ID)"
    ids = {_python(code, stdout=subprocess.PIPE).communicate()[0].strip() for _ in range(2)}
    assert len(ids) == 2 and report.RUN_ID not in ids


def test_two_simultaneous_runs_leave_two_report_sets(mongo_server, seeded_db, tmp_path) -> None:
    out = tmp_path / "reports"
    args = [
        "verify",
        "--mongo-uri",
        mongo_server.uri,
        "--db",
        seeded_db.name,
        "--ops",
        "auth.count_users",
        "--samples",
        "1",
        "--no-calibrate",
        "--out",
        str(out),
        "--format",
        "md,json",
    ]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "migrator", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    md, js = sorted(out.glob("verify-*.md")), sorted(out.glob("verify-*.json"))
    assert len(md) == 2 and len(js) == 2, sorted(p.name for p in out.iterdir())
    # each run names its own files
    named = [{line.split()[-1] for line in o.splitlines() if "verify-" in line} for o, _ in results]
    assert named[0].isdisjoint(named[1])
    starts = {json.loads(p.read_text())["started"][:19] for p in js}
    print("run starts:", starts)  # usually the same second: the case that used to collide


HOLD = """
import sys
from pymongo import MongoClient
from migrator import scratch
client = MongoClient(sys.argv[1])
scratch.claim(client[sys.argv[2]])
print("ready", flush=True)
sys.stdin.read()  # hold the scratch database until the test closes our stdin
"""


def _clean(uri: str, *extra: str) -> str:
    result = CliRunner().invoke(main, ["clean", *extra, "--mongo-uri", uri])
    assert result.exit_code == 0, result.output
    return result.output


def test_clean_spares_a_live_run(mongo_server, mongo_client) -> None:
    name = f"migrator_scratch_{uuid.uuid4().hex[:8]}_legacy"
    owner = _python(HOLD, mongo_server.uri, name, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        out = _clean(mongo_server.uri)
        assert f"left {name}: owner pid {owner.pid} on this host is still running" in out
        assert name in mongo_client.list_database_names()
    finally:
        assert owner.stdin is not None
        owner.stdin.close()
        owner.wait(timeout=30)
    out = _clean(mongo_server.uri)  # the owner is gone now
    assert name in out.splitlines()[0] and name not in mongo_client.list_database_names()


def test_clean_force_drops_a_live_run(unshared_server, mongo_client) -> None:
    mongo_server = unshared_server
    name = f"migrator_scratch_{uuid.uuid4().hex[:8]}_legacy"
    owner = _python(HOLD, mongo_server.uri, name, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        out = _clean(mongo_server.uri, "--force")
        assert name in out.splitlines()[0] and name not in mongo_client.list_database_names()
    finally:
        assert owner.stdin is not None
        owner.stdin.close()
        owner.wait(timeout=30)


def test_a_reused_pid_is_not_the_owner(mongo_client) -> None:
    name = f"migrator_scratch_{uuid.uuid4().hex[:8]}_legacy"
    meta = scratch.identity()
    meta["proc_start"] = "1"  # this pid, but started at another time: another process
    mongo_client[name][scratch.META].insert_one(meta)
    try:
        alive, why = scratch.owner_state(mongo_client[name][scratch.META].find_one({}))
        assert alive is False and "another process" in why
        assert name in sandbox.drop_leftovers(mongo_client)
    finally:
        mongo_client.drop_database(name)


def test_sandboxes_record_their_owner(mongo_client) -> None:
    with sandbox.sandboxes(mongo_client, sandbox.new_run_id()) as boxes:
        meta = boxes[0][scratch.META].find_one({})
        assert meta["pid"] == os.getpid() and meta["proc_start"] is not None
        assert scratch.owner_state(meta)[0] is True
        assert not set(sandbox.drop_leftovers(mongo_client)) & {b.name for b in boxes}
