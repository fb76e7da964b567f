"""Introduction: organisation tooling on an existing network directory.

``yulian network init`` founds a consortium; this module grows and maintains it on disk:

- ``create_org`` adds a *new* organisation's directory (root CA, admin, clients, node keys and
  certificates, in the layout and file modes of ``node.bootstrap``) and one config per new
  node, whose peers are the existing nodes' p2p addresses and whose genesis is the network's.
  The organisation is not a member until the consortium votes ``add_org`` with its CA
  certificate; its node is not a validator until ``add_validator`` is voted too.
- ``issue_cert`` lets an organisation's CA issue one more member certificate (client, admin or
  node); ``renew_cert`` re-issues a member's certificate for the same public key with a fresh
  validity window, keeping the key (and the old certificate as ``<file>.crt.old``).
- ``expiring_certificates`` lists every certificate of the directory, CAs included, that ends
  within a window, for ``yulian network status``.
- ``load_network`` / ``load_org`` / ``find_credential`` read the directory itself rather than
  the genesis, so organisations added after genesis are found too.

Where a member's files live (``<org>`` = ``DIR/orgs/<org>``)::

    <org>/ca/ca.crt, ca.key              the root CA (role "ca")
    <org>/admin/<name>.crt, .key         admins; the first is "admin"
    <org>/clients/<name>.crt, .key       clients
    <org>/nodes/<name>/node.crt, .key    nodes

Like ``node.bootstrap`` this is tooling, not consensus: it reads the wall clock (validity
windows) and the operating system's randomness (keys, serial numbers). A CA never issues a
certificate that outlives the CA itself, since membership checks the CA's window too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from yulian.crypto.suite import PrivateKey, Suite, SuiteError, get_suite
from yulian.crypto.x509 import (
    CA_ROLE,
    ROLES,
    CertificateError,
    CertInfo,
    create_ca,
    der_to_pem,
    issue_certificate,
    parse_certificate,
    pem_to_der,
)
from yulian.node.bootstrap import (
    BACKDATE,
    CA_VALIDITY_FACTOR,
    CONFIG_FILE,
    GENESIS_FILE,
    MAX_CLIENTS_PER_ORG,
    Credential,
    NetworkLayout,
    NodeLayout,
    OrgLayout,
    _make_private_dir,
    _write_pair,
    _write_private,
)
from yulian.node.config import ConfigError, NodeConfig, load_config, save_config
from yulian.types.genesis import Genesis, GenesisError

MAX_NEW_NODES = 64
MAX_VALIDITY_DAYS = 36_500
OLD_SUFFIX = ".old"
# An organisation or member name becomes a directory or file name: keep it portable.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CLIENT_NUMBER = re.compile(r"^client([1-9][0-9]*)$")


class OrgError(ValueError):
    """An organisation or certificate operation that cannot be done on this directory."""


class ExpiringCertificate(NamedTuple):
    org: str
    name: str
    role: str  # "ca" | "admin" | "client" | "node"
    not_after: datetime  # UTC
    path: Path


@dataclass(frozen=True)
class NewOrg:
    """What ``create_org`` wrote: the organisation's files and its nodes' configs."""

    org: OrgLayout
    nodes: tuple[NodeLayout, ...]


# --- reading a network directory ---------------------------------------------------------


def load_genesis(network_dir: Path) -> Genesis:
    path = _root(network_dir) / GENESIS_FILE
    try:
        return Genesis.load(path)
    except FileNotFoundError:
        raise OrgError(f"{path.parent} is not a network directory (no {GENESIS_FILE})") from None
    except (OSError, GenesisError) as e:
        raise OrgError(f"{path}: {e}") from None


def load_suite(network_dir: Path) -> Suite:
    """The crypto suite of the network's genesis."""
    try:
        return get_suite(load_genesis(network_dir).suite)
    except SuiteError as e:
        raise OrgError(str(e)) from None


def org_names(network_dir: Path) -> list[str]:
    """The organisations with a directory: the genesis ones first, then the added ones."""
    root = _root(network_dir)
    founders = [o.name for o in load_genesis(root).organisations]
    orgs_dir = root / "orgs"
    added = sorted(
        p.name
        for p in (orgs_dir.iterdir() if orgs_dir.is_dir() else ())
        if p.is_dir() and p.name not in founders and (p / "ca" / "ca.crt").is_file()
    )
    return [*founders, *added]


