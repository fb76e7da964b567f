"""Introduction: a node's configuration file (TOML).

One file per node, written by ``yulian network init`` and read by ``yulian node start``::

    [node]
    name = "org1-node0"
    org = "org1"
    data_dir = "data"
    genesis = "../../genesis.json"
    key = "../../orgs/org1/nodes/org1-node0/node.key"
    cert = "../../orgs/org1/nodes/org1-node0/node.crt"
    genesis_hash = "5c1f…"   # the genesis this node's organisation accepted (hex); required
                             # to start: ``yulian genesis accept`` writes it

    [api]
    host = "127.0.0.1"       # the address the API listens on
    port = 8600
    tls = false              # true: HTTPS with the node's certificate (decision 0078)
    rate_per_s = 100         # requests a second per caller on read routes; 0: no limit
    rate_burst = 200

    [p2p]
    host = "0.0.0.0"         # the address the node listens on for peers
    port = 9600
    advertise = "node0.org1.example:9600"   # the address other nodes dial (default host:port;
                                            # required when host is a wildcard)
    peers = ["127.0.0.1:9601"]               # dialled besides the validators' addresses

    [mempool]
    size = 20000

    [verify]
    workers = 0              # processes that check tx signatures beside the node (0: in-process)

    [log]
    file = "node.log"        # optional; without it the node logs to stderr

    [snapshots]              # optional (decision 0051)
    interval = 1000          # write a snapshot of the state every this many blocks (0: never)
    keep = 2                 # snapshots kept in <data_dir>/snapshots (older ones are removed)
    state_sync = true        # an empty node starts from a peer's snapshot, not from genesis

    [storage]                # optional; without it the ledger is LMDB in <data_dir>/ledger
    backend = "postgres"     # "lmdb" (default) or "postgres"
    dsn = "host=/run/postgresql dbname=yulian"   # postgres: a libpq connection string
    schema = "org1_node0"    # postgres: the schema of this node's ledger (default "yulian")
    # path = "ledger"        # lmdb: the ledger directory, if not <data_dir>/ledger

Relative paths are relative to the directory of the config file, so a network directory can be
moved as a whole. The node listens on ``[p2p] host:port`` and is dialled at its advertised
address (the one in the genesis or in its ``add_validator`` proposal): they differ behind NAT,
a load balancer, or when it listens on every interface. ``load_config`` rejects unknown
sections and keys (a typo must not silently fall back to a default) and names the file and
field of every problem in a ``ConfigError``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import tomli_w

from yulian.ledger import InvalidStorageConfig, StorageConfig
from yulian.pki.chain import ChainIdentity
from yulian.pki.files import PkiError
from yulian.types.genesis import Genesis, GenesisError

DEFAULT_API_PORT = 8600
DEFAULT_P2P_PORT = 9600
DEFAULT_MEMPOOL_SIZE = 20_000
DEFAULT_RATE_PER_S = 100
DEFAULT_RATE_BURST = 200
MAX_VERIFY_WORKERS = 16
MAX_PEERS = 1024
DEFAULT_SNAPSHOT_KEEP = 2
MAX_SNAPSHOT_KEEP = 100


WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]")  # listen on every interface; no one dials these
_HASH_HEX = re.compile(r"[0-9a-f]{64}")  # a suite hash (SHA-256 or SM3) in lowercase hex


class ConfigError(ValueError):
    """A node configuration that cannot be read or is invalid; names the file and field."""


class GenesisNotAccepted(ConfigError):
    """The node's genesis is not the one its organisation accepted (or none was accepted)."""


