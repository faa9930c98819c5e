"""``bench``: the paired overhead benchmark of the gateway path against the legacy path.

Three layers, after pyperf: ``measure`` runs the paths and keeps raw samples, ``stats`` turns
them into estimates and verdicts, ``report`` renders Markdown, JSON and a PNG chart. This
function ties them together; ``migrator bench`` only writes its result out.

Per operation: sample inputs once (seeded) → warm up both paths (discarded) → A/A series
(legacy against itself: the noise floor) → A/B series (legacy against gateway).
"""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo

from migrator import model, services
from migrator.bench import measure
from migrator.bench.gate import CONFIDENCE, RESAMPLES, Thresholds
from migrator.bench.measure import Budget, CommandMeter, OpMeasurement, Series
from migrator.bench.result import SCHEMA_VERSION, BenchResult
from migrator.choices import GC_POLICIES, GatewayChoice
from migrator.errors import ConfigError, stops_early
from migrator.paths import ExternalPath, Paths, open_paths
from migrator.sampling import SampledInputs
from migrator.settings import Settings

DEFAULT_PAIRS = 300
DEFAULT_MAX_SECONDS = 5.0  # per series: the slowest reads get fewer pairs, not minutes
DEFAULT_WARMUP = 10
DEFAULT_SAMPLES = 20

Progress = Callable[[str, int, int | None], None]


def _check(
    pairs: int | None, seconds: float | None, warmup: int, samples: int, gc_policy: str
) -> None:
    if pairs is not None and seconds is not None:
        raise ConfigError("give --pairs or --seconds, not both")
    if pairs is not None and pairs < 1:
        raise ConfigError(f"--pairs must be a positive integer, got {pairs}")
    if seconds is not None and not seconds > 0:
        raise ConfigError(f"--seconds must be a positive number, got {seconds}")
    if warmup < 0:
        raise ConfigError(f"--warmup must be 0 or more calls, got {warmup}")
    if samples < 1:
        raise ConfigError(f"--samples must be a positive integer, got {samples}")
    if gc_policy not in GC_POLICIES:
        choices = ", ".join(GC_POLICIES)
        raise ConfigError(f"--gc must be one of {choices}, got {gc_policy!r}")


