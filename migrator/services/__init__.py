"""The service catalog: every operation of every area, by name.

Each area is a package of the same shape: ``legacy`` (the oracle: pymongo spelling out
LibreChat's Mongoose code), ``gateway`` (``gw_*``: the same operation through the gateway's
repositories), ``shared`` (the application code around the data access, which both paths run),
``inputs`` (samplers and write footprints), and its ``__init__`` the catalog entries (compare
rules, ``OPERATIONS``). Shared by several areas: ``access`` (ACL lookups and by-access pages),
``js`` (JavaScript semantics), ``mongoose`` (Mongoose's casts and write behaviours) and
``base`` (``Operation``, ``Sampler``).
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Iterable

from migrator.errors import ConfigError
from migrator.services.base import Operation, Sampler

AREAS = ("auth", "conversations", "messages", "files", "transactions", "agents", "prompts")


def catalog() -> dict[str, Operation]:
    ops: dict[str, Operation] = {}
    for area in AREAS:
        try:
            module = importlib.import_module(f"{__name__}.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{area}":
                continue  # area not written yet
            raise
        for op in module.OPERATIONS:
            ops[op.name] = op
    return ops


def select(patterns: Iterable[str] | None = None, kind: str | None = None) -> list[Operation]:
    """Operations matching any glob (``auth.*``, ``*.list_page``); an unknown name is an error."""
    ops = catalog()
    patterns = list(patterns or ["*"])
    chosen: dict[str, Operation] = {}
    for pattern in patterns:
        hits = [name for name in ops if fnmatch.fnmatchcase(name, pattern)]
        if not hits:
            raise ConfigError(
                f"--ops {pattern!r} matches no operation; known areas: {', '.join(AREAS)} "
                f"(see `migrator ops`)"
            )
        for name in hits:
            chosen[name] = ops[name]
    return [op for op in chosen.values() if kind is None or op.kind == kind]


__all__ = ["AREAS", "Operation", "Sampler", "catalog", "select"]
