"""Rules: the one declarative language for normalising and ignoring differences (DESIGN.md).

An operation declares its defaults; a rules file (TOML or YAML) adds to them per operation glob.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


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


def load_rules(path: str) -> list[tuple[str, Rules]]:
    """A rules file: ``[[rule]]`` tables (TOML) or a ``rule:`` list (YAML), each with an ``ops``
    glob and any Rules field. Errors name the file, the rule and the fix."""
    import tomllib
    from pathlib import Path

    import yaml

    from migrator.errors import ConfigError

    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read --rules {p}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text) if p.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(
            f"--rules {p} is not valid {p.suffix.lstrip('.') or 'TOML'}: {first}"
        ) from None
    entries = (data or {}).get("rule", [])
    if not isinstance(entries, list):
        raise ConfigError(f"--rules {p}: `rule` must be a list of tables")
    out: list[tuple[str, Rules]] = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"--rules {p}: rule {i} must be a table")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ConfigError(
                f"--rules {p}: rule {i} has unknown key {sorted(unknown)[0]!r}; "
                f"allowed: {', '.join(sorted(_FIELDS))}"
            )
        try:
            rules = Rules(
                ignore=tuple(map(str, entry.get("ignore", ()))),
                unordered={str(k): str(v) for k, v in dict(entry.get("unordered", {})).items()},
                volatile=tuple(map(str, entry.get("volatile", ()))),
                tolerance={str(k): float(v) for k, v in dict(entry.get("tolerance", {})).items()},
                datetime_ms=bool(entry.get("datetime_ms", True)),
                numeric_types=bool(entry.get("numeric_types", True)),
                objectid_as_str=tuple(map(str, entry.get("objectid_as_str", ()))),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"--rules {p}: rule {i} has a value of the wrong type: {exc}"
            ) from None
        out.append((str(entry.get("ops", "*")), rules))
    return out
