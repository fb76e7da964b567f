"""The event index and the explorer's reads (tx ids of a block, key listing) on every backend.

The LMDB ledger, the PostgreSQL ledger and the simulator's ``MemLedger`` hold the same random
chain of events and must answer every query with the same page; independently of them, paging
through any filter from any cursor must yield exactly the matching events, in cursor order,
each once — what a resumable event stream relies on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.ledger_backends import BACKENDS, LedgerTarget, make_target
from tests.unit.test_ledger_store import make_commit

from yulian.ledger import (
    MAX_EVENT_LIMIT,
    MAX_EVENT_SCAN,
    BlockCommit,
    EventCursor,
    EventRecord,
    InvalidInput,
    Ledger,
    StoredEvent,
    block_events,
    event_key,
)
from yulian.sim.memledger import MemLedger
from yulian.types.encoding import encode
from yulian.types.receipt import Event, Receipt

CONTRACTS = ("evidence", "trace", "合约")
NAMES = ("registered", "moved", "名")


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerTarget:
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    return make_target(request.param, tmp_path, server)


@pytest.fixture
def ledger(target: LedgerTarget) -> Iterator[Ledger]:
    store = target.open(sync=False)
    yield store
    store.close()


def with_events(c: BlockCommit, events: tuple[EventRecord, ...]) -> BlockCommit:
    return replace(c, events=events)


def random_chain(seed: int, heights: int) -> list[BlockCommit]:
    """Blocks with 0..4 txs of 0..3 events each, some blocks without events."""
    rng = random.Random(seed)
    blocks = []
    for h in range(1, heights + 1):
        tx_ids = tuple(b"tx-%d-%d" % (h, i) for i in range(rng.randint(0, 4)))
        events = []
        for i in range(len(tx_ids)):
            for j in range(rng.randint(0, 3)):
                key = rng.choice([b"", b"doc/1", b"doc/2", b"doc/10", b"user/7"])
                payload = encode({"key": key, "n": rng.randint(0, 300)})
                events.append(
                    EventRecord(i, j, rng.choice(CONTRACTS), rng.choice(NAMES), key, payload)
                )
        blocks.append(with_events(make_commit(h, {b"k%d" % h: b"v"}, tx_ids), tuple(events)))
    return blocks


def all_events(blocks: list[BlockCommit]) -> list[StoredEvent]:
    return [
        StoredEvent(
            EventCursor(c.height, e.tx_index, e.event_index),
            c.tx_ids[e.tx_index],
            e.contract,
            e.name,
            e.key,
            e.payload,
        )
        for c in blocks
        for e in c.events
    ]


FILTERS = [
    {},
    {"contract": "evidence"},
    {"contract": "合约", "name": "名"},
    {"name": "moved"},
    {"key_prefix": b"doc/1"},
    {"contract": "trace", "key_prefix": b"doc/"},
    {"payload_prefix": encode({"key": b"user/7"})[:-1]},
    {"contract": "nobody"},
]


def matches(e: StoredEvent, wanted: dict[str, object]) -> bool:
    return (
        wanted.get("contract", e.contract) == e.contract
        and wanted.get("name", e.name) == e.name
        and e.key.startswith(wanted.get("key_prefix", b""))  # type: ignore[arg-type]
        and e.payload.startswith(wanted.get("payload_prefix", b""))  # type: ignore[arg-type]
    )


def page_through(
    ledger: Ledger, wanted: dict[str, object], after: EventCursor | None, limit: int, scan: int
) -> list[StoredEvent]:
    """Follow ``next_after`` until ``exhausted``, as a stream's replay does."""
    found: list[StoredEvent] = []
    for _ in range(10_000):
        page = ledger.events(after, limit, scan_limit=scan, **wanted)  # type: ignore[arg-type]
        assert len(page.events) <= limit
        assert all(after is None or e.cursor > after for e in page.events)
        found.extend(page.events)
        if page.events:
            assert page.next_after is not None and page.next_after >= page.events[-1].cursor
        after = page.next_after
        if page.exhausted:
            return found
    raise AssertionError("paging never ended")


