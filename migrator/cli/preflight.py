"""`migrator preflight` (verify, counts and bench against thresholds: GO or NO-GO) and
`migrator demo` (all of it on the embedded default, then a deliberate NO-GO)."""

from __future__ import annotations

import sys
from typing import Any

import click

from migrator import report
from migrator.cli import options
from migrator.cli.shell import INTERRUPTED, handle_errors
from migrator.progress import Progress


def _summary(result: Any, label: str = "preflight") -> None:
    head = "GO" if result.go else "NO-GO"
    click.echo(f"{label}: {head}" + ("" if result.go else f" — {'; '.join(result.reasons)}"))
    click.echo(f"  report {result.reports['preflight']['md']}")
    for check in ("verify", "counts", "bench"):
        path = result.reports.get(check, {}).get("md")
        if path:
            click.echo(f"  {check:6s} {path}")


@click.command()
@options.connection
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Thresholds and settings (TOML: [verify], [counts], [bench]); see the README.",
)
@options.gateway
@options.out()
@handle_errors
def preflight(config_file: str | None, out: str, **kw: Any) -> None:
    """Verify (reads and writes), counts and bench against thresholds: GO or NO-GO.

    Exit 0 on GO, 1 on NO-GO, 3 when stopped early (Ctrl-C, SIGTERM: the checks not yet
    begun are not run, and the report says so). With --env-file, reports the current
    USE_DB_GATEWAY value (the file is never edited)."""
    from migrator.preflight import gateway_choice, load_config
    from migrator.preflight import preflight as run_preflight

    cfg = options.settings_from(kw)
    config = load_config(config_file)
    choice = gateway_choice(config, options.gateway_from(kw))
    out_dir = report.prepare_out_dir(out)
    with Progress() as bar:
        result = run_preflight(cfg, config, out_dir, gateway=choice, progress=bar.update)
    _summary(result)
    if cfg.use_db_gateway is not None:
        click.echo(f"USE_DB_GATEWAY is currently {cfg.use_db_gateway!r} (not changed)")
    sys.exit(INTERRUPTED if result.interrupted else 0 if result.go else 1)


@click.command()
@options.users(25, 2, 2000, "Size of the seeded demo dataset.")
@options.data_dir("The demo uses <data-dir>/demo.")
@options.out("reports/demo")
@handle_errors
def demo(users: int, data_dir: str, out: str) -> None:
    """Everything on the embedded default: seed, preflight (GO), then a deliberate NO-GO."""
    out_dir = report.prepare_out_dir(out)
    from migrator.demo import demo as run_demo

    with Progress() as bar:
        result = run_demo(
            data_dir,
            out_dir,
            users=users,
            say=lambda m: click.echo(m, err=True),
            progress=bar.update,
        )
    click.echo(f"demo: seeded {result.seeded}")
    _summary(result.clean, "run 1, built-in gateway")
    if result.faulty is None:
        sys.exit(INTERRUPTED)
    _summary(result.faulty, "run 2, faulty-demo gateway (a demonstration)")
    click.echo(
        "The second run is a demonstration: its gateway is broken on purpose (a "
        "case-sensitive email lookup, a lost $inc, a 3 ms slower message load)."
    )
    sys.exit(0 if result.clean.go and not result.faulty.go else 1)
