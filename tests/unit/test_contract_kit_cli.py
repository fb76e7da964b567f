"""``yulian contract new`` and ``yulian contract check``: the developer kit's commands write the
scaffold and judge a file as the lifecycle will, with exit codes a script can rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from yulian.cli.main import app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def test_new_writes_the_scaffold_and_check_accepts_it(tmp_path: Path) -> None:
    code, out, err = run("contract", "new", "inventory", "--dir", str(tmp_path))
    assert code == 0, err
    folder = tmp_path / "inventory"
    assert out.splitlines() == [
        str(folder / "contract.py"),
        str(folder / "test_inventory.py"),
        str(folder / "README.md"),
    ]
    assert f"next: yulian contract check {folder / 'contract.py'}" in err
    code, out, _ = run("contract", "check", str(folder / "contract.py"))
    assert (code, out.strip()) == (0, f"{folder / 'contract.py'}: ready to propose")


def test_new_never_overwrites_and_refuses_bad_names(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    code, _, err = run("contract", "new", "taken", "--dir", str(tmp_path))
    assert code == 1 and "exists and is not an empty directory; nothing written" in err
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    for bad in ("Bad", "9lives", "lifecycle"):
        code, _, err = run("contract", "new", bad, "--dir", str(tmp_path))
        assert code == 1 and f"{bad!r}" in err, bad
        assert not (tmp_path / bad).exists()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "import os\ndef f(ctx):\n    return 1\n",
            ":1: error: module level may only define functions and constants — instead: "
            "delete the import",
        ),
        (
            "def f(ctx):\n    return 1.5\n",
            ":2: error: float and complex literals are not allowed; use Decimal('...') — "
            "instead: write Decimal('1.25')",
        ),
    ],
)
def test_check_names_the_line_and_what_to_write_instead(
    tmp_path: Path, source: str, expected: str
) -> None:
    path = tmp_path / "c.py"
    path.write_text(source)
    code, out, _ = run("contract", "check", str(path))
    assert code == 1
    assert out.startswith(str(path) + expected), out


def test_check_passes_a_contract_with_warnings_and_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "c.py"
    path.write_text("TABLE = [1, 2]\ndef f(ctx):\n    return TABLE\n")
    code, out, _ = run("contract", "check", str(path))
    assert code == 0
    assert ":1: warning: TABLE holds a list or dict" in out
    assert out.strip().endswith("ready to propose (see the warnings)")


def test_check_of_a_missing_file_fails(tmp_path: Path) -> None:
    code, out, _ = run("contract", "check", str(tmp_path / "nope.py"))
    assert code == 1 and "cannot read: No such file or directory" in out
