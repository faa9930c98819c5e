"""``demo``: everything on the embedded default, twice — a clean GO, then a deliberate NO-GO.

It starts the embedded engine in its own data folder, seeds a LibreChat-shaped database, runs
``preflight`` with the built-in gateway, then again with the ``faulty-demo`` gateway variant so
a new user sees what mismatches and a slower operation look like in the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migrator import db, embedded, settings
from migrator.choices import GatewayChoice
from migrator.preflight import PreflightResult, load_config, preflight
from migrator.sampling import SampledInputs

DEMO_DB = "LibreChat"


@dataclass
class DemoResult:
    seeded: str
    clean: PreflightResult
    faulty: PreflightResult


def demo_config() -> dict:
    config = load_config(None)
    config["verify"].update(samples=8)
    # Few pairs per series (a real preflight measures far longer), but enough for the
    # deliberately slowed operation to stand out after the Holm correction over 32 operations
    # even when a few pairs are lost to the engine's pauses (20 were not, on a busy machine).
    config["bench"].update(pairs=30, warmup=3)
    config["counts"].update(history="")
    return config


def demo(
    data_dir: str | Path,
    out_dir: Path,
    *,
    users: int = 25,
    say: Callable[[str], None] = print,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> DemoResult:
    from migrator.seed import seed

    folder = Path(data_dir) / "demo"
    running = embedded.status(folder)
    handle = None if running else embedded.start(folder, background=True)
    try:
        cfg = settings.resolve(db=DEMO_DB, data_dir=folder, environ={})
        with db.server(None, data_dir=folder) as srv:
            client = srv.client()
            say(f"seeding {users} users into the embedded engine ({srv.uri}) …")
            summary = seed(client[DEMO_DB], users=users, seed=1, drop=True)
            client.close()
        seeded = f"{summary.total:,} documents for {users} users"
        config = demo_config()
        sampled = SampledInputs()  # both runs judge the same inputs, sampled once
        say("run 1: preflight with the built-in gateway …")
        clean = preflight(cfg, config, out_dir / "clean", sampled=sampled, progress=progress)
        say(
            "run 2 (a DEMONSTRATION of a NO-GO): preflight with the deliberately faulty "
            "gateway `faulty-demo` …"
        )
        faulty = preflight(
            cfg,
            config,
            out_dir / "faulty-demo",
            gateway=GatewayChoice.of("faulty-demo"),
            sampled=sampled,
            progress=progress,
        )
    finally:
        if handle is not None:
            embedded.stop(folder)
    return DemoResult(seeded, clean, faulty)
