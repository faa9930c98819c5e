"""Where the two paths read: URIs and database names from options, environment and `.env`."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from migrator.db import DEFAULT_DB, db_name_from_uri, mask_uri
from migrator.errors import ConfigError

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """Parse a LibreChat `.env` (KEY=VALUE, quotes, `#` comments, `export`). Never writes it."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read --env-file {p}: {exc.strerror or exc}") from None
    values: dict[str, str] = {}
    for line in text.splitlines():
        m = _ENV_LINE.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        key, raw = m.groups()
        if raw[:1] in ("'", '"') and raw.endswith(raw[0]) and len(raw) >= 2:
            value = raw[1:-1]
        else:
            value = raw.split(" #", 1)[0].strip()
        values[key] = value
    return values


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
    if env_file is not None:
        file_values = read_env_file(env_file)
        if "MONGO_URI" not in file_values:
            raise ConfigError(f"--env-file {env_file} has no MONGO_URI line")
        env["MONGO_URI"] = file_values["MONGO_URI"]
        use_gateway = file_values.get("USE_DB_GATEWAY", use_gateway)
    uri = mongo_uri or env.get("MONGO_URI") or None
    name = db or db_name_from_uri(uri) or DEFAULT_DB
    g_name = gateway_db or db_name_from_uri(gateway_uri) or name
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
