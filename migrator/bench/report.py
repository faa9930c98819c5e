"""Rendering: a ``BenchResult`` as ``benchmark-<timestamp>.md`` (+ ``.png`` chart), ``.json``
(with ``schema_version`` and every raw sample) and JUnit XML; and reading a saved JSON back
as a ``--baseline``. Nothing here measures or computes a statistic."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

from migrator import report as files
from migrator.bench.measure import PathSamples, Series
from migrator.bench.result import SCHEMA_VERSION, BenchResult
from migrator.bench.stats import FAIL, NA, OK, WARN, Dist, OpStats, to_dict
from migrator.errors import ConfigError

NAME = "benchmark"
MARK = {OK: "ok", WARN: "⚠ warn", FAIL: "✖ fail", NA: "n/a"}
COLOURS = {"legacy": "#4C72B0", "gateway": "#DD8452"}


# --- numbers ----------------------------------------------------------------------------------


def _num(x: float | None, digits: int = 0, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"
    return text.replace("-", "−")


def _us(x: float | None, sign: bool = False) -> str:
    if x is not None and abs(x) < 10:
        return _num(x, 1, sign)
    return _num(x, 0, sign)


def _ci(ci: tuple[float, float] | None) -> str:
    return "–" if ci is None else f"[{_us(ci[0], True)}, {_us(ci[1], True)}]"


def _p(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _trips(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.0f}" if abs(x - round(x)) < 0.005 else f"{x:.2f}"


def _bytes(x: float | None) -> str:
    return "n/a" if x is None else _num(x)


# --- Markdown ---------------------------------------------------------------------------------


def headline(result: BenchResult) -> str:
    a = result.analysis
    measured = [o for o in a.ops if o.ab is not None] if a else []
    fails, warns = result.failing, result.warning
    verdict = "NO-GO" if fails else ("GO" if result.complete else "INCOMPLETE")
    noun = "operation" if len(measured) == 1 else "operations"
    text = f"{verdict}: {len(measured)} {noun} measured, {len(fails)} fail, {len(warns)} warn"
    if not result.complete:
        why = f": {result.stopped}" if result.stopped else ""
        text += f" (stopped during {result.interrupted_at or 'the run'}{why})"
    return text


def coverage(result: BenchResult) -> str:
    """Which operations were measured through which gateway, and which not (and why)."""
    measured = [m for m in result.measurements if m.ab is not None and m.ab.pairs]
    line = (
        f"{len(measured)}/{len(result.measurements)} operations measured through "
        f"{result.environment.get('gateway', 'the gateway')}"
    )
    missing = [m for m in result.measurements if m not in measured]
    if missing:
        line += "; not measured: " + "; ".join(
            f"{m.name} ({m.skipped or 'interrupted'})" for m in missing
        )
    return line


def markdown(result: BenchResult, chart: str | None = None) -> str:
    a, opt = result.analysis, result.options
    lines = [
        f"# Benchmark: legacy vs gateway — {headline(result)}",
        "",
        f"**Coverage**: {coverage(result)}.",
        "",
    ]
    env = result.environment
    if env.get("timing"):
        pipe = env.get("pipe") or {}
        lines += [
            f"**Timing of the external gateway**: {env['timing']}. The pipe and Extended JSON "
            f"coding alone cost {_us(pipe.get('median_ns', 0) / 1000)} µs per call (median of "
            f"{pipe.get('calls')} `{pipe.get('op')}` round trips; p95 "
            f"{_us(pipe.get('p95_ns', 0) / 1000)} µs).",
            "",
        ]
    if not result.complete:
        lines += [
            "> **Incomplete run.** It was interrupted; the figures below cover only what was "
            "measured before the stop.",
            "",
        ]
    lines += [_noise_lines(result), ""]
    lines += ["## Environment", "", _environment_table(result), ""]
    lines += [
        "## Results",
        "",
        "Δ = gateway − legacy, per pair of calls on the same input (positive: the gateway is "
        "slower). Times are wall times per call in µs; CPU is the client's.",
        "",
        _results_table(a.ops, opt.get("aa", True)),
        "",
    ]
    findings = _findings(a.ops)
    if findings:
        lines += ["### Findings", "", *findings, ""]
    if chart:
        lines += [
            f"![Latency per call of both paths, and the paired difference, per operation]({chart})",
            "",
            "Left: per operation, per path, box = interquartile range, line = median, whiskers = "
            "1st–99th percentile, log scale. Right: Δ p50 with its 95% interval, A/B (orange) "
            "beside A/A (grey, the noise floor); the grey band is ± the absolute threshold.",
            "",
        ]
    lines += ["## Details", "", _details_table(a.ops), ""]
    if result.baseline is not None:
        lines += ["## Against the baseline", "", *_baseline_lines(result), ""]
    lines += ["## How this was measured", "", *_method_lines(result), ""]
    return "\n".join(lines)


def _noise_lines(result: BenchResult) -> str:
    nf = result.analysis.noise
    if not nf.ops:
        return "**A/A noise floor:** not measured (A/A series off)."
    return (
        f"**A/A noise floor (legacy vs legacy, same harness):** median {_us(nf.median_us)} µs "
        f"({_num(nf.median_pct, 1)} % of legacy p50), worst {_us(nf.max_us)} µs "
        f"({nf.max_op}) — the far end of each A/A 95% interval, i.e. the smallest Δ this run "
        f"can tell from zero. A/A intervals excluding 0: {nf.ci_excluding_zero} of {nf.ops} "
        f"(≈ 5 % expected); A/A significant after Holm: {nf.significant}; A/A flagged: "
        f"{nf.flagged}."
    )


def _environment_table(result: BenchResult) -> str:
    env, opt = result.environment, result.options
    srv = env.get("server", {})
    g_srv = env.get("gateway_server", {})
    load = env.get("load_average") or []
    load_end = env.get("load_average_end") or []
    dataset = env.get("dataset") or {}
    budget = opt.get("budget") or f"{opt.get('pairs')} pairs"
    rows = [
        ["CPU", f"{env.get('cpu')} — {env.get('cores')} cores, affinity {env.get('affinity')}"],
        [
            "load average (1/5/15 min)",
            f"{' / '.join(f'{x:.2f}' for x in load)} at start, "
            f"{' / '.join(f'{x:.2f}' for x in load_end)} at end",
        ],
        ["host", f"{env.get('host')} ({env.get('platform')})"],
        [
            "Python / libraries",
            f"{env.get('python_implementation', 'CPython')} {env.get('python')}, pymongo "
            f"{env.get('pymongo')}, numpy {env.get('numpy')}, scipy {env.get('scipy')}",
        ],
        ["server (legacy)", f"{srv.get('kind')} {srv.get('version')} at {srv.get('uri')}"],
        [
            "server (gateway)",
            f"{g_srv.get('kind')} {g_srv.get('version')} at {g_srv.get('uri')}"
            + (" (a migration target)" if env.get("migration") else " (same server)"),
        ],
        ["gateway", env.get("gateway")],
        [
            "dataset",
            f"{env.get('legacy_db')} → {env.get('gateway_db')}: "
            + ", ".join(f"{k} {v:,}" for k, v in dataset.items()),
        ],
        ["git revision", env.get("git_revision") or "unknown"],
        ["seed", opt.get("seed")],
        [
            "pairs per series",
            f"{budget}; series per operation: "
            + ("A/A then A/B" if opt.get("aa", True) else "A/B only"),
        ],
        ["inputs per operation", f"up to {opt.get('samples')} sampled (seeded), cycled"],
        ["warm-up", f"{opt.get('warmup')} calls per path per operation, discarded"],
        ["order", opt.get("order")],
        ["GC policy", _gc_text(opt.get("gc"))],
        ["timer", f"{env.get('timer')}; overhead {env.get('timer_overhead_ns')} ns per reading"],
        [
            "statistics",
            f"bootstrap {opt.get('resamples'):,} resamples (percentile, seeded), "
            f"{int(opt.get('confidence', 0.95) * 100)} % intervals",
        ],
        ["gate", _gate_text(opt.get("thresholds") or {})],
        ["run time", f"{result.seconds:,.1f} s"],
    ]
    return files.md_table(rows, ["", ""])


def _gc_text(policy: str | None) -> str:
    if policy == "auto":
        return "automatic (collections may land inside timed calls and show as tail)"
    return (
        "automatic collection off during each series; young generation collected every 16 "
        "pairs and a full collection every 256 pairs, outside the timed calls (GC cost excluded)"
    )


def _gate_text(t: dict[str, Any]) -> str:
    test = "sign test" if t.get("test", "sign") == "sign" else "Wilcoxon signed-rank"
    return (
        f"warn ≥ {t.get('warn_pct')} % and ≥ {t.get('min_us')} µs; fail ≥ {t.get('fail_pct')} % "
        f"and ≥ {t.get('min_us')} µs; only when significant ({test} on the paired differences, "
        f"Holm-corrected p < {t.get('alpha')}); a path adding round trips fails whatever the "
        "timing"
    )


RESULT_HEADERS = [
    "operation",
    "legacy p50 (µs)",
    "gateway p50 (µs)",
    "Δ p50 [95% CI] (µs)",
    "ratio",
    "p95/p99 legacy → gateway (µs)",
    "CPU Δ (µs)",
    "round trips legacy → gateway",
    "n",
    "outliers legacy/gateway",
    "verdict",
    "A/A Δ [95% CI] (µs)",
]


def _results_table(ops: list[OpStats], aa: bool) -> str:
    rows = []
    for o in ops:
        p = o.ab
        if p is None:
            rows.append([o.name, *["–"] * 9, f"skipped: {o.skipped or 'not measured'}", "–"])
            continue
        rows.append(
            [
                o.name,
                _us(p.a.median),
                _us(p.b.median),
                f"{_us(p.delta_us, True)} {_ci(p.ci_us)}",
                _num(p.ratio, 3) + "×" if p.ratio is not None else "–",
                f"{_us(p.a.p95)}/{_us(p.a.p99)} → {_us(p.b.p95)}/{_us(p.b.p99)}",
                _us(p.cpu_delta_us, True),
                f"{_trips(p.round_trips_a)} → {_trips(p.round_trips_b)}",
                p.n,
                f"{p.a.outliers_mad}/{p.b.outliers_mad}",
                MARK.get(o.verdict, o.verdict),
                (f"{_us(o.aa.delta_us, True)} {_ci(o.aa.ci_us)}" if o.aa else "–")
                if aa
                else "not run",
            ]
        )
    return files.md_table(rows, RESULT_HEADERS)


DETAIL_HEADERS = [
    "operation",
    "inputs used",
    "Hodges-Lehmann Δ (µs)",
    "gate p (Holm)",
    "Wilcoxon p",
    "sign test p",
    "ratio 95% CI",
    "CPU Δ [95% CI] (µs)",
    "CPU p50 legacy → gateway (µs)",
    "bytes sent legacy → gateway",
    "bytes received legacy → gateway",
    "MAD legacy/gateway (µs)",
    "errors legacy/gateway",
    "gateway first",
    "A/A verdict",
]


def _details_table(ops: list[OpStats]) -> str:
    rows = []
    for o in ops:
        p = o.ab
        if p is None:
            continue
        rows.append(
            [
                o.name,
                f"{o.inputs - sum(o.dropped.values())} of {o.inputs}",
                _us(p.hodges_lehmann_us, True) + ("" if p.hl_exact else " (sampled)"),
                f"{_p(p.p_adjusted)} ({p.test})",
                _p(p.p_wilcoxon),
                _p(p.p_sign),
                (f"[{_num(p.ratio_ci[0], 3)}, {_num(p.ratio_ci[1], 3)}]" if p.ratio_ci else "–"),
                f"{_us(p.cpu_delta_us, True)} {_ci(p.cpu_ci_us)}",
                f"{_us(_median(p.cpu_a))} → {_us(_median(p.cpu_b))}",
                f"{_bytes(p.bytes_sent_a)} → {_bytes(p.bytes_sent_b)}",
                f"{_bytes(p.bytes_received_a)} → {_bytes(p.bytes_received_b)}",
                f"{_us(p.a.mad)}/{_us(p.b.mad)}",
                f"{p.errors_a}/{p.errors_b}",
                f"{p.b_first}/{p.n}",
                MARK.get(o.aa_verdict, o.aa_verdict) if o.aa else "–",
            ]
        )
    return files.md_table(rows, DETAIL_HEADERS)


def _median(d: Dist | None) -> float | None:
    return None if d is None else d.median


def _findings(ops: list[OpStats]) -> list[str]:
    out = []
    for o in ops:
        if o.reasons:
            label = MARK[o.verdict] if o.verdict in (WARN, FAIL) else "note"
            out.append(f"- **{o.name}** ({label}): {'; '.join(o.reasons)}")
        if o.dropped:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(o.dropped.items()))
            out.append(
                f"- {o.name}: {sum(o.dropped.values())} of {o.inputs} sampled inputs left out, "
                f"the legacy path raises on them ({kinds}); `verify` covers those"
            )
        if o.slow_first_call:
            out.append(
                f"- {o.name}: the first warm-up call took {_us(o.warmup_first_us)} µs, far above "
                f"the typical call (a slow initial run; warm-up absorbed it)"
            )
        if o.ab is not None and (o.ab.errors_a or o.ab.errors_b):
            out.append(
                f"- {o.name}: measured calls that raised (timed like the others): legacy "
                f"{o.ab.errors_a}, gateway {o.ab.errors_b} of {o.ab.n}"
            )
        if o.baseline is not None and o.baseline.verdict in (WARN, FAIL):
            out.append(
                f"- **{o.name}** regressed against the baseline "
                f"({MARK[o.baseline.verdict]}): {'; '.join(o.baseline.reasons)}"
            )
    return out


BASELINE_HEADERS = [
    "operation",
    "Δ p50 then → now (µs)",
    "shift (µs)",
    "gateway p50 then → now (µs)",
    "MWU p on Δ (Holm)",
    "MWU p on gateway",
    "round trips then → now",
    "verdict",
]


def _baseline_lines(result: BenchResult) -> list[str]:
    meta = result.baseline or {}
    rows = []
    missing = []
    for o in result.analysis.ops:
        c = o.baseline
        if c is None:
            if o.ab is not None:
                missing.append(o.name)
            continue
        rows.append(
            [
                o.name,
                f"{_us(c.baseline_delta_us, True)} → {_us(c.delta_us, True)}",
                f"{_us(c.shift_us, True)} ({_num(c.shift_pct, 1, True)} %)",
                f"{_us(c.baseline_gateway_us)} → {_us(c.gateway_us)}",
                _p(c.p_adjusted),
                _p(c.gateway_p_value),
                f"{_trips(c.baseline_round_trips)} → {_trips(c.round_trips)}",
                MARK.get(c.verdict, c.verdict),
            ]
        )
    lines = [
        f"Baseline `{meta.get('path')}` (run {meta.get('started')}, revision "
        f"{meta.get('git_revision') or 'unknown'}). Unpaired: Mann-Whitney U on the raw "
        "per-pair differences (the overhead), Holm-corrected; the same gate as above applies to "
        "the shift of the overhead.",
        "",
        files.md_table(rows, BASELINE_HEADERS) if rows else "No operation in common.",
    ]
    if missing:
        lines += ["", f"Not in the baseline: {', '.join(missing)}."]
    return lines


def _method_lines(result: BenchResult) -> list[str]:
    return [
        "- Each operation's inputs are sampled once from the legacy database (seeded); both "
        "paths get the same input in each pair, one after the other, on one client and so one "
        "connection pool. Order counterbalanced in blocks of two pairs (AB·BA or BA·AB, seeded "
        "coin): each path runs first in half the pairs.",
        "- Per call: wall time (`time.perf_counter_ns`), client CPU time of the calling thread "
        "(`time.thread_time_ns`), round trips = commands started, bytes = BSON size of the "
        "command and reply documents as published to a pymongo `CommandListener` (wire headers "
        "and compression excluded; sizes computed after the clock stops).",
        "- Inputs the legacy path raises on (cast errors and the like) are left out after one "
        "untimed call each, which also brings the working set into the server's cache; the "
        "report counts them. Warm-up calls come next and are discarded. The A/A series (legacy "
        "against itself, same harness) comes before the A/B series and gives the noise floor.",
        "- Δ = gateway − legacy per pair; the table shows the median of the differences with a "
        "percentile-bootstrap 95% interval; the Hodges-Lehmann estimate is in the details. "
        "Ratio = gateway p50 / legacy p50. Two paired tests on the differences: the sign test "
        "(the test of their median, which is what the table shows) and Wilcoxon signed-rank "
        "(the test of the Hodges-Lehmann pseudo-median; it assumes symmetric differences, "
        "which scheduling tails on a shared machine break). The gate uses the sign test unless "
        "configured otherwise, Holm-corrected across operations.",
        "- Outliers are counted, never removed: |x − median| > 10 × 1.4826 × MAD (the table); "
        "Tukey's 1.5 × IQR fences are in the JSON. Every raw sample is in the JSON report.",
        "- Latencies are closed-loop, one call at a time: overhead per call, not latency under "
        "load.",
    ]


# --- chart ------------------------------------------------------------------------------------


def chart_png(result: BenchResult) -> bytes | None:
    """Left: per operation, both paths' latency distributions (box plots, log axis). Right:
    the paired Δ with its 95% interval, A/B beside A/A (the noise floor). Agg, no GUI.

    Drawn as a few collections, not one artist per box and bar: with 30+ operations,
    matplotlib's ``boxplot`` and per-point ``errorbar`` made the chart cost seconds."""
    import numpy as np
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure  # Agg canvas; no GUI backend, no global state
    from matplotlib.patches import Patch

    series = [(m.name, m.ab) for m in result.measurements if m.ab is not None and m.ab.pairs]
    if not series:
        return None
    by_name = {o.name: o for o in result.analysis.ops}
    fig = Figure(figsize=(13, 1.8 + 0.55 * len(series)), dpi=100)
    ax, dx = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    boxes, colours, lines, labels, ticks = [], [], [], [], []
    bars: dict[str, list[tuple[float, float, float, float]]] = {"ab": [], "aa": []}
    for i, (name, s) in enumerate(reversed(series)):
        base = i * 3
        for y, samples, colour in (
            (base + 0.45, s.a, COLOURS["legacy"]),
            (base - 0.45, s.b, COLOURS["gateway"]),
        ):
            x = np.maximum(np.asarray(samples.wall_ns, dtype=np.float64) / 1000, 0.001)
            p1, q1, median, q3, p99 = np.percentile(x, [1, 25, 50, 75, 99])
            low, high = x[x >= p1].min(), x[x <= p99].max()  # whiskers end on a sample
            boxes.append([(q1, y - 0.4), (q3, y - 0.4), (q3, y + 0.4), (q1, y + 0.4)])
            colours.append(colour)
            lines += [
                [(median, y - 0.4), (median, y + 0.4)],
                [(low, y), (q1, y)],  # whiskers p1-p99, with caps
                [(q3, y), (high, y)],
                [(low, y - 0.2), (low, y + 0.2)],
                [(high, y - 0.2), (high, y + 0.2)],
            ]
        verdict = by_name[name].verdict
        labels.append(name + ("" if verdict == OK else f"  [{verdict}]"))
        ticks.append(base)
        for key, y, p in (
            ("ab", base - 0.45, by_name[name].ab),
            ("aa", base + 0.45, by_name[name].aa),
        ):
            if p is not None and p.ci_us is not None and not math.isnan(p.delta_us):
                bars[key].append((p.delta_us, y, *p.ci_us))
    ax.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="black", alpha=0.8))
    ax.add_collection(LineCollection(lines, colors="black", linewidths=1))
    ax.set_xscale("log")
    ax.autoscale_view()
    ax.set_ylim(-1.5, 3 * len(series) - 1.5)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel("wall time per call (µs, log scale); box IQR, whiskers p1–p99")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(
        [Patch(facecolor=COLOURS[k], edgecolor="black", alpha=0.8) for k in ("legacy", "gateway")],
        ["legacy", "gateway"],
        fontsize=8,
    )
    title = "Legacy vs gateway: latency per call"
    ax.set_title(title + (" (incomplete run)" if not result.complete else ""))
    threshold = (result.options.get("thresholds") or {}).get("min_us", 20)
    dx.axvline(0, color="black", linewidth=0.8)
    dx.axvspan(-threshold, threshold, color="#DDDDDD", alpha=0.5, linewidth=0)
    for key, colour in (("ab", COLOURS["gateway"]), ("aa", "#8C8C8C")):
        if bars[key]:
            delta, y, lo, hi = (np.array(v) for v in zip(*bars[key], strict=True))
            err = [np.maximum(0.0, delta - lo), np.maximum(0.0, hi - delta)]
            dx.errorbar(delta, y, xerr=err, fmt="o", color=colour, markersize=4, capsize=3)
    dx.set_xscale("symlog", linthresh=threshold)
    dx.set_xlabel(f"Δ p50 gateway − legacy (µs, symlog) with 95% CI; band ±{threshold:g} µs")
    dx.set_title("paired difference: A/B (orange) and A/A (grey)")
    dx.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --- JSON -------------------------------------------------------------------------------------


