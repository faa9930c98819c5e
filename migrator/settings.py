"""Where the two paths read: URIs and database names from options, environment and `.env`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from migrator import secrets
from migrator.errors import ConfigError
from migrator.inputs import read_text

DEFAULT_DB = "LibreChat"

_ENV_KEY = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=[ \t]*")
_INLINE_COMMENT = re.compile(r"\s#")
URI_EXPECTED = "expected a mongodb:// or mongodb+srv:// URI"


def mask_uri(uri: str | None) -> str:
    """The URI with its password and secret options masked (``migrator.secrets``)."""
    if not uri:
        return "(embedded default)"
    return secrets.mask_uri(uri)


def db_name_from_uri(uri: str | None) -> str | None:
    """The database named in the URI's path, if any (``mongodb://h/LibreChat`` → LibreChat)."""
    if not uri:
        return None
    path = urlsplit(uri).path.lstrip("/")
    return unquote(path) or None


@dataclass(frozen=True)
class EnvFile:
    """A parsed `.env`: each key's value and line; ``problems`` for values that could not be
    read (raised only when the tool needs that key: other keys are LibreChat's business)."""

    path: Path
    values: dict[str, str]
    lines: dict[str, int]
    problems: dict[str, str]

    def get(self, key: str) -> str | None:
        if key in self.problems:
            where = f"--env-file {self.path} line {self.lines[key]}"
            raise ConfigError(f"{where}: {self.problems[key]}")
        return self.values.get(key)


def _closing(body: str, quote: str) -> int:
    """Index of the first unescaped ``quote`` in ``body``, or -1."""
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def parse_env(text: str, path: Path) -> EnvFile:
    """dotenv's syntax (LibreChat reads its `.env` with dotenv): ``KEY=value``, ``export``,
    ``#`` comments (after a value: preceded by a space), values in ``'``, ``"`` or backticks,
    possibly over several lines, followed by an optional comment. The last of a key wins."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    problems: dict[str, str] = {}
    rows = text.splitlines()
    i = 0
    while i < len(rows):
        line, number = rows[i], i + 1
        i += 1
        m = _ENV_KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        key, raw = m.group(1), line[m.end() :]
        lines[key] = number
        problems.pop(key, None)
        if raw[:1] in ("'", '"', "`"):
            quote, body = raw[0], raw[1:]
            end = _closing(body, quote)
            while end < 0 and i < len(rows):  # a quoted value may span lines
                body += "\n" + rows[i]
                i += 1
                end = _closing(body, quote)
            if end < 0:
                problems[key] = f"{key}'s value opens a {quote} quote that is never closed"
                continue
            value, rest = body[:end], body[end + 1 :].strip()
            if rest and not rest.startswith("#"):
                problems[key] = (
                    f"unexpected {rest[:20]!r} after {key}'s closing {quote} quote; "
                    "expected only a # comment"
                )
                continue
            values[key] = value.replace("\\n", "\n") if quote == '"' else value
        else:
            values[key] = _INLINE_COMMENT.split(raw, maxsplit=1)[0].strip()
    return EnvFile(path, values, lines, problems)


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """Parse a LibreChat `.env` (see :func:`parse_env`). Never writes it."""
    return parse_env(read_text(path, "--env-file"), Path(path)).values


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings for both paths."""

    mongo_uri: str | None  # None: the embedded default
    db: str
    gateway_uri: str | None  # None: same server as the legacy path
    gateway_db: str
    data_dir: Path
    use_db_gateway: str | None = None  # as read from --env-file, reported only

    @property
    def migration(self) -> bool:
        """True when the gateway path reads another database (a migration target)."""
        return (self.gateway_uri not in (None, self.mongo_uri)) or self.gateway_db != self.db

    def describe(self) -> dict[str, str | None]:
        return {
            "legacy": f"{mask_uri(self.mongo_uri)} / {self.db}",
            "gateway": f"{mask_uri(self.gateway_uri or self.mongo_uri)} / {self.gateway_db}",
            "USE_DB_GATEWAY": self.use_db_gateway,
        }


def resolve(
    *,
    mongo_uri: str | None = None,
    db: str | None = None,
    gateway_uri: str | None = None,
    gateway_db: str | None = None,
    env_file: str | os.PathLike | None = None,
    data_dir: str | os.PathLike = ".migrator",
    environ: dict[str, str] | None = None,
) -> Settings:
    """Options win over `--env-file`, which wins over the process environment."""
    env = dict(os.environ if environ is None else environ)
    use_gateway = env.get("USE_DB_GATEWAY")
    # An empty value given on purpose is a mistake, never a silent fall-back to the embedded
    # engine: the one that would be used is checked.
    parsed = parse_env(read_text(env_file, "--env-file"), Path(env_file)) if env_file else None
    if parsed is not None:
        file_gateway = parsed.get("USE_DB_GATEWAY")
        use_gateway = use_gateway if file_gateway is None else file_gateway
    if mongo_uri is not None:
        if not mongo_uri.strip():
            raise ConfigError(f"--mongo-uri is empty; {URI_EXPECTED}")
        uri: str | None = mongo_uri
    elif parsed is not None:
        uri = parsed.get("MONGO_URI")
        if uri is None:
            raise ConfigError(f"--env-file {env_file} has no MONGO_URI line")
        if not uri.strip():
            raise ConfigError(
                f"--env-file {env_file} line {parsed.lines['MONGO_URI']}: MONGO_URI is empty; "
                f"{URI_EXPECTED} (leave out --env-file to use the embedded engine)"
            )
    elif "MONGO_URI" in env:
        uri = env["MONGO_URI"]
        if not uri.strip():
            raise ConfigError(
                f"MONGO_URI is set but empty in the environment; {URI_EXPECTED} "
                "(unset it to use the embedded engine)"
            )
    else:
        uri = None
    if gateway_uri is not None and not gateway_uri.strip():
        raise ConfigError(f"--gateway-uri is empty; {URI_EXPECTED}")
    uri = uri.strip() if uri else None
    # Given but empty is refused below, never replaced by the default.
    name = db if db is not None else db_name_from_uri(uri) or DEFAULT_DB
    g_name = gateway_db if gateway_db is not None else db_name_from_uri(gateway_uri) or name
    for label, value in (("--db", name), ("--gateway-db", g_name)):
        if not value or re.search(r"[/\\. \"$\x00]", value):
            raise ConfigError(f"{label} must be a MongoDB database name, got {value!r}")
    return Settings(
        mongo_uri=uri,
        db=name,
        gateway_uri=gateway_uri or None,
        gateway_db=g_name,
        data_dir=Path(data_dir),
        use_db_gateway=use_gateway,
    )
