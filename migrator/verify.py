"""``verify``: shadow-run every selected operation through both paths and judge the results.

A library function first (returns a ``VerifyResult``); ``migrator verify`` only writes it out.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import json_util

from migrator import services
from migrator.compare.rules import Rules, load_rules
from migrator.errors import ConfigError, server_lost
from migrator.paths import GatewayChoice, Paths, open_paths
from migrator.replay import read_replay  # re-exported: migrator.verify.read_replay
from migrator.runner import OpResult, RunOptions, run_operation
from migrator.services.base import Args, Operation, Sampler
from migrator.settings import Settings

SCHEMA_VERSION = 1


REQUIRE = ("all", "offered")
NO_REPLAYED_CALL = "no call of it in the replay"


@dataclass
class VerifyResult:
    started: datetime
    environment: dict[str, Any]
    options: dict[str, Any]
    ops: list[OpResult] = field(default_factory=list)
    complete: bool = True
    stopped: str | None = None  # why the run stopped early (a lost server): exit 3
    seconds: float = 0.0

    @property
    def require(self) -> str:
        return self.options.get("require", "all")

    @property
    def failing(self) -> list[str]:
        """Operations where the gateway disagreed with the oracle."""
        return [op.name for op in self.ops if op.disagreed]

    @property
    def verified(self) -> list[str]:
        return [op.name for op in self.ops if op.not_verified is None]

    @property
    def unverified(self) -> list[OpResult]:
        return [op for op in self.ops if op.not_verified is not None]

    @property
    def blocking(self) -> list[OpResult]:
        """Not-verified operations that make the verdict NO-GO: all of them under
        ``require="all"``; under ``"offered"`` only those the gateway does offer."""
        if self.require == "offered":
            return [op for op in self.unverified if op.offered]
        return self.unverified

    @property
    def passed(self) -> bool:
        """GO: the run ended, checked something, found no difference and left nothing
        required unverified."""
        return self.complete and bool(self.verified) and not self.failing and not self.blocking

    def coverage(self) -> str:
        """The first line of every report: what was verified through which gateway, and
        which operations were not (their reasons: ``not_verified_rows``)."""
        if not self.ops:
            replay = " (the replay has no call of the selected operations)"
            return "nothing was verified: no operation had an input" + (
                replay if self.options.get("replay") else ""
            )
        line = (
            f"{len(self.verified)}/{len(self.ops)} operations verified through "
            f"{self.environment.get('gateway', 'the gateway')}"
        )
        if self.unverified:
            line += f"; not verified: {', '.join(op.name for op in self.unverified)}"
            if self.require == "offered" and not self.blocking:
                line += ' — accepted (require = "offered")'
        return line

    def not_verified_rows(self) -> list[list[str]]:
        return [[op.name, op.not_verified or ""] for op in self.unverified]


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
    progress: Callable[[str, int, int | None], None] | None = None,
    stop: threading.Event | None = None,
) -> VerifyResult:
    """Run the selected operations through both paths on sampled (or replayed) inputs: reads
    always, writes too with ``writes`` (in scratch sandboxes, through the same gateway)."""
    if samples is not None and samples < 1:
        raise ConfigError(f"--samples must be a positive integer or `all`, got {samples}")
    if timeout_ms < 1:
        raise ConfigError(f"--timeout-ms must be positive, got {timeout_ms}")
    if require not in REQUIRE:
        raise ConfigError(f"require must be one of {', '.join(REQUIRE)}, got {require!r}")
    choice = gateway or GatewayChoice()
    selected = services.select(ops, kind="read")
    write_ops = services.select(ops or ["*"], kind="write") if writes else []
    file_rules = load_rules(rules_file) if rules_file else []
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
        why_shared = paths.snapshot_why() or (
            "--concurrency runs the paths at once and a session serves one at a time"
            if concurrency > 1
            else None
        )
        environment = paths.environment()
        environment["snapshot_reads"] = (
            "shared: both paths read each input in one snapshot session"
            if why_shared is None
            else f"not shared ({why_shared}); mismatching inputs are re-checked once"
        )
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
        result = VerifyResult(started=started, environment=environment, options=options)
        run_opts = RunOptions(
            health=paths.check_alive,
            snapshot_client=paths.client if why_shared is None else None,
            timeout_s=timeout_ms / 1000,
            concurrency=concurrency,
            calibrate=calibrate,
            seed=seed,
        )
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        try:
            for op in selected:
                why = paths.why_not(op)
                if why is not None:
                    result.ops.append(OpResult(op.name, op.kind, not_verified=why, offered=False))
                    continue
                if replayed is not None:
                    inputs = replayed.get(op.name, [])
                else:
                    inputs = list(op.sample(Sampler(paths.source, samples, seed=seed, now=now)))
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
                if replayed is not None and not inputs:
                    done.not_verified = NO_REPLAYED_CALL
                result.ops.append(done)
                if stop is not None and stop.is_set():
                    result.complete = False
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
                _run_writes(result, write_ops, paths, samples, seed, now, progress, stop, replayed)
        except KeyboardInterrupt:
            result.complete = False
        except Exception as exc:
            lost = server_lost(exc)
            if lost is None:
                raise
            result.complete, result.stopped = False, str(lost)
    result.seconds = time.perf_counter() - t0
    return result


def _run_writes(
    result: VerifyResult,
    write_ops: list[Operation],
    paths: Paths,
    samples: int | None,
    seed: int,
    now: datetime,
    progress: Any,
    stop: threading.Event | None,
    replayed: dict[str, list[Args]] | None = None,
) -> None:
    from migrator import sandbox

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
            if replayed is not None:
                inputs = replayed.get(op.name, [])
            else:
                inputs = list(op.sample(Sampler(paths.source, n, seed=seed, now=now)))
            total = len(inputs)
            report = (lambda k, name=op.name, t=total: progress(name, k, t)) if progress else None
            done = sandbox.run_writes(
                op, inputs, paths.source, boxes, gateway, stop, legacy=legacy, progress=report
            )
            if replayed is not None and not inputs:
                done.not_verified = NO_REPLAYED_CALL
            result.ops.append(done)
            if stop is not None and stop.is_set():
                result.complete = False
                break


def to_json(result: VerifyResult) -> dict[str, Any]:
    def op_json(op: OpResult) -> dict[str, Any]:
        return {
            "name": op.name,
            "kind": op.kind,
            "inputs": op.inputs,
            "passed": op.passed,
            "not_verified": op.not_verified,
            "offered": op.offered,
            "verdicts": dict(op.verdicts),
            "differences": dict(op.kinds),
            "fields": dict(op.fields.most_common(25)),
            "noise": op.noise,
            "rechecked": op.rechecked,
            "second_opinion": dict(op.opinion),
            "sandbox_seconds": round(op.sandbox_seconds, 3),
            "seconds": round(op.seconds, 3),
            "legacy_median_us": _median_us(op.legacy_ns),
            "gateway_median_us": _median_us(op.gateway_ns),
            "examples": {
                kind: [
                    {
                        "args": e.args,
                        "legacy": e.legacy,
                        "gateway": e.gateway,
                        "difference": {
                            "kind": e.difference.kind,
                            "path": e.difference.path,
                            "doc": e.difference.doc,
                            "legacy": e.difference.legacy,
                            "gateway": e.difference.gateway,
                        },
                    }
                    for e in examples
                ]
                for kind, examples in op.examples.items()
            },
        }

    paths_s = sum(sum(op.legacy_ns) + sum(op.gateway_ns) for op in result.ops) / 1e9
    inputs = sum(op.inputs for op in result.ops)
    secs = result.seconds
    data = {
        "schema_version": SCHEMA_VERSION,
        "command": "verify",
        "timing": {
            "inputs": inputs,
            "seconds": round(secs, 3),
            "inputs_per_second": round(inputs / secs, 1) if secs else None,
            "paths_seconds": round(paths_s, 3),
            "tool_share": round(1 - paths_s / secs, 3) if secs else None,
        },
        "started": result.started.isoformat(),
        "seconds": round(result.seconds, 3),
        "complete": result.complete,
        "stopped": result.stopped,
        "passed": result.passed,
        "coverage": {
            "line": result.coverage(),
            "operations": len(result.ops),
            "verified": len(result.verified),
            "require": result.require,
            "not_verified": {op.name: op.not_verified for op in result.unverified},
        },
        "failing": result.failing,
        "environment": result.environment,
        "options": result.options,
        "operations": [op_json(op) for op in result.ops],
    }
    return json.loads(json_util.dumps(data, json_options=json_util.RELAXED_JSON_OPTIONS))


def _median_us(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2] / 1000, 1)
