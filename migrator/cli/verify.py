"""`migrator verify`: both paths on every operation, and the consistency report."""

from __future__ import annotations

import sys
from typing import Any

import click

from migrator import report
from migrator.choices import LEGACY_CHOICES, REQUIRE
from migrator.cli import options
from migrator.cli.shell import exit_code, handle_errors, print_reports
from migrator.progress import Progress


@click.command()
@options.connection
@options.ops("Operations to run (globs, repeatable): auth.*, *.list_page. Default: all.")
@options.text(
    "--samples",
    "N|all",
    "Inputs per operation; `all` draws every input the sampler can.",
    default="20",
)
@options.seed()
@click.option(
    "--timeout-ms",
    default=10_000,
    show_default=True,
    type=int,
    help="Per-call timeout for each path.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Inputs in flight; above 1 both paths of an input also run at once.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rules file (TOML or YAML) adding ignore/unordered/tolerance rules.",
)
@click.option(
    "--replay",
    type=click.Path(dir_okay=False),
    default=None,
    help="Recorded calls (JSON lines {op,args,at}) instead of sampled inputs.",
)
@options.switch(
    "--calibrate/--no-calibrate", "Run the legacy path twice first to learn noisy fields."
)
@click.option(
    "--writes",
    is_flag=True,
    help="Also verify write operations, each in two scratch sandbox databases.",
)
@options.choice(
    "--require",
    choices=REQUIRE,
    default="all",
    help="all: an operation not verified is NO-GO; offered: accept operations the gateway "
    "does not offer (listed by name).",
)
@options.choice(
    "--legacy",
    choices=LEGACY_CHOICES,
    default="oracle",
    help="The legacy path: the built-in oracle, or (with --librechat) the checkout's own "
    "legacy branch (Mongoose, USE_DB_GATEWAY off); the other gives a second opinion.",
)
@options.gateway
@options.output("md,json,junit", "the consistency report for people, machines and CI")
@handle_errors
def verify(ops: tuple[str, ...], samples: str, out: str, formats: str, **kw: Any) -> None:
    """Shadow-run every operation through both paths and write the consistency report."""
    cfg, choice = options.settings_from(kw), options.gateway_from(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    inputs = options.samples_or_all(samples)
    from migrator.verify import report as verify_report
    from migrator.verify import verify as run_verify

    # The remaining options are verify()'s arguments, under the same names.
    with Progress("input") as bar:
        result = run_verify(
            cfg, ops=list(ops) or None, samples=inputs, gateway=choice, progress=bar.update, **kw
        )
    paths = verify_report.write(result, out_dir, fmts)
    verdict = "GO" if result.passed else "NO-GO"
    detail = f"failing: {', '.join(result.failing)}" if result.failing else "no difference"
    if not result.complete:
        verdict, detail = "INCOMPLETE", result.stopped or "interrupted"
    print_reports([f"verify: {verdict} — {detail}", f"  {result.coverage()}"], paths)
    sys.exit(exit_code(result.complete, result.passed))
