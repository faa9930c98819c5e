"""Prepare a LibreChat checkout's db-gateway for the Node adapter: install what it needs with
npm into the tool's cache, bundle the checkout's sources with esbuild, and say how to start it.

Cache layout (``~/.cache/migrator/librechat/``; ``XDG_CACHE_HOME`` is honoured)::

    esbuild-<version>/node_modules/esbuild     the bundler (unless the checkout has its own)
    deps-<key>/node_modules/...                 the packages the bundle imports, at the versions
                                                the checkout's package-lock.json pins; <key>
                                                hashes those versions and the adapter version
    bundles/<hash>.cjs (+ .json)                the checkout's gateway, keyed by its sources

Every install happens in a temporary folder renamed into place once complete, so an interrupted
or failed install never leaves a folder that looks ready. A checkout with its own
``node_modules`` (holding mongoose) is used as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import CannotRun
from migrator.librechat.checkout import Checkout, find_checkout

ADAPTER_DIR = Path(__file__).resolve().parent / "adapter"
_META = json.loads((ADAPTER_DIR / "package.json").read_text(encoding="utf-8"))
ADAPTER_VERSION: str = _META["version"]
ESBUILD_VERSION: str = _META["migrator"]["esbuild"]
NPM_TIMEOUT_S = 900
COMPLETE = ".complete"

Progress = Callable[[str], None]


def _stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "migrator" / "librechat"


@dataclass(frozen=True)
class LibreChatGateway:
    """How to start the adapter on a prepared checkout (``MONGO_URI`` and
    ``MIGRATOR_GATEWAY_DB`` are added by the launcher, e.g. ``ExternalGateway.for_database``)."""

    checkout: Checkout
    argv: list[str]
    env: dict[str, str]
    cwd: str
    bundle: Path
    deps: Path
    externals: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for reports: gateway package and version, checkout path, git revision."""
        return f"LibreChat {self.checkout.describe()} (migrator adapter {ADAPTER_VERSION})"

    def with_branch(self, branch: str) -> LibreChatGateway:
        """The same gateway answering requests without ``branch`` with ``branch``
        (``"legacy"``: the checkout's old Mongoose branch) — for ``--legacy librechat``."""
        env = {**self.env, "MIGRATOR_LIBRECHAT_BRANCH": branch}
        return LibreChatGateway(
            self.checkout, self.argv, env, self.cwd, self.bundle, self.deps, self.externals
        )

    def info(self) -> dict[str, Any]:
        """The adapter's description of the checkout without a database: repositories found
        and the routing table (``adapter.js --describe``)."""
        try:
            out = subprocess.run(
                [*self.argv, "--describe"],
                env={**os.environ, **self.env},
                cwd=self.cwd,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise CannotRun(f"--librechat: cannot run the adapter: {exc}") from None
        if out.returncode != 0:
            raise CannotRun(
                f"--librechat: the adapter could not load {self.checkout.root}: "
                f"{_last_line(out.stderr)}"
            )
        return json.loads(out.stdout)

    def routing(self) -> dict[str, dict[str, Any]]:
        """Per catalog operation: ``{"routed": bool, "mirrors": "file:line fn", "reason": …}``."""
        return self.info()["routes"]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


def _require_tool(name: str, why: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise CannotRun(f"--librechat needs `{name}` on PATH ({why})")
    return exe


def _run(argv: list[str], cwd: Path, what: str, timeout: float = NPM_TIMEOUT_S) -> str:
    try:
        out = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={
                **os.environ,
                "npm_config_update_notifier": "false",
                "npm_config_fund": "false",
                "npm_config_audit": "false",
            },
        )
    except subprocess.TimeoutExpired:
        raise CannotRun(f"--librechat: {what} took more than {timeout:g} s") from None
    except OSError as exc:
        raise CannotRun(f"--librechat: {what}: {exc}") from None
    if out.returncode != 0:
        err = [ln for ln in out.stderr.splitlines() if "ERR" in ln or "error" in ln.lower()]
        detail = _last_line("\n".join(err) or out.stderr or out.stdout)
        if any(k in out.stderr for k in ("ENOTFOUND", "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN")):
            detail = f"npm registry unreachable ({detail})"
        raise CannotRun(f"--librechat: {what} failed: {detail}")
    return out.stdout


def _npm_install(target: Path, deps: Mapping[str, str], what: str, progress: Progress) -> None:
    """Install ``deps`` into ``target`` atomically: a temp folder renamed once complete."""
    if (target / COMPLETE).is_file():
        return
    npm = _require_tool("npm", "to install what the adapter needs")
    progress(f"migrator: installing {what} with npm into {target} (first use only)…")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "package.json").write_text(
            json.dumps(
                {
                    "name": "migrator-librechat-deps",
                    "private": True,
                    "dependencies": dict(sorted(deps.items())),
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        _run(
            [npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"],
            tmp,
            f"npm install of {what}",
        )
        (tmp / COMPLETE).write_text(json.dumps(dict(deps)), encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / COMPLETE).is_file():  # not a concurrent twin: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _sources_hash(checkout: Checkout, esbuild_dir: Path) -> str:
    """Changes when any source the bundle compiles changes (path, size, mtime)."""
    h = hashlib.sha256(f"{ADAPTER_VERSION}|{esbuild_dir}|{checkout.root}".encode())
    for entry in sorted({checkout.gateway_entry, *checkout.workspace.values()}):
        pkg = entry.parent.parent
        for path in sorted(pkg.rglob("*")):
            if path.is_file() and "node_modules" not in path.parts and "dist" not in path.parts:
                st = path.stat()
                h.update(f"{path}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _bundle(checkout: Checkout, esbuild_dir: Path, cache: Path, node: str) -> tuple[Path, list]:
    bundles = cache / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    key = _sources_hash(checkout, esbuild_dir)
    out, meta = bundles / f"{key}.cjs", bundles / f"{key}.json"
    if out.is_file() and meta.is_file():
        return out, json.loads(meta.read_text(encoding="utf-8"))["externals"]
    tmp = bundles / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
    schemas = "@librechat/data-schemas" if "@librechat/data-schemas" in checkout.workspace else None
    spec = {
        "esbuild": str(esbuild_dir),
        "entry": str(checkout.gateway_entry),
        "schemas": schemas,
        "workspace": {k: str(v) for k, v in checkout.workspace.items()},
        "out": f"{tmp}.cjs",
    }
    spec_file = Path(f"{tmp}.spec.json")
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    try:
        try:
            stdout = _run(
                [node, str(ADAPTER_DIR / "build.js"), str(spec_file)],
                bundles,
                f"building {checkout.gateway_name} from {checkout.root}",
                timeout=300,
            )
        except CannotRun as exc:
            raise CannotRun(f"{exc} (broken build: its sources do not compile)") from None
        externals = json.loads(stdout.strip().splitlines()[-1])["externals"]
        Path(f"{tmp}.cjs").replace(out)
        meta.write_text(json.dumps({"externals": externals}), encoding="utf-8")
    finally:
        for leftover in (spec_file, Path(f"{tmp}.cjs")):
            leftover.unlink(missing_ok=True)
    return out, externals


def _versions(checkout: Checkout, names: list[str]) -> dict[str, str]:
    """The version of each package: the lockfile's pin, else the range a workspace package
    declares, else the newest."""
    declared: dict[str, str] = {}
    for entry in checkout.workspace.values():
        meta = json.loads((entry.parent.parent / "package.json").read_text(encoding="utf-8"))
        for section in ("peerDependencies", "devDependencies", "dependencies"):
            for name, rng in (meta.get(section) or {}).items():
                if (
                    isinstance(rng, str)
                    and not rng.startswith(("file:", "workspace:"))
                    and rng != "*"
                ):
                    declared[name] = rng
    return {n: checkout.locked_version(n) or declared.get(n) or "latest" for n in names}


def prepare(
    path: str | os.PathLike,
    progress: Progress | None = None,
    *,
    cache: Path | None = None,
) -> LibreChatGateway:
    """Validate the checkout, install and bundle what the adapter needs (cached), and return
    how to start the adapter. ``ConfigError`` for a path that is not a LibreChat checkout,
    ``CannotRun`` for no db-gateway, no node/npm, a failed install or a broken build."""
    progress = progress or _stderr_progress
    checkout = find_checkout(path)
    node = _require_tool("node", "LibreChat's gateway runs in Node.js ≥ 18")
    cache = Path(cache) if cache else cache_dir()
    own = checkout.node_modules
    if own is not None and (own / "esbuild" / "package.json").is_file():
        esbuild_dir = checkout.root
    else:
        esbuild_dir = cache / f"esbuild-{ESBUILD_VERSION}"
        _npm_install(
            esbuild_dir, {"esbuild": ESBUILD_VERSION}, f"esbuild {ESBUILD_VERSION}", progress
        )
    bundle, externals = _bundle(checkout, esbuild_dir, cache, node)
    if own is not None:
        missing = [n for n in externals if not (own / n / "package.json").is_file()]
        if missing:
            raise CannotRun(
                f"--librechat: {own} lacks {', '.join(missing)} (run `npm ci` in "
                f"{checkout.root}, or remove its node_modules to let migrator install them)"
            )
        deps = own
    else:
        versions = _versions(checkout, externals)
        key = hashlib.sha256(
            json.dumps([ADAPTER_VERSION, versions], sort_keys=True).encode()
        ).hexdigest()[:16]
        target = cache / f"deps-{key}"
        _npm_install(
            target, versions, f"{len(versions)} packages for {checkout.gateway_name}", progress
        )
        deps = target / "node_modules"
    run_dir = cache / "run"
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    env = {
        "NODE_PATH": str(deps),
        "MIGRATOR_LIBRECHAT_BUNDLE": str(bundle),
        "MIGRATOR_LIBRECHAT_ROOT": str(checkout.root),
        "MIGRATOR_LIBRECHAT_DESCRIBE": checkout.describe(),
        "LIBRECHAT_LOG_DIR": str(run_dir / "logs"),
        "USE_DB_GATEWAY": "true",
    }
    return LibreChatGateway(
        checkout=checkout,
        argv=[node, str(ADAPTER_DIR / "adapter.js")],
        env=env,
        cwd=str(run_dir),
        bundle=bundle,
        deps=deps,
        externals=externals,
    )


def doctor_info(path: str | os.PathLike, progress: Progress | None = None) -> dict[str, Any]:
    """What ``doctor --librechat`` prints: the gateway package and version, the checkout,
    the repositories found and, per catalog operation, routed or not (with the reason)."""
    gw = prepare(path, progress)
    info = gw.info()
    return {
        "gateway": f"{gw.checkout.gateway_name} {gw.checkout.gateway_version}",
        "checkout": str(gw.checkout.root),
        "revision": gw.checkout.revision,
        "describe": gw.describe(),
        "repositories": info["repositories"],
        "routes": info["routes"],
        "routed": sorted(op for op, r in info["routes"].items() if r["routed"]),
        "not_routed": {op: r["reason"] for op, r in info["routes"].items() if not r["routed"]},
    }


__all__ = ["LibreChatGateway", "cache_dir", "doctor_info", "prepare"]
