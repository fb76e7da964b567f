"""Introduction: the commit feed — every committed block, fanned out to bounded subscribers.

The node publishes each block after it is durable (``ReadModel.publish``); the feed hands it
to every subscriber's own queue. Publishing costs one append per subscriber and never waits:
a subscriber whose queue is full is dropped on the spot (its queue freed), and learns it on
its next read (``SubscriptionDropped``). Heights are published in order without gaps, so a
subscriber that starts at ``start_height`` and is never dropped sees every block from there.

Consumers: the ``?wait=`` path (``CommitWaiters``) and the event stream (``api/stream.py``)
subscribe; the metrics observe (``observers``: called with each block as it is published, so
they must be as cheap as an append). All run on the node's event loop; nothing here is
thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from yulian.api.port import CommittedBlock, SubscriptionDropped, TooManySubscribers

log = logging.getLogger("yulian.feed")

#: Blocks a subscriber may have unread before it is dropped (about a minute of blocks).
DEFAULT_MAX_PENDING = 256
#: Most blocks any one subscriber may ask to have queued.
MAX_PENDING_LIMIT = 4096
#: Most subscribers at once (each costs one append per block).
MAX_SUBSCRIBERS = 1024


class FeedSubscription:
    """One subscriber's queue. ``async for block in sub`` reads until dropped or closed."""

    def __init__(self, feed: CommitFeed, start_height: int, max_pending: int) -> None:
        self.start_height = start_height
        self.max_pending = max_pending
        self._feed = feed
        self._queue: deque[CommittedBlock] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._dropped: SubscriptionDropped | None = None  # why, once dropped
        self._drop_waiters: list[asyncio.Future[SubscriptionDropped]] = []
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _offer(self, block: CommittedBlock) -> bool:
        """Queue ``block``; False (and nothing queued) when the queue is full."""
        if len(self._queue) >= self.max_pending:
            return False
        self._queue.append(block)
        self._wake()
        return True

    def _drop(self, reason: str, *, stopping: bool = False) -> None:
        self._dropped = SubscriptionDropped(reason, stopping=stopping)
        self._queue.clear()
        self._wake()
        for future in self._drop_waiters:
            if not future.done():
                future.set_result(self._dropped)
        self._drop_waiters.clear()

    async def wait_dropped(self) -> SubscriptionDropped:
        """Once this subscription is dropped: why (it may be waited for while nobody reads)."""
        if self._dropped is not None:
            return self._dropped
        future = asyncio.get_running_loop().create_future()
        self._drop_waiters.append(future)
        try:
            return await future
        finally:
            if future in self._drop_waiters:
                self._drop_waiters.remove(future)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self) -> CommittedBlock:
        while not self._queue:
            if self._dropped is not None:
                raise self._dropped
            if self._closed:
                raise SubscriptionDropped("the subscription was closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.clear()
            self._feed._remove(self)
            self._wake()

    async def __aiter__(self) -> AsyncIterator[CommittedBlock]:
        while True:
            yield await self.next()

    def __enter__(self) -> FeedSubscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class CommitFeed:
    def __init__(
        self,
        published_height: int,
        *,
        default_max_pending: int = DEFAULT_MAX_PENDING,
        max_subscribers: int = MAX_SUBSCRIBERS,
    ) -> None:
        assert 1 <= default_max_pending <= MAX_PENDING_LIMIT
        self.published_height = published_height  # the last block handed out (or committed)
        self.default_max_pending = default_max_pending
        self.max_subscribers = max_subscribers
        self._subscribers: dict[FeedSubscription, None] = {}  # insertion order: fair drops
        self.dropped_total = 0
        #: called with each block as it is published (metrics); must not block
        self.observers: list[Callable[[CommittedBlock], None]] = []

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self, max_pending: int | None = None) -> FeedSubscription:
        limit = self.default_max_pending if max_pending is None else max_pending
        if not 1 <= limit <= MAX_PENDING_LIMIT:
            raise ValueError(f"max_pending must be in 1..{MAX_PENDING_LIMIT}, got {limit}")
        if len(self._subscribers) >= self.max_subscribers:
            raise TooManySubscribers(f"the commit feed has {self.max_subscribers} subscribers")
        sub = FeedSubscription(self, self.published_height + 1, limit)
        self._subscribers[sub] = None
        return sub

    def publish(self, block: CommittedBlock) -> None:
        """Hand ``block`` (the next height) to every subscriber; drop those that are full."""
        assert block.height == self.published_height + 1, (block.height, self.published_height)
        self.published_height = block.height
        for observe in self.observers:
            try:
                observe(block)
            except Exception:  # an observer's bug must never stop the feed
                log.exception("commit feed observer %r failed at %d", observe, block.height)
        full = [sub for sub in self._subscribers if not sub._offer(block)]
        for sub in full:
            del self._subscribers[sub]
            sub._drop(f"fell {sub.max_pending} blocks behind at height {block.height}")
            self.dropped_total += 1
        if full:
            log.warning("commit feed dropped %d slow subscriber(s) at %d", len(full), block.height)

    def close(self) -> None:
        """Drop every subscriber (the node is stopping)."""
        for sub in list(self._subscribers):
            sub._drop("the node is stopping", stopping=True)
        self._subscribers.clear()

    def _remove(self, sub: FeedSubscription) -> None:
        self._subscribers.pop(sub, None)
