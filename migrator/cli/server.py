"""`migrator server start|status|stop`: the embedded engine in the background."""

from __future__ import annotations

import sys

import click

from migrator import embedded
from migrator.cli import options
from migrator.cli.shell import handle_errors


@click.group()
def server() -> None:
    """Run the embedded engine in the background so several commands share its data."""


@server.command("start")
@options.data_dir()
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="0 picks a free port.")
@handle_errors
def server_start(data_dir: str, port: int) -> None:
    """Start the embedded engine for DATA_DIR and print its mongodb:// URI."""
    handle = embedded.start(data_dir, background=True, port=port)
    click.echo(handle.uri)


@server.command("status")
@options.data_dir()
@handle_errors
def server_status(data_dir: str) -> None:
    """Print the URI of the running server (exit 3 when none runs)."""
    handle = embedded.status(data_dir)
    if handle is None:
        click.echo(f"no server is running for {data_dir}", err=True)
        sys.exit(3)
    click.echo(f"{handle.uri}  (pid {handle.pid})")


@server.command("stop")
@options.data_dir()
@handle_errors
def server_stop(data_dir: str) -> None:
    """Stop the background server (it saves its data folder first)."""
    if embedded.stop(data_dir):
        click.echo(f"stopped the server of {data_dir}")
    else:
        click.echo(f"no server was running for {data_dir}")
