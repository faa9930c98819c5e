"""Where users wait: the figures of issue #15, measured through the command line only, so the
same script measures this tree and, with ``--against REV``, an older revision side by side.

    python benchmarks/perf.py                       # this tree: sizes 50 and 800 users
    python benchmarks/perf.py --against 2cb741a     # ... and that revision, before/after
    python benchmarks/perf.py --sizes 50,200 --skip demo

    python benchmarks/perf.py --against main --skip demo,reads,writes,overhead   # CLI only

Figures (each a median where repeated): CLI start (`--help`, `verify --help`, a usage error;
10 runs each, with the load average); `migrator demo` wall time; `verify --samples 20` at each
size, the command as users run it (every read operation, calibration included: total, the
tool's share, and the per-call cost of the legacy path, which is the engine's; the median of
three runs, the sizes in turn), and the ratio of those medians (largest/smallest size); write
inputs per second in sandboxes; in `verify --samples all`, where the time goes (the paths'
calls, drawing inputs, calibration, the tool's own work: normalise, diff, bookkeeping) and what
`--concurrency 2` buys. Datasets are seeded into a fresh embedded engine per tree, started by
that tree's own launcher.
Nothing here is a test: it prints a table, and ``--json`` writes the raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(
    tree: Path, args: list[str], *, check: bool = True, cwd: Path | None = None
) -> tuple[float, str]:
    """``python -m migrator ARGS`` with ``tree``'s package first on the path: (seconds, out)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "migrator", *args],
        cwd=cwd or tree,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    if check and done.returncode not in (0, 1):
        raise SystemExit(f"`migrator {' '.join(args)}` exited {done.returncode}: {done.stderr}")
    return took, done.stdout


def report_json(out: Path) -> dict:
    (path,) = sorted(out.glob("verify-*.json"))[-1:]
    return json.loads(path.read_text())


CLI_RUNS = 10


def cli_start(tree: Path) -> dict:
    """Median wall time of `--help`, a command's `--help` and a usage error (exit 2), each run
    CLI_RUNS times, with the load average when measured (the figures are upper bounds)."""
    figures: dict = {"load_average_1m": os.getloadavg()[0]}
    for key, args in (
        ("help_s", ["--help"]),
        ("command_help_s", ["verify", "--help"]),
        ("usage_error_s", ["verify", "--samples", "-3"]),
    ):
        with tempfile.TemporaryDirectory() as tmp:  # a usage error may leave ./reports behind
            runs = [run(tree, args, check=False, cwd=Path(tmp))[0] for _ in range(CLI_RUNS)]
        figures[key] = statistics.median(runs)
    figures["load_average_1m_after"] = os.getloadavg()[0]
    return figures


