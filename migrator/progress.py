"""Progress on stderr for long work: one renderer for every command.

Every job reports progress as ``(label, done, total)`` calls (``total`` None when unknown). On a
terminal that is a tqdm bar per label; without one (cron, CI) a line when a label starts and a
line when it ends, so logs show how far a run got without a flood of updates. Results never go
here: they go to files and stdout.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """``update(label, done, total)``; ``close()`` when the work is over (also on errors)."""

    def __init__(self, unit: str | None = None, stream: TextIO | None = None) -> None:
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._bar: Any = None
        self._label: str | None = None
        self._done = 0

    def update(self, label: str, done: int, total: int | None = None) -> None:
        if label != self._label:
            self._finish()
            self._label = label
            if self.tty:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=total, desc=label, unit=self.unit or "it", leave=False, file=self.stream
                )
            else:
                print(f"  {label} ...", file=self.stream, flush=True)
        self._done = done
        if self._bar is not None:
            self._bar.n = done
            self._bar.refresh()

    def line(self, text: str) -> None:
        """A one-off message (a phase starting, a download)."""
        self._finish()
        print(text, file=self.stream, flush=True)

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._label is not None and not self.tty and self._done:
            unit = f" {self.unit}s" if self.unit else ""
            print(f"  {self._label}: {self._done:,}{unit}", file=self.stream, flush=True)
        self._label, self._done = None, 0

    def close(self) -> None:
        self._finish()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
