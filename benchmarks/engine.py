"""Per-call cost of LibreChat read operations, and of sampling their inputs, on the embedded
engine at 50 and 800 users.

Not a test. Seeds ``migrator.seed.seed(db, users=N, seed=1)`` once per N into a named database
(``bench_u<N>_s1``, or ``--db-format``) of a data folder (default ``.migrator/bench``); the
engine writes a snapshot on stop, so later runs only restore it. ``--attach`` uses the server
already running for that folder (``migrator server start``) and leaves it running. Then, on
that one loaded server, in two modes interleaved per operation:

  before  the launcher's read shortcuts off (SIGUSR1): the engine's own paths (scans,
          nested loops, its reply encoder)
  after   the read shortcuts on (SIGUSR2), as shipped

it times each read operation's sampler (drawing all its inputs, as one ``verify`` process
does: ``_id`` bounds read afresh) and its legacy function on those inputs, and checks that
both modes draw the same inputs and return the same results for every input.

    python3 benchmarks/engine.py [--users 50,800] [--samples 8] [--repeat 3] [--ops 'messages.*']
    python3 -m migrator server start --data-dir D && \
        python3 benchmarks/engine.py --data-dir D --attach --db-format 'bench_{users}' --samples 20

Per operation and user count it prints the median over inputs of the per-call wall time and
of the server's CPU time per call (the engine process's threads, from /proc: robust when other
processes compete for the cores), the sampler's wall and server CPU time per operation, and
the 800/50 growth of each.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the package of this checkout, not an installed one

from migrator import embedded  # noqa: E402
from migrator.db import Server  # noqa: E402
from migrator.seed import seed  # noqa: E402
from migrator.services import Sampler, select  # noqa: E402
from migrator.services.base import _BOUNDS, Args, Operation  # noqa: E402

MODES = {"before": signal.SIGUSR1, "after": signal.SIGUSR2}
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).replace(tzinfo=None)  # fixed: same inputs


DB_FORMAT = {"value": "bench_u{users}_s1"}


def db_name(users: int) -> str:
    return DB_FORMAT["value"].format(users=users)


def ensure_seeded(client: Any, users: int) -> None:
    db = client[db_name(users)]
    if db.users.estimated_document_count() >= users:
        return
    started = time.perf_counter()
    say(f"seeding {users} users into {db.name} (once; the data folder keeps it)")
    seed(db, users=users, seed=1, drop=True)
    say(f"  seeded in {time.perf_counter() - started:.0f} s")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def server_cpu_ms(pid: int) -> float:
    """CPU time of every thread of the server process so far (ns resolution)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
            total += int(fh.read().split()[0])
    return total / 1e6


def outcome(op: Operation, db: Any, args: Args) -> Any:
    try:
        return ("ok", op.legacy(db, **args))
    except Exception as exc:  # an input the operation rejects (a CastError) is an outcome too
        return ("error", type(exc).__name__, str(exc))


def measure(op: Operation, db: Any, inputs: list[Args], repeat: int, pid: int) -> tuple:
    """(median wall ms, median server CPU ms) per call over inputs, each the mean of
    ``repeat`` calls after one warm-up call; and the warm-up outcomes."""
    walls, cpus, outcomes = [], [], []
    for args in inputs:
        outcomes.append(outcome(op, db, args))
        cpu, started = server_cpu_ms(pid), time.perf_counter()
        for _ in range(repeat):
            outcome(op, db, args)
        walls.append((time.perf_counter() - started) * 1000 / repeat)
        cpus.append((server_cpu_ms(pid) - cpu) / repeat)
    if not inputs:
        return None, None, outcomes
    return statistics.median(walls), statistics.median(cpus), outcomes


def sample(op: Operation, db: Any, samples: int, pid: int) -> tuple[list[Args], float, float]:
    """(inputs, wall ms, server CPU ms) of drawing one operation's inputs in a fresh process."""
    _BOUNDS.clear()  # a verify run reads each collection's _id bounds once
    cpu, started = server_cpu_ms(pid), time.perf_counter()
    inputs = list(op.sample(Sampler(db, samples, seed=1, now=NOW)))
    return inputs, (time.perf_counter() - started) * 1000, server_cpu_ms(pid) - cpu


