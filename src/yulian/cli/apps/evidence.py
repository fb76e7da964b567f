"""Introduction: ``yulian evidence`` — 存证: deploy the evidence contract, register a file's
digest, verify a file against its certificate offline, look a record up
(``yulian.apps.evidence``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer

from yulian.cli.apps.common import (
    Deployed,
    Deployment,
    Session,
    chain_genesis,
    chain_suite,
    deploy_command,
    reading,
    signed,
    verified,
)
from yulian.cli.common import (
    EXIT_REFUSED,
    GENESIS_OPT,
    NETWORK_OPT,
    call,
    fail,
    load_json,
    print_json,
    say,
)

evidence_app = typer.Typer(help="存证: register and verify documents", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


def _deployment() -> Deployment:
    from yulian.apps.evidence import CONTRACT_NAME, EVIDENCE_VERSION, contract_source

    return Deployment(
        "evidence", EVIDENCE_VERSION, {CONTRACT_NAME: lambda _g, _f: contract_source()}
    )


@deploy_command(evidence_app, _deployment, roles=None)
def evidence_deploy(deploy: Callable[[], Deployed]) -> None:
    """Deploy the evidence contract through the lifecycle: the first member organisation's
    admin proposes it and the other members' admins (all in the local NETWORK directory)
    approve until the policy is met. In a real consortium each admin runs `yulian contract
    approve` instead."""
    print_json(deploy().status)


@signed(evidence_app, "register", answers_json=False)
def evidence_register(
    session: Session,
    file: Path,
    title: str = typer.Option(None, "--title", help="default: the file name"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="certificate file (default FILE.evidence.json)"
    ),
) -> None:
    """Register FILE's digest on chain and write its evidence certificate."""
    from yulian.apps.evidence import CONTRACT_NAME, file_digest, make_certificate

    if not file.is_file():
        fail(f"{file} is not a file")
    digest = file_digest(file, chain_suite(session.network))
    client = session.client()
    result = call(
        lambda: client.submit(
            CONTRACT_NAME, "register", [digest, title or file.name, {"file_name": file.name}]
        )
    )
    receipt = result.get("receipt") or {}
    if result.get("status") != "committed" or receipt.get("status") != "ok":
        reason = receipt.get("message") or result.get("status")
        fail(f"registration of tx {result.get('id')} refused: {reason}", EXIT_REFUSED)
    doc = call(lambda: client.export_receipt(result["id"]))
    certificate = make_certificate(doc, file.name, digest)
    target = out or file.with_name(file.name + ".evidence.json")
    target.write_text(
        json.dumps(certificate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    say(
        f"registered {file.name} (digest {digest}) in tx {result['id']} at height "
        f"{result['height']}; certificate {target}"
    )


@evidence_app.command("verify")
def evidence_verify(
    file: Path,
    certificate: Path,
    genesis: Path | None = GENESIS_OPT,
    network: Path | None = NETWORK_OPT,
) -> None:
    """Check offline that FILE is the document CERTIFICATE proves was registered."""
    from yulian.apps.evidence import verify_certificate

    g = chain_genesis(genesis, network)
    try:
        summary = verified(lambda: verify_certificate(file, load_json(certificate), g))
    except OSError as e:
        fail(f"cannot read {file}: {e}")
    say(
        f": {file.name} was registered by {summary['signer']['org']}/"
        f"{summary['signer']['name']} at height {summary['height']} "
        f"(block time {summary['block_time_ms']} ms)",
        lead="verified",
        style="bold green",
    )


@reading(evidence_app, "lookup", answers_json=False)
def evidence_lookup(session: Session, file_or_digest: str) -> None:
    """Show the on-chain record of a file (or a hex digest)."""
    from yulian.apps.evidence import CONTRACT_NAME, file_digest

    path = Path(file_or_digest)
    digest = file_digest(path, chain_suite(session.network)) if path.is_file() else file_or_digest
    client = session.client()
    print_json(call(lambda: client.query(CONTRACT_NAME, "lookup", [digest])))
