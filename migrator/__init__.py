"""migrator: verify a LibreChat MongoDB app's move to a repository gateway (USE_DB_GATEWAY)."""

from __future__ import annotations

__version__ = "0.1.0"