def test_paging_any_filter_from_any_cursor_yields_each_match_once(ledger: Ledger) -> None:
    blocks = random_chain(seed=5, heights=30)
    for c in blocks:
        ledger.commit_block(c)
    expected_all = all_events(blocks)
    assert len(expected_all) > 60, "the chain must hold enough events to test anything"
    starts: list[EventCursor | None] = [None, EventCursor.before(12), expected_all[17].cursor]
    for wanted in FILTERS:
        for after in starts:
            expected = [
                e
                for e in expected_all
                if matches(e, wanted) and (after is None or e.cursor > after)
            ]
            for limit, scan in ((1, 1), (3, 5), (7, 1000), (MAX_EVENT_LIMIT, MAX_EVENT_SCAN)):
                got = page_through(ledger, wanted, after, limit, scan)
                assert got == expected, (wanted, after, limit, scan)


def test_backends_answer_every_query_with_the_same_page(target: LedgerTarget) -> None:
    blocks = random_chain(seed=9, heights=25)
    mem, stored = MemLedger(), target.open(sync=False)
    try:
        for c in blocks:
            mem.commit_block(c)
            stored.commit_block(c)
        rng = random.Random(3)
        cursors = [None, *(e.cursor for e in all_events(blocks)), EventCursor(25, 0, 0)]
        for _ in range(300):
            wanted = rng.choice(FILTERS)
            after = rng.choice(cursors)
            limit, scan = rng.randint(1, 6), rng.randint(1, 12)
            args = (after, limit)
            assert stored.events(*args, scan_limit=scan, **wanted) == mem.events(  # type: ignore[arg-type]
                *args,
                scan_limit=scan,
                **wanted,  # type: ignore[arg-type]
            ), (wanted, after, limit, scan)
    finally:
        stored.close()


def test_a_page_says_where_it_stopped_and_whether_more_can_come(ledger: Ledger) -> None:
    tx_ids = (b"t0", b"t1", b"t2")
    events = tuple(EventRecord(i, 0, "c", "n", b"key%d" % i, encode(i)) for i in range(len(tx_ids)))
    ledger.commit_block(with_events(make_commit(1, {}, tx_ids), events))
    ledger.commit_block(make_commit(2))
    page = ledger.events()
    assert [e.cursor for e in page.events] == [(1, 0, 0), (1, 1, 0), (1, 2, 0)]
    assert (page.next_after, page.exhausted, page.head) == ((1, 2, 0), True, 2)
    assert page.events[1] == StoredEvent(EventCursor(1, 1, 0), b"t1", "c", "n", b"key1", b"\x01")
    page = ledger.events(limit=3)  # the limit reached exactly at the end: nothing follows
    assert (len(page.events), page.exhausted) == (3, True)
    page = ledger.events(limit=2)
    assert (page.next_after, page.exhausted) == ((1, 1, 0), False)
    page = ledger.events(key_prefix=b"key2", scan_limit=2)  # two examined, none matched
    assert (page.events, page.next_after, page.exhausted) == ([], (1, 1, 0), False)
    page = ledger.events((1, 2, 0))
    assert (page.events, page.next_after, page.exhausted) == ([], (1, 2, 0), True)
    page = ledger.events(EventCursor.before(2))  # block 2 has no events: nothing examined
    assert (page.events, page.next_after, page.exhausted) == ([], EventCursor.before(2), True)
    assert ledger.events(EventCursor.before(1)).events == ledger.events().events


