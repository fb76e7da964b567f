"""The replica in process: 1 and 4 validators over a perfect in-memory network, real LMDB ledgers
and in-memory durable files. (The seeded simulator in ``yulian.sim`` does the faults.)"""

from __future__ import annotations

import dataclasses
import heapq
from pathlib import Path

import pytest
from tests.unit.test_admission_batch import CountingSuite

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.votes import ValidatorSet, verify_commit
from yulian.consensus.wal import WAL
from yulian.crypto.suite import PrivateKey, get_suite
from yulian.crypto.x509 import pem_to_der
from yulian.execution.executor import ExecTx
from yulian.ledger import open_ledger
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import Message, decode_message
from yulian.node.bootstrap import init_network
from yulian.node.replica import Outputs, Replica, ReplicaConfig, Timer
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.genesis import ChainParams, Genesis


class Net:
    """Deliver everything, in order, through real encode/decode, on a simulated clock."""

    def __init__(self, replicas: dict[str, Replica]) -> None:
        self.replicas = replicas
        self.now = 1_000_000_000_000
        self.queue: list[tuple[int, int, str, object]] = []
        self.seq = 0
        self.blocked: set[str] = set()  # replicas that receive nothing (partitioned away)

    def push(self, at: int, target: str, item: object) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, target, item))

    def apply(self, sender: str, out: Outputs) -> None:
        for msg in out.broadcast:
            for name in self.replicas:
                if name != sender:
                    self.push(self.now + 1, name, (sender, msg.encode()))
        for peer, msg in out.send:
            self.push(self.now + 1, peer, (sender, msg.encode()))
        for timer in out.timers:
            self.push(timer.due_ms, sender, timer)

    def run_until(self, predicate, max_events: int = 200_000) -> None:  # type: ignore[no-untyped-def]
        for _ in range(max_events):
            if predicate():
                return
            if not self.queue:
                break
            at, _, target, item = heapq.heappop(self.queue)
            self.now = max(self.now, at)
            if target in self.blocked:
                continue
            replica = self.replicas[target]
            if isinstance(item, Timer):
                self.apply(target, replica.on_timer(item, self.now))
            else:
                sender, data = item  # type: ignore[misc]
                self.apply(target, replica.on_message(sender, decode_message(data), self.now))
        assert predicate(), "did not reach the goal"


def signing_key(replica: Replica) -> PrivateKey:
    """A validator's key, for tests that play its Byzantine twin: only its safety rules hold it."""
    assert replica.safety is not None
    return replica.safety._key


def make_cluster(
    tmp: Path, n: int, *, mempool_size: int = 20_000, params: ChainParams | None = None
) -> tuple[dict[str, Replica], Genesis, Wallet]:
    layout = init_network(
        tmp / "net",
        orgs=n,
        validators=n,
        contracts=[(CONTRACT_NAME, contract_source())],
        params=params,
    )
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    replicas = {}
    for node in layout.nodes:
        key = suite.load_private_key(node.credential.key.read_bytes())
        cert = pem_to_der(node.credential.cert.read_bytes())
        replicas[node.name] = Replica(
            genesis,
            suite,
            open_ledger(tmp / node.name),
            SafetyRules(suite, key, genesis.chain_id, node.name, MemoryFile()),
            WAL(MemoryFile()),
            ReplicaConfig(name=node.name, node_cert=cert, mempool_size=mempool_size),
        )
    return replicas, genesis, Wallet.from_network(layout.root, "org1", "client1")


def register_envelope(genesis: Genesis, wallet: Wallet, i: int) -> bytes:
    """A signed evidence registration of digest ``i``."""
    args = [f"{i:064x}", "t", {}]
    return wallet.sign_tx(
        genesis.chain_id, CONTRACT_NAME, "register", args, expires_at=1000
    ).encode()