def bench(
    cfg: Settings,
    *,
    ops: list[str] | None = None,
    pairs: int | None = None,
    seconds: float | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    warmup: int = DEFAULT_WARMUP,
    seed: int = 1,
    samples: int = DEFAULT_SAMPLES,
    baseline: str | Path | None = None,
    gateway: GatewayChoice | None = None,
    aa: bool = True,
    gc_policy: str = "between-pairs",
    thresholds: Thresholds | None = None,
    resamples: int = RESAMPLES,
    sampled: SampledInputs | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> BenchResult:
    """Measure every selected read operation through both paths, paired and interleaved.

    ``pairs`` (default ``DEFAULT_PAIRS``, a series stopping early at ``max_seconds``) or a
    ``seconds`` budget applies to each series of each operation. ``gateway`` is the gateway
    under test (default: the built-in one). An external gateway's calls are timed by what it
    reports it spent inside each call (protocol v2 ``ns``), so the pipe is not in the figure;
    with a gateway that can answer with the application's legacy branch too, both paths are
    timed inside its process. Ctrl-C or ``stop`` ends the
    run early: the result holds what was measured, with ``complete`` False.
    """
    if pairs is None and seconds is None:
        pairs = DEFAULT_PAIRS
    _check(pairs, seconds, warmup, samples, gc_policy)
    if max_seconds is not None and not max_seconds > 0:
        raise ConfigError(f"--max-seconds must be a positive number, got {max_seconds}")
    thresholds = thresholds or Thresholds()
    selected = services.select(ops, kind="read")
    if not selected:
        raise ConfigError(f"--ops {' '.join(ops or [])} selects no read operation")
    # numpy and scipy load here, not at import: `migrator --help` stays fast.
    from migrator.bench import report, stats

    # The baseline is a report file: read it before any work.
    base = report.load_baseline(baseline) if baseline else None
    budget = Budget(pairs, seconds, max_seconds)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    meter = CommandMeter()
    choice = gateway or GatewayChoice()
    # One client, one pool: sequential calls reuse one pooled connection (pymongo checks
    # connections out last-in first-out), opened before the first timed call.
    with open_paths(cfg, choice, features=False, event_listeners=[meter]) as paths:
        source = paths.source
        legacy: Any = paths.legacy
        gw_path: Any = paths.gateway
        environment = _environment(cfg, paths, source)
        if paths.external is not None:
            ext = paths.external
            if "legacy" in ext.branches:
                # Both branches inside the application's process: the pipe is in neither.
                legacy = ExternalPath(ext, branch="legacy")
            pipe = measure.pipe_cost(ext)
            gw_path.pipe_ns = legacy.pipe_ns = pipe["median_ns"]
            environment["pipe"] = pipe
            environment["timing"] = measure.describe_timing(ext, legacy)
        options = {
            "ops": ops or ["*"],
            "pairs": pairs,
            "seconds": seconds,
            "max_seconds": budget.max_seconds,
            "budget": budget.describe(),
            "warmup": warmup,
            "samples": samples,
            "seed": seed,
            "aa": aa,
            "gc": gc_policy,
            "order": "blocks AB·BA or BA·AB (seeded coin); inputs reshuffled per cycle",
            "thresholds": stats.to_dict(thresholds),
            "resamples": resamples,
            "confidence": CONFIDENCE,
            "baseline": str(baseline) if baseline else None,
        }
        result = BenchResult(started=started, environment=environment, options=options)
        if base is not None:
            result.baseline = {k: v for k, v in base.items() if k != "ops"}
        sampled = sampled or SampledInputs()
        steady = measure.collector_between_pairs(gc_policy == "between-pairs")
        with stops_early(result), steady:
            for op in selected:
                if stop is not None and stop.is_set():
                    result.complete = False
                    break
                m = OpMeasurement(op.name)
                result.measurements.append(m)
                why = paths.why_not(op)
                if why is None and isinstance(legacy, ExternalPath):
                    why = legacy.client.why_not(op.name, branch="legacy")
                if why is not None:
                    m.skipped = why
                    continue
                result.interrupted_at = op.name
                if progress is not None:
                    progress(f"{op.name} sampling inputs", 0, None)
                s0 = time.perf_counter()
                inputs = sampled.of(op, source, samples, seed)
                m.sample_seconds = time.perf_counter() - s0
                m.inputs = len(inputs)
                if not inputs:
                    m.skipped = "the sampler found no input in this database"
                    continue
                inputs, m.dropped = measure.usable_inputs(op, inputs, legacy)
                if not inputs:
                    m.skipped = "every sampled input raises on the legacy path"
                    continue
                key = f"{seed}:{op.name}"
                m.warmup = measure.warm_up(
                    op, inputs, legacy, gw_path, warmup, seed=key, meter=meter
                )
                common = {
                    "seed": key,
                    "meter": meter,
                    "gc_policy": gc_policy,
                    "progress": progress,
                    "stop": stop,
                }
                if aa:
                    m.aa = Series("legacy", "legacy′")
                    measure.fill(
                        m.aa, op, inputs, legacy, legacy, budget, label=f"{op.name} A/A", **common
                    )
                m.ab = Series("legacy", "gateway")
                measure.fill(
                    m.ab, op, inputs, legacy, gw_path, budget, label=f"{op.name} A/B", **common
                )
                if stop is not None and stop.is_set():
                    result.complete = False
                    break
                result.interrupted_at = None
        if result.complete:
            result.interrupted_at = None
        environment["load_average_end"] = measure.machine()["load_average"]
    result.analysis = stats.analyse(
        result.measurements,
        thresholds,
        seed=seed,
        resamples=resamples,
        baseline=base["ops"] if base is not None else None,
    )
    result.seconds = time.perf_counter() - t0
    return result


def _environment(cfg: Settings, paths: Paths, source: Any) -> dict[str, Any]:
    counts = {}
    for name in model.COLLECTIONS:
        try:
            counts[name] = source[name].estimated_document_count()
        except pymongo.errors.PyMongoError:
            counts[name] = None
    import numpy
    import scipy

    env = measure.machine()
    env.update(paths.environment())
    env.update(
        {
            "python_implementation": platform.python_implementation(),
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "dataset": {k: v for k, v in counts.items() if v},
            "timer": "time.perf_counter_ns (wall), time.thread_time_ns (client CPU)",
            "timer_overhead_ns": measure.timer_overhead_ns(),
            "listener": "pymongo CommandListener"
            + (" (blind to the external gateway process)" if paths.external else ""),
        }
    )
    return env


__all__ = [
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_PAIRS",
    "DEFAULT_WARMUP",
    "SCHEMA_VERSION",
    "BenchResult",
    "Thresholds",
    "bench",
]