def test_events_of_a_refused_block_are_not_indexed(ledger: Ledger) -> None:
    ledger.commit_block(make_commit(1, {}, (b"t0",)))
    event = EventRecord(0, 0, "c", "n", b"", b"\xc0")
    with pytest.raises(InvalidInput):  # event of a tx the block does not have
        ledger.commit_block(
            with_events(make_commit(2, {}, (b"t1",)), (replace(event, tx_index=1),))
        )
    for bad in (
        (replace(event, event_index=1),),  # does not start at 0
        (event, event),  # repeated
        (replace(event, contract=""),),
        (replace(event, name="n" * 257),),
        (replace(event, payload="text"),),  # type: ignore[arg-type]
        [event],  # not a tuple
        (("c", "n"),),
    ):
        with pytest.raises(InvalidInput):
            ledger.commit_block(with_events(make_commit(2, {}, (b"t1",)), bad))  # type: ignore[arg-type]
    assert ledger.height() == 1 and ledger.events().events == []
    good = (event, replace(event, event_index=1, name="名\x00"))
    ledger.commit_block(with_events(make_commit(2, {}, (b"t1",)), good))  # control
    assert [e.name for e in ledger.events().events] == ["n", "名\x00"]
    ledger.check_integrity()


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": MAX_EVENT_LIMIT + 1},
        {"scan_limit": 0},
        {"scan_limit": MAX_EVENT_SCAN + 1},
        {"after": (1, 2)},
        {"after": (-1, 0, 0)},
        {"after": (1, 0, "0")},
        {"contract": ""},
        {"name": 7},
        {"key_prefix": "doc"},
        {"payload_prefix": b"x" * 1025},
    ],
)
def test_bad_event_queries_are_refused(ledger: Ledger, query: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        ledger.events(**query)  # type: ignore[arg-type]


def test_tx_ids_of_a_block_in_block_order(ledger: Ledger) -> None:
    ledger.commit_block(make_commit(1, {}, (b"b", b"a", b"c")))
    ledger.commit_block(make_commit(2))
    assert ledger.tx_ids(1) == [b"b", b"a", b"c"]
    assert ledger.tx_ids(2) == []
    assert ledger.tx_ids(3) is None and ledger.tx_ids(0) is None
    with pytest.raises(InvalidInput):
        ledger.tx_ids(-1)


def test_scan_keys_lists_what_scan_prefix_returns_without_values(ledger: Ledger) -> None:
    writes: dict[bytes, bytes | None] = {b"c\x00k%02d" % i: b"v" * 1000 for i in range(30)}
    writes[b"c\x00k07"] = None
    writes[b"d\x00k"] = b"other contract"
    ledger.commit_block(make_commit(1, writes))
    keys: list[bytes] = []
    start_after: bytes | None = None
    while page := ledger.scan_keys(b"c\x00", 8, start_after):
        keys.extend(page)
        start_after = page[-1]
    assert keys == [k for k, _ in ledger.scan_prefix(b"c\x00", 100)]
    assert len(keys) == 29 and b"c\x00k07" not in keys
    with pytest.raises(InvalidInput):
        ledger.scan_keys(b"c", 10_001)


def test_block_events_and_their_keys_come_from_the_receipts() -> None:
    receipts = [
        Receipt(b"t0", "ok", "", 1, None, ()),
        Receipt(
            b"t1",
            "ok",
            "",
            1,
            None,
            (
                Event("evidence", "registered", {"digest": b"\x01", "key": b"doc-1"}),
                Event("evidence", "noted", "plain text"),
                Event("evidence", "raw", b"\x02\x03"),
                Event("evidence", "count", 7),
                Event("evidence", "nokey", {"digest": b"\x01"}),
            ),
        ),
    ]
    records = block_events(receipts)
    assert [(r.tx_index, r.event_index) for r in records] == [(1, j) for j in range(5)]
    assert [r.key for r in records] == [b"doc-1", b"plain text", b"\x02\x03", b"", b""]
    assert records[0].payload == encode({"digest": b"\x01", "key": b"doc-1"})
    assert event_key({"key": "文"}) == "文".encode()
    assert event_key({"key": 5}) == b""
