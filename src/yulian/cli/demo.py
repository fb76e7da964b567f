"""Introduction: ``yulian demo`` — the evidence demo that the README's ``make run`` runs.

On a network directory (made here, with 4 organisations and one validator each, if it does
not exist yet; otherwise the one the README's walkthrough left behind) it starts every node
that is not running (``node.network.start_network``: only this network's own nodes count),
deploys the ``evidence`` contract through the lifecycle (the members' admins propose and
approve), registers a document through the SDK, exports and verifies its certificate
offline, shows the refusals the contract enforces, transfers ownership, prints the API and
docs URLs, and keeps the network running until Ctrl-C.

It watches and reaps the node processes it started: one that dies is reported at once (and
``network status`` sees it down); at the end it stops exactly those, and leaves running the
ones that were running before. It picks identities the chain still accepts — a revoked or
expired client is skipped, and when an organisation has none left its CA issues one — and
says precisely what to do when it cannot go on, never with a traceback.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import NETWORK_OPT, network_dir, say, tell

DEMO_ORGS = 4
EXIT_DEMO_FAILED = 1
EXIT_START_FAILED = 2
WATCH_INTERVAL_S = 0.2


class DemoError(RuntimeError):
    """The demo cannot go on; the message says what to do."""


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    story: str | None = typer.Argument(
        None, help="emr, datashare or datashare-fund: that privacy story, not the evidence demo"
    ),
    network: Path | None = NETWORK_OPT,
    exit_after: bool = typer.Option(False, "--exit", help="stop the nodes after the demo"),
    api_port: int = typer.Option(8600, "--api-port", help="a new network's first API port"),
    p2p_port: int = typer.Option(0, "--p2p-port", help="default: the API port + 1000"),
) -> None:
    """Start a 4-organisation consortium (made once), run the evidence demo, keep it up.

    Prints every node's API and docs URL; Ctrl-C stops the nodes it started."""
    from yulian.apps.privacy_stories import PRIVACY_STORIES

    if story is not None and story not in PRIVACY_STORIES:
        tell(f"no story {story!r}; the stories are: {', '.join(PRIVACY_STORIES)}", lead="error: ")
        raise typer.Exit(EXIT_DEMO_FAILED)
    raise typer.Exit(
        run_demo(
            network_dir(network),
            exit_after=exit_after,
            api_port=api_port,
            p2p_port=p2p_port,
            story=story,
        )
    )


def run_demo(
    network: Path,
    *,
    exit_after: bool,
    api_port: int = 8600,
    p2p_port: int = 0,
    orgs: int = DEMO_ORGS,
    story: str | None = None,
) -> int:
    import httpx

    from yulian.apps.deploy import DeployError
    from yulian.apps.privacy_stories import PrivacyStoryError
    from yulian.node.config import ConfigError
    from yulian.node.network import network_down, start_network
    from yulian.node.process import NodeProcessError
    from yulian.pki.files import PkiError
    from yulian.sdk import ApiError
    from yulian.sdk.governance import GovernanceError

    try:
        _create_if_missing(network, orgs, api_port, p2p_port or api_port + 1000)
        started = start_network(network, progress=lambda m: say(f"  {m}"))
    except (PkiError, ConfigError, NodeProcessError, OSError) as e:
        tell(str(e), lead="error: ", style="bold red")
        return EXIT_START_FAILED
    try:
        _show(network, started, story)
        if exit_after:
            return 0
        say("network running; press Ctrl-C to stop it")
        _watch(network, started)
        return 0
    except (
        DemoError,
        DeployError,
        PrivacyStoryError,
        ApiError,
        GovernanceError,
        PkiError,
        httpx.HTTPError,
    ) as e:
        tell(str(e), lead="the demo stopped: ", style="bold red")
        return EXIT_DEMO_FAILED
    finally:
        network_down(network, progress=lambda m: say(f"  {m}"), only=started.started.keys())
        for proc in started.started.values():
            proc.poll()  # reaped, whatever happened
        others = [n for n in _node_names(network) if n not in started.started]
        if others and _any_running(network, others):
            say(f"left running (they were running before the demo): {', '.join(others)}")


