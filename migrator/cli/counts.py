"""`migrator counts`: every collection counted through both paths, with history and trend."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from migrator import report
from migrator.cli import options
from migrator.cli.shell import exit_code, handle_errors, print_reports
from migrator.progress import Progress


def _comma_list(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@click.command()
@options.connection
@click.option(
    "--collections",
    multiple=True,
    metavar="LIST",
    help="Collections to count (comma list or repeatable): messages,files. Default: all.",
)
@options.text(
    "--by",
    "LEVELS",
    "Levels besides totals: owner (per user), day (UTC day of createdAt).",
    default="owner,day",
)
@click.option(
    "--settle-minutes",
    default=10.0,
    show_default=True,
    type=float,
    metavar="M",
    help="Leave out documents created or updated in the last M minutes (writes in flight).",
)
@click.option(
    "--warn",
    "warn_pct",
    default=None,
    type=float,
    metavar="PCT",
    help="Warn when a difference is above PCT percent (must be below --fail).",
)
@click.option(
    "--fail",
    "fail_pct",
    default=0.0,
    show_default=True,
    type=float,
    metavar="PCT",
    help="Fail when a difference is above PCT percent of the legacy count of its collection, "
    "owner or day; 0 fails on any difference.",
)
@options.fail_on("failures")
@options.text(
    "--history",
    "PATH|mongodb",
    "History store: a JSONL file, or `mongodb` (migrator_history.counts on the legacy "
    "server). Default: OUT/counts-history.jsonl.",
)
@click.option(
    "--trend",
    "trend_runs",
    default=7,
    show_default=True,
    type=int,
    metavar="N",
    help="Runs per collection in the trend table.",
)
@options.output("md,json,junit", "a PNG chart is added once the history has two runs")
@options.gateway
@handle_errors
def counts(
    collections: tuple[str, ...], by: str, history: str | None, out: str, formats: str, **kw: Any
) -> None:
    """Count every collection through both paths (totals, per owner, per day), append the
    run to the history and write the report with the trend. Exit 1 when a difference is
    above --fail (or --warn, with --fail-on warn)."""
    cfg, choice = options.settings_from(kw), options.gateway_from(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    from migrator.counts import counts as run_counts
    from migrator.counts import report as counts_report

    # The remaining options are counts()'s arguments, under the same names.
    with Progress("collection") as bar:
        result = run_counts(
            cfg,
            collections=_comma_list(collections) or None,
            by=_comma_list((by,)),
            history=history or str(Path(out) / "counts-history.jsonl"),
            gateway=choice,
            progress=lambda name, done, total: bar.update("counts", done, total),
            **kw,
        )
    paths = counts_report.write(result, out_dir, fmts)
    print_reports([f"counts: {counts_report.headline(result)}"], paths)
    sys.exit(exit_code(result.complete, result.passed))