def _path_json(s: PathSamples) -> dict[str, Any]:
    return {
        "wall_ns": s.wall_ns,
        "cpu_ns": s.cpu_ns,
        "round_trips": s.round_trips,
        "bytes_sent": s.bytes_sent,
        "bytes_received": s.bytes_received,
        "errors": dict(s.errors),
    }


def _series_json(s: Series | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "a_label": s.a_label,
        "b_label": s.b_label,
        "pairs": s.pairs,
        "seconds": round(s.seconds, 3),
        "b_first": [int(x) for x in s.b_first],
        "inputs": s.inputs,
        "a": _path_json(s.a),
        "b": _path_json(s.b),
    }


def to_json(result: BenchResult) -> dict[str, Any]:
    a = result.analysis
    by_name = {o.name: o for o in a.ops}
    operations = []
    for m in result.measurements:
        o = by_name[m.name]
        operations.append(
            {
                "name": m.name,
                "inputs": m.inputs,
                "dropped_inputs": dict(m.dropped),
                "skipped": m.skipped,
                "sample_seconds": round(m.sample_seconds, 3),
                "verdict": o.verdict,
                "reasons": o.reasons,
                "aa_verdict": o.aa_verdict,
                "ab": to_dict(o.ab),
                "aa": to_dict(o.aa),
                "baseline": to_dict(o.baseline),
                "warmup_first_us": to_dict(o.warmup_first_us),
                "slow_first_call": o.slow_first_call,
                "samples": {
                    "warmup": _series_json(m.warmup),
                    "aa": _series_json(m.aa),
                    "ab": _series_json(m.ab),
                },
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "bench",
        "started": result.started.isoformat(),
        "seconds": round(result.seconds, 3),
        "complete": result.complete,
        "interrupted_at": result.interrupted_at,
        "passed": result.passed,
        "failing": result.failing,
        "warning": result.warning,
        "environment": result.environment,
        "options": result.options,
        "baseline": result.baseline,
        "noise_floor": to_dict(a.noise),
        "units": {"wall_ns": "ns", "cpu_ns": "ns", "*_us": "µs", "bytes_*": "bytes (BSON)"},
        "operations": operations,
    }


def load_baseline(path: str | Path) -> dict[str, Any]:
    """A saved ``bench`` JSON as {path, started, git_revision, ops: {name: raw A/B samples}}."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read --baseline {p}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--baseline {p} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("command") != "bench":
        raise ConfigError(f"--baseline {p} is not a `migrator bench` JSON report")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"--baseline {p} has schema_version {data.get('schema_version')!r}; "
            f"this migrator reads {SCHEMA_VERSION}"
        )
    ops: dict[str, Any] = {}
    try:
        for op in data["operations"]:
            ab = (op.get("samples") or {}).get("ab")
            if not ab:
                continue
            legacy, gateway = ab["a"]["wall_ns"], ab["b"]["wall_ns"]
            if len(legacy) != len(gateway) or not all(isinstance(v, int) for v in legacy + gateway):
                raise ValueError(f"{op['name']}: raw samples are not paired integers")
            ops[op["name"]] = {
                "legacy_wall_ns": legacy,
                "gateway_wall_ns": gateway,
                "gateway_round_trips": (op.get("ab") or {}).get("round_trips_b"),
            }
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"--baseline {p} has no usable raw samples: {exc}") from None
    return {
        "path": str(p),
        "started": data.get("started"),
        "git_revision": (data.get("environment") or {}).get("git_revision"),
        "ops": ops,
    }


# --- JUnit and files --------------------------------------------------------------------------


def junit_xml(result: BenchResult) -> str:
    cases = []
    for o, m in zip(result.analysis.ops, result.measurements, strict=True):
        seconds = sum(s.seconds for s in (m.warmup, m.aa, m.ab) if s is not None)
        failure = None
        if o.verdict == FAIL or (o.baseline is not None and o.baseline.verdict == FAIL):
            reasons = o.reasons + (o.baseline.reasons if o.baseline else [])
            failure = "; ".join(reasons) or "fail"
        skip = o.skipped or (None if o.ab is not None else "not measured")
        cases.append((o.name, seconds, failure, skip))
    return files.junit("migrator.bench", cases)


def write(result: BenchResult, out_dir: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    name = f"{NAME}-{files.stamp(result.started)}"
    written: dict[str, Path] = {}
    chart = None
    if "md" in formats:
        png = chart_png(result)
        if png is not None:
            target = out_dir / f"{name}.png"
            tmp = target.with_name(target.name + ".partial")
            tmp.write_bytes(png)
            tmp.replace(target)
            written["png"] = target
            chart = target.name
    renderers = {
        "md": lambda: markdown(result, chart),
        "json": lambda: json.dumps(to_json(result), default=str, allow_nan=False) + "\n",
        "junit": lambda: junit_xml(result),
    }
    written.update(files.write_set(out_dir, name, formats, renderers))
    return written
