"""The consistency report of ``verify``: summary first, then one block per operation with its
difference types, per-field statistics and at most three paired examples per type."""

from __future__ import annotations

from pathlib import Path

from migrator import report
from migrator.compare.diff import BOTH_ERROR, ERROR, IGNORED, MATCH, MISMATCH, NOISE, TIMEOUT
from migrator.snapshot import Snapshot
from migrator.verify.result import OpResult, VerifyResult, to_json

COLUMNS = (MATCH, IGNORED, MISMATCH, ERROR, BOTH_ERROR, TIMEOUT, NOISE)


def _verdict(op: OpResult) -> str:
    if op.not_verified:
        return f"NOT VERIFIED: {op.not_verified}"
    return "PASS" if op.passed else "FAIL"


def snapshot_reads(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "not recorded"
    if snapshot.is_shared:
        return "shared: both paths read each input in one snapshot session"
    return f"not shared ({snapshot.why}); mismatching inputs are re-checked once"


def markdown(result: VerifyResult) -> str:
    env = result.environment
    head = "GO" if result.passed else "NO-GO"
    failing = ", ".join(result.failing) or "none"
    lines = [
        f"# migrator verify — {head}",
        "",
        f"**Coverage**: {result.coverage()}.",
        "",
        *(
            [report.md_table(result.not_verified_rows(), ["not verified", "why"]), ""]
            if result.unverified
            else []
        ),
        f"**{head}**: {sum(op.inputs for op in result.ops)} inputs over {len(result.ops)} "
        f"operations in {result.seconds:.1f} s; failing operations: {failing}."
        + (
            ""
            if result.complete
            else f" **INCOMPLETE: {result.stopped or 'interrupted'}; only what ran is shown.**"
        ),
        "",
        "## Environment",
        "",
        report.md_table(
            [
                [
                    "legacy",
                    f"{env['server']['kind']} {env['server']['version']} · "
                    f"{env['server']['uri']} / {env['legacy_db']}",
                ],
                [
                    "gateway",
                    f"{env['gateway']} · {env['gateway_server']['uri']} / {env['gateway_db']}",
                ],
                [
                    "mode",
                    "migration (gateway reads another database)"
                    if env["migration"]
                    else "same database",
                ],
                ["snapshot reads", snapshot_reads(result.snapshot)],
                ["client", f"pymongo {env['pymongo']}, Python {env['python']} on {env['host']}"],
                ["migrator", env.get("git_revision") or "?"],
                [
                    "settings",
                    ", ".join(
                        f"{k}={v}" for k, v in result.options.items() if v not in (None, False)
                    ),
                ],
            ],
            ["", ""],
        ),
        "",
        "## Summary",
        "",
        report.md_table(
            [
                [
                    op.name,
                    op.kind,
                    op.inputs,
                    *(op.verdicts.get(c, 0) for c in COLUMNS),
                    _verdict(op),
                ]
                for op in result.ops
            ],
            ["operation", "kind", "inputs", *COLUMNS, "verdict"],
        ),
        "",
    ]
    for op in result.ops:
        if op.not_verified or (not op.kinds and not op.noise):
            continue
        lines += [f"## {op.name} — {_verdict(op)}", ""]
        if op.kinds:
            lines += [
                report.md_table(
                    sorted(op.kinds.items(), key=lambda kv: -kv[1]), ["difference", "inputs"]
                ),
                "",
            ]
        if op.fields:
            lines += [
                "Fields that differ:",
                "",
                report.md_table(op.fields.most_common(15), ["field", "inputs"]),
                "",
            ]
        if op.noise:
            lines += [
                "Noise (differs between two legacy runs; not counted against the "
                f"gateway): {', '.join(op.noise)}. Suggested rule:",
                "",
                "```toml",
                "[[rule]]",
                f'ops = "{op.name}"',
                f"volatile = {[p for p in op.noise if p != '(value)']!r}",
                "```",
                "",
            ]
        if op.rechecked:
            lines += [
                f"{op.rechecked} inputs differed once and matched on re-check "
                "(live writes between the two reads).",
                "",
            ]
        for kind, examples in op.examples.items():
            lines += [f"### {kind}", ""]
            for i, ex in enumerate(examples, 1):
                d = ex.difference
                where = f"`{d.path or '(value)'}`" + (f" in {report.show(d.doc)}" if d.doc else "")
                lines += [
                    f"{i}. input `{report.show(ex.args, 300)}` — at {where}: legacy "
                    f"`{report.show(d.legacy, 200)}` vs gateway `{report.show(d.gateway, 200)}`",
                    f"   - legacy: `{report.show(ex.legacy)}`",
                    f"   - gateway: `{report.show(ex.gateway)}`",
                ]
            lines.append("")
    lines += _opinion_lines(result)
    timing = to_json(result)["timing"]
    lines += [
        "## Timing",
        "",
        f"{timing['inputs']} inputs in {timing['seconds']} s "
        f"({timing['inputs_per_second']} inputs/s); the two paths' calls took "
        f"{timing['paths_seconds']} s; drawing the inputs {timing['sampling_seconds']} s, "
        f"calibration (the legacy path run twice more) {timing['calibration_seconds']} s, "
        f"write sandboxes {timing['sandbox_seconds']} s; "
        + (
            f"the tool's own work (normalise, diff, bookkeeping) {timing['tool_own_seconds']} "
            f"s, {timing['tool_own_ratio']:.0%} of the paths' time."
            if timing["tool_own_ratio"] is not None
            else "the calls overlapped (--concurrency), so the tool's own time is not separated."
        ),
        "",
    ]
    return "\n".join(lines) + "\n"


def _opinion_lines(result: VerifyResult) -> list[str]:
    """Where the application's own legacy code disagrees with the oracle (a self-check: the
    oracle is wrong there, or the checkout is another LibreChat version)."""
    asked = [op for op in result.ops if op.opinion]
    if not asked:
        return []
    lines = [
        "## Second opinion on the oracle",
        "",
        f"Asked per input: {result.environment.get('second_opinion')}. A difference here is "
        "not the gateway's: either the oracle misreads LibreChat, or the checkout runs other "
        "LibreChat code than the oracle reproduces.",
        "",
        report.md_table(
            [
                [
                    op.name,
                    sum(op.opinion.values()),
                    op.opinion.get(MATCH, 0) + op.opinion.get(IGNORED, 0),
                    sum(op.opinion.values())
                    - op.opinion.get(MATCH, 0)
                    - op.opinion.get(IGNORED, 0),
                ]
                for op in asked
            ],
            ["operation", "inputs", "agree", "differ"],
        ),
        "",
    ]
    for op in asked:
        for ex in op.opinion_examples[:2]:
            d = ex.difference
            what = (
                f"{d.kind} at `{d.path or '(value)'}`: legacy path `{report.show(d.legacy, 160)}`"
                f" vs second opinion `{report.show(d.gateway, 160)}`"
                if d is not None
                else "differs"
            )
            lines.append(f"- {op.name}, input `{report.show(ex.args, 200)}` — {what}")
    return [*lines, ""]


def junit(result: VerifyResult) -> str:
    cases = []
    for op in result.ops:
        failure = None
        if op.disagreed:
            kinds = ", ".join(f"{k}: {n}" for k, n in op.kinds.items())
            failure = (
                f"{op.verdicts.get(MISMATCH, 0)} mismatches, {op.verdicts.get(ERROR, 0)} "
                f"errors, {op.verdicts.get(TIMEOUT, 0)} timeouts ({kinds})"
            )
        if failure is None and op.not_verified and op in result.blocking:
            failure = f"not verified: {op.not_verified}"
        skipped = op.not_verified if failure is None else None
        cases.append((op.name, op.seconds, failure, skipped))
    if not result.complete:
        cases.append(
            ("run", result.seconds, f"INCOMPLETE: {result.stopped or 'interrupted'}", None)
        )
    return report.junit("migrator.verify", cases)


def write(result: VerifyResult, out_dir: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    name = f"verify-{report.stamp(result.started)}"
    return report.write_set(
        out_dir,
        name,
        formats,
        {
            "md": lambda: markdown(result),
            "json": lambda: report.dumps(to_json(result)),
            "junit": lambda: junit(result),
        },
    )
