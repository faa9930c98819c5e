"""Runs that lose their server, or are told to stop, end within seconds with a partial report
marked incomplete and exit 3 — never hang, never pass, never leave sandboxes behind.

The server is lost by closing a TCP proxy the run connects through, so the test works the same
on the embedded engine and on a real MongoDB (MIGRATOR_TEST_MONGO_URI)."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from migrator.scratch import SCRATCH_PREFIX


class Proxy:
    """A loopback TCP forwarder to the test server; ``cut()`` drops every connection and
    refuses new ones, as a dead server would."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()


@pytest.fixture
def proxy(mongo_server):
    parts = urlsplit(mongo_server.uri)
    host, port = parts.hostname or "127.0.0.1", parts.port or 27017
    p = Proxy(host, port)
    yield p
    p.cut()


def _start(args: list[str], out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", *args, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_progress(proc: subprocess.Popen, seconds: float) -> None:
    """Let the run get going (start-up, sampling, first calls) before pulling the plug."""
    time.sleep(seconds)
    assert proc.poll() is None, proc.communicate()


def _wait_for_line(proc: subprocess.Popen, text: str) -> None:
    """Read the run's progress (stderr) until a line names ``text``."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if text in line:
            return
    raise AssertionError(f"the run ended before {text!r}: {proc.communicate()}")


def test_lost_server_stops_verify_within_seconds(proxy, seeded_db, tmp_path) -> None:
    uri = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
    proc = _start(
        ["verify", "--mongo-uri", uri, "--db", seeded_db.name, "--samples", "all"], tmp_path
    )
    _wait_for_progress(proc, 8)
    cut_at = time.monotonic()
    proxy.cut()
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - cut_at
    assert proc.returncode == 3, (out, err)
    # By design within ~10 s (5 s server selection, 3 s health check; measured in the closing
    # note). A run that did not stop early would take minutes (every remaining call timing
    # out), so 60 s separates the two on any machine, however loaded, without flakiness.
    assert took < 60, f"the run took {took:.1f} s to stop after the server was lost"
    assert "INCOMPLETE" in out and "lost" in out, out
    (report,) = tmp_path.glob("verify-*.json")
    data = json.loads(report.read_text())
    assert data["complete"] is False and data["passed"] is False
    assert "lost" in data["stopped"]
    (md,) = tmp_path.glob("verify-*.md")
    assert "INCOMPLETE" in md.read_text()
    (xml,) = tmp_path.glob("verify-*.xml")
    assert "INCOMPLETE" in xml.read_text()


def test_lost_server_stops_counts_with_exit_3(proxy, seeded_db, tmp_path) -> None:
    uri = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
    proxy_cut = threading.Timer(0.0, proxy.cut)
    proc = _start(["counts", "--mongo-uri", uri, "--db", seeded_db.name], tmp_path)
    # counts is quick: cut as soon as it has connected (its first progress line).
    assert proc.stderr is not None
    proc.stderr.readline()
    proxy_cut.start()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, (out, err)
    assert "Traceback" not in err
    history = tmp_path / "counts-history.jsonl"
    assert not history.exists() or history.read_text() == ""  # a partial night is not history


def test_sigterm_ends_verify_with_a_partial_report_and_no_sandboxes(
    mongo_server, mongo_client, seeded_db, tmp_path
) -> None:
    proc = _start(
        [
            "verify",
            "--mongo-uri",
            mongo_server.uri,
            "--db",
            seeded_db.name,
            "--ops",
            "files.*",
            "--writes",
            "--samples",
            "all",
            "--no-calibrate",
        ],
        tmp_path,
    )
    _wait_for_line(proc, "files.create")  # the write sandboxes exist from here on
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, (out, err)
    assert "Traceback" not in err
    (report,) = tmp_path.glob("verify-*.json")
    data = json.loads(report.read_text())
    assert data["complete"] is False and data["passed"] is False
    leftovers = []
    for name in mongo_client.list_database_names():
        if name.startswith(SCRATCH_PREFIX):
            meta = mongo_client[name]["_migrator_meta"].find_one({}) or {}
            if meta.get("pid") == proc.pid:
                leftovers.append(name)
    assert leftovers == []


# --- never a vacuous GO -----------------------------------------------------------------------


def _cfg(mongo_server, seeded_db):
    from migrator import settings

    return settings.resolve(mongo_uri=mongo_server.uri, db=seeded_db.name, environ={})


def test_an_empty_replay_is_not_go(mongo_server, seeded_db, tmp_path) -> None:
    from migrator.verify import verify

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = verify(_cfg(mongo_server, seeded_db), replay=str(empty))
    assert not result.passed
    assert result.coverage().startswith("nothing was verified")


def test_a_replay_whose_calls_fail_on_both_paths_is_not_verified(
    mongo_server, seeded_db, tmp_path
) -> None:
    from migrator.verify import verify

    replay = tmp_path / "bad.jsonl"
    replay.write_text(
        "\n".join(
            json.dumps({"op": "auth.get_user_by_id", "args": {"user_id": f"not-an-id-{i}"}})
            for i in range(3)
        )
    )
    result = verify(_cfg(mongo_server, seeded_db), replay=str(replay))
    (op,) = result.ops
    assert op.verdicts["both-error"] == 3
    assert "failed on both paths" in op.not_verified
    assert not result.passed


def test_writes_with_a_read_only_replay_are_not_verified(mongo_server, seeded_db, tmp_path) -> None:
    from migrator.verify import verify

    replay = Path(__file__).parent / "data" / "replay.jsonl"
    result = verify(_cfg(mongo_server, seeded_db), replay=str(replay), writes=True, ops=["auth.*"])
    writes = [op for op in result.ops if op.kind == "write"]
    assert writes and all(op.not_verified == "no call of it in the replay" for op in writes)
    assert not result.passed


def test_replayed_write_calls_are_verified_in_sandboxes(mongo_server, seeded_db, tmp_path) -> None:
    from migrator.services import Sampler, catalog
    from migrator.verify import verify

    op = catalog()["files.increment_usage"]
    calls = list(op.sample(Sampler(seeded_db, 2, seed=5)))
    from migrator.gateway.external import encode

    replay = tmp_path / "writes.jsonl"
    replay.write_text("\n".join(f'{{"op": "{op.name}", "args": {encode(args)}}}' for args in calls))
    result = verify(_cfg(mongo_server, seeded_db), replay=str(replay), writes=True, calibrate=False)
    (done,) = result.ops
    assert done.name == op.name and done.inputs == len(calls) and done.passed
    assert result.passed


def test_librechat_catch_alls_never_swallow_a_lost_server() -> None:
    """LibreChat answers a failed ACL lookup with []; a lost server must still stop the run
    (swallowed, both paths would "agree" on empty answers until every call timed out)."""
    from pymongo.errors import AutoReconnect, OperationFailure

    from migrator.errors import ServerLost
    from migrator.services.base import catch_all

    @catch_all([])
    def lookup(exc: Exception) -> list:
        raise exc

    assert lookup(OperationFailure("bad query")) == []
    for lost in (AutoReconnect("connection reset"), ServerLost("gone")):
        with pytest.raises(type(lost)):
            lookup(lost)
