"""The shadow runner: for each input, both paths in random order (or at once), each call timed
and bounded by a timeout; an exception is an observation, never a crash.

Pipeline (no back-edges): sample -> run both -> compare -> record (``OpResult``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from migrator.compare import Observation, Rules, Verdict, compare
from migrator.compare.diff import BOTH_ERROR, ERROR, MISMATCH, differences
from migrator.compare.errors import error_of
from migrator.compare.normalize import normalize
from migrator.errors import server_lost
from migrator.services.base import Args, Operation
from migrator.verify.result import OpResult


def observe(
    path: Any,
    op: Operation,
    args: Args,
    pool: ThreadPoolExecutor,
    timeout_s: float,
    health: Callable[[], None] | None = None,
) -> Observation:
    """Run one call in a worker thread; time it; turn exceptions and timeouts into data."""

    def timed() -> Observation:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        try:
            value, error = path.call(op, args), None
        except Exception as exc:
            lost = server_lost(exc)
            if lost is not None:
                raise lost from None  # not an observation: the run stops
            value, error = None, error_of(exc)
        return Observation(
            value=value,
            error=error,
            wall_ns=time.perf_counter_ns() - t0,
            cpu_ns=time.thread_time_ns() - c0,
        )

    future = pool.submit(timed)
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        if health is not None:
            health()  # a timeout from a dead server stops the run, not counted as slow
        return Observation(timed_out=True, wall_ns=int(timeout_s * 1e9))


@dataclass
class RunOptions:
    timeout_s: float = 10.0
    concurrency: int = 1
    calibrate: bool = True
    recheck: bool = True
    seed: int = 1
    # A client whose snapshot sessions both paths share per input (None: no shared snapshot).
    snapshot_client: Any = None
    # Raises ServerLost when the servers are gone (checked after a call times out).
    health: Callable[[], None] | None = None
    # The application's own legacy branch (``--librechat``), compared with the oracle.
    second_opinion: Any = None


def calibrate_noise(
    op: Operation,
    legacy: Any,
    inputs: list[Args],
    rules: Rules,
    pool: ThreadPoolExecutor,
    timeout_s: float,
) -> list[str]:
    """A/A: run the legacy path twice; fields that differ are noise, not gateway mismatches."""
    paths: set[str] = set()
    for args in inputs:
        first = observe(legacy, op, args, pool, timeout_s)
        second = observe(legacy, op, args, pool, timeout_s)
        if first.error or second.error or first.timed_out or second.timed_out:
            continue
        for diff in differences(normalize(first.value, rules), normalize(second.value, rules)):
            paths.add(diff.path or "(value)")
    return sorted(paths)


def run_operation(
    op: Operation,
    inputs: Iterable[Args],
    legacy: Any,
    gateway: Any,
    rules: Rules,
    options: RunOptions,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> OpResult:
    result = OpResult(op.name, op.kind)
    t0 = time.perf_counter()
    rng = random.Random(f"{options.seed}:{op.name}")
    inputs = list(inputs)
    workers = max(2, 2 * options.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="path") as pool:
        if options.calibrate:
            c0 = time.perf_counter()
            result.noise = calibrate_noise(
                op, legacy, inputs[: min(len(inputs), 5)], rules, pool, options.timeout_s
            )
            result.calibration_seconds = time.perf_counter() - c0
        noise = tuple(p for p in result.noise if p != "(value)")

        def one(args: Args) -> tuple[Observation, Observation]:
            if options.snapshot_client is not None:
                # Both reads at one cluster time: a live write cannot land between them.
                with options.snapshot_client.start_session(snapshot=True) as session:
                    return both(legacy.bound(session), gateway.bound(session), args)
            return both(legacy, gateway, args)

        def both(legacy: Any, gateway: Any, args: Args) -> tuple[Observation, Observation]:
            if options.concurrency > 1:
                with ThreadPoolExecutor(max_workers=2) as pair:
                    a = pair.submit(observe, legacy, op, args, pool, options.timeout_s)
                    b = pair.submit(observe, gateway, op, args, pool, options.timeout_s)
                    return a.result(), b.result()
            if rng.random() < 0.5:  # random order: neither path always warms the cache
                a = observe(legacy, op, args, pool, options.timeout_s, options.health)
                return a, observe(gateway, op, args, pool, options.timeout_s, options.health)
            b = observe(gateway, op, args, pool, options.timeout_s, options.health)
            return observe(legacy, op, args, pool, options.timeout_s, options.health), b

        def verdict_for(args: Args) -> tuple[Observation, Observation, Verdict]:
            leg, gw = one(args)
            verdict = compare(leg, gw, rules, noise)
            if options.second_opinion is not None:
                # The application's own legacy code on the same input: does it agree with
                # the oracle? (It is judged separately; it never changes the verdict.)
                own = observe(options.second_opinion, op, args, pool, options.timeout_s)
                result.record_opinion(args, leg, own, compare(leg, own, rules, noise))
            recheck = options.recheck and options.snapshot_client is None
            if verdict.status in (MISMATCH, ERROR) and recheck:
                # No shared snapshot between the paths: a live write may have landed between
                # the two reads. Re-check once before counting it.
                leg2, gw2 = one(args)
                again = compare(leg2, gw2, rules, noise)
                if again.status not in (MISMATCH, ERROR):
                    result.rechecked += 1
                    return leg2, gw2, again
            return leg, gw, verdict

        with ThreadPoolExecutor(max_workers=options.concurrency) as runners:
            for done, (args, (leg, gw, verdict)) in enumerate(
                zip(inputs, runners.map(verdict_for, inputs), strict=True), 1
            ):
                result.record(args, leg, gw, verdict)
                if progress:
                    progress(done)
                if stop is not None and stop.is_set():
                    break
    result.seconds = time.perf_counter() - t0
    result.judge_coverage()
    return result


__all__ = [
    "BOTH_ERROR",
    "RunOptions",
    "run_operation",
]