@pytest.mark.parametrize("n", [1, 4])
def test_replicas_commit_and_agree(tmp_path: Path, n: int) -> None:
    replicas, genesis, wallet = make_cluster(tmp_path, n)
    net = Net(replicas)
    net.now = genesis.time_ms + 3_600_000
    for name, r in replicas.items():
        net.apply(name, r.start(net.now))
    first = next(iter(replicas.values()))
    ids = []
    for i in range(20):
        env = register_envelope(genesis, wallet, i)
        ids.append(first.submit(env, net.now).tx_id)
        net.apply(first.config.name, Outputs(broadcast=[Message("txs", (env,))]))
    net.run_until(
        lambda: (
            all(r.ledger.has_tx(ids[-1]) for r in replicas.values())
            and all(r.tip.height >= 3 for r in replicas.values())
        )
    )
    heights = {r.tip.height for r in replicas.values()}
    h = min(heights)
    hashes = {r.ledger.block_hash(h) for r in replicas.values()}
    roots = {r.ledger.state_root(h) for r in replicas.values()}
    assert len(hashes) == 1 and len(roots) == 1
    suite = get_suite(genesis.suite)
    for height in range(1, h + 1):
        cert = CommitCertificate.decode(first.ledger.commit(height))  # type: ignore[arg-type]
        verify_commit(
            suite,
            genesis.chain_id,
            ValidatorSet(genesis.validators),
            cert,
            height=height,
            block_hash=first.ledger.block_hash(height),
        )  # type: ignore[arg-type]
        assert len(cert.signatures) >= (2 * n) // 3 + 1
    for tx_id in ids:
        assert all(r.ledger.has_tx(tx_id) for r in replicas.values())


def test_equivocation_is_committed_as_evidence(tmp_path: Path) -> None:
    """B1: a validator that double-votes is named, with its organisation, on chain."""
    from yulian.consensus.evidence import MISBEHAVIOUR_CONTRACT
    from yulian.execution.overlay import state_key
    from yulian.types.commit import PREVOTE, vote_sign_bytes
    from yulian.types.consensus import Vote
    from yulian.types.encoding import decode

    replicas, genesis, _ = make_cluster(tmp_path, 4)
    net = Net(replicas)
    net.now = genesis.time_ms + 3_600_000
    for name, r in replicas.items():
        net.apply(name, r.start(net.now))
    net.run_until(lambda: all(r.tip.height >= 2 for r in replicas.values()))
    cheater = replicas["org3-node0"]
    h = max(r.tip.height for r in replicas.values()) + 5  # a height no one has reached
    votes = []
    for block_hash in (b"\x0a" * 32, b"\x0b" * 32):
        sig = signing_key(cheater).sign(
            vote_sign_bytes(genesis.chain_id, PREVOTE, h, 0, block_hash)
        )
        votes.append(Vote(PREVOTE, h, 0, block_hash, "org3-node0", sig).encode())
    # deliver both votes once the honest replicas are at that height
    net.run_until(lambda: all(r.tip.height >= h - 1 for r in replicas.values()))
    for name in replicas:
        if name != "org3-node0":
            for v in votes:
                net.push(net.now + 1, name, ("org3-node0", Message("vote", v).encode()))
    key = state_key(MISBEHAVIOUR_CONTRACT, f"equivocation/{h}/0/{PREVOTE}/org3-node0")
    net.run_until(lambda: all(r.ledger.get(key) is not None for r in replicas.values()))
    record = decode(replicas["org1-node0"].ledger.get(key) or b"")
    assert record == {
        "height": h,
        "org": "org3",
        "round": 0,
        "type": PREVOTE,
        "validator": "org3-node0",
    }
    assert any(e.first.validator == "org3-node0" for e in replicas["org1-node0"].pending_evidence)