def demo(tree: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        took, out = run(tree, ["demo", "--data-dir", f"{tmp}/data", "--out", f"{tmp}/reports"])
    return {"seconds": took, "summary": out.strip().splitlines()[:3]}


def server(tree: Path, data: Path) -> str:
    """A background embedded engine started by ``tree``'s own launcher (so its engine
    shortcuts are the ones measured)."""
    return run(tree, ["server", "start", "--data-dir", str(data)])[1].strip()


def seeded(tree: Path, uri: str, users: int) -> str:
    name = f"bench_{users}"
    from pymongo import MongoClient

    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        if client[name]["users"].estimated_document_count() > 0:
            return name
    print(f"  seeding {users} users into {name} (once) …", file=sys.stderr)
    run(tree, ["seed", "--mongo-uri", uri, "--db", name, "--users", str(users), "--seed", "1"])
    return name


def reads(tree: Path, uri: str, db: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["verify", "--mongo-uri", uri, "--db", db, "--samples", "20"]
        took, _ = run(tree, [*args, "--out", tmp, "--format", "json"])
        data = report_json(Path(tmp))
    per_call = [op["legacy_median_us"] for op in data["operations"] if op.get("legacy_median_us")]
    return {
        "seconds": took,
        "inputs": data["timing"]["inputs"],
        "tool_share": data["timing"].get("tool_share"),
        "legacy_call_median_us": statistics.median(per_call) if per_call else None,
    }


READ_RUNS = 3


def median_run(runs: list[dict]) -> dict:
    """The run of median time, with every run's seconds (this host's speed drifts)."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[len(ordered) // 2], "runs_s": [r["seconds"] for r in runs]}


def writes(tree: Path, uri: str, db: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["verify", "--mongo-uri", uri, "--db", db, "--samples", "10", "--writes"]
        args += ["--no-calibrate", "--ops", "*.create*", "--ops", "*.update*", "--ops", "*.save"]
        args += ["--ops", "*.delete*", "--ops", "files.increment_usage"]
        run(tree, [*args, "--out", tmp, "--format", "json"])
        data = report_json(Path(tmp))
    done = [op for op in data["operations"] if op["kind"] == "write"]
    inputs = sum(op["inputs"] for op in done)
    seconds = sum(op["seconds"] for op in done)
    return {"inputs": inputs, "seconds": seconds, "inputs_per_s": inputs / seconds}


def overhead(tree: Path, uri: str, db: str) -> dict:
    out = {}
    for concurrency in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            args = ["verify", "--mongo-uri", uri, "--db", db, "--samples", "all"]
            args += ["--ops", "auth.*", "--ops", "files.*", "--concurrency", str(concurrency)]
            took, _ = run(tree, [*args, "--out", tmp, "--format", "json"])
            timing = report_json(Path(tmp))["timing"]
        out[f"concurrency_{concurrency}"] = {"seconds": took, **timing}
    return out


def measure(tree: Path, sizes: list[int], skip: set[str]) -> dict:
    figures: dict = {"tree": str(tree)}
    if "cli" not in skip:
        figures["cli"] = cli_start(tree)
    if "demo" not in skip:
        figures["demo"] = demo(tree)
    if {"reads", "writes", "overhead"} <= skip:
        return figures  # nothing needs a server
    with tempfile.TemporaryDirectory(prefix="migrator-bench-") as data:
        uri = server(tree, Path(data))
        try:
            dbs = {users: seeded(tree, uri, users) for users in sizes}
            if "reads" not in skip:
                runs: dict[int, list[dict]] = {users: [] for users in sizes}
                for _ in range(READ_RUNS):  # sizes taken in turn: a slow spell hits them all
                    for users, db in dbs.items():
                        runs[users].append(reads(tree, uri, db))
                for users, done in runs.items():
                    figures[f"reads_{users}"] = median_run(done)
            small = dbs[min(sizes)]
            if "writes" not in skip:
                figures["writes_200"] = writes(tree, uri, seeded(tree, uri, 200))
            if "overhead" not in skip:
                figures["overhead"] = overhead(tree, uri, small)
        finally:
            run(tree, ["server", "stop", "--data-dir", data], check=False)
    return figures


def table(results: dict[str, dict]) -> str:
    rows = []

    def row(label: str, get) -> None:
        cells = []
        for figures in results.values():
            try:
                value = get(figures)
            except (KeyError, TypeError):
                value = None
            cells.append("–" if value is None else f"{value:,.2f}")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row("`migrator --help` (s)", lambda f: f["cli"]["help_s"])
    row("`migrator verify --help` (s)", lambda f: f["cli"]["command_help_s"])
    row("usage error `verify --samples -3` (s)", lambda f: f["cli"]["usage_error_s"])
    row("  load average (1 min) then", lambda f: f["cli"]["load_average_1m"])
    row("`migrator demo` (s)", lambda f: f["demo"]["seconds"])
    sizes = sorted(
        {int(k.split("_")[1]) for f in results.values() for k in f if k.startswith("reads_")}
    )
    for users in sizes:
        row(
            f"verify --samples 20, {users} users (s)", lambda f, u=users: f[f"reads_{u}"]["seconds"]
        )
        row(
            f"  legacy call median, {users} users (µs)",
            lambda f, u=users: f[f"reads_{u}"]["legacy_call_median_us"],
        )
        row(f"  tool share, {users} users", lambda f, u=users: f[f"reads_{u}"]["tool_share"])
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        row(
            f"verify --samples 20, {hi}/{lo} users",
            lambda f: f[f"reads_{hi}"]["seconds"] / f[f"reads_{lo}"]["seconds"],
        )
    row("write inputs / s (200 users)", lambda f: f["writes_200"]["inputs_per_s"])
    row("tool share, --samples all", lambda f: f["overhead"]["concurrency_1"]["tool_share"])
    for part in ("paths", "sampling", "calibration", "tool_own"):
        row(
            f"  {part.replace('_', ' ')} (s)",
            lambda f, p=part: f["overhead"]["concurrency_1"][f"{p}_seconds"],
        )
    row(
        "  tool's own / paths' time",
        lambda f: f["overhead"]["concurrency_1"]["tool_own_ratio"],
    )
    row("  seconds, --concurrency 1", lambda f: f["overhead"]["concurrency_1"]["seconds"])
    row("  seconds, --concurrency 2", lambda f: f["overhead"]["concurrency_2"]["seconds"])
    head = "| figure | " + " | ".join(results) + " |\n|---|" + "---|" * len(results)
    return head + "\n" + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="also measure this git revision")
    parser.add_argument("--sizes", default="50,800", help="users per dataset (comma list)")
    parser.add_argument("--skip", default="", help="cli,demo,reads,writes,overhead to skip")
    parser.add_argument("--json", metavar="FILE", help="write the raw figures here")
    opts = parser.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]
    skip = {s for s in opts.skip.split(",") if s}
    results: dict[str, dict] = {}
    old = None
    try:
        if opts.against:
            old = Path(tempfile.mkdtemp(prefix="migrator-before-"))
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(old), opts.against],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            print(f"measuring {opts.against} …", file=sys.stderr)
            results[f"before ({opts.against})"] = measure(old, sizes, skip)
        print("measuring this tree …", file=sys.stderr)
        results["after (this tree)"] = measure(ROOT, sizes, skip)
    finally:
        if old is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT)
            shutil.rmtree(old, ignore_errors=True)
    print(table(results))
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
