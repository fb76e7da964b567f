"""Introduction: the governance commands — ``contract``, ``consortium``, ``org`` and ``ca``.

Thin layers over ``yulian.sdk.governance`` (votes on chain) and ``yulian.pki`` (files in
a network directory). Writes sign as an organisation admin (``--org``, ``--user admin``) with
the same ``--network`` / ``--url`` options as ``yulian tx send`` and print the proposal as
JSON. A call the chain refuses (a client identity proposing, an unknown proposal, a decided
one, ...) prints the receipt's message and exits 3, as does a proposal that was approved but
could not be applied (status ``failed``); a refusal before the chain (an unreadable file, an
unknown identity, the API refusing the tx) exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from yulian.cli.main import (
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    _call,
    _client,
    fail,
    print_json,
)

EXIT_REFUSED = 3  # as `yulian tx send` when the receipt is not ok
EXPIRY_WARNING_DAYS = 30

ADMIN_OPT = typer.Option(
    "admin", "--user", help="identity that signs: an admin of --org (only admins may vote)"
)

contract_app: typer.Typer = typer.Typer(
    help="Deploy and upgrade contracts by vote (the lifecycle system contract)",
    no_args_is_help=True,
)
consortium_app: typer.Typer = typer.Typer(
    help="Change the consortium by vote: members, validators, policies, params, revocations",
    no_args_is_help=True,
)
propose_app: typer.Typer = typer.Typer(help="Propose a consortium change", no_args_is_help=True)
consortium_app.add_typer(propose_app, name="propose")
org_app: typer.Typer = typer.Typer(
    help="Add an organisation to a network directory", no_args_is_help=True
)
ca_app: typer.Typer = typer.Typer(
    help="An organisation's CA: issue, renew and revoke certificates", no_args_is_help=True
)


# --- shared -------------------------------------------------------------------------------
def _governed(fn: Callable[[], dict[str, Any]]) -> None:
    """Run a governance write, print the proposal; exit 3 if refused or failed."""
    from yulian.sdk.governance import GovernanceError

    try:
        proposal = _call(fn)
    except GovernanceError as e:
        raise fail(f"{e.call} refused: {e.message or e.status}", EXIT_REFUSED) from None
    print_json(proposal)
    if proposal.get("status") == "failed":
        raise fail(
            f"proposal {proposal.get('id')} failed: {proposal.get('note', '')}", EXIT_REFUSED
        )


def _admin(network: Path, url: str, org: str, user: str) -> Any:
    return _client(url, network, org, user)


def _read_cert(path: Path) -> Any:
    """The certificate in ``path`` (PEM or DER), parsed."""
    from yulian.pki.files import PkiError, read_certificate

    try:
        return read_certificate(path)
    except PkiError as e:
        raise fail(str(e)) from None


def _orgs_call(fn: Callable[[], Any]) -> Any:
    from yulian.pki.files import PkiError

    try:
        return fn()
    except PkiError as e:
        raise fail(str(e)) from None


def expiry_warnings(network_dir: Path, within_days: int = EXPIRY_WARNING_DAYS) -> list[str]:
    """One line per certificate of ``network_dir`` that ends within ``within_days``."""
    from datetime import UTC, datetime

    from yulian.pki.members import expiring_certificates

    now = datetime.now(UTC)
    lines = []
    for c in expiring_certificates(network_dir, within_days, now):
        days = (c.not_after - now).total_seconds() / 86400
        when = f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"
        lines.append(
            f"warning: certificate {c.org}/{c.name} ({c.role}) {when} "
            f"({c.not_after:%Y-%m-%d %H:%M} UTC): {c.path}"
        )
    return lines


# --- contract (lifecycle) -----------------------------------------------------------------
@contract_app.command("propose")
def contract_propose(
    name: str,
    version: str,
    code: Path = typer.Option(..., "--code", help="the contract's Python source file"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose deploying NAME at VERSION, or upgrading it if NAME is active."""
    from yulian.sdk.governance import propose_contract

    try:
        source = code.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise fail(f"cannot read {code}: {e}") from None
    client = _admin(network, url, org, user)
    _governed(lambda: propose_contract(client, name, version, source))


