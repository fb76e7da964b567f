"""Introduction: ``yulian network init / up / down / status`` — a local consortium's directory
and processes (``node.bootstrap``, ``node.network``). ``up / down / status`` work on an
organisation's own directory too (``yulian org init``): its nodes only."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from yulian.cli.common import (
    NETWORK_OPT,
    console,
    expiry_warnings,
    fail,
    network_dir,
    say,
    tell,
)

network_app = typer.Typer(help="Create and run a local consortium network", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")


@network_app.command("init")
def network_init(
    network: Path | None = NETWORK_OPT,
    orgs: int = typer.Option(2, "--orgs", help="number of organisations"),
    validators: int = typer.Option(
        0, "--validators", help="number of validators (default: one per organisation)"
    ),
    clients: int = typer.Option(1, "--clients", help="client identities per organisation"),
    chain_id: str = typer.Option("yulian-local", "--chain-id"),
    suite: str = typer.Option("standard", "--suite", help="crypto suite: standard or gm"),
    api_port: int = typer.Option(8600, "--api-port", help="API port of the first node"),
    p2p_port: int = typer.Option(9600, "--p2p-port", help="p2p port of the first node"),
    block_interval_ms: int = typer.Option(200, "--block-interval-ms"),
    full_node_org: list[str] = typer.Option(
        [],
        "--full-node-org",
        help="one more organisation (a regulator) whose one node syncs and verifies every "
        "block but does not vote (repeatable)",
    ),
) -> None:
    """Create CA material, keys, certificates, the genesis and node configs (the directory
    must be missing or empty): the genesis ceremony of every organisation, on this
    machine."""
    from yulian.node.bootstrap import init_network
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_genesis
    from yulian.types.genesis import ChainParams

    try:
        layout = init_network(
            network_dir(network),
            orgs=orgs,
            validators=validators or orgs,
            clients_per_org=clients,
            chain_id=chain_id,
            suite_name=suite,
            base_api_port=api_port,
            base_p2p_port=p2p_port,
            params=ChainParams(block_interval_ms=block_interval_ms),
            full_node_orgs=full_node_org,
        )
    except (PkiError, ValueError) as e:
        fail(str(e))
    say(f"created network {chain_id} in {layout.root}")
    for org in layout.orgs:
        say(f"  {org.name}: CA {org.ca_cert}, admin, {len(org.clients)} client(s)")
    voters = {v.name for v in load_genesis(layout.root).validators}
    for node in layout.nodes:
        role = "validator" if node.name in voters else "full node"
        say(f"  node {node.name} ({node.org}, {role}): config {node.config}")


@network_app.command("up")
def network_up_cmd(network: Path | None = NETWORK_OPT) -> None:
    """Start every node of the network in the background; succeed only when each one is
    running and answering as itself (this chain, this node)."""
    from yulian.node.config import ConfigError
    from yulian.node.network import network_up
    from yulian.node.process import NodeProcessError
    from yulian.pki.files import PkiError

    root = network_dir(network)
    try:
        urls = network_up(root, progress=lambda m: say(f"  {m}"))
    except (PkiError, ConfigError, NodeProcessError, OSError) as e:
        fail(str(e))
    say(f": {len(urls)} node(s) of {root}", lead="network up", style="bold green")
    for url in urls:
        say(f"  API {url}/v1/health   docs {url}/docs")


@network_app.command("down")
def network_down_cmd(network: Path | None = NETWORK_OPT) -> None:
    """Stop every node process of the network (SIGTERM, then SIGKILL after 15 s)."""
    from yulian.node.network import network_down
    from yulian.pki.files import PkiError

    try:
        stopped = network_down(network_dir(network), progress=lambda m: say(f"  {m}"))
    except (PkiError, OSError) as e:
        fail(str(e))
    say(f"network down ({stopped} node process(es) stopped)")


@network_app.command("status")
def network_status_cmd(network: Path | None = NETWORK_OPT) -> None:
    """Per node: up / starting / down (and why), role (validator or full node, by the
    validator set the node serves), height, round, peers, last block, mempool. Exits 1 unless
    every node is up."""
    from rich.table import Table
    from rich.text import Text

    from yulian.node.config import ConfigError
    from yulian.node.network import network_status
    from yulian.pki.files import PkiError

    root = network_dir(network)
    try:
        statuses = network_status(root)
    except (PkiError, ConfigError, OSError) as e:
        fail(str(e))
    table = Table(title=f"network {root}")
    columns = ("node", "state", "role", "height", "round", "peers", "last block", "mempool", "API")
    for column in columns:
        table.add_column(column, overflow="fold")
    now_ms = time.time() * 1000
    colour = {"up": "green", "starting": "yellow", "down": "red"}
    cell = Text  # cells are text, never markup
    for st in statuses:
        h = st.health or {}
        last = h.get("last_block_time_ms")
        age = f"{(now_ms - last) / 1000:.1f} s ago" if isinstance(last, int) else "-"
        peers = h.get("peers")
        validators = h.get("validators")
        role = "-"
        if isinstance(validators, list):
            role = "validator" if st.name in validators else "full node"
        table.add_row(
            cell(st.name),
            cell(st.state, style=colour[st.state]),
            cell(role),
            cell(str(h.get("height", "-"))),
            cell(str(h.get("round", "-"))),
            cell(str(len(peers)) if isinstance(peers, list) else "-"),
            cell(age),
            cell(str(h.get("mempool", "-"))),
            cell(st.url),
        )
    console.print(table)
    for st in statuses:
        if st.state != "up":
            why = f": {st.problem}" if st.problem else ""
            tell(f"{st.name} is {st.state}{why}", style="")
    try:
        for line in expiry_warnings(root):
            tell(line, style="yellow")
    except PkiError as e:
        tell(f"cannot check certificate expiry: {e}", lead="warning: ", style="yellow")
    if not all(st.state == "up" for st in statuses):
        raise typer.Exit(1)
