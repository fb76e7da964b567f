"""Introduction: ``yulian contract`` — write a contract, then deploy and upgrade it by vote.

``new`` and ``check`` are the contract developer kit's (``devkit.scaffold``, ``devkit.check``):
they work on files and need no network. The rest go through the ``lifecycle`` system contract
(``sdk.governance``) and read what is deployed; writes sign as an organisation admin
(``--org``, ``--user admin``) and print the proposal as JSON; exit codes as in
``cli.common.governed``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    EXIT_FAILED,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    call,
    connect,
    fail,
    governed,
    print_json,
    say,
    tell,
)

contract_app = typer.Typer(
    help="Write contracts (new, check); deploy and upgrade them by vote (the lifecycle)",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")


@contract_app.command("new")
def contract_new(
    name: str,
    directory: Path = typer.Option(
        Path("."), "--dir", help="where to create NAME/ (it must not exist, or be empty)"
    ),
) -> None:
    """Scaffold contract NAME in NAME/: contract.py, its harness tests and a README."""
    from yulian.devkit.scaffold import ScaffoldError, new_contract

    try:
        written = new_contract(name, directory)
    except ScaffoldError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot write {directory / name}: {e.strerror}")
    for path in written:
        say(str(path))
    tell(f"next: yulian contract check {written[0]}", lead="", style="")


@contract_app.command("check")
def contract_check(file: Path) -> None:
    """Check FILE as the lifecycle will: file:line problems, what to write instead (exit 1)."""
    from yulian.devkit.check import ERROR, check_file

    problems = check_file(file)
    for problem in problems:
        say(str(problem))
    if any(p.severity == ERROR for p in problems):
        raise typer.Exit(EXIT_FAILED)
    say(f"{file}: ready to propose" + (" (see the warnings)" if problems else ""))


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
