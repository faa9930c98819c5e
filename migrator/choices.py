"""What a run is asked for, as plain values: the gateway under test (``GatewayChoice``, the
built-in variants by name), the legacy path, the coverage verify requires and bench's garbage
collector policy.

Nothing here connects or loads a gateway, so the command line offers and checks these choices
before it imports pymongo; the jobs validate against the same names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrator.errors import ConfigError

if TYPE_CHECKING:
    from pymongo.database import Database

    from migrator.gateway import DbGateway

BUILTIN = "builtin"
# `--gateway NAME`: the built-in gateway and its deliberately wrong variants, each with its class
# in migrator.gateway.variants (loaded by gateway_class, only when a run uses it).
GATEWAY_VARIANTS: dict[str, str] = {
    BUILTIN: "DbGateway",
    "faulty-demo": "FaultyDemoGateway",
    "no-sort": "NoSortGateway",
    "sort-created": "SortCreatedGateway",
    "cap-100": "Cap100Gateway",
    "no-temp-filter": "NoTempFilterGateway",
    "descending": "DescendingGateway",
    "lost-inc": "LostIncGateway",
}
ORACLE, LIBRECHAT = "oracle", "librechat"
LEGACY_CHOICES = (ORACLE, LIBRECHAT)  # --legacy
REQUIRE = ("all", "offered")  # verify --require
GC_POLICIES = ("between-pairs", "auto")  # bench --gc


def check_variant(name: str) -> str:
    if name not in GATEWAY_VARIANTS:
        raise ConfigError(f"--gateway must be one of {', '.join(GATEWAY_VARIANTS)}, got {name!r}")
    return name


def gateway_class(name: str) -> type[DbGateway]:
    check_variant(name)
    from migrator.gateway import variants

    return getattr(variants, GATEWAY_VARIANTS[name])


@dataclass(frozen=True)
class GatewayChoice:
    """Which gateway is under test: exactly one of a built-in variant, a command, a checkout."""

    variant: str = BUILTIN
    cmd: str | None = None
    librechat: str | None = None
    # Library callers (tests) may pass their own gateway class; named after its class.
    custom: Callable[[Database], DbGateway] | None = None

    @classmethod
    def built_in(cls, factory: Callable[[Database], DbGateway]) -> GatewayChoice:
        """A gateway class of the caller's own (a subclass of the built-in gateway)."""
        return cls(variant=getattr(factory, "__qualname__", repr(factory)), custom=factory)

    @classmethod
    def of(
        cls, variant: str | None = None, cmd: str | None = None, librechat: str | None = None
    ) -> GatewayChoice:
        given = [
            f"--{flag}"
            for flag, value in (
                ("gateway", variant if variant not in (None, BUILTIN) else None),
                ("gateway-cmd", cmd),
                ("librechat", librechat),
            )
            if value
        ]
        if len(given) > 1:
            raise ConfigError(f"choose one gateway under test: {' and '.join(given)} both given")
        if cmd is not None and not cmd.strip():
            raise ConfigError("--gateway-cmd is empty")
        # An unknown name is a usage error now, not mid-run.
        return cls(check_variant(variant or BUILTIN), cmd or None, librechat or None)

    @property
    def external(self) -> bool:
        return bool(self.cmd or self.librechat)

    @property
    def demo_variant(self) -> bool:
        return not self.external and self.custom is None and self.variant != BUILTIN

    def factory(self) -> Callable[[Database], DbGateway]:
        if self.custom is not None:
            return self.custom
        return gateway_class(self.variant)

    def describe(self) -> str:
        if self.librechat:
            return f"LibreChat checkout {self.librechat} (its own db-gateway, migrator's adapter)"
        if self.cmd:
            return f"external process `{self.cmd}`"
        if self.variant == BUILTIN:
            return "built-in Python gateway"
        if self.custom is not None:
            return f"built-in gateway class `{self.variant}`"
        return f"built-in variant `{self.variant}` (deliberately wrong: a demonstration)"


__all__ = [
    "BUILTIN",
    "GATEWAY_VARIANTS",
    "GC_POLICIES",
    "LEGACY_CHOICES",
    "LIBRECHAT",
    "ORACLE",
    "REQUIRE",
    "GatewayChoice",
    "check_variant",
    "gateway_class",
]