def _create_if_missing(network: Path, orgs: int, api_port: int, p2p_port: int) -> None:
    from yulian.node.bootstrap import init_network

    if (network / "genesis.json").exists():
        return
    init_network(
        network, orgs=orgs, validators=orgs, base_api_port=api_port, base_p2p_port=p2p_port
    )
    say(
        f" a {orgs}-organisation consortium in {network} ({orgs} validators, one per organisation)",
        lead="created",
    )


def _show(network: Path, started: Any, story: str | None = None) -> None:
    from yulian.apps.deploy import deploy_with_local_admins
    from yulian.apps.evidence import CONTRACT_NAME, EVIDENCE_VERSION, contract_source
    from yulian.apps.privacy_stories import PRIVACY_STORIES
    from yulian.pki.layout import load_layout

    layout = load_layout(network)
    doors = _validator_urls(layout, started.urls)
    if story is not None:
        PRIVACY_STORIES[story](network, doors, say)
    else:
        deploy_with_local_admins(
            network, doors, CONTRACT_NAME, EVIDENCE_VERSION, contract_source(), log=say
        )
        run_evidence_story(network, doors)
    say("")
    for node, url in zip(layout.nodes, started.urls, strict=True):
        say(f"  API {url}/v1/health   docs {url}/docs", lead=node.name)
    say(f"  {layout.genesis}   logs {network / 'logs'}", lead="genesis")


def _validator_urls(layout: Any, urls: list[str]) -> list[str]:
    """The URLs of the nodes that are validators now (an added organisation's node that is not
    one yet may still be syncing), in directory order."""
    from yulian.node.process import fetch_health

    health = fetch_health(urls[0]) or {}
    names = health.get("validators")
    if not isinstance(names, list):
        return urls
    doors = [u for n, u in zip(layout.nodes, urls, strict=True) if n.name in names]
    return doors or urls


def _watch(network: Path, started: Any) -> None:
    """Until SIGINT/SIGTERM: reap every node this demo started that exits, and say so."""
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    reported: set[str] = set()
    while not stop:
        for name, proc in started.started.items():
            if name not in reported and proc.poll() is not None:
                reported.add(name)
                _report_exit(network, name, proc)
        time.sleep(WATCH_INTERVAL_S)


def _report_exit(network: Path, name: str, proc: subprocess.Popen[bytes]) -> None:
    from yulian.node.network import log_path, pid_path
    from yulian.pki.layout import load_layout

    layout = load_layout(network)
    pid_path(layout, name).unlink(missing_ok=True)
    code = proc.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tell(
        f" (pid {proc.pid}) {how}; log {log_path(layout, name)}. The other nodes keep running; "
        f"start it again with `yulian network up --network {network}`",
        lead=name,
        style="bold red",
    )


def _node_names(network: Path) -> list[str]:
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_layout

    try:
        return [n.name for n in load_layout(network).nodes]
    except PkiError:
        return []


def _any_running(network: Path, names: list[str]) -> bool:
    from yulian.node.network import node_pid
    from yulian.pki.layout import load_layout

    layout = load_layout(network)
    return any(node_pid(layout, n) is not None for n in names)


# --- the story ------------------------------------------------------------------------------


