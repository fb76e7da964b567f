"""Introduction: network directories for nodes — found one from nothing, add an organisation.

``init_network`` (``yulian network init``) is the genesis ceremony run on one machine
(``node.ceremony``): for N organisations, each initialises its identities and node configs
(``init_org``; validators assigned round-robin to the organisations, plus one full node for
each organisation of ``full_node_orgs``, such as a regulator), exports its public material
(``export_org``), the genesis is assembled from the exports (``pki.ceremony``) and every
organisation accepts it by its hash (``accept_genesis``). ``init_org_directory`` (``yulian org
init``) is one organisation's first step on its own machine. ``create_org`` (``yulian org
create``) adds a *new* organisation's identities and one config per new node to a network
directory, whose peers are the existing nodes' advertised addresses and whose genesis is the
network's. The added organisation is not a member until the consortium votes ``add_org``
with its CA certificate; its node is not a validator until ``add_validator`` is voted too.
The tree is described in ``pki.layout``.

All three write everything into a staging directory first and rename it into place at the
end, so a failure leaves nothing half-made; a non-empty target of ``init_network`` or
``init_org_directory`` is refused before anything is written. Tooling, not consensus: the
wall clock (genesis time, validity) and the operating system's randomness (keys) are read
here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from yulian.crypto.suite import Suite, get_suite
from yulian.crypto.x509 import CertificateError
from yulian.node.ceremony import NodePlan, accept_genesis, export_org, init_org
from yulian.node.config import ConfigError, join_address, load_config
from yulian.pki.ceremony import assemble_genesis
from yulian.pki.chain import ChainIdentity
from yulian.pki.files import PkiError
from yulian.pki.layout import (
    CONFIG_FILE,
    NetworkLayout,
    NodeLayout,
    OrgLayout,
    load_genesis,
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
    utc_now,
)
from yulian.types.consortium import POLICY_SCOPES
from yulian.types.genesis import ChainParams

DEFAULT_POLICIES = {scope: "MAJORITY" for scope in POLICY_SCOPES}
MAX_ORGS = 64
MAX_VALIDATORS = 256
MAX_NEW_NODES = 64


class BootstrapError(PkiError):
    """A network directory that cannot be created or grown."""


@dataclass(frozen=True)
class NewOrg:
    """What ``create_org`` or ``init_org_directory`` wrote: the organisation's files and its
    nodes' configs."""

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
    full_node_orgs: Sequence[str] = (),
) -> NetworkLayout:
    """Create a local network in ``dir`` (missing or empty); raises ``BootstrapError``.

    Organisations ``org1..org<orgs>`` share ``validators`` validators round-robin; each name
    of ``full_node_orgs`` is one more organisation (a regulator, an auditor) with one
    non-voting full node. Nodes listen on loopback, validators first, on consecutive ports.
    """
    root = network_root(dir)
    with _as_bootstrap_error():
        for what, value, low, high in (
            ("orgs", orgs, 1, MAX_ORGS),
            ("validators", validators, 1, MAX_VALIDATORS),
            ("clients_per_org", clients_per_org, 0, MAX_CLIENTS_PER_ORG),
            ("validity_days", validity_days, 1, MAX_VALIDITY_DAYS),
        ):
            check_int(what, value, low, high)
        for name in full_node_orgs:
            check_name(name, "organisation name")
    names = [f"org{j + 1}" for j in range(orgs)]
    if len(set(full_node_orgs)) != len(full_node_orgs) or set(full_node_orgs) & set(names):
        raise BootstrapError(f"full-node organisations {list(full_node_orgs)} repeat a name")
    specs = [(f"{names[i % orgs]}-node{i // orgs}", names[i % orgs]) for i in range(validators)]
    specs += [(f"{org}-node0", org) for org in full_node_orgs]
    for what, base in (("base_api_port", base_api_port), ("base_p2p_port", base_p2p_port)):
        if base < 1 or base + len(specs) - 1 > 65535:
            raise BootstrapError(f"{what}={base} leaves no room for {len(specs)} node ports")
    _refuse_non_empty(root)
    suite = _suite(suite_name)
    addresses = [f"127.0.0.1:{base_p2p_port + i}" for i in range(len(specs))]
    plans = {
        node: NodePlan(
            name=node,
            p2p_port=base_p2p_port + i,
            api_port=base_api_port + i,
            peers=tuple(a for j, a in enumerate(addresses) if j != i),
        )
        for i, (node, _) in enumerate(specs)
    }
    now = utc_now()
    with _staged(root) as staging, _as_bootstrap_error():
        for org in [*names, *full_node_orgs]:
            init_org(
                staging,
                org,
                suite=suite,
                nodes=[plans[n] for n, o in specs if o == org],
                clients=clients_per_org,
                validity_days=validity_days,
                now=now,
            )
        exports = [export_org(staging, org) for org in names]
        exports += [export_org(staging, org, full_nodes=[f"{org}-node0"]) for org in full_node_orgs]
        genesis = assemble_genesis(
            exports,
            chain_id=chain_id,
            time_ms=int(now.timestamp()) * 1000,
            params=params,
            policies=DEFAULT_POLICIES,
            contracts=[(str(n), str(s)) for n, s in contracts],
        )
        accept_genesis(staging, genesis, ChainIdentity.of(genesis).genesis_hash)
    return load_layout(root)


