"""Introduction: ``yulian network init`` — a local consortium on disk, from nothing.

``init_network`` creates, for N organisations, a root CA each, an admin and client certificates,
node certificates for the validators (assigned round-robin to the organisations), the genesis
and one config file per node::

    DIR/genesis.json
    DIR/orgs/<org>/ca/ca.crt, ca.key
    DIR/orgs/<org>/admin/admin.crt, admin.key
    DIR/orgs/<org>/clients/client<k>.crt, client<k>.key      k = 1..clients_per_org
    DIR/orgs/<org>/nodes/<node>/node.crt, node.key
    DIR/nodes/<node>/config.toml

Certificates are PEM; private keys are PKCS#8 PEM with mode 0600 in directories with mode 0700.
Everything is first written into a temporary sibling directory and renamed into place at the
end, so a failed init leaves no half-made network behind; a non-empty target is refused before
anything is written. ``NetworkLayout`` tells the CLI and the SDK where everything is;
``load_layout`` rebuilds it from an existing directory.

This is tooling, not consensus: it reads the wall clock (genesis time, certificate validity)
and the operating system's randomness (keys, serial numbers).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import create_ca, der_to_pem, issue_certificate
from yulian.node.config import NodeConfig, save_config
from yulian.types.consortium import POLICY_SCOPES
from yulian.types.genesis import ChainParams, Genesis, GenesisError, Organisation, Validator

DEFAULT_POLICIES = {scope: "MAJORITY" for scope in POLICY_SCOPES}
MAX_ORGS = 64
MAX_VALIDATORS = 256
MAX_CLIENTS_PER_ORG = 1000
CA_VALIDITY_FACTOR = 10  # a root CA outlives the certificates it issues, so they can be renewed
BACKDATE = timedelta(hours=1)  # tolerate clocks a little behind the one that ran init

GENESIS_FILE = "genesis.json"
CONFIG_FILE = "config.toml"
_CLIENT_FILE = re.compile(r"^client([1-9][0-9]*)\.crt$")


class BootstrapError(ValueError):
    """A network directory that cannot be created or read."""


@dataclass(frozen=True)
class Credential:
    """Where one member's certificate and private key are."""

    org: str
    role: str  # "admin" | "client" | "node"
    name: str
    cert: Path
    key: Path


@dataclass(frozen=True)
class OrgLayout:
    name: str
    ca_cert: Path
    ca_key: Path
    admin: Credential
    clients: tuple[Credential, ...]
    nodes: tuple[Credential, ...]


@dataclass(frozen=True)
class NodeLayout:
    name: str
    org: str
    dir: Path
    config: Path
    credential: Credential


@dataclass(frozen=True)
class NetworkLayout:
    """The paths of a network directory made by ``init_network``."""

    root: Path
    genesis: Path
    orgs: tuple[OrgLayout, ...]
    nodes: tuple[NodeLayout, ...]

    def org(self, name: str) -> OrgLayout:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(f"no organisation {name!r} in {self.root}")

    def node(self, name: str) -> NodeLayout:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in {self.root}")

    def credential(self, org: str, name: str) -> Credential:
        """The admin (``"admin"``), a client (``"client1"``) or a node of ``org``."""
        layout = self.org(org)
        for cred in (layout.admin, *layout.clients, *layout.nodes):
            if cred.name == name:
                return cred
        raise KeyError(f"no member {name!r} in organisation {org!r} of {self.root}")


