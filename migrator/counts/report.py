"""The report of ``counts``: the first lines say whether tonight is clean; then the summary per
collection, the largest differences per level, the trend over the last runs (with a chart),
and the environment."""

from __future__ import annotations

import os
from pathlib import Path

from migrator import report
from migrator.counts.result import (
    DAY,
    FAIL,
    LEVELS,
    NA,
    OWNER,
    TOTAL,
    WARN,
    CollectionCounts,
    CountsResult,
    Trend,
    to_json,
)
from migrator.snapshot import Snapshot, SnapshotMode

_LEVEL_UNIT = {TOTAL: "collection", OWNER: "owner", DAY: "day"}


def headline(result: CountsResult) -> str:
    """``CLEAN`` or ``DRIFT: messages (total −1, 1 owner, 1 day); files (2 owners)``."""
    if result.not_verified is not None:
        return f"NOT VERIFIED: {result.not_verified}"
    if not result.complete:
        return f"INCOMPLETE: {result.stopped}"
    if result.clean:
        return "CLEAN"
    return "DRIFT: " + "; ".join(
        f"{c.name} ({c.summary()})" for c in result.collections if c.differs
    )


def _verdict_word(result: CountsResult) -> str:
    if result.not_verified is not None:
        return "NOT VERIFIED"
    if result.clean:
        return "CLEAN"
    return {FAIL: "FAIL", WARN: "WARN"}.get(result.verdict, "within tolerance")


def snapshot_reads(snapshot: Snapshot | None) -> str:
    if snapshot is None:
        return "not recorded"
    if snapshot.mode is SnapshotMode.SHARED:
        return "one snapshot session per collection, shared by both paths"
    if snapshot.mode is SnapshotMode.PER_PATH:
        return f"one snapshot per path per collection ({snapshot.why})"
    return (
        f"not available ({snapshot.why}): the settle window alone guards against writes in flight"
    )


def markdown(result: CountsResult, chart: str | None = None) -> str:
    env, opts = result.environment, result.options
    docs = sum(c.legacy.total for c in result.collections)
    recent = sum(c.legacy.recent + c.gateway.recent for c in result.collections)
    exit_code = 0 if result.passed else 1
    when = result.started.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# migrator counts — {headline(result)}",
        "",
        f"**Coverage**: {len(result.collections)} collections counted through "
        f"{env.get('gateway', 'the gateway')}"
        + (f"; not verified: {result.not_verified}" if result.not_verified else "")
        + ".",
        "",
        f"**{_verdict_word(result)}** (exit {exit_code}) — {when}: {len(result.collections)} "
        f"collections, {docs:,} settled documents on the legacy side, compared with the gateway "
        f"at levels {', '.join([TOTAL, *opts['by']])}. "
        f"{recent:,} documents written in the last {opts['settle_minutes']:g} min were left out.",
        "",
        f"Legacy `{env['legacy_db']}` ↔ gateway `{env['gateway_db']}`"
        + (" (migration target)" if env["migration"] else " (same database)")
        + f"; thresholds: fail above {opts['fail_pct']:g} %"
        + (f", warn above {opts['warn_pct']:g} %" if opts["warn_pct"] is not None else "")
        + f"; exit 1 on {opts['fail_on']}.",
        "",
        "## Summary",
        "",
        report.md_table(
            [
                [
                    c.name,
                    f"{c.legacy.total:,}",
                    f"{c.gateway.total:,}" if c.not_verified is None else "not counted",
                    (f"{c.diff:+,}" if c.diff else "0") if c.not_verified is None else "–",
                    *(_level_cell(c, lvl) for lvl in (OWNER, DAY) if lvl in opts["by"]),
                    f"{c.legacy.recent:,} / {c.gateway.recent:,}"
                    if c.legacy.recent or c.gateway.recent
                    else "0",
                    (c.verdict.upper() if c.verdict != "ok" else "ok")
                    + (f": not verified — {c.not_verified}" if c.not_verified else ""),
                ]
                for c in result.collections
            ],
            [
                "collection",
                "legacy",
                "gateway",
                "Δ",
                *(f"{lvl}s differing" for lvl in (OWNER, DAY) if lvl in opts["by"]),
                "left out (settle window, legacy / gateway)",
                "verdict",
            ],
        ),
        "",
    ]
    for c in result.collections:
        if c.differs:
            lines += _collection_block(c)
    if result.trend:
        lines += _trend_block(result, chart)
    notes = [(c.name, n) for c in result.collections for n in c.notes]
    if notes:
        lines += ["## Notes", "", *(f"- {name}: {note}" for name, note in notes), ""]
    lines += [
        "## Environment",
        "",
        report.md_table(
            [
                [
                    "legacy",
                    f"{env['server']['kind']} {env['server']['version']} · "
                    f"{env['server']['uri']} / {env['legacy_db']} (driver: count_documents, "
                    "aggregate)",
                ],
                [
                    "gateway",
                    f"{env['gateway']} · {env['gateway_server']['uri']} / {env['gateway_db']}",
                ],
                ["snapshot reads", snapshot_reads(result.snapshot)],
                ["settle cut-off", f"{env['cutoff']} (updatedAt, else createdAt, else _id)"],
                ["history", result.history.get("where", "none")],
                [
                    "client",
                    f"pymongo {env['pymongo']}, pandas {env['pandas']}, Python {env['python']} "
                    f"on {env['host']}",
                ],
                ["migrator", env.get("git_revision") or "?"],
                ["seconds", f"{result.seconds:.1f}"],
            ],
            ["", ""],
        ),
        "",
    ]
    return "\n".join(lines) + "\n"


