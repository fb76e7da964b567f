"""Introduction: an organisation's members — founded, issued, renewed, and watched for expiry.

- ``found_org`` writes a new organisation's identities (root CA, admin, clients, node
  certificates) into a directory; ``network init`` and ``org create`` both use it.
- ``issue_cert`` has an organisation's CA issue one more member certificate; ``renew_cert``
  re-issues a member's certificate for the same public key with a fresh validity window,
  keeping the key (and the old certificate as ``<file>.crt.old``).
- ``expiring_certificates`` lists every certificate of a directory, CAs included, that ends
  within a window, for ``yulian network status`` and ``yulian ca expiring``.

Tooling, not consensus: it reads the wall clock (validity windows) unless handed ``now``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from yulian.crypto.suite import PrivateKey, Suite
from yulian.crypto.x509 import CA_ROLE, ROLES, der_to_pem
from yulian.pki.authority import CertificateAuthority, certificate_hosts
from yulian.pki.files import (
    PkiError,
    fsync_dir,
    make_private_dir,
    read_certificate,
    write_private,
    write_public,
)
from yulian.pki.layout import (
    NAME_PATTERN,
    Credential,
    find_credential,
    load_suite,
    member_certificates,
    network_root,
    org_names,
)

MAX_CLIENTS_PER_ORG = 1000
MAX_VALIDITY_DAYS = 36_500
OLD_SUFFIX = ".old"


class ExpiringCertificate(NamedTuple):
    org: str
    name: str
    role: str  # "ca" | "admin" | "client" | "node"
    not_after: datetime  # UTC
    path: Path


@dataclass(frozen=True)
class FoundedOrg:
    """What ``found_org`` made: the root CA certificate and each node's public key."""

    ca_cert: bytes  # DER
    node_keys: dict[str, bytes]


def found_org(
    org_dir: Path,
    suite: Suite,
    name: str,
    *,
    clients: int,
    node_names: Sequence[str],
    now: datetime,
    validity_days: int,
    node_hosts: Mapping[str, Sequence[str]] | None = None,
) -> FoundedOrg:
    """Write organisation ``name``'s CA, ``admin``, ``client1..clients`` and node identities
    under ``org_dir`` (the layout of ``pki.layout``); a node's certificate names the hosts
    ``node_hosts`` gives it (where other organisations reach it)."""
    check_name(name, "organisation name")
    check_int("clients", clients, 0, MAX_CLIENTS_PER_ORG)
    check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    ca = CertificateAuthority.found(suite, name, now, validity_days)
    ca.save(org_dir)
    window = ca.window(now, validity_days)
    ca.issue_pair("admin", "admin", org_dir / "admin", "admin", window)
    for k in range(1, clients + 1):
        ca.issue_pair("client", f"client{k}", org_dir / "clients", f"client{k}", window)
    hosts = node_hosts or {}
    node_keys = {
        node: ca.issue_pair(
            "node", node, org_dir / "nodes" / node, "node", window, hosts.get(node, ())
        )
        for node in node_names
    }
    return FoundedOrg(ca.cert, node_keys)


