"""The event stream's engine over a real node (LMDB ledger, solo consensus on the event loop),
without HTTP: the replay from the ledger and the live blocks from the commit feed meet without
a gap or a duplicate, a stream resumed after any cursor continues exactly after it, filters
select what they say, and the subscribe message is checked before anything runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from yulian.api.auth import Caller, ContractFilter, ReadGuard
from yulian.api.events import CursorError, format_cursor, parse_cursor
from yulian.api.port import CommittedBlock
from yulian.api.stream import EventStream, StreamRequest, StreamRequestError, parse_request
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.ledger.events import EventCursor, EventFilter
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams
from yulian.types.receipt import Receipt

pytestmark = pytest.mark.anyio

NOTES = """
def put(ctx, key, value):
    ctx.state.put("note/" + key, value)
    ctx.emit("noted", {"key": key, "value": value})
    return key


def drop(ctx, key):
    ctx.state.delete("note/" + key)
    ctx.emit("dropped", key)
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Chain:
    def __init__(self, reads: ReadModel, wallet: Wallet) -> None:
        self.reads = reads
        self.wallet = wallet
        self.nonce = 0

    async def call(self, calls: list[tuple[str, str, list[Any]]]) -> list[bytes]:
        """Submit the calls in one batch; return their ids once all are committed."""
        envelopes = []
        for contract, method, args in calls:
            self.nonce += 1
            envelopes.append(
                self.wallet.sign_tx(
                    self.reads.chain_id, contract, method, args, expires_at=10_000, nonce=self.nonce
                ).encode()
            )
        ids = await self.reads.submit_many(envelopes)
        assert all(isinstance(i, bytes) for i in ids), ids
        for tx_id in ids:
            assert isinstance(tx_id, bytes)
            assert (await self.reads.wait_committed(tx_id, 30.0)).status == "committed"
        return [i for i in ids if isinstance(i, bytes)]

    async def register(self, first: int, count: int) -> list[bytes]:
        calls = [
            (CONTRACT_NAME, "register", [f"{i:064x}", f"doc {i}", {}])
            for i in range(first, first + count)
        ]
        return await self.call(calls)


@pytest.fixture
async def chain(tmp_path: Path) -> AsyncIterator[Chain]:
    layout = init_network(
        tmp_path / "net",
        orgs=1,
        contracts=[(CONTRACT_NAME, contract_source()), ("notes", NOTES)],
        params=ChainParams(block_interval_ms=20),
    )
    node = Node(load_config(layout.nodes[0].config))
    reads = ReadModel(node)
    await node.start()
    try:
        yield Chain(reads, Wallet.from_network(layout.root))
    finally:
        await reads.close()
        await node.stop()


def anonymous(chain: Chain) -> ContractFilter:
    """What an anonymous caller may read (everything: no read policy is voted here)."""
    return ReadGuard(chain.reads).readable(Caller(None, "127.0.0.1"))


def request(**kwargs: Any) -> StreamRequest:
    fields: dict[str, Any] = {
        "blocks": False,
        "txs": (),
        "filters": (EventFilter(),),
        "after": None,
        "from_height": None,
        "queue": 256,
    }
    return StreamRequest(**{**fields, **kwargs})


async def collect(
    chain: Chain,
    req: StreamRequest,
    until: Any,
    timeout_s: float = 30.0,
    meanwhile: Any = None,
) -> list[dict[str, Any]]:
    """Messages of a fresh stream until ``until(messages)`` holds; ``meanwhile`` (a coroutine)
    runs after the stream subscribed to the feed and before it reads anything."""
    subscription = chain.reads.commits.subscribe(req.queue)
    stream = EventStream(chain.reads, req, subscription, anonymous(chain))
    if meanwhile is not None:
        await meanwhile
    messages: list[dict[str, Any]] = []

    async def read() -> None:
        async for frame in stream.frames():
            messages.extend(orjson.loads(frame))
            if until(messages):
                return

    try:
        await asyncio.wait_for(read(), timeout_s)
    finally:
        subscription.close()
    return messages