def _level_cell(c: CollectionCounts, level: str) -> str:
    lvl = c.levels.get(level)
    if lvl is None or lvl.verdict == NA:
        return "n/a"
    return f"{lvl.differing} of {lvl.compared}" if lvl.differing else "0"


def _collection_block(c: CollectionCounts) -> list[str]:
    lines = [
        f"## {c.name} — {c.verdict.upper()}: {c.summary()}",
        "",
        report.md_table(
            [
                [
                    name,
                    lvl.compared,
                    lvl.differing,
                    f"{lvl.docs:,}",
                    f"{lvl.max_pct:.2f}",
                    lvl.verdict,
                ]
                for name, lvl in c.levels.items()
                if lvl.verdict != NA
            ],
            ["level", "keys compared", "keys differing", "Σ|Δ| documents", "max %", "verdict"],
        ),
        "",
    ]
    for name in LEVELS:
        lvl = c.levels.get(name)
        if name == TOTAL or not lvl or not lvl.rows:
            continue
        shown = len(lvl.rows)
        more = f" (largest {shown} of {lvl.differing})" if lvl.differing > shown else ""
        lines += [
            f"Per {_LEVEL_UNIT[name]}{more} — Δ = gateway − legacy; negative: missing on the "
            "gateway side:",
            "",
            report.md_table(
                [
                    [f"`{r['key']}`", r["legacy"], r["gateway"], f"{r['diff']:+}", r["pct"]]
                    for r in lvl.rows
                ],
                [name, "legacy", "gateway", "Δ", "%"],
            ),
            "",
        ]
    return lines


def _trend_cell(entry: dict) -> str:
    if not (entry.get("diff") or entry.get("owners") or entry.get("days")):
        return "·"
    parts = [f"Δ{entry['diff']:+}" if entry.get("diff") else "Δ0"]
    if entry.get("owners"):
        parts.append(f"o{entry['owners']}")
    if entry.get("days"):
        parts.append(f"d{entry['days']}")
    return " ".join(parts)


def _trend_block(result: CountsResult, chart: str | None) -> list[str]:
    runs = sorted({e["run_at"] for t in result.trend.values() for e in t.runs})
    runs = runs[-result.options["trend_runs"] :]
    if len(runs) < 2:
        return [
            "## Trend",
            "",
            f"First run recorded in {result.history.get('where')}; the trend table starts "
            "with the next run.",
            "",
        ]
    heads = [r[5:16].replace("T", " ") for r in runs]  # MM-DD HH:MM
    rows = []
    for name, t in result.trend.items():
        by_run = {e["run_at"]: e for e in t.runs}
        cells = [_trend_cell(by_run[r]) if r in by_run else "" for r in runs]
        rows.append([name, *cells, *_streak(t)])
    lines = [
        f"## Trend (last {len(runs)} runs)",
        "",
        "`·` no difference; `Δ` total difference, `o` owners and `d` days differing. "
        f"{result.history.get('earlier_runs', 0)} earlier runs in {result.history.get('where')}.",
        "",
        report.md_table(rows, ["collection", *heads, "difference since", "lasted"]),
        "",
    ]
    if chart:
        lines += [f"![totals and differences over time]({chart})", ""]
    return lines


