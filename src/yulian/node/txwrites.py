"""Introduction: the state writes of one committed tx, recovered by re-executing its block.

The ledger keeps each block's write set merged (the current value and the history of every
key), not which tx wrote what. The explorer's tx page shows a tx's own writes, so this module
re-runs the block the way the replica checked it: each tx admitted as at the block's height
and time against the consortium config in force then, executed in order on an overlay of the
state after the block before it (``Ledger.get_at`` / ``history(before_height=)``), recording
what each tx that succeeded wrote. Every recomputed receipt must equal the committed one byte
for byte, or nothing is served: the writes come from the same execution that made the receipts
the chain committed. A block whose parent lies below the ledger's floor (pruned, or the node
started from a snapshot) has no state to run on here: ``Pruned``, which the API answers 410.

Bounded: one block is re-executed at a time, a few txs at a time with the event loop let in
between (consensus runs on the same loop); at most ``MAX_QUEUED`` requests wait, later ones
are refused (``ReadBusy``); the writes of the last ``CACHED_BLOCKS`` blocks are kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from yulian.api.port import HistoricalScanUnavailable, ReadBusy
from yulian.consensus.consortium_view import ConsortiumView
from yulian.contracts import BlockInfo, sandbox_guards
from yulian.crypto.suite import Suite
from yulian.execution.executor import (
    BlockContext,
    ContractResolver,
    ExecTx,
    OverlayCalls,
    apply_tx,
)
from yulian.execution.overlay import ContractStateAdapter, Overlay, StateView
from yulian.execution.system.lifecycle import LIFECYCLE_CONTRACT
from yulian.ledger import Ledger, Pruned
from yulian.mempool.admission import Admission
from yulian.types.block import Block
from yulian.types.consortium import ConsortiumConfig

Writes = list[tuple[bytes, bytes | None]]
CHUNK_TXS = 16  # txs executed between two turns of the event loop
MAX_QUEUED = 8
CACHED_BLOCKS = 8


class HistoricalState:
    """The committed state as it was after block ``height`` (a ``StateView``)."""

    def __init__(self, ledger: Ledger, height: int) -> None:
        self._ledger = ledger
        self._height = height

    def get(self, key: bytes) -> bytes | None:
        return self._ledger.get_at(key, self._height) if self._height > 0 else None

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        if self._height == 0:
            return []
        return self._ledger.history(key, limit=limit, before_height=self._height + 1)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """The ledger scans only its current state: a block whose txs scan (``ctx.state.scan``)
        is not re-executed, rather than re-executed on the wrong keys."""
        raise HistoricalScanUnavailable(
            f"the state after block {self._height} cannot be scanned; the writes of a tx in a "
            "block whose contracts scan their state are not recomputed"
        )


class RecordingOverlay(Overlay):
    """An overlay that also remembers what the running tx writes (``current``)."""

    def __init__(self, base: StateView, height: int) -> None:
        super().__init__(base, height)
        self.current: dict[bytes, bytes | None] = {}

    def put(self, key: bytes, value: bytes) -> None:
        super().put(key, value)
        self.current[key] = value

    def delete(self, key: bytes) -> None:
        super().delete(key)
        self.current[key] = None


class BlockMismatch(RuntimeError):
    """Re-execution did not reproduce a committed receipt (a bug or a damaged ledger)."""


class TxWrites:
    def __init__(
        self,
        ledger: Ledger,
        suite: Suite,
        chain_id: str,
        resolve: ContractResolver,
        config_after: Callable[[int], ConsortiumConfig],
    ) -> None:
        self._ledger = ledger
        self._suite = suite
        self._chain_id = chain_id
        self._resolve = resolve
        self._config_after = config_after
        self._lock = asyncio.Lock()
        self._queued = 0
        self._cache: OrderedDict[int, list[Writes]] = OrderedDict()

    async def writes(self, tx_id: bytes) -> Writes | None:
        location = self._ledger.tx_location(tx_id)
        if location is None:
            return None
        height, index = location
        cached = self._cache.get(height)
        if cached is None:
            if self._queued >= MAX_QUEUED:
                raise ReadBusy(f"{MAX_QUEUED} re-executions are waiting; retry later")
            self._queued += 1
            try:
                async with self._lock:
                    cached = self._cache.get(height)
                    if cached is None:
                        cached = await self._execute(height)
                        self._cache[height] = cached
                        while len(self._cache) > CACHED_BLOCKS:
                            self._cache.popitem(last=False)
            finally:
                self._queued -= 1
        self._cache.move_to_end(height)
        return cached[index]

    async def _execute(self, height: int) -> list[Writes]:
        floor = self._ledger.floor()
        if floor > 1 and height - 1 < floor:  # the state the block ran on is not held
            raise Pruned("state", height - 1, floor)
        data, stored = self._ledger.block(height), self._ledger.receipts(height)
        assert data is not None and stored is not None, f"block {height} is committed"
        block = Block.decode(data)
        header = block.header
        config = self._config_after(height - 1)
        admission = self._admission(config, height - 1)
        overlay = RecordingOverlay(HistoricalState(self._ledger, height - 1), height)
        params = config.params
        context = BlockContext(height, header.time_ms, params.step_limit, params.max_block_steps)
        info = BlockInfo(height=height, time_ms=header.time_ms)
        resolved: dict[str, Any] = {}
        states: dict[str, ContractStateAdapter] = {}

        def resolve_in_block(name: str, state: StateView) -> Any:
            if name not in resolved:
                resolved[name] = self._resolve(name, state)
            return resolved[name]

        def state_of(name: str) -> ContractStateAdapter:
            if name not in states:
                states[name] = ContractStateAdapter(overlay, name)
            return states[name]

        calls = OverlayCalls(overlay, resolve_in_block, state_of)  # calls between contracts
        per_tx: list[Writes] = []
        for start in range(0, len(block.txs), CHUNK_TXS):
            with sandbox_guards():
                for index in range(start, min(start + CHUNK_TXS, len(block.txs))):
                    tx: ExecTx = admission.check(
                        block.txs[index], height=height, at_ms=header.time_ms
                    )
                    overlay.current = {}
                    receipt = apply_tx(
                        overlay, context, info, tx, resolve_in_block, state_of, calls
                    )
                    if receipt.encode() != stored[index]:
                        raise BlockMismatch(f"tx {index} of block {height} re-executes differently")
                    writes = overlay.current if receipt.status == "ok" else {}
                    per_tx.append(sorted(writes.items()))
                    if tx.signed.tx.contract == LIFECYCLE_CONTRACT:
                        resolved.clear()
            await asyncio.sleep(0)
        return per_tx

    def _admission(self, config: ConsortiumConfig, at: int) -> Admission:
        """Admission as the block's validators ran it: the config in force after ``at``."""
        membership = ConsortiumView.of(config, at + 1, self._suite).membership
        view = HistoricalState(self._ledger, at)
        return Admission(
            self._suite,
            self._chain_id,
            config.params,
            membership,
            contract_exists=lambda name: self._resolve(name, view) is not None,
            is_known=lambda _tx_id: False,
        )
