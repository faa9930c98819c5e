"""The exception tree. Each class maps to one exit code (docs/design.md, "Commands and exit
codes")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class MigratorError(Exception):
    """Base of every error the tool reports as one line."""

    exit_code = 1


class VerdictFailed(MigratorError):
    """The run worked and its verdict is NO-GO (mismatch or threshold breached)."""

    exit_code = 1


class ConfigError(MigratorError):
    """Bad usage or configuration: a wrong option, file or name."""

    exit_code = 2


class CannotRun(MigratorError):
    """The run could not happen: server unreachable, authentication, timeout."""

    exit_code = 3


class ServerLost(CannotRun):
    """A connection-level failure mid-run (server gone, authentication revoked, network):
    not an observation of the operation. The run stops and says so."""


# Server error codes that mean the connection, not the operation, failed.
_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed
# The same failures as an external gateway names them (docs/external-gateway.md, "Errors").
_REMOTE_LOST = {"ServerSelectionTimeoutError", "AutoReconnect", "NetworkTimeout"}


def server_lost(exc: BaseException) -> ServerLost | None:
    """``exc`` as a :class:`ServerLost` when it is a connection-level failure, else None."""
    from pymongo.errors import ConnectionFailure, OperationFailure

    if isinstance(exc, ServerLost):
        return exc
    if isinstance(exc, ConnectionFailure):
        reason = str(exc).split(" (configured timeouts")[0].splitlines()[0]
        return ServerLost(f"the database server was lost mid-run: {type(exc).__name__}: {reason}")
    if isinstance(exc, OperationFailure) and exc.code in _AUTH_CODES:
        return ServerLost(f"the database refused the connection mid-run: {exc.code_name or exc}")
    remote = getattr(exc, "type", None)
    if remote in _REMOTE_LOST:
        return ServerLost(f"the gateway lost its database mid-run: {remote}: {exc}"[:300])
    if isinstance(exc, CannotRun):  # e.g. the external gateway process died
        return ServerLost(str(exc))
    return None


@contextmanager
def stops_early(result: Any) -> Iterator[None]:
    """Ctrl-C, SIGTERM or a lost server end a run early: what ran is kept, and the result
    (anything with ``complete`` and ``stopped``) says it is incomplete and why."""
    try:
        yield
    except KeyboardInterrupt:
        result.complete, result.stopped = False, "interrupted"
    except Exception as exc:
        lost = server_lost(exc)
        if lost is None:
            raise
        result.complete, result.stopped = False, str(lost)