def load_org(network_dir: Path, name: str) -> OrgLayout:
    """The layout of organisation ``name`` read from its directory (founder or added)."""
    org_dir = _root(network_dir) / "orgs" / name
    ca_cert = org_dir / "ca" / "ca.crt"
    if not ca_cert.is_file():
        raise OrgError(f"no organisation {name!r} in {_root(network_dir)} (no {ca_cert})")
    admin = org_dir / "admin"
    if not (admin / "admin.crt").is_file():
        raise OrgError(f"organisation {name!r} has no admin certificate {admin / 'admin.crt'}")
    clients_dir = org_dir / "clients"
    nodes_dir = org_dir / "nodes"
    node_names = sorted(
        p.name
        for p in (nodes_dir.iterdir() if nodes_dir.is_dir() else ())
        if (p / "node.crt").is_file()
    )
    return OrgLayout(
        name=name,
        ca_cert=ca_cert,
        ca_key=org_dir / "ca" / "ca.key",  # may be kept offline
        admin=_cred(name, "admin", "admin", admin),
        # further admins (admin/<name>.crt) have no place here; find_credential finds them
        clients=tuple(
            _cred(name, "client", s, clients_dir) for s in _client_order(_stems(clients_dir))
        ),
        nodes=tuple(
            Credential(name, "node", n, nodes_dir / n / "node.crt", nodes_dir / n / "node.key")
            for n in node_names
        ),
    )


def load_network(network_dir: Path) -> NetworkLayout:
    """The layout of a network directory, organisations added after genesis included.

    Nodes come in the order of ``load_layout``: the genesis validators first, then any other
    node directory with a config, by name.
    """
    root = _root(network_dir)
    genesis = load_genesis(root)
    orgs = tuple(load_org(root, name) for name in org_names(root))
    names = [v.name for v in genesis.validators]
    nodes_root = root / "nodes"
    if nodes_root.is_dir():
        names += sorted(p.name for p in nodes_root.iterdir() if p.is_dir() and p.name not in names)
    credentials = {c.name: c for o in orgs for c in o.nodes}
    nodes = []
    for name in names:
        if name not in credentials:
            raise OrgError(f"{root}: node {name} has no certificate under orgs/*/nodes/")
        config = nodes_root / name / CONFIG_FILE
        if not config.is_file():
            raise OrgError(f"missing file {config}")
        cred = credentials[name]
        nodes.append(NodeLayout(name, cred.org, nodes_root / name, config, cred))
    return NetworkLayout(root=root, genesis=root / GENESIS_FILE, orgs=orgs, nodes=tuple(nodes))


def find_credential(network_dir: Path, org: str, name: str) -> Credential:
    """Where member ``name`` of ``org`` (an admin, a client or a node) keeps its files.

    Raises ``KeyError`` if there is no such member (the contract of
    ``NetworkLayout.credential``).
    """
    org_dir = _root(network_dir) / "orgs" / org
    if not (org_dir / "ca" / "ca.crt").is_file():
        raise KeyError(f"no organisation {org!r} in {_root(network_dir)}")
    if NAME_PATTERN.fullmatch(name):
        for role, directory, stem in (
            ("admin", org_dir / "admin", name),
            ("client", org_dir / "clients", name),
            ("node", org_dir / "nodes" / name, "node"),
        ):
            cert = directory / f"{stem}.crt"
            if cert.is_file():
                return Credential(org, role, name, cert, directory / f"{stem}.key")
    raise KeyError(f"no member {name!r} in organisation {org!r} of {_root(network_dir)}")


def read_certificate(path: Path) -> CertInfo:
    """The certificate in ``path`` (PEM or DER); raises ``OrgError``."""
    try:
        data = path.read_bytes()
        der = pem_to_der(data) if data.lstrip().startswith(b"-----") else data
        return parse_certificate(der)
    except OSError as e:
        raise OrgError(f"cannot read {path}: {e.strerror or e}") from None
    except CertificateError as e:
        raise OrgError(f"{path}: {e}") from None


# --- a new organisation ------------------------------------------------------------------


