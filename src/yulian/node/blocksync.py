"""Introduction: the replica's block sync — serving blocks, and catching up from peers.

The one block sync of the node and the simulator: ``net.sync.BlockSyncer`` decides what to
ask of whom and whom to penalise; this module wires it to the replica. It serves
``get_blocks`` from the ledger within the byte budget the request names (``serve_get_blocks``:
a single block over the budget still comes alone); it feeds peers' ``status`` and ``blocks``
to the syncer, hands each block that is ready to the replica's ``apply_synced`` (which
verifies the commit certificate against the validator set of that height and re-executes the
block before writing it), and turns penalties into effects: a peer that lied is dropped
(``Outputs.drop``); one that was slow or withheld what it announced is only not asked again
for a while. Either way another peer is asked. Everything is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from yulian.execution.blocks import ChainTip
from yulian.ledger import Ledger
from yulian.net.messages import Message
from yulian.net.sync import BlockSyncer, InvalidSyncData, Penalty, serve_get_blocks
from yulian.node.outputs import Outputs

log = logging.getLogger("yulian.replica")


class SyncTarget(Protocol):
    """The replica, as block sync sees it."""

    @property
    def tip(self) -> ChainTip: ...

    def apply_synced(self, block: bytes, commit: bytes, now_ms: int) -> Outputs:
        """Verify and commit the block at ``tip.height + 1``; ``InvalidSyncData`` if it
        does not verify (nothing changes then)."""
        ...


class BlockSync:
    def __init__(self, name: str, ledger: Ledger, *, reply_bytes: int, timeout_ms: int) -> None:
        self._name = name
        self._ledger = ledger
        self.syncer = BlockSyncer(reply_bytes=reply_bytes, timeout_ms=timeout_ms)

    # --- serving ---------------------------------------------------------------------------
    def serve(self, peer: str, from_height: int, count: int, max_bytes: int) -> Outputs:
        """Answer ``get_blocks``: the stored blocks from ``from_height`` within the budget
        (nothing when we have none of them: the asker then asks someone else)."""
        out = Outputs()
        pairs = serve_get_blocks(self._read, from_height, count, max_bytes=max_bytes)
        if pairs:
            out.send.append((peer, Message("blocks", tuple(pairs))))
        return out

    def _read(self, height: int) -> tuple[bytes, bytes] | None:
        block, commit = self._ledger.block(height), self._ledger.commit(height)
        return (block, commit) if block is not None and commit is not None else None

    # --- catching up -----------------------------------------------------------------------
    def on_status(self, peer: str, height: int, now_ms: int, target: SyncTarget) -> Outputs:
        self.syncer.on_status(peer, height)
        return self.poll(now_ms, target)

    def on_blocks(
        self,
        peer: str,
        pairs: Sequence[tuple[bytes, bytes]],
        now_ms: int,
        target: SyncTarget,
    ) -> Outputs:
        """A ``blocks`` reply: apply what is ready, in order; ask for more."""
        out = Outputs()
        self._penalise(self.syncer.on_blocks(peer, pairs, now_ms), out)
        out.extend(self.poll(now_ms, target))
        return out

    def poll(self, now_ms: int, target: SyncTarget) -> Outputs:
        """Apply the buffered blocks that are ready — also those that became ready when
        consensus committed the height before them — then penalise silent peers and send the
        requests that fit."""
        out = Outputs()
        while (ready := self.syncer.next_ready(target.tip.height)) is not None:
            try:
                out.extend(target.apply_synced(ready.block, ready.commit, now_ms))
            except InvalidSyncData as e:
                self._penalise([self.syncer.reject(ready, str(e), now_ms)], out)
                break
        requests, penalties = self.syncer.poll(target.tip.height, now_ms)
        self._penalise(penalties, out)
        for r in requests:
            out.send.append((r.peer, Message("get_blocks", (r.from_height, r.count, r.max_bytes))))
        return out

    def _penalise(self, penalties: Sequence[Penalty], out: Outputs) -> None:
        for p in penalties:
            log.warning(
                "%s: sync %s peer %s: %s",
                self._name,
                "drops" if p.misbehaved else "skips",
                p.peer,
                p.reason,
            )
            if p.misbehaved:
                out.drop.append((p.peer, f"sync: {p.reason}"))
