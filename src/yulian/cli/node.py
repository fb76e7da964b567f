"""Introduction: ``yulian node start`` — run one node in the foreground (``node.node``)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from yulian.cli.common import fail

EXIT_START_FAILED = 2
node_app = typer.Typer(help="Run one node", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(node_app, name="node")


@node_app.command("start")
def node_start(
    config: Path = typer.Option(..., "--config", "-c", help="node config.toml"),
    log_level: str = typer.Option("INFO", "--log-level"),
) -> None:
    """Run a node in the foreground until SIGINT/SIGTERM."""
    from yulian.node.config import ConfigError, load_config
    from yulian.node.node import NodeStartError
    from yulian.node.serve import run_node

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_config(config)
        run_node(cfg)
    except (ConfigError, NodeStartError) as e:
        fail(str(e), EXIT_START_FAILED)
    except OSError as e:
        fail(f"cannot start node: {e}", EXIT_START_FAILED)
