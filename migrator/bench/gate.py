"""The gate's vocabulary: verdicts, thresholds and the statistics' fixed settings. Light on
purpose (no numpy): the CLI and the result types need it without loading the statistics."""

from __future__ import annotations

from dataclasses import dataclass

RESAMPLES = 5_000
CONFIDENCE = 0.95
OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"
TESTS = ("sign", "wilcoxon")


@dataclass(frozen=True)
class Thresholds:
    """Gate: significant (Holm-corrected p < alpha) AND at least both magnitudes."""

    warn_pct: float = 5.0
    fail_pct: float = 10.0
    min_us: float = 20.0
    alpha: float = 0.05
    test: str = "sign"  # or "wilcoxon": the paired test whose Holm-adjusted p gates

    def __post_init__(self) -> None:
        if self.test not in TESTS:
            raise ValueError(f"test must be one of {TESTS}, got {self.test!r}")
