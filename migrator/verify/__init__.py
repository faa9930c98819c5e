"""``verify``: shadow-run every selected operation through both paths and judge the results.

A library function first (returns a ``VerifyResult``); ``migrator verify`` only writes it out.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from migrator import services
from migrator.choices import REQUIRE, GatewayChoice
from migrator.compare.rules import Rules, load_rules
from migrator.errors import ConfigError, stops_early
from migrator.paths import Paths, open_paths
from migrator.replay import read_replay  # re-exported: migrator.verify.read_replay
from migrator.sampling import SampledInputs
from migrator.services.base import Args, Operation
from migrator.settings import Settings
from migrator.snapshot import Snapshot, SnapshotMode
from migrator.verify.result import SCHEMA_VERSION, OpResult, VerifyResult, to_json
from migrator.verify.runner import RunOptions, run_operation

NO_REPLAYED_CALL = "no call of it in the replay"


def rules_for(op: Operation, file_rules: list[tuple[str, Rules]]) -> Rules:
    rules = op.rules
    for glob, extra in file_rules:
        if fnmatch.fnmatchcase(op.name, glob):
            rules = rules.merged(extra)
    return rules


def verify(
    cfg: Settings,
    *,
    ops: list[str] | None = None,
    samples: int | None = 20,
    seed: int = 1,
    timeout_ms: int = 10_000,
    concurrency: int = 1,
    rules_file: str | None = None,
    gateway: GatewayChoice | None = None,
    replay: str | None = None,
    calibrate: bool = True,
    writes: bool = False,
    require: str = "all",
    legacy: str = "oracle",
    sampled: SampledInputs | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stop: threading.Event | None = None,
) -> VerifyResult:
    """Run the selected operations through both paths on sampled (or replayed) inputs: reads
    always, writes too with ``writes`` (in scratch sandboxes, through the same gateway).
    ``sampled`` shares the sampled inputs with other jobs of the same run."""
    if samples is not None and samples < 1:
        raise ConfigError(f"--samples must be a positive integer or `all`, got {samples}")
    if timeout_ms < 1:
        raise ConfigError(f"--timeout-ms must be positive, got {timeout_ms}")
    if require not in REQUIRE:
        raise ConfigError(f"require must be one of {', '.join(REQUIRE)}, got {require!r}")
    choice = gateway or GatewayChoice()
    selected = services.select(ops, kind="read")
    write_ops = services.select(ops or ["*"], kind="write") if writes else []
    file_rules = load_rules(rules_file, services.catalog()) if rules_file else []
    replayed = read_replay(replay) if replay else None
    if replayed is not None:
        unknown = sorted(set(replayed) - set(services.catalog()))
        if unknown:
            raise ConfigError(f"--replay names unknown operation {unknown[0]!r}")
        # A replay is the traffic to judge: the selected operations it has calls for (writes
        # too, with --writes). An operation named explicitly with --ops but absent from the
        # replay is not verified; one that no call reaches at all makes the run NO-GO.
        explicit = set(services.catalog()) if ops else set()
        selected = [op for op in selected if op.name in replayed or op.name in explicit]
        write_ops = [op for op in write_ops if op.name in replayed or op.name in explicit]
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    line = (lambda text: progress(text, 0, None)) if progress else None
    with open_paths(cfg, choice, progress=line, legacy=legacy) as paths:
        snapshot = paths.snapshot()
        if not snapshot.is_shared:  # a session per path is no use: not one instant per input
            snapshot = Snapshot(SnapshotMode.NONE, snapshot.why)
        elif concurrency > 1:
            snapshot = Snapshot.none(
                "--concurrency runs the paths at once and a session serves one at a time"
            )
        environment = paths.environment()
        options = {
            "ops": ops or ["*"],
            "samples": samples if samples is not None else "all",
            "seed": seed,
            "timeout_ms": timeout_ms,
            "concurrency": concurrency,
            "rules_file": rules_file,
            "replay": replay,
            "calibrate": calibrate,
            "writes": writes,
            "require": require,
            "legacy": legacy,
        }
        if paths.opinion_note:
            environment["second_opinion"] = paths.opinion_note
        result = VerifyResult(
            started=started, environment=environment, options=options, snapshot=snapshot
        )
        run_opts = RunOptions(
            health=paths.check_alive,
            snapshot_client=paths.client if snapshot.is_shared else None,
            timeout_s=timeout_ms / 1000,
            concurrency=concurrency,
            calibrate=calibrate,
            seed=seed,
        )
        sampled = sampled or SampledInputs()
        with stops_early(result):
            for op in selected:
                why = paths.why_not(op)
                if why is not None:
                    result.ops.append(OpResult(op.name, op.kind, not_verified=why, offered=False))
                    continue
                inputs, sample_seconds = _inputs(op, replayed, sampled, paths.source, samples, seed)
                total = len(inputs)
                report = (
                    (lambda n, name=op.name, t=total: progress(name, n, t)) if progress else None
                )
                run_opts.second_opinion = paths.opinion_for(op)
                done = run_operation(
                    op,
                    inputs,
                    paths.legacy,
                    paths.gateway,
                    rules_for(op, file_rules),
                    run_opts,
                    report,
                    stop,
                )
                done.sample_seconds = sample_seconds
                if not _recorded(result, done, replayed is not None and not inputs, stop):
                    break
            if write_ops and result.complete:
                result.environment["write_method"] = (
                    "sandbox copies: footprint + bystander documents copied into two scratch "
                    "databases (migrator_scratch_*), dropped afterwards"
                    + (
                        "; the gateway wrote through a second process of it, started on its "
                        "scratch database"
                        if paths.external is not None
                        else ""
                    )
                )
                _run_writes(
                    result, write_ops, paths, samples, seed, sampled, progress, stop, replayed
                )
    result.seconds = time.perf_counter() - t0
    return result


def _run_writes(
    result: VerifyResult,
    write_ops: list[Operation],
    paths: Paths,
    samples: int | None,
    seed: int,
    sampled: SampledInputs,
    progress: Any,
    stop: threading.Event | None,
    replayed: dict[str, list[Args]] | None = None,
) -> None:
    from migrator.verify import sandbox

    runnable = []
    for op in write_ops:
        why = paths.why_not(op)
        if why is None:
            runnable.append(op)
        else:
            result.ops.append(OpResult(op.name, op.kind, not_verified=why, offered=False))
    if not runnable:
        return
    sandbox.drop_leftovers(paths.client)
    n = 5 if samples is None else samples  # writes copy data per input: cap `all`
    with (
        sandbox.sandboxes(paths.client, sandbox.new_run_id()) as boxes,
        paths.writes_legacy(boxes[0]) as legacy,
        paths.writes_gateway(boxes[1]) as gateway,
    ):
        for op in runnable:
            inputs, sample_seconds = _inputs(op, replayed, sampled, paths.source, n, seed)
            total = len(inputs)
            report = (lambda k, name=op.name, t=total: progress(name, k, t)) if progress else None
            done = sandbox.run_writes(
                op, inputs, paths.source, boxes, gateway, stop, legacy=legacy, progress=report
            )
            done.sample_seconds = sample_seconds
            if not _recorded(result, done, replayed is not None and not inputs, stop):
                break


def _inputs(
    op: Operation,
    replayed: dict[str, list[Args]] | None,
    sampled: SampledInputs,
    source: Any,
    samples: int | None,
    seed: int,
) -> tuple[list[Args], float]:
    """An operation's inputs (replayed calls, else sampled ones) and the seconds drawing took."""
    s0 = time.perf_counter()
    if replayed is not None:
        return replayed.get(op.name, []), time.perf_counter() - s0
    return sampled.of(op, source, samples, seed), time.perf_counter() - s0


def _recorded(
    result: VerifyResult, done: OpResult, not_replayed: bool, stop: threading.Event | None
) -> bool:
    """Add one operation's result (not verified when the replay has no call of it); False when
    a stop request ends the run there."""
    if not_replayed:
        done.not_verified = NO_REPLAYED_CALL
    result.ops.append(done)
    if stop is not None and stop.is_set():
        result.complete = False
        return False
    return True


__all__ = [
    "SCHEMA_VERSION",
    "OpResult",
    "VerifyResult",
    "read_replay",
    "rules_for",
    "to_json",
    "verify",
]