def set_mode(handle: embedded.Handle, client: Any, mode: str) -> None:
    os.kill(handle.pid, MODES[mode])
    time.sleep(0.2)  # the event loop runs the handler as soon as it wakes
    client.admin.command("ping")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".migrator" / "bench"))
    parser.add_argument("--users", default="50,800")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ops", nargs="*", default=["*"])
    parser.add_argument("--attach", action="store_true", help="use the folder's running server")
    parser.add_argument("--db-format", default=DB_FORMAT["value"], help="database name per N")
    args = parser.parse_args()
    users = [int(u) for u in args.users.split(",")]
    ops = select(args.ops, kind="read")
    DB_FORMAT["value"] = args.db_format

    started = time.perf_counter()
    embedded.START_TIMEOUT_S = 3600  # restoring 800 users' snapshot takes minutes on 2 cores
    handle = embedded.status(Path(args.data_dir)) if args.attach else None
    if args.attach and handle is None:
        raise SystemExit(f"no server running for {args.data_dir}: `migrator server start`")
    handle = handle or embedded.start(Path(args.data_dir))
    say(f"server up in {time.perf_counter() - started:.0f} s")
    # results[(op, users, mode)] = (wall, cpu); sampling[...] the same for drawing the inputs
    results: dict[tuple[str, int, str], tuple[float | None, float | None]] = {}
    sampling: dict[tuple[str, int, str], tuple[float | None, float | None]] = {}
    mismatches: list[str] = []
    calls = 0
    try:
        client = Server(handle.uri, kind_hint=embedded.KIND).client()
        for n in users:
            ensure_seeded(client, n)
        for op in ops:
            for n in users:
                db = client[db_name(n)]
                seen, drawn = {}, {}
                for mode in MODES:
                    set_mode(handle, client, mode)
                    drawn[mode], *cost = sample(op, db, args.samples, handle.pid)
                    sampling[op.name, n, mode] = (cost[0], cost[1])
                inputs = drawn["after"]
                if drawn["before"] != inputs:
                    mismatches.append(f"{op.name} @{n} users: the sampler drew other inputs")
                for mode in MODES:
                    set_mode(handle, client, mode)
                    got = measure(op, db, inputs, args.repeat, handle.pid)
                    results[op.name, n, mode] = got[:2]
                    seen[mode] = got[2]
                calls += len(seen["after"])
                for i, (a, b) in enumerate(zip(seen["before"], seen["after"], strict=True)):
                    if a != b:
                        mismatches.append(f"{op.name} @{n} users, input {inputs[i]}")
            say(f"  {op.name}: done")
        set_mode(handle, client, "after")
        client.close()
    finally:
        if not args.attach:
            handle.stop()  # writes the snapshot (seeded data kept for the next run)
    print_tables(ops, users, results, "per call (median over inputs)")
    print_tables(ops, users, sampling, "sampling all of an operation's inputs")
    print(f"\nresults identical before/after: {calls - len(mismatches)} of {calls} calls")
    for line in mismatches:
        print(f"  MISMATCH {line}")


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def growth(lo: float | None, hi: float | None) -> str:
    return "-" if not lo or hi is None else f"{hi / lo:.2f}x"