def plan_nodes(
    org: str,
    count: int,
    *,
    hosts: Sequence[str] = ("127.0.0.1",),
    listen: str | None = None,
    p2p_port: int = 9600,
    api_port: int = 8600,
    api_host: str = "127.0.0.1",
    peers: Sequence[str] = (),
) -> list[NodePlan]:
    """Node ``k`` of ``org`` (``<org>-node<k>``) on ``p2p_port + k`` / ``api_port + k``,
    reached at ``hosts[k]`` (or ``hosts[0]`` for all). It listens on ``listen``, by default
    on that host when it is an IP address and on every interface when it is a DNS name. Its
    peers are ``peers`` and the organisation's other nodes."""
    with _as_bootstrap_error():
        check_name(org, "organisation name")
        check_int("nodes", count, 0, MAX_NEW_NODES)
    if len(hosts) not in (1, count):
        raise BootstrapError(
            f"give one host for all nodes or one per node ({count}), not {len(hosts)}"
        )
    for what, base in (("p2p_port", p2p_port), ("api_port", api_port)):
        if type(base) is not int or base < 1 or base + max(count, 1) - 1 > 65535:
            raise BootstrapError(f"{what}={base!r} leaves no room for {count} node port(s)")
    plans: list[NodePlan] = []
    for k in range(count):
        host = hosts[k] if len(hosts) == count else hosts[0]
        bind = listen if listen is not None else (host if _is_ip(host) else "0.0.0.0")
        advertise = join_address(host, p2p_port + k)
        plans.append(
            NodePlan(
                name=f"{org}-node{k}",
                p2p_host=bind,
                p2p_port=p2p_port + k,
                advertise=None if join_address(bind, p2p_port + k) == advertise else advertise,
                api_host=api_host,
                api_port=api_port + k,
            )
        )
    # an organisation's nodes know each other (its full nodes need not be in any genesis)
    return [replace(p, peers=(*peers, *(q.address for q in plans if q is not p))) for p in plans]


