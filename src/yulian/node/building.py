"""Introduction: block building — the proposer's side of a height.

When the consensus core asks the replica to propose a new block (``ProposeBlock`` without a
block), ``BlockBuilder`` decides *when* and *what*:

- **When.** A block interval after the last commit if txs wait, an empty-block interval
  otherwise, and at once when the pending txs fill a block (by count or by bytes). Until then
  a ``build`` timer polls every block interval, so a tx that reaches an idle chain waits at
  most one interval.
- **What.** The pool's txs in arrival order within the chain's block limits
  (``max_block_txs``, ``max_block_bytes``: ``Mempool.reap``), each checked again as it would
  be inside the block — at the block's height and time, under the consortium config in force —
  so a tx that no longer passes (its certificate expired or was revoked, the limits shrank) is
  evicted from the pool and logged instead of making every validator refuse the block; then
  ``make_block``, which enforces the limits once more and keeps the block's state writes
  within what one block may store (a tx that alone writes more is evicted).

The builder holds no state besides the ``(height, round)`` it owes a block for; everything else
it reads from its ``BuildSource`` (the replica) when the timer fires.
"""

from __future__ import annotations

import logging
from typing import Protocol

from yulian.consensus.consortium_view import ConsortiumView
from yulian.crypto.suite import Suite
from yulian.execution.blocks import BlockLimits, ChainTip, make_block
from yulian.execution.executor import BlockResult, ContractResolver, ExecTx
from yulian.ledger import Ledger
from yulian.mempool.admission import Admission, AdmissionError
from yulian.mempool.pool import Mempool
from yulian.node.outputs import Timer
from yulian.types.block import Block
from yulian.types.genesis import ChainParams

log = logging.getLogger("yulian.replica")

BUILD = "build"


class BuildSource(Protocol):
    """What the builder reads, when it builds, about the chain it builds on."""

    @property
    def tip(self) -> ChainTip: ...
    @property
    def params(self) -> ChainParams: ...
    @property
    def view(self) -> ConsortiumView: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def last_commit_ms(self) -> int: ...
    @property
    def block_interval_ms(self) -> int: ...


class BlockBuilder:
    def __init__(
        self,
        suite: Suite,
        chain_id: str,
        name: str,
        mempool: Mempool,
        admission: Admission,
        resolve: ContractResolver,
        *,
        empty_block_interval_ms: int,
    ) -> None:
        self._suite = suite
        self._chain_id = chain_id
        self._name = name
        self._mempool = mempool
        self._admission = admission
        self._resolve = resolve
        self._empty_block_interval_ms = empty_block_interval_ms
        self.pending: tuple[int, int] | None = None  # (height, round) owed a new block

    def request(self, height: int, round_: int, now_ms: int, chain: BuildSource) -> Timer:
        """The core asks for a new block at ``(height, round_)``: the timer to arm."""
        self.pending = (height, round_)
        due = min(self._due_ms(now_ms, chain), now_ms + chain.block_interval_ms)
        return Timer(BUILD, height, round_, due)

    def cancel(self) -> None:
        """A new height began: no block is owed."""
        self.pending = None

    def on_timer(
        self, timer: Timer, now_ms: int, chain: BuildSource
    ) -> Timer | tuple[Block, BlockResult] | None:
        """The build timer fired: ``None`` if stale, the next timer if it is too early, else
        the block (built and executed) to propose."""
        if self.pending != (timer.height, timer.round):
            return None
        limits = BlockLimits.of(chain.params)
        due = self._due_ms(now_ms, chain)
        if due > now_ms and not self._mempool.fills_block(limits.max_txs, limits.max_bytes):
            return Timer(
                BUILD, timer.height, timer.round, min(due, now_ms + chain.block_interval_ms)
            )
        self.pending = None
        return self.build(now_ms, chain)

    def build(self, now_ms: int, chain: BuildSource) -> tuple[Block, BlockResult]:
        """The next block on ``chain.tip`` from the pool, within the chain's limits."""
        tip, params = chain.tip, chain.params
        limits = BlockLimits.of(params)
        height = tip.height + 1
        time_ms = max(now_ms, tip.time_ms + 1)
        reaped = self._mempool.reap(height, max_txs=limits.max_txs, max_bytes=limits.max_bytes)
        txs = self._still_valid(reaped, height, time_ms)
        block, result = make_block(
            self._suite,
            self._chain_id,
            chain.ledger,
            tip,
            time_ms=time_ms,
            proposer=self._name,
            validators_hash=chain.view.validators_hash,
            config_hash=chain.view.config_hash,
            txs=txs,
            resolve=self._resolve,
            step_limit=params.step_limit,
            limits=limits,
        )
        if len(block.txs) < len(txs):  # their state writes exceed what one block may store
            log.warning(
                "%s: block %d holds %d of %d reaped txs: their writes exceed %d",
                self._name,
                height,
                len(block.txs),
                len(txs),
                limits.max_writes,
            )
            if not block.txs:  # the first alone exceeds it: no block can ever carry it
                log.warning("%s: evicted pending tx %s", self._name, txs[0].tx_id.hex())
                self._mempool.remove([txs[0].tx_id])
        return block, result

    def _due_ms(self, now_ms: int, chain: BuildSource) -> int:
        limits = BlockLimits.of(chain.params)
        if self._mempool.fills_block(limits.max_txs, limits.max_bytes):
            return now_ms
        if len(self._mempool) > 0:
            return max(now_ms, chain.last_commit_ms + chain.block_interval_ms)
        return max(now_ms, chain.last_commit_ms + self._empty_block_interval_ms)

    def _still_valid(self, txs: list[ExecTx], height: int, time_ms: int) -> list[ExecTx]:
        """The txs that pass admission at the block's height and time; the others are
        evicted from the pool, as every validator would refuse a block carrying them."""
        kept: list[ExecTx] = []
        evicted: list[bytes] = []
        for tx in txs:
            try:
                kept.append(self._admission.recheck(tx, height=height, at_ms=time_ms))
            except AdmissionError as e:
                evicted.append(tx.tx_id)
                log.warning(
                    "%s: evicted pending tx %s, refused for block %d: %s",
                    self._name,
                    tx.tx_id.hex(),
                    height,
                    e,
                )
        self._mempool.remove(evicted)
        return kept
