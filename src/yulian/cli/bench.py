"""Introduction: ``yulian bench`` — the command line of ``yulian.bench`` (docs/benchmarks.md).

The parameters come from the bench's option table (``yulian.bench.options``), declared once.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from yulian.bench.command import typer_command

    app.command(name="bench")(typer_command())
