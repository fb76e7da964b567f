"""Introduction: the ``yulian`` command (typer + rich).

Every sub-command is a thin layer over the library: ``network init`` over ``node.bootstrap``,
``node start`` over ``node.node``, ``tx``/``query``/``receipt`` over the SDK ``Client``,
``verify`` and ``evidence verify`` over the offline verifier. Failures print one clear line to
stderr and exit non-zero.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from yulian import __version__
from yulian.bench.command import typer_command as bench_command

app = typer.Typer(
    help="Yulian (渝链) consortium blockchain",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Create and run a local consortium network", no_args_is_help=True)
node_app = typer.Typer(help="Run one node", no_args_is_help=True)
tx_app = typer.Typer(help="Send transactions", no_args_is_help=True)
receipt_app = typer.Typer(help="Export receipts with their proofs", no_args_is_help=True)
evidence_app = typer.Typer(help="存证: register and verify documents", no_args_is_help=True)
app.add_typer(network_app, name="network")
app.add_typer(node_app, name="node")
app.add_typer(tx_app, name="tx")
app.add_typer(receipt_app, name="receipt")
app.add_typer(evidence_app, name="evidence")

console = Console()
err = Console(stderr=True)

DEFAULT_URL = "http://127.0.0.1:8600"
NETWORK_OPT = typer.Option(
    Path(".yulian/network"),
    "--network",
    "-n",
    help="network directory made by `yulian network init`",
)
URL_OPT = typer.Option(DEFAULT_URL, "--url", help="API URL of a node")
ORG_OPT = typer.Option("org1", "--org", help="organisation of the signing identity")
USER_OPT = typer.Option(
    "client1", "--user", help="identity in the organisation: client<k> or admin"
)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False))


def parse_args_json(text: str) -> list[Any]:
    from yulian.types.jsonvalue import from_json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(f"ARGS must be a JSON array: {e}") from None
    if not isinstance(value, list):
        raise fail("ARGS must be a JSON array, e.g. '[\"a\", 1]'")
    try:
        result: list[Any] = from_json(value)
    except ValueError as e:
        raise fail(str(e)) from None
    return result


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"yulian {__version__}")


# --- network ------------------------------------------------------------------------------
@network_app.command("init")
def network_init(
    dir: Path = typer.Option(..., "--dir", "-d", help="directory to create (must be empty)"),
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
) -> None:
    """Create CA material, keys, certificates, the genesis and node configs."""
    from yulian.node.bootstrap import BootstrapError, init_network
    from yulian.types.genesis import ChainParams

    try:
        layout = init_network(
            dir,
            orgs=orgs,
            validators=validators or orgs,
            clients_per_org=clients,
            chain_id=chain_id,
            suite_name=suite,
            base_api_port=api_port,
            base_p2p_port=p2p_port,
            params=ChainParams(block_interval_ms=block_interval_ms),
        )
    except (BootstrapError, ValueError) as e:
        raise fail(str(e)) from None
    console.print(f"created network [bold]{chain_id}[/] in {layout.root}")
    for org in layout.orgs:
        console.print(f"  {org.name}: CA {org.ca_cert}, admin, {len(org.clients)} client(s)")
    for node in layout.nodes:
        console.print(f"  node {node.name} ({node.org}): config {node.config}")


@network_app.command("up")
def network_up_cmd(
    dir: Path = typer.Option(Path(".yulian/network"), "--dir", "-d", help="network directory"),
) -> None:
    """Start every node of the network in the background and wait until each is healthy."""
    from yulian.node.bootstrap import BootstrapError
    from yulian.node.network import network_up
    from yulian.node.process import NodeProcessError

    try:
        with console.status("starting nodes…"):
            urls = network_up(dir, progress=lambda m: console.print(f"  {m}"))
    except (BootstrapError, NodeProcessError, OSError) as e:
        raise fail(str(e)) from None
    console.print("[bold green]network up[/]")
    for url in urls:
        console.print(f"  API {url}/v1/health   docs {url}/docs")


@network_app.command("down")
def network_down_cmd(
    dir: Path = typer.Option(Path(".yulian/network"), "--dir", "-d", help="network directory"),
) -> None:
    """Stop every node of the network (SIGTERM, then SIGKILL after 15 s)."""
    from yulian.node.bootstrap import BootstrapError
    from yulian.node.network import network_down

    try:
        network_down(dir, progress=lambda m: console.print(f"  {m}"))
    except (BootstrapError, OSError) as e:
        raise fail(str(e)) from None
    console.print("network down")


def _state(healthy: bool, running: bool) -> str:
    if healthy:
        return "[green]up[/]"
    return "[yellow]starting[/]" if running else "[red]down[/]"


@network_app.command("status")
def network_status_cmd(
    dir: Path = typer.Option(Path(".yulian/network"), "--dir", "-d", help="network directory"),
) -> None:
    """Per node: height, round, peers, last block time, mempool."""
    import time as _time

    from rich.table import Table

    from yulian.node.bootstrap import BootstrapError
    from yulian.node.network import network_status

    try:
        statuses = network_status(dir)
    except (BootstrapError, OSError) as e:
        raise fail(str(e)) from None
    table = Table(title=f"network {dir}")
    for column in ("node", "state", "height", "round", "peers", "last block", "mempool", "API"):
        table.add_column(column)
    now = _time.time() * 1000
    for st in statuses:
        h = st.health or {}
        last = h.get("last_block_time_ms")
        age = f"{(now - float(last)) / 1000:.1f} s ago" if isinstance(last, int) else "-"
        peers = h.get("peers")
        table.add_row(
            st.name,
            "[green]up[/]"
            if st.health
            else ("[yellow]starting[/]" if st.running else "[red]down[/]"),
            str(h.get("height", "-")),
            str(h.get("round", "-")),
            str(len(peers)) if isinstance(peers, list) else "-",
            age,
            str(h.get("mempool", "-")),
            st.url,
        )
    console.print(table)
    from yulian.cli.governance import expiry_warnings
    from yulian.node.orgs import OrgError

    try:
        for line in expiry_warnings(dir):
            err.print(f"[yellow]{line}[/]", highlight=False, soft_wrap=True)
    except OrgError as e:
        err.print(f"[yellow]warning: cannot check certificate expiry: {e}[/]", highlight=False)
    if not all(st.health for st in statuses):
        raise typer.Exit(1)


# --- node ---------------------------------------------------------------------------------
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
        raise fail(str(e), 2) from None
    except OSError as e:
        raise fail(f"cannot start node: {e}", 2) from None


# --- transactions and queries -------------------------------------------------------------
def _client(url: str, network: Path | None = None, org: str = "org1", user: str = "client1") -> Any:
    from yulian.sdk import Client, Wallet

    wallet = None
    if network is not None:
        try:
            wallet = Wallet.from_network(network, org, user)
        except (OSError, KeyError, ValueError) as e:
            raise fail(f"cannot load identity {org}/{user} from {network}: {e}") from None
    return Client(url, wallet)


def _call(fn: Any) -> Any:
    import httpx

    from yulian.sdk import ApiError

    try:
        return fn()
    except ApiError as e:
        raise fail(str(e)) from None
    except httpx.HTTPError as e:
        raise fail(f"cannot reach the node: {e}") from None


@tx_app.command("send")
def tx_send(
    contract: str,
    method: str,
    args: str = typer.Argument("[]", help="JSON array of arguments"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
    wait: bool = typer.Option(True, "--wait/--no-wait"),
) -> None:
    """Sign and submit CONTRACT.METHOD(*ARGS); print the receipt."""
    client = _client(url, network, org, user)
    result = _call(lambda: client.submit(contract, method, parse_args_json(args), wait=wait))
    print_json(result)
    receipt = result.get("receipt")
    if receipt is not None and receipt["status"] != "ok":
        raise typer.Exit(3)


@app.command()
def query(
    contract: str,
    method: str,
    args: str = typer.Argument("[]", help="JSON array of arguments"),
    url: str = URL_OPT,
) -> None:
    """Read-only call of CONTRACT.METHOD(*ARGS) on the committed state."""
    client = _client(url)
    print_json(_call(lambda: client.query(contract, method, parse_args_json(args))))


@receipt_app.command("export")
def receipt_export(
    tx_id: str,
    url: str = URL_OPT,
    out: Path | None = typer.Option(None, "--out", "-o", help="file to write (default stdout)"),
) -> None:
    """Write the receipt of TX_ID with its proof, for offline `yulian verify`."""
    client = _client(url)
    doc = _call(lambda: client.export_receipt(tx_id))
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def _load_genesis(path: Path) -> Any:
    from yulian.types.genesis import Genesis, GenesisError

    try:
        return Genesis.load(path)
    except (OSError, GenesisError) as e:
        raise fail(f"cannot load genesis {path}: {e}") from None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"cannot read {path}: {e}") from None


@app.command()
def verify(
    receipt: Path,
    genesis: Path = typer.Option(Path(".yulian/network/genesis.json"), "--genesis", "-g"),
) -> None:
    """Verify an exported receipt offline: signature, certificate, proofs, commit certificate."""
    from yulian.sdk.verify import VerificationError, verify_receipt

    g = _load_genesis(genesis)
    try:
        verified = verify_receipt(_load_json(receipt), g)
    except VerificationError as e:
        raise fail(f"verification failed: {e}", 4) from None
    s = verified.summary
    console.print(
        f"[bold green]verified[/]: tx {s['tx_id']} ({s['contract']}.{s['method']}) "
        f"committed at height {s['height']}, status {s['status']}, signed by "
        f"{s['signer']['org']}/{s['signer']['name']}, certified by "
        f"{', '.join(s['commit_signers'])}"
    )


# --- evidence -----------------------------------------------------------------------------
@evidence_app.command("deploy")
def evidence_deploy(
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
) -> None:
    """Deploy the evidence contract through the lifecycle: org1's admin proposes it and the
    other organisations' admins (all in the local NETWORK directory) approve until the policy
    is met. In a real consortium each admin runs `yulian contract approve` instead."""
    from yulian.apps.deploy import DeployError, deploy_with_local_admins
    from yulian.apps.evidence import CONTRACT_NAME, EVIDENCE_VERSION, contract_source

    try:
        status = _call(
            lambda: deploy_with_local_admins(
                network,
                [url],
                CONTRACT_NAME,
                EVIDENCE_VERSION,
                contract_source(),
                log=lambda m: console.print(m),
            )
        )
    except (DeployError, OSError, KeyError, ValueError) as e:
        raise fail(str(e)) from None
    print_json(status)


@evidence_app.command("register")
def evidence_register(
    file: Path,
    title: str = typer.Option(None, "--title", help="default: the file name"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="certificate file (default FILE.evidence.json)"
    ),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Register FILE's digest on chain and write its evidence certificate."""
    from yulian.apps.evidence import CONTRACT_NAME, file_digest, make_certificate
    from yulian.crypto.suite import get_suite

    if not file.is_file():
        raise fail(f"{file} is not a file")
    genesis = _load_genesis(network / "genesis.json")
    digest = file_digest(file, get_suite(genesis.suite))
    client = _client(url, network, org, user)
    result = _call(
        lambda: client.submit(
            CONTRACT_NAME, "register", [digest, title or file.name, {"file_name": file.name}]
        )
    )
    receipt = result.get("receipt") or {}
    if result.get("status") != "committed" or receipt.get("status") != "ok":
        raise fail(f"registration refused: {receipt.get('message') or result.get('status')}", 3)
    doc = _call(lambda: client.export_receipt(result["id"]))
    certificate = make_certificate(doc, file.name, digest)
    target = out or file.with_name(file.name + ".evidence.json")
    target.write_text(
        json.dumps(certificate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    console.print(
        f"registered {file.name} (digest {digest}) at height {result['height']}; "
        f"certificate {target}"
    )


@evidence_app.command("verify")
def evidence_verify(
    file: Path,
    certificate: Path,
    genesis: Path = typer.Option(Path(".yulian/network/genesis.json"), "--genesis", "-g"),
) -> None:
    """Check offline that FILE is the document CERTIFICATE proves was registered."""
    from yulian.apps.evidence import verify_certificate
    from yulian.sdk.verify import VerificationError

    g = _load_genesis(genesis)
    try:
        summary = verify_certificate(file, _load_json(certificate), g)
    except VerificationError as e:
        raise fail(f"verification failed: {e}", 4) from None
    except OSError as e:
        raise fail(f"cannot read {file}: {e}") from None
    console.print(
        f"[bold green]verified[/]: {file.name} was registered by "
        f"{summary['signer']['org']}/{summary['signer']['name']} at height "
        f"{summary['height']} (block time {summary['block_time_ms']} ms)"
    )


@evidence_app.command("lookup")
def evidence_lookup(
    file_or_digest: str,
    url: str = URL_OPT,
    network: Path = NETWORK_OPT,
) -> None:
    """Show the on-chain record of a file (or a hex digest)."""
    from yulian.apps.evidence import CONTRACT_NAME, file_digest
    from yulian.crypto.suite import get_suite

    path = Path(file_or_digest)
    if path.is_file():
        digest = file_digest(path, get_suite(_load_genesis(network / "genesis.json").suite))
    else:
        digest = file_or_digest
    client = _client(url)
    print_json(_call(lambda: client.query(CONTRACT_NAME, "lookup", [digest])))


# --- the demo (the README's main command) -------------------------------------------------
@app.command()
def demo(
    dir: Path = typer.Option(Path(".yulian/demo"), "--dir", help="network directory"),
    exit_after: bool = typer.Option(False, "--exit", help="stop the node after the demo"),
    api_port: int = typer.Option(8600, "--api-port"),
    p2p_port: int = typer.Option(0, "--p2p-port", help="default: the API port + 1000"),
) -> None:
    """Create a 4-organisation consortium, start it, run the evidence demo, print the URLs."""
    from yulian.cli.demo import run_demo

    raise typer.Exit(
        run_demo(
            dir,
            exit_after=exit_after,
            api_port=api_port,
            p2p_port=p2p_port or None,
            console=console,
        )
    )


# --- yulian bench (BENCHMARK.md; the code and its option table are in yulian.bench) -------
app.command(name="bench")(bench_command())


# --- governance: contract, consortium, org, ca (yulian.cli.governance) ---------------------
# `python -m yulian.cli.main` runs this file as __main__; let governance's import of the shared
# options find this module instead of executing a second copy of it.
sys.modules.setdefault("yulian.cli.main", sys.modules[__name__])
from yulian.cli.governance import ca_app, consortium_app, contract_app, org_app  # noqa: E402

app.add_typer(contract_app, name="contract")
app.add_typer(consortium_app, name="consortium")
app.add_typer(org_app, name="org")
app.add_typer(ca_app, name="ca")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
