"""``demo``: everything on the embedded default, twice — a clean GO, then a deliberate NO-GO.

Each run starts the embedded engine in a data folder of its own, seeds the same LibreChat-shaped
database into it and runs ``preflight``: run 1 with the built-in gateway, run 2 with the
``faulty-demo`` gateway variant, so a new user sees what mismatches and a slower operation look
like in the reports. The two runs go side by side, run 2 in a child process: each is a client
and a server taking turns, so together they keep both cores of a small machine busy. A seed
reproduces every byte and both runs sample at one reference time, so they judge the same data
and the same inputs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from migrator import db, embedded, settings
from migrator.choices import GatewayChoice
from migrator.preflight import PreflightResult, load_config, preflight
from migrator.sampling import SampledInputs

DEMO_DB = "LibreChat"
RUNS = ("clean", "faulty-demo")  # each run's data folder (under <data-dir>/demo) and reports

Progress = Callable[[str, int, int | None], None]


@dataclass
class DemoResult:
    seeded: str
    clean: PreflightResult
    faulty: PreflightResult | None  # None: run 1 was interrupted, and run 2 stopped with it


def demo_config() -> dict:
    config = load_config(None)
    config["verify"].update(samples=8)
    # Few pairs per series (a real preflight measures far longer), but enough for the
    # deliberately slowed operation to stand out after the Holm correction over 32 operations
    # even when a few pairs are lost to the engine's pauses (20 were not, on a busy machine).
    config["bench"].update(pairs=30, warmup=3)
    config["counts"].update(history="")
    return config


def one_run(
    folder: Path,
    out_dir: Path,
    *,
    users: int,
    now: datetime,
    gateway: GatewayChoice | None = None,
    progress: Progress | None = None,
) -> tuple[str, PreflightResult]:
    """Start the engine for ``folder`` (unless one runs there), seed, preflight, stop it."""
    from migrator.seed import seed

    handle = None
    if embedded.status(folder) is None:
        # The run reseeds from scratch: restoring the last demo's data first is time lost.
        shutil.rmtree(folder / embedded.SNAPSHOT_DIR, ignore_errors=True)
        handle = embedded.start(folder, background=True)
    try:
        cfg = settings.resolve(db=DEMO_DB, data_dir=folder, environ={})
        with db.server(None, data_dir=folder) as srv:
            client = srv.client()
            summary = seed(client[DEMO_DB], users=users, seed=1, drop=True)
            client.close()
        result = preflight(
            cfg,
            demo_config(),
            out_dir,
            gateway=gateway,
            sampled=SampledInputs(now),
            progress=progress,
        )
    finally:
        if handle is not None:
            embedded.stop(folder)
    return f"{summary.total:,} documents for {users} users", result


def demo(
    data_dir: str | Path,
    out_dir: Path,
    *,
    users: int = 25,
    say: Callable[[str], None] = print,
    progress: Progress | None = None,
) -> DemoResult:
    root = Path(data_dir) / "demo"
    now = SampledInputs().now  # one reference time for both runs' samplers
    say(f"seeding {users} users into two embedded engines, one per run …")
    say("run 1: preflight with the built-in gateway …")
    say(
        "run 2 (a DEMONSTRATION of a NO-GO), side by side on its own copy of the data: "
        "preflight with the deliberately faulty gateway `faulty-demo` …"
    )
    with SecondRun(root / RUNS[1], out_dir / RUNS[1], users=users, now=now) as second:
        seeded, clean = one_run(
            root / RUNS[0], out_dir / RUNS[0], users=users, now=now, progress=progress
        )
        if clean.interrupted:
            say("run 1 was interrupted: run 2 is stopped too")
            return DemoResult(seeded, clean, None)
        say("run 1 done; run 2 …")
        faulty = second.result(progress)
    return DemoResult(seeded, clean, faulty)


class SecondRun:
    """Run 2 in a child process; its progress is shown once run 1 is done (the latest step
    only: what it did meanwhile is in its reports)."""

    def __init__(self, folder: Path, out_dir: Path, *, users: int, now: datetime) -> None:
        ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited clients
        self.messages: Any = ctx.Queue()
        self.proc = ctx.Process(
            target=_second_run, args=(self.messages, folder, out_dir, users, now)
        )

    def __enter__(self) -> SecondRun:
        self.proc.start()
        return self

    def result(self, progress: Progress | None) -> PreflightResult:
        while True:
            try:
                kind, *rest = self.messages.get(timeout=1)
            except queue.Empty:
                if not self.proc.is_alive():
                    raise RuntimeError(
                        f"run 2 ended without a result (exit code {self.proc.exitcode})"
                    ) from None
                continue
            if kind == "error":
                raise rest[0]
            if kind == "done":
                return rest[0]
            if progress is not None and self.messages.empty():
                label, done, total = rest
                progress(f"run 2 · {label}", done, total)

    def __exit__(self, *exc: object) -> None:
        if self.proc.is_alive():  # run 1 failed or was interrupted: stop run 2 as well
            self.proc.terminate()  # its SIGTERM handler stops its engine first
        while self.proc.is_alive():  # a child exits only once its queued messages are read
            with contextlib.suppress(queue.Empty):
                self.messages.get(timeout=0.2)
        self.proc.join()


def _second_run(messages: Any, folder: Path, out_dir: Path, users: int, now: datetime) -> None:
    # SIGTERM (from the parent) unwinds like Ctrl-C does, so the engine is stopped either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def progress(label: str, done: int, total: int | None) -> None:
        messages.put(("progress", label, done, total))

    try:
        _, result = one_run(
            folder,
            out_dir,
            users=users,
            now=now,
            gateway=GatewayChoice.of("faulty-demo"),
            progress=progress,
        )
        messages.put(("done", result))
    except BaseException as exc:  # handed to the parent, which raises it
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot cross: its text does
            exc = RuntimeError(f"run 2 failed: {type(exc).__name__}: {exc}")
        messages.put(("error", exc))
