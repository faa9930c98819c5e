"""Who owns a scratch database (``migrator_scratch_*``), and whether that owner still runs.

Each scratch database carries one ``_migrator_meta`` document naming the process that made it:
host, pid, the pid's start time (``/proc``) and the machine's boot id, so a pid reused by
another process or a reboot is not mistaken for the owner. :func:`sweep` drops the databases
whose owner is gone and leaves the others, saying why, unless forced.
"""

from __future__ import annotations

import os
import platform
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

SCRATCH_PREFIX = "migrator_scratch_"
META = "_migrator_meta"
OTHER_HOST_STALE = timedelta(days=1)  # an owner on another host cannot be checked: age decides


def scratch_name(purpose: str) -> str:
    """A database name the tool owns (and may drop): ``migrator_scratch_<purpose>_<random>``."""
    return f"{SCRATCH_PREFIX}{purpose}_{uuid.uuid4().hex[:8]}"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def boot_id() -> str | None:
    return _read("/proc/sys/kernel/random/boot_id")


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    # Field 22; the command name (field 2) is in parentheses and may hold spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def identity(pid: int | None = None) -> dict[str, Any]:
    """The owner record of this process (or of ``pid``, on this host)."""
    pid = os.getpid() if pid is None else pid
    return {
        "pid": pid,
        "host": platform.node(),
        "boot_id": boot_id(),
        "proc_start": process_start(pid),
        "started": datetime.now(UTC).replace(tzinfo=None),
    }


def claim(database: Database) -> None:
    """Mark ``database`` as this process's (the first write: it creates the database)."""
    database[META].insert_one(identity())


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def owner_state(meta: dict[str, Any] | None) -> tuple[bool | None, str]:
    """(True: the owner runs, False: it is gone, None: cannot tell) and why, in words."""
    if not meta or meta.get("pid") is None:
        return None, "no owner recorded"
    pid, host = int(meta["pid"]), meta.get("host")
    if host != platform.node():
        return None, f"owner pid {pid} runs on another host ({host}), which cannot be checked"
    if meta.get("boot_id") and boot_id() and meta["boot_id"] != boot_id():
        return False, f"owner pid {pid} ran before this host restarted"
    if not _pid_running(pid):
        return False, f"owner pid {pid} is gone"
    recorded = meta.get("proc_start")
    if recorded is not None and process_start(pid) not in (None, recorded):
        return False, f"owner pid {pid} is gone (the pid now belongs to another process)"
    return True, f"owner pid {pid} on this host is still running"


@dataclass
class Sweep:
    dropped: list[str] = field(default_factory=list)
    spared: list[tuple[str, str]] = field(default_factory=list)  # (database, why)


def sweep(client: MongoClient, *, force: bool = False) -> Sweep:
    """Drop the scratch databases whose owner is gone (or every one, with ``force``); an
    owner on another host counts as gone after a day."""
    out = Sweep()
    now = datetime.now(UTC).replace(tzinfo=None)
    for name in client.list_database_names():
        if not name.startswith(SCRATCH_PREFIX):
            continue
        meta = client[name][META].find_one({})
        alive, why = owner_state(meta)
        started = (meta or {}).get("started")
        old = isinstance(started, datetime) and now - started >= OTHER_HOST_STALE
        if alive is None and old:
            alive, why = False, f"{why}; made more than a day ago"
        if force or alive is False:
            client.drop_database(name)
            out.dropped.append(name)
        else:
            out.spared.append((name, why))
    return out


__all__ = ["META", "Sweep", "claim", "identity", "owner_state", "sweep"]