def create_org(
    network_dir: Path,
    name: str,
    *,
    nodes: int = 1,
    clients: int = 1,
    p2p_port: int,
    api_port: int,
    validity_days: int = 365,
    host: str = "127.0.0.1",
) -> NewOrg:
    """Add organisation ``name`` to the network directory; raises ``OrgError``.

    Node ``k`` (``<name>-node<k>``) listens on ``p2p_port + k`` and serves its API on
    ``api_port + k``. Everything is written into a staging directory inside the network
    directory first and renamed into place, so a failure leaves nothing half-made.
    """
    root = _root(network_dir)
    _check_name(name, "organisation name")
    _check_int("nodes", nodes, 0, MAX_NEW_NODES)
    _check_int("clients", clients, 0, MAX_CLIENTS_PER_ORG)
    _check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    for what, base in (("p2p_port", p2p_port), ("api_port", api_port)):
        if type(base) is not int or base < 1 or base + max(nodes, 1) - 1 > 65535:
            raise OrgError(f"{what}={base!r} leaves no room for {nodes} node port(s)")
    suite = load_suite(root)
    if name in org_names(root) or (root / "orgs" / name).exists():
        raise OrgError(f"organisation {name!r} already exists in {root}")
    node_names = [f"{name}-node{k}" for k in range(nodes)]
    for node in node_names:
        if (root / "nodes" / node).exists():
            raise OrgError(f"a node directory {root / 'nodes' / node} already exists")
    peers = [*_existing_peers(root)]
    own = [f"{host}:{p2p_port + k}" for k in range(nodes)]
    taken = set(peers) & set(own)
    if taken:
        raise OrgError(f"p2p address(es) {', '.join(sorted(taken))} belong to existing nodes")

    now = _utc_now(None)
    not_before = now - BACKDATE
    not_after = now + timedelta(days=validity_days)
    ca_not_after = now + timedelta(days=validity_days * CA_VALIDITY_FACTOR)
    staging = Path(tempfile.mkdtemp(prefix=f".org-{name}-", dir=root))
    published: list[Path] = []
    try:
        org_dir = staging / "orgs" / name
        ca_key = suite.generate_key()
        ca_der = create_ca(suite, name, ca_key, not_before=not_before, not_after=ca_not_after)
        _write_pair(org_dir / "ca", "ca", ca_der, ca_key)
        issuer = _CA(suite, name, ca_der, ca_key)
        issuer.issue("admin", "admin", org_dir / "admin", "admin", not_before, not_after)
        for k in range(1, clients + 1):
            issuer.issue(
                "client", f"client{k}", org_dir / "clients", f"client{k}", not_before, not_after
            )
        for k, node in enumerate(node_names):
            cred_dir = org_dir / "nodes" / node
            issuer.issue("node", node, cred_dir, "node", not_before, not_after)
            node_dir = staging / "nodes" / node
            node_dir.mkdir(parents=True)
            # relative to DIR/nodes/<node>/, where the config lives after the rename
            cred = Path("..", "..", "orgs", name, "nodes", node)
            cfg = NodeConfig(
                name=node,
                org=name,
                data_dir=Path("data"),
                genesis=Path("..", "..", GENESIS_FILE),
                key=cred / "node.key",
                cert=cred / "node.crt",
                api_host=host,
                api_port=api_port + k,
                p2p_host=host,
                p2p_port=p2p_port + k,
                peers=tuple([*peers, *(a for j, a in enumerate(own) if j != k)]),
            )
            save_config(cfg, node_dir / CONFIG_FILE)

        (root / "orgs").mkdir(exist_ok=True)
        os.rename(org_dir, root / "orgs" / name)
        published.append(root / "orgs" / name)
        (root / "nodes").mkdir(exist_ok=True)
        for node in node_names:
            os.rename(staging / "nodes" / node, root / "nodes" / node)
            published.append(root / "nodes" / node)
    except BaseException as e:
        for path in reversed(published):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, OSError | ConfigError | CertificateError):
            raise OrgError(f"cannot create organisation {name!r}: {e}") from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    org = load_org(root, name)
    return NewOrg(
        org=org,
        nodes=tuple(
            NodeLayout(
                n,
                name,
                root / "nodes" / n,
                root / "nodes" / n / CONFIG_FILE,
                next(c for c in org.nodes if c.name == n),
            )
            for n in node_names
        ),
    )


