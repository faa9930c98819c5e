"""migrator: verify a LibreChat MongoDB app's move to a repository gateway (USE_DB_GATEWAY).

The library behind the CLI: every command is one of these functions first.

    from migrator import settings, verify
    result = verify(settings.resolve(mongo_uri="mongodb://…/LibreChat"), samples=20)
    print(result.passed, result.failing)
"""

from __future__ import annotations

__version__ = "0.1.0"

from migrator import settings
from migrator.bench import bench
from migrator.counts import counts
from migrator.errors import CannotRun, ConfigError, MigratorError, VerdictFailed
from migrator.preflight import load_config, preflight
from migrator.seed import seed
from migrator.verify import verify

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
