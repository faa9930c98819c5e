"""Recorded calls (``verify --replay FILE``): one JSON line per call, ``{"op", "args", "at"}``,
BSON values as MongoDB Extended JSON (docs/external-gateway.md, "Record mode").

Every line is checked before anything runs: UTF-8, valid (Extended) JSON, only the known keys,
an operation of the catalog, argument names the operation takes. Any fault is one ConfigError
naming the file and the line.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

from bson.errors import BSONError

from migrator import services
from migrator.errors import ConfigError
from migrator.gateway.external import decode
from migrator.inputs import read_text
from migrator.services.base import Args, Operation

RECORD_KEYS = ("op", "args", "at")
_DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, ArithmeticError, BSONError)


def _parameters(op: Operation) -> set[str] | None:
    """The argument names ``op`` takes (its legacy function's, after the database), or None
    when it takes any (``**kwargs``)."""
    params = list(inspect.signature(op.legacy).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL}


def _record(line: str, where: str, catalog: dict[str, Operation]) -> tuple[str, Args]:
    try:
        record = decode(line)
    except _DECODE_ERRORS as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{where} is not valid Extended JSON: {detail}") from None
    if not isinstance(record, dict):
        raise ConfigError(f'{where} is not a call record; expected {{"op", "args", "at"}}')
    unknown = sorted(set(record) - set(RECORD_KEYS))
    if unknown:
        raise ConfigError(
            f"{where} has unknown key {unknown[0]!r}; expected only {', '.join(RECORD_KEYS)}"
        )
    op_name = record.get("op")
    if not isinstance(op_name, str):
        raise ConfigError(f'{where} has no "op" string; expected e.g. "auth.get_user_by_id"')
    op = catalog.get(op_name)
    if op is None:
        raise ConfigError(f"{where} names unknown operation {op_name!r} (see `migrator ops`)")
    args = record.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ConfigError(f'{where}: "args" must be an object, got {type(args).__name__}')
    allowed = _parameters(op)
    if allowed is not None:
        extra = sorted(set(args) - allowed)
        if extra:
            takes = ", ".join(sorted(allowed)) or "no arguments"
            raise ConfigError(f"{where}: {op_name} has no argument {extra[0]!r}; it takes {takes}")
    return op_name, dict(args)


def read_replay(path: str | os.PathLike) -> dict[str, list[Args]]:
    """The recorded calls per operation, in file order."""
    text = read_text(path, "--replay")
    catalog = services.catalog()
    calls: dict[str, list[Args]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        op_name, args = _record(line, f"--replay {Path(path)} line {number}", catalog)
        calls.setdefault(op_name, []).append(args)
    return calls


__all__ = ["RECORD_KEYS", "read_replay"]
