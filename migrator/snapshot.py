"""How the two paths read at one point in time: a value each job takes from the paths it opened
(``Paths.snapshot()``), keeps in its result and its reports render."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class SnapshotMode(StrEnum):
    SHARED = "shared"  # one snapshot session serves both paths
    PER_PATH = "per path"  # a snapshot session per path (the paths are on different servers)
    NONE = "none"  # no snapshot: the job's own guard stands in (re-check, settle window)


@dataclass(frozen=True)
class Snapshot:
    mode: SnapshotMode
    why: str | None = None  # why the paths cannot share one session (None when they do)

    @classmethod
    def shared(cls) -> Snapshot:
        return cls(SnapshotMode.SHARED)

    @classmethod
    def per_path(cls, why: str) -> Snapshot:
        return cls(SnapshotMode.PER_PATH, why)

    @classmethod
    def none(cls, why: str) -> Snapshot:
        return cls(SnapshotMode.NONE, why)

    @property
    def is_shared(self) -> bool:
        return self.mode is SnapshotMode.SHARED

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "why": self.why}
