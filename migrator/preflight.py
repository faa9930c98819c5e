"""``preflight``: verify (reads and writes) + counts + bench against the thresholds of a config
file, and one consolidated GO / NO-GO report linking the three detailed ones.

The config (``migrator.toml``) is validated on load; every key is optional:

    [gateway]              # the gateway under test (one of; --gateway-cmd etc. override)
    cmd = "node my-gateway.js"   # a process speaking the JSON-lines protocol
    librechat = "../LibreChat"   # or a LibreChat checkout's own db-gateway
    variant = "builtin"          # or a built-in gateway

    [verify]
    require = "all"        # "all": an operation not verified is NO-GO; "offered": accept
                           # operations the gateway does not offer (listed in the verdict)
    legacy = "oracle"      # or "librechat": the checkout's own legacy branch is the oracle
    ops = ["*"]            # operation globs
    samples = 20           # inputs per operation
    writes = true          # verify writes in sandboxes
    rules = "rules.toml"   # extra compare rules
    timeout_ms = 10000

    [counts]
    warn_pct = 0.1         # a difference above this is a warning
    fail_pct = 0.0         # ... above this fails (0: any difference)
    settle_minutes = 10
    history = "reports/counts-history.jsonl"   # or "mongodb", or "" for none

    [bench]                # the inputs are verify's (same samples, sampled once)
    ops = ["*"]
    pairs = 100            # or seconds = 0.5: a time budget per series instead
    warmup = 10
    warn_pct = 5.0
    fail_pct = 10.0
    min_us = 20.0
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator import report
from migrator.choices import BUILTIN, GatewayChoice
from migrator.errors import ConfigError
from migrator.inputs import read_text
from migrator.sampling import SampledInputs
from migrator.settings import Settings

SCHEMA_VERSION = 1
CHECKS = ("verify", "counts", "bench")

KIND_NAMES: dict[Any, str] = {  # a config value's expected type, as its error names it
    int: "an integer",
    str: "a string",
    bool: "true or false",
    list: "a list",
    (int, float): "a number",
}
# section -> key -> (type(s), default)
SCHEMA: dict[str, dict[str, tuple[Any, Any]]] = {
    "gateway": {
        "cmd": (str, None),
        "librechat": (str, None),
        "variant": (str, None),
    },
    "verify": {
        "require": (str, "all"),
        "legacy": (str, "oracle"),
        "ops": (list, ["*"]),
        "samples": (int, 20),
        "writes": (bool, True),
        "rules": (str, None),
        "timeout_ms": (int, 10_000),
    },
    "counts": {
        "warn_pct": ((int, float), None),
        "fail_pct": ((int, float), 0.0),
        "settle_minutes": ((int, float), 10),
        "history": (str, None),
        "collections": (list, None),
    },
    "bench": {
        "ops": (list, ["*"]),
        "pairs": (int, 100),
        "seconds": ((int, float), None),
        "warmup": (int, 10),
        "warn_pct": ((int, float), 5.0),
        "fail_pct": ((int, float), 10.0),
        "min_us": ((int, float), 20.0),
    },
}


def load_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """The config with defaults filled in; one precise ConfigError for anything wrong."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(read_text(p, "--config"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config {p} is not valid TOML: {exc}") from None
    out: dict[str, dict[str, Any]] = {}
    for section in data:
        if section not in SCHEMA:
            raise ConfigError(
                f"--config: unknown section [{section}]; "
                f"allowed: {', '.join(f'[{s}]' for s in SCHEMA)}"
            )
    for section, keys in SCHEMA.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"--config: [{section}] must be a table")
        for key in given:
            if key not in keys:
                raise ConfigError(
                    f"--config: unknown key {key!r} in [{section}]; allowed: {', '.join(keys)}"
                )
        out[section] = {}
        for key, (kind, default) in keys.items():
            value = given.get(key, default)
            bad_bool = isinstance(value, bool) and kind is not bool
            if value is not None and (not isinstance(value, kind) or bad_bool):
                want = KIND_NAMES.get(kind, "number")
                raise ConfigError(f"--config: [{section}] {key} must be {want}, got {value!r}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ConfigError(
                    f"--config: [{section}] {key} must not be negative, got {value!r}"
                )
            out[section][key] = value
    for section in ("verify", "bench"):
        _check_globs(out[section]["ops"], f"--config: [{section}] ops")
    if out["verify"]["samples"] < 1 or out["bench"]["pairs"] < 1:
        raise ConfigError("--config: [verify] samples and [bench] pairs must be at least 1")
    if out["bench"]["seconds"] is not None and not out["bench"]["seconds"] > 0:
        raise ConfigError("--config: [bench] seconds must be a positive number")
    if out["verify"]["require"] not in ("all", "offered"):
        raise ConfigError(
            f'--config: [verify] require must be "all" or "offered", '
            f"got {out['verify']['require']!r}"
        )
    return out


