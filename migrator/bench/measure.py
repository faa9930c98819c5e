"""Measurement: paired, interleaved calls of two paths on the same inputs, kept as raw samples.

Nothing here computes a statistic. Per pair, both paths run the same input one after the
other, on one client and so one connection pool. The order is counterbalanced in blocks of
two pairs, AB then BA or BA then AB by a seeded coin: each order runs in half the pairs, so
whatever the first call of a pair pays (or gains) cancels in the paired difference, and no
path always warms the caches for the other. Per call it records:

* wall time, ``time.perf_counter_ns`` around the call;
* client CPU time, ``time.thread_time_ns`` of the calling thread (the call runs in it);
* round trips: the commands the call started, counted by a pymongo ``CommandListener``;
* bytes sent and received: the BSON size of each command document and of each reply (or
  failure) document as the driver publishes them to command monitoring. Wire headers,
  compression and the connection handshake are not counted. Sizes are computed after the
  call's clock has stopped, so encoding them costs no measured time.

A ``Series`` is filled pair by pair, so whatever was measured before a Ctrl-C or a stop
request is whole and usable.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import monitoring
from pymongo.errors import ConnectionFailure

from migrator.paths import ExternalPath
from migrator.services.base import Args, Operation

MIN_PAIRS = 20  # a --seconds budget still measures at least this many pairs
MAX_PAIRS = 100_000  # hard cap for a --seconds budget
GC_EVERY = 16  # pairs between young-generation collections (a full one every 16 of those)
PROGRESS_EVERY_S = 0.25

Progress = Callable[[str, int, int | None], None]


class CommandMeter(monitoring.CommandListener):
    """Counts the commands (round trips) and bytes of one call at a time.

    Registered on the client when it is created; it listens only between ``begin`` and
    ``end``. Events are published in the thread that runs the command, so a single measuring
    thread needs no lock.
    """

    def __init__(self) -> None:
        self._active = False
        self._sent: list[Any] = []
        self._received: list[Any] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self._active:
            self._sent.append(event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if self._active:
            self._received.append(event.reply)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if self._active:
            self._received.append(event.failure)

    def begin(self) -> None:
        self._sent.clear()
        self._received.clear()
        self._active = True

    def end(self) -> tuple[int, int, int]:
        """(round trips, bytes sent, bytes received) since ``begin``."""
        self._active = False
        sent = sum(_bson_size(doc) for doc in self._sent)
        received = sum(_bson_size(doc) for doc in self._received)
        trips = len(self._sent)
        self._sent.clear()
        self._received.clear()
        return trips, sent, received


def _bson_size(doc: Any) -> int:
    if isinstance(doc, RawBSONDocument):
        return len(doc.raw)
    try:
        return len(bson.encode(doc))
    except Exception:  # a reply the encoder cannot take back: count nothing, never fail
        return 0


@dataclass
class PathSamples:
    """One path's calls in a series, in pair order (raw, never filtered)."""

    wall_ns: list[int] = field(default_factory=list)
    cpu_ns: list[int] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)
    bytes_sent: list[int] = field(default_factory=list)
    bytes_received: list[int] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # exception type -> calls

    def add(self, call: tuple[int, int, int, int, int, str | None]) -> None:
        wall, cpu, trips, sent, received, error = call
        self.wall_ns.append(wall)
        self.cpu_ns.append(cpu)
        self.round_trips.append(trips)
        self.bytes_sent.append(sent)
        self.bytes_received.append(received)
        if error:
            self.errors[error] += 1

    def __len__(self) -> int:
        return len(self.wall_ns)


@dataclass
class Series:
    """Pairs of calls of path ``a`` (the control) and path ``b`` on the same inputs."""

    a_label: str
    b_label: str
    a: PathSamples = field(default_factory=PathSamples)
    b: PathSamples = field(default_factory=PathSamples)
    b_first: list[bool] = field(default_factory=list)  # per pair: did b run first?
    inputs: list[int] = field(default_factory=list)  # per pair: index of the input used
    seconds: float = 0.0

    @property
    def pairs(self) -> int:
        return len(self.b_first)


@dataclass
class OpMeasurement:
    """Everything measured for one operation: warm-up (discarded), A/A and A/B series."""

    name: str
    inputs: int = 0  # sampled
    dropped: Counter = field(default_factory=Counter)  # inputs left out: legacy error type -> n
    warmup: Series | None = None
    aa: Series | None = None
    ab: Series | None = None
    skipped: str | None = None
    sample_seconds: float = 0.0


