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
