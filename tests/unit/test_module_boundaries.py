"""One owner per concept on the operator side: the PKI below the node, an SDK that imports no
node internals, a CLI of one module per command group that shares only ``cli/common.py`` (and,
among the application groups, ``cli/apps/common.py``; no private cross-imports, no
``sys.modules`` tricks), application groups found as modules, and files of at most 600 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

SRC = Path(__file__).resolve().parents[2] / "src" / "yulian"
MAX_LINES = 600
CLI_SHARED = {"__init__.py", "main.py", "common.py"}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every absolute import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
    return out


def _files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (SRC / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _files("pki"), ids=lambda p: p.name)
def test_pki_is_below_the_node(path: Path) -> None:
    allowed = ("yulian.pki", "yulian.crypto", "yulian.types")
    for module, _ in _imports(path):
        if module.startswith("yulian"):
            assert module.startswith(allowed), f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _files("sdk"), ids=lambda p: p.name)
def test_the_sdk_imports_no_node_or_tool_internals(path: Path) -> None:
    for module, _ in _imports(path):
        for above in ("yulian.node", "yulian.cli", "yulian.api", "yulian.bench", "yulian.sim"):
            assert not module.startswith(above), f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _files("cli"), ids=lambda p: str(p.relative_to(SRC)))
def test_cli_modules_share_only_public_names(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "sys.modules" not in text
    for module, names in _imports(path):
        if module.startswith("yulian."):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{path.name} imports private {private} from {module}"
        if module.startswith("yulian.cli."):
            shared = {"yulian.cli.common"}
            if path.parent.name == "apps":  # the application groups share one more module
                shared.add("yulian.cli.apps.common")
            assert module in shared or path.name == "main.py", (
                f"{path.name} imports {module}: share through {' or '.join(sorted(shared))}"
            )


def test_every_command_group_module_registers_itself() -> None:
    groups = [p for p in _files("cli") if p.name not in CLI_SHARED]
    assert len(groups) >= 10
    for path in groups:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "register" in defined, f"{path.relative_to(SRC)} has no register(app)"


def test_the_command_lists_every_group_and_the_applications() -> None:
    from yulian.cli.main import app

    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for group in (
        "network", "node", "tx", "query", "receipt", "verify", "contract", "consortium",
        "org", "ca", "demo", "bench", "evidence", "version",
    ):  # fmt: skip
        assert f" {group} " in result.output, group


@pytest.mark.parametrize(
    "path",
    [
        *_files("cli", "pki", "sdk"),
        *(SRC / "node" / f for f in ("bootstrap.py", "network.py", "process.py", "config.py")),
        SRC / "apps" / "deploy.py",
    ],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_files_hold_at_most_600_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
