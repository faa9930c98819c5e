"""History of nightly runs: a JSONL file (default) or a collection in a database the tool owns."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from migrator.counts.result import DAY, OWNER, SCHEMA_VERSION, CountsResult, _iso
from migrator.errors import ConfigError
from migrator.inputs import read_text

DEFAULT_HISTORY = "reports/counts-history.jsonl"
HISTORY_DB = "migrator_history"
HISTORY_COLLECTION = "counts"

# --------------------------------------------------------------------------------------------
# History: a JSONL file (default) or a collection in a database the tool owns
# --------------------------------------------------------------------------------------------


def _check_record(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("schema_version"), int):
        raise ConfigError(f"{where} is not a counts history record (no schema_version)")
    if record["schema_version"] > SCHEMA_VERSION:
        raise ConfigError(
            f"{where} was written by a newer migrator (schema_version "
            f"{record['schema_version']} > {SCHEMA_VERSION}); upgrade migrator or pass another "
            "--history"
        )
    if not isinstance(record.get("run_at"), str) or not isinstance(record.get("collections"), dict):
        raise ConfigError(f"{where} is not a counts history record (no run_at / collections)")
    return record


class JsonlHistory:
    """One JSON object per line, appended; never rewritten."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = read_text(self.path, "--history")
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"--history {self.path} line {number}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ConfigError(
                    f"{where} is corrupt ({exc.msg}); the file was left as it is — move it "
                    "away or pass another --history"
                ) from None
            records.append(_check_record(record, where))
        return records

    def check_writable(self) -> None:
        """Prove the file can be appended to later, without creating it now."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                with self.path.open("a"):
                    pass
            else:
                probe = self.path.with_name(f".{self.path.name}.probe-{os.getpid()}")
                probe.write_text("")
                probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"cannot write --history {self.path}: {exc.strerror or exc}"
            ) from None

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str)
        with self.path.open("a+") as fh:
            fh.seek(0, 2)
            if fh.tell():
                fh.seek(fh.tell() - 1)
                if fh.read(1) != "\n":
                    fh.write("\n")
            fh.write(line + "\n")


class MongoHistory:
    """``migrator_history.counts`` on the legacy server: a database the tool owns."""

    def __init__(self, client: MongoClient) -> None:
        self.collection = client[HISTORY_DB][HISTORY_COLLECTION]
        self.where = f"{HISTORY_DB}.{HISTORY_COLLECTION}"

    def load(self) -> list[dict[str, Any]]:
        records = []
        for doc in self.collection.find({}, {"_id": 0}).sort("run_at", 1):
            records.append(_check_record(doc, f"--history mongodb ({self.where})"))
        return records

    def check_writable(self) -> None:
        pass

    def append(self, record: dict[str, Any]) -> None:
        self.collection.insert_one(dict(record))


def history_record(result: CountsResult) -> dict[str, Any]:
    """Tonight, as one history record: per collection totals and difference counts per level."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_at": _iso(result.started),
        "pair": result.environment["pair"],
        "verdict": result.verdict,
        "collections": {
            c.name: {
                "legacy": c.legacy.total,
                "gateway": c.gateway.total,
                "diff": c.diff if c.not_verified is None else None,
                "not_verified": c.not_verified,
                "owners": c.levels[OWNER].differing if OWNER in c.levels else None,
                "owner_docs": c.levels[OWNER].docs if OWNER in c.levels else None,
                "days": c.levels[DAY].differing if DAY in c.levels else None,
                "day_docs": c.levels[DAY].docs if DAY in c.levels else None,
                "verdict": c.verdict,
            }
            for c in result.collections
        },
    }
