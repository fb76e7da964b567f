"""Introduction: ``yulian consortium`` — change the consortium by vote (members, validators,
policies, parameters, revocations) through the ``consortium`` system contract
(``sdk.governance``), and read its config.

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
    read_cert,
)

consortium_app = typer.Typer(
    help="Change the consortium by vote: members, validators, policies, params, revocations",
    no_args_is_help=True,
)
propose_app = typer.Typer(help="Propose a consortium change", no_args_is_help=True)
consortium_app.add_typer(propose_app, name="propose")


def register(app: typer.Typer) -> None:
    app.add_typer(consortium_app, name="consortium")


@propose_app.command("add-org")
def propose_add_org_cmd(
    ca_cert: Path = typer.Option(..., "--ca-cert", help="the organisation's root CA (PEM/DER)"),
    name: str | None = typer.Option(None, "--name", help="default: the CA certificate's O"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a new member organisation with its root CA certificate."""
    from yulian.sdk.governance import propose_add_org

    info = read_cert(ca_cert)
    if not info.is_ca:
        fail(f"{ca_cert} is not a CA certificate")
    if name is not None and name != info.org:
        fail(f"{ca_cert} is the CA of {info.org!r}, not of {name!r}")
    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_add_org(client, info.org, info.der))


@propose_app.command("remove-org")
def propose_remove_org_cmd(
    name: str = typer.Option(..., "--name", help="the organisation that leaves"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose that an organisation leaves (its validators leave with it)."""
    from yulian.sdk.governance import propose_remove_org

    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_remove_org(client, name))


@propose_app.command("add-validator")
def propose_add_validator_cmd(
    node_cert: Path = typer.Option(
        ..., "--node-cert", help="the node's certificate; gives its organisation and key"
    ),
    address: str = typer.Option(..., "--address", help="the node's p2p host:port"),
    power: int = typer.Option(1, "--power", help="voting power, 1..1000000"),
    name: str | None = typer.Option(None, "--name", help="default: the certificate's CN"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a node as validator; its organisation and public key come from --node-cert."""
    from yulian.sdk.governance import propose_add_validator

    info = read_cert(node_cert)
    if info.is_ca or info.role != "node":
        fail(f"{node_cert} is a {info.role!r} certificate, not a node certificate")
    if name is not None and name != info.name:
        fail(f"{node_cert} names node {info.name!r}; a validator runs under that name")
    client = connect(network, url, org=org, user=user)
    governed(
        lambda: propose_add_validator(client, info.name, info.org, info.public_key, power, address)
    )


@propose_app.command("remove-validator")
def propose_remove_validator_cmd(
    name: str = typer.Option(..., "--name", help="the validator that leaves"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose removing a validator."""
    from yulian.sdk.governance import propose_remove_validator

    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_remove_validator(client, name))


@propose_app.command("set-power")
def propose_set_power_cmd(
    name: str = typer.Option(..., "--name", help="the validator"),
    power: int = typer.Option(..., "--power", help="its new voting power, 1..1000000"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a validator's new voting power."""
    from yulian.sdk.governance import propose_set_power

    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_set_power(client, name, power))


@propose_app.command("set-policy")
def propose_set_policy_cmd(
    scope: str = typer.Argument(
        ..., help="organisations|validators|policies|params|revocation|lifecycle"
    ),
    policy: str = typer.Argument(..., help="ANY, MAJORITY, ALL or N-of-M (e.g. 2-of-4)"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose the policy that decides SCOPE's proposals."""
    from yulian.sdk.governance import propose_set_policy

    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_set_policy(client, scope, policy))


@propose_app.command("set-params")
def propose_set_params_cmd(
    assignments: list[str] = typer.Argument(..., metavar="NAME=VALUE..."),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose new chain parameters, e.g. block_interval_ms=300 (integers)."""
    from yulian.sdk.governance import propose_set_params

    params: dict[str, int] = {}
    for text in assignments:
        pname, sep, value = text.partition("=")
        if not sep or not pname or not value.lstrip("-").isdigit():
            fail(f"{text!r} is not NAME=INTEGER")
        if pname in params:
            fail(f"{pname} is given twice")
        params[pname] = int(value)
    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_set_params(client, params))


@propose_app.command("revoke")
def propose_revoke_cmd(
    cert: Path = typer.Option(..., "--cert", help="the certificate to revoke (PEM/DER)"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose revoking a certificate (and its key); its own organisation decides alone."""
    from yulian.sdk.governance import propose_revoke

    info = read_cert(cert)
    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_revoke(client, info.der))


@consortium_app.command("approve")
def consortium_approve(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Approve consortium proposal ID for --org."""
    from yulian.sdk.governance import approve

    client = connect(network, url, org=org, user=user)
    governed(lambda: approve(client, proposal_id))


@consortium_app.command("show")
def consortium_show(network: Path | None = NETWORK_OPT, url: str | None = URL_OPT) -> None:
    """The consortium config at the node's head."""
    from yulian.sdk.governance import consortium_config

    client = connect(network, url)
    print_json(call(lambda: consortium_config(client)))


@consortium_app.command("proposals")
def consortium_proposals(network: Path | None = NETWORK_OPT, url: str | None = URL_OPT) -> None:
    """The open consortium proposals."""
    from yulian.sdk.governance import proposals

    client = connect(network, url)
    print_json(call(lambda: proposals(client)))


@consortium_app.command("proposal")
def consortium_proposal(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """One consortium proposal, whatever its status."""
    from yulian.sdk.governance import proposal

    client = connect(network, url)
    print_json(call(lambda: proposal(client, proposal_id)))


@consortium_app.command("validators")
def consortium_validators(
    height: int | None = typer.Option(None, "--height", help="default: the next block"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """The validator set that signs a height."""
    from yulian.sdk.governance import validators

    client = connect(network, url)
    print_json(call(lambda: validators(client, height)))