@dataclass(frozen=True)
class NodeConfig:
    name: str
    org: str
    data_dir: Path
    genesis: Path
    key: Path
    cert: Path
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    p2p_host: str = "127.0.0.1"
    p2p_port: int = DEFAULT_P2P_PORT
    peers: tuple[str, ...] = ()  # "host:port"
    mempool_size: int = DEFAULT_MEMPOOL_SIZE
    verify_workers: int = 0  # signature-checking processes beside the node (node/verifier.py)
    log_file: Path | None = None
    storage: StorageConfig = dataclass_field(default_factory=StorageConfig)  # ledger/config.py
    api_tls: bool = False
    api_rate_per_s: int = DEFAULT_RATE_PER_S
    api_rate_burst: int = DEFAULT_RATE_BURST
    genesis_hash: str | None = None  # the accepted genesis (lowercase hex); None: not accepted
    p2p_advertise: str | None = None  # "host:port" others dial, if not p2p_host:p2p_port
    snapshot_interval: int = 0  # blocks between two snapshots this node writes (0: none)
    snapshot_keep: int = DEFAULT_SNAPSHOT_KEEP
    state_sync: bool = False  # an empty ledger starts from a peer's snapshot (node/statesync.py)

    @property
    def p2p_address(self) -> str:
        """Where the node listens for peers."""
        return join_address(self.p2p_host, self.p2p_port)

    @property
    def advertised_address(self) -> str:
        """Where other nodes dial this one; raises ``ConfigError`` if it listens on every
        interface and says nothing more."""
        if self.p2p_advertise is not None:
            return self.p2p_advertise
        if self.p2p_host in WILDCARD_HOSTS:
            raise ConfigError(
                f"node {self.name} listens on {self.p2p_address} and advertises no address "
                '([p2p] advertise = "host:port")'
            )
        return self.p2p_address

    @property
    def api_url(self) -> str:
        """The API's URL from this machine (loopback when it listens on every interface)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(
            self.api_host, self.api_host
        )
        scheme = "https" if self.api_tls else "http"
        return f"{scheme}://{join_address(host, self.api_port)}"


def join_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 literal in brackets."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


_SCHEMA: dict[str, dict[str, tuple[type, bool]]] = {
    # section -> key -> (type, required)
    "node": {
        "name": (str, True),
        "org": (str, True),
        "data_dir": (str, True),
        "genesis": (str, True),
        "key": (str, True),
        "cert": (str, True),
        "genesis_hash": (str, False),
    },
    "api": {
        "host": (str, False),
        "port": (int, False),
        "tls": (bool, False),
        "rate_per_s": (int, False),
        "rate_burst": (int, False),
    },
    "p2p": {
        "host": (str, False),
        "port": (int, False),
        "advertise": (str, False),
        "peers": (list, False),
    },
    "mempool": {"size": (int, False)},
    "verify": {"workers": (int, False)},
    "log": {"file": (str, False)},
    "snapshots": {"interval": (int, False), "keep": (int, False), "state_sync": (bool, False)},
    "storage": {
        "backend": (str, False),
        "path": (str, False),
        "dsn": (str, False),
        "schema": (str, False),
        "reconnect_s": (float, False),  # a number: StorageConfig.check says which
    },
}


def load_config(path: str | os.PathLike[str]) -> NodeConfig:
    """Read and check a node configuration; raises ``ConfigError``."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return _from_doc(doc, path)


def save_config(cfg: NodeConfig, path: str | os.PathLike[str]) -> None:
    """Write ``cfg`` to ``path``; absolute paths are stored relative to the file's directory."""
    path = Path(path)
    base = Path(os.path.abspath(path.parent))
    node: dict[str, str] = {
        "name": cfg.name,
        "org": cfg.org,
        "data_dir": _relative(cfg.data_dir, base),
        "genesis": _relative(cfg.genesis, base),
        "key": _relative(cfg.key, base),
        "cert": _relative(cfg.cert, base),
    }
    if cfg.genesis_hash is not None:
        node["genesis_hash"] = cfg.genesis_hash
    p2p: dict[str, Any] = {"host": cfg.p2p_host, "port": cfg.p2p_port}
    if cfg.p2p_advertise is not None:
        p2p["advertise"] = cfg.p2p_advertise
    p2p["peers"] = list(cfg.peers)
    doc: dict[str, Any] = {
        "node": node,
        "api": _api_doc(cfg),
        "p2p": p2p,
        "mempool": {"size": cfg.mempool_size},
    }
    if cfg.verify_workers:
        doc["verify"] = {"workers": cfg.verify_workers}
    if cfg.log_file is not None:
        doc["log"] = {"file": _relative(cfg.log_file, base)}
    if cfg.storage != StorageConfig():
        doc["storage"] = _storage_doc(cfg.storage, base)
    if cfg.snapshot_interval or cfg.state_sync or cfg.snapshot_keep != DEFAULT_SNAPSHOT_KEEP:
        doc["snapshots"] = {
            "interval": cfg.snapshot_interval,
            "keep": cfg.snapshot_keep,
            "state_sync": cfg.state_sync,
        }
    _from_doc(doc, path)  # never write a file that load_config would refuse
    staged = path.with_name(path.name + ".new")
    staged.write_text(tomli_w.dumps(doc), encoding="utf-8")
    os.replace(staged, path)  # a reader sees the old file or the new one, never half of one


