"""The API and the node meet only at the port: the API imports nothing of ``yulian.node`` (nor
the SDK, CLI, bench or simulator), the server side imports nothing of the SDK (so no proof is
re-verified with the client's verifier on a GET), and packages import each other without
cycles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "yulian"

# package -> the yulian packages it must not import
FORBIDDEN = {
    "api": ("node", "sdk", "cli", "bench", "sim", "apps"),
    "node": ("sdk", "cli", "bench", "sim"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.startswith("yulian.")]


def _package(path: Path) -> str:
    first = path.relative_to(SRC).parts[0]
    return first.removesuffix(".py")


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        source = _package(path)
        for _, name in _imports(path):
            target = name.split(".")[1]
            if target != source:
                graph[source].add(target)
    return graph


def _violations(package: str) -> list[str]:
    out = []
    for path in sorted((SRC / package).rglob("*.py")):
        for line, name in _imports(path):
            target = name.split(".")[1]
            if target in FORBIDDEN[package]:
                out.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_stays_on_its_side(package: str) -> None:
    assert _violations(package) == []


def test_the_lint_sees_a_forbidden_import() -> None:
    probe = SRC / "api" / "__layering_probe__.py"
    try:
        probe.write_text("from yulian.node.replica import Replica\nimport yulian.sdk.verify\n")
        assert len(_violations("api")) == 2
    finally:
        probe.unlink()


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_packages_import_each_other_without_cycles() -> None:
    assert _cycle(_package_graph()) is None


def test_the_cycle_check_sees_a_cycle() -> None:
    assert _cycle({"api": {"node"}, "node": {"ledger", "api"}}) == ["api", "node", "api"]
    assert _cycle({"api": {"types"}, "node": {"api"}}) is None
