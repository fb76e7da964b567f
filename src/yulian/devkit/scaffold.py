"""Introduction: ``yulian contract new NAME`` — a new contract, its tests and a README.

The files come from the templates shipped in ``templates/`` with the contract's name written
in: a small registry contract in the dialect (items that organisations own, update and
transfer), its tests in the in-process harness, and a README with the steps from check to
upgrade. The name must be one the lifecycle accepts, so the scaffold deploys as it is; nothing
existing is ever overwritten.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from yulian.execution.system.lifecycle import NAME_PATTERN, RESERVED_NAMES

# template -> file name (with the contract's name written in)
FILES = {
    "contract.py.tmpl": "contract.py",
    "test_contract.py.tmpl": "test_{name}.py",
    "README.md.tmpl": "README.md",
}


class ScaffoldError(ValueError):
    """The scaffold cannot be written: a bad name, or a directory that is not empty."""


def render(name: str) -> dict[str, str]:
    """The scaffold's files for contract ``name``: file name -> text."""
    check_name(name)
    templates = resources.files(__package__).joinpath("templates")
    return {
        target.format(name=name): Template(
            templates.joinpath(template).read_text(encoding="utf-8")
        ).substitute(name=name)
        for template, target in FILES.items()
    }


def new_contract(name: str, directory: str | Path = ".") -> list[Path]:
    """Write the scaffold of ``name`` into ``directory/name`` (created; must be missing or
    empty) and return the files written."""
    files = render(name)
    target = Path(directory) / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not an empty directory; nothing written")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in files.items():
        path = target / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"contract name {name!r}: 1..48 of a-z, 0-9 and _, starting with a letter "
            "(the lifecycle's rule)"
        )
    if name in RESERVED_NAMES:
        raise ScaffoldError(f"{name!r} is the name of a system contract")
