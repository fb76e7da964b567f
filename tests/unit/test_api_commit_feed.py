"""The commit feed: every block in order to each subscriber; a slow one is dropped, never waited
for; receipts are loaded once on demand; the ``?wait=`` waits it serves miss no commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from yulian.api.port import CommittedBlock, SubscriptionDropped, TooManySubscribers
from yulian.node.commit_feed import MAX_PENDING_LIMIT, CommitFeed
from yulian.node.commit_waiters import CommitWaiters
from yulian.types.receipt import Receipt

pytestmark = pytest.mark.anyio


def _tx_id(height: int, i: int) -> bytes:
    return height.to_bytes(4, "big") + i.to_bytes(28, "big")


class Chain:
    """Blocks of ``txs`` ids each, published to ``feed``; ``locations`` is the committed tx
    index the ledger would answer from."""

    def __init__(self, feed: CommitFeed, txs: int = 3) -> None:
        self.feed = feed
        self.txs = txs
        self.locations: dict[bytes, tuple[int, int]] = {}
        self.loads: list[int] = []

    def receipts(self, height: int) -> Sequence[Receipt]:
        self.loads.append(height)
        return tuple(Receipt(_tx_id(height, i), "ok", "", 1, None, ()) for i in range(self.txs))

    def commit(self, extra: Sequence[bytes] = ()) -> CommittedBlock:
        height = self.feed.published_height + 1
        ids = (*(_tx_id(height, i) for i in range(self.txs)), *extra)
        for index, tx_id in enumerate(ids):
            self.locations[tx_id] = (height, index)
        block = CommittedBlock(height, b"h%d" % height, 1000 * height, ids, self.receipts)
        self.feed.publish(block)
        return block


async def test_subscribers_get_every_block_in_order_from_their_start() -> None:
    feed = CommitFeed(published_height=5)
    chain = Chain(feed)
    early = feed.subscribe()
    chain.commit()
    late = feed.subscribe()
    assert (early.start_height, late.start_height) == (6, 7)
    for _ in range(3):
        chain.commit()
    assert [(await early.next()).height for _ in range(4)] == [6, 7, 8, 9]
    assert [(await late.next()).height for _ in range(3)] == [7, 8, 9]


async def test_a_slow_subscriber_is_dropped_and_the_others_keep_up() -> None:
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    slow = feed.subscribe(max_pending=4)
    fast = feed.subscribe(max_pending=4)
    received: list[int] = []
    for _ in range(10):
        chain.commit()  # publishing never waits: no await between commits
        received.append((await fast.next()).height)
    assert received == list(range(1, 11))
    assert feed.subscribers == 1 and feed.dropped_total == 1
    assert slow.pending == 0  # its queue was freed when it was dropped
    with pytest.raises(SubscriptionDropped, match="fell 4 blocks behind at height 5"):
        await slow.next()


async def test_a_waiting_subscriber_wakes_on_publish_and_on_drop() -> None:
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    sub = feed.subscribe(max_pending=1)
    reader = asyncio.ensure_future(sub.next())
    await asyncio.sleep(0)
    chain.commit()
    assert (await reader).height == 1
    reader = asyncio.ensure_future(sub.next())
    await asyncio.sleep(0)
    feed.close()
    with pytest.raises(SubscriptionDropped, match="stopping"):
        await reader


async def test_subscriptions_are_bounded_and_closing_frees_a_place() -> None:
    feed = CommitFeed(published_height=0, max_subscribers=2)
    first = feed.subscribe()
    feed.subscribe()
    with pytest.raises(TooManySubscribers):
        feed.subscribe()
    with pytest.raises(ValueError, match="max_pending"):
        feed.subscribe(max_pending=MAX_PENDING_LIMIT + 1)
    first.close()
    first.close()  # idempotent
    assert feed.subscribers == 1
    feed.subscribe()
    with pytest.raises(SubscriptionDropped, match="closed"):
        await first.next()


async def test_async_iteration_reads_until_dropped() -> None:
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    sub = feed.subscribe(max_pending=8)
    for _ in range(3):
        chain.commit()
    feed.close()
    seen = []
    with pytest.raises(SubscriptionDropped):
        async for block in sub:
            seen.append(block.height)
    assert seen == []  # a drop frees the queue at once: the gap is read from the ledger


def test_receipts_are_loaded_once_on_demand_and_ids_indexed() -> None:
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    block = chain.commit()
    assert chain.loads == []
    assert [r.tx_id for r in block.receipts()] == list(block.tx_ids)
    block.receipts()
    assert chain.loads == [1]
    assert block.index_of(_tx_id(1, 2)) == 2 and block.index_of(b"x" * 32) is None


def test_heights_are_published_without_gaps() -> None:
    feed = CommitFeed(published_height=3)
    with pytest.raises(AssertionError):
        feed.publish(CommittedBlock(5, b"", 0, (), lambda h: ()))


async def test_waits_resolve_on_their_block_and_time_out_otherwise() -> None:
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    waiters = CommitWaiters(feed, chain.locations.get)
    mine = b"m" * 32
    waiting = asyncio.ensure_future(waiters.wait(mine, 5.0))
    never = asyncio.ensure_future(waiters.wait(b"n" * 32, 0.05))
    await asyncio.sleep(0.01)
    assert waiters.waiting == 2
    chain.commit()
    chain.commit(extra=[mine])
    status = await waiting
    assert status is not None and (status.height, status.index) == (2, 3)
    assert await never is None
    assert waiters.waiting == 0
    await waiters.close()


@pytest.mark.parametrize("reader", ["not yet subscribed", "dropped"])
async def test_no_commit_is_missed_around_a_subscription(reader: str) -> None:
    """A commit lands before the reader has subscribed — at the first wait, or after the feed
    dropped it: the reader finds it in the ledger when it subscribes."""
    feed = CommitFeed(published_height=0)
    chain = Chain(feed)
    waiters = CommitWaiters(feed, chain.locations.get)
    mine = b"m" * 32
    waiting = asyncio.ensure_future(waiters.wait(mine, 5.0))
    if reader == "dropped":
        await asyncio.sleep(0.01)  # the reader runs and subscribes ...
        feed.close()  # ... and is dropped: it subscribes again on its next turn
    else:
        await asyncio.sleep(0)  # the wait is registered; the reader task has not run yet
    chain.commit(extra=[mine])
    status = await waiting
    assert status is not None and status.height == 1
    await waiters.close()


async def test_waits_are_bounded_and_a_zero_timeout_does_not_wait() -> None:
    feed = CommitFeed(published_height=0)
    waiters = CommitWaiters(feed, {}.get, max_waiters=1)
    first = asyncio.ensure_future(waiters.wait(b"a" * 32, 5.0))
    await asyncio.sleep(0)
    assert await waiters.wait(b"b" * 32, 5.0) is None  # over the bound: answered at once
    assert await waiters.wait(b"a" * 32, 0.0) is None
    first.cancel()
    await waiters.close()