def init_org_directory(
    dir: Path,
    name: str,
    *,
    nodes: Sequence[NodePlan],
    clients: int = 1,
    suite_name: str = "standard",
    validity_days: int = 365,
) -> NewOrg:
    """One organisation's directory on its own machine (``yulian org init``): its identities
    and node configs, no genesis yet (it accepts one later). ``dir`` must be missing or empty;
    raises ``BootstrapError``."""
    root = network_root(dir)
    with _as_bootstrap_error():
        check_name(name, "organisation name")
        check_int("clients", clients, 0, MAX_CLIENTS_PER_ORG)
        check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
    _refuse_non_empty(root)
    suite = _suite(suite_name)
    with _staged(root) as staging, _as_bootstrap_error():
        init_org(
            staging,
            name,
            suite=suite,
            nodes=nodes,
            clients=clients,
            validity_days=validity_days,
            now=utc_now(),
        )
    return _new_org(root, name, [p.name for p in nodes])


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
    ``api_port + k``. Its organisation accepts the network's genesis as a joiner (it becomes
    a member by vote). Everything is staged inside the network directory and renamed into
    place, so a failure leaves nothing half-made.
    """
    root = network_root(network_dir)
    with _as_bootstrap_error():
        check_name(name, "organisation name")
        check_int("clients", clients, 0, MAX_CLIENTS_PER_ORG)
        check_int("validity_days", validity_days, 1, MAX_VALIDITY_DAYS)
        genesis = load_genesis(root)
        suite = load_suite(root)
        if name in org_names(root) or genesis.organisation(name) or (root / "orgs" / name).exists():
            raise BootstrapError(f"organisation {name!r} already exists in {root}")
    plans = plan_nodes(
        name, nodes, hosts=[host], p2p_port=p2p_port, api_port=api_port, api_host=host
    )
    peers = _existing_peers(root)
    own = [p.address for p in plans]
    taken = set(peers) & set(own)
    if taken:
        raise BootstrapError(f"p2p address(es) {', '.join(sorted(taken))} belong to existing nodes")
    plans = [
        replace(p, peers=tuple([*peers, *(a for j, a in enumerate(own) if j != k)]))
        for k, p in enumerate(plans)
    ]
    for plan in plans:
        if (root / "nodes" / plan.name).exists():
            raise BootstrapError(f"a node directory {root / 'nodes' / plan.name} already exists")

    staging = Path(tempfile.mkdtemp(prefix=f".org-{name}-", dir=root))
    published: list[Path] = []
    try:
        init_org(
            staging,
            name,
            suite=suite,
            nodes=plans,
            clients=clients,
            validity_days=validity_days,
            now=utc_now(),
        )
        accept_genesis(staging, genesis, ChainIdentity.of(genesis).genesis_hash, join=True)
        (root / "orgs").mkdir(exist_ok=True)
        os.rename(staging / "orgs" / name, root / "orgs" / name)
        published.append(root / "orgs" / name)
        (root / "nodes").mkdir(exist_ok=True)
        for plan in plans:
            os.rename(staging / "nodes" / plan.name, root / "nodes" / plan.name)
            published.append(root / "nodes" / plan.name)
    except BaseException as e:
        for path in reversed(published):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, OSError | ConfigError | CertificateError | PkiError):
            raise BootstrapError(f"cannot create organisation {name!r}: {e}") from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return _new_org(root, name, [p.name for p in plans])


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
    """The advertised p2p addresses of every node config in the directory, by node name."""
    nodes_root = root / "nodes"
    peers = []
    for config in sorted(nodes_root.glob(f"*/{CONFIG_FILE}") if nodes_root.is_dir() else ()):
        try:
            peers.append(load_config(config).advertised_address)
        except ConfigError as e:
            raise BootstrapError(str(e)) from None
    return peers


def _new_org(root: Path, name: str, node_names: Sequence[str]) -> NewOrg:
    org = load_org(root, name)
    by_name = {c.name: c for c in org.nodes}
    return NewOrg(
        org=org,
        nodes=tuple(
            NodeLayout(n, name, root / "nodes" / n, root / "nodes" / n / CONFIG_FILE, by_name[n])
            for n in node_names
        ),
    )


def _refuse_non_empty(root: Path) -> None:
    if root.exists():
        if not root.is_dir():
            raise BootstrapError(f"{root} exists and is not a directory")
        if any(root.iterdir()):
            raise BootstrapError(f"refusing to initialise in non-empty directory {root}")


def _suite(name: str) -> Suite:
    try:
        return get_suite(name)
    except ValueError as e:
        raise BootstrapError(str(e)) from None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _staged(root: Path) -> Iterator[Path]:
    """A staging directory beside ``root``, renamed to ``root`` when the block succeeds and
    removed when it fails."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
    try:
        yield staging
        _publish(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
