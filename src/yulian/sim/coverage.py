"""Introduction: what a run exercised — proof that a workload reached the limits it targets.

A property that never triggers proves nothing, so each run counts, over the honest nodes:
committed blocks near the byte limit (at least ``FULL_SHARE`` of ``max_block_bytes``) and at
the count limit (``max_block_txs``), the largest block, blocks committed through block sync
and the sync replies that carried several blocks (served in parts otherwise), and the
penalties block sync gave — lies (the peer dropped) and silences (the peer skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yulian.ledger import Ledger
from yulian.node.outputs import Outputs
from yulian.types.genesis import ChainParams

FULL_SHARE = 0.75


@dataclass
class Coverage:
    blocks: int = 0  # distinct heights committed
    full_bytes: int = 0  # blocks of at least FULL_SHARE * max_block_bytes
    full_count: int = 0  # blocks of max_block_txs txs
    largest_block: int = 0  # bytes
    synced_blocks: int = 0  # commits through block sync (a peer's blocks reply)
    sync_lies: int = 0  # sync penalties that dropped a peer
    sync_skips: int = 0  # sync penalties that skipped a slow or withholding peer
    _heights: set[int] = field(default_factory=set, repr=False)

    def on_commit(self, ledger: Ledger, out: Outputs, params: ChainParams, via: str) -> None:
        """An honest node committed ``out.committed`` (``via``: the message kind that led to
        it); ``ledger`` is that node's."""
        if via == "blocks":
            self.synced_blocks += len(out.committed)
        self.sync_lies += sum(1 for _, reason in out.drop if reason.startswith("sync:"))
        for c in out.committed:
            if c.height in self._heights:
                continue
            self._heights.add(c.height)
            size = len(ledger.block(c.height) or b"")
            self.blocks += 1
            self.largest_block = max(self.largest_block, size)
            self.full_bytes += size >= FULL_SHARE * params.max_block_bytes
            self.full_count += len(c.tx_ids) >= params.max_block_txs

    def summary(self) -> str:
        return (
            f"{self.blocks} blocks ({self.full_bytes} near max_block_bytes, {self.full_count} "
            f"at max_block_txs, largest {self.largest_block} bytes); {self.synced_blocks} "
            f"synced; sync penalties {self.sync_lies} lies, {self.sync_skips} silences"
        )
