"""The `migrator` command line: each command parses options, calls one library function,
writes its results, and maps errors to exit codes (0 pass, 1 NO-GO, 2 usage, 3 cannot run)."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource
from pymongo.errors import PyMongoError

from migrator import __version__, db, embedded, settings
from migrator.choices import GC_POLICIES, LEGACY_CHOICES, REQUIRE
from migrator.errors import CannotRun, ConfigError, MigratorError
from migrator.progress import Progress
from migrator.secrets import mask_text

# An interrupted run (Ctrl-C, SIGTERM) could not run to the end: partial reports, exit 3.
INTERRUPTED = CannotRun.exit_code


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _fail(exc: MigratorError) -> None:
    click.echo(f"error: {mask_text(str(exc))}", err=True)
    sys.exit(exc.exit_code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One place where errors become one line on stderr and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MigratorError as exc:
            _fail(exc)
        except OSError as exc:  # a file we were told to read or write
            _fail(ConfigError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")))
        except PyMongoError as exc:  # a server failure mid-run: exit 3, one line
            reason = str(exc).split(" (configured timeouts")[0].splitlines()[0]
            _fail(CannotRun(f"the database failed during the run: {type(exc).__name__}: {reason}"))
        except KeyboardInterrupt:
            click.echo("error: interrupted before anything was written", err=True)
            sys.exit(INTERRUPTED)
        except Exception as exc:  # a bug, or a gateway answering outside the protocol
            if os.environ.get("MIGRATOR_DEBUG"):
                raise
            what = mask_text(f"{type(exc).__name__}: {exc}").splitlines()[0][:300]
            click.echo(
                f"error: unexpected failure, the run could not go on: {what} "
                "(MIGRATOR_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(CannotRun.exit_code)

    return wrapper


def connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every database command shares (issue #2, item 1)."""
    opts = [
        click.option(
            "--mongo-uri",
            envvar="MONGO_URI",
            default=None,
            metavar="URI",
            help="Legacy-path MongoDB URI [env MONGO_URI]. Default: the embedded engine.",
        ),
        click.option(
            "--db",
            "db_name",
            default=None,
            metavar="NAME",
            help="Database name. Default: the one in the URI, else LibreChat.",
        ),
        click.option(
            "--gateway-uri",
            default=None,
            metavar="URI",
            help="Gateway-path URI (a migration target). Default: same as --mongo-uri.",
        ),
        click.option(
            "--gateway-db",
            default=None,
            metavar="NAME",
            help="Gateway-path database. Default: same as --db.",
        ),
        click.option(
            "--env-file",
            type=click.Path(dir_okay=False),
            default=None,
            help="Read MONGO_URI and USE_DB_GATEWAY from a LibreChat .env (never edited).",
        ),
        click.option(
            "--data-dir",
            default=".migrator",
            show_default=True,
            type=click.Path(file_okay=False),
            help="Data folder of the embedded engine.",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _settings(kw: dict[str, Any]) -> settings.Settings:
    mongo_uri = kw.pop("mongo_uri")
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.get_parameter_source("mongo_uri") is ParameterSource.ENVIRONMENT:
        mongo_uri = None  # $MONGO_URI: resolve() ranks it below --env-file (and checks it)
    return settings.resolve(
        mongo_uri=mongo_uri,
        db=kw.pop("db_name"),
        gateway_uri=kw.pop("gateway_uri"),
        gateway_db=kw.pop("gateway_db"),
        env_file=kw.pop("env_file"),
        data_dir=kw.pop("data_dir"),
    )


def gateway_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The gateway under test, chosen once per run and used by every job (one of three)."""
    from migrator.choices import GATEWAY_VARIANTS as GATEWAYS

    opts = [
        click.option(
            "--gateway",
            "gateway_name",
            default=None,
            type=click.Choice(list(GATEWAYS)),
            help="A built-in gateway: builtin (default; our reference) or a deliberately "
            "wrong variant (for demos and tests).",
        ),
        click.option(
            "--gateway-cmd",
            default=None,
            metavar="CMD",
            help="Your gateway as a process speaking the JSON-lines protocol "
            '(docs/external-gateway.md), e.g. "node examples/node-gateway/gateway.js".',
        ),
        click.option(
            "--librechat",
            default=None,
            metavar="PATH",
            type=click.Path(),
            help="A LibreChat checkout: judge its own packages/db-gateway, unmodified.",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def output_options(formats: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--out and --format, the same for every command that writes a report set."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option(
            "--format",
            "formats",
            default=formats,
            show_default=True,
            help=f"Report files, a comma list of md, json, junit: {what}.",
        )(fn)
        return click.option(
            "--out",
            default="reports",
            show_default=True,
            type=click.Path(file_okay=False),
            help="Folder for the report files (created if needed).",
        )(fn)

    return decorate


def _gateway(kw: dict[str, Any]) -> Any:
    from migrator.paths import GatewayChoice

    return GatewayChoice.of(kw.pop("gateway_name"), kw.pop("gateway_cmd"), kw.pop("librechat"))


class _OneLineErrors(click.Group):
    """Usage errors as one line on stderr with exit 2, like every other error of the tool."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (cron's timeout, kill) ends a run like Ctrl-C: partial reports, sandboxes
            # dropped, exit 3.
            signal.signal(signal.SIGTERM, _terminate)
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            click.echo(f"error: {mask_text(exc.format_message())}{where}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=_OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="migrator")
def main() -> None:
    """Verify that a LibreChat MongoDB app behaves the same through its repository gateway
    (USE_DB_GATEWAY) as through direct driver calls: results, counts and latency."""


# --- server ---------------------------------------------------------------------------------


@main.group()
def server() -> None:
    """Run the embedded engine in the background so several commands share its data."""


@server.command("start")
@click.option(
    "--data-dir", default=".migrator", show_default=True, type=click.Path(file_okay=False)
)
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="0 picks a free port.")
@handle_errors
def server_start(data_dir: str, port: int) -> None:
    """Start the embedded engine for DATA_DIR and print its mongodb:// URI."""
    handle = embedded.start(data_dir, background=True, port=port)
    click.echo(handle.uri)


@server.command("status")
@click.option(
    "--data-dir", default=".migrator", show_default=True, type=click.Path(file_okay=False)
)
@handle_errors
def server_status(data_dir: str) -> None:
    """Print the URI of the running server (exit 3 when none runs)."""
    handle = embedded.status(data_dir)
    if handle is None:
        click.echo(f"no server is running for {data_dir}", err=True)
        sys.exit(3)
    click.echo(f"{handle.uri}  (pid {handle.pid})")


@server.command("stop")
@click.option(
    "--data-dir", default=".migrator", show_default=True, type=click.Path(file_okay=False)
)
@handle_errors
def server_stop(data_dir: str) -> None:
    """Stop the background server (it saves its data folder first)."""
    if embedded.stop(data_dir):
        click.echo(f"stopped the server of {data_dir}")
    else:
        click.echo(f"no server was running for {data_dir}")


# --- doctor ---------------------------------------------------------------------------------


@main.command()
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@gateway_options
@handle_errors
def doctor(as_json: bool, **kw: Any) -> None:
    """Print what the tool connects to: servers, their features, and the gateway under test
    (with --gateway-cmd or --librechat: what it offers, and why not)."""
    from migrator.doctor import doctor as run_doctor
    from migrator.doctor import render

    cfg = _settings(kw)
    choice = _gateway(kw)
    with Progress("step") as bar:
        out = run_doctor(cfg, choice, progress=bar.line)
    click.echo(json.dumps(out, indent=2, default=str) if as_json else render(out))


# --- seed -----------------------------------------------------------------------------------


@main.command()
@connection_options
@click.option(
    "--users",
    default=200,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many users; everything else scales with it.",
)
@click.option(
    "--seed",
    "seed_value",
    default=1,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives the same data.",
)
@click.option("--drop", is_flag=True, help="Replace a database that already holds data.")
@handle_errors
def seed(users: int, seed_value: int, drop: bool, **kw: Any) -> None:
    """Write a realistic LibreChat v0.8.0-rc3-shaped dataset (with its known hazards)."""
    from migrator.seed import seed as run_seed

    cfg = _settings(kw)
    with db.server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv, Progress("document") as bar:
        client = srv.client()
        db.ping(client, srv.uri)
        summary = run_seed(
            client[cfg.db], users=users, seed=seed_value, drop=drop, progress=bar.update
        )
    click.echo(summary.to_text())


# --- ops / verify ---------------------------------------------------------------------------


@main.command("ops")
@click.option("--kind", type=click.Choice(["read", "write"]), default=None)
def list_ops(kind: str | None) -> None:
    """List the operations of the service catalog."""
    from migrator import services

    for op in services.select(None, kind=kind):
        click.echo(f"{op.name:42s} {op.kind}")


def _samples(value: str) -> int | None:
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"--samples must be a positive integer or `all`, got {value!r}")
    return n


@main.command()
@connection_options
@click.option(
    "--ops",
    "ops",
    multiple=True,
    metavar="GLOB",
    help="Operations to run (globs, repeatable): auth.*, *.list_page. Default: all.",
)
@click.option(
    "--samples",
    default="20",
    show_default=True,
    metavar="N|all",
    help="Inputs per operation; `all` draws every input the sampler can.",
)
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option(
    "--timeout-ms",
    default=10_000,
    show_default=True,
    type=int,
    help="Per-call timeout for each path.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Inputs in flight; above 1 both paths of an input also run at once.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Rules file (TOML or YAML) adding ignore/unordered/tolerance rules.",
)
@click.option(
    "--replay",
    type=click.Path(dir_okay=False),
    default=None,
    help="Recorded calls (JSON lines {op,args,at}) instead of sampled inputs.",
)
@click.option(
    "--calibrate/--no-calibrate",
    default=True,
    show_default=True,
    help="Run the legacy path twice first to learn noisy fields.",
)
@click.option(
    "--writes",
    is_flag=True,
    help="Also verify write operations, each in two scratch sandbox databases.",
)
@click.option(
    "--require",
    default="all",
    show_default=True,
    type=click.Choice(REQUIRE),
    help="all: an operation not verified is NO-GO; offered: accept operations the gateway "
    "does not offer (listed by name).",
)
@click.option(
    "--legacy",
    default="oracle",
    show_default=True,
    type=click.Choice(LEGACY_CHOICES),
    help="The legacy path: the built-in oracle, or (with --librechat) the checkout's own "
    "legacy branch (Mongoose, USE_DB_GATEWAY off); the other gives a second opinion.",
)
@gateway_options
@output_options("md,json,junit", "the consistency report for people, machines and CI")
@handle_errors
def verify(
    ops: tuple[str, ...],
    samples: str,
    seed_value: int,
    timeout_ms: int,
    concurrency: int,
    rules_file: str | None,
    replay: str | None,
    calibrate: bool,
    writes: bool,
    require: str,
    legacy: str,
    out: str,
    formats: str,
    **kw: Any,
) -> None:
    """Shadow-run every operation through both paths and write the consistency report."""
    import threading

    from migrator import report
    from migrator.verify import report as verify_report
    from migrator.verify import verify as run_verify

    cfg = _settings(kw)
    choice = _gateway(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    stop = threading.Event()
    bar = Progress("input")
    try:
        result = run_verify(
            cfg,
            ops=list(ops) or None,
            samples=_samples(samples),
            seed=seed_value,
            timeout_ms=timeout_ms,
            concurrency=concurrency,
            rules_file=rules_file,
            gateway=choice,
            replay=replay,
            calibrate=calibrate,
            writes=writes,
            require=require,
            legacy=legacy,
            progress=bar.update,
            stop=stop,
        )
    finally:
        bar.close()
    paths = verify_report.write(result, out_dir, fmts)
    verdict = "GO" if result.passed else "NO-GO"
    detail = f"failing: {', '.join(result.failing)}" if result.failing else "no difference"
    if not result.complete:
        verdict, detail = "INCOMPLETE", result.stopped or "interrupted"
    click.echo(f"verify: {verdict} — {detail}")
    click.echo(f"  {result.coverage()}")
    for fmt, path in paths.items():
        click.echo(f"  {fmt:5s} {path}")
    sys.exit(INTERRUPTED if not result.complete else 0 if result.passed else 1)


@main.command()
@connection_options
@click.option(
    "--force", is_flag=True, help="Also drop scratch databases of runs that are still going."
)
@handle_errors
def clean(force: bool, **kw: Any) -> None:
    """Drop the scratch databases (migrator_scratch_*) of runs that are gone; a running
    run's are left (with a line saying so) unless --force."""
    from migrator import scratch

    cfg = _settings(kw)
    with db.server(cfg.mongo_uri, data_dir=cfg.data_dir) as srv:
        client = srv.client()
        db.ping(client, srv.uri)
        swept = scratch.sweep(client, force=force)
    dropped = swept.dropped
    click.echo(
        f"dropped {len(dropped)} scratch databases" + (": " + ", ".join(dropped) if dropped else "")
    )
    for name, why in swept.spared:
        click.echo(f"left {name}: {why} (--force drops it)")


# --- preflight / demo (issue #8) ------------------------------------------------------------


@main.command()
@connection_options
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Thresholds and settings (TOML: [verify], [counts], [bench]); see the README.",
)
@gateway_options
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False))
@handle_errors
def preflight(config_file: str | None, out: str, **kw: Any) -> None:
    """Verify (reads and writes), counts and bench against thresholds: GO or NO-GO.

    Exit 0 on GO, 1 on NO-GO. With --env-file, reports the current USE_DB_GATEWAY value
    (the file is never edited)."""
    from migrator import report
    from migrator.preflight import gateway_choice, load_config
    from migrator.preflight import preflight as run_preflight

    cfg = _settings(kw)
    config = load_config(config_file)
    choice = gateway_choice(config, _gateway(kw))
    out_dir = report.prepare_out_dir(out)
    bar = Progress()
    try:
        result = run_preflight(cfg, config, out_dir, gateway=choice, progress=bar.update)
    finally:
        bar.close()
    _preflight_summary(result)
    if cfg.use_db_gateway is not None:
        click.echo(f"USE_DB_GATEWAY is currently {cfg.use_db_gateway!r} (not changed)")
    sys.exit(0 if result.go else 1)


