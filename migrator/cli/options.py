"""The options the commands share (connection, gateway under test, report set, seed, …), the
kinds of option they declare (text parsed later, a choice, an on/off switch), and the parsers
that turn option text into the library's arguments (a bad value is one line and exit 2, as for
every usage error)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click
from click.core import ParameterSource

from migrator import settings
from migrator.choices import GATEWAY_VARIANTS, GatewayChoice
from migrator.errors import ConfigError

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _stack(*opts: Decorator) -> Decorator:
    """Apply ``opts`` so that they are listed in ``--help`` in the order given."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return decorate


def text(name: str, metavar: str, help: str, default: str | None = None) -> Decorator:
    """An option taken as text (a number the command parses with :func:`number`, a file, a
    list), with its default shown when it has one."""
    return click.option(
        name, default=default, show_default=default is not None, metavar=metavar, help=help
    )


def choice(*decls: str, choices: Sequence[str], default: str, help: str) -> Decorator:
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def switch(decl: str, help: str) -> Decorator:
    """An on/off pair (``--x/--no-x``), on by default."""
    return click.option(decl, default=True, show_default=True, help=help)


def users(default: int, least: int, most: int, help: str) -> Decorator:
    return click.option(
        "--users",
        default=default,
        show_default=True,
        type=click.IntRange(least, most),
        help=help,
    )


def data_dir(help: str | None = None) -> Decorator:
    return click.option(
        "--data-dir",
        default=".migrator",
        show_default=True,
        type=click.Path(file_okay=False),
        help=help,
    )


# The options every database command shares (issue #2, item 1).
connection = _stack(
    click.option(
        "--mongo-uri",
        envvar="MONGO_URI",
        default=None,
        metavar="URI",
        help="Legacy-path MongoDB URI [env MONGO_URI]. Default: the embedded engine.",
    ),
    click.option(
        "--db",
        "db_name",
        default=None,
        metavar="NAME",
        help="Database name. Default: the one in the URI, else LibreChat.",
    ),
    click.option(
        "--gateway-uri",
        default=None,
        metavar="URI",
        help="Gateway-path URI (a migration target). Default: same as --mongo-uri.",
    ),
    click.option(
        "--gateway-db",
        default=None,
        metavar="NAME",
        help="Gateway-path database. Default: same as --db.",
    ),
    click.option(
        "--env-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="Read MONGO_URI and USE_DB_GATEWAY from a LibreChat .env (never edited).",
    ),
    data_dir("Data folder of the embedded engine."),
)


def settings_from(kw: dict[str, Any]) -> settings.Settings:
    """The connection options, taken out of ``kw``, resolved."""
    mongo_uri = kw.pop("mongo_uri")
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.get_parameter_source("mongo_uri") is ParameterSource.ENVIRONMENT:
        mongo_uri = None  # $MONGO_URI: resolve() ranks it below --env-file (and checks it)
    return settings.resolve(
        mongo_uri=mongo_uri,
        db=kw.pop("db_name"),
        gateway_uri=kw.pop("gateway_uri"),
        gateway_db=kw.pop("gateway_db"),
        env_file=kw.pop("env_file"),
        data_dir=kw.pop("data_dir"),
    )


# The gateway under test, chosen once per run and used by every job (one of three).
gateway = _stack(
    click.option(
        "--gateway",
        "gateway_name",
        default=None,
        type=click.Choice(list(GATEWAY_VARIANTS)),
        help="A built-in gateway: builtin (default; our reference) or a deliberately "
        "wrong variant (for demos and tests).",
    ),
    click.option(
        "--gateway-cmd",
        default=None,
        metavar="CMD",
        help="Your gateway as a process speaking the JSON-lines protocol "
        '(docs/external-gateway.md), e.g. "node examples/node-gateway/gateway.js".',
    ),
    click.option(
        "--librechat",
        default=None,
        metavar="PATH",
        type=click.Path(),
        help="A LibreChat checkout: judge its own packages/db-gateway, unmodified.",
    ),
)


def gateway_from(kw: dict[str, Any]) -> GatewayChoice:
    """The gateway options, taken out of ``kw``, as one choice."""
    return GatewayChoice.of(kw.pop("gateway_name"), kw.pop("gateway_cmd"), kw.pop("librechat"))


def out(default: str = "reports", help: str | None = None) -> Decorator:
    return click.option(
        "--out", default=default, show_default=True, type=click.Path(file_okay=False), help=help
    )


def output(formats: str, what: str) -> Decorator:
    """--out and --format, the same for every command that writes a report set."""
    return _stack(
        out(help="Folder for the report files (created if needed)."),
        click.option(
            "--format",
            "formats",
            default=formats,
            show_default=True,
            help=f"Report files, a comma list of md, json, junit: {what}.",
        ),
    )


def ops(help: str) -> Decorator:
    return click.option("--ops", "ops", multiple=True, metavar="GLOB", help=help)


def seed(help: str | None = None) -> Decorator:
    return click.option("--seed", default=1, show_default=True, type=int, help=help)


def fail_on(what: str) -> Decorator:
    return choice(
        "--fail-on",
        choices=["fail", "warn"],
        default="fail",
        help=f"Exit 1 on {what} only, or on warnings too.",
    )


def number(option: str, value: str | None, kind: type, minimum: float, *, words: str = "") -> Any:
    """Parse a numeric option ourselves, so a bad value is one line and exit 2. ``words``: what
    else the option takes, for the message (``--samples``'s `all`)."""
    if value is None:
        return None
    try:
        parsed = kind(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed < minimum or parsed != parsed:
        what = "a positive integer" if kind is int and minimum == 1 else f"a number ≥ {minimum:g}"
        raise ConfigError(f"{option} must be {what}{words}, got {value!r}")
    return parsed


def samples_or_all(value: str) -> int | None:
    """verify's --samples: N, or `all` (None: every input the sampler can draw)."""
    return None if value == "all" else number("--samples", value, int, 1, words=" or `all`")


__all__ = [
    "choice",
    "connection",
    "data_dir",
    "fail_on",
    "gateway",
    "gateway_from",
    "number",
    "ops",
    "out",
    "output",
    "samples_or_all",
    "seed",
    "settings_from",
    "switch",
    "text",
    "users",
]