def _streak(t: Trend) -> list[str]:
    if t.since is None:
        return ["—", f"clean (last difference {t.last_seen[:10]})" if t.last_seen else "—"]
    return [
        t.since[:16].replace("T", " "),
        f"{t.streak} run{'s' if t.streak != 1 else ''} over {_duration(t.lasted_days or 0)}",
    ]


def _duration(days: float) -> str:
    if days >= 1:
        return f"{days:.1f}".rstrip("0").rstrip(".") + (" day" if days == 1 else " days")
    hours = days * 24
    return f"{hours:.1f} h" if hours >= 1 else f"{round(hours * 60)} min"


def junit(result: CountsResult) -> str:
    strict = result.options.get("fail_on") == WARN
    cases = []
    for c in result.collections:
        for name, lvl in c.levels.items():
            failure = None
            if lvl.verdict == FAIL or (strict and lvl.verdict == WARN):
                worst = lvl.rows[0] if lvl.rows else None
                failure = f"{lvl.differing} of {lvl.compared} {name} keys differ " + (
                    f"(Σ|Δ| {lvl.docs}; largest: {worst['key']} legacy {worst['legacy']} "
                    f"vs gateway {worst['gateway']})"
                    if worst
                    else ""
                )
            skipped = lvl.note if lvl.verdict == NA else None
            cases.append(
                (f"{c.name}.{name}", c.seconds if name == TOTAL else 0.0, failure, skipped)
            )
    if result.not_verified is not None:
        cases.append(("gateway", 0.0, f"not verified: {result.not_verified}", None))
    for c in result.collections:
        if c.not_verified is not None:
            cases.append((c.name, c.seconds, f"not verified: {c.not_verified}", None))
    if not result.complete:
        cases.append(("run", result.seconds, f"INCOMPLETE: {result.stopped}", None))
    return report.junit("migrator.counts", cases)


def has_chart(result: CountsResult) -> bool:
    return any(len(t.runs) >= 2 for t in result.trend.values())


def chart(result: CountsResult, path: Path) -> Path:
    """Totals (top) and differences (bottom) per collection over the trend window, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    colours = plt.get_cmap("tab20").colors
    for i, (name, t) in enumerate(result.trend.items()):
        if len(t.runs) < 2:
            continue
        colour = colours[i % len(colours)]
        at = pd.to_datetime([e["run_at"] for e in t.runs])
        top.plot(at, [max(e["legacy"], 1) for e in t.runs], marker="o", color=colour, label=name)
        if any(_trend_cell(e) != "·" for e in t.runs):
            bottom.plot(at, [e["diff"] for e in t.runs], marker="o", color=colour, label=name)
            owner_docs = [e.get("owner_docs") or 0 for e in t.runs]
            if any(owner_docs):
                bottom.plot(at, owner_docs, marker="x", linestyle="--", color=colour)
    top.set_yscale("log")
    top.set_ylabel("settled documents (legacy)")
    top.legend(fontsize=7, ncol=4)
    bottom.set_ylabel("Δ total (solid), Σ|Δ| per owner (dashed)")
    if bottom.lines:
        bottom.legend(fontsize=7, ncol=4)
    else:
        bottom.text(0.5, 0.5, "no differences", transform=bottom.transAxes, ha="center")
    bottom.axhline(0, color="grey", linewidth=0.5)
    fig.suptitle(f"migrator counts — {result.environment['pair']}")
    fig.autofmt_xdate()
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial")
    fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write(result: CountsResult, out_dir: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    name = f"counts-{report.stamp(result.started)}"
    png = f"{name}.png" if has_chart(result) else None
    written = report.write_set(
        out_dir,
        name,
        formats,
        {
            "md": lambda: markdown(result, png),
            "json": lambda: report.dumps(to_json(result)),
            "junit": lambda: junit(result),
        },
    )
    if png:
        written["png"] = chart(result, out_dir / png)
    return written