@contract_app.command("approve")
def contract_approve(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Approve lifecycle proposal ID for --org."""
    from yulian.sdk.governance import approve_contract

    client = _admin(network, url, org, user)
    _governed(lambda: approve_contract(client, proposal_id))


@contract_app.command("status")
def contract_status_cmd(name: str, url: str = URL_OPT) -> None:
    """The active version of NAME: version, code hash, activation height."""
    from yulian.sdk.governance import contract_status

    client = _client(url)
    print_json(_call(lambda: contract_status(client, name)))


@contract_app.command("list")
def contract_list(url: str = URL_OPT) -> None:
    """Every contract deployed through the lifecycle."""
    from yulian.sdk.governance import contracts

    client = _client(url)
    print_json(_call(lambda: contracts(client)))


@contract_app.command("proposals")
def contract_proposals_cmd(url: str = URL_OPT) -> None:
    """The open lifecycle proposals."""
    from yulian.sdk.governance import contract_proposals

    client = _client(url)
    print_json(_call(lambda: contract_proposals(client)))


@contract_app.command("proposal")
def contract_proposal_cmd(
    proposal_id: int = typer.Argument(..., metavar="ID"), url: str = URL_OPT
) -> None:
    """One lifecycle proposal, whatever its status."""
    from yulian.sdk.governance import contract_proposal

    client = _client(url)
    print_json(_call(lambda: contract_proposal(client, proposal_id)))


@contract_app.command("code")
def contract_code_cmd(name: str, url: str = URL_OPT) -> None:
    """Print the source of the active version of NAME."""
    from yulian.sdk.governance import contract_code

    client = _client(url)
    typer.echo(_call(lambda: contract_code(client, name)), nl=False)


# --- consortium ---------------------------------------------------------------------------
@propose_app.command("add-org")
def propose_add_org_cmd(
    ca_cert: Path = typer.Option(..., "--ca-cert", help="the organisation's root CA (PEM/DER)"),
    name: str | None = typer.Option(None, "--name", help="default: the CA certificate's O"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a new member organisation with its root CA certificate."""
    from yulian.sdk.governance import propose_add_org

    info = _read_cert(ca_cert)
    if not info.is_ca:
        raise fail(f"{ca_cert} is not a CA certificate")
    if name is not None and name != info.org:
        raise fail(f"{ca_cert} is the CA of {info.org!r}, not of {name!r}")
    client = _admin(network, url, org, user)
    _governed(lambda: propose_add_org(client, info.org, info.der))


@propose_app.command("remove-org")
def propose_remove_org_cmd(
    name: str = typer.Option(..., "--name", help="the organisation that leaves"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose that an organisation leaves (its validators leave with it)."""
    from yulian.sdk.governance import propose_remove_org

    client = _admin(network, url, org, user)
    _governed(lambda: propose_remove_org(client, name))


@propose_app.command("add-validator")
def propose_add_validator_cmd(
    node_cert: Path = typer.Option(
        ..., "--node-cert", help="the node's certificate; gives its organisation and key"
    ),
    address: str = typer.Option(..., "--address", help="the node's p2p host:port"),
    power: int = typer.Option(1, "--power", help="voting power, 1..1000000"),
    name: str | None = typer.Option(None, "--name", help="default: the certificate's CN"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a node as validator; its organisation and public key come from --node-cert."""
    from yulian.sdk.governance import propose_add_validator

    info = _read_cert(node_cert)
    if info.is_ca or info.role != "node":
        raise fail(f"{node_cert} is a {info.role!r} certificate, not a node certificate")
    if name is not None and name != info.name:
        raise fail(f"{node_cert} names node {info.name!r}; a validator runs under that name")
    client = _admin(network, url, org, user)
    _governed(
        lambda: propose_add_validator(client, info.name, info.org, info.public_key, power, address)
    )


@propose_app.command("remove-validator")
def propose_remove_validator_cmd(
    name: str = typer.Option(..., "--name", help="the validator that leaves"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose removing a validator."""
    from yulian.sdk.governance import propose_remove_validator

    client = _admin(network, url, org, user)
    _governed(lambda: propose_remove_validator(client, name))


@propose_app.command("set-power")
def propose_set_power_cmd(
    name: str = typer.Option(..., "--name", help="the validator"),
    power: int = typer.Option(..., "--power", help="its new voting power, 1..1000000"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose a validator's new voting power."""
    from yulian.sdk.governance import propose_set_power

    client = _admin(network, url, org, user)
    _governed(lambda: propose_set_power(client, name, power))


@propose_app.command("set-policy")
def propose_set_policy_cmd(
    scope: str = typer.Argument(
        ..., help="organisations|validators|policies|params|revocation|lifecycle"
    ),
    policy: str = typer.Argument(..., help="ANY, MAJORITY, ALL or N-of-M (e.g. 2-of-4)"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose the policy that decides SCOPE's proposals."""
    from yulian.sdk.governance import propose_set_policy

    client = _admin(network, url, org, user)
    _governed(lambda: propose_set_policy(client, scope, policy))


@propose_app.command("set-params")
def propose_set_params_cmd(
    assignments: list[str] = typer.Argument(..., metavar="NAME=VALUE..."),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose new chain parameters, e.g. block_interval_ms=300 (integers)."""
    from yulian.sdk.governance import propose_set_params

    params: dict[str, int] = {}
    for text in assignments:
        pname, sep, value = text.partition("=")
        if not sep or not pname or not value.lstrip("-").isdigit():
            raise fail(f"{text!r} is not NAME=INTEGER")
        if pname in params:
            raise fail(f"{pname} is given twice")
        params[pname] = int(value)
    client = _admin(network, url, org, user)
    _governed(lambda: propose_set_params(client, params))


@propose_app.command("revoke")
def propose_revoke_cmd(
    cert: Path = typer.Option(..., "--cert", help="the certificate to revoke (PEM/DER)"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Propose revoking a certificate (and its key); its own organisation decides alone."""
    from yulian.sdk.governance import propose_revoke

    info = _read_cert(cert)
    client = _admin(network, url, org, user)
    _governed(lambda: propose_revoke(client, info.der))


@consortium_app.command("approve")
def consortium_approve(
    proposal_id: int = typer.Argument(..., metavar="ID"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Approve consortium proposal ID for --org."""
    from yulian.sdk.governance import approve

    client = _admin(network, url, org, user)
    _governed(lambda: approve(client, proposal_id))


@consortium_app.command("show")
def consortium_show(url: str = URL_OPT) -> None:
    """The consortium config at the node's head."""
    from yulian.sdk.governance import consortium_config

    client = _client(url)
    print_json(_call(lambda: consortium_config(client)))


@consortium_app.command("proposals")
def consortium_proposals(url: str = URL_OPT) -> None:
    """The open consortium proposals."""
    from yulian.sdk.governance import proposals

    client = _client(url)
    print_json(_call(lambda: proposals(client)))


@consortium_app.command("proposal")
def consortium_proposal(
    proposal_id: int = typer.Argument(..., metavar="ID"), url: str = URL_OPT
) -> None:
    """One consortium proposal, whatever its status."""
    from yulian.sdk.governance import proposal

    client = _client(url)
    print_json(_call(lambda: proposal(client, proposal_id)))


@consortium_app.command("validators")
def consortium_validators(
    height: int | None = typer.Option(None, "--height", help="default: the next block"),
    url: str = URL_OPT,
) -> None:
    """The validator set that signs a height."""
    from yulian.sdk.governance import validators

    client = _client(url)
    print_json(_call(lambda: validators(client, height)))


# --- org ----------------------------------------------------------------------------------
@org_app.command("create")
def org_create(
    name: str,
    dir: Path = typer.Option(Path(".yulian/network"), "--dir", "-d", help="network directory"),
    p2p_port: int = typer.Option(..., "--p2p-port", help="p2p port of the first new node"),
    api_port: int = typer.Option(..., "--api-port", help="API port of the first new node"),
    nodes: int = typer.Option(1, "--nodes", help="nodes of the organisation"),
    clients: int = typer.Option(1, "--clients", help="client identities"),
    days: int = typer.Option(365, "--days", help="validity of the member certificates"),
) -> None:
    """Add organisation NAME's CA, admin, clients and nodes to a network directory.

    It becomes a member once the consortium approves `consortium propose add-org`."""
    from yulian.node.bootstrap import create_org
    from yulian.node.config import load_config

    new = _orgs_call(
        lambda: create_org(
            dir,
            name,
            nodes=nodes,
            clients=clients,
            p2p_port=p2p_port,
            api_port=api_port,
            validity_days=days,
        )
    )
    node_docs = []
    for node in new.nodes:
        cfg = load_config(node.config)
        node_docs.append(
            {
                "name": node.name,
                "config": str(node.config),
                "cert": str(node.credential.cert),
                "p2p": cfg.p2p_address,
                "api": cfg.api_url,
            }
        )
    print_json(
        {
            "org": new.org.name,
            "ca_cert": str(new.org.ca_cert),
            "admin": str(new.org.admin.cert),
            "clients": [str(c.cert) for c in new.org.clients],
            "nodes": node_docs,
        }
    )


# --- ca -----------------------------------------------------------------------------------
def _cert_doc(cred: Any, with_key: bool) -> dict[str, Any]:
    from datetime import UTC, datetime

    info = _read_cert(cred.cert)
    return {
        "org": info.org,
        "role": info.role,
        "name": info.name,
        "cert": str(cred.cert),
        "key": str(cred.key) if with_key else None,
        "public_key": info.public_key.hex(),
        "not_after": datetime.fromtimestamp(info.not_after_ms / 1000, UTC).isoformat(),
    }


@ca_app.command("issue")
def ca_issue(
    org: str = typer.Option(..., "--org", help="the organisation whose CA issues"),
    role: str = typer.Option(..., "--role", help="client, admin or node"),
    name: str = typer.Option(..., "--name", help="the member's name (the certificate's CN)"),
    days: int = typer.Option(365, "--days", help="validity in days"),
    public_key: str | None = typer.Option(
        None, "--public-key", help="hex public key kept by its holder (default: make a key)"
    ),
    network: Path = NETWORK_OPT,
) -> None:
    """Issue a new member certificate (and key, unless --public-key is given)."""
    from yulian.pki.members import issue_cert

    key: bytes | None = None
    if public_key is not None:
        try:
            key = bytes.fromhex(public_key)
        except ValueError:
            raise fail("--public-key must be hex") from None
    cred = _orgs_call(
        lambda: issue_cert(network, org, role, name, public_key=key, validity_days=days)
    )
    print_json(_cert_doc(cred, with_key=key is None))


@ca_app.command("renew")
def ca_renew(
    org: str = typer.Option(..., "--org"),
    name: str = typer.Option(..., "--name", help="admin, client<k>, a node, ..."),
    days: int = typer.Option(365, "--days", help="validity in days from now"),
    network: Path = NETWORK_OPT,
) -> None:
    """Re-issue a member's certificate for the same key; the old one is kept as .crt.old."""
    from yulian.pki.members import renew_cert

    cred = _orgs_call(lambda: renew_cert(network, org, name, days))
    print_json(_cert_doc(cred, with_key=True))


@ca_app.command("revoke")
def ca_revoke(
    org: str = typer.Option(..., "--org", help="the member's organisation; its admin signs"),
    name: str = typer.Option(..., "--name", help="the member whose certificate is revoked"),
    network: Path = NETWORK_OPT,
    url: str = URL_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Revoke a member's certificate and key on chain (its organisation decides alone)."""
    from yulian.pki.layout import find_credential
    from yulian.sdk.governance import propose_revoke

    try:
        cred = find_credential(network, org, name)
    except KeyError as e:
        raise fail(str(e.args[0])) from None
    info = _read_cert(cred.cert)
    client = _admin(network, url, org, user)
    _governed(lambda: propose_revoke(client, info.der))


@ca_app.command("expiring")
def ca_expiring(
    within: int = typer.Option(EXPIRY_WARNING_DAYS, "--within", help="days from now"),
    network: Path = NETWORK_OPT,
) -> None:
    """Certificates of the network directory (CAs included) that end within --within days."""
    from yulian.pki.members import expiring_certificates

    found = _orgs_call(lambda: expiring_certificates(network, within))
    print_json(
        [
            {
                "org": c.org,
                "name": c.name,
                "role": c.role,
                "not_after": c.not_after.isoformat(),
                "path": str(c.path),
            }
            for c in found
        ]
    )
