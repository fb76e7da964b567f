"""Introduction: making and checking a block around ``execute_block``.

``make_block`` is what a proposer does: execute the chosen transactions on the tip's state and
write the resulting roots into a header. ``check_block`` is what every other validator does with
a proposal (and what block sync does with a fetched block): re-execute and compare every root,
raising ``InvalidBlock`` on the first mismatch, in the manner of execution-specs'
``state_transition``. Both are pure.

Both enforce the chain's block limits (``BlockLimits``, from the chain parameters
``max_block_txs`` and ``max_block_bytes``, and the store's ``MAX_BLOCK_WRITES``):
``make_block`` takes the longest prefix of the txs it is given that fits the count and the
bytes — and, should their state writes exceed what one block may store, halves the prefix
until they fit — so whatever a proposer is handed it builds a block every validator accepts
and every node can store; ``check_block`` refuses a block over the count or the bytes before
executing it, and one whose writes exceed the limit after.

The limits also hold the block's step budget (``max_block_steps``, decision 0072; the rule is
``BlockContext.fits``): ``make_block`` stops executing before the first tx that does not fit —
it and the rest stay pending for the next block — and ``check_block`` refuses a block whose txs
do not all fit, stopping its execution where the budget ends, so no block costs any node more
than the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from yulian.crypto.suite import Suite
from yulian.execution.executor import (
    BlockContext,
    BlockResult,
    ContractResolver,
    ExecTx,
    execute_block,
)
from yulian.execution.overlay import StateView
from yulian.execution.roots import result_root, state_root, state_sum_after, tx_root
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.types.block import (
    BLOCK_OVERHEAD_BYTES,
    MAX_BLOCK_WRITES,
    Block,
    Header,
    block_tx_bytes,
)
from yulian.types.genesis import ChainParams


class InvalidBlock(ValueError):
    """A block whose header does not match what executing it produces."""


@dataclass(frozen=True)
class ChainTip:
    """The last committed block as the next block builds on it (height 0 = genesis), with the
    LtHash of the state after it (``roots.state_sum_after``; its hash is ``state_root``)."""

    height: int
    block_hash: bytes
    state_root: bytes
    time_ms: int
    state_sum: bytes


@dataclass(frozen=True)
class BlockLimits:
    """How many txs, how many bytes of encoding (header included), how many state writes and
    how many contract steps (None: no budget) a block may take."""

    max_txs: int
    max_bytes: int
    max_writes: int = MAX_BLOCK_WRITES
    max_steps: int | None = None

    @classmethod
    def of(cls, params: ChainParams) -> BlockLimits:
        return cls(params.max_block_txs, params.max_block_bytes, max_steps=params.max_block_steps)

    def fitting(self, envelope_sizes: Sequence[int]) -> int:
        """How many of the leading envelopes (by their sizes in bytes) fit one block."""
        room = self.max_bytes - BLOCK_OVERHEAD_BYTES
        count = 0
        for size in envelope_sizes[: self.max_txs]:
            room -= block_tx_bytes(size)
            if room < 0:
                break
            count += 1
        return count

    def check(self, block: Block) -> None:
        """Raise ``InvalidBlock`` for a block over either limit."""
        h = block.header
        if len(block.txs) > self.max_txs:
            raise InvalidBlock(f"block {h.height}: {len(block.txs)} txs exceed {self.max_txs}")
        size = block.encoded_size()
        if size > self.max_bytes:
            raise InvalidBlock(f"block {h.height}: {size} bytes exceed {self.max_bytes}")


def make_block(
    suite: Suite,
    chain_id: str,
    view: StateView,
    tip: ChainTip,
    *,
    time_ms: int,
    proposer: str,
    validators_hash: bytes,
    config_hash: bytes,
    txs: Sequence[ExecTx],
    resolve: ContractResolver,
    step_limit: int,
    limits: BlockLimits,
) -> tuple[Block, BlockResult]:
    """Execute the longest prefix of ``txs`` that fits ``limits`` on ``view`` and build the
    block (the caller sees how many it took in ``len(block.txs)``); ``config_hash`` is the hash
    of the consortium config in force (the header carries the one after the block)."""
    height = tip.height + 1
    assert time_ms > tip.time_ms, "block time strictly increases"
    txs = txs[: limits.fitting([len(t.data()) for t in txs])]
    context = BlockContext(height, time_ms, step_limit, limits.max_steps)
    result = execute_block(view, context, txs, resolve)
    txs = txs[: len(result.receipts)]  # the step budget ran out before the rest
    while len(result.writes) > limits.max_writes:  # rare: halving costs at most twice the work
        txs = txs[: len(txs) // 2]
        result = execute_block(view, context, txs, resolve)
    result = replace(
        result, state_sum=state_sum_after(suite, tip.state_sum, view, height, result.writes)
    )
    envelopes = tuple(t.data() for t in txs)
    header = Header(
        chain_id=chain_id,
        height=height,
        time_ms=time_ms,
        prev_hash=tip.block_hash,
        tx_count=len(envelopes),
        tx_root=tx_root(suite, envelopes),
        result_root=result_root(suite, [r.encode() for r in result.receipts]),
        state_root=state_root(suite, result.state_sum),
        validators_hash=validators_hash,
        proposer=proposer,
        config_hash=config_hash_after(suite, result.writes, config_hash),
    )
    block = Block(header=header, txs=envelopes)
    assert block.encoded_size() <= limits.max_bytes, "BLOCK_OVERHEAD_BYTES bounds the header"
    return block, result


def check_block(
    suite: Suite,
    chain_id: str,
    view: StateView,
    tip: ChainTip,
    block: Block,
    *,
    validators_hash: bytes,
    config_hash: bytes,
    txs: Sequence[ExecTx],
    resolve: ContractResolver,
    step_limit: int,
    limits: BlockLimits,
) -> BlockResult:
    """Re-execute ``block`` (whose txs the caller admitted as ``txs``) and compare every root;
    a block over ``limits`` is refused before anything runs (over the step budget: where the
    budget ends)."""
    limits.check(block)
    h = block.header
    checks = [
        (h.chain_id == chain_id, "chain_id"),
        (h.height == tip.height + 1, "height"),
        (h.prev_hash == tip.block_hash, "prev_hash"),
        (h.time_ms > tip.time_ms, "time_ms"),
        (h.validators_hash == validators_hash, "validators_hash"),
        (tuple(t.data() for t in txs) == block.txs, "txs"),
        (h.tx_root == tx_root(suite, block.txs), "tx_root"),
    ]
    for ok, name in checks:
        if not ok:
            raise InvalidBlock(f"block {h.height}: {name} mismatch")
    context = BlockContext(h.height, h.time_ms, step_limit, limits.max_steps)
    result = execute_block(view, context, txs, resolve)
    if len(result.receipts) < len(txs):
        raise InvalidBlock(
            f"block {h.height}: tx {len(result.receipts)} does not fit the step budget of "
            f"{limits.max_steps} (each tx may take {step_limit})"
        )
    if len(result.writes) > limits.max_writes:
        raise InvalidBlock(
            f"block {h.height}: {len(result.writes)} writes exceed {limits.max_writes}"
        )
    if h.result_root != result_root(suite, [r.encode() for r in result.receipts]):
        raise InvalidBlock(f"block {h.height}: result_root mismatch")
    state_sum = state_sum_after(suite, tip.state_sum, view, h.height, result.writes)
    result = replace(result, state_sum=state_sum)
    if h.state_root != state_root(suite, result.state_sum):
        raise InvalidBlock(f"block {h.height}: state_root mismatch")
    if h.config_hash != config_hash_after(suite, result.writes, config_hash):
        raise InvalidBlock(f"block {h.height}: config_hash mismatch")
    return result


def config_hash_after(
    suite: Suite, writes: Sequence[tuple[bytes, bytes | None]], config_hash: bytes
) -> bytes:
    """The hash of the consortium config after a block with ``writes``."""
    for key, value in writes:
        if key == CONFIG_KEY and value is not None:
            return suite.hash(value)
    return config_hash