def accepted_genesis(cfg: NodeConfig) -> Genesis:
    """The genesis ``cfg``'s node may run: the file ``cfg.genesis``, and only if its hash is
    the ``genesis_hash`` its organisation accepted (``yulian genesis accept``). A node never
    starts on a genesis nobody checked, nor on one swapped after the check."""
    where = f"node {cfg.name}"
    try:
        genesis = Genesis.load(cfg.genesis)
        identity = ChainIdentity.of(genesis)
    except FileNotFoundError:
        raise GenesisNotAccepted(
            f"{where}: no genesis at {cfg.genesis}; accept one with `yulian genesis accept`"
        ) from None
    except (OSError, GenesisError, PkiError, ValueError) as e:
        raise ConfigError(f"{where}: cannot read the genesis {cfg.genesis}: {e}") from None
    if cfg.genesis_hash is None:
        raise GenesisNotAccepted(
            f"{where} has accepted no genesis (its config has no [node] genesis_hash): check "
            f"{cfg.genesis}, then run `yulian genesis accept {cfg.genesis} --hash "
            f"{identity.genesis_hash} --network <its directory>`"
        )
    if identity.genesis_hash != cfg.genesis_hash:
        raise GenesisNotAccepted(
            f"{where}: the genesis {cfg.genesis} has hash {identity.genesis_hash}, not the "
            f"{cfg.genesis_hash} its organisation accepted; refusing to run it"
        )
    return genesis


