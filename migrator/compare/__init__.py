"""The compare engine: rules, normalisation, diff and verdicts. One entry: ``compare``."""

from __future__ import annotations

from migrator.compare.diff import Difference, Observation, Verdict, compare
from migrator.compare.rules import Rules

__all__ = ["Difference", "Observation", "Rules", "Verdict", "compare"]