def _check_globs(globs: list[Any], where: str) -> None:
    """Each entry a string that matches some operation of the catalog."""
    from fnmatch import fnmatchcase

    from migrator import services

    names = list(services.catalog())
    for glob in globs:
        if not isinstance(glob, str):
            raise ConfigError(f"{where} must be a list of operation globs, got {glob!r} in it")
        if not any(fnmatchcase(name, glob) for name in names):
            raise ConfigError(
                f"{where}: {glob!r} matches no operation; expected globs over `migrator ops` "
                'names, e.g. "auth.*"'
            )


def gateway_choice(config: dict[str, dict[str, Any]], given: GatewayChoice) -> GatewayChoice:
    """The command line's gateway when it names one, else the config's ``[gateway]``."""
    if given.external or given.variant != BUILTIN:
        return given
    g = config.get("gateway", {})
    try:
        return GatewayChoice.of(g.get("variant"), g.get("cmd"), g.get("librechat"))
    except ConfigError as exc:
        raise ConfigError(f"--config: [gateway] {exc}") from None


@dataclass
class PreflightResult:
    started: datetime
    settings: dict[str, Any]
    verify: Any = None
    counts: Any = None
    bench: Any = None
    reports: dict[str, dict[str, Path]] = field(default_factory=dict)
    gateway: GatewayChoice = field(default_factory=GatewayChoice)

    @property
    def checks(self) -> tuple[Any, Any, Any]:
        return self.verify, self.counts, self.bench

    @property
    def interrupted(self) -> bool:
        """A check was stopped on request: the checks after it were not run."""
        return any(c is not None and c.stopped == "interrupted" for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        out = []
        v = self.verify
        if v is not None and v.failing:
            out.append(f"verify: {', '.join(v.failing)} disagree")
        if v is not None and v.blocking:
            out.append(f"verify: {', '.join(op.name for op in v.blocking)} not verified")
        if v is not None and not v.complete:
            out.append("verify: incomplete")
        if self.counts is not None and not self.counts.passed:
            c = self.counts
            why = c.not_verified or (
                f"{', '.join(c.drifting)} drift" if c.complete else f"incomplete ({c.stopped})"
            )
            out.append(f"counts: {why}")
        b = self.bench
        if b is not None and not b.passed:
            if b.failing:
                out.append(f"bench: {', '.join(b.failing)} too slow")
            else:
                out.append(
                    f"bench: {b.stopped or 'incomplete' if not b.complete else 'nothing measured'}"
                )
        out += [f"{name}: not run (interrupted)" for name in self.not_run]
        return out

    @property
    def not_run(self) -> list[str]:
        return [name for name, c in zip(CHECKS, self.checks, strict=True) if c is None]

    @property
    def go(self) -> bool:
        return not self.reasons


def preflight(
    cfg: Settings,
    config: dict[str, dict[str, Any]],
    out_dir: Path,
    *,
    gateway: GatewayChoice | None = None,
    formats: tuple[str, ...] = ("md", "json", "junit"),
    sampled: SampledInputs | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> PreflightResult:
    """Run the three checks, write their reports and the consolidated one. Verify and bench
    share their sampled inputs (``sampled``: with other runs on the same source too)."""
    from migrator.bench import bench
    from migrator.bench import report as bench_report
    from migrator.bench.gate import Thresholds
    from migrator.counts import counts
    from migrator.counts import report as counts_report
    from migrator.verify import report as verify_report
    from migrator.verify import verify

    gateway = gateway or GatewayChoice()
    out_dir = report.prepare_out_dir(out_dir)
    result = PreflightResult(started=datetime.now(UTC), settings=cfg.describe(), gateway=gateway)
    sampled = sampled or SampledInputs()
    v = config["verify"]
    result.verify = verify(
        cfg,
        ops=v["ops"],
        samples=v["samples"],
        writes=v["writes"],
        rules_file=v["rules"],
        timeout_ms=v["timeout_ms"],
        require=v["require"],
        legacy=v["legacy"],
        gateway=gateway,
        sampled=sampled,
        progress=progress,
    )
    result.reports["verify"] = verify_report.write(result.verify, out_dir, formats)
    if result.interrupted:  # a stop request (Ctrl-C, SIGTERM) ends the run, not one check
        return _write(result, out_dir)
    c = config["counts"]
    history = c["history"] if c["history"] is not None else str(out_dir / "counts-history.jsonl")
    result.counts = counts(
        cfg,
        collections=c["collections"],
        warn_pct=c["warn_pct"],
        fail_pct=c["fail_pct"],
        settle_minutes=c["settle_minutes"],
        history=history or None,
        gateway=gateway,
    )
    result.reports["counts"] = counts_report.write(result.counts, out_dir, formats)
    if result.interrupted:
        return _write(result, out_dir)
    b = config["bench"]
    thresholds = Thresholds(warn_pct=b["warn_pct"], fail_pct=b["fail_pct"], min_us=b["min_us"])
    result.bench = bench(
        cfg,
        ops=b["ops"],
        pairs=None if b["seconds"] is not None else b["pairs"],
        seconds=b["seconds"],
        warmup=b["warmup"],
        samples=v["samples"],
        gateway=gateway,
        thresholds=thresholds,
        sampled=sampled,
        progress=progress,
    )
    result.reports["bench"] = bench_report.write(
        result.bench, out_dir, tuple(f for f in formats if f != "junit")
    )
    return _write(result, out_dir)


def _write(result: PreflightResult, out_dir: Path) -> PreflightResult:
    name = f"preflight-{report.stamp(result.started)}"
    result.reports["preflight"] = report.write_set(
        out_dir,
        name,
        ("md", "json"),
        {
            "md": lambda: markdown(result, out_dir),
            "json": lambda: report.dumps(to_json(result)),
        },
    )
    return result


def _link(path: Path | None, out_dir: Path) -> str:
    if path is None:
        return "(not written)"
    return f"[{path.name}]({path.relative_to(out_dir)})"


def markdown(result: PreflightResult, out_dir: Path) -> str:
    head = "GO" if result.go else "NO-GO"
    lines = [
        f"# migrator preflight — {head}",
        "",
        f"Gateway under test: {result.verify.environment.get('gateway')}.",
        "",
        f"**Coverage**: {result.verify.coverage()}.",
        "",
    ]
    if result.verify.unverified:
        lines += [
            report.md_table(result.verify.not_verified_rows(), ["not verified", "why"]),
            "",
        ]
    if result.go:
        lines.append(
            "**GO**: every operation agrees through the gateway, counts are consistent "
            "and the gateway's overhead is within thresholds."
        )
    else:
        lines.append(f"**NO-GO** — {'; '.join(result.reasons)}.")
    if result.gateway.demo_variant:
        lines += [
            "",
            f"> `{result.gateway.variant}` is a deliberately faulty demonstration variant.",
        ]
    lines += ["", "| check | verdict | detail | report |", "|---|---|---|---|"]
    v, c, b = result.verify, result.counts, result.bench
    lines.append(
        f"| verify | {'PASS' if v.passed else 'FAIL'} | "
        f"{sum(op.inputs for op in v.ops)} inputs; {len(v.verified)}/{len(v.ops)} operations "
        f"verified; failing: {', '.join(v.failing) or 'none'} | "
        f"{_link(result.reports['verify'].get('md'), out_dir)} |"
    )
    if c is not None:
        lines.append(
            f"| counts | {'PASS' if c.passed else 'FAIL'} ({c.verdict}) | "
            f"{len(c.collections)} collections; drifting: {', '.join(c.drifting) or 'none'}"
            f" | {_link(result.reports['counts'].get('md'), out_dir)} |"
        )
    if b is not None:
        lines.append(
            f"| bench | {'PASS' if b.passed else 'FAIL'} | failing: "
            f"{', '.join(b.failing) or 'none'}; warnings: {', '.join(b.warning) or 'none'}"
            f" | {_link(result.reports['bench'].get('md'), out_dir)} |"
        )
    lines += [f"| {name} | NOT RUN | the run was interrupted | — |" for name in result.not_run]
    lines += [
        "",
        "Settings: " + ", ".join(f"{k} {v}" for k, v in result.settings.items() if v is not None),
        "",
    ]
    return "\n".join(lines) + "\n"


def to_json(result: PreflightResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "preflight",
        "started": result.started.isoformat(),
        "go": result.go,
        "reasons": result.reasons,
        "gateway": result.verify.environment.get("gateway"),
        "settings": result.settings,
        "checks": {
            "verify": {
                "passed": result.verify.passed,
                "failing": result.verify.failing,
                "coverage": result.verify.coverage(),
                "not_verified": {op.name: op.not_verified for op in result.verify.unverified},
            },
            "counts": None
            if result.counts is None
            else {
                "passed": result.counts.passed,
                "verdict": result.counts.verdict,
                "drifting": result.counts.drifting,
            },
            "bench": None
            if result.bench is None
            else {
                "passed": result.bench.passed,
                "failing": result.bench.failing,
                "warning": result.bench.warning,
            },
        },
        "not_run": result.not_run,
        "reports": {k: {f: str(p) for f, p in v.items()} for k, v in result.reports.items()},
    }
