"""The pure layers import no I/O: no sockets, asyncio, storage, clock or randomness.

``execution/``, ``consensus/``, ``types/``, ``crypto/`` and ``contracts/`` must stay pure so the
simulator can run them under a seeded clock, network and disk. This AST lint fails the test run
when one of them imports a forbidden module or calls the wall clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "yulian"
PURE_PACKAGES = ("execution", "consensus", "types", "crypto", "contracts")
FORBIDDEN_MODULES = {
    "socket",
    "asyncio",
    "selectors",
    "ssl",
    "http",
    "urllib",
    "httpx",
    "uvicorn",
    "uvloop",
    "fastapi",
    "starlette",
    "lmdb",
    "sqlite3",
    "psycopg",
    "psycopg2",
    "time",
    "random",
    "subprocess",
    "multiprocessing",
    "yulian.ledger",
    "yulian.node",
    "yulian.api",
    "yulian.sdk",
    "yulian.cli",
    "yulian.mempool",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("os", "getenv"),
    ("os", "urandom"),
}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} imports {name}")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN_CALLS
        ):
            found.append(f"{path.relative_to(SRC)}:{node.lineno} uses {node.value.id}.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            found.append(f"{path.relative_to(SRC)}:{node.lineno} reads the environment")
    return found


def _pure_files() -> list[Path]:
    return sorted(p for pkg in PURE_PACKAGES for p in (SRC / pkg).rglob("*.py"))


def test_pure_packages_exist() -> None:
    assert len(_pure_files()) >= 10


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_layer_has_no_io(path: Path) -> None:
    assert _violations(path) == []


def test_the_lint_catches_a_violation(tmp_path: Path) -> None:
    bad = SRC / "consensus" / "__lint_probe__.py"
    try:
        bad.write_text(
            "import asyncio\nfrom yulian.ledger import open_ledger\n"
            "from datetime import datetime\nx = datetime.now()\n"
        )
        assert len(_violations(bad)) == 3
    finally:
        bad.unlink()
