"""The embedded default: a MongoDB-compatible wire server (mongoeco) in a child process.

mongoeco needs Python >= 3.13, so it lives in a venv of its own that is created on first use
(``~/.cache/migrator/engine-…``); the project itself stays on 3.11+. The server keeps its data
in a folder (default ``.migrator/``): it restores a snapshot at start and writes one at stop.
``migrator server start`` leaves it running in the background and records it in
``<data-dir>/server.json``; otherwise each command starts one for its run and stops it at exit.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from migrator.errors import CannotRun, ConfigError

KIND = "mongoeco (embedded)"
LAUNCHER = Path(__file__).with_name("_serve.py")
STATE_FILE = "server.json"
SNAPSHOT_DIR = "snapshot"  # the launcher's snapshot folder (restored at start, written at stop)
START_TIMEOUT_S = 600  # restoring a large snapshot in-process takes a while
STOP_TIMEOUT_S = 300  # writing the snapshot on stop


@dataclass
class Handle:
    uri: str
    pid: int
    data_dir: Path
    proc: subprocess.Popen | None = None

    def stop(self) -> None:
        _terminate(self.pid, self.proc)


def _say(msg: str) -> None:
    print(f"migrator: {msg}", file=sys.stderr, flush=True)


def _find_python() -> str | None:
    """A Python >= 3.13 interpreter: $MIGRATOR_ENGINE_PYTHON, PATH, then pyenv's versions."""
    explicit = os.environ.get("MIGRATOR_ENGINE_PYTHON")
    if explicit:
        return explicit
    for name in ("python3.14", "python3.13"):
        found = shutil.which(name)
        if found and _runs(found):
            return found
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        for cand in sorted(glob.glob(f"{root}/versions/3.1[3-9]*/bin/python3"), reverse=True):
            if _runs(cand):
                return cand
    return None


def _runs(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info >= (3, 13))"],
            capture_output=True,
            text=True,
            timeout=20,
            env=_clean_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "True"


def _clean_env() -> dict[str, str]:
    # pyenv shims honour PYENV_VERSION; never let the caller's venv leak into the engine's.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYENV_VERSION", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    return env


def engine_packages() -> tuple[str, ...]:
    """What the engine's venv installs: mongoeco, and this process's pymongo (the launcher
    patches its wire layer)."""
    import pymongo  # here: `server status`/`stop` and --help do not need it

    return ("mongoeco==4.11.0", f"pymongo=={pymongo.version}")


def engine_venv() -> Path:
    override = os.environ.get("MIGRATOR_ENGINE_VENV")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migrator"
    tag = hashlib.sha1("\n".join(engine_packages()).encode()).hexdigest()[:10]
    return cache / f"engine-{tag}"


def engine_python() -> str:
    """The venv's interpreter, creating the venv (once) if needed."""
    venv = engine_venv()
    python = venv / "bin" / "python"
    if (venv / ".ready").exists():
        return str(python)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two runs at once on a fresh machine (or two test workers) must not build it together.
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".ready").exists():
            return str(python)
        return _build_engine(venv, python)


def _build_engine(venv: Path, python: Path) -> str:
    base = _find_python()
    if base is None:
        raise CannotRun(
            "no MongoDB to use: pass --mongo-uri (or set MONGO_URI), put mongod on PATH, or "
            "install Python >= 3.13 (or set MIGRATOR_ENGINE_PYTHON) for the embedded engine"
        )
    _say(f"setting up the embedded engine in {venv} (once; about 10 s)")
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [base, "-m", "venv", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *engine_packages(),
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=_clean_env())
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise CannotRun(f"could not set up the embedded engine ({' '.join(step[:3])}): {last}")
    (venv / ".ready").write_text("\n".join(engine_packages()))
    return str(python)


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own exited child: reap it
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(data_dir: Path) -> Handle | None:
    """The background server of this data folder, if one is running."""
    state = Path(data_dir) / STATE_FILE
    if not state.exists():
        return None
    try:
        info = json.loads(state.read_text())
        pid, uri = int(info["pid"]), str(info["uri"])
    except (ValueError, KeyError, TypeError):
        state.unlink(missing_ok=True)
        return None
    if not _alive(pid):
        state.unlink(missing_ok=True)
        return None
    return Handle(uri=uri, pid=pid, data_dir=Path(data_dir))


def start(data_dir: Path, *, background: bool = False, port: int = 0) -> Handle:
    """Start the engine on 127.0.0.1 (a free port unless given) for this data folder."""
    data_dir = Path(data_dir)
    if background and status(data_dir) is not None:
        raise ConfigError(
            f"a server for {data_dir} is already running; see `migrator server status`"
        )
    python = engine_python()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child process
    cmd = [python, str(LAUNCHER), "--data-dir", str(data_dir.resolve()), "--port", str(port)]
    if not background:
        cmd.append("--exit-with-parent")
    # A background server must outlive us and our terminal's Ctrl-C.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=_clean_env(),
        start_new_session=background,
    )
    log.close()
    uri = _read_uri(proc, data_dir)
    handle = Handle(uri=uri, pid=proc.pid, data_dir=data_dir, proc=None if background else proc)
    if background:
        (data_dir / STATE_FILE).write_text(json.dumps({"pid": proc.pid, "uri": uri}))
    return handle


def _read_uri(proc: subprocess.Popen, data_dir: Path) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    if (data_dir / SNAPSHOT_DIR).exists():
        _say(f"loading the data folder {data_dir}")
    reader.join(START_TIMEOUT_S)
    uri = line[0].strip() if line else ""
    if not uri.startswith("mongodb://"):
        _terminate(proc.pid, proc)
        log = (data_dir / "server.log").read_text(errors="replace").strip().splitlines()
        reason = log[-1] if log else "no output"
        raise CannotRun(f"the embedded engine did not start: {reason}")
    return uri


def stop(data_dir: Path) -> bool:
    """Stop the background server of this folder (it writes its snapshot first)."""
    handle = status(data_dir)
    if handle is None:
        return False
    _terminate(handle.pid, None)
    (Path(data_dir) / STATE_FILE).unlink(missing_ok=True)
    return True


def _terminate(pid: int, proc: subprocess.Popen | None) -> None:
    """SIGTERM, wait for the snapshot to be written, then SIGKILL as a last resort."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return
        if proc is None and not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
