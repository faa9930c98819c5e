"""Statistics: raw samples in, estimates and verdicts out (numpy/scipy; nothing is measured here).

Per path: median, p95, p99, MAD, outliers counted by two rules (never deleted). Per pair of
paths: the paired difference b − a (median of the per-pair differences, Hodges-Lehmann
alongside) with a seeded percentile-bootstrap 95% interval, the ratio of medians with its own
paired bootstrap interval, the CPU difference, the deterministic measures (round trips,
bytes), and two paired tests: Wilcoxon signed-rank and the sign test. Holm's correction runs
across operations.

Which test gates: by default the sign test, because the Δ shown is the median of the
differences and the sign test is the test of exactly that median; Wilcoxon tests the
Hodges-Lehmann pseudo-median and assumes the differences are symmetric, which timing on a
shared machine breaks (heavy one-sided tails from scheduling). Both p-values are reported;
``Thresholds(test="wilcoxon")`` gates on Wilcoxon instead.

Against a saved run: Mann-Whitney U on the raw per-pair differences.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from migrator.bench.gate import CONFIDENCE, FAIL, NA, OK, RESAMPLES, WARN, Thresholds
from migrator.bench.measure import OpMeasurement, PathSamples, Series

MIN_PAIRS_FOR_STATS = 10
MAD_OUTLIER_Z = 10.0  # hyperfine: |x - median| > 10 × (1.4826 × MAD)
MAD_TO_SIGMA = 1.482602218505602  # 1 / Φ⁻¹(3/4): scipy's median_abs_deviation(scale="normal")
TUKEY_K = 1.5
ROUND_TRIP_TOLERANCE = 0.05  # extra round trips per call before a path "adds" one
HL_EXACT_MAX = 2_000  # above this many pairs the Walsh averages are sampled
HL_SAMPLED = 2_000_000


def _sps() -> Any:
    """scipy.stats, imported on first use: it costs about a second, and only an analysis
    needs it (not `migrator --help`, nor a usage error)."""
    from scipy import stats

    return stats


@dataclass
class Dist:
    """One path's distribution of one measure, in µs."""

    n: int
    median: float
    p95: float
    p99: float
    mad: float  # raw median absolute deviation (not scaled)
    mean: float
    outliers_mad: int  # |x - median| > 10 × 1.4826 × MAD
    outliers_tukey: int  # beyond Q1 − 1.5 IQR or Q3 + 1.5 IQR


@dataclass
class Paired:
    """Path b against path a over the same pairs (b − a: positive means b is slower)."""

    n: int
    a: Dist
    b: Dist
    delta_us: float  # median of the per-pair differences
    ci_us: tuple[float, float] | None  # bootstrap 95% interval of that median
    hodges_lehmann_us: float
    hl_exact: bool
    ratio: float | None  # median(b) / median(a)
    ratio_ci: tuple[float, float] | None
    pct: float | None  # delta / median(a) × 100
    p_wilcoxon: float | None  # Wilcoxon signed-rank, two-sided
    p_sign: float | None  # sign test (binomial on the signs), two-sided
    test: str = "sign"  # which of the two gates
    p_adjusted: float | None = None  # the gating test's p, Holm-adjusted across operations
    cpu_a: Dist | None = None
    cpu_b: Dist | None = None
    cpu_delta_us: float | None = None
    cpu_ci_us: tuple[float, float] | None = None
    round_trips_a: float | None = None  # mean per call (None: not observable)
    round_trips_b: float | None = None
    round_trips_extra: float | None = None  # mean per pair of b − a
    bytes_sent_a: float | None = None  # median per call
    bytes_sent_b: float | None = None
    bytes_received_a: float | None = None
    bytes_received_b: float | None = None
    errors_a: int = 0
    errors_b: int = 0
    b_first: int = 0  # pairs where b ran first (counterbalancing)
    outliers_delta: int = 0

    @property
    def p_value(self) -> float | None:
        """The gating test's raw p-value."""
        return self.p_sign if self.test == "sign" else self.p_wilcoxon

    @property
    def noise_floor_us(self) -> float | None:
        """The smallest |Δ| this series could tell from zero: the far end of its interval."""
        if self.ci_us is None:
            return None
        return max(abs(self.ci_us[0]), abs(self.ci_us[1]))

    @property
    def ci_contains_zero(self) -> bool | None:
        return None if self.ci_us is None else self.ci_us[0] <= 0 <= self.ci_us[1]