def init_network(
    dir: Path,
    *,
    orgs: int = 2,
    validators: int = 1,
    clients_per_org: int = 1,
    chain_id: str = "yulian-local",
    suite_name: str = "standard",
    base_api_port: int = 8600,
    base_p2p_port: int = 9600,
    contracts: Sequence[tuple[str, str]] = (),
    params: ChainParams | None = None,
    validity_days: int = 365,
) -> NetworkLayout:
    """Create a local network in ``dir`` (missing or empty); raises ``BootstrapError``."""
    root = Path(os.path.abspath(Path(dir).expanduser()))
    _check_counts(orgs, validators, clients_per_org, validity_days)
    for what, base in (("base_api_port", base_api_port), ("base_p2p_port", base_p2p_port)):
        if base < 1 or base + validators - 1 > 65535:
            raise BootstrapError(f"{what}={base} leaves no room for {validators} node ports")
    if root.exists():
        if not root.is_dir():
            raise BootstrapError(f"{root} exists and is not a directory")
        if any(root.iterdir()):
            raise BootstrapError(f"refusing to initialise a network in non-empty directory {root}")
    try:
        suite = get_suite(suite_name)
    except ValueError as e:
        raise BootstrapError(str(e)) from None

    org_names = [f"org{j + 1}" for j in range(orgs)]
    node_specs = [
        (f"{org_names[i % orgs]}-node{i // orgs}", org_names[i % orgs]) for i in range(validators)
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    not_before = now - BACKDATE
    not_after = now + timedelta(days=validity_days)
    ca_not_after = now + timedelta(days=validity_days * CA_VALIDITY_FACTOR)

    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
    try:
        organisations: list[Organisation] = []
        node_keys: dict[str, bytes] = {}
        for org in org_names:
            org_dir = staging / "orgs" / org
            ca_key = suite.generate_key()
            ca_der = create_ca(suite, org, ca_key, not_before=not_before, not_after=ca_not_after)
            _write_pair(org_dir / "ca", "ca", ca_der, ca_key)
            organisations.append(Organisation(org, ca_der))

            issuer = _Issuer(suite, org, ca_der, ca_key, not_before, not_after)
            issuer.issue("admin", "admin", org_dir / "admin", "admin")
            for k in range(1, clients_per_org + 1):
                issuer.issue("client", f"client{k}", org_dir / "clients", f"client{k}")
            for node, node_org in node_specs:
                if node_org == org:
                    node_keys[node] = issuer.issue("node", node, org_dir / "nodes" / node, "node")

        try:
            genesis = Genesis(
                chain_id=chain_id,
                suite=suite.name,
                time_ms=int(now.timestamp()) * 1000,
                organisations=tuple(organisations),
                validators=tuple(
                    Validator(
                        name=node,
                        org=org,
                        public_key=node_keys[node],
                        power=1,
                        address=f"127.0.0.1:{base_p2p_port + i}",
                    )
                    for i, (node, org) in enumerate(node_specs)
                ),
                policies=dict(DEFAULT_POLICIES),
                params=params if params is not None else ChainParams(),
                contracts=tuple((str(n), str(s)) for n, s in contracts),
            )
        except GenesisError as e:
            raise BootstrapError(f"invalid genesis: {e}") from None
        (staging / GENESIS_FILE).write_text(genesis.to_json(), encoding="utf-8")

        for i, (node, org) in enumerate(node_specs):
            # Every path stays inside the network directory and is written relative to the
            # config file, so the staged files read the same after the rename into place.
            node_dir = staging / "nodes" / node
            cred_dir = staging / "orgs" / org / "nodes" / node
            node_dir.mkdir(parents=True)
            cfg = NodeConfig(
                name=node,
                org=org,
                data_dir=node_dir / "data",
                genesis=staging / GENESIS_FILE,
                key=cred_dir / "node.key",
                cert=cred_dir / "node.crt",
                api_port=base_api_port + i,
                p2p_port=base_p2p_port + i,
                peers=tuple(f"127.0.0.1:{base_p2p_port + j}" for j in range(validators) if j != i),
            )
            save_config(cfg, node_dir / CONFIG_FILE)

        _publish(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_layout(root)


def load_layout(dir: Path) -> NetworkLayout:
    """The layout of an existing network directory; raises ``BootstrapError``."""
    root = Path(os.path.abspath(Path(dir).expanduser()))
    genesis_path = root / GENESIS_FILE
    try:
        genesis = Genesis.load(genesis_path)
    except FileNotFoundError:
        raise BootstrapError(f"{root} is not a network directory (no {GENESIS_FILE})") from None
    except (OSError, ValueError) as e:
        raise BootstrapError(f"{genesis_path}: {e}") from None

    orgs: list[OrgLayout] = []
    org_names = [o.name for o in genesis.organisations]
    orgs_root = root / "orgs"
    if orgs_root.is_dir():  # organisations added after the genesis (`yulian org create`)
        org_names += sorted(
            p.name
            for p in orgs_root.iterdir()
            if p.is_dir() and p.name not in org_names and (p / "ca" / "ca.crt").is_file()
        )
    for org_name in org_names:
        org_dir = root / "orgs" / org_name
        clients_dir = org_dir / "clients"
        numbers = sorted(
            int(m.group(1))
            for p in (clients_dir.iterdir() if clients_dir.is_dir() else ())
            if (m := _CLIENT_FILE.match(p.name))
        )
        nodes_dir = org_dir / "nodes"
        node_names = sorted(p.name for p in nodes_dir.iterdir()) if nodes_dir.is_dir() else []
        orgs.append(
            OrgLayout(
                name=org_name,
                ca_cert=_existing(org_dir / "ca" / "ca.crt"),
                ca_key=org_dir / "ca" / "ca.key",  # may be kept offline
                admin=_credential(org_name, "admin", "admin", org_dir / "admin", "admin"),
                clients=tuple(
                    _credential(org_name, "client", f"client{k}", clients_dir, f"client{k}")
                    for k in numbers
                ),
                nodes=tuple(
                    _credential(org_name, "node", n, nodes_dir / n, "node") for n in node_names
                ),
            )
        )

    # Validators first, in genesis order (their ports follow it), then any other node.
    names = [v.name for v in genesis.validators]
    nodes_root = root / "nodes"
    if nodes_root.is_dir():
        names += sorted(p.name for p in nodes_root.iterdir() if p.name not in names and p.is_dir())
    org_of = {c.name: o.name for o in orgs for c in o.nodes}
    layout_nodes: list[NodeLayout] = []
    for name in names:
        if name not in org_of:
            raise BootstrapError(f"{root}: node {name} has no certificate under orgs/*/nodes/")
        org_layout = next(o for o in orgs if o.name == org_of[name])
        layout_nodes.append(
            NodeLayout(
                name=name,
                org=org_of[name],
                dir=nodes_root / name,
                config=_existing(nodes_root / name / CONFIG_FILE),
                credential=next(c for c in org_layout.nodes if c.name == name),
            )
        )
    return NetworkLayout(
        root=root, genesis=genesis_path, orgs=tuple(orgs), nodes=tuple(layout_nodes)
    )


# --- helpers ----------------------------------------------------------------------------


def _check_counts(orgs: int, validators: int, clients: int, validity_days: int) -> None:
    checks = (
        ("orgs", orgs, 1, MAX_ORGS),
        ("validators", validators, 1, MAX_VALIDATORS),
        ("clients_per_org", clients, 0, MAX_CLIENTS_PER_ORG),
        ("validity_days", validity_days, 1, 36_500),
    )
    for what, value, low, high in checks:
        if type(value) is not int or not low <= value <= high:
            raise BootstrapError(f"{what} must be an integer in {low}..{high}, got {value!r}")


@dataclass(frozen=True)
class _Issuer:
    suite: Suite
    org: str
    ca_der: bytes
    ca_key: PrivateKey
    not_before: datetime
    not_after: datetime

    def issue(self, role: str, name: str, directory: Path, stem: str) -> bytes:
        """Make a key and its certificate, write both; return the public key."""
        key = self.suite.generate_key()
        cert = issue_certificate(
            self.suite,
            ca_cert=self.ca_der,
            ca_key=self.ca_key,
            org=self.org,
            role=role,
            name=name,
            public_key=key.public_key(),
            not_before=self.not_before,
            not_after=self.not_after,
        )
        _write_pair(directory, stem, cert, key)
        return key.public_key()


def _write_pair(directory: Path, stem: str, cert_der: bytes, key: PrivateKey) -> None:
    _make_private_dir(directory)
    (directory / f"{stem}.crt").write_bytes(der_to_pem(cert_der))
    _write_private(directory / f"{stem}.key", key.to_pem())


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(staging: Path, root: Path) -> None:
    """Rename the finished staging directory to ``root``.

    rename(2) replaces a missing or empty directory and fails on a non-empty one, so a
    directory filled by someone else meanwhile is never overwritten.
    """
    os.chmod(staging, 0o755)
    try:
        os.rename(staging, root)
    except OSError as e:
        raise BootstrapError(f"cannot move the new network into {root}: {e.strerror}") from None
    with contextlib.suppress(OSError):
        fd = os.open(root.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _credential(org: str, role: str, name: str, directory: Path, stem: str) -> Credential:
    return Credential(
        org=org,
        role=role,
        name=name,
        cert=_existing(directory / f"{stem}.crt"),
        key=directory / f"{stem}.key",
    )


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise BootstrapError(f"missing file {path}")
    return path
