"""What a verify run learned: per operation (``OpResult``, bounded however many inputs) and
for the run (``VerifyResult``), and its JSON form."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bson import json_util

from migrator.compare import Observation, Verdict
from migrator.compare.diff import BOTH_ERROR, ERROR, MATCH, MISMATCH
from migrator.report import RunResult
from migrator.services.base import Args
from migrator.snapshot import Snapshot

SCHEMA_VERSION = 1
MAX_EXAMPLES = 3
MAX_FIELDS = 25


@dataclass
class Example:
    args: Args
    legacy: Any
    gateway: Any
    difference: Any


@dataclass
class OpResult:
    """What a run learned about one operation; bounded whatever the number of inputs."""

    name: str
    kind: str
    inputs: int = 0
    verdicts: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)  # difference kind -> inputs
    fields: Counter = field(default_factory=Counter)  # field path -> inputs differing there
    examples: dict[str, list[Example]] = field(default_factory=dict)
    noise: list[str] = field(default_factory=list)  # paths that differ between legacy runs
    rechecked: int = 0
    legacy_ns: list[int] = field(default_factory=list)
    gateway_ns: list[int] = field(default_factory=list)
    # Not verified, and why: the gateway does not offer it, no input, nothing answered...
    not_verified: str | None = None
    offered: bool = True  # False: the selected gateway does not offer this operation
    seconds: float = 0.0  # running the inputs (sampling not included)
    sandbox_seconds: float = 0.0  # writes: copying into sandboxes, reading states, comparing
    sample_seconds: float = 0.0  # drawing the inputs from the source
    calibration_seconds: float = 0.0  # the legacy path run twice more (A/A, noisy fields)
    # The application's own legacy branch against the oracle: verdict -> inputs, examples.
    opinion: Counter = field(default_factory=Counter)
    opinion_examples: list[Example] = field(default_factory=list)

    @property
    def disagreed(self) -> bool:
        """Some input showed a difference: the gateway is wrong here."""
        bad = self.verdicts[MISMATCH] + self.verdicts[ERROR] + self.verdicts["timeout"]
        return bad > 0 or self.kinds["errors differ"] > 0

    @property
    def passed(self) -> bool:
        return self.not_verified is None and not self.disagreed

    def record_opinion(
        self, args: Args, oracle: Observation, own: Observation, verdict: Verdict
    ) -> None:
        """The application's own legacy answer compared with the oracle's."""
        self.opinion[verdict.status] += 1
        if verdict.status in (MATCH, "ignored") or len(self.opinion_examples) >= MAX_EXAMPLES:
            return
        first = verdict.differences[0] if verdict.differences else None
        self.opinion_examples.append(Example(args, _shown(oracle), _shown(own), first))

    def judge_coverage(self) -> None:
        """An operation that no input exercised is not verified, never passed (a vacuous
        match proves nothing)."""
        if self.not_verified is not None or self.disagreed:
            return
        if self.inputs == 0:
            self.not_verified = "no input: the sampler found none in this database"
        elif self.verdicts[BOTH_ERROR] == self.inputs:
            self.not_verified = (
                f"every one of its {self.inputs} inputs failed on both paths: nothing answered"
            )

    def record(
        self, args: Args, legacy: Observation, gateway: Observation, verdict: Verdict
    ) -> None:
        self.inputs += 1
        self.verdicts[verdict.status] += 1
        self.legacy_ns.append(legacy.wall_ns)
        self.gateway_ns.append(gateway.wall_ns)
        if verdict.status in (MATCH, "ignored"):
            return
        for kind in {d.kind for d in verdict.differences}:
            self.kinds[kind] += 1
            bucket = self.examples.setdefault(kind, [])
            if len(bucket) < MAX_EXAMPLES:
                first = next(d for d in verdict.differences if d.kind == kind)
                bucket.append(Example(args, _shown(legacy), _shown(gateway), first))
        for path in {d.path for d in verdict.differences if d.path}:
            self.fields[path] += 1
        if len(self.fields) > MAX_FIELDS * 4:  # keep the counter bounded
            self.fields = Counter(dict(self.fields.most_common(MAX_FIELDS)))


def _shown(obs: Observation) -> Any:
    if obs.timed_out:
        return {"timeout": True}
    if obs.error:
        return {"error": {"type": obs.error[0], "message": obs.error[1]}}
    return obs.value


@dataclass
class VerifyResult(RunResult):
    ops: list[OpResult] = field(default_factory=list)
    # Whether both paths read each input in one snapshot session (None: not recorded).
    snapshot: Snapshot | None = None

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


def timing(result: VerifyResult) -> dict[str, Any]:
    """Where a run's time went: inside the two paths' calls, drawing inputs, calibrating
    (the legacy path run twice more), write sandboxes, and the rest, the tool's own work
    (normalise, diff, bookkeeping, progress): ``tool_own_ratio`` is that per second the paths
    spent. ``tool_share`` is everything outside the paths' calls, as a share of the run.
    With ``--concurrency`` above 1 the calls overlap, their times add up to more than the
    wall clock, and the tool's own time is not defined (None)."""
    paths_s = sum(sum(op.legacy_ns) + sum(op.gateway_ns) for op in result.ops) / 1e9
    inputs = sum(op.inputs for op in result.ops)
    secs = result.seconds
    parts = {
        "sampling_seconds": sum(op.sample_seconds for op in result.ops),
        "calibration_seconds": sum(op.calibration_seconds for op in result.ops),
        "sandbox_seconds": sum(op.sandbox_seconds for op in result.ops),
    }
    overlapping = (result.options or {}).get("concurrency", 1) > 1
    own = None if overlapping else max(0.0, secs - paths_s - sum(parts.values()))
    return {
        "inputs": inputs,
        "seconds": round(secs, 3),
        "inputs_per_second": round(inputs / secs, 1) if secs else None,
        "paths_seconds": round(paths_s, 3),
        **{k: round(v, 3) for k, v in parts.items()},
        "tool_own_seconds": round(own, 3) if own is not None else None,
        "tool_own_ratio": round(own / paths_s, 3) if own is not None and paths_s else None,
        "tool_share": round(1 - paths_s / secs, 3) if secs else None,
    }


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

    data = {
        "schema_version": SCHEMA_VERSION,
        "command": "verify",
        "timing": timing(result),
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
        "snapshot": result.snapshot.to_json() if result.snapshot else None,
        "options": result.options,
        "operations": [op_json(op) for op in result.ops],
    }
    return json.loads(json_util.dumps(data, json_options=json_util.RELAXED_JSON_OPTIONS))


def _median_us(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2] / 1000, 1)
