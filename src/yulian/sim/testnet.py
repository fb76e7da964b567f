"""Introduction: the simulator's testnet — keys, certificates and the genesis, made once.

``load_testnet(n, spares)`` is the network every seed of a size runs on: made by the real
``init_network`` on first use (OS randomness, wall clock) under ``cache_dir()``, then reused by
every run in every process, so a seed's trace hash is stable on a machine. Its chain parameters
(``SIM_PARAMS``) keep blocks small enough that the large-tx workloads reach every block limit
in a few txs: ``max_block_bytes`` holds five txs of ``max_tx_bytes``, ``max_block_txs`` a burst
of small ones.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import pem_to_der
from yulian.node.bootstrap import BootstrapError, init_network
from yulian.pki.layout import load_layout
from yulian.sdk.wallet import Wallet
from yulian.types.genesis import ChainParams, Genesis, Validator

CACHE_VERSION = "v1"
SIM_PARAMS = ChainParams(max_block_txs=48, max_block_bytes=320 * 1024)


@dataclass(frozen=True)
class SimTestnet:
    root: Path
    genesis: Genesis
    suite: Suite
    names: tuple[str, ...]  # validator names, genesis order
    keys: dict[str, PrivateKey]  # of every node: validators and spares
    certs: dict[str, bytes]  # DER node certificates
    wallets: tuple[Wallet, ...]  # client1 of every organisation
    fingerprint: str  # the genesis hash, shortened: the keys a trace hash belongs to
    spares: tuple[Validator, ...] = ()  # member nodes whose key is not in the genesis
    admins: tuple[Wallet, ...] = ()  # the admin of every organisation, in genesis order


def cache_dir() -> Path:
    base = os.environ.get("YULIAN_SIM_DIR") or os.path.join(tempfile.gettempdir(), "yulian-sim")
    return Path(base)


@functools.lru_cache(maxsize=8)
def load_testnet(validators: int, spares: int = 0) -> SimTestnet:
    """The ``validators``-node network of this machine: made by the real ``init_network`` on
    first use (OS randomness, wall clock) under ``cache_dir()``, then reused by every run, in
    every process, so a seed's trace hash is stable. The directory name carries a digest of
    what goes into the genesis, so a changed contract or parameter set gets a new network; one
    that no longer loads (an old genesis format) is replaced by a fresh one beside it.

    With ``spares``, ``init_network`` makes ``validators + spares`` node certificates (the
    spares' organisations continue the round-robin) and the genesis keeps the first
    ``validators`` of them: a spare is a member node whose key no validator set holds until
    governance adds it."""
    assert 1 <= validators <= 64 and 0 <= spares <= 8, (validators, spares)
    inputs = f"{contract_source()}|{SIM_PARAMS!r}|{Genesis.__dataclass_fields__.keys()}"
    digest = hashlib.sha256(inputs.encode()).hexdigest()[:10]
    size = f"n{validators}" + (f"s{spares}" if spares else "")
    root = cache_dir() / f"{CACHE_VERSION}-{size}-{digest}"
    if not (root / "genesis.json").is_file():
        _make_testnet(root, validators, spares)
    try:
        return _read_testnet(root, validators)
    except (BootstrapError, ValueError, OSError):
        fresh = Path(tempfile.mkdtemp(prefix=f"{root.name}-", dir=cache_dir())) / "net"
        _make_testnet(fresh, validators, spares)
        return _read_testnet(fresh, validators)


def _make_testnet(root: Path, validators: int, spares: int = 0) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        init_network(
            root,
            orgs=validators,
            validators=validators + spares,
            chain_id="yulian-sim",
            contracts=[(CONTRACT_NAME, contract_source())],
            validity_days=3650,
            params=SIM_PARAMS,
        )
    except BootstrapError:
        if not (root / "genesis.json").is_file():  # not a race lost to another process
            raise


def _read_testnet(root: Path, validators: int) -> SimTestnet:
    layout = load_layout(root)
    genesis = Genesis.load(layout.genesis)
    if len(genesis.validators) < validators:
        raise BootstrapError(f"{root}: {len(genesis.validators)} validators, {validators} wanted")
    spares = genesis.validators[validators:]
    genesis = dataclasses.replace(genesis, validators=genesis.validators[:validators])
    suite = get_suite(genesis.suite)
    keys = {n.name: suite.load_private_key(n.credential.key.read_bytes()) for n in layout.nodes}
    certs = {n.name: pem_to_der(n.credential.cert.read_bytes()) for n in layout.nodes}
    wallets = tuple(Wallet.from_network(root, org.name, "client1") for org in layout.orgs)
    admins = tuple(Wallet.from_network(root, org.name, "admin") for org in layout.orgs)
    return SimTestnet(
        root,
        genesis,
        suite,
        tuple(v.name for v in genesis.validators),
        keys,
        certs,
        wallets,
        suite.hash(genesis.encode()).hex()[:12],
        spares,
        admins,
    )


__all__ = ["CACHE_VERSION", "SIM_PARAMS", "SimTestnet", "cache_dir", "load_testnet"]