def _from_doc(doc: dict[str, Any], path: Path) -> NodeConfig:
    def fail(field: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {field}: {problem}")

    for section, body in doc.items():
        if section not in _SCHEMA:
            raise fail(f"[{section}]", f"unknown section (known: {', '.join(_SCHEMA)})")
        if not isinstance(body, dict):
            raise fail(f"[{section}]", "must be a table")
    values: dict[str, dict[str, Any]] = {}
    for section, fields in _SCHEMA.items():
        body = doc.get(section, {})
        for key in body:
            if key not in fields:
                raise fail(f"[{section}] {key}", f"unknown key (known: {', '.join(fields)})")
        values[section] = {}
        for key, (kind, required) in fields.items():
            if key not in body:
                if required:
                    raise fail(f"[{section}] {key}", "missing")
                continue
            value = body[key]
            if kind is int and (type(value) is not int):
                raise fail(f"[{section}] {key}", f"expected an integer, got {value!r}")
            if kind is bool and type(value) is not bool:
                raise fail(f"[{section}] {key}", f"expected true or false, got {value!r}")
            if kind is str and not (isinstance(value, str) and value):
                raise fail(f"[{section}] {key}", f"expected a non-empty string, got {value!r}")
            if kind is list and not isinstance(value, list):
                raise fail(f"[{section}] {key}", f"expected an array, got {value!r}")
            values[section][key] = value

    base = Path(os.path.abspath(path.parent))
    node, api, p2p = values["node"], values["api"], values["p2p"]
    api_port = api.get("port", DEFAULT_API_PORT)
    p2p_port = p2p.get("port", DEFAULT_P2P_PORT)
    for field, port in (("[api] port", api_port), ("[p2p] port", p2p_port)):
        if not 0 <= port <= 65535:
            raise fail(field, f"{port} is not a port number (0..65535)")
    peers = p2p.get("peers", [])
    if len(peers) > MAX_PEERS:
        raise fail("[p2p] peers", f"more than {MAX_PEERS} peers")
    for peer in peers:
        if not (isinstance(peer, str) and _is_address(peer)):
            raise fail("[p2p] peers", f"{peer!r} is not a host:port address")
    advertise = p2p.get("advertise")
    if advertise is not None and not _is_address(advertise):
        raise fail("[p2p] advertise", f"{advertise!r} is not a host:port address")
    if advertise is not None and advertise.rpartition(":")[0] in WILDCARD_HOSTS:
        raise fail("[p2p] advertise", f"{advertise!r} is a wildcard no other node can dial")
    genesis_hash = node.get("genesis_hash")
    if genesis_hash is not None and not _HASH_HEX.fullmatch(genesis_hash):
        raise fail("[node] genesis_hash", f"{genesis_hash!r} is not 64 lowercase hex digits")
    mempool_size = values["mempool"].get("size", DEFAULT_MEMPOOL_SIZE)
    if mempool_size <= 0:
        raise fail("[mempool] size", f"must be positive, got {mempool_size}")
    verify_workers = values["verify"].get("workers", 0)
    if not 0 <= verify_workers <= MAX_VERIFY_WORKERS:
        raise fail("[verify] workers", f"must be 0..{MAX_VERIFY_WORKERS}, got {verify_workers}")
    log_file = values["log"].get("file")
    storage = _storage(values["storage"], base, fail)
    rate_per_s = api.get("rate_per_s", DEFAULT_RATE_PER_S)
    rate_burst = api.get("rate_burst", DEFAULT_RATE_BURST)
    if not 0 <= rate_per_s <= 1_000_000 or not 1 <= rate_burst <= 1_000_000:
        raise fail("[api] rate_per_s / rate_burst", "must be 0..1000000 and 1..1000000")
    snapshots = values["snapshots"]
    interval = snapshots.get("interval", 0)
    keep = snapshots.get("keep", DEFAULT_SNAPSHOT_KEEP)
    if interval < 0:
        raise fail("[snapshots] interval", f"must be 0 (none) or positive, got {interval}")
    if not 1 <= keep <= MAX_SNAPSHOT_KEEP:
        raise fail("[snapshots] keep", f"must be 1..{MAX_SNAPSHOT_KEEP}, got {keep}")
    return NodeConfig(
        name=node["name"],
        org=node["org"],
        data_dir=_resolve(node["data_dir"], base),
        genesis=_resolve(node["genesis"], base),
        key=_resolve(node["key"], base),
        cert=_resolve(node["cert"], base),
        api_host=api.get("host", "127.0.0.1"),
        api_port=api_port,
        p2p_host=p2p.get("host", "127.0.0.1"),
        p2p_port=p2p_port,
        peers=tuple(peers),
        mempool_size=mempool_size,
        verify_workers=verify_workers,
        log_file=None if log_file is None else _resolve(log_file, base),
        storage=storage,
        api_tls=api.get("tls", False),
        api_rate_per_s=rate_per_s,
        api_rate_burst=rate_burst,
        genesis_hash=genesis_hash,
        p2p_advertise=advertise,
        snapshot_interval=interval,
        snapshot_keep=keep,
        state_sync=snapshots.get("state_sync", False),
    )


def _api_doc(cfg: NodeConfig) -> dict[str, Any]:
    doc: dict[str, Any] = {"host": cfg.api_host, "port": cfg.api_port}
    if cfg.api_tls:
        doc["tls"] = True
    if (cfg.api_rate_per_s, cfg.api_rate_burst) != (DEFAULT_RATE_PER_S, DEFAULT_RATE_BURST):
        doc["rate_per_s"], doc["rate_burst"] = cfg.api_rate_per_s, cfg.api_rate_burst
    return doc


def _storage(section: dict[str, Any], base: Path, fail: Any) -> StorageConfig:
    """The ``[storage]`` section (absent: LMDB in the data directory)."""
    path = section.get("path")
    defaults = StorageConfig()
    config = StorageConfig(
        backend=section.get("backend", defaults.backend),
        path=None if path is None else _resolve(path, base),
        dsn=section.get("dsn"),
        schema=section.get("schema", defaults.schema),
        reconnect_s=section.get("reconnect_s", defaults.reconnect_s),
    )
    try:
        return config.check()
    except InvalidStorageConfig as e:
        raise fail("[storage]", str(e)) from None


def _storage_doc(storage: StorageConfig, base: Path) -> dict[str, Any]:
    doc: dict[str, Any] = {"backend": storage.backend}
    if storage.path is not None:
        doc["path"] = _relative(storage.path, base)
    if storage.dsn is not None:
        doc["dsn"], doc["schema"] = storage.dsn, storage.schema
    if storage.reconnect_s != StorageConfig().reconnect_s:
        doc["reconnect_s"] = storage.reconnect_s
    return doc


def _resolve(value: str | Path, base: Path) -> Path:
    """``value`` made absolute against ``base`` and normalised (symlinks are not followed)."""
    return Path(os.path.normpath(base / Path(value).expanduser()))


def _relative(value: Path, base: Path) -> str:
    if not value.is_absolute():
        return value.as_posix()
    try:
        return Path(os.path.relpath(value, base)).as_posix()
    except ValueError:  # another drive on Windows
        return str(value)


def _is_address(text: str) -> bool:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        return False
    if host.startswith("[") != host.endswith("]"):
        return False
    return 0 < int(port) <= 65535
