"""A LibreChat checkout on disk: where its db-gateway, workspace packages and lockfile are.

``find_checkout(path)`` accepts the checkout root (the folder holding ``api/`` and
``packages/``) or a folder with a single ``LibreChat/`` inside (a fork that vendors it).
A path that is not a LibreChat checkout is a :class:`ConfigError` (exit 2); a checkout without
``packages/db-gateway`` cannot be verified (:class:`CannotRun`, exit 3).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from migrator.errors import CannotRun, ConfigError

GATEWAY_DIR = Path("packages") / "db-gateway"


@dataclass(frozen=True)
class Checkout:
    root: Path
    gateway_name: str
    gateway_version: str
    # workspace package name -> its TypeScript entry (src/index.ts), resolved in the bundle
    workspace: dict[str, Path] = field(default_factory=dict)
    lockfile: Path | None = None
    revision: str | None = None

    @property
    def gateway_dir(self) -> Path:
        return self.root / GATEWAY_DIR

    @property
    def gateway_entry(self) -> Path:
        return self.gateway_dir / "src" / "index.ts"

    @property
    def node_modules(self) -> Path | None:
        nm = self.root / "node_modules"
        return nm if (nm / "mongoose" / "package.json").is_file() else None

    def locked_version(self, package: str) -> str | None:
        """The version of ``package`` the checkout's package-lock.json pins, if any."""
        return _lock_versions(self.lockfile).get(package)

    def describe(self) -> str:
        rev = f" @ {self.revision[:12]}" if self.revision else " (no git revision)"
        return f"{self.gateway_name} {self.gateway_version} in {self.root}{rev}"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotRun(f"--librechat: cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CannotRun(f"--librechat: {path} is not a JSON object")
    return data


_LOCK_CACHE: dict[Path, dict[str, str]] = {}


def _lock_versions(lockfile: Path | None) -> dict[str, str]:
    if lockfile is None:
        return {}
    if lockfile not in _LOCK_CACHE:
        data = _read_json(lockfile)
        versions: dict[str, str] = {}
        for key, entry in (data.get("packages") or {}).items():
            # top-level hoisted packages only: "node_modules/<name>"
            top = key.startswith("node_modules/") and "/node_modules/" not in key[13:]
            if top and isinstance(entry, dict) and "version" in entry and not entry.get("link"):
                versions[key[13:]] = str(entry["version"])
        _LOCK_CACHE[lockfile] = versions
    return _LOCK_CACHE[lockfile]


def _git_revision(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if out.returncode == 0 and len(rev) == 40 else None


def find_checkout(path: str | Path) -> Checkout:
    """Validate ``path`` as a LibreChat checkout with a db-gateway package."""
    given = Path(path).expanduser()
    if not given.is_dir():
        raise ConfigError(f"--librechat {str(path)!r}: no such directory")
    root = given.resolve()
    if not (root / "packages").is_dir() and (root / "LibreChat" / "packages").is_dir():
        root = root / "LibreChat"
    if not (root / "packages").is_dir() or not (root / "api").is_dir():
        raise ConfigError(
            f"--librechat {str(path)!r} is not a LibreChat checkout "
            "(expected api/ and packages/ in it, or in its LibreChat/ folder)"
        )
    gw_dir = root / GATEWAY_DIR
    if not (gw_dir / "package.json").is_file():
        raise CannotRun(
            f"--librechat {root}: this LibreChat checkout has no packages/db-gateway "
            "(USE_DB_GATEWAY needs it): nothing to verify"
        )
    if not (gw_dir / "src" / "index.ts").is_file():
        raise CannotRun(f"--librechat {root}: packages/db-gateway has no src/index.ts to build")
    meta = _read_json(gw_dir / "package.json")
    workspace: dict[str, Path] = {}
    for pkg_json in sorted((root / "packages").glob("*/package.json")):
        name = _read_json(pkg_json).get("name")
        entry = pkg_json.parent / "src" / "index.ts"
        if isinstance(name, str) and entry.is_file():
            workspace[name] = entry
    lock = root / "package-lock.json"
    return Checkout(
        root=root,
        gateway_name=str(meta.get("name") or "db-gateway"),
        gateway_version=str(meta.get("version") or "?"),
        workspace=workspace,
        lockfile=lock if lock.is_file() else None,
        revision=_git_revision(root),
    )