def ledger_events(chain: Chain, f: EventFilter = EventFilter()) -> list[str]:
    """Every committed event's cursor that ``f`` passes, from the event index."""
    out, after = [], None
    while True:
        page = chain.reads.events(after, 1000, f, 10_000)
        out += [format_cursor(e.cursor) for e in page.events]
        if page.exhausted:
            return out
        after = page.next_after


def cursors(messages: list[dict[str, Any]], kind: str) -> list[str]:
    return [m["cursor"] for m in messages if m["type"] == kind]


def key(cursor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in cursor.split("."))


async def test_replay_and_live_meet_without_gap_or_duplicate(chain: Chain) -> None:
    await chain.register(0, 40)  # committed before the stream subscribes: replayed
    # committed after it subscribed, before it reads: in the ledger *and* queued by the feed
    between = chain.register(40, 40)
    later = asyncio.ensure_future(chain.register(80, 40))  # committed while it reads: live

    def seen_all(messages: list[dict[str, Any]]) -> bool:  # through the head's block message
        head = chain.reads.head().height
        return later.done() and any(m["type"] == "block" and m["height"] >= head for m in messages)

    messages = await collect(
        chain, request(blocks=True, from_height=1), seen_all, meanwhile=between
    )
    await later
    events = cursors(messages, "event")
    assert events == ledger_events(chain)[: len(events)] and len(events) == 120
    order = [key(m["cursor"]) for m in messages if m["type"] != "live"]
    assert order == sorted(order) and len(set(order)) == len(order)  # in order, each once
    blocks = [m["height"] for m in messages if m["type"] == "block"]
    assert blocks == list(range(1, blocks[-1] + 1))  # every block, from the first
    (live,) = [m for m in messages if m["type"] == "live"]
    replayed = [m for m in messages if key(m["cursor"]) < key(live["cursor"])]
    assert all(m["height"] <= live["height"] for m in replayed)
    assert replayed and len(replayed) < len(messages) - 1  # both paths were taken


