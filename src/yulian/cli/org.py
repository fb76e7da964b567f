"""Introduction: ``yulian org init / export / create`` — an organisation's own files.

``org init`` and ``org export`` are an organisation's first two steps of the genesis ceremony on
its own machine (``node.ceremony``; then ``yulian genesis assemble`` by one party and ``yulian
genesis accept`` by every organisation). ``org create`` adds a new organisation's files to an
existing network directory on one machine (``node.bootstrap.create_org``); it becomes a member
once the consortium approves ``consortium propose add-org``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from yulian.cli.common import NETWORK_OPT, fail, network_dir, print_json, say

org_app = typer.Typer(help="An organisation's identities and nodes", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")


@org_app.command("init")
def org_init(
    name: str,
    directory: Path = typer.Option(
        ..., "--dir", help="the organisation's directory (missing or empty)"
    ),
    nodes: int = typer.Option(1, "--nodes", help="nodes of the organisation"),
    clients: int = typer.Option(1, "--clients", help="client identities"),
    suite: str = typer.Option("standard", "--suite", help="crypto suite: standard or gm"),
    host: list[str] = typer.Option(
        ["127.0.0.1"],
        "--host",
        help="address or DNS name other organisations dial (once for every node, or once per "
        "node); named in the node certificates",
    ),
    listen: str | None = typer.Option(
        None,
        "--listen",
        help="address the nodes listen on for peers [default: --host if it is an IP address, "
        "else 0.0.0.0]",
        show_default=False,
    ),
    p2p_port: int = typer.Option(9600, "--p2p-port", help="p2p port of the first node"),
    api_port: int = typer.Option(8600, "--api-port", help="API port of the first node"),
    api_host: str = typer.Option("127.0.0.1", "--api-host", help="address the API listens on"),
    peer: list[str] = typer.Option(
        [], "--peer", help="HOST:PORT a node dials besides the genesis validators (repeatable)"
    ),
    days: int = typer.Option(365, "--days", help="validity of the member certificates"),
) -> None:
    """Create organisation NAME's CA, admin, clients, node keys and node configs in --dir,
    on the organisation's own machine. No key ever leaves that directory; next: `yulian org
    export`."""
    from yulian.node.bootstrap import init_org_directory, plan_nodes
    from yulian.pki.files import PkiError

    try:
        plans = plan_nodes(
            name,
            nodes,
            hosts=host,
            listen=listen,
            p2p_port=p2p_port,
            api_port=api_port,
            api_host=api_host,
            peers=peer,
        )
        new = init_org_directory(
            directory, name, nodes=plans, clients=clients, suite_name=suite, validity_days=days
        )
    except PkiError as e:
        fail(str(e))
    say(f"organisation {name} initialised in {directory}")
    for plan, node in zip(plans, new.nodes, strict=True):
        say(
            f"  node {node.name}: listens on {plan.p2p_host}:{plan.p2p_port}, reached at "
            f"{plan.address}, API {plan.api_host}:{plan.api_port}"
        )
    say(f"next: yulian org export --network {directory} --out {name}.json")


@org_app.command("export")
def org_export(
    network: Path | None = NETWORK_OPT,
    org: str | None = typer.Option(
        None, "--org", help="the organisation [default: the only one in the directory]"
    ),
    out: Path | None = typer.Option(
        None, "--out", help="write the export here too (send this file to the assembler)"
    ),
    power: int = typer.Option(1, "--power", help="voting power asked for each validator"),
    full_node: list[str] = typer.Option(
        [], "--full-node", help="a node that syncs and verifies but does not vote (repeatable)"
    ),
) -> None:
    """Write the organisation's public material for the genesis: its CA certificate and, per
    validator node, the node certificate, advertised address and power. No private key is
    read. Kept as DIR/orgs/<org>/export.json, which `genesis accept` checks against."""
    from yulian.node.ceremony import EXPORT_RECORD, export_org
    from yulian.pki.files import PkiError, write_public

    root = network_dir(network)
    try:
        export = export_org(root, org, power=power, full_nodes=full_node)
        if out is not None:
            if out.exists():
                out.unlink()
            write_public(out, export.to_json().encode())
    except (PkiError, OSError) as e:
        fail(str(e))
    print_json(
        {
            "org": export.org,
            "suite": export.suite,
            "record": str(root / "orgs" / export.org / EXPORT_RECORD),
            "out": None if out is None else str(out),
            "validators": [
                {"name": v.name, "address": v.address, "power": v.power} for v in export.validators
            ],
        }
    )


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