def run_evidence_story(network: Path, urls: list[str]) -> None:
    """Two member organisations' clients, at two different nodes: one chain, many doors."""
    from yulian.apps.evidence import (
        CONTRACT_NAME,
        file_digest,
        make_certificate,
        verify_certificate,
    )
    from yulian.crypto.suite import get_suite
    from yulian.pki.layout import load_genesis
    from yulian.sdk import Client
    from yulian.sdk.governance import consortium_config

    genesis = load_genesis(network)
    with Client(urls[0]) as reader:
        config = consortium_config(reader)
    orgs = [o for o in config["organisations"] if (network / "orgs" / o).is_dir()]
    if len(orgs) < 2:
        raise DemoError(f"the story needs two member organisations in {network}; found {orgs}")
    revoked = {r["cert_id"] for r in config["revocations"]}
    first, second = (usable_client(network, o, revoked) for o in orgs[:2])
    org1 = Client(urls[0], first)
    org2 = Client(urls[-1], second)
    a, b = f"{first.org}/{first.name}", f"{second.org}/{second.name}"
    document = network / "demo" / f"contract-{time.time_ns()}.txt"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(
        f"渝链 evidence demo: a supply contract between {first.org} and {second.org}, drafted at "
        f"{time.ctime()}\n",
        encoding="utf-8",
    )
    digest = file_digest(document, get_suite(genesis.suite))

    result = org1.submit(CONTRACT_NAME, "register", [digest, document.name, {"kind": "contract"}])
    receipt = result["receipt"]
    say(
        f"1. {a} registered {document.name}: tx {result['id']} at height {result['height']}, "
        f"status {receipt['status']}"
    )
    certificate = make_certificate(org1.export_receipt(result["id"]), document.name, digest)
    cert_path = document.with_name(document.name + ".evidence.json")
    cert_path.write_text(
        json.dumps(certificate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    summary = verify_certificate(document, certificate, genesis)
    say(
        f"2. certificate {cert_path} verified offline: signed by "
        f"{summary['signer']['org']}, certified by {summary['commit_signers']}"
    )
    again = org2.submit(CONTRACT_NAME, "register", [digest, "copy", {}])["receipt"]
    say(f"3. {b} registering the same digest: {again['status']} ({again['message']})")
    steal = org2.submit(CONTRACT_NAME, "transfer", [digest, second.org])["receipt"]
    say(f"4. {b} transferring {first.org}'s record: {steal['status']} ({steal['message']})")
    moved = org1.submit(CONTRACT_NAME, "transfer", [digest, second.org])["receipt"]
    say(f"5. {a} transfers it to {second.org}: {moved['status']}")
    record = org1.query(CONTRACT_NAME, "lookup", [digest])
    say(
        f"6. lookup: owner {record['owner_org']}, registered by "
        f"{record['registrant_org']} at height {record['height']}"
    )
    unknown = org1.submit(CONTRACT_NAME, "nonexistent", [])["receipt"]
    say(f"7. an unknown method gets a failure receipt: {unknown['status']}")
    org1.close()
    org2.close()


def usable_client(network: Path, org: str, revoked_ids: set[str]) -> Any:
    """The first client of ``org`` the chain still accepts (not revoked, not expired); if
    there is none, one more issued by the organisation's CA, when its key is here."""
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_org
    from yulian.pki.members import issue_cert
    from yulian.sdk import Wallet

    skipped = []
    clients = load_org(network, org).clients
    for cred in clients:
        wallet = Wallet.from_network(network, org, cred.name)
        problem = _unusable(wallet, revoked_ids)
        if problem is None:
            return wallet
        skipped.append(f"{cred.name} ({problem})")
    taken = {c.name for c in clients}
    name = next(f"client{k}" for k in range(1, len(taken) + 2) if f"client{k}" not in taken)
    try:
        issue_cert(network, org, "client", name)
    except PkiError as e:
        raise DemoError(
            f"{org} has no client the chain accepts ({', '.join(skipped) or 'none'}) and its CA "
            f"cannot issue one here: {e}. Issue one where the CA key is: `yulian ca issue "
            f"--org {org} --role client --name {name} --network {network}`, then run again"
        ) from None
    say(f"   {org}: {', '.join(skipped)}; its CA issued {org}/{name} for the demo")
    return Wallet.from_network(network, org, name)


def _unusable(wallet: Any, revoked_ids: set[str]) -> str | None:
    from yulian.crypto.x509 import parse_certificate

    if wallet.id in revoked_ids:
        return "revoked"
    not_after = parse_certificate(wallet.cert).not_after_ms
    if not_after <= datetime.now(UTC).timestamp() * 1000:
        return "expired"
    return None
