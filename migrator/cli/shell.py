"""The command group and what every command shares around its call: errors become one line on
stderr and an exit code (0 pass, 1 NO-GO, 2 usage, 3 cannot run), never a traceback; report
paths are printed the same way; results map to exit codes in one place."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from migrator import __version__
from migrator.errors import CannotRun, ConfigError, MigratorError
from migrator.secrets import mask_text

# An interrupted run (Ctrl-C, SIGTERM) could not run to the end: partial reports, exit 3.
INTERRUPTED = CannotRun.exit_code


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _fail(exc: MigratorError) -> NoReturn:
    click.echo(f"error: {mask_text(str(exc))}", err=True)
    sys.exit(exc.exit_code)


def _database_failure(exc: Exception) -> bool:
    # pymongo is loaded by the commands that reach a server, not before (it is slow to import);
    # while it is not loaded, no exception can be one of its errors.
    errors = sys.modules.get("pymongo.errors")
    return errors is not None and isinstance(exc, errors.PyMongoError)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One place where errors become one line on stderr and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MigratorError as exc:
            _fail(exc)
        except OSError as exc:  # a file we were told to read or write
            _fail(ConfigError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")))
        except KeyboardInterrupt:
            click.echo("error: interrupted before anything was written", err=True)
            sys.exit(INTERRUPTED)
        except Exception as exc:
            if _database_failure(exc):  # a server failure mid-run: exit 3, one line
                reason = str(exc).split(" (configured timeouts")[0].splitlines()[0]
                what = f"{type(exc).__name__}: {reason}"
                _fail(CannotRun(f"the database failed during the run: {what}"))
            if os.environ.get("MIGRATOR_DEBUG"):
                raise
            # A bug, or a gateway answering outside the protocol.
            what = mask_text(f"{type(exc).__name__}: {exc}").splitlines()[0][:300]
            click.echo(
                f"error: unexpected failure, the run could not go on: {what} "
                "(MIGRATOR_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(CannotRun.exit_code)

    return wrapper


def exit_code(complete: bool, passed: bool) -> int:
    return INTERRUPTED if not complete else 0 if passed else 1


def print_reports(lines: Iterable[str], paths: dict[str, Path]) -> None:
    """A job's headline lines, then the report files it wrote, one per format."""
    for line in lines:
        click.echo(line)
    for fmt, path in paths.items():
        click.echo(f"  {fmt:5s} {path}")


class _OneLineErrors(click.Group):
    """Usage errors as one line on stderr with exit 2, like every other error of the tool."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (cron's timeout, kill) ends a run like Ctrl-C: partial reports, sandboxes
            # dropped, exit 3.
            signal.signal(signal.SIGTERM, _terminate)
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            click.echo(f"error: {mask_text(exc.format_message())}{where}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=_OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="migrator")
def main() -> None:
    """Verify that a LibreChat MongoDB app behaves the same through its repository gateway
    (USE_DB_GATEWAY) as through direct driver calls: results, counts and latency."""


__all__ = ["INTERRUPTED", "exit_code", "handle_errors", "main", "print_reports"]