def print_tables(ops: list[Operation], users: list[int], results: dict, what: str) -> None:
    lo, hi = users[0], users[-1]
    for title, col in ((f"wall ms, {what}", 0), (f"server CPU ms, {what}", 1)):
        head = ["operation"]
        for mode in MODES:
            head += [f"{mode} {lo}u", f"{mode} {hi}u", f"{mode} {hi}/{lo}"]
        rows = []
        sums = {(mode, u): 0.0 for mode in MODES for u in (lo, hi)}
        for op in ops:
            row = [op.name]
            for mode in MODES:
                a = results.get((op.name, lo, mode), (None, None))[col]
                b = results.get((op.name, hi, mode), (None, None))[col]
                row += [fmt(a), fmt(b), growth(a, b)]
                if a is not None and b is not None:
                    sums[mode, lo] += a
                    sums[mode, hi] += b
            rows.append(row)
        total = ["(sum)"]
        for mode in MODES:
            a, b = sums[mode, lo], sums[mode, hi]
            total += [fmt(a), fmt(b), growth(a, b)]
        rows.append(total)
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        print(f"\n{title}\n")
        print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in rows:
            cells = [
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            print("| " + " | ".join(cells) + " |")


# --- writes: ``python3 benchmarks/engine.py --writes`` ---------------------------------------

WRITES_DOC = """Engine CPU per written document, the launcher's write shortcuts off and on.

Two fresh embedded servers, one started with MIGRATOR_ENGINE_WRITE_SHORTCUTS=off (before)
and one as shipped (after), each seeded with ``--users`` users (LibreChat's indexes, realistic
collection sizes). Then, in rounds alternating between the two, on ``messages``: insert_many
of 10 copies of seeded messages (twice: conversations A and B), update_many of A by filter,
update_one of each B, find_one_and_update of each A by messageId, delete_many of A by _id $in
and of B by filter. Per operation it prints the median server CPU (the server's threads, from
/proc) and wall time per document, and checks both servers answered every call alike; a ping's
CPU is the floor every command pays (update_one and find_one_and_update: one per document).
``--before-tree DIR`` runs "before" on another checkout (e.g. the main branch's worktree).
``--seed-users N`` also times ``python3 -m migrator seed --users N`` (a fresh data folder and
server each run) with the shortcuts off and on, alternating, ``--seed-runs`` times each.

    python3 benchmarks/engine.py --writes [--users 5] [--rounds 30] [--seed-users 25]
"""

WRITE_OPS = (
    "insert_many",
    "update_many (filter)",
    "update_one",
    "find_one_and_update",
    "delete_many (_id $in)",
    "delete_many (filter)",
)


def writes_main() -> None:
    import shutil
    import tempfile

    from bson import ObjectId

    parser = argparse.ArgumentParser(description=WRITES_DOC.split("\n\n")[0])
    parser.add_argument("--writes", action="store_true", required=True)
    parser.add_argument("--users", type=int, default=5, help="seeded users per server")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed-users", type=int, default=0, help="also time migrator seed")
    parser.add_argument("--seed-runs", type=int, default=2)
    parser.add_argument(
        "--before-tree", help="before = this checkout's launcher (not this one's, switched off)"
    )
    args = parser.parse_args()
    launchers = {"before": embedded.LAUNCHER, "after": embedded.LAUNCHER}
    if args.before_tree:
        launchers["before"] = Path(args.before_tree) / "migrator" / "embedded" / "_serve.py"
    servers: dict[str, tuple[embedded.Handle, Any]] = {}
    try:
        for mode, switch in (("before", "off"), ("after", "on")):
            embedded.LAUNCHER = launchers[mode]
            with _env("MIGRATOR_ENGINE_WRITE_SHORTCUTS", switch):
                handle = embedded.start(Path(tempfile.mkdtemp(prefix=f"bench-writes-{mode}-")))
            say(f"{mode}: {launchers[mode]}, write shortcuts {switch}")
            client = Server(handle.uri, kind_hint=embedded.KIND).client()
            db = client.bench_writes
            started = time.perf_counter()
            seed(db, users=args.users, seed=1, drop=True)
            say(f"{mode}: seeded {args.users} users in {time.perf_counter() - started:.1f} s")
            servers[mode] = (handle, db)
        templates = list(servers["before"][1].messages.find().sort("_id", 1).limit(10))
        cpu: dict[tuple[str, str], list[float]] = {}
        wall: dict[tuple[str, str], list[float]] = {}
        outcomes: dict[str, list[Any]] = {mode: [] for mode in servers}
        serial = 0
        for r in range(args.rounds):
            batches = {}
            for name in ("A", "B"):
                batches[name] = [
                    {
                        **doc,
                        "_id": ObjectId(f"{serial + i:024x}"),
                        "messageId": f"b{serial + i}",
                        "conversationId": f"bench-{r}-{name}",
                    }
                    for i, doc in enumerate(templates)
                ]
                serial += len(templates)
            calls = _round_calls(r, batches["A"], batches["B"])
            for mode, (handle, db) in servers.items():
                before_cpu = server_cpu_ms(handle.pid)
                for _ in range(len(templates)):
                    db.command("ping")
                floor = (server_cpu_ms(handle.pid) - before_cpu) / len(templates)
                cpu.setdefault(("ping (per command)", mode), []).append(floor)
                for op, call in calls:
                    before_cpu, started = server_cpu_ms(handle.pid), time.perf_counter()
                    outcomes[mode].append(call(db.messages))
                    took = time.perf_counter() - started
                    cpu.setdefault((op, mode), []).append(
                        (server_cpu_ms(handle.pid) - before_cpu) / len(templates)
                    )
                    wall.setdefault((op, mode), []).append(took * 1000 / len(templates))
        for _, db in servers.values():
            db.client.close()
    finally:
        for handle, _ in servers.values():
            handle.stop()
            shutil.rmtree(handle.data_dir, ignore_errors=True)
    _print_write_table(cpu, wall)
    same = sum(x == y for x, y in zip(outcomes["before"], outcomes["after"], strict=True))
    print(f"\nresults identical before/after: {same} of {len(outcomes['after'])} calls")
    if args.seed_users:
        _time_seed(args.seed_users, args.seed_runs, Path(args.before_tree or ROOT))


def _round_calls(r: int, a: list[dict], b: list[dict]) -> list[tuple[str, Any]]:
    """One round's calls on a ``messages`` collection, each returning what the client got."""
    from pymongo import ReturnDocument

    def update_each(m: Any) -> list:
        change = {"$set": {"text": "x"}, "$inc": {"tokenCount": 1}}
        return [m.update_one({"_id": d["_id"]}, change).raw_result for d in b]

    def find_and_update_each(m: Any) -> list:
        change = {"$set": {"unfinished": True}}
        after = ReturnDocument.AFTER
        return [
            m.find_one_and_update({"messageId": d["messageId"]}, change, return_document=after)
            for d in a
        ]

    a_filter = {"conversationId": f"bench-{r}-A"}
    return [
        ("insert_many", lambda m: m.insert_many(a).inserted_ids),
        ("insert_many", lambda m: m.insert_many(b).inserted_ids),
        (
            "update_many (filter)",
            lambda m: (
                m.update_many(a_filter, {"$set": {"text": "edited", "updatedAt": NOW}}).raw_result
            ),
        ),
        ("update_one", update_each),
        ("find_one_and_update", find_and_update_each),
        (
            "delete_many (_id $in)",
            lambda m: m.delete_many({"_id": {"$in": [d["_id"] for d in a]}}).raw_result,
        ),
        (
            "delete_many (filter)",
            lambda m: m.delete_many({"conversationId": f"bench-{r}-B"}).raw_result,
        ),
    ]


class _env:
    """Set one environment variable for a ``with`` block (the servers it starts inherit it)."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __enter__(self) -> None:
        self.saved = os.environ.get(self.name)
        os.environ[self.name] = self.value

    def __exit__(self, *exc: object) -> None:
        if self.saved is None:
            os.environ.pop(self.name, None)
        else:
            os.environ[self.name] = self.saved


def _print_write_table(cpu: dict, wall: dict) -> None:
    head = ["operation", "CPU before", "CPU after", "CPU ratio", "wall before", "wall after"]
    rows = []
    for op in (*WRITE_OPS, "ping (per command)"):
        c0, c1 = statistics.median(cpu[op, "before"]), statistics.median(cpu[op, "after"])
        w0, w1 = (statistics.median(wall.get((op, m), [0])) for m in ("before", "after"))
        rows.append([op, fmt(c0), fmt(c1), f"{c0 / c1:.2f}x", fmt(w0 or None), fmt(w1 or None)])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print("\nms per document (median over rounds); CPU: the engine server's\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("| " + " | ".join(cells) + " |")


def _time_seed(users: int, runs: int, before_tree: Path) -> None:
    """Wall time of ``python3 -m migrator seed --users N`` (a fresh data folder each run: it
    starts its own server, seeds, and writes the snapshot at stop): before in ``before_tree``
    with the shortcuts off, after in this checkout as shipped."""
    import shutil
    import subprocess
    import tempfile

    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(runs):
        for mode, switch, tree in (("before", "off", before_tree), ("after", "on", ROOT)):
            folder = tempfile.mkdtemp(prefix=f"bench-seed-{mode}-")
            command = [sys.executable, "-m", "migrator", "seed", "--users", str(users)]
            command += ["--data-dir", folder]
            env = {**os.environ, "MIGRATOR_ENGINE_WRITE_SHORTCUTS": switch}
            started = time.perf_counter()
            subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True)
            times[mode].append(time.perf_counter() - started)
            shutil.rmtree(folder, ignore_errors=True)
            say(f"seed --users {users}, {mode}: {times[mode][-1]:.1f} s")
    b, a = statistics.median(times["before"]), statistics.median(times["after"])
    print(f"\nmigrator seed --users {users}: before {b:.1f} s, after {a:.1f} s ({b / a:.2f}x)")


if __name__ == "__main__":
    if "--writes" in sys.argv:
        writes_main()
    else:
        main()
