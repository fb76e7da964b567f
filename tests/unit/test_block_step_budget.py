"""The block's step budget (``max_block_steps``): a proposer takes the longest prefix of its
txs that fits and leaves the rest pending; a block that does not fit is invalid and is not
executed past its budget; the parameter is checked against ``step_limit`` at genesis and by
governance; a replica commits a pool of heavy txs over several blocks, each within budget."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.unit.test_replica import Net

from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.wal import WAL
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import pem_to_der
from yulian.devkit import Harness
from yulian.devkit.harness import BlockFull
from yulian.execution.blocks import BlockLimits, ChainTip, InvalidBlock, check_block, make_block
from yulian.execution.executor import BlockContext, ExecTx, execute_block
from yulian.ledger import open_ledger
from yulian.node.bootstrap import init_network
from yulian.node.replica import Replica, ReplicaConfig
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.genesis import ChainParams, Genesis, GenesisError

STEP_LIMIT = 10_000
BUDGET = 25_000
BURN = """
def burn(ctx, n, tag):
    i = 0
    while i < n:
        i += 1
    return tag

def forever(ctx, tag):
    while True:
        pass
"""


@pytest.fixture
def h() -> Harness:
    return Harness(["org1"], contracts=[("burn", BURN)], step_limit=STEP_LIMIT)


def fits(steps: list[int], limit: int = STEP_LIMIT, budget: int = BUDGET) -> int:
    """How many txs of these step counts the rule admits, in order."""
    used = 0
    for count, spent in enumerate(steps):
        if used + limit > budget:
            return count
        used += spent
    return len(steps)


def limits(budget: int | None) -> BlockLimits:
    """The default limits of txs, bytes and writes, with this step budget."""
    return dataclasses.replace(BlockLimits.of(ChainParams()), max_steps=budget)


def build(h: Harness, txs: list[ExecTx], budget: int | None) -> tuple[Block, object]:
    return make_block(
        h.suite,
        h.genesis.chain_id,
        h.ledger,
        ChainTip(h.height, b"\x00" * 32, h.state_root, h.time_ms, h.state_sum),
        time_ms=h.next_time_ms,
        proposer="p",
        validators_hash=b"\x01" * 32,
        config_hash=b"\x02" * 32,
        txs=txs,
        resolve=h.registry.resolve,
        step_limit=STEP_LIMIT,
        limits=limits(budget),
    )


def check(h: Harness, block: Block, txs: list[ExecTx], budget: int) -> object:
    return check_block(
        h.suite,
        h.genesis.chain_id,
        h.ledger,
        ChainTip(h.height, b"\x00" * 32, h.state_root, h.time_ms, h.state_sum),
        block,
        validators_hash=b"\x01" * 32,
        config_hash=b"\x02" * 32,
        txs=txs,
        resolve=h.registry.resolve,
        step_limit=STEP_LIMIT,
        limits=limits(budget),
    )


def test_the_proposer_takes_the_longest_prefix_that_fits_and_validators_accept_it(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    txs = [h.tx(alice, "burn", "burn", 3000, i) for i in range(8)]
    unbounded, everything = build(h, txs, None)
    assert len(unbounded.txs) == 8
    steps = [r.steps for r in everything.receipts]  # type: ignore[attr-defined]
    block, result = build(h, txs, BUDGET)
    taken = fits(steps)
    assert 1 < taken < 8
    assert block.txs == tuple(t.data() for t in txs[:taken])
    assert sum(r.steps for r in result.receipts) <= BUDGET  # type: ignore[attr-defined]
    check(h, block, txs[:taken], BUDGET)  # a validator accepts it


def test_a_block_over_the_budget_is_invalid_and_runs_no_further_than_the_budget(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    txs = [h.tx(alice, "burn", "forever", i) for i in range(6)]  # each spends STEP_LIMIT
    block, _ = build(h, txs, None)  # a proposer that ignored the budget
    with pytest.raises(InvalidBlock, match="tx 2 does not fit the step budget of 25000"):
        check(h, block, txs, BUDGET)
    context = BlockContext(h.height + 1, h.next_time_ms, STEP_LIMIT, BUDGET)
    ran = execute_block(h.ledger, context, txs, h.registry.resolve)
    assert [r.steps for r in ran.receipts] == [STEP_LIMIT, STEP_LIMIT]  # and not one more


def test_every_tx_fits_an_empty_block(h: Harness) -> None:
    alice = h.member("org1", "alice")
    tx = h.tx(alice, "burn", "forever", 0)
    block, result = build(h, [tx], STEP_LIMIT)
    assert len(block.txs) == 1 and result.receipts[0].status == "out_of_steps"  # type: ignore[attr-defined]


def test_the_harness_refuses_a_block_over_the_budget_and_commits_nothing(h: Harness) -> None:
    alice = h.member("org1", "alice")
    budget = ChainParams().max_block_steps
    txs = [h.tx(alice, "burn", "forever", i) for i in range(budget // STEP_LIMIT + 1)]
    before = (h.height, h.state_root)
    with pytest.raises(BlockFull, match="do not fit the block's step budget"):
        h.block(*txs)
    assert (h.height, h.state_root) == before


def test_the_budget_holds_at_least_one_whole_tx() -> None:
    with pytest.raises(GenesisError, match=r"max_block_steps .* must be at least step_limit"):
        ChainParams(step_limit=2_000_000, max_block_steps=1_000_000).check()
    ChainParams(step_limit=2_000_000, max_block_steps=2_000_000).check()
    with pytest.raises(GenesisError, match="at most 10000000000"):
        ChainParams(max_block_steps=10_000_000_001).check()


def test_governance_cannot_set_a_budget_below_the_step_limit() -> None:
    h = Harness(["org1"])
    refused = h.call(
        h.admin("org1"), "consortium", "propose", "set_params", [[["max_block_steps", 999]]]
    )
    assert refused.status == "reverted" and "must be at least step_limit" in refused.message
    raised = h.call(
        h.admin("org1"), "consortium", "propose", "set_params", [[["max_block_steps", 5_000_000]]]
    )
    assert raised.ok, raised.message
    assert h.query("consortium", "config")["params"]["max_block_steps"] == 5_000_000


def test_a_replica_commits_a_pool_of_heavy_txs_over_blocks_within_budget(tmp_path: Path) -> None:
    params = ChainParams(step_limit=STEP_LIMIT, max_block_steps=BUDGET, block_interval_ms=50)
    layout = init_network(tmp_path / "net", orgs=1, contracts=[("burn", BURN)], params=params)
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    (node,) = layout.nodes
    key = suite.load_private_key(node.credential.key.read_bytes())
    replica = Replica(
        genesis,
        suite,
        open_ledger(tmp_path / "ledger"),
        SafetyRules(suite, key, genesis.chain_id, node.name, MemoryFile()),
        WAL(MemoryFile()),
        ReplicaConfig(name=node.name, node_cert=pem_to_der(node.credential.cert.read_bytes())),
    )
    wallet = Wallet.from_network(layout.root, "org1", "client1")
    net = Net({node.name: replica})
    net.now = genesis.time_ms + 3_600_000
    net.apply(node.name, replica.start(net.now))
    ids = []
    for i in range(10):
        envelope = wallet.sign_tx(
            genesis.chain_id, "burn", "forever", [i], expires_at=1000
        ).encode()
        ids.append(replica.submit(envelope, net.now).tx_id)
    net.run_until(lambda: all(replica.ledger.has_tx(i) for i in ids))
    per_block = []
    for height in range(1, replica.tip.height + 1):
        receipts = replica.ledger.receipts(height) or []
        if receipts:
            per_block.append(len(receipts))
    assert per_block == [2, 2, 2, 2, 2]  # each tx spends 10,000: two fit 25,000, a third not
