"""The `migrator` command line: each command parses options, calls one library function,
writes its results, and maps errors to exit codes (0 pass, 1 NO-GO, 2 usage, 3 cannot run).

``shell`` holds the group and the error handling, ``options`` the options several commands
share; one module per command (group). Importing this package loads click and the option
values only: a command imports its job when it runs, so ``--help`` and usage errors are quick.
"""

from __future__ import annotations

from migrator.cli import bench, counts, preflight, server, support, verify
from migrator.cli.shell import main

for _command in (
    server.server,
    support.doctor,
    support.seed,
    support.list_ops,
    support.clean,
    verify.verify,
    counts.counts,
    bench.bench,
    preflight.preflight,
    preflight.demo,
):
    main.add_command(_command)

__all__ = ["main"]
