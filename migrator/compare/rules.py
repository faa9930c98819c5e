"""Rules: the one declarative language for normalising and ignoring differences (docs/design.md).

An operation declares its defaults; a rules file (TOML or YAML) adds to them per operation glob.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.inputs import read_text


@dataclass(frozen=True)
class Rules:
    ignore: tuple[str, ...] = ()  # path globs whose differences do not count ("*.updatedAt")
    unordered: dict[str, str] = field(default_factory=dict)  # array path glob -> key field
    volatile: tuple[str, ...] = ()  # present on both sides, value may differ (generated ids)
    tolerance: dict[str, float] = field(default_factory=dict)  # path glob -> abs tolerance
    datetime_ms: bool = True  # truncate datetimes to milliseconds (BSON precision)
    numeric_types: bool = True  # int/long/double/Decimal128 compare by value
    objectid_as_str: tuple[str, ...] = ()  # path globs where ObjectId == its hex string

    def merged(self, other: Rules) -> Rules:
        return replace(
            self,
            ignore=self.ignore + other.ignore,
            unordered={**self.unordered, **other.unordered},
            volatile=self.volatile + other.volatile,
            tolerance={**self.tolerance, **other.tolerance},
            datetime_ms=self.datetime_ms and other.datetime_ms,
            numeric_types=self.numeric_types and other.numeric_types,
            objectid_as_str=self.objectid_as_str + other.objectid_as_str,
        )


_FIELDS = {
    "ops",
    "ignore",
    "unordered",
    "volatile",
    "tolerance",
    "datetime_ms",
    "numeric_types",
    "objectid_as_str",
}


_LISTS = ("ignore", "volatile", "objectid_as_str")  # lists of path globs
_TABLES = {"unordered": str, "tolerance": (int, float)}  # path glob -> key field / tolerance
_FLAGS = ("datetime_ms", "numeric_types")


def _checked(entry: dict[str, Any], where: str) -> Rules:
    """One rule table as Rules; a value of the wrong shape is an error, never coerced."""
    for key in _LISTS:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{where}: {key} must be a list of path globs, e.g. ["updatedAt"]')
    for key, kind in _TABLES.items():
        value = entry.get(key, {})
        ok = isinstance(value, dict) and all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value.values()
        )
        if not ok:
            want = "a key field name" if kind is str else "a number"
            raise ConfigError(f"{where}: {key} must be a table of path glob = {want}")
    for key in _FLAGS:
        if not isinstance(entry.get(key, True), bool):
            raise ConfigError(f"{where}: {key} must be true or false")
    return Rules(
        ignore=tuple(entry.get("ignore", ())),
        unordered={str(k): v for k, v in entry.get("unordered", {}).items()},
        volatile=tuple(entry.get("volatile", ())),
        tolerance={str(k): float(v) for k, v in entry.get("tolerance", {}).items()},
        datetime_ms=entry.get("datetime_ms", True),
        numeric_types=entry.get("numeric_types", True),
        objectid_as_str=tuple(entry.get("objectid_as_str", ())),
    )


def load_rules(path: str, catalog: Iterable[str] | None = None) -> list[tuple[str, Rules]]:
    """A rules file: ``[[rule]]`` tables (TOML) or a ``rule:`` list (YAML), each with an ``ops``
    glob and any Rules field. Errors name the file, the rule and the fix; an ``ops`` glob that
    matches no operation of ``catalog`` (when given: the caller knows the operations; the
    compare engine depends on nothing) is one too."""
    import tomllib

    import yaml

    p = Path(path)
    text = read_text(p, "--rules")
    is_yaml = p.suffix in (".yaml", ".yml")
    try:
        data = yaml.safe_load(text) if is_yaml else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(
            f"--rules {p} is not valid {'YAML' if is_yaml else 'TOML'}: {first}"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"--rules {p}: expected `rule` tables at the top level")
    unknown_top = sorted(set(data) - {"rule"})
    if unknown_top:
        raise ConfigError(f"--rules {p}: unknown top-level key {unknown_top[0]!r}; expected `rule`")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise ConfigError(f"--rules {p}: `rule` must be a list of tables")
    names = sorted(catalog or ())
    out: list[tuple[str, Rules]] = []
    for i, entry in enumerate(entries, 1):
        where = f"--rules {p}: rule {i}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ConfigError(
                f"{where} has unknown key {sorted(unknown)[0]!r}; "
                f"allowed: {', '.join(sorted(_FIELDS))}"
            )
        glob = entry.get("ops", "*")
        if not isinstance(glob, str):
            raise ConfigError(f'{where}: ops must be one operation glob, e.g. "conversations.*"')
        if names and not any(fnmatch.fnmatchcase(name, glob) for name in names):
            raise ConfigError(
                f"{where}: ops = {glob!r} matches no operation; expected a glob over "
                '`migrator ops` names, e.g. "conversations.*" or "*.list_page"'
            )
        out.append((glob, _checked(entry, where)))
    return out
