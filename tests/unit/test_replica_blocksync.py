"""The replica's side of block sync (``node/blocksync.py``): what is buffered is applied, in
order, as soon as it is ready — also when it became ready because consensus committed the
height before it (found by the simulator: seed 415 of the mixed campaign, pinned)."""

from __future__ import annotations

from dataclasses import dataclass, field

from yulian.execution.blocks import ChainTip
from yulian.execution.roots import EMPTY_STATE_SUM
from yulian.net.sync import BlockSyncer
from yulian.node.blocksync import BlockSync
from yulian.node.outputs import Outputs
from yulian.sim.memledger import MemLedger


def pair(h: int) -> tuple[bytes, bytes]:
    return (b"block-%d" % h, b"commit-%d" % h)


@dataclass
class Chain:
    """A ``SyncTarget`` whose blocks are the ``pair(h)`` of their height."""

    height: int
    applied: list[int] = field(default_factory=list)

    @property
    def tip(self) -> ChainTip:
        return ChainTip(self.height, b"h", b"s", 0, EMPTY_STATE_SUM)

    def apply_synced(self, block: bytes, commit: bytes, now_ms: int) -> Outputs:
        assert (block, commit) == pair(self.height + 1)
        self.height += 1
        self.applied.append(self.height)
        return Outputs()


def test_blocks_that_became_ready_through_consensus_are_applied_on_the_next_poll() -> None:
    sync = BlockSync("me", MemLedger(), reply_bytes=1 << 20, timeout_ms=5_000)
    sync.syncer = BlockSyncer(batch=2, timeout_ms=5_000, grace_ms=0)
    chain = Chain(5)
    sync.syncer.on_status("p1", 10)
    sync.syncer.on_status("p2", 10)
    asked = [(to, m.payload[:2]) for to, m in sync.poll(0, chain).send]
    assert asked == [("p1", (6, 2)), ("p2", (8, 2))]
    sync.on_blocks("p2", [pair(8), pair(9)], 1, chain)  # 8 and 9 arrive before 6 and 7
    assert chain.applied == []
    chain.height = 7  # consensus committed 6 and 7 meanwhile
    sync.poll(2, chain)
    assert chain.applied == [8, 9]
