"""Normalisation: turn a BSON value into a comparable one under a set of rules.

Paths are dotted keys with list positions left out (``conversations.updatedAt`` names the
``updatedAt`` of every conversation in the list). A glob without a dot matches that key at any
depth (``updatedAt``); a glob with dots matches the whole path (``conversations.*At``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128, Int64, ObjectId

from migrator.compare.rules import Rules

VOLATILE = "<volatile>"


def path_matches(path: str, globs: tuple[str, ...] | list[str] | Mapping[str, Any]) -> str | None:
    """The first glob that matches ``path``, or None."""
    last = path.rsplit(".", 1)[-1]
    for glob in globs:
        if "." in glob or glob in ("", "*"):
            if fnmatch.fnmatchcase(path, glob):
                return glob
        elif fnmatch.fnmatchcase(last, glob):
            return glob
    return None


def _number(value: Any) -> Any:
    if isinstance(value, Decimal128):
        dec = value.to_decimal()
        return float(dec) if dec.is_finite() else str(dec)
    if isinstance(value, (Int64, Decimal)):
        return float(value)
    if isinstance(value, int):
        return float(value)
    return value


def normalize(value: Any, rules: Rules, path: str = "", applied: set[str] | None = None) -> Any:
    """A copy of ``value`` with the rules applied; ``applied`` collects the rules that changed
    something (for the ``ignored`` verdict)."""
    applied = applied if applied is not None else set()
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            glob = path_matches(sub, rules.ignore)
            if glob is not None:
                applied.add(f"ignore {glob}")
                continue
            if path_matches(sub, rules.volatile) is not None:
                out[key] = VOLATILE
                continue
            out[key] = normalize(item, rules, sub, applied)
        return out
    if isinstance(value, (list, tuple)):
        items = [normalize(v, rules, path, applied) for v in value]
        key = _unordered_key(path, rules)
        if key is not None:
            items.sort(key=lambda d: repr(d.get(key)) if isinstance(d, Mapping) else repr(d))
        return items
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if rules.datetime_ms and value.microsecond % 1000:
            applied.add("datetime_ms")
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value
    if isinstance(value, ObjectId) and path_matches(path, rules.objectid_as_str):
        return str(value)
    if isinstance(value, (int, float, Int64, Decimal128, Decimal)) and rules.numeric_types:
        number = _number(value)
        tol = path_matches(path, rules.tolerance) if rules.tolerance else None
        if tol is not None and isinstance(number, float):
            step = rules.tolerance[tol]
            return round(number / step) * step if step else number
        return number
    return value


def _unordered_key(path: str, rules: Rules) -> str | None:
    for glob, key in rules.unordered.items():
        if glob == path or (glob and fnmatch.fnmatchcase(path, glob)) or (glob == "" and not path):
            return key
    return None