class Budget:
    """How many pairs a series takes: a count (optionally capped in time, so slow operations
    do not dominate a run), or a time budget. Fixed before measuring; never depends on the
    results (no peeking)."""

    def __init__(
        self, pairs: int | None, seconds: float | None, max_seconds: float | None = None
    ) -> None:
        self.pairs = pairs
        self.seconds = seconds
        self.max_seconds = max_seconds if seconds is None else None

    @property
    def total(self) -> int | None:
        return self.pairs if self.seconds is None else None

    def more(self, done: int, elapsed: float) -> bool:
        if self.seconds is None:
            capped = self.max_seconds is not None and elapsed >= self.max_seconds
            return done < (self.pairs or 0) and not (capped and done >= MIN_PAIRS)
        return done < MAX_PAIRS and (done < MIN_PAIRS or elapsed < self.seconds)

    def describe(self) -> str:
        if self.seconds is None:
            cap = (
                f", or fewer when a series reaches {self.max_seconds:g} s"
                if self.max_seconds
                else ""
            )
            return f"{self.pairs} pairs{cap} (at least {MIN_PAIRS})"
        return f"{self.seconds:g} s (at least {MIN_PAIRS} pairs, at most {MAX_PAIRS:,})"


def timed_call(
    path: Any, op: Operation, args: Args, meter: CommandMeter | None
) -> tuple[int, int, int, int, int, str | None]:
    """One call: (wall ns, CPU ns, round trips, bytes sent, bytes received, error type)."""
    error = None
    value: Any = None
    if meter is not None:
        meter.begin()
    c0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    try:
        value = path.call(op, args)
    except ConnectionFailure:
        raise  # the server went away: the run cannot go on
    except Exception as exc:
        error = getattr(exc, "type", None) or type(exc).__name__
    t1 = time.perf_counter_ns()
    c1 = time.thread_time_ns()
    trips, sent, received = meter.end() if meter is not None else (-1, -1, -1)
    del value  # freed after the clock stopped
    wall = t1 - t0
    if isinstance(path, ExternalPath):
        # The gateway's own time: what it reports (protocol v2 `ns`), else the round trip
        # minus the pipe's measured cost.
        wall = path.last_ns if path.last_ns is not None else max(0, wall - path.pipe_ns)
    return wall, c1 - c0, trips, sent, received, error


def _observable(path: Any) -> bool:
    """Our listener sees a path's commands unless another process runs them."""
    return not isinstance(path, ExternalPath)