def _preflight_summary(result: Any, label: str = "preflight") -> None:
    head = "GO" if result.go else "NO-GO"
    click.echo(f"{label}: {head}" + ("" if result.go else f" — {'; '.join(result.reasons)}"))
    click.echo(f"  report {result.reports['preflight']['md']}")
    for check in ("verify", "counts", "bench"):
        path = result.reports.get(check, {}).get("md")
        if path:
            click.echo(f"  {check:6s} {path}")


@main.command()
@click.option(
    "--users",
    default=25,
    show_default=True,
    type=click.IntRange(2, 2000),
    help="Size of the seeded demo dataset.",
)
@click.option(
    "--data-dir",
    default=".migrator",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The demo uses <data-dir>/demo.",
)
@click.option("--out", default="reports/demo", show_default=True, type=click.Path(file_okay=False))
@handle_errors
def demo(users: int, data_dir: str, out: str) -> None:
    """Everything on the embedded default: seed, preflight (GO), then a deliberate NO-GO."""
    from migrator import report
    from migrator.demo import demo as run_demo

    out_dir = report.prepare_out_dir(out)
    bar = Progress()
    try:
        result = run_demo(
            data_dir,
            out_dir,
            users=users,
            say=lambda m: click.echo(m, err=True),
            progress=bar.update,
        )
    finally:
        bar.close()
    click.echo(f"demo: seeded {result.seeded}")
    _preflight_summary(result.clean, "run 1, built-in gateway")
    _preflight_summary(result.faulty, "run 2, faulty-demo gateway (a demonstration)")
    click.echo(
        "The second run is a demonstration: its gateway is broken on purpose (a "
        "case-sensitive email lookup, a lost $inc, a 400 µs slower message load)."
    )
    sys.exit(0 if result.clean.go and not result.faulty.go else 1)


