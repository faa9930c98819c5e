"""`migrator bench`: the gateway's overhead per read operation, against an A/A noise floor."""

from __future__ import annotations

import sys
from typing import Any

import click

from migrator import report
from migrator.choices import GC_POLICIES
from migrator.cli import options
from migrator.cli.shell import exit_code, handle_errors, print_reports
from migrator.progress import Progress


@click.command()
@options.connection
@options.ops("Read operations to measure (globs, repeatable): auth.*, *.list_page. Default: all.")
@options.text("--pairs", "N", "Pairs (one call per path) per series, per operation [default: 300].")
@options.text(
    "--max-seconds",
    "S",
    "With --pairs: a series that reaches S seconds stops there (at least 20 pairs); "
    "0 never stops early.",
    default="5",
)
@options.text(
    "--seconds",
    "S",
    "Instead of --pairs: time budget per series, per operation (at least 20 pairs).",
)
@options.text(
    "--warmup", "K", "Calls per path per operation before measuring, discarded.", default="10"
)
@options.text(
    "--samples", "N", "Inputs sampled per operation; the pairs cycle through them.", default="20"
)
@options.seed("Seed of the input sample, the call order and the bootstrap.")
@options.text(
    "--baseline",
    "FILE",
    "A previous bench JSON report: flag operations whose overhead grew since.",
)
@options.gateway
@options.switch(
    "--aa/--no-aa", "Run the A/A series (legacy against itself) that gives the noise floor."
)
@options.choice(
    "--gc",
    "gc_policy",
    choices=GC_POLICIES,
    default="between-pairs",
    help="Garbage collector: off in timed calls (collected between pairs), or left automatic.",
)
@options.fail_on("failing operations")
@options.output("md,json", "md comes with a PNG chart, json with the raw samples")
@handle_errors
def bench(
    ops: tuple[str, ...],
    pairs: str | None,
    max_seconds: str,
    seconds: str | None,
    warmup: str,
    samples: str,
    fail_on: str,
    out: str,
    formats: str,
    **kw: Any,
) -> None:
    """Measure the gateway's overhead per read operation: paired, interleaved calls of both
    paths on the same inputs, after warm-up and an A/A noise-floor run. Writes
    benchmark-<timestamp>.md (+ .png) and .json; exit 1 when an operation fails the gate."""
    cfg, choice = options.settings_from(kw), options.gateway_from(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    budget = {
        "pairs": options.number("--pairs", pairs, int, 1),
        "seconds": options.number("--seconds", seconds, float, 0.001),
        "max_seconds": options.number("--max-seconds", max_seconds, float, 0) or None,
        "warmup": options.number("--warmup", warmup, int, 0),
        "samples": options.number("--samples", samples, int, 1),
    }
    from migrator.bench import bench as run_bench
    from migrator.bench import report as bench_report

    # The remaining options are bench()'s arguments, under the same names.
    with Progress("pair") as bar:
        result = run_bench(
            cfg, ops=list(ops) or None, gateway=choice, progress=bar.update, **budget, **kw
        )
    paths = bench_report.write(result, out_dir, fmts)
    print_reports([f"bench: {bench_report.headline(result)}"], paths)
    warned = fail_on == "warn" and result.warning
    sys.exit(exit_code(result.complete, result.passed and not warned))