def issue_cert(
    network_dir: Path,
    org: str,
    role: str,
    name: str,
    *,
    public_key: bytes | None = None,
    validity_days: int = 365,
    now: datetime | None = None,
    attributes: dict[str, str] | None = None,
) -> Credential:
    """Have ``org``'s CA issue a ``role`` certificate for member ``name`` (with
    ``attributes`` in its attributes extension, e.g. ``{"roles": "inspector"}``,
    ``{"role": "doctor"}`` or ``{"subject": "P-001"}``).

    Without ``public_key`` a key is generated and written (mode 0600) beside the certificate;
    with one, only the certificate is written (the holder keeps the key). An existing member
    of that name is refused: use ``renew_cert``.
    """
    if role not in ROLES:
        raise PkiError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_name(name, "member name")
    check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    root = network_root(network_dir)
    suite = load_suite(root)
    ca = CertificateAuthority.load(root, org, suite)
    try:
        existing = find_credential(root, org, name)
    except KeyError:
        pass
    else:
        raise PkiError(f"{org}/{name} already has a certificate {existing.cert}; renew it")
    org_dir = root / "orgs" / org
    directory, stem = {
        "admin": (org_dir / "admin", name),
        "client": (org_dir / "clients", name),
        "node": (org_dir / "nodes" / name, "node"),
    }[role]
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    if cert_path.exists() or key_path.exists():
        raise PkiError(f"{cert_path} or {key_path} already exists")
    window = ca.window(utc_now(now), validity_days)
    key: PrivateKey | None = None
    if public_key is None:
        key = suite.generate_key()
        public_key = key.public_key()
    der = ca.issue_der(role, name, public_key, window, attributes)
    make_private_dir(directory)
    if key is not None:
        write_private(key_path, key.to_pem())
    write_public(cert_path, der_to_pem(der))
    return Credential(org, role, name, cert_path, key_path)


def renew_cert(
    network_dir: Path,
    org: str,
    name: str,
    validity_days: int = 365,
    *,
    now: datetime | None = None,
) -> Credential:
    """Re-issue member ``name``'s certificate: same key, role and attributes, new window.

    The key file is not touched; the previous certificate is kept as ``<file>.crt.old``
    (replacing an older ``.old``). A validator renewed this way keeps its validator entry,
    which names the public key, not the certificate; a node keeps the hosts it names.
    """
    check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    root = network_root(network_dir)
    suite = load_suite(root)
    ca = CertificateAuthority.load(root, org, suite)
    try:
        cred = find_credential(root, org, name)
    except KeyError as e:
        raise PkiError(str(e.args[0])) from None
    old = read_certificate(cred.cert)
    if old.is_ca or old.org != org or old.role not in ROLES:
        raise PkiError(f"{cred.cert} is not a member certificate of {org!r}")
    window = ca.window(utc_now(now), validity_days)
    hosts = certificate_hosts(old.der) if old.role == "node" else ()
    der = ca.issue_der(old.role, old.name, old.public_key, window, dict(old.attributes), hosts)
    staged = cred.cert.with_name(cred.cert.name + ".new")
    staged.unlink(missing_ok=True)
    write_public(staged, der_to_pem(der))
    os.replace(cred.cert, cred.cert.with_name(cred.cert.name + OLD_SUFFIX))
    os.replace(staged, cred.cert)
    fsync_dir(cred.cert.parent)
    return cred


def expiring_certificates(
    network_dir: Path, within_days: int = 30, now: datetime | None = None
) -> list[ExpiringCertificate]:
    """Every certificate of the directory (CAs included) that ends before ``now + within``.

    Already expired ones are included. Sorted by end of validity, soonest first; replaced
    certificates (``.crt.old``) are not looked at.
    """
    if type(within_days) is not int or within_days < 0:
        raise PkiError(f"within_days must be a non-negative integer, got {within_days!r}")
    root = network_root(network_dir)
    limit = utc_now(now) + timedelta(days=within_days)
    found = []
    for org in org_names(root):
        for path in member_certificates(root, org):
            info = read_certificate(path)
            not_after = datetime.fromtimestamp(info.not_after_ms / 1000, UTC)
            if not_after <= limit:
                role = CA_ROLE if info.is_ca else info.role
                found.append(ExpiringCertificate(org, info.name, role, not_after, path))
    return sorted(found, key=lambda c: (c.not_after, c.org, c.name))


def check_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise PkiError(
            f"{what} {value!r} must be 1..64 of A-Z a-z 0-9 _ . -, starting with a letter or digit"
        )


def check_int(what: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise PkiError(f"{what} must be an integer in {low}..{high}, got {value!r}")


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` in UTC (whole seconds), or the wall clock's."""
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if now.tzinfo is None:
        raise PkiError("now must be timezone-aware")
    return now.astimezone(UTC)
