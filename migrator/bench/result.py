"""What a bench run measured and concluded: raw measurements, their analysis, and whether the
run completed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migrator.bench.gate import FAIL, WARN
from migrator.bench.measure import OpMeasurement
from migrator.report import RunResult

if TYPE_CHECKING:
    from migrator.bench.stats import Analysis

SCHEMA_VERSION = 1


@dataclass
class BenchResult(RunResult):
    measurements: list[OpMeasurement] = field(default_factory=list)
    analysis: Analysis | None = None
    interrupted_at: str | None = None
    baseline: dict[str, Any] | None = None  # what the baseline file was (path, started, ops)

    @property
    def failing(self) -> list[str]:
        return self._with(FAIL)

    @property
    def warning(self) -> list[str]:
        return self._with(WARN)

    def _with(self, level: str) -> list[str]:
        if self.analysis is None:
            return []
        return [
            o.name
            for o in self.analysis.ops
            if o.verdict == level or (o.baseline is not None and o.baseline.verdict == level)
        ]

    @property
    def passed(self) -> bool:
        measured = any(m.ab is not None and m.ab.pairs for m in self.measurements)
        return self.complete and measured and not self.failing
