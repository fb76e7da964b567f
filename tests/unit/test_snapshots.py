"""Snapshots of a real governed chain: produced, checked from the genesis, installed, continued.

Four replicas (LMDB ledgers, real consensus on the in-memory network of ``test_replica``)
commit txs and two config changes (one shortens the tx TTL, so the replay window is a part of
the chain). A snapshot of the head is checked chunk by chunk (``node/snapshots.py``) and
installed into an empty ledger; a replica on it syncs the blocks above and agrees with the
others on every later block and state root, and every key's readable versions are the
source's. Each way a peer could lie — a chunk, the manifest's sums, the certificate, the order
of versions, a repeated version (which LtHash cannot see), a window block, a left-out config
change — is refused, and a refused chunk leaves the check as it was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.unit.gov_fixtures import NOTES, World
from tests.unit.test_replica_governance import Cluster

from yulian.contracts.host import MAX_HISTORY
from yulian.crypto.lthash import lthash
from yulian.crypto.suite import get_suite
from yulian.execution.roots import history_window, version_entry
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import MAX_SCAN_LIMIT, open_ledger
from yulian.ledger.snapshot import (
    Manifest,
    SnapshotError,
    StateChunkInfo,
    install_snapshot_dir,
    read_snapshot_dir,
)
from yulian.node.bootstrap import init_network
from yulian.node.snapshots import SnapshotCheck, produce_snapshot, replay_window_low
from yulian.node.snapshotstore import SnapshotStore
from yulian.node.statesync import SnapshotFetch
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import decode, encode
from yulian.types.genesis import ChainParams, Genesis

TTL = 30  # the genesis's max_tx_ttl_blocks: shorter than the chain, so the window is a part


class ShortTtlCluster(Cluster):
    def envelope(self, wallet: Wallet, contract: str, method: str, *args: Any) -> bytes:
        expires = self.first.tip.height + TTL // 2
        chain_id = self.world.genesis.chain_id
        return wallet.sign_tx(chain_id, contract, method, list(args), expires_at=expires).encode()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[ShortTtlCluster, Path, Manifest]:
    tmp = tmp_path_factory.mktemp("snap")
    layout = init_network(
        tmp / "net",
        orgs=4,
        validators=4,
        contracts=[("notes", NOTES)],
        params=ChainParams(max_tx_ttl_blocks=TTL),
    )
    genesis = Genesis.load(layout.genesis)
    cluster = ShortTtlCluster(World(layout, genesis, get_suite(genesis.suite)), tmp)
    for name in list(cluster.replicas):
        cluster.start(name)
    admin = cluster.world.wallet
    written = [
        cluster.submit(admin("org2", "client1"), "notes", "write", "org2", f"n{i}")
        for i in range(6)
    ]
    cluster.wait(*written)
    cluster.vote("set_params", [[["block_interval_ms", 7]]], ("org2", "org3"))
    cluster.reach(TTL + 15)
    for i in range(70):  # one key written more often than its window
        cluster.wait(cluster.submit(admin("org2", "client1"), "notes", "write", "org2", f"m{i}"))
    cluster.vote("set_params", [[["max_tx_ttl_blocks", TTL + 5]]], ("org2", "org3"))
    cluster.reach(cluster.head + 3)
    directory = tmp / "snapshot"
    source = cluster.first
    manifest = produce_snapshot(source.ledger, genesis, cluster.world.suite, directory)
    return cluster, directory, manifest


def check_all(cluster: Cluster, directory: Path, manifest: Manifest) -> SnapshotCheck:
    check = SnapshotCheck(cluster.world.genesis, cluster.world.suite, manifest)
    for i in range(len(manifest.state_chunks)):
        check.state_chunk(i, (directory / f"state-{i:05d}").read_bytes())
    for i in range(len(manifest.block_chunks)):
        check.block_chunk(i, (directory / f"blocks-{i:05d}").read_bytes())
    return check


def test_the_snapshot_describes_the_head(chain: tuple[ShortTtlCluster, Path, Manifest]) -> None:
    cluster, directory, manifest = chain
    source = cluster.first.ledger
    assert read_snapshot_dir(directory) == manifest
    assert manifest.height <= source.height()
    assert len(manifest.transitions) == 2, "both config changes are on the governance path"
    assert manifest.window_low == manifest.height + 1 - (TTL + 5) > 1, "the window is a part"
    heights = [h for c in manifest.block_chunks for h in (c.first, c.last)]
    assert heights[0] == manifest.height and min(heights) < manifest.window_low


def test_install_and_continue(chain: tuple[ShortTtlCluster, Path, Manifest]) -> None:
    cluster, directory, manifest = chain
    check = check_all(cluster, directory, manifest)
    base = check.base()
    ledger = open_ledger(cluster.tmp / "follower", sync=False)
    install_snapshot_dir(ledger, directory, manifest, base)  # type: ignore[arg-type]
    source = cluster.first.ledger
    b = manifest.height
    assert ledger.height() == ledger.floor() == b
    assert ledger.state_root() == source.state_root(b)
    assert ledger.block(1) is None and ledger.block(b) == source.block(b)
    for t in manifest.transitions:  # the governance path is held whole
        height = decode(t.header)[2]
        assert ledger.block(height) == source.block(height)
        assert ledger.receipts(height) == source.receipts(height)
    for height in range(manifest.window_low, b):  # the replay window's txs are known
        for tx_id in source.tx_ids(height) or []:
            assert ledger.tx_location(tx_id) == source.tx_location(tx_id)
    keys = source.scan_keys(b"", MAX_SCAN_LIMIT)
    assert keys == ledger.scan_keys(b"", MAX_SCAN_LIMIT)
    for key in keys:
        window = history_window(key)
        assert ledger.history(key, min(window, 1000)) == source.history(
            key, min(window, 1000), before_height=b + 1
        ), key
    ledger.check_integrity()

    # a replica on the installed ledger syncs the blocks above and agrees from then on
    ledger.close()
    follower = cluster.add("follower", cluster.world.suite.generate_key(), voter=False)
    assert follower.tip.height == b and follower.tip.state_sum == manifest.state_sum
    cluster.start("follower")
    admin = cluster.world.wallet
    tx = cluster.submit(admin("org3", "client1"), "notes", "write", "org3", "after")
    cluster.wait(tx)
    goal = cluster.first.tip.height
    cluster.net.run_until(lambda: follower.tip.height >= goal)
    for h in range(b, goal + 1):
        assert follower.ledger.block_hash(h) == source.block_hash(h)
        assert follower.ledger.state_root(h) == source.state_root(h)
    assert follower.ledger.has_tx(tx)
    follower.ledger.check_integrity()

    # until its head leaves the replay window's blocks below its floor behind, the snapshot
    # node cannot write a snapshot: the store says so and leaves nothing half-written
    store = SnapshotStore(cluster.tmp / "follower-snapshots", keep=2)
    assert store.begin_writing()
    assert store.write(follower.ledger, cluster.world.genesis, cluster.world.suite) is None
    assert store.heights() == [] and list(store.root.iterdir()) == []
    assert store.begin_writing(), "a failed write gives the writer slot back"


def test_the_history_window_is_what_execution_reads(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, directory, manifest = chain
    check = check_all(cluster, directory, manifest)
    versions = [
        v
        for i in range(len(manifest.state_chunks))
        for v in decode((directory / f"state-{i:05d}").read_bytes(), _limits())
    ]
    counts: dict[bytes, int] = {}
    for key, _, _ in versions:
        counts[key] = counts.get(key, 0) + 1
    assert max(counts.values()) == MAX_HISTORY, "the hot key keeps exactly its window"
    assert counts[CONFIG_KEY] == 2
    assert check.complete


def _limits() -> Any:
    from yulian.ledger.snapshot import _CHUNK_LIMITS

    return _CHUNK_LIMITS


# --- lies --------------------------------------------------------------------------------------


def _state_chunk(directory: Path, index: int) -> list[Any]:
    return [list(v) for v in decode((directory / f"state-{index:05d}").read_bytes(), _limits())]


def _forge_state_chunk(
    cluster: Cluster, manifest: Manifest, index: int, versions: list[Any]
) -> tuple[Manifest, bytes]:
    """A state chunk with other versions and a manifest that describes it exactly (size,
    digest, count and the chunk's own LtHash): only the sums' total can give it away."""
    suite = cluster.world.suite
    data = encode(tuple(tuple(v) for v in versions))
    info = StateChunkInfo(
        len(data),
        suite.hash(data),
        lthash(suite, added=[version_entry(*v) for v in versions]),
        len(versions),
    )
    chunks = list(manifest.state_chunks)
    chunks[index] = info
    return replace(manifest, state_chunks=tuple(chunks)), data


def test_a_changed_chunk_is_refused(chain: tuple[ShortTtlCluster, Path, Manifest]) -> None:
    cluster, directory, manifest = chain
    check = SnapshotCheck(cluster.world.genesis, cluster.world.suite, manifest)
    data = bytearray((directory / "state-00000").read_bytes())
    data[-1] ^= 1
    with pytest.raises(SnapshotError, match="digest"):
        check.state_chunk(0, bytes(data))
    check.state_chunk(0, (directory / "state-00000").read_bytes())  # the real one still passes
    assert check.states_done == 1


def test_a_forged_state_is_refused_by_the_sums(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, directory, manifest = chain
    versions = _state_chunk(directory, 0)
    versions[0][2] = b"\x01forged"
    forged, _ = _forge_state_chunk(cluster, manifest, 0, versions)
    with pytest.raises(SnapshotError, match="do not add up"):
        SnapshotCheck(cluster.world.genesis, cluster.world.suite, forged)


def test_versions_out_of_order_or_repeated_are_refused(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    """Both keep the LtHash (order does not count; 65536 copies of a version add zero in every
    lane), so only the strict version order stops them."""
    cluster, directory, manifest = chain
    suite = cluster.world.suite
    versions = _state_chunk(directory, 0)
    swapped = [versions[1], versions[0], *versions[2:]]
    junk = [b"notes\x00junk", 1, b"x"]
    repeated = [*versions, *([junk] * 65_536)]
    assert lthash(suite, added=[version_entry(*v) for v in repeated]) == lthash(
        suite, added=[version_entry(*v) for v in versions]
    )
    by_order = sorted(repeated, key=lambda v: (len(v[0]), v[0], v[1]))
    for lie in (swapped, by_order):
        forged, data = _forge_state_chunk(cluster, manifest, 0, lie)
        check = SnapshotCheck(cluster.world.genesis, suite, forged)
        with pytest.raises(SnapshotError, match="version order"):
            check.state_chunk(0, data)


def test_a_certificate_without_quorum_is_refused(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, _, manifest = chain
    cert = CommitCertificate.decode(manifest.commit)
    weak = replace(cert, signatures=cert.signatures[:2])
    with pytest.raises(SnapshotError, match="commit certificate"):
        SnapshotCheck(
            cluster.world.genesis, cluster.world.suite, replace(manifest, commit=weak.encode())
        )


def test_a_left_out_config_change_is_refused(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    """The later change does not alter the validators, so the certificate still verifies
    without it; the state's config versions give it away."""
    cluster, directory, manifest = chain
    shorter = replace(manifest, transitions=manifest.transitions[:1])
    check = SnapshotCheck(cluster.world.genesis, cluster.world.suite, shorter)
    for i in range(len(manifest.state_chunks)):
        check.state_chunk(i, (directory / f"state-{i:05d}").read_bytes())
    with pytest.raises(SnapshotError):
        for i in range(len(manifest.block_chunks)):
            check.block_chunk(i, (directory / f"blocks-{i:05d}").read_bytes())
        check.base()


def test_a_replaced_window_block_is_refused(chain: tuple[ShortTtlCluster, Path, Manifest]) -> None:
    cluster, directory, manifest = chain
    suite = cluster.world.suite
    records = [list(r) for r in decode((directory / "blocks-00000").read_bytes(), _limits())]
    assert len(records) > 2
    real = Block.decode(records[2][1])  # the same height and txs, another time: another block
    records[2][1] = replace(
        real, header=replace(real.header, time_ms=real.header.time_ms + 1)
    ).encode()
    data = encode(tuple(tuple(r) for r in records))
    info = replace(manifest.block_chunks[0], size=len(data), digest=suite.hash(data))
    forged = replace(manifest, block_chunks=(info, *manifest.block_chunks[1:]))
    check = SnapshotCheck(cluster.world.genesis, suite, forged)
    with pytest.raises(SnapshotError, match="chain"):
        check.block_chunk(0, data)
    assert check.blocks_done == 0


def test_a_snapshot_of_another_chain_is_refused(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, _, manifest = chain
    with pytest.raises(SnapshotError, match="chain"):
        SnapshotCheck(cluster.world.genesis, cluster.world.suite, replace(manifest, chain_id="x"))


def test_the_replay_window(chain: tuple[ShortTtlCluster, Path, Manifest]) -> None:
    """A tx committed at c may reappear up to c + its TTL: the window reaches back by the
    largest TTL any config allowed."""
    genesis_config = ConsortiumConfig.from_genesis(chain[0].world.genesis)

    def with_ttl(ttl: int) -> ConsortiumConfig:
        return replace(genesis_config, params=replace(genesis_config.params, max_tx_ttl_blocks=ttl))

    short, long = with_ttl(10), with_ttl(100)
    assert replay_window_low(50, [short]) == 41
    assert replay_window_low(50, [short, long]) == 1
    assert replay_window_low(500, [long, short]) == 401


# --- fetching from peers -----------------------------------------------------------------------


class Peer:
    """A peer that serves the snapshot directory honestly, lies in its chunks, or never
    answers."""

    def __init__(self, name: str, directory: Path, manifest_bytes: bytes, kind: str) -> None:
        self.name, self.directory, self.manifest, self.kind = name, directory, manifest_bytes, kind

    def chunk(self, chunk_kind: str, index: int) -> bytes:
        data = (self.directory / f"{chunk_kind}-{index:05d}").read_bytes()
        return data[:-1] + bytes([data[-1] ^ 1]) if self.kind == "liar" else data


def run_fetch(
    cluster: Cluster, directory: Path, manifest: Manifest, peers: list[Peer]
) -> tuple[SnapshotFetch, dict[tuple[str, int], bytes], list[str]]:
    stored: dict[tuple[str, int], bytes] = {}
    dropped: list[str] = []
    fetch = SnapshotFetch(
        cluster.world.genesis,
        cluster.world.suite,
        lambda kind, index, data: stored.__setitem__((kind, index), data),
        timeout_s=5,
    )
    by_name = {p.name: p for p in peers}
    digest = manifest.digest(cluster.world.suite)
    for p in peers:
        fetch.on_connect(p.name)
    now = 0.0
    for _ in range(500):
        if fetch.done:
            break
        actions = fetch.poll(now)
        for peer, _reason in actions.drop:
            dropped.append(peer)
        for r in actions.send:
            p = by_name[r.peer]
            if p.kind == "withholder" and r.kind != "offers":
                continue
            if r.kind == "offers":
                fetch.on_offer(p.name, manifest.height, digest, now)
            elif r.kind == "manifest":
                more = fetch.on_manifest(p.name, r.height, p.manifest, now)
                dropped += [peer for peer, _ in more.drop]
            else:
                data = p.chunk(r.chunk_kind, r.index)
                more = fetch.on_chunk(p.name, r.height, r.chunk_kind, r.index, data, now)
                dropped += [peer for peer, _ in more.drop]
        now += 1.0
    return fetch, stored, dropped


def test_fetch_from_an_honest_peer_past_a_liar_and_a_withholder(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, directory, manifest = chain
    data = manifest.encode()
    peers = [
        Peer("a-withholder", directory, data, "withholder"),
        Peer("b-liar", directory, data, "liar"),
        Peer("c-honest", directory, data, "honest"),
    ]
    fetch, stored, dropped = run_fetch(cluster, directory, manifest, peers)
    assert fetch.done and fetch.check is not None
    assert set(dropped) == {"a-withholder", "b-liar"}
    for (kind, index), chunk in stored.items():
        assert chunk == (directory / f"{kind}-{index:05d}").read_bytes()
    expected = len(manifest.state_chunks) + len(manifest.block_chunks)
    assert len(stored) == expected, "every chunk stored once, only after its check"
    assert fetch.check.base().height == manifest.height


def test_a_snapshot_only_liars_serve_is_never_completed(
    chain: tuple[ShortTtlCluster, Path, Manifest],
) -> None:
    cluster, directory, manifest = chain
    data = manifest.encode()
    peers = [Peer("liar-1", directory, data, "liar"), Peer("liar-2", directory, data, "liar")]
    fetch, stored, dropped = run_fetch(cluster, directory, manifest, peers)
    assert not fetch.done
    assert set(dropped) == {"liar-1", "liar-2"}
    assert stored == {}, "nothing unchecked is stored"
