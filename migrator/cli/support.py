"""The supporting commands: doctor (what the tool connects to), seed (a dataset), clean
(scratch databases), ops (the operation catalog)."""

from __future__ import annotations

import json
from typing import Any

import click

from migrator.cli import options
from migrator.cli.shell import handle_errors
from migrator.progress import Progress


@click.command()
@options.connection
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@options.gateway
@handle_errors
def doctor(as_json: bool, **kw: Any) -> None:
    """Print what the tool connects to: servers, their features, and the gateway under test
    (with --gateway-cmd or --librechat: what it offers, and why not)."""
    cfg, choice = options.settings_from(kw), options.gateway_from(kw)
    from migrator.doctor import doctor as run_doctor
    from migrator.doctor import render

    with Progress("step") as bar:
        out = run_doctor(cfg, choice, progress=bar.line)
    click.echo(json.dumps(out, indent=2, default=str) if as_json else render(out))


@click.command()
@options.connection
@options.users(200, 1, 1_000_000, "How many users; everything else scales with it.")
@options.seed("Random seed: the same seed gives the same data.")
@click.option("--drop", is_flag=True, help="Replace a database that already holds data.")
@handle_errors
def seed(**kw: Any) -> None:
    """Write a realistic LibreChat v0.8.0-rc3-shaped dataset (with its known hazards)."""
    cfg = options.settings_from(kw)
    from migrator.seed import seed_database

    with Progress("document") as bar:
        summary = seed_database(cfg, progress=bar.update, **kw)
    click.echo(summary.to_text())


@click.command()
@options.connection
@click.option(
    "--force", is_flag=True, help="Also drop scratch databases of runs that are still going."
)
@handle_errors
def clean(force: bool, **kw: Any) -> None:
    """Drop the scratch databases (migrator_scratch_*) of runs that are gone; a running
    run's are left (with a line saying so) unless --force."""
    cfg = options.settings_from(kw)
    from migrator.clean import clean as run_clean

    swept = run_clean(cfg, force=force)
    dropped = swept.dropped
    click.echo(
        f"dropped {len(dropped)} scratch databases" + (": " + ", ".join(dropped) if dropped else "")
    )
    for name, why in swept.spared:
        click.echo(f"left {name}: {why} (--force drops it)")


@click.command("ops")
@click.option("--kind", type=click.Choice(["read", "write"]), default=None)
def list_ops(kind: str | None) -> None:
    """List the operations of the service catalog."""
    from migrator import services

    for op in services.select(None, kind=kind):
        click.echo(f"{op.name:42s} {op.kind}")
