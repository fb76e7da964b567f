"""Introduction: ``yulian org create`` — a new organisation's files in a network directory
(``node.bootstrap.create_org``); it becomes a member once the consortium approves
``consortium propose add-org``."""

from __future__ import annotations

from pathlib import Path

import typer

from yulian.cli.common import NETWORK_OPT, fail, network_dir, print_json

org_app = typer.Typer(help="Add an organisation to a network directory", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")


@org_app.command("create")
def org_create(
    name: str,
    network: Path | None = NETWORK_OPT,
    p2p_port: int = typer.Option(..., "--p2p-port", help="p2p port of the first new node"),
    api_port: int = typer.Option(..., "--api-port", help="API port of the first new node"),
    nodes: int = typer.Option(1, "--nodes", help="nodes of the organisation"),
    clients: int = typer.Option(1, "--clients", help="client identities"),
    days: int = typer.Option(365, "--days", help="validity of the member certificates"),
) -> None:
    """Add organisation NAME's CA, admin, clients and nodes to a network directory."""
    from yulian.node.bootstrap import create_org
    from yulian.node.config import ConfigError, load_config
    from yulian.pki.files import PkiError

    try:
        new = create_org(
            network_dir(network),
            name,
            nodes=nodes,
            clients=clients,
            p2p_port=p2p_port,
            api_port=api_port,
            validity_days=days,
        )
        configs = [(node, load_config(node.config)) for node in new.nodes]
    except (PkiError, ConfigError) as e:
        fail(str(e))
    print_json(
        {
            "org": new.org.name,
            "ca_cert": str(new.org.ca_cert),
            "admin": str(new.org.admin.cert),
            "clients": [str(c.cert) for c in new.org.clients],
            "nodes": [
                {
                    "name": node.name,
                    "config": str(node.config),
                    "cert": str(node.credential.cert),
                    "p2p": cfg.p2p_address,
                    "api": cfg.api_url,
                }
                for node, cfg in configs
            ],
        }
    )