async def test_resuming_after_any_cursor_continues_exactly_after_it(chain: Chain) -> None:
    await chain.register(0, 25)
    height = chain.reads.head().height

    def through(h: int) -> Any:
        return lambda ms: any(m["type"] == "block" and m["height"] >= h for m in ms)

    whole = await collect(chain, request(blocks=True, from_height=1), through(height))
    whole = [m for m in whole if m["type"] != "live"]
    for k in (0, 3, len(whole) // 2, len(whole) - 2):
        resumed = await collect(
            chain, request(blocks=True, after=parse_cursor(whole[k]["cursor"])), through(height)
        )
        resumed = [m for m in resumed if m["type"] != "live"]
        assert resumed[: len(whole) - k - 1] == whole[k + 1 :], k


async def test_filters_txs_and_blocks_select_what_they_say(chain: Chain) -> None:
    (watched,) = await chain.call([("notes", "put", ["alpha/1", 1])])
    await chain.call([("notes", "put", ["beta/1", 2]), ("notes", "drop", ["alpha/1"])])
    await chain.register(0, 3)
    height = chain.reads.head().height
    done = lambda ms: any(m["type"] == "live" for m in ms)  # noqa: E731 -- the replay is enough

    by_key = await collect(
        chain, request(filters=(EventFilter(key_prefix=b"alpha/"),), from_height=1), done
    )
    assert [(m["name"], m["payload"]) for m in by_key if m["type"] == "event"] == [
        ("noted", {"key": "alpha/1", "value": 1}),
        ("dropped", "alpha/1"),  # a text payload is its own key
    ]
    by_name = await collect(
        chain, request(filters=(EventFilter(contract="notes", name="noted"),), from_height=1), done
    )
    assert [m["payload"]["key"] for m in by_name if m["type"] == "event"] == ["alpha/1", "beta/1"]
    two = await collect(
        chain,
        request(
            filters=(EventFilter(contract=CONTRACT_NAME), EventFilter(name="dropped")),
            txs=(watched,),
            from_height=1,
        ),
        done,
    )
    events = [m for m in two if m["type"] == "event"]
    assert [m["name"] for m in events] == ["dropped", "registered", "registered", "registered"]
    (tx,) = [m for m in two if m["type"] == "tx"]
    assert (tx["id"], tx["status"]) == (watched.hex(), "ok")
    assert key(tx["cursor"]) > key(next(m["cursor"] for m in by_key if m["type"] == "event"))
    blocks_only = await collect(chain, request(filters=(), blocks=True, from_height=height), done)
    assert [m["type"] for m in blocks_only] == ["block", "live"]


async def test_a_live_block_is_framed_once_for_equal_subscriptions(chain: Chain) -> None:
    feed = chain.reads.commits
    subs = [feed.subscribe() for _ in range(3)]
    streams = [EventStream(chain.reads, request(), s, anonymous(chain)) for s in subs]
    iterators = [s.frames() for s in streams]
    for it in iterators:
        await it.__anext__()  # the replay's end: the live marker
    await chain.register(0, 2)
    frames = [await it.__anext__() for it in iterators]
    assert frames[0] is frames[1] is frames[2]  # the same bytes object, built once
    for s in subs:
        s.close()


def receipts_of(block: CommittedBlock) -> Callable[[int], Sequence[Receipt]]:
    receipts = block.receipts()
    return lambda _height: receipts


async def test_a_live_blocks_events_from_the_index_equal_those_of_its_receipts(
    chain: Chain,
) -> None:
    """The feed takes a block's events from the event index (cheaper than decoding every
    receipt); they are the very events its receipts carry, in the same order."""
    subscription = chain.reads.commits.subscribe()
    await chain.call(
        [("notes", "put", [f"k{i}", i]) for i in range(5)] + [("notes", "drop", ["k1"])]
    )
    await chain.register(0, 3)
    checked = 0
    while checked < 2:
        block = await subscription.next()
        if not block.tx_ids:
            continue
        from_index = block.events()
        from_receipts = CommittedBlock(
            block.height, block.block_hash, block.time_ms, block.tx_ids, receipts_of(block)
        ).events()
        assert from_index == from_receipts and len(from_index) > 0
        checked += 1
    subscription.close()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"type": "subscribe"}', "at least one"),
        (b'{"type": "subscribe", "events": [{}], "after": "1.2", "blocks": true}', "after"),
        (b'{"type": "subscribe", "events": [{}], "after": "1.0.0", "from_height": 2}', "not both"),
        (b'{"type": "subscribe", "events": [' + b"{}," * 16 + b"{}]}", "events"),
        (b'{"type": "subscribe", "txs": ["abcd"]}', "16..64 bytes"),
        (b'{"type": "subscribe", "events": [{"key_prefix": "zz"}]}', "key_prefix"),
        (b'{"type": "subscribe", "blocks": true, "queue": 0}', "queue"),
        (b'{"type": "subscribe", "blocks": true, "extra": 1}', "extra"),
        (b'{"type": "subscribe", "blocks": true, "after": "9.9999999.0"}', "out of range"),
        (b" " * 20_000, "over"),
    ],
)
def test_a_bad_subscribe_message_is_refused_with_its_reason(message: bytes, reason: str) -> None:
    with pytest.raises(StreamRequestError, match=reason):
        parse_request(message)


def test_cursors_round_trip_and_refuse_what_the_ledger_cannot_hold() -> None:
    c = EventCursor(12, 3, 4)
    assert parse_cursor(format_cursor(c)) == c
    for bad in ("1.2", "a.b.c", "-1.0.0", "1.0.65537", "1.1000001.0", "1.0.0.0"):
        with pytest.raises(CursorError):
            parse_cursor(bad)