# --- certificates ------------------------------------------------------------------------


def issue_cert(
    network_dir: Path,
    org: str,
    role: str,
    name: str,
    *,
    public_key: bytes | None = None,
    validity_days: int = 365,
    now: datetime | None = None,
) -> Credential:
    """Have ``org``'s CA issue a ``role`` certificate for member ``name``.

    Without ``public_key`` a key is generated and written (mode 0600) beside the certificate;
    with one, only the certificate is written (the holder keeps the key). An existing member
    of that name is refused: use ``renew_cert``.
    """
    if role not in ROLES:
        raise OrgError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    _check_name(name, "member name")
    _check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    root = _root(network_dir)
    suite = load_suite(root)
    ca = _load_ca(root, org, suite)
    try:
        existing = find_credential(root, org, name)
    except KeyError:
        pass
    else:
        raise OrgError(f"{org}/{name} already has a certificate {existing.cert}; renew it")
    org_dir = root / "orgs" / org
    directory, stem = {
        "admin": (org_dir / "admin", name),
        "client": (org_dir / "clients", name),
        "node": (org_dir / "nodes" / name, "node"),
    }[role]
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    if cert_path.exists() or key_path.exists():
        raise OrgError(f"{cert_path} or {key_path} already exists")
    start = _utc_now(now)
    not_before, not_after = ca.window(start, validity_days)
    key: PrivateKey | None = None
    if public_key is None:
        key = suite.generate_key()
        public_key = key.public_key()
    der = ca.issue_der(role, name, public_key, not_before, not_after)
    _make_private_dir(directory)
    if key is not None:
        _write_private(key_path, key.to_pem())
    _write_new(cert_path, der_to_pem(der))
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
    which names the public key, not the certificate.
    """
    _check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    root = _root(network_dir)
    suite = load_suite(root)
    ca = _load_ca(root, org, suite)
    try:
        cred = find_credential(root, org, name)
    except KeyError as e:
        raise OrgError(str(e.args[0])) from None
    old = read_certificate(cred.cert)
    if old.is_ca or old.org != org or old.role not in ROLES:
        raise OrgError(f"{cred.cert} is not a member certificate of {org!r}")
    start = _utc_now(now)
    not_before, not_after = ca.window(start, validity_days)
    der = ca.issue_der(
        old.role, old.name, old.public_key, not_before, not_after, dict(old.attributes)
    )
    staged = cred.cert.with_name(cred.cert.name + ".new")
    staged.unlink(missing_ok=True)
    _write_new(staged, der_to_pem(der))
    os.replace(cred.cert, cred.cert.with_name(cred.cert.name + OLD_SUFFIX))
    os.replace(staged, cred.cert)
    _fsync_dir(cred.cert.parent)
    return cred


def expiring_certificates(
    network_dir: Path, within_days: int = 30, now: datetime | None = None
) -> list[ExpiringCertificate]:
    """Every certificate of the directory (CAs included) that ends before ``now + within``.

    Already expired ones are included. Sorted by end of validity, soonest first; replaced
    certificates (``.crt.old``) are not looked at.
    """
    if type(within_days) is not int or within_days < 0:
        raise OrgError(f"within_days must be a non-negative integer, got {within_days!r}")
    root = _root(network_dir)
    limit = _utc_now(now) + timedelta(days=within_days)
    found = []
    for org in org_names(root):
        org_dir = root / "orgs" / org
        nodes_dir = org_dir / "nodes"
        paths = [
            org_dir / "ca" / "ca.crt",
            *(org_dir / "admin" / f"{s}.crt" for s in _stems(org_dir / "admin")),
            *(org_dir / "clients" / f"{s}.crt" for s in _stems(org_dir / "clients")),
            *sorted(nodes_dir.glob("*/node.crt") if nodes_dir.is_dir() else ()),
        ]
        for path in paths:
            info = read_certificate(path)
            not_after = datetime.fromtimestamp(info.not_after_ms / 1000, UTC)
            if not_after <= limit:
                role = CA_ROLE if info.is_ca else info.role
                found.append(ExpiringCertificate(org, info.name, role, not_after, path))
    return sorted(found, key=lambda c: (c.not_after, c.org, c.name))


# --- helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CA:
    suite: Suite
    org: str
    cert: bytes
    key: PrivateKey

    @property
    def not_after(self) -> datetime:
        return datetime.fromtimestamp(parse_certificate(self.cert).not_after_ms / 1000, UTC)

    def window(self, start: datetime, validity_days: int) -> tuple[datetime, datetime]:
        """``(not_before, not_after)`` from ``start``; never past the CA's own end."""
        not_after = start + timedelta(days=validity_days)
        if not_after > self.not_after:
            raise OrgError(
                f"the CA of {self.org!r} ends {self.not_after.isoformat()}; a certificate of "
                f"{validity_days} days would outlive it"
            )
        return start - BACKDATE, not_after

    def issue_der(
        self,
        role: str,
        name: str,
        public_key: bytes,
        not_before: datetime,
        not_after: datetime,
        attributes: dict[str, str] | None = None,
    ) -> bytes:
        try:
            return issue_certificate(
                self.suite,
                ca_cert=self.cert,
                ca_key=self.key,
                org=self.org,
                role=role,
                name=name,
                public_key=public_key,
                not_before=not_before,
                not_after=not_after,
                attributes=attributes or None,
            )
        except (CertificateError, SuiteError) as e:
            raise OrgError(f"cannot issue {role} certificate for {self.org}/{name}: {e}") from None

    def issue(
        self,
        role: str,
        name: str,
        directory: Path,
        stem: str,
        not_before: datetime,
        not_after: datetime,
    ) -> bytes:
        """Make a key and its certificate, write both; return the public key."""
        key = self.suite.generate_key()
        der = self.issue_der(role, name, key.public_key(), not_before, not_after)
        _write_pair(directory, stem, der, key)
        return key.public_key()


