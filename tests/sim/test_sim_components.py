"""The simulator's parts: clock, network, disk, in-memory ledger and the invariant checker.

The in-memory ledger is checked differentially against the LMDB ledger (same random blocks,
same answers, same errors); the simulated disk against the WAL's recovery contract; the checker
against real blocks with real certificates, forged ones included.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from yulian.consensus.votes import sign_commit
from yulian.consensus.wal import WAL
from yulian.execution.blocks import BlockLimits, ChainTip, make_block
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import EMPTY_STATE_SUM, empty_state_root
from yulian.ledger import BlockCommit, LedgerError, open_ledger
from yulian.sim.clock import NodeClock, SimClock
from yulian.sim.cluster import load_testnet
from yulian.sim.disk import CrashPoints, SimCrash, SimDisk
from yulian.sim.invariants import AGREEMENT, STATE_ROOT, VALIDITY, Checker
from yulian.sim.memledger import MemLedger
from yulian.sim.network import MAX_DROP, LinkFaults, SimNetwork
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import encode

# --- clock ------------------------------------------------------------------------------------


def test_sim_clock_orders_by_time_then_schedule_order() -> None:
    clock: SimClock[str] = SimClock(1_000)
    for at, name in [(1_005, "c"), (1_001, "a"), (1_005, "d"), (1_001, "b"), (900, "now")]:
        clock.schedule(at, name)
    popped = []
    while (item := clock.pop()) is not None:
        popped.append(item)
    assert popped == [(1_000, "now"), (1_001, "a"), (1_001, "b"), (1_005, "c"), (1_005, "d")]
    assert clock.now_ms == 1_005


@pytest.mark.parametrize(
    "offset_ms, drift_ppm", [(0, 0), (2_500, 0), (-2_500, 3_000), (17, -3_000), (-1, 99_999)]
)
def test_node_clock_never_goes_back_and_inverts(offset_ms: int, drift_ppm: int) -> None:
    epoch = 1_700_000_000_000
    clock = NodeClock(epoch, offset_ms, drift_ppm)
    rng = random.Random(offset_ms * 7 + drift_ppm)
    previous = clock.local(epoch)
    for g in range(epoch + 1, epoch + 3_000):
        assert clock.local(g) >= previous
        previous = clock.local(g)
    assert clock.local(epoch + 3_000) - clock.local(epoch) >= 2_900
    for _ in range(500):
        local = epoch + rng.randint(-10_000, 10_000_000)
        g = clock.to_global(local)
        assert clock.local(g) >= local > clock.local(g - 1)


# --- network ----------------------------------------------------------------------------------


def test_network_fates_are_seeded_and_bounded() -> None:
    faults = LinkFaults(drop=MAX_DROP, duplicate=0.2, delay_max_ms=300, slow=0.1, slow_max_ms=6_000)
    runs = []
    for _ in range(2):
        net = SimNetwork(random.Random(7), ["a", "b", "c"])
        net.faults = faults
        runs.append([net.fate("a", "b", "vote", b"x") for _ in range(5_000)])
    assert runs[0] == runs[1]
    fates = runs[0]
    lost = sum(1 for f in fates if not f) / len(fates)
    assert 0.25 < lost < 0.35
    assert any(len(f) == 2 for f in fates)
    assert max(d for f in fates for d in f) <= 6_000
    assert any(d > 300 for f in fates for d in f)
    with pytest.raises(AssertionError):
        LinkFaults(drop=0.31)


def test_partitions_symmetric_asymmetric_and_heal() -> None:
    net = SimNetwork(random.Random(1), ["a", "b", "c", "d"])
    net.partition([["a", "b"], ["c", "d"]])
    assert not net.can_reach("a", "c") and not net.can_reach("d", "b")
    assert net.can_reach("a", "b") and net.can_reach("c", "d")
    assert net.fate("a", "c", "vote", b"") == []
    net.heal()
    net.block("a", "b")
    assert not net.can_reach("a", "b") and net.can_reach("b", "a")
    net.block("c", "d", static=True)
    net.heal()
    assert net.can_reach("a", "b") and not net.can_reach("c", "d")


# --- disk -------------------------------------------------------------------------------------


def test_an_unsynced_truncate_below_the_durable_image_is_undone_by_a_crash() -> None:
    disk = SimDisk("wal")
    disk.append(b"abcdef")
    disk.sync()
    disk.truncate(2)
    disk.append(b"XY")
    assert disk.read() == b"abXY"
    disk.lose_unsynced()
    assert disk.read() == b"abcdef"


def test_disk_keeps_synced_and_replaced_data() -> None:
    disk = SimDisk("wal")
    disk.append(b"one")
    disk.sync()
    disk.append(b"two")
    disk.lose_unsynced()
    assert disk.read() == b"one"
    disk.replace(b"new")
    disk.append(b"lost")
    disk.lose_unsynced()
    assert disk.read() == b"new"
    disk.wipe()
    assert disk.read() == b""


def test_wal_on_a_crashing_disk_recovers_a_prefix_with_everything_synced() -> None:
    """Over many seeded crashes: the recovered records are a prefix of those appended, and
    contain every record appended before the last sync (the contract the replica relies on)."""
    torn = 0
    for seed in range(300):
        rng = random.Random(seed)
        disk = SimDisk("wal")
        wal = WAL(disk)
        appended: list[bytes] = []
        synced = 0
        for i in range(rng.randint(1, 12)):
            payload = bytes([i]) * rng.randint(1, 200)
            wal.append(payload, sync=rng.random() < 0.3)
            appended.append(payload)
            if rng.random() < 0.2:
                wal.sync()
            if disk.syncs and not disk.unsynced_writes():
                synced = len(appended)
        disk.crash(rng)
        torn += disk.torn_writes
        records = WAL(disk).records()
        assert records == appended[: len(records)], seed
        assert len(records) >= synced, seed
    assert torn > 10  # torn tails were exercised, and recovered from


def test_crash_points_fire_before_or_after_the_operation() -> None:
    points = CrashPoints("n1")
    disk = SimDisk("safety", points)
    points.arm(2, after=False)
    disk.append(b"a")
    with pytest.raises(SimCrash):
        disk.replace(b"b")
    assert disk.read() == b"a"
    points.arm(1, after=True)
    with pytest.raises(SimCrash):
        disk.replace(b"c")
    assert disk.read() == b"c"
    ledger = MemLedger(points)
    points.arm(1, after=False)
    with pytest.raises(SimCrash):
        ledger.commit_block(_commit(1, {b"k": b"v"}, (b"t1",)))
    assert ledger.height() == 0


# --- in-memory ledger, differentially against LMDB --------------------------------------------


def _commit(
    height: int, writes: dict[bytes, bytes | None], tx_ids: tuple[bytes, ...], tag: bytes = b""
) -> BlockCommit:
    return BlockCommit(
        height=height,
        block_hash=b"hash-%d" % height + tag,
        block=b"block-%d" % height + tag,
        commit=b"commit-%d" % height,
        tx_ids=tx_ids,
        receipts=tuple(b"r" + t for t in tx_ids),
        writes=tuple(sorted(writes.items())),
        state_root=b"root-%d" % height + tag,
    )


def _answers(ledger: object, keys: list[bytes], tx_ids: list[bytes]) -> list[object]:
    h = ledger.height()  # type: ignore[attr-defined]
    out: list[object] = [h, ledger.state_root()]  # type: ignore[attr-defined]
    for height in range(0, h + 2):
        out += [
            ledger.block(height),
            ledger.commit(height),  # type: ignore[attr-defined]
            ledger.block_hash(height),
            ledger.state_root(height),  # type: ignore[attr-defined]
            ledger.receipts(height),
            ledger.receipt(height, 0),
        ]  # type: ignore[attr-defined]
    for key in keys:
        out += [
            ledger.get(key),
            ledger.history(key, limit=3),  # type: ignore[attr-defined]
            ledger.history(key, before_height=max(1, h // 2)),  # type: ignore[attr-defined]
            [ledger.get_at(key, x) for x in range(h + 1)],
        ]  # type: ignore[attr-defined]
    for prefix in (b"", b"k", b"k1", b"z"):
        out.append(ledger.scan_prefix(prefix, 5))  # type: ignore[attr-defined]
        out.append(ledger.scan_prefix(prefix, 100, start_after=b"k2"))  # type: ignore[attr-defined]
    out += [ledger.tx_location(t) for t in tx_ids]  # type: ignore[attr-defined]
    out.append(ledger.block_height(b"hash-1"))  # type: ignore[attr-defined]
    return out


def test_memledger_answers_like_lmdb(tmp_path: Path) -> None:
    rng = random.Random(11)
    mem, lmdb = MemLedger(), open_ledger(tmp_path / "ledger")
    keys = [b"k%d" % i for i in range(12)] + [b"z"]
    tx_ids: list[bytes] = []
    try:
        for step in range(60):
            height = mem.height() + (1 if rng.random() < 0.85 else rng.choice((0, 2)))
            writes = {
                rng.choice(keys): rng.choice((b"v%d" % step, None))
                for _ in range(rng.randint(0, 4))
            }
            fresh = tuple(b"tx%d" % (len(tx_ids) + i) for i in range(rng.randint(0, 3)))
            replay = (rng.choice(tx_ids),) if tx_ids and rng.random() < 0.1 else ()
            tag = b"dup" if rng.random() < 0.05 else b"-%d" % step
            c = _commit(max(1, height), writes, fresh + replay, tag=tag)
            if rng.random() < 0.05 and mem.height():
                c = _commit(max(1, height), writes, fresh, tag=b"")  # an old block hash
            outcomes = []
            for ledger in (mem, lmdb):
                try:
                    ledger.commit_block(c)
                    outcomes.append(None)
                except LedgerError as e:
                    outcomes.append(type(e).__name__)
            assert outcomes[0] == outcomes[1], (step, outcomes)
            if outcomes[0] is None:
                tx_ids += list(fresh)
            assert _answers(mem, keys, tx_ids) == _answers(lmdb, keys, tx_ids), step
        mem.check_integrity()
        mem.put_meta("genesis_hash", b"x")
        assert mem.get_meta("genesis_hash") == b"x"
    finally:
        lmdb.close()


# --- the checker ------------------------------------------------------------------------------


def _block_at_height_1(time_offset_ms: int, signers: int) -> tuple[BlockCommit, bytes]:
    """A real block 1 of the cached 4-node testnet with a commit signed by ``signers``."""
    net = load_testnet(4)
    g, suite = net.genesis, net.suite
    genesis_hash = suite.hash(g.encode())
    tip = ChainTip(0, genesis_hash, empty_state_root(suite), g.time_ms, EMPTY_STATE_SUM)
    registry = ContractRegistry(suite, g.contracts)
    block, result = make_block(
        suite,
        g.chain_id,
        MemLedger(),
        tip,
        time_ms=g.time_ms + 1 + time_offset_ms,
        proposer=net.names[0],
        validators_hash=suite.hash(encode(g.validators_value())),
        config_hash=suite.hash(ConsortiumConfig.from_genesis(g).encode()),
        txs=[],
        resolve=registry.resolve,
        step_limit=g.params.step_limit,
        limits=BlockLimits.of(g.params),
    )
    block_hash = block.header.hash(suite.hash)
    cert = sign_commit(
        g.chain_id, 1, 0, block_hash, [(n, net.keys[n].sign) for n in net.names[:signers]]
    )
    return BlockCommit(
        1, block_hash, block.encode(), cert.encode(), (), (), result.writes, block.header.state_root
    ), block_hash


def _checker() -> Checker:
    from yulian.consensus.consortium_view import ConsortiumView
    from yulian.types.consortium import ConsortiumConfig

    net = load_testnet(4)
    return Checker(
        net.suite,
        net.genesis.chain_id,
        ConsortiumView.of(ConsortiumConfig.from_genesis(net.genesis), 1, net.suite),
        frozenset({"a", "b", "c"}),
    )


def test_checker_accepts_agreement_and_reports_a_fork() -> None:
    checker = _checker()
    first, first_hash = _block_at_height_1(0, 3)
    other, other_hash = _block_at_height_1(5, 3)
    ledgers = {name: MemLedger() for name in ("a", "b", "c")}
    ledgers["a"].commit_block(first)
    ledgers["b"].commit_block(first)
    checker.on_commit("a", ledgers["a"], 1, first_hash, (), 10)
    checker.on_commit("b", ledgers["b"], 1, first_hash, (), 11)
    assert checker.violations == []
    ledgers["c"].commit_block(other)
    checker.on_commit("c", ledgers["c"], 1, other_hash, (), 12)
    assert [v.kind for v in checker.violations] == [AGREEMENT]


def test_checker_reports_a_certificate_without_quorum_and_divergent_roots() -> None:
    checker = _checker()
    weak, weak_hash = _block_at_height_1(0, 2)
    ledger = MemLedger()
    ledger.commit_block(weak)
    checker.on_commit("a", ledger, 1, weak_hash, (), 10)
    assert [v.kind for v in checker.violations] == [VALIDITY]
    checker = _checker()
    good, good_hash = _block_at_height_1(0, 3)
    a, b = MemLedger(), MemLedger()
    a.commit_block(good)
    b.commit_block(BlockCommit(**{**good.__dict__, "state_root": b"another root"}))
    checker.on_commit("a", a, 1, good_hash, (), 10)
    checker.on_commit("b", b, 1, good_hash, (), 11)
    assert [v.kind for v in checker.violations] == [STATE_ROOT]
