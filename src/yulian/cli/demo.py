"""Introduction: the evidence demo that the README's main command runs.

Creates (once) a 4-organisation consortium with one validator per organisation, starts every
node as a background process (``network up``), deploys the ``evidence`` contract through the
lifecycle (org1's admin proposes, the other admins approve), registers a document through the
SDK, exports and verifies its certificate offline, shows the refusals the contract enforces (a
second registration, a transfer by a non-owner), transfers ownership, prints the API and docs
URLs, and keeps the network running until Ctrl-C (then ``network down``).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from rich.console import Console

from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.evidence import (
    CONTRACT_NAME,
    EVIDENCE_VERSION,
    contract_source,
    file_digest,
    make_certificate,
    verify_certificate,
)
from yulian.crypto.suite import get_suite
from yulian.node.bootstrap import init_network
from yulian.node.network import network_down, network_up
from yulian.node.process import NodeProcessError
from yulian.pki.layout import load_layout
from yulian.sdk import Client, Wallet
from yulian.types.genesis import Genesis

DEMO_ORGS = 4


def run_demo(
    dir: Path,
    *,
    exit_after: bool,
    api_port: int,
    console: Console,
    orgs: int = DEMO_ORGS,
    p2p_port: int | None = None,
) -> int:
    network = dir / "network"
    if not (network / "genesis.json").exists():
        init_network(
            network,
            orgs=orgs,
            validators=orgs,
            base_api_port=api_port,
            base_p2p_port=p2p_port or api_port + 1000,
        )
        console.print(
            f"[bold]created[/] a {orgs}-organisation consortium in {network} "
            f"({orgs} validators, one per organisation)"
        )
    layout = load_layout(network)
    genesis = Genesis.load(layout.genesis)
    try:
        try:
            urls = network_up(network, progress=lambda m: console.print(f"  {m}"))
        except NodeProcessError as e:
            console.print(f"[bold red]a node failed to start:[/] {e}")
            return 2
        deploy_with_local_admins(
            network,
            urls,
            CONTRACT_NAME,
            EVIDENCE_VERSION,
            contract_source(),
            log=lambda m: console.print(m),
        )
        run_evidence_story(network, urls, genesis, dir, console)
        console.print()
        for node, url in zip(layout.nodes, urls, strict=True):
            console.print(f"[bold]{node.name}[/]  API {url}/v1/health   docs {url}/docs")
        console.print(f"[bold]genesis[/]  {layout.genesis}   logs {network / 'logs'}")
        if exit_after:
            return 0
        console.print("network running; press Ctrl-C to stop it")
        stop = False

        def on_signal(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stop:
            time.sleep(0.2)
        return 0
    finally:
        network_down(network, progress=lambda m: console.print(f"  {m}"))


def run_evidence_story(
    network: Path, urls: list[str], genesis: Genesis, dir: Path, console: Console
) -> None:
    """org1's client talks to the first node, org2's to the last: one chain, many doors."""
    org1 = Client(urls[0], Wallet.from_network(network, "org1", "client1"))
    org2 = Client(urls[-1], Wallet.from_network(network, "org2", "client1"))
    document = dir / "documents" / f"contract-{time.time_ns()}.txt"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(
        f"渝链 evidence demo: a supply contract between org1 and org2, drafted at {time.ctime()}\n",
        encoding="utf-8",
    )
    digest = file_digest(document, get_suite(genesis.suite))

    result = org1.submit(CONTRACT_NAME, "register", [digest, document.name, {"kind": "contract"}])
    receipt = result["receipt"]
    console.print(
        f"1. org1/client1 registered {document.name}: tx {result['id'][:16]}… at height "
        f"{result['height']}, status {receipt['status']}"
    )
    certificate = make_certificate(org1.export_receipt(result["id"]), document.name, digest)
    cert_path = document.with_name(document.name + ".evidence.json")
    cert_path.write_text(
        json.dumps(certificate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    summary = verify_certificate(document, certificate, genesis)
    console.print(
        f"2. certificate {cert_path.name} verified offline: signed by "
        f"{summary['signer']['org']}, certified by {summary['commit_signers']}"
    )
    again = org2.submit(CONTRACT_NAME, "register", [digest, "copy", {}])["receipt"]
    console.print(f"3. org2 registering the same digest: {again['status']} ({again['message']})")
    steal = org2.submit(CONTRACT_NAME, "transfer", [digest, "org2"])["receipt"]
    console.print(f"4. org2 transferring org1's record: {steal['status']} ({steal['message']})")
    moved = org1.submit(CONTRACT_NAME, "transfer", [digest, "org2"])["receipt"]
    console.print(f"5. org1 transfers it to org2: {moved['status']}")
    record = org1.query(CONTRACT_NAME, "lookup", [digest])
    console.print(
        f"6. lookup: owner {record['owner_org']}, registered by "
        f"{record['registrant_org']} at height {record['height']}"
    )
    unknown = org1.submit(CONTRACT_NAME, "nonexistent", [])["receipt"]
    console.print(f"7. an unknown method gets a failure receipt: {unknown['status']}")
    org1.close()
    org2.close()
