"""``verify``: shadow-run every selected operation through both paths and judge the results.

A library function first (returns a ``VerifyResult``); ``migrator verify`` only writes it out.
"""

from __future__ import annotations

import fnmatch
import json
import platform
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
from bson import json_util

from migrator import db, services
from migrator.compare.rules import Rules, load_rules
from migrator.errors import ConfigError
from migrator.gateway.external import decode
from migrator.guard import read_only
from migrator.runner import (
    ExternalPath,
    LegacyPath,
    OpResult,
    RunOptions,
    open_gateway_path,
    run_operation,
)
from migrator.services.base import Args, Operation, Sampler
from migrator.settings import Settings

SCHEMA_VERSION = 1


@dataclass
class VerifyResult:
    started: datetime
    environment: dict[str, Any]
    options: dict[str, Any]
    ops: list[OpResult] = field(default_factory=list)
    complete: bool = True
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.complete and all(op.passed for op in self.ops if op.skipped is None)

    @property
    def failing(self) -> list[str]:
        return [op.name for op in self.ops if op.skipped is None and not op.passed]


def git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def read_replay(path: str | Path) -> dict[str, list[Args]]:
    """Recorded calls, one JSON line each: ``{"op", "args", "at"}``, BSON as Extended JSON."""
    calls: dict[str, list[Args]] = {}
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read --replay {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = decode(line)
            calls.setdefault(str(record["op"]), []).append(dict(record.get("args") or {}))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f'--replay {path} line {number} is not a call record {{"op", "args", "at"}}: {exc}'
            ) from None
    return calls


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
    gateway_cmd: str | None = None,
    replay: str | None = None,
    calibrate: bool = True,
    writes: bool = False,
    gateway_factory: Callable[[Any], Any] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    stop: threading.Event | None = None,
) -> VerifyResult:
    """Run the selected read operations through both paths on sampled (or replayed) inputs."""
    if samples is not None and samples < 1:
        raise ConfigError(f"--samples must be a positive integer or `all`, got {samples}")
    if timeout_ms < 1:
        raise ConfigError(f"--timeout-ms must be positive, got {timeout_ms}")
    selected = services.select(ops, kind="read")
    write_ops = services.select(ops or ["*"], kind="write") if writes else []
    file_rules = load_rules(rules_file) if rules_file else []
    replayed = read_replay(replay) if replay else None
    if replayed is not None:
        unknown = sorted(set(replayed) - set(services.catalog()))
        if unknown:
            raise ConfigError(f"--replay names unknown operation {unknown[0]!r}")
        selected = [op for op in selected if op.name in replayed]
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    with db.server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv:
        client = srv.client()
        info = db.server_info(client, srv.uri, features=True)
        source = db.librechat_database(client, cfg.db, info.uri)
        g_client = db.Server(cfg.gateway_uri).client() if cfg.gateway_uri else client
        g_info = (
            db.server_info(g_client, cfg.gateway_uri, features=False) if cfg.gateway_uri else info
        )
        environment = {
            "server": info.to_dict(),
            "gateway_server": g_info.to_dict(),
            "legacy_db": cfg.db,
            "gateway_db": cfg.gateway_db,
            "migration": cfg.migration,
            "pymongo": pymongo.version,
            "python": platform.python_version(),
            "host": platform.node(),
            "git_revision": git_revision(),
            "gateway": gateway_cmd or "built-in Python gateway",
            "snapshot_reads": _snapshot_note(info, cfg, gateway_cmd, concurrency),
            "use_db_gateway": cfg.use_db_gateway,
        }
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
        }
        result = VerifyResult(started=started, environment=environment, options=options)
        legacy = LegacyPath(read_only(source))
        gateway = open_gateway_path(
            read_only(g_client[cfg.gateway_db]),
            uri=cfg.gateway_uri or srv.uri,
            gateway_cmd=gateway_cmd,
            factory=gateway_factory,
        )
        external = gateway.client if isinstance(gateway, ExternalPath) else None
        shared = _snapshot_note(info, cfg, gateway_cmd, concurrency).startswith("shared")
        run_opts = RunOptions(
            snapshot_client=client if shared else None,
            timeout_s=timeout_ms / 1000,
            concurrency=concurrency,
            calibrate=calibrate,
            seed=seed,
        )
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        try:
            for op in selected:
                if external is not None and not gateway.supports(op):
                    result.ops.append(
                        OpResult(
                            op.name, op.kind, skipped="not implemented by the external gateway"
                        )
                    )
                    continue
                if replayed is not None:
                    inputs = replayed[op.name]
                else:
                    inputs = list(op.sample(Sampler(legacy.db, samples, seed=seed, now=now)))
                total = len(inputs)
                report = (
                    (lambda n, name=op.name, t=total: progress(name, n, t)) if progress else None
                )
                result.ops.append(
                    run_operation(
                        op,
                        inputs,
                        legacy,
                        gateway,
                        rules_for(op, file_rules),
                        run_opts,
                        report,
                        stop,
                    )
                )
                if stop is not None and stop.is_set():
                    result.complete = False
                    break
            if write_ops and result.complete:
                result.environment["write_method"] = (
                    "sandbox copies: footprint + bystander documents copied into two scratch "
                    "databases (migrator_scratch_*), dropped afterwards"
                )
                _run_writes(
                    result,
                    write_ops,
                    client,
                    legacy.db,
                    samples,
                    seed,
                    now,
                    gateway_factory,
                    progress,
                    stop,
                )
        except KeyboardInterrupt:
            result.complete = False
        finally:
            if external is not None:
                external.close()
    result.seconds = time.perf_counter() - t0
    return result


def _snapshot_note(info: Any, cfg: Settings, gateway_cmd: str | None, concurrency: int) -> str:
    """Whether both paths read each input at one cluster time, and if not, why not."""
    why = None
    if not (info.features and info.features.snapshot_reads):
        why = "the server has no snapshot reads"
    elif cfg.gateway_uri:
        why = "the gateway reads another server"
    elif gateway_cmd:
        why = "the gateway is another process"
    elif concurrency > 1:
        why = "--concurrency runs the paths at once and a session serves one at a time"
    if why is None:
        return "shared: both paths read each input in one snapshot session"
    return f"not shared ({why}); mismatching inputs are re-checked once"


def _run_writes(
    result: VerifyResult,
    write_ops: list[Operation],
    client: Any,
    source: Any,
    samples: int | None,
    seed: int,
    now: datetime,
    gateway_factory: Any,
    progress: Any,
    stop: threading.Event | None,
) -> None:
    from migrator import sandbox
    from migrator.gateway import DbGateway

    sandbox.drop_leftovers(client)
    n = 5 if samples is None else samples  # writes copy data per input: cap `all`
    with sandbox.sandboxes(client, sandbox.new_run_id()) as boxes:
        for op in write_ops:
            inputs = list(op.sample(Sampler(source, n, seed=seed, now=now)))
            total = len(inputs)
            report = (lambda k, name=op.name, t=total: progress(name, k, t)) if progress else None
            result.ops.append(
                sandbox.run_writes(
                    op, inputs, source, boxes, gateway_factory or DbGateway, stop, report
                )
            )
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
            "skipped": op.skipped,
            "verdicts": dict(op.verdicts),
            "differences": dict(op.kinds),
            "fields": dict(op.fields.most_common(25)),
            "noise": op.noise,
            "rechecked": op.rechecked,
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
        "passed": result.passed,
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
