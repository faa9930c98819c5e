"""The code base keeps its shape: no import cycle between migrator's modules (function-level
imports included), the compare engine depends on nothing else of migrator, and the command line
starts without the heavy libraries (a command loads its job when it runs)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "migrator"
HEAVY = ("pymongo", "bson", "numpy", "scipy", "pandas", "matplotlib", "deepdiff")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the migrator modules it imports anywhere in its body. ``from pkg import sub``
    counts as importing ``pkg.sub``; a module importing its own package is not an edge."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules]
                if len(targets) < len(subs):
                    targets.append(node.module)
            for target in targets:
                if target in modules and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_even_inside_functions() -> None:
    graph = _imports(_modules())
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_compare_engine_depends_on_nothing_else_of_migrator() -> None:
    graph = _imports(_modules())
    for name, deps in graph.items():
        if name.startswith("migrator.compare"):
            outside = {d for d in deps if not d.startswith("migrator.compare")}
            assert outside <= {"migrator.errors", "migrator.inputs"}, (name, outside)


def _heavy_loaded(*args: str, cwd: Path = ROOT) -> list[str]:
    """The heavy libraries ``python -X importtime ARGS`` imports (it lists every import)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported, done.stderr  # -X importtime listed the imports
    return [name for name in HEAVY if name in imported]


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _heavy_loaded("-c", "import migrator.cli") == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["verify", "--help"],
        ["bench", "--help"],
        ["server", "start", "--help"],
        ["verify", "--samples", "-3"],
        ["bench", "--pairs", "0"],
        ["verify", "--gateway", "no-such-variant"],
        ["counts", "--format", "xml"],
    ],
)
def test_help_and_usage_errors_load_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    # tmp_path: a usage error may leave an empty ./reports behind
    assert _heavy_loaded("-m", "migrator", *args, cwd=tmp_path) == []


def test_every_gateway_name_is_a_gateway_class() -> None:
    from migrator.choices import GATEWAY_VARIANTS, gateway_class
    from migrator.gateway import DbGateway
    from migrator.gateway.variants import BUG_VARIANTS

    for name in GATEWAY_VARIANTS:
        assert issubclass(gateway_class(name), DbGateway), name
    assert set(BUG_VARIANTS) <= set(GATEWAY_VARIANTS)
