"""Introduction: the ``yulian`` command (typer + rich): the groups, assembled.

One module per command group, each with ``register(app)``: ``network`` (init / up / down /
status), ``node`` (start), ``ledger`` (snapshots, archives, backups), ``tx`` (send, and
``query``), ``receipt`` (export, and ``verify``), ``events`` (the event index and stream),
``contract``, ``consortium``, ``org`` (init / export / create), ``genesis`` (assemble /
show / accept), ``ca``, ``demo``, ``bench``; application groups
(``evidence``, ...) are the modules of ``yulian.cli.apps``, found by name. What they share —
output, options, failures, finding and checking the node a command talks to — is
``yulian.cli.common``.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from yulian import __version__
from yulian.cli import (
    apps,
    ca,
    consortium,
    contract,
    demo,
    events,
    genesis,
    ledger,
    network,
    node,
    org,
    receipt,
    tx,
)
from yulian.cli import bench as bench_command
from yulian.cli.common import say

CORE_GROUPS = (
    network,
    node,
    ledger,
    tx,
    receipt,
    events,
    contract,
    consortium,
    org,
    genesis,
    ca,
    demo,
    bench_command,
)

app = typer.Typer(
    help="Yulian (渝链) consortium blockchain",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the version."""
    say(f"yulian {__version__}")


def _register_all() -> None:
    for group in CORE_GROUPS:
        group.register(app)
    for info in sorted(pkgutil.iter_modules(apps.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{apps.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
