"""Introduction: clients waiting for their tx to commit (``POST /v1/txs?wait=true``).

One subscriber of the commit feed serves every waiting client: it reads each committed block
once and resolves the waits on that block's tx ids, so a block costs the smaller of (its txs,
the waits) lookups however many clients wait. The number of waits is bounded; past the bound a
client is answered at once with the status its tx has then (as if its wait timed out).

No commit is missed: the reader subscribes, then looks up every outstanding wait in the ledger
before it reads the subscription — synchronously, so no block can commit in between — and
does so again whenever the feed drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from yulian.api.port import CommittedBlock, SubscriptionDropped, TooManySubscribers, TxStatus
from yulian.node.commit_feed import CommitFeed

#: Most clients waiting at once.
MAX_WAITERS = 10_000
#: Blocks the reader may be behind before the feed drops it (it then re-reads the ledger).
READER_QUEUE = 1024
#: Pause before the reader asks again for a place in a full feed (waits then time out).
RESUBSCRIBE_S = 0.1


class CommitWaiters:
    def __init__(
        self,
        feed: CommitFeed,
        tx_location: Callable[[bytes], tuple[int, int] | None],
        max_waiters: int = MAX_WAITERS,
    ) -> None:
        self._feed = feed
        self._tx_location = tx_location
        self.max_waiters = max_waiters
        self._futures: dict[bytes, list[asyncio.Future[TxStatus]]] = {}
        self._count = 0
        self._reader: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return self._count

    async def wait(self, tx_id: bytes, timeout_s: float) -> TxStatus | None:
        """Where ``tx_id`` committed, once it has (within ``timeout_s``); None if it has not
        (or too many clients wait already). The caller checks the ledger first."""
        if self._count >= self.max_waiters or timeout_s <= 0:
            return None
        self._start_reader()
        future: asyncio.Future[TxStatus] = asyncio.get_running_loop().create_future()
        self._futures.setdefault(tx_id, []).append(future)
        self._count += 1
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return None
        finally:
            self._forget(tx_id, future)

    def _forget(self, tx_id: bytes, future: asyncio.Future[TxStatus]) -> None:
        futures = self._futures.get(tx_id)
        if futures is not None and future in futures:
            futures.remove(future)
            self._count -= 1
            if not futures:
                del self._futures[tx_id]

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            try:
                subscription = self._feed.subscribe(READER_QUEUE)
            except TooManySubscribers:
                await asyncio.sleep(RESUBSCRIBE_S)
                continue
            for tx_id in list(self._futures):
                location = self._tx_location(tx_id)
                if location is not None:
                    self._resolve(tx_id, TxStatus("committed", *location))
            try:
                async for block in subscription:
                    self._on_block(block)
            except SubscriptionDropped:
                continue
            finally:
                subscription.close()

    def _on_block(self, block: CommittedBlock) -> None:
        if len(self._futures) < len(block.tx_ids):
            for tx_id in list(self._futures):
                index = block.index_of(tx_id)
                if index is not None:
                    self._resolve(tx_id, TxStatus("committed", block.height, index))
        else:
            for index, tx_id in enumerate(block.tx_ids):
                if tx_id in self._futures:
                    self._resolve(tx_id, TxStatus("committed", block.height, index))

    def _resolve(self, tx_id: bytes, status: TxStatus) -> None:
        for future in self._futures.get(tx_id, ()):
            if not future.done():
                future.set_result(status)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