def pipe_cost(client: Any, calls: int = 200) -> dict[str, Any]:
    """What one call costs the pipe and the Extended JSON coding alone: round trips of a
    no-op (``$noop``; ``$echo`` of nothing for a v1 gateway), after a short warm-up."""
    op = "$noop" if client.protocol >= 2 else "$echo"
    for _ in range(20):
        client.call(op, {})
    walls = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        client.call(op, {})
        walls.append(time.perf_counter_ns() - t0)
    walls.sort()
    return {
        "op": op,
        "calls": calls,
        "median_ns": walls[len(walls) // 2],
        "p95_ns": walls[int(len(walls) * 0.95)],
    }


def describe_timing(client: Any, legacy: Any) -> str:
    """How the external paths of a benchmark were timed, for the report."""
    inside = client.protocol >= 2
    gateway = (
        "the time the gateway process reports for each call (protocol v2 `ns`: after "
        "decoding the request, before encoding the answer)"
        if inside
        else "round trip minus the median `$echo` round trip (estimated: the gateway "
        "reports no time of its own)"
    )
    if isinstance(legacy, ExternalPath):
        return (
            f"both paths inside the gateway process: the application's legacy branch and "
            f"its gateway, each timed by {gateway}; the pipe is in neither figure"
        )
    return (
        f"legacy: pymongo in this process (wall time); gateway: {gateway}; the pipe's own "
        "cost is measured separately and is not in the gateway figure"
    )


def input_order(n_inputs: int, seed: str) -> Callable[[int], int]:
    """Pair i -> input index: the inputs in a seeded shuffle, reshuffled every cycle."""
    rng = random.Random(f"inputs:{seed}")
    cycles: list[list[int]] = []

    def index(i: int) -> int:
        cycle, pos = divmod(i, n_inputs)
        while len(cycles) <= cycle:
            order = list(range(n_inputs))
            rng.shuffle(order)
            cycles.append(order)
        return cycles[cycle][pos]

    return index


_between_pairs = threading.local()


@contextmanager
def collector_between_pairs(on: bool = True) -> Iterator[None]:
    """The collector off, so it never runs inside a timed call (``fill`` collects between
    pairs instead). What exists on entry is collected and frozen once: the collections
    between pairs then scan only what the run itself allocates. ``bench`` holds this around
    the whole run; nested entries (each ``fill``) cost nothing — a full collection per series
    of a large process cost about 0.1 s each."""
    if not on or getattr(_between_pairs, "held", False):
        yield
        return
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    _between_pairs.held = True
    try:
        yield
    finally:
        _between_pairs.held = False
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def fill(
    series: Series,
    op: Operation,
    inputs: list[Args],
    a: Any,
    b: Any,
    budget: Budget,
    *,
    seed: str,
    meter: CommandMeter | None,
    gc_policy: str = "between-pairs",
    progress: Progress | None = None,
    label: str = "",
    stop: threading.Event | None = None,
) -> Series:
    """Measure pairs into ``series`` until the budget is spent (or a stop / Ctrl-C).

    The input sequence depends only on ``seed`` and the operation, so the A/A and A/B
    series of an operation see the same inputs in the same order. Only whole pairs are
    recorded.
    """
    meter_a = meter if _observable(a) else None
    meter_b = meter if _observable(b) else None
    coin = random.Random(f"order:{seed}:{series.a_label}:{series.b_label}")
    pick = input_order(len(inputs), seed)
    manage_gc = gc_policy == "between-pairs"
    with collector_between_pairs(manage_gc):
        if manage_gc:
            gc.collect()  # each series starts clean (cheap: the heap before the run is frozen)
        start = time.perf_counter()
        shown = 0.0
        done = 0
        try:
            while budget.more(done, time.perf_counter() - start):
                if stop is not None and stop.is_set():
                    break
                index = pick(done)
                args = inputs[index]
                # A block's first pair tosses the coin; its second pair runs the other order.
                b_first = coin.random() < 0.5 if done % 2 == 0 else not series.b_first[-1]
                if b_first:
                    rb = timed_call(b, op, args, meter_b)
                    ra = timed_call(a, op, args, meter_a)
                else:
                    ra = timed_call(a, op, args, meter_a)
                    rb = timed_call(b, op, args, meter_b)
                series.a.add(ra)
                series.b.add(rb)
                series.b_first.append(b_first)
                series.inputs.append(index)
                done += 1
                if manage_gc and done % GC_EVERY == 0:  # outside the timed calls
                    gc.collect(0 if done % (GC_EVERY * 16) else 2)
                now = time.perf_counter()
                if progress is not None and now - shown >= PROGRESS_EVERY_S:
                    progress(label, done, budget.total)
                    shown = now
        finally:
            series.seconds += time.perf_counter() - start
    if progress is not None:
        progress(label, series.pairs, budget.total)
    return series


def usable_inputs(op: Operation, inputs: list[Args], legacy: Any) -> tuple[list[Args], Counter]:
    """Call the legacy path once per input (untimed; it also brings the working set into the
    server's cache) and keep the inputs it answers. An input the legacy path rejects (a cast
    error, a missing key) times exception handling, not a database operation, and its
    near-zero differences would pull the median Δ toward 0; ``verify`` covers those."""
    kept: list[Args] = []
    dropped: Counter = Counter()
    for args in inputs:
        _, _, _, _, _, error = timed_call(legacy, op, args, None)
        if error:
            dropped[error] += 1
        else:
            kept.append(args)
    return kept, dropped


def warm_up(
    op: Operation,
    inputs: list[Args],
    a: Any,
    b: Any,
    calls: int,
    *,
    seed: str,
    meter: CommandMeter | None,
) -> Series:
    """``calls`` calls per path, interleaved like the pairs; kept only to be reported."""
    series = Series("legacy", "gateway")
    if calls > 0:
        fill(series, op, inputs, a, b, Budget(calls, None), seed=f"warmup:{seed}", meter=meter)
    return series


def timer_overhead_ns(loops: int = 20_000) -> int:
    """The median cost of one ``perf_counter_ns`` reading (reported, not subtracted: it
    cancels in a paired difference)."""
    clock = time.perf_counter_ns
    best = []
    for _ in range(5):
        t0 = clock()
        for _ in range(loops):
            clock()
        best.append((clock() - t0) / loops)
    return round(sorted(best)[len(best) // 2])


def cpu_model() -> str:
    try:
        for line in FsPath("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> dict[str, Any]:
    """What the measurement ran on (pyperf's metadata, condensed)."""
    try:
        affinity = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = []
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "affinity": affinity,
        "load_average": load,
        "platform": platform.platform(),
        "host": platform.node(),
    }


__all__ = [
    "Budget",
    "CommandMeter",
    "OpMeasurement",
    "PathSamples",
    "Series",
    "collector_between_pairs",
    "fill",
    "machine",
    "timed_call",
    "timer_overhead_ns",
    "usable_inputs",
    "warm_up",
]
