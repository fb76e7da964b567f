"""Introduction: one organisation's side of the genesis ceremony, on its own directory.

- ``init_org`` writes an organisation's identities (``pki.members.found_org``: its CA, admin,
  clients, node keys and certificates) and one config per node into a directory; the node
  certificates name the hosts the nodes are dialled at.
- ``export_org`` reads back only public material (the CA certificate, node certificates,
  advertised addresses) into an ``OrgExport`` with the voting power it asks for, and keeps it
  as the directory's record ``orgs/<org>/export.json``.
- ``accept_genesis`` checks a genesis against that record and the hash the organisation was
  given, installs it as ``genesis.json`` and pins its hash in every node config, so that node
  refuses to run any other genesis (``node.config.accepted_genesis``).

``yulian org init / org export / genesis accept`` call these on an organisation's own machine;
``yulian network init`` calls them for every organisation in one staging directory
(``node.bootstrap``), so the one-machine shortcut is the ceremony. Tooling, not consensus.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from yulian.crypto.suite import Suite
from yulian.crypto.x509 import KEY_ALGORITHM_SUITES
from yulian.node.config import (
    DEFAULT_API_PORT,
    DEFAULT_P2P_PORT,
    ConfigError,
    NodeConfig,
    join_address,
    load_config,
    save_config,
)
from yulian.pki.ceremony import (
    CeremonyError,
    ExportedValidator,
    OrgExport,
    check_genesis_for,
    check_genesis_for_joiner,
)
from yulian.pki.chain import ChainIdentity
from yulian.pki.files import PkiError, read_certificate, write_public
from yulian.pki.layout import CONFIG_FILE, GENESIS_FILE, NAME_PATTERN, network_root, org_dirs
from yulian.pki.members import check_name, found_org
from yulian.types.genesis import Genesis

EXPORT_RECORD = "export.json"  # orgs/<org>/export.json: what the organisation last exported


@dataclass(frozen=True)
class NodePlan:
    """Where one node listens and where it is reached."""

    name: str
    p2p_host: str = "127.0.0.1"  # listen address
    p2p_port: int = DEFAULT_P2P_PORT
    advertise: str | None = None  # "host:port" others dial; None: p2p_host:p2p_port
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    peers: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """Where the other nodes dial it."""
        return self.advertise or join_address(self.p2p_host, self.p2p_port)

    @property
    def advertised_host(self) -> str:
        """The host part of the advertised address (what its certificate must name)."""
        host = self.address.rpartition(":")[0]
        return host[1:-1] if host.startswith("[") and host.endswith("]") else host


@dataclass(frozen=True)
class Accepted:
    """What ``accept_genesis`` did: the hash, what it checked, the configs it pinned."""

    genesis_hash: str
    checks: tuple[str, ...]
    configs: tuple[Path, ...]


def init_org(
    root: Path,
    name: str,
    *,
    suite: Suite,
    nodes: Sequence[NodePlan],
    clients: int,
    validity_days: int,
    now: datetime,
) -> None:
    """Write organisation ``name``'s identities under ``root/orgs/<name>/`` and each node's
    config under ``root/nodes/<node>/`` (genesis ``root/genesis.json``, not accepted yet).

    Refuses (``PkiError``) an organisation or node that already has a directory there. The
    caller stages ``root`` and renames it into place, so a failure leaves nothing half-made.
    """
    check_name(name, "organisation name")
    for plan in nodes:
        check_name(plan.name, "node name")
        if (root / "nodes" / plan.name).exists():
            raise PkiError(f"a node directory {root / 'nodes' / plan.name} already exists")
    if (root / "orgs" / name).exists():
        raise PkiError(f"organisation {name!r} already exists in {root}")
    found_org(
        root / "orgs" / name,
        suite,
        name,
        clients=clients,
        node_names=[p.name for p in nodes],
        now=now,
        validity_days=validity_days,
        node_hosts={p.name: _named_hosts(p) for p in nodes},
    )
    for plan in nodes:
        node_dir = root / "nodes" / plan.name
        node_dir.mkdir(parents=True)
        cred = root / "orgs" / name / "nodes" / plan.name
        try:
            save_config(
                NodeConfig(
                    name=plan.name,
                    org=name,
                    data_dir=node_dir / "data",
                    genesis=root / GENESIS_FILE,
                    key=cred / "node.key",
                    cert=cred / "node.crt",
                    api_host=plan.api_host,
                    api_port=plan.api_port,
                    p2p_host=plan.p2p_host,
                    p2p_port=plan.p2p_port,
                    p2p_advertise=plan.advertise,
                    peers=plan.peers,
                ),
                node_dir / CONFIG_FILE,
            )
        except ConfigError as e:
            raise PkiError(str(e)) from None


def org_node_configs(root: Path, org: str) -> list[NodeConfig]:
    """The configs of ``org``'s nodes in the directory, in node order (``node2`` before
    ``node10``)."""
    nodes_dir = root / "nodes"
    configs = []
    for path in sorted(nodes_dir.glob(f"*/{CONFIG_FILE}")) if nodes_dir.is_dir() else ():
        try:
            cfg = load_config(path)
        except ConfigError as e:
            raise PkiError(str(e)) from None
        if cfg.org == org:
            configs.append(cfg)
    return sorted(configs, key=lambda c: _natural(c.name))


def export_org(
    network_dir: Path,
    org: str | None = None,
    *,
    power: int = 1,
    full_nodes: Collection[str] = (),
) -> OrgExport:
    """``org``'s public material (the only organisation of the directory when ``None``): its
    CA certificate and, for every node but ``full_nodes``, the node certificate, advertised
    address and ``power``. Writes it as the record ``orgs/<org>/export.json`` (replacing an
    earlier one) that ``accept_genesis`` checks the genesis against. Raises ``PkiError``."""
    root = network_root(network_dir)
    org = _the_org(root, org)
    ca = read_certificate(root / "orgs" / org / "ca" / "ca.crt")
    suite = KEY_ALGORITHM_SUITES.get(ca.public_key_algorithm)
    if suite is None:
        raise PkiError(f"the CA of {org!r} has a key of no known suite")
    configs = org_node_configs(root, org)
    unknown = set(full_nodes) - {c.name for c in configs}
    if unknown:
        raise PkiError(f"{', '.join(sorted(unknown))}: no such node of {org!r} in {root}")
    validators = []
    for cfg in configs:
        if cfg.name in full_nodes:
            continue
        try:
            address = cfg.advertised_address
        except ConfigError as e:
            raise PkiError(str(e)) from None
        cert = read_certificate(cfg.cert).der
        validators.append(ExportedValidator(cfg.name, address, power, cert))
    export = OrgExport(org, suite, ca.der, tuple(validators))
    export.check(f"the export of {org}")
    record = root / "orgs" / org / EXPORT_RECORD
    staged = record.with_name(EXPORT_RECORD + ".new")
    staged.unlink(missing_ok=True)
    write_public(staged, export.to_json().encode())
    os.replace(staged, record)
    return export


def accept_genesis(
    network_dir: Path, genesis: Genesis, expected_hash: str, *, join: bool = False
) -> Accepted:
    """Accept ``genesis`` for every organisation of the directory and pin it in every node
    config there; raises ``CeremonyError`` (nothing written) when it must not be accepted.

    Its hash must be ``expected_hash`` (given to the organisation by a trusted channel). A
    founder (an organisation the genesis names) must find it exactly as its export record
    says. With ``join``, an organisation the genesis does not name accepts it to join the
    running chain later through governance; without, its absence is a refusal (it was left
    out). A directory that already holds another genesis is refused: its nodes' data belongs
    to that one.
    """
    root = network_root(network_dir)
    identity = ChainIdentity.of(genesis)
    wanted = expected_hash.strip().lower()
    if identity.genesis_hash != wanted:
        raise CeremonyError(
            f"this genesis has hash {identity.genesis_hash}, not the {wanted} you were given: "
            "do not accept it"
        )
    orgs = org_dirs(root)
    if not orgs:
        raise CeremonyError(f"{root} holds no organisation (run `yulian org init` first)")
    checks: list[str] = []
    for org in orgs:
        ca = read_certificate(root / "orgs" / org / "ca" / "ca.crt")
        ca_cert = ca.der
        founder = genesis.organisation(org)
        if founder is not None and founder.ca_cert != ca_cert:
            raise CeremonyError(
                f"the genesis founds an organisation named {org!r} with another CA than "
                "this directory's"
            )
        if founder is None:
            if not join:
                raise CeremonyError(
                    f"organisation {org} is not in this genesis; accept it with --join only "
                    "if it joins the chain later through governance (add_org)"
                )
            suite = KEY_ALGORITHM_SUITES.get(ca.public_key_algorithm, "?")
            checks += check_genesis_for_joiner(genesis, org, suite)
            continue
        record = root / "orgs" / org / EXPORT_RECORD
        try:
            export = OrgExport.from_json(record.read_bytes(), str(record))
        except FileNotFoundError:
            raise CeremonyError(
                f"{org} has no export record {record}: run `yulian org export` first"
            ) from None
        if export.org != org or export.ca_cert != ca_cert:
            raise CeremonyError(f"{record} is not {org}'s export of this directory's CA")
        checks += check_genesis_for(genesis, export)
    path = root / GENESIS_FILE
    configs = sorted((root / "nodes").glob(f"*/{CONFIG_FILE}"))
    loaded = []
    for config in configs:
        try:
            cfg = load_config(config)
        except ConfigError as e:
            raise CeremonyError(str(e)) from None
        if cfg.genesis != path:
            raise CeremonyError(f"{config} reads the genesis {cfg.genesis}, not {path}")
        loaded.append((config, cfg))
    if path.exists():
        try:
            held = ChainIdentity.of(Genesis.load(path)).genesis_hash
        except (OSError, ValueError) as e:
            raise CeremonyError(f"cannot read the genesis already in {path}: {e}") from None
        if held != identity.genesis_hash:
            raise CeremonyError(
                f"{root} already accepted another genesis ({held}); its nodes belong to that "
                "chain. Initialise a new directory for another chain"
            )
    else:
        write_public(path, genesis.to_json().encode("utf-8"))
    for config, cfg in loaded:
        save_config(replace(cfg, genesis_hash=identity.genesis_hash), config)
    return Accepted(identity.genesis_hash, tuple(checks), tuple(c for c, _ in loaded))


# --- helpers ----------------------------------------------------------------------------


def _the_org(root: Path, org: str | None) -> str:
    held = org_dirs(root)
    if org is None:
        if len(held) != 1:
            raise PkiError(
                f"{root} holds {len(held)} organisations ({', '.join(held) or 'none'}); "
                "name one with --org"
            )
        return held[0]
    if not NAME_PATTERN.fullmatch(org) or org not in held:
        raise PkiError(f"no organisation {org!r} in {root}")
    return org


def _named_hosts(plan: NodePlan) -> tuple[str, ...]:
    """The hosts a node's certificate names: where it is dialled (loopback is always named)."""
    host = plan.advertised_host
    return () if host in ("0.0.0.0", "::") else (host,)


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
