"""``migrator clean``: drop the scratch databases of runs that are gone (``migrator.scratch``
says who owns each one, and whether that owner still runs)."""

from __future__ import annotations

from migrator import db, scratch
from migrator.settings import Settings


def clean(cfg: Settings, *, force: bool = False) -> scratch.Sweep:
    """Sweep the legacy server's scratch databases; with ``force``, running runs' too."""
    with db.connected(cfg) as client:
        return scratch.sweep(client, force=force)


__all__ = ["clean"]
