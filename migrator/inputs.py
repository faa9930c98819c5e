"""Reading the files a user hands the tool (``.env``, replay, rules, config, history): bytes
that are not UTF-8 become one ConfigError naming the file and the line, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

from migrator.errors import ConfigError


def read_text(path: str | os.PathLike, label: str) -> str:
    """The file as text: UTF-8, a leading byte-order mark dropped. ``label`` names the option
    the file came from (``--rules``), for the error message."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {label} {p}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{label} {p} line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; "
            "expected a UTF-8 text file (re-save it as UTF-8)"
        ) from None


__all__ = ["read_text"]