@dataclass
class BaselineComparison:
    """This run against a saved one, per operation (unpaired: Mann-Whitney U)."""

    baseline_delta_us: float
    delta_us: float
    shift_us: float  # delta now − delta then
    shift_pct: float | None  # shift / legacy median now × 100
    baseline_gateway_us: float
    gateway_us: float
    gateway_p_value: float | None  # MWU on the gateway wall times
    p_value: float | None  # MWU on the per-pair differences
    p_adjusted: float | None = None
    baseline_round_trips: float | None = None
    round_trips: float | None = None
    verdict: str = OK
    reasons: list[str] = field(default_factory=list)


@dataclass
class OpStats:
    name: str
    inputs: int  # sampled
    dropped: dict[str, int] = field(default_factory=dict)  # left out: legacy raised
    aa: Paired | None = None
    ab: Paired | None = None
    aa_verdict: str = NA
    verdict: str = NA
    reasons: list[str] = field(default_factory=list)
    baseline: BaselineComparison | None = None
    skipped: str | None = None
    warmup_first_us: float | None = None  # the first warm-up call of the gateway path
    slow_first_call: bool = False  # hyperfine's "slow initial run" warning


@dataclass
class NoiseFloor:
    """The A/A series summarised for the report header."""

    ops: int = 0
    median_us: float | None = None
    max_us: float | None = None
    max_op: str | None = None
    median_pct: float | None = None
    ci_excluding_zero: int = 0
    significant: int = 0  # after Holm, at alpha
    flagged: int = 0  # A/A verdicts other than ok


@dataclass
class Analysis:
    ops: list[OpStats]
    noise: NoiseFloor
    thresholds: Thresholds
    resamples: int
    confidence: float = CONFIDENCE


# --- per path --------------------------------------------------------------------------------


def describe(values_ns: Sequence[int] | np.ndarray) -> Dist:
    x = np.asarray(values_ns, dtype=np.float64) / 1000.0
    if x.size == 0:
        nan = float("nan")
        return Dist(0, nan, nan, nan, nan, nan, 0, 0)
    med = float(np.median(x))
    p95, p99 = (float(v) for v in np.percentile(x, [95, 99]))
    mad = float(np.median(np.abs(x - med)))
    return Dist(
        n=int(x.size),
        median=med,
        p95=p95,
        p99=p99,
        mad=mad,
        mean=float(np.mean(x)),
        outliers_mad=_beyond_mad(x, med, mad),
        outliers_tukey=outliers_tukey(x),
    )


def outliers_mad(x: np.ndarray) -> int:
    med = float(np.median(x))
    return _beyond_mad(x, med, float(np.median(np.abs(x - med))))


def _beyond_mad(x: np.ndarray, median: float, mad: float) -> int:
    """Samples with |x - median| > 10 × the MAD scaled to a normal's σ."""
    scaled = mad * MAD_TO_SIGMA
    if scaled == 0:
        return 0
    return int(np.count_nonzero(np.abs(x - median) > MAD_OUTLIER_Z * scaled))


def outliers_tukey(x: np.ndarray) -> int:
    q1, q3 = np.percentile(x, [25, 75])
    iqr = q3 - q1
    return int(np.count_nonzero((x < q1 - TUKEY_K * iqr) | (x > q3 + TUKEY_K * iqr)))


# --- paired ----------------------------------------------------------------------------------


