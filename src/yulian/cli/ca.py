"""Introduction: ``yulian ca`` — an organisation's CA on its network directory: issue, renew
and list expiring certificates (``pki.members``), and revoke one on chain (``sdk.governance``,
signed by the organisation's own admin, which decides alone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    EXPIRY_WARNING_DAYS,
    NETWORK_OPT,
    URL_OPT,
    connect,
    fail,
    governed,
    network_dir,
    print_json,
    read_cert,
)

T = TypeVar("T")
ROLE_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # the applications' role names

ca_app = typer.Typer(
    help="An organisation's CA: issue, renew and revoke certificates", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(ca_app, name="ca")


def _pki(fn: Callable[[], T]) -> T:
    from yulian.pki.files import PkiError

    try:
        return fn()
    except PkiError as e:
        fail(str(e))


def _cert_doc(cred: Any, with_key: bool) -> dict[str, Any]:
    info = read_cert(cred.cert)
    return {
        "org": info.org,
        "role": info.role,
        "name": info.name,
        "cert": str(cred.cert),
        "key": str(cred.key) if with_key else None,
        "public_key": info.public_key.hex(),
        "attributes": dict(info.attributes),
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
    attr: list[str] = typer.Option(
        [], "--attr", help="an attribute name=value in the certificate (role=doctor); repeatable"
    ),
    roles: str | None = typer.Option(
        None,
        "--roles",
        help="the application roles this member may act in, comma-separated (the certificate's "
        "roles attribute, e.g. grower,inspector): it narrows the roles its organisation holds",
    ),
    network: Path | None = NETWORK_OPT,
) -> None:
    """Issue a new member certificate (and key, unless --public-key is given)."""
    from yulian.pki.members import issue_cert

    key: bytes | None = None
    if public_key is not None:
        try:
            key = bytes.fromhex(public_key)
        except ValueError:
            fail("--public-key must be hex")
    attributes: dict[str, str] = {}
    for pair in attr:
        name_, sep, value = pair.partition("=")
        if not sep or not name_ or not value:
            fail(f"--attr {pair!r}: expected name=value")
        attributes[name_] = value
    if roles is not None:
        listed = roles.split(",")
        if not all(r and r.strip(ROLE_NAME_CHARS) == "" and len(r) <= 32 for r in listed):
            fail(f"--roles is a comma-separated list of role names (a-z 0-9 _), got {roles!r}")
        if "roles" in attributes:
            fail("give the roles attribute either with --roles or with --attr, not both")
        attributes["roles"] = ",".join(listed)
    root = network_dir(network)
    cred = _pki(
        lambda: issue_cert(
            root, org, role, name, public_key=key, validity_days=days, attributes=attributes
        )
    )
    doc = _cert_doc(cred, with_key=key is None)
    doc["attributes"] = dict(read_cert(cred.cert).attributes)
    print_json(doc)


@ca_app.command("renew")
def ca_renew(
    org: str = typer.Option(..., "--org"),
    name: str = typer.Option(..., "--name", help="admin, client<k>, a node, ..."),
    days: int = typer.Option(365, "--days", help="validity in days from now"),
    network: Path | None = NETWORK_OPT,
) -> None:
    """Re-issue a member's certificate for the same key; the old one is kept as .crt.old."""
    from yulian.pki.members import renew_cert

    cred = _pki(lambda: renew_cert(network_dir(network), org, name, days))
    print_json(_cert_doc(cred, with_key=True))


@ca_app.command("revoke")
def ca_revoke(
    org: str = typer.Option(..., "--org", help="the member's organisation; its admin signs"),
    name: str = typer.Option(..., "--name", help="the member whose certificate is revoked"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Revoke a member's certificate and key on chain (its organisation decides alone)."""
    from yulian.pki.layout import find_credential
    from yulian.sdk.governance import propose_revoke

    try:
        cred = find_credential(network_dir(network), org, name)
    except KeyError as e:
        fail(str(e.args[0]))
    info = read_cert(cred.cert)
    client = connect(network, url, org=org, user=user)
    governed(lambda: propose_revoke(client, info.der))


@ca_app.command("expiring")
def ca_expiring(
    within: int = typer.Option(EXPIRY_WARNING_DAYS, "--within", help="days from now"),
    network: Path | None = NETWORK_OPT,
) -> None:
    """Certificates of the network directory (CAs included) that end within --within days."""
    from yulian.pki.members import expiring_certificates

    found = _pki(lambda: expiring_certificates(network_dir(network), within))
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