def _load_ca(root: Path, org: str, suite: Suite) -> _CA:
    ca_dir = root / "orgs" / org / "ca"
    if not (ca_dir / "ca.crt").is_file():
        raise OrgError(f"no organisation {org!r} in {root}")
    info = read_certificate(ca_dir / "ca.crt")
    try:
        key = suite.load_private_key((ca_dir / "ca.key").read_bytes())
    except FileNotFoundError:
        raise OrgError(f"the CA key of {org!r} is not in {ca_dir} (kept offline?)") from None
    except (OSError, ValueError) as e:
        raise OrgError(f"cannot load the CA key of {org!r}: {e}") from None
    if key.public_key() != info.public_key:
        raise OrgError(f"{ca_dir / 'ca.key'} does not match {ca_dir / 'ca.crt'}")
    return _CA(suite, org, info.der, key)


def _existing_peers(root: Path) -> list[str]:
    """The p2p addresses of every node config in the directory, by node name."""
    nodes_root = root / "nodes"
    peers = []
    for config in sorted(nodes_root.glob(f"*/{CONFIG_FILE}") if nodes_root.is_dir() else ()):
        try:
            peers.append(load_config(config).p2p_address)
        except ConfigError as e:
            raise OrgError(str(e)) from None
    return peers


def _stems(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name[: -len(".crt")] for p in directory.iterdir() if p.name.endswith(".crt"))


def _client_order(stems: list[str]) -> list[str]:
    """``client<k>`` by number first (as ``network init`` wrote them), then others by name."""
    numbered = sorted(
        (int(m.group(1)), s) for s in stems if (m := _CLIENT_NUMBER.match(s)) is not None
    )
    named = [s for s in stems if _CLIENT_NUMBER.match(s) is None]
    return [s for _, s in numbered] + named


def _cred(org: str, role: str, stem: str, directory: Path) -> Credential:
    return Credential(org, role, stem, directory / f"{stem}.crt", directory / f"{stem}.key")


def _write_new(path: Path, data: bytes) -> None:
    """Write a public file that must not exist yet (mode 0644), durably."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise OrgError(
            f"{what} {value!r} must be 1..64 of A-Z a-z 0-9 _ . -, starting with a letter or digit"
        )


def _check_int(what: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise OrgError(f"{what} must be an integer in {low}..{high}, got {value!r}")


def _utc_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if now.tzinfo is None:
        raise OrgError("now must be timezone-aware")
    return now.astimezone(UTC)


def _root(network_dir: Path) -> Path:
    return Path(os.path.abspath(Path(network_dir).expanduser()))