def test_a_proposed_block_may_not_carry_a_committed_or_repeated_tx(tmp_path: Path) -> None:
    """A validator refuses a proposal that repeats a committed tx (checked for the block's txs
    that are not pending here, in one ledger read) or carries one tx twice."""
    replicas, genesis, wallet = make_cluster(tmp_path, 1)
    (replica,) = replicas.values()
    net = Net(replicas)
    net.now = genesis.time_ms + 3_600_000
    net.apply(replica.config.name, replica.start(net.now))

    committed = register_envelope(genesis, wallet, 1)
    tx_id = replica.submit(committed, net.now).tx_id
    net.run_until(lambda: replica.ledger.has_tx(tx_id))
    fresh, pending = register_envelope(genesis, wallet, 2), register_envelope(genesis, wallet, 3)
    replica.submit(pending, net.now)
    raw = replica.ledger.block(replica.tip.height)
    assert raw is not None
    block = Block.decode(raw)

    def with_txs(*txs: bytes) -> Block:
        return dataclasses.replace(block, txs=txs)  # only the txs matter to this check

    def txs_for_block(block: Block) -> list[ExecTx] | None:
        return replica.checker.txs_for_block(block, replica.ledger)

    ok = txs_for_block(with_txs(fresh, pending))
    assert ok is not None and len(ok) == 2
    assert txs_for_block(with_txs(fresh, committed, pending)) is None
    assert txs_for_block(with_txs(committed)) is None
    assert txs_for_block(with_txs(fresh, fresh)) is None
    assert txs_for_block(with_txs(pending, pending)) is None


def test_a_batch_beyond_the_mempools_room_is_refused_before_any_check(tmp_path: Path) -> None:
    replicas, genesis, wallet = make_cluster(tmp_path, 1, mempool_size=3)
    (replica,) = replicas.values()
    counting = CountingSuite(replica.admission._suite)
    replica.admission._suite = counting
    now = genesis.time_ms + 3_600_000
    envelopes = [register_envelope(genesis, wallet, i) for i in range(5)]
    first = replica.submit_many(envelopes[:2], now)
    assert [type(v) for v in first] == [ExecTx, ExecTx]
    rest = replica.submit_many([envelopes[0], *envelopes[2:]], now)
    # one slot left: the copy of a pending tx takes the slot's check and is a duplicate; the
    # others are refused unchecked
    assert [getattr(v, "code", "ok") for v in rest] == [
        "duplicate_tx",
        "mempool_full",
        "mempool_full",
        "mempool_full",
    ]
    assert counting.verifies == 2 and len(replica.mempool) == 2
    assert [getattr(v, "code", "ok") for v in replica.submit_many(envelopes[2:4], now)] == [
        "ok",
        "mempool_full",
    ]
    assert counting.verifies == 3


def test_own_clients_fill_only_their_share_of_the_pool_gossip_the_rest(tmp_path: Path) -> None:
    """With 4 validators a node's own clients' pending txs may fill a quarter of its mempool;
    peers' gossip may fill it all, so under overload every node still holds every node's txs."""
    replicas, genesis, wallet = make_cluster(tmp_path, 4, mempool_size=8)
    first, second = list(replicas.values())[:2]
    now = genesis.time_ms + 3_600_000
    envelopes = [register_envelope(genesis, wallet, i) for i in range(10)]
    assert first.client_room() == 2
    own = first.submit_many(envelopes[:3], now)
    assert [getattr(v, "code", "ok") for v in own] == ["ok", "ok", "mempool_full"]
    with pytest.raises(AdmissionError) as e:
        first.submit(envelopes[3], now)
    assert e.value.code == "mempool_full"
    for data in envelopes[2:]:
        second.submit(data, now, client=False)  # the peer holds them; now it gossips them
    first.on_message(second.config.name, Message("txs", tuple(envelopes[2:])), now)
    assert len(first.mempool) == 8 and first.client_room() == 0  # gossip filled the rest
    first.mempool.remove([t.tx_id for t in own if isinstance(t, ExecTx)])  # as a commit does
    # the pool still holds the peer's six, but this node's clients have their share again
    assert len(first.mempool) == 6 and first.mempool.local_count() == 0
    assert first.client_room() == 2
