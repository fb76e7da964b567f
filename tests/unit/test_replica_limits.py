"""Issue 10 in the replica: no valid input halts the chain, and a step never raises.

- a pool of large txs is proposed block by block, each block within ``max_block_bytes``;
- a proposal over ``max_block_bytes`` (still decodable) is invalid: a nil prevote, no error;
- a replica restarts from a WAL that holds a proposal far over the decoder's default limits;
- a pending tx that no longer passes admission at the block's height is evicted by the
  proposer instead of making every validator refuse its block.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.unit.test_replica import Net, make_cluster, signing_key

from yulian.apps.evidence import CONTRACT_NAME
from yulian.consensus.proposer import proposer
from yulian.consensus.safety import SafetyRules
from yulian.consensus.wal import WAL
from yulian.execution.blocks import BlockLimits, InvalidBlock, check_block, make_block
from yulian.net.messages import Message
from yulian.node.replica import Outputs, Replica
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.consensus import Proposal, Vote, proposal_sign_bytes
from yulian.types.genesis import ChainParams, Genesis

MAX_BLOCK_BYTES = 300 * 1024
PARAMS = ChainParams(max_block_bytes=MAX_BLOCK_BYTES, block_interval_ms=50)


def large_envelope(genesis: Genesis, wallet: Wallet, i: int, size: int = 60_000) -> bytes:
    args = [f"{i:064x}", "large", {"blob": "x" * size}]
    return wallet.sign_tx(
        genesis.chain_id, CONTRACT_NAME, "register", args, expires_at=1000
    ).encode()


def started(
    tmp: Path, n: int, params: ChainParams = PARAMS
) -> tuple[Net, dict[str, Replica], Genesis, Wallet]:
    replicas, genesis, wallet = make_cluster(tmp, n, params=params)
    net = Net(replicas)
    net.now = genesis.time_ms + 3_600_000
    for name, r in replicas.items():
        net.apply(name, r.start(net.now))
    return net, replicas, genesis, wallet


def test_a_pool_of_large_txs_is_proposed_block_by_block(tmp_path: Path) -> None:
    net, replicas, genesis, wallet = started(tmp_path, 4)
    first = next(iter(replicas.values()))
    envelopes = [large_envelope(genesis, wallet, i) for i in range(24)]  # ~1.4 MiB
    for env in envelopes:
        first.submit(env, net.now)
    net.apply(
        first.config.name,
        Outputs(
            broadcast=[
                Message("txs", tuple(envelopes[:8])),
                Message("txs", tuple(envelopes[8:16])),
                Message("txs", tuple(envelopes[16:])),
            ]
        ),
    )
    net.run_until(lambda: all(len(r.mempool) == 0 and r.tip.height >= 6 for r in replicas.values()))
    ledger = first.ledger
    sizes = [len(ledger.block(h) or b"") for h in range(1, ledger.height() + 1)]
    carried = [Block.decode(ledger.block(h) or b"").txs for h in range(1, ledger.height() + 1)]
    assert sum(map(len, carried)) == 24
    assert max(sizes) <= MAX_BLOCK_BYTES
    assert max(sizes) > MAX_BLOCK_BYTES - 62_000  # a block was filled to the byte limit
    assert len({r.ledger.block_hash(ledger.height()) for r in replicas.values()}) == 1


def test_a_proposal_over_max_block_bytes_gets_a_nil_prevote(tmp_path: Path) -> None:
    net, replicas, genesis, wallet = started(tmp_path, 4)
    net.run_until(lambda: all(r.tip.height >= 1 for r in replicas.values()))
    target = replicas[sorted(replicas)[0]]
    height = target.tip.height + 1
    name = proposer(target.validators, height, 0)
    author = replicas[name]
    txs = [
        target.admission.check(
            large_envelope(genesis, wallet, 100 + i), height=height, at_ms=net.now
        )
        for i in range(6)
    ]
    block, _ = make_block(
        target.suite,
        genesis.chain_id,
        target.ledger,
        target.tip,
        time_ms=net.now,
        proposer=name,
        validators_hash=target.view.validators_hash,
        config_hash=target.view.config_hash,
        txs=txs,
        resolve=target.registry.resolve,
        step_limit=target.params.step_limit,
        limits=BlockLimits(100, 1 << 20),  # more than the chain allows
    )
    data = block.encode()
    assert len(data) > MAX_BLOCK_BYTES and len(block.txs) == 6
    block_hash = block.header.hash(target.suite.hash)
    signature = signing_key(author).sign(
        proposal_sign_bytes(genesis.chain_id, height, 0, -1, block_hash)
    )
    proposal = Proposal(height, 0, -1, data, block_hash, name, signature)
    out = target.on_message(name, Message("proposal", proposal.encode()), net.now)
    assert not out.drop  # signed by the right proposer: the block is invalid, not the peer
    prevotes = [Vote.decode(m.payload) for m in out.broadcast if m.kind == "vote"]
    assert prevotes and all(v.block_hash == b"" and v.round == 0 for v in prevotes)


def test_a_restart_replays_a_wal_holding_a_large_proposal(tmp_path: Path) -> None:
    """The proposer of height 1 logs a proposal of about 1.4 MiB that nobody answers; it is
    rebuilt over the same WAL, ledger and safety file, starts, and re-sends that proposal (the
    WAL's records are decoded under their own limits, not the decoder's 1 MiB default)."""
    params = dataclasses.replace(PARAMS, max_block_bytes=2 * 1024 * 1024)
    net, replicas, genesis, wallet = started(tmp_path, 4, params)
    first = next(iter(replicas.values()))
    name = proposer(first.validators, 1, 0)
    replica = replicas[name]
    net.blocked.update(n for n in replicas if n != name)
    for i in range(24):
        replica.submit(large_envelope(genesis, wallet, i), net.now)
    proposals: list[bytes] = []
    original = net.apply

    def capture(sender: str, out: Outputs) -> None:
        proposals.extend(m.payload for m in out.broadcast if m.kind == "proposal")
        original(sender, out)

    net.apply = capture  # type: ignore[method-assign]
    net.run_until(lambda: any(len(p) > 1024 * 1024 for p in proposals))
    assert replica.tip.height == 0
    assert replica.safety is not None
    reborn = Replica(
        genesis,
        replica.suite,
        replica.ledger,
        SafetyRules(
            replica.suite, signing_key(replica), genesis.chain_id, name, replica.safety._store
        ),
        WAL(replica.wal._file),
        replica.config,
    )
    out = reborn.start(net.now)
    assert [m.payload for m in out.broadcast if m.kind == "proposal"] == proposals[:1]


def test_the_proposer_evicts_a_pending_tx_that_no_longer_passes(tmp_path: Path) -> None:
    _net, replicas, genesis, wallet = started(tmp_path, 1)
    (replica,) = replicas.values()
    now = genesis.time_ms + 3_600_000
    small = replica.submit(large_envelope(genesis, wallet, 1, size=10), now)
    large = replica.submit(large_envelope(genesis, wallet, 2), now)
    # the chain lowered max_tx_bytes after the large tx was admitted
    replica.admission.reconfigure(
        dataclasses.replace(replica.params, max_tx_bytes=1000), replica.membership
    )
    block, _ = replica.builder.build(now, replica)
    assert [t for t in block.txs] == [small.data()]
    assert large.tx_id not in replica.mempool and small.tx_id in replica.mempool


def test_a_block_never_writes_more_state_than_one_block_may_store(tmp_path: Path) -> None:
    """``make_block`` halves the txs until their writes fit; ``check_block`` refuses a block
    over the limit; the builder evicts a tx that alone writes more."""
    _net, replicas, genesis, wallet = started(tmp_path, 1)
    (replica,) = replicas.values()
    now = genesis.time_ms + 3_600_000
    txs = [
        replica.admission.check(large_envelope(genesis, wallet, i, 10), height=1, at_ms=now)
        for i in range(5)
    ]
    kwargs = dict(
        validators_hash=replica.view.validators_hash,
        config_hash=replica.view.config_hash,
        resolve=replica.registry.resolve,
        step_limit=replica.params.step_limit,
    )
    roomy = BlockLimits(100, 1 << 20)
    full, full_result = make_block(
        replica.suite,
        genesis.chain_id,
        replica.ledger,
        replica.tip,
        time_ms=now,
        proposer="p",
        txs=txs,
        limits=roomy,
        **kwargs,
    )  # type: ignore[arg-type]
    writes_per_tx = len(full_result.writes) // 5
    assert writes_per_tx >= 1 and len(full.txs) == 5
    tight = BlockLimits(100, 1 << 20, max_writes=3 * writes_per_tx)
    block, result = make_block(
        replica.suite,
        genesis.chain_id,
        replica.ledger,
        replica.tip,
        time_ms=now,
        proposer="p",
        txs=txs,
        limits=tight,
        **kwargs,
    )  # type: ignore[arg-type]
    assert len(block.txs) == 2 and len(result.writes) <= tight.max_writes  # 5 -> 2 (halved)
    with pytest.raises(InvalidBlock, match="writes exceed"):
        check_block(
            replica.suite,
            genesis.chain_id,
            replica.ledger,
            replica.tip,
            full,
            txs=txs,
            limits=tight,
            **kwargs,
        )  # type: ignore[arg-type]
    lone = BlockLimits(100, 1 << 20, max_writes=writes_per_tx - 1)
    empty, _ = make_block(
        replica.suite,
        genesis.chain_id,
        replica.ledger,
        replica.tip,
        time_ms=now,
        proposer="p",
        txs=txs,
        limits=lone,
        **kwargs,
    )  # type: ignore[arg-type]
    assert empty.txs == ()
