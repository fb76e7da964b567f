"""Introduction: network directories for nodes — found one from nothing, add an organisation.

``init_network`` (``yulian network init``) creates, for N organisations, their identities
(``pki.members.found_org``), node certificates for the validators (assigned round-robin to
the organisations), the genesis and one config per node; ``create_org`` (``yulian org
create``) adds a *new* organisation's identities and one config per new node, whose peers are
the existing nodes' p2p addresses and whose genesis is the network's. The added organisation
is not a member until the consortium votes ``add_org`` with its CA certificate; its node is
not a validator until ``add_validator`` is voted too. The tree is described in
``pki.layout``.

Both write everything into a staging directory first and rename it into place at the end, so
a failure leaves nothing half-made; a non-empty target of ``init_network`` is refused before
anything is written. Tooling, not consensus: the wall clock (genesis time, validity) and the
operating system's randomness (keys) are read here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import CertificateError
from yulian.node.config import ConfigError, NodeConfig, load_config, save_config
from yulian.pki.files import PkiError
from yulian.pki.layout import (
    CONFIG_FILE,
    GENESIS_FILE,
    NetworkLayout,
    NodeLayout,
    OrgLayout,
    load_layout,
    load_org,
    load_suite,
    network_root,
    org_names,
)
from yulian.pki.members import (
    MAX_CLIENTS_PER_ORG,
    MAX_VALIDITY_DAYS,
    check_int,
    check_name,
    found_org,
    utc_now,
)
from yulian.types.consortium import POLICY_SCOPES
from yulian.types.genesis import ChainParams, Genesis, GenesisError, Organisation, Validator

DEFAULT_POLICIES = {scope: "MAJORITY" for scope in POLICY_SCOPES}
MAX_ORGS = 64
MAX_VALIDATORS = 256
MAX_NEW_NODES = 64


class BootstrapError(PkiError):
    """A network directory that cannot be created or grown."""


@dataclass(frozen=True)
class NewOrg:
    """What ``create_org`` wrote: the organisation's files and its nodes' configs."""

    org: OrgLayout
    nodes: tuple[NodeLayout, ...]


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
    root = network_root(dir)
    with _as_bootstrap_error():
        for what, value, low, high in (
            ("orgs", orgs, 1, MAX_ORGS),
            ("validators", validators, 1, MAX_VALIDATORS),
            ("clients_per_org", clients_per_org, 0, MAX_CLIENTS_PER_ORG),
            ("validity_days", validity_days, 1, MAX_VALIDITY_DAYS),
        ):
            check_int(what, value, low, high)
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

    names = [f"org{j + 1}" for j in range(orgs)]
    node_specs = [
        (f"{names[i % orgs]}-node{i // orgs}", names[i % orgs]) for i in range(validators)
    ]
    now = utc_now()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
    try:
        organisations: list[Organisation] = []
        node_keys: dict[str, bytes] = {}
        for org in names:
            with _as_bootstrap_error():
                founded = found_org(
                    staging / "orgs" / org,
                    suite,
                    org,
                    clients=clients_per_org,
                    node_names=[n for n, o in node_specs if o == org],
                    now=now,
                    validity_days=validity_days,
                )
            organisations.append(Organisation(org, founded.ca_cert))
            node_keys.update(founded.node_keys)
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
            # Every path is written relative to the config file, so the staged files read the
            # same after the rename into place.
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
    """Add organisation ``name`` to the network directory; raises ``BootstrapError``.

    Node ``k`` (``<name>-node<k>``) listens on ``p2p_port + k`` and serves its API on
    ``api_port + k``. Everything is staged inside the network directory and renamed into
    place, so a failure leaves nothing half-made.
    """
    root = network_root(network_dir)
    with _as_bootstrap_error():
        check_name(name, "organisation name")
        check_int("nodes", nodes, 0, MAX_NEW_NODES)
        check_int("clients", clients, 0, MAX_CLIENTS_PER_ORG)
        check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
        for what, base in (("p2p_port", p2p_port), ("api_port", api_port)):
            if type(base) is not int or base < 1 or base + max(nodes, 1) - 1 > 65535:
                raise BootstrapError(f"{what}={base!r} leaves no room for {nodes} node port(s)")
        suite = load_suite(root)
        if name in org_names(root) or (root / "orgs" / name).exists():
            raise BootstrapError(f"organisation {name!r} already exists in {root}")
    node_names = [f"{name}-node{k}" for k in range(nodes)]
    for node in node_names:
        if (root / "nodes" / node).exists():
            raise BootstrapError(f"a node directory {root / 'nodes' / node} already exists")
    peers = _existing_peers(root)
    own = [f"{host}:{p2p_port + k}" for k in range(nodes)]
    taken = set(peers) & set(own)
    if taken:
        raise BootstrapError(f"p2p address(es) {', '.join(sorted(taken))} belong to existing nodes")

    staging = Path(tempfile.mkdtemp(prefix=f".org-{name}-", dir=root))
    published: list[Path] = []
    try:
        org_dir = staging / "orgs" / name
        found_org(
            org_dir,
            suite,
            name,
            clients=clients,
            node_names=node_names,
            now=utc_now(),
            validity_days=validity_days,
        )
        for k, node in enumerate(node_names):
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
        if isinstance(e, OSError | ConfigError | CertificateError | PkiError):
            raise BootstrapError(f"cannot create organisation {name!r}: {e}") from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    org = load_org(root, name)
    by_name = {c.name: c for c in org.nodes}
    return NewOrg(
        org=org,
        nodes=tuple(
            NodeLayout(n, name, root / "nodes" / n, root / "nodes" / n / CONFIG_FILE, by_name[n])
            for n in node_names
        ),
    )


# --- helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def _as_bootstrap_error() -> Iterator[None]:
    """A ``PkiError`` inside re-raised as this module's ``BootstrapError``."""
    try:
        yield
    except BootstrapError:
        raise
    except PkiError as e:
        raise BootstrapError(str(e)) from None


def _existing_peers(root: Path) -> list[str]:
    """The p2p addresses of every node config in the directory, by node name."""
    nodes_root = root / "nodes"
    peers = []
    for config in sorted(nodes_root.glob(f"*/{CONFIG_FILE}") if nodes_root.is_dir() else ()):
        try:
            peers.append(load_config(config).p2p_address)
        except ConfigError as e:
            raise BootstrapError(str(e)) from None
    return peers


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
