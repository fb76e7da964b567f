"""The developer kit's library side: ``contract check`` (the checker's verdict, with what to
write instead), ``contract new`` (a scaffold whose own tests pass), and setting a contract's
constants before it is proposed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yulian.apps.shared import configure
from yulian.contracts import ContractRejected, compile_contract
from yulian.devkit import DeployFailed, Harness
from yulian.devkit.check import ERROR, WARNING, check_file, check_source, format_problems
from yulian.devkit.scaffold import ScaffoldError, new_contract, render
from yulian.execution.system.lifecycle import MAX_CODE_BYTES

APPS = Path(__file__).resolve().parents[2] / "src" / "yulian" / "apps"
# modules of the node side (deployment, templates, story drivers, set-up), not contracts
HOST_CODE = ("deploy", "templates", "supervision", "demo", "privacy_setup")
CONTRACT_FILES = sorted(
    p
    for p in APPS.rglob("*.py")
    if p.name != "__init__.py" and p.stem not in HOST_CODE and p.parent.name != "stories"
)

# (source, line, the checker's own message, a phrase of the advice)
REFUSED = [
    ("import os\n", 1, "module level may only define functions and constants", "delete the import"),
    ("def f(ctx):\n    print(1)\n", 2, "'print' is not available in contracts", "ctx.emit"),
    ("def f(ctx):\n    return 1.5\n", 2, "float and complex literals are not allowed", "Decimal"),
    ("def f(ctx, a):\n    return a / 2\n", 2, "true division '/' is not allowed", "quantize"),
    (
        "def f(ctx):\n    try:\n        pass\n    except Exception:\n        pass\n",
        2,
        "try/except is not allowed",
        "ctx.require(condition",
    ),
    (
        "def f(ctx):\n    return ctx.state.gett('x')\n",
        2,
        "attribute 'gett' is not allowed",
        "'get'",
    ),
    ("def f(ctx):\n    return ctx.now\n", 2, "attribute 'now' is not allowed", "ctx.block.time"),
    ("def f(ctx):\n    return lenn([])\n", 2, "name 'lenn' is not defined", "builtin 'len'"),
    ("def f(ctx):\n    return {1, 2}\n", 2, "sets are not allowed", "dict with True values"),
    ("def f(ctx, xs):\n    return sorted(xs, key=lambda x: x)\n", 2, "lambda", "key=_key"),
    ("def f(ctx):\n    return '{}'.format(1)\n", 2, "str.format is not allowed", "f-string"),
    ("class Item:\n    pass\n", 1, "module level may only define", "records in dicts"),
    ("X = len('a')\n", 1, "only literal constants are allowed here", "compute in a function"),
    ("def f(ctx):\n    return (\n", 2, "syntax error", "Python syntax"),
    ("def f(ctx):\n    _x = 1\n", 2, "names starting with '_' are not allowed", "leading _"),
    ("def f(ctx):\n    return round(1)\n", 2, "'round' is not available", ".quantize("),
    ("def f(ctx):\n    return open('x')\n", 2, "'open' is not available", "no I/O"),
    ("def f(ctx, a):\n    return a is 1\n", 2, "'is' compares only with None", "=="),
    ("N = 0\ndef f(ctx):\n    global N\n", 3, "global is not allowed", "ctx.state"),
]


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_contract_passes_the_check_without_a_warning(path: Path) -> None:
    assert check_file(path) == []


@pytest.mark.parametrize(("source", "line", "message", "advice"), REFUSED)
def test_a_refusal_names_the_line_the_checkers_message_and_what_to_write_instead(
    source: str, line: int, message: str, advice: str, tmp_path: Path
) -> None:
    file = tmp_path / "mine.py"
    file.write_text(source, encoding="utf-8")
    (problem,) = check_file(file)
    assert (problem.line, problem.severity) == (line, ERROR)
    assert message in problem.message and advice in problem.advice
    assert str(problem) == f"{file}:{line}: error: {problem.message} — instead: {problem.advice}"
    # the message is the checker's own: compiling the source refuses it with the same words
    with pytest.raises(ContractRejected) as refused:
        compile_contract("mine", source)
    assert refused.value.reason.endswith(problem.message)


def test_what_the_check_refuses_the_lifecycle_refuses_and_what_it_passes_deploys() -> None:
    h = Harness(["org1", "org2"])
    source, line, message, _ = REFUSED[4]
    with pytest.raises(DeployFailed, match=f"line {line}: {message}"):
        h.deploy("refused", source)
    clean = "def f(ctx):\n    return 1\n"
    assert check_source(clean) == []
    h.deploy("clean", clean)
    assert h.query("clean", "f") == 1


def test_warnings_catch_what_compiles_but_fails_or_misleads() -> None:
    source = (
        "LIMITS = [1, 2]\n"
        "def helper(a):\n    return a\n"
        "def _read(key):\n    return ctx.state.get(key)\n"
        "def f(ctx):\n    return _read(helper(LIMITS))\n"
    )
    problems = check_source(source, "w.py")
    assert all(p.severity == WARNING for p in problems)
    text = format_problems(problems)
    assert "w.py:1: warning: LIMITS holds a list or dict" in text
    assert "w.py:2: warning: helper is not callable by a transaction" in text
    assert "name it _helper if it is a helper" in text
    assert "w.py:4: warning: _read reads ctx but does not take it" in text
    (none,) = check_source("def helper(a):\n    return a\n", "n.py")[1:]
    assert none.message == "no public methods: nothing can be called"


def test_files_that_cannot_be_read_or_deployed_are_named(tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# caf\xe9\n")
    (problem,) = check_file(latin)
    assert "not UTF-8" in problem.message
    (problem,) = check_file(tmp_path / "missing.py")
    assert "cannot read" in problem.message
    big = "X = " + repr("a" * MAX_CODE_BYTES) + "\ndef f(ctx):\n    return X\n"
    (problem,) = check_source(big)
    assert f"the lifecycle takes at most {MAX_CODE_BYTES}" in problem.message


def test_a_new_contract_is_scaffolded_checks_clean_and_its_own_tests_pass(tmp_path: Path) -> None:
    written = new_contract("registry", tmp_path)
    assert [p.name for p in written] == ["contract.py", "test_registry.py", "README.md"]
    assert check_file(tmp_path / "registry" / "contract.py") == []
    readme = (tmp_path / "registry" / "README.md").read_text(encoding="utf-8")
    assert "yulian contract propose registry 1.0" in readme
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_registry.py"],
        cwd=tmp_path / "registry",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_the_scaffold_refuses_bad_names_and_never_overwrites(tmp_path: Path) -> None:
    for bad in ("Registry", "9lives", "has-dash", "", "lifecycle"):
        with pytest.raises(ScaffoldError):
            new_contract(bad, tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "contract.py").write_text("mine", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="not an empty directory"):
        new_contract("taken", tmp_path)
    assert (tmp_path / "taken" / "contract.py").read_text(encoding="utf-8") == "mine"
    assert "def register(ctx, item_id, data)" in render("inventory")["contract.py"]


def test_configure_sets_only_constants_the_source_has_to_literal_values() -> None:
    source = 'GOVERNORS = ("org1",)\nLIMIT = 5\n\ndef f(ctx):\n    return [GOVERNORS, LIMIT]\n'
    out = configure(source, {"GOVERNORS": ("bank", "core"), "LIMIT": 7})
    assert "GOVERNORS = ('bank', 'core',)\nLIMIT = 7\n" in out
    h = Harness(["bank", "core"])
    h.deploy("configured", out)
    assert h.query("configured", "f") == [["bank", "core"], 7]
    with pytest.raises(ValueError, match="no module-level constant 'GOVERNOR'"):
        configure(source, {"GOVERNOR": ("x",)})
    with pytest.raises(ValueError, match="a tuple may hold only"):
        configure(source, {"GOVERNORS": (["x"],)})
    with pytest.raises(ValueError, match="a constant is"):
        configure(source, {"LIMIT": 1.5})