def _rng(seed: int | str) -> np.random.Generator:
    """A generator from any seed, the same in every process (``hash()`` of a str is salted)."""
    digest = hashlib.sha256(str(seed).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def bootstrap_ci(
    data: tuple[np.ndarray, ...],
    statistic: Any,
    *,
    seed: int | str,
    resamples: int = RESAMPLES,
    paired: bool = False,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval (scipy), seeded; None when it cannot be formed."""
    if data[0].size < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate data (all equal) warns; we return it
        res = _sps().bootstrap(
            data,
            statistic,
            n_resamples=resamples,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            paired=paired,
            batch=max(1, 20_000_000 // max(1, data[0].size)),
            rng=_rng(seed),
        )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isnan(lo) or np.isnan(hi):
        value = float(statistic(*data, axis=-1))
        return value, value
    return lo, hi


def _median(x: np.ndarray, axis: int = -1) -> Any:
    """``np.median`` along an axis, by sorting: for thousands of short resamples (the
    bootstrap's) a sort is about three times faster than numpy's partition, and exact."""
    s = np.sort(x, axis=axis)
    n = s.shape[axis]
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    return np.mean(np.take(s, middle, axis=axis), axis=axis)


def _ratio_of_medians(a: np.ndarray, b: np.ndarray, axis: int = -1) -> Any:
    return _median(b, axis=axis) / _median(a, axis=axis)


def hodges_lehmann(d: np.ndarray, seed: int | str) -> tuple[float, bool]:
    """The one-sample Hodges-Lehmann estimate (median of Walsh averages); sampled when large."""
    n = d.size
    if n == 0:
        return float("nan"), True
    if n <= HL_EXACT_MAX:
        i, j = np.triu_indices(n)
        return float(np.median((d[i] + d[j]) / 2)), True
    rng = _rng(f"hl:{seed}")
    i = rng.integers(0, n, HL_SAMPLED)
    j = rng.integers(0, n, HL_SAMPLED)
    return float(np.median((d[i] + d[j]) / 2)), False


def wilcoxon_p(d: np.ndarray) -> float | None:
    if d.size < MIN_PAIRS_FOR_STATS:
        return None
    if not np.any(d):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(_sps().wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def sign_test_p(d: np.ndarray) -> float | None:
    if d.size < MIN_PAIRS_FOR_STATS:
        return None
    above, below = int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0))
    if above + below == 0:
        return 1.0
    return float(_sps().binomtest(above, above + below, 0.5).pvalue)


def paired(
    series: Series, *, seed: int | str, resamples: int = RESAMPLES, test: str = "sign"
) -> Paired:
    a, b = series.a, series.b
    wa = np.asarray(a.wall_ns, dtype=np.float64) / 1000.0
    wb = np.asarray(b.wall_ns, dtype=np.float64) / 1000.0
    d = wb - wa
    n = int(d.size)
    dist_a, dist_b = describe(a.wall_ns), describe(b.wall_ns)
    hl, exact = hodges_lehmann(d, seed)
    ratio = float(np.median(wb) / np.median(wa)) if n and np.median(wa) > 0 else None
    ca = np.asarray(a.cpu_ns, dtype=np.float64) / 1000.0
    cb = np.asarray(b.cpu_ns, dtype=np.float64) / 1000.0
    result = Paired(
        n=n,
        a=dist_a,
        b=dist_b,
        delta_us=float(np.median(d)) if n else float("nan"),
        ci_us=bootstrap_ci((d,), _median, seed=f"delta:{seed}", resamples=resamples),
        hodges_lehmann_us=hl,
        hl_exact=exact,
        ratio=ratio,
        ratio_ci=(
            bootstrap_ci(
                (wa, wb), _ratio_of_medians, seed=f"ratio:{seed}", resamples=resamples, paired=True
            )
            if ratio is not None
            else None
        ),
        pct=(float(np.median(d)) / dist_a.median * 100) if n and dist_a.median > 0 else None,
        p_wilcoxon=wilcoxon_p(d),
        p_sign=sign_test_p(d),
        test=test,
        cpu_a=describe(a.cpu_ns),
        cpu_b=describe(b.cpu_ns),
        cpu_delta_us=float(np.median(cb - ca)) if n else None,
        cpu_ci_us=bootstrap_ci((cb - ca,), _median, seed=f"cpu:{seed}", resamples=resamples),
        errors_a=sum(a.errors.values()),
        errors_b=sum(b.errors.values()),
        b_first=int(sum(series.b_first)),
        outliers_delta=outliers_mad(d) if n else 0,
    )
    _deterministic(result, a, b)
    return result


def _deterministic(result: Paired, a: PathSamples, b: PathSamples) -> None:
    """Round trips and bytes; -1 marks a path the listener cannot see (an external process)."""
    if not len(a):
        return
    ra, rb = np.asarray(a.round_trips), np.asarray(b.round_trips)
    seen_a, seen_b = bool(np.all(ra >= 0)), bool(np.all(rb >= 0))
    if seen_a:
        result.round_trips_a = float(ra.mean())
        result.bytes_sent_a = float(np.median(a.bytes_sent))
        result.bytes_received_a = float(np.median(a.bytes_received))
    if seen_b:
        result.round_trips_b = float(rb.mean())
        result.bytes_sent_b = float(np.median(b.bytes_sent))
        result.bytes_received_b = float(np.median(b.bytes_received))
    if seen_a and seen_b:
        result.round_trips_extra = float((rb - ra).mean())


# --- across operations -----------------------------------------------------------------------


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone); None stays None.

    scipy has Benjamini-Hochberg (``false_discovery_control``) but not Holm, and statsmodels
    is not a dependency; this is the textbook formula on numpy.
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    p = np.asarray([p_values[i] for i in idx], dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    for rank, k in enumerate(order):
        out[idx[k]] = float(adjusted[rank])
    return out


def judge(p: Paired | None, t: Thresholds) -> tuple[str, list[str]]:
    """ok / warn / fail for path b against path a, with the reasons."""
    if p is None or p.n < MIN_PAIRS_FOR_STATS:
        return NA, [f"fewer than {MIN_PAIRS_FOR_STATS} pairs"]
    verdict, reasons = OK, []
    if p.round_trips_extra is not None and p.round_trips_extra >= ROUND_TRIP_TOLERANCE:
        verdict = FAIL
        reasons.append(f"adds round trips: {p.round_trips_a:.2f} → {p.round_trips_b:.2f} per call")
    significant = p.p_adjusted is not None and p.p_adjusted < t.alpha
    pct = p.pct if p.pct is not None else 0.0
    if significant and p.delta_us >= t.min_us and pct >= t.warn_pct:
        level = FAIL if pct >= t.fail_pct else WARN
        if verdict != FAIL:
            verdict = level
        reasons.append(
            f"slower by {p.delta_us:,.0f} µs ({pct:+.1f} %), {p.test} test p = "
            f"{p.p_adjusted:.2g} after Holm"
        )
    elif significant and p.delta_us <= -t.min_us and pct <= -t.warn_pct:
        reasons.append(f"faster by {-p.delta_us:,.0f} µs ({pct:+.1f} %)")
    if p.round_trips_extra is not None and p.round_trips_extra <= -ROUND_TRIP_TOLERANCE:
        reasons.append(f"saves round trips: {p.round_trips_a:.2f} → {p.round_trips_b:.2f} per call")
    return verdict, reasons


def compare_baseline(
    m: OpMeasurement, p: Paired, base: dict[str, Any], t: Thresholds
) -> BaselineComparison:
    """This run's A/B series against the saved run's (raw samples from its JSON)."""
    d_now = (np.asarray(m.ab.b.wall_ns) - np.asarray(m.ab.a.wall_ns)) / 1000.0
    d_then = (np.asarray(base["gateway_wall_ns"]) - np.asarray(base["legacy_wall_ns"])) / 1000.0
    g_now = np.asarray(m.ab.b.wall_ns) / 1000.0
    g_then = np.asarray(base["gateway_wall_ns"]) / 1000.0
    ok = d_now.size >= MIN_PAIRS_FOR_STATS and d_then.size >= MIN_PAIRS_FOR_STATS
    shift = float(np.median(d_now) - np.median(d_then))
    return BaselineComparison(
        baseline_delta_us=float(np.median(d_then)),
        delta_us=float(np.median(d_now)),
        shift_us=shift,
        shift_pct=shift / p.a.median * 100 if p.a.median > 0 else None,
        baseline_gateway_us=float(np.median(g_then)),
        gateway_us=float(np.median(g_now)),
        gateway_p_value=float(_sps().mannwhitneyu(g_now, g_then).pvalue) if ok else None,
        p_value=float(_sps().mannwhitneyu(d_now, d_then).pvalue) if ok else None,
        baseline_round_trips=base.get("gateway_round_trips"),
        round_trips=p.round_trips_b,
    )


def judge_baseline(c: BaselineComparison, t: Thresholds) -> None:
    c.verdict, c.reasons = OK, []
    if (
        c.baseline_round_trips is not None
        and c.round_trips is not None
        and c.round_trips - c.baseline_round_trips >= ROUND_TRIP_TOLERANCE
    ):
        c.verdict = FAIL
        c.reasons.append(f"round trips per call {c.baseline_round_trips:.2f} → {c.round_trips:.2f}")
    significant = c.p_adjusted is not None and c.p_adjusted < t.alpha
    pct = c.shift_pct or 0.0
    if significant and c.shift_us >= t.min_us and pct >= t.warn_pct:
        if c.verdict != FAIL:
            c.verdict = FAIL if pct >= t.fail_pct else WARN
        c.reasons.append(
            f"overhead grew by {c.shift_us:,.0f} µs ({pct:+.1f} % of legacy p50) since baseline"
        )


def analyse(
    measurements: list[OpMeasurement],
    thresholds: Thresholds,
    *,
    seed: int = 1,
    resamples: int = RESAMPLES,
    baseline: dict[str, dict[str, Any]] | None = None,
) -> Analysis:
    """Every operation's estimates and verdicts, Holm-corrected across operations."""
    ops: list[OpStats] = []
    for m in measurements:
        st = OpStats(m.name, m.inputs, dict(m.dropped), skipped=m.skipped)
        if m.aa is not None and m.aa.pairs:
            st.aa = paired(
                m.aa, seed=f"{seed}:{m.name}:aa", resamples=resamples, test=thresholds.test
            )
        if m.ab is not None and m.ab.pairs:
            st.ab = paired(
                m.ab, seed=f"{seed}:{m.name}:ab", resamples=resamples, test=thresholds.test
            )
        if m.warmup is not None and m.warmup.pairs:
            first = m.warmup.b.wall_ns[0] / 1000
            st.warmup_first_us = first
            typical = st.ab.b.median if st.ab else float(np.median(m.warmup.b.wall_ns)) / 1000
            st.slow_first_call = first > 5 * typical and first - typical > 1000
        ops.append(st)
    for phase in ("aa", "ab"):
        series = [getattr(o, phase) for o in ops]
        adjusted = holm([s.p_value if s is not None else None for s in series])
        for s, adj in zip(series, adjusted, strict=True):
            if s is not None:
                s.p_adjusted = adj
    for o in ops:
        if o.skipped is None:
            o.verdict, o.reasons = judge(o.ab, thresholds)
            if o.aa is not None:
                o.aa_verdict = judge(o.aa, thresholds)[0]
    if baseline is not None:
        compared = [
            o
            for o, m in zip(ops, measurements, strict=True)
            if o.ab is not None and m.name in baseline
        ]
        by_name = {m.name: m for m in measurements}
        for o in compared:
            o.baseline = compare_baseline(by_name[o.name], o.ab, baseline[o.name], thresholds)
        adjusted = holm([o.baseline.p_value for o in compared])
        for o, adj in zip(compared, adjusted, strict=True):
            o.baseline.p_adjusted = adj
            judge_baseline(o.baseline, thresholds)
    return Analysis(
        ops=ops, noise=noise_floor(ops, thresholds), thresholds=thresholds, resamples=resamples
    )


def noise_floor(ops: list[OpStats], t: Thresholds) -> NoiseFloor:
    floors = [(o.aa.noise_floor_us, o) for o in ops if o.aa and o.aa.noise_floor_us is not None]
    nf = NoiseFloor(ops=len(floors))
    if not floors:
        return nf
    values = np.asarray([f for f, _ in floors])
    nf.median_us = float(np.median(values))
    worst = max(floors, key=lambda fo: fo[0])
    nf.max_us, nf.max_op = float(worst[0]), worst[1].name
    pcts = [f / o.aa.a.median * 100 for f, o in floors if o.aa.a.median > 0]
    nf.median_pct = float(np.median(pcts)) if pcts else None
    nf.ci_excluding_zero = sum(1 for _, o in floors if o.aa.ci_contains_zero is False)
    nf.significant = sum(
        1 for _, o in floors if o.aa.p_adjusted is not None and o.aa.p_adjusted < t.alpha
    )
    nf.flagged = sum(1 for o in ops if o.aa is not None and o.aa_verdict not in (OK, NA))
    return nf


def to_dict(obj: Any) -> Any:
    """Plain data for JSON (dataclasses, tuples, numpy scalars; NaN becomes None)."""
    if obj is None:
        return None
    if isinstance(obj, Paired):
        data = {k: to_dict(v) for k, v in asdict(obj).items()}
        data["p_value"] = obj.p_value
        data["noise_floor_us"] = obj.noise_floor_us
        data["ci_contains_zero"] = obj.ci_contains_zero
        return data
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_dict(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return None if np.isnan(value) else round(value, 3)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
