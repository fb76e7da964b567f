"""Introduction: ``yulian contract`` — deploy and upgrade contracts by vote through the
``lifecycle`` system contract (``sdk.governance``), and read what is deployed.

Writes sign as an organisation admin (``--org``, ``--user admin``) and print the proposal as
JSON; exit codes as in ``cli.common.governed``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    call,
    connect,
    fail,
    governed,
    print_json,
)

contract_app = typer.Typer(
    help="Deploy and upgrade contracts by vote (the lifecycle system contract)",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")


@contract_app.command("propose")
def contract_propose(
    name: str,
    version: str,
    code: Path = typer.Option(..., "--code", help="the contract's Python source file"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose deploying NAME at VERSION, or upgrading it if NAME is active."""
    from yulian.sdk.governance import propose_contract

    try:
        source = code.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read {code}: {e}")
    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_contract(client, name, version, source))


@contract_app.command("approve")
def contract_approve(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Approve lifecycle proposal ID for --org."""
    from yulian.sdk.governance import approve_contract

    client = connect(network, url, org=org, user=user)
    governed(lambda: approve_contract(client, proposal_id))


@contract_app.command("status")
def contract_status_cmd(
    name: str, network: Path | None = NETWORK_OPT, url: str | None = URL_OPT
) -> None:
    """The active version of NAME: version, code hash, activation height."""
    from yulian.sdk.governance import contract_status

    client = connect(network, url)
    print_json(call(lambda: contract_status(client, name)))


@contract_app.command("list")
def contract_list(network: Path | None = NETWORK_OPT, url: str | None = URL_OPT) -> None:
    """Every contract deployed through the lifecycle."""
    from yulian.sdk.governance import contracts

    client = connect(network, url)
    print_json(call(lambda: contracts(client)))


@contract_app.command("proposals")
def contract_proposals_cmd(network: Path | None = NETWORK_OPT, url: str | None = URL_OPT) -> None:
    """The open lifecycle proposals."""
    from yulian.sdk.governance import contract_proposals

    client = connect(network, url)
    print_json(call(lambda: contract_proposals(client)))


@contract_app.command("proposal")
def contract_proposal_cmd(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """One lifecycle proposal, whatever its status."""
    from yulian.sdk.governance import contract_proposal

    client = connect(network, url)
    print_json(call(lambda: contract_proposal(client, proposal_id)))


@contract_app.command("code")
def contract_code_cmd(
    name: str, network: Path | None = NETWORK_OPT, url: str | None = URL_OPT
) -> None:
    """Print the source of the active version of NAME."""
    from yulian.sdk.governance import contract_code

    client = connect(network, url)
    typer.echo(call(lambda: contract_code(client, name)), nl=False)
