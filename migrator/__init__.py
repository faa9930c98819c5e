"""migrator: verify a LibreChat MongoDB app's move to a repository gateway (USE_DB_GATEWAY).

The library behind the CLI: every command is one of these functions first.

    from migrator import settings, verify
    result = verify(settings.resolve(mongo_uri="mongodb://…/LibreChat"), samples=20)
    print(result.passed, result.failing)

The functions are loaded on first use, so that ``import migrator`` (and the command line's
``--help``) does not pay for pymongo, pandas or scipy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from migrator import settings
from migrator.errors import CannotRun, ConfigError, MigratorError, VerdictFailed

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "bench": "migrator.bench",
    "counts": "migrator.counts",
    "load_config": "migrator.preflight",
    "preflight": "migrator.preflight",
    "seed": "migrator.seed",
    "verify": "migrator.verify",
}


class _Library(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing the subpackage `migrator.verify` sets `migrator.verify` to that package;
        # the public name stays the function, as it was when this module imported it eagerly.
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Library

__all__ = [
    "CannotRun",
    "ConfigError",
    "MigratorError",
    "VerdictFailed",
    "__version__",
    "bench",
    "counts",
    "load_config",
    "preflight",
    "seed",
    "settings",
    "verify",
]
