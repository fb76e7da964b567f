"""Introduction: where a network directory keeps its genesis, identities and node configs.

``yulian network init`` writes, and ``yulian org create`` / ``yulian ca issue`` add to::

    DIR/genesis.json
    DIR/orgs/<org>/ca/ca.crt, ca.key              the root CA (the key may be kept offline)
    DIR/orgs/<org>/admin/<name>.crt, .key         admins; the first is "admin"
    DIR/orgs/<org>/clients/<name>.crt, .key       clients: client<k> by number, then by name
    DIR/orgs/<org>/nodes/<node>/node.crt, .key    node identities
    DIR/nodes/<node>/config.toml                  one config per node (``node.config``)

``yulian org init`` writes the same tree for one organisation on its own machine (its
``orgs/<org>/`` and its nodes' configs; no other organisation's files, and no genesis until it
accepts one: ``node.ceremony``), so an organisation's directory is a network directory that
holds only what that organisation runs.

``load_layout`` is the one reader of that tree. It reads the directory itself, not only the
genesis, so organisations added after the genesis are found too, and only what the directory
holds: the organisations with a directory, the nodes with a config. Nodes come in the order
their ports were given out: the genesis validators first, then every other node by name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from yulian.crypto.suite import Suite, SuiteError, get_suite
from yulian.pki.files import PkiError
from yulian.types.genesis import Genesis, GenesisError

GENESIS_FILE = "genesis.json"
CONFIG_FILE = "config.toml"
# An organisation or member name becomes a directory or file name: keep it portable.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CLIENT_NUMBER = re.compile(r"^client([1-9][0-9]*)$")


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
    """The paths of a network directory."""

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


def network_root(network_dir: str | os.PathLike[str]) -> Path:
    """``network_dir`` made absolute (symlinks are not followed)."""
    return Path(os.path.abspath(Path(network_dir).expanduser()))


def load_genesis(network_dir: str | os.PathLike[str]) -> Genesis:
    """The genesis of a network directory; raises ``PkiError``."""
    path = network_root(network_dir) / GENESIS_FILE
    try:
        return Genesis.load(path)
    except FileNotFoundError:
        raise PkiError(f"{path.parent} is not a network directory (no {GENESIS_FILE})") from None
    except (OSError, GenesisError, ValueError) as e:
        raise PkiError(f"{path}: {e}") from None


def load_suite(network_dir: str | os.PathLike[str]) -> Suite:
    """The crypto suite of the network's genesis."""
    try:
        return get_suite(load_genesis(network_dir).suite)
    except SuiteError as e:
        raise PkiError(str(e)) from None


def org_dirs(network_dir: str | os.PathLike[str]) -> list[str]:
    """The organisations the directory holds (those with a CA certificate), by name; needs
    no genesis, so it reads an organisation's directory before the ceremony too."""
    orgs_dir = network_root(network_dir) / "orgs"
    return sorted(
        p.name
        for p in (orgs_dir.iterdir() if orgs_dir.is_dir() else ())
        if p.is_dir() and NAME_PATTERN.fullmatch(p.name) and (p / "ca" / "ca.crt").is_file()
    )


def org_names(network_dir: str | os.PathLike[str]) -> list[str]:
    """The organisations with a directory: the genesis ones first (in genesis order), then
    the added ones."""
    root = network_root(network_dir)
    held = org_dirs(root)
    founders = [o.name for o in load_genesis(root).organisations if o.name in held]
    return [*founders, *(name for name in held if name not in founders)]


def load_org(network_dir: str | os.PathLike[str], name: str) -> OrgLayout:
    """The layout of organisation ``name`` read from its directory (founder or added)."""
    root = network_root(network_dir)
    org_dir = root / "orgs" / name
    ca_cert = org_dir / "ca" / "ca.crt"
    if not ca_cert.is_file():
        raise PkiError(f"no organisation {name!r} in {root} (no {ca_cert})")
    admin = org_dir / "admin"
    if not (admin / "admin.crt").is_file():
        raise PkiError(f"organisation {name!r} has no admin certificate {admin / 'admin.crt'}")
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
        ca_key=org_dir / "ca" / "ca.key",
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


def load_layout(network_dir: str | os.PathLike[str]) -> NetworkLayout:
    """The layout of a network directory (or an organisation's), organisations added after
    genesis included."""
    root = network_root(network_dir)
    genesis = load_genesis(root)
    orgs = tuple(load_org(root, name) for name in org_names(root))
    nodes_root = root / "nodes"
    held = sorted(p.name for p in nodes_root.iterdir() if p.is_dir()) if nodes_root.is_dir() else []
    validators = [v.name for v in genesis.validators if v.name in held]
    names = [*validators, *(n for n in held if n not in validators)]
    credentials = {c.name: c for o in orgs for c in o.nodes}
    nodes = []
    for name in names:
        if name not in credentials:
            raise PkiError(f"{root}: node {name} has no certificate under orgs/*/nodes/")
        config = nodes_root / name / CONFIG_FILE
        if not config.is_file():
            raise PkiError(f"missing file {config}")
        cred = credentials[name]
        nodes.append(NodeLayout(name, cred.org, nodes_root / name, config, cred))
    return NetworkLayout(root=root, genesis=root / GENESIS_FILE, orgs=orgs, nodes=tuple(nodes))


def find_credential(network_dir: str | os.PathLike[str], org: str, name: str) -> Credential:
    """Where member ``name`` of ``org`` (an admin, a client or a node) keeps its files.

    Raises ``KeyError`` if there is no such member (the contract of
    ``NetworkLayout.credential``).
    """
    root = network_root(network_dir)
    org_dir = root / "orgs" / org
    if not NAME_PATTERN.fullmatch(org) or not (org_dir / "ca" / "ca.crt").is_file():
        raise KeyError(f"no organisation {org!r} in {root}")
    if NAME_PATTERN.fullmatch(name):
        for role, directory, stem in (
            ("admin", org_dir / "admin", name),
            ("client", org_dir / "clients", name),
            ("node", org_dir / "nodes" / name, "node"),
        ):
            cert = directory / f"{stem}.crt"
            if cert.is_file():
                return Credential(org, role, name, cert, directory / f"{stem}.key")
    raise KeyError(f"no member {name!r} in organisation {org!r} of {root}")


def member_certificates(network_dir: str | os.PathLike[str], org: str) -> list[Path]:
    """Every current certificate of ``org``: its CA, admins, clients and nodes."""
    org_dir = network_root(network_dir) / "orgs" / org
    nodes_dir = org_dir / "nodes"
    return [
        org_dir / "ca" / "ca.crt",
        *(org_dir / "admin" / f"{s}.crt" for s in _stems(org_dir / "admin")),
        *(org_dir / "clients" / f"{s}.crt" for s in _stems(org_dir / "clients")),
        *sorted(nodes_dir.glob("*/node.crt") if nodes_dir.is_dir() else ()),
    ]


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
