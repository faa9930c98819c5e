"""The exception tree. Each class maps to one exit code (DESIGN.md, "Commands and exit codes")."""

from __future__ import annotations


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
