"""The tests match the layout: ``-m e2e`` selects exactly the test modules that start node
processes (directly, through the e2e harness or fixtures, or through a ``yulian`` command that
runs nodes), so ``make unit`` (``-m 'not e2e'``) starts none and ``make e2e`` misses none.

A static check of every test module's AST, like the layering lint: a module that starts nodes
without ``pytestmark = pytest.mark.e2e``, or carries the mark without starting any, fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
# what starts a node process: the harness, the node layer, the fixtures that use them
PROCESS_STARTERS = {
    "make_network",
    "make_cluster",
    "serving",
    "start_node_process",
    "network_up",
    "start_network",
    "start_chain",  # tests/browser/chain.py: a real network for the explorer's tests
}
# a local helper of the same name is no node
STARTER_MODULES = ("tests.e2e", "tests.browser.chain", "yulian.node")
PROCESS_FIXTURES = {"node", "cluster"}  # tests/e2e/conftest.py and the modules' own fixtures
# `yulian <command>` in a subprocess that runs nodes
NODE_COMMANDS = {"demo", "bench", "up", "start"}


def _starts_nodes(tree: ast.Module) -> bool:
    imported = {
        alias.asname or alias.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith(STARTER_MODULES)
        for alias in n.names
    }
    if imported & PROCESS_STARTERS:
        return True
    tests = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name[:5] == "test_"]
    if any({a.arg for a in f.args.args} & PROCESS_FIXTURES for f in tests):
        return True
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    return "yulian.cli.main" in strings and bool(strings & NODE_COMMANDS)


def _marked_e2e(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            return "e2e" in ast.unparse(stmt.value)
    return False


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p != Path(__file__).resolve())


@pytest.mark.parametrize("path", _test_modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_e2e_mark_iff_the_module_starts_nodes(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    starts, marked = _starts_nodes(tree), _marked_e2e(tree)
    assert starts == marked, (
        f"{path.name} starts node processes but is not marked e2e"
        if starts
        else f"{path.name} is marked e2e but starts no node process"
    )


def test_the_check_sees_both_kinds() -> None:
    starts = [p for p in _test_modules() if _starts_nodes(ast.parse(p.read_text()))]
    assert len(starts) >= 10
    assert len(_test_modules()) - len(starts) >= 30
    probe = ast.parse("def test_x(node):\n    pass\n")
    assert _starts_nodes(probe) and not _marked_e2e(probe)
    probe = ast.parse("import pytest\npytestmark = pytest.mark.e2e\n")
    assert _marked_e2e(probe) and not _starts_nodes(probe)
