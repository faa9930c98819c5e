"""Report files: a timestamped set (Markdown for people, JSON for machines, JUnit XML for CI),
each written to a temporary name and renamed, so no partial file ever looks complete."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.secrets import mask_text

# bson, tabulate and xml.sax (which loads urllib) are imported where they are used: the command
# line imports this module to check --format and --out before it loads any job.

FORMATS = ("md", "json", "junit")
EXAMPLE_CHARS = 600


@dataclass(kw_only=True)
class RunResult:
    """What every job's result carries into its reports: when it started, the environment and
    options it ran with, how long it took, and whether it ran to the end (``stops_early``)."""

    started: datetime
    environment: dict[str, Any]
    options: dict[str, Any]
    complete: bool = True
    stopped: str | None = None  # why the run stopped early (interrupted, a lost server)
    seconds: float = 0.0


def prepare_out_dir(out: str | os.PathLike) -> Path:
    """Create the folder and prove it is writable before any work starts."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".migrator-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write reports to {path}: {exc.strerror or exc}") from None
    return path


def parse_formats(value: str) -> tuple[str, ...]:
    chosen = tuple(f.strip() for f in value.split(",") if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise ConfigError(f"--format takes a comma list of {', '.join(FORMATS)}, got {value!r}")
    return chosen


# This process's run id: report names stay unique when runs start in the same second.
RUN_ID = os.urandom(3).hex()
_issued: set[str] = set()


def stamp(now: datetime | None = None) -> str:
    """``<UTC time>-<run id>`` for a report set's name; unique per call in this process too
    (``-2``, ``-3``… when a set of the same second was already named)."""
    base = f"{(now or datetime.now(UTC)).strftime('%Y%m%d-%H%M%S')}-{RUN_ID}"
    name, n = base, 1
    while name in _issued:
        n += 1
        name = f"{base}-{n}"
    _issued.add(name)
    return name


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (secrets masked: the last net under every report) via a temporary name."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(mask_text(text))
    tmp.replace(path)
    return path


def write_set(
    out_dir: Path, name: str, formats: Iterable[str], renderers: dict[str, Callable[[], str]]
) -> dict[str, Path]:
    ext = {"md": "md", "json": "json", "junit": "xml", "png": "png"}
    written = {}
    for fmt in formats:
        if fmt in renderers:
            written[fmt] = write_atomic(out_dir / f"{name}.{ext[fmt]}", renderers[fmt]())
    return written


def show(value: Any, limit: int = EXAMPLE_CHARS) -> str:
    """A value as compact relaxed Extended JSON, cut to ``limit`` characters."""
    from bson import json_util

    text = json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_table(rows: list[list[Any]], headers: list[str]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github")


def junit(suite: str, cases: list[tuple[str, float, str | None, str | None]]) -> str:
    """cases: (name, seconds, failure message or None, skipped reason or None)."""
    from xml.sax.saxutils import escape, quoteattr

    failures = sum(1 for c in cases if c[2])
    skipped = sum(1 for c in cases if c[3])
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name={quoteattr(suite)} tests="{len(cases)}" failures="{failures}" '
        f'skipped="{skipped}">',
    ]
    for name, seconds, failure, skip in cases:
        lines.append(
            f'  <testcase classname={quoteattr(suite)} name={quoteattr(name)} time="{seconds:.3f}">'
        )
        if failure:
            lines.append(
                f"    <failure message={quoteattr(failure[:200])}>{escape(failure)}</failure>"
            )
        if skip:
            lines.append(f"    <skipped message={quoteattr(skip)}/>")
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def git_revision() -> str | None:
    """The tool's own git revision (reports name what ran), or None outside a checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