# --- counts (issue #5) ----------------------------------------------------------------------


def _comma_list(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@main.command()
@connection_options
@click.option(
    "--collections",
    multiple=True,
    metavar="LIST",
    help="Collections to count (comma list or repeatable): messages,files. Default: all.",
)
@click.option(
    "--by",
    default="owner,day",
    show_default=True,
    metavar="LEVELS",
    help="Levels besides totals: owner (per user), day (UTC day of createdAt).",
)
@click.option(
    "--settle-minutes",
    default=10.0,
    show_default=True,
    type=float,
    metavar="M",
    help="Leave out documents created or updated in the last M minutes (writes in flight).",
)
@click.option(
    "--warn",
    "warn_pct",
    default=None,
    type=float,
    metavar="PCT",
    help="Warn when a difference is above PCT percent (must be below --fail).",
)
@click.option(
    "--fail",
    "fail_pct",
    default=0.0,
    show_default=True,
    type=float,
    metavar="PCT",
    help="Fail when a difference is above PCT percent of the legacy count of its collection, "
    "owner or day; 0 fails on any difference.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn"]),
    default="fail",
    show_default=True,
    help="Exit 1 on failures only, or on warnings too.",
)
@click.option(
    "--history",
    default=None,
    metavar="PATH|mongodb",
    help="History store: a JSONL file, or `mongodb` (migrator_history.counts on the legacy "
    "server). Default: OUT/counts-history.jsonl.",
)
@click.option(
    "--trend",
    "trend_runs",
    default=7,
    show_default=True,
    type=int,
    metavar="N",
    help="Runs per collection in the trend table.",
)
@output_options("md,json,junit", "a PNG chart is added once the history has two runs")
@gateway_options
@handle_errors
def counts(
    collections: tuple[str, ...],
    by: str,
    settle_minutes: float,
    warn_pct: float | None,
    fail_pct: float,
    fail_on: str,
    history: str | None,
    trend_runs: int,
    out: str,
    formats: str,
    **kw: Any,
) -> None:
    """Count every collection through both paths (totals, per owner, per day), append the
    run to the history and write the report with the trend. Exit 1 when a difference is
    above --fail (or --warn, with --fail-on warn)."""
    from pathlib import Path

    from migrator import report
    from migrator.counts import counts as run_counts
    from migrator.counts import report as counts_report

    cfg = _settings(kw)
    choice = _gateway(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    bar = Progress("collection")
    result = run_counts(
        cfg,
        collections=_comma_list(collections) or None,
        by=_comma_list((by,)),
        settle_minutes=settle_minutes,
        warn_pct=warn_pct,
        fail_pct=fail_pct,
        fail_on=fail_on,
        history=history or str(Path(out) / "counts-history.jsonl"),
        trend_runs=trend_runs,
        gateway=choice,
        progress=lambda name, done, total: bar.update("counts", done, total),
    )
    bar.close()
    paths = counts_report.write(result, out_dir, fmts)
    click.echo(f"counts: {counts_report.headline(result)}")
    for fmt, path in paths.items():
        click.echo(f"  {fmt:5s} {path}")
    sys.exit(INTERRUPTED if not result.complete else 0 if result.passed else 1)


# --- bench (issue #6) -----------------------------------------------------------------------


def _number(option: str, value: str | None, kind: type, minimum: float) -> Any:
    """Parse a numeric option ourselves, so a bad value is one line and exit 2."""
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number < minimum or number != number:
        what = "a positive integer" if kind is int and minimum == 1 else f"a number ≥ {minimum:g}"
        raise ConfigError(f"{option} must be {what}, got {value!r}")
    return number


@main.command()
@connection_options
@click.option(
    "--ops",
    "ops",
    multiple=True,
    metavar="GLOB",
    help="Read operations to measure (globs, repeatable): auth.*, *.list_page. Default: all.",
)
@click.option(
    "--pairs",
    default=None,
    metavar="N",
    help="Pairs (one call per path) per series, per operation [default: 300].",
)
@click.option(
    "--max-seconds",
    default="5",
    show_default=True,
    metavar="S",
    help="With --pairs: a series that reaches S seconds stops there (at least 20 pairs); "
    "0 never stops early.",
)
@click.option(
    "--seconds",
    default=None,
    metavar="S",
    help="Instead of --pairs: time budget per series, per operation (at least 20 pairs).",
)
@click.option(
    "--warmup",
    default="10",
    show_default=True,
    metavar="K",
    help="Calls per path per operation before measuring, discarded.",
)
@click.option(
    "--samples",
    default="20",
    show_default=True,
    metavar="N",
    help="Inputs sampled per operation; the pairs cycle through them.",
)
@click.option(
    "--seed",
    "seed_value",
    default=1,
    show_default=True,
    type=int,
    help="Seed of the input sample, the call order and the bootstrap.",
)
@click.option(
    "--baseline",
    default=None,
    metavar="FILE",
    help="A previous bench JSON report: flag operations whose overhead grew since.",
)
@gateway_options
@click.option(
    "--aa/--no-aa",
    default=True,
    show_default=True,
    help="Run the A/A series (legacy against itself) that gives the noise floor.",
)
@click.option(
    "--gc",
    "gc_policy",
    type=click.Choice(GC_POLICIES),
    default="between-pairs",
    show_default=True,
    help="Garbage collector: off in timed calls (collected between pairs), or left automatic.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn"]),
    default="fail",
    show_default=True,
    help="Exit 1 on failing operations only, or on warnings too.",
)
@output_options("md,json", "md comes with a PNG chart, json with the raw samples")
@handle_errors
def bench(
    ops: tuple[str, ...],
    pairs: str | None,
    max_seconds: str,
    seconds: str | None,
    warmup: str,
    samples: str,
    seed_value: int,
    baseline: str | None,
    aa: bool,
    gc_policy: str,
    fail_on: str,
    out: str,
    formats: str,
    **kw: Any,
) -> None:
    """Measure the gateway's overhead per read operation: paired, interleaved calls of both
    paths on the same inputs, after warm-up and an A/A noise-floor run. Writes
    benchmark-<timestamp>.md (+ .png) and .json; exit 1 when an operation fails the gate."""
    from migrator import report
    from migrator.bench import bench as run_bench
    from migrator.bench import report as bench_report

    cfg = _settings(kw)
    choice = _gateway(kw)
    fmts = report.parse_formats(formats)
    out_dir = report.prepare_out_dir(out)
    progress = Progress("pair")
    try:
        result = run_bench(
            cfg,
            ops=list(ops) or None,
            pairs=_number("--pairs", pairs, int, 1),
            seconds=_number("--seconds", seconds, float, 0.001),
            max_seconds=_number("--max-seconds", max_seconds, float, 0) or None,
            warmup=_number("--warmup", warmup, int, 0),
            samples=_number("--samples", samples, int, 1),
            seed=seed_value,
            baseline=baseline,
            gateway=choice,
            aa=aa,
            gc_policy=gc_policy,
            progress=progress.update,
        )
    finally:
        progress.close()
    paths = bench_report.write(result, out_dir, fmts)
    click.echo(f"bench: {bench_report.headline(result)}")
    for fmt, path in paths.items():
        click.echo(f"  {fmt:5s} {path}")
    if not result.complete:
        sys.exit(INTERRUPTED)
    sys.exit(1 if not result.passed or (fail_on == "warn" and result.warning) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["ConfigError", "main"]
