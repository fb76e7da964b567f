"""The ledger store on every backend: records, versioned state, validation, reopen, concurrency.

Each test runs against the LMDB ledger and the PostgreSQL ledger (a real server, see
``tests/pgserver.py``); what only one backend has (LMDB's file format and corruption handling,
PostgreSQL's schema and views) is tested in ``test_ledger_lmdb.py`` / ``test_ledger_postgres.py``.
The last part is a hypothesis state machine that runs random sequences of blocks (and rejected
blocks, and reopens) against each backend and a plain in-memory model side by side.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from tests.ledger_backends import BACKENDS, LedgerTarget, make_target

from yulian.ledger import (
    MAX_KEY_BYTES,
    MAX_SCAN_LIMIT,
    BlockCommit,
    DuplicateBlockHash,
    DuplicateTx,
    HeightMismatch,
    InvalidInput,
    Ledger,
    LedgerClosed,
    LedgerError,
    LmdbLedger,
    PostgresLedger,
)

Writes = dict[bytes, bytes | None]


def make_commit(
    height: int,
    writes: Writes | None = None,
    tx_ids: tuple[bytes, ...] = (),
    tag: bytes = b"",
) -> BlockCommit:
    """A block whose records are derived from its height (and ``tag``, to vary the hash)."""
    return BlockCommit(
        height=height,
        block_hash=b"hash-%d" % height + tag,
        block=b"block-%d" % height + tag,
        commit=b"commit-%d" % height,
        tx_ids=tx_ids,
        receipts=tuple(b"receipt-" + t for t in tx_ids),
        writes=tuple(sorted((writes or {}).items())),
        state_root=b"root-%d" % height,
    )


def _replace(c: BlockCommit, **changes: object) -> BlockCommit:
    return BlockCommit(**{**c.__dict__, **changes})


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerTarget:
    """Where the test's ledger lives; the PostgreSQL server starts only if a test needs it."""
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    return make_target(request.param, tmp_path, server)


@pytest.fixture
def ledger(target: LedgerTarget) -> Iterator[Ledger]:
    store = target.open()
    yield store
    store.close()


def commit_chain(ledger: Ledger) -> None:
    """Heights 1..5: ``a`` written, overwritten, deleted (3), re-created (5); ``b`` deleted
    before it ever existed (2); ``c`` only at 1."""
    ledger.commit_block(make_commit(1, {b"a": b"a1", b"c": b"c1"}, (b"tx1", b"tx2")))
    ledger.commit_block(make_commit(2, {b"a": b"a2", b"b": None}, (b"tx3",)))
    ledger.commit_block(make_commit(3, {b"a": None, b"b": b"b3"}))
    ledger.commit_block(make_commit(4, {b"b": b"b4"}, (b"tx4", b"tx5", b"tx6")))
    ledger.commit_block(make_commit(5, {b"a": b"a5"}))


def snapshot(ledger: Ledger) -> tuple[object, ...]:
    """Everything a failed commit must leave untouched."""
    h = ledger.height()
    return (
        h,
        ledger.state_root(),
        ledger.scan_prefix(b"", MAX_SCAN_LIMIT),
        [ledger.history(k, limit=100) for k in (b"a", b"b", b"c", b"new")],
        ledger.block(h + 1),
        ledger.receipts(h + 1),
    )


# ---------------------------------------------------------------------------------------------
# Records and versioned state
# ---------------------------------------------------------------------------------------------


def test_empty_ledger(ledger: Ledger) -> None:
    assert ledger.height() == 0
    assert ledger.state_root() is None
    assert ledger.block(1) is None
    assert ledger.get(b"a") is None
    assert ledger.get_at(b"a", 0) is None
    assert ledger.history(b"a") == []
    assert ledger.scan_prefix(b"", 10) == []
    ledger.check_integrity()


def test_current_values_follow_writes_and_deletes(ledger: Ledger) -> None:
    commit_chain(ledger)
    assert ledger.height() == 5
    assert ledger.get(b"a") == b"a5"
    assert ledger.get(b"b") == b"b4"
    assert ledger.get(b"c") == b"c1"
    assert ledger.get(b"zzz") is None


def test_get_at_every_height(ledger: Ledger) -> None:
    commit_chain(ledger)
    expected = {
        b"a": [None, b"a1", b"a2", None, None, b"a5"],
        b"b": [None, None, None, b"b3", b"b4", b"b4"],
        b"c": [None, b"c1", b"c1", b"c1", b"c1", b"c1"],
    }
    for key, values in expected.items():
        assert [ledger.get_at(key, h) for h in range(6)] == values, key
    with pytest.raises(InvalidInput):
        ledger.get_at(b"a", 6)  # above the head: not final yet
    with pytest.raises(InvalidInput):
        ledger.get_at(b"a", -1)


def test_history_newest_first_with_deletes_and_paging(ledger: Ledger) -> None:
    commit_chain(ledger)
    assert ledger.history(b"a") == [(5, b"a5"), (3, None), (2, b"a2"), (1, b"a1")]
    assert ledger.history(b"b") == [(4, b"b4"), (3, b"b3"), (2, None)]
    assert ledger.history(b"a", limit=2) == [(5, b"a5"), (3, None)]
    assert ledger.history(b"a", limit=2, before_height=3) == [(2, b"a2"), (1, b"a1")]
    assert ledger.history(b"a", before_height=1) == []
    assert ledger.history(b"a", limit=0) == []
    assert ledger.history(b"never") == []


def test_history_keeps_keys_that_share_prefixes_apart(ledger: Ledger) -> None:
    writes1: Writes = {b"k": b"1", b"k\x00": b"2", b"k\xff": b"3", b"kk": b"4", b"\xff": b"5"}
    ledger.commit_block(make_commit(1, writes1))
    ledger.commit_block(make_commit(2, {b"k\x00": None, b"kk": b"44"}))
    assert ledger.history(b"k") == [(1, b"1")]
    assert ledger.history(b"k\x00") == [(2, None), (1, b"2")]
    assert ledger.history(b"kk") == [(2, b"44"), (1, b"4")]
    assert ledger.get_at(b"k", 2) == b"1"
    assert ledger.get_at(b"k\xff", 2) == b"3"
    assert ledger.get_at(b"\xff", 2) == b"5"


def test_block_records_and_tx_index(ledger: Ledger) -> None:
    commit_chain(ledger)
    for h in range(1, 6):
        assert ledger.block(h) == b"block-%d" % h
        assert ledger.commit(h) == b"commit-%d" % h
        assert ledger.block_hash(h) == b"hash-%d" % h
        assert ledger.block_height(b"hash-%d" % h) == h
        assert ledger.state_root(h) == b"root-%d" % h
    assert ledger.state_root() == b"root-5"
    assert ledger.block(6) is None and ledger.commit(0) is None and ledger.state_root(9) is None
    assert ledger.block_height(b"hash-9") is None
    assert ledger.tx_location(b"tx1") == (1, 0)
    assert ledger.tx_location(b"tx6") == (4, 2)
    assert ledger.tx_location(b"tx7") is None
    assert ledger.has_tx(b"tx5") and not ledger.has_tx(b"tx7")
    assert ledger.has_txs([b"tx7", b"tx5", b"tx1", b"tx5", b"nope"]) == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert ledger.has_txs(()) == []
    assert ledger.receipt(4, 1) == b"receipt-tx5"
    assert ledger.receipt(4, 3) is None
    assert ledger.receipts(4) == [b"receipt-tx4", b"receipt-tx5", b"receipt-tx6"]
    assert ledger.receipts(3) == []
    assert ledger.receipts(6) is None
    ledger.check_integrity()


@pytest.mark.parametrize(
    "tx_ids",
    [b"tx1", "tx1", {b"tx1"}, [b"tx1", b""], [b"tx1", "tx2"], [b"x" * 65], (b"tx1", None)],
)
def test_has_txs_refuses_bad_input(ledger: Ledger, tx_ids: object) -> None:
    commit_chain(ledger)
    with pytest.raises(InvalidInput):
        ledger.has_txs(tx_ids)  # type: ignore[arg-type]


def test_has_txs_on_a_closed_ledger_raises(ledger: Ledger) -> None:
    ledger.close()
    with pytest.raises(LedgerClosed):
        ledger.has_txs([b"tx1"])


# ---------------------------------------------------------------------------------------------
# Rejected commits change nothing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("height", [1, 5, 7, 100])
def test_wrong_height_raises_and_changes_nothing(ledger: Ledger, height: int) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    with pytest.raises(HeightMismatch) as info:
        ledger.commit_block(make_commit(height, {b"new": b"v"}, (b"fresh",), tag=b"!"))
    assert (info.value.expected, info.value.got) == (6, height)
    assert snapshot(ledger) == before
    assert not ledger.has_tx(b"fresh")


def test_right_height_control_succeeds(ledger: Ledger) -> None:
    commit_chain(ledger)
    ledger.commit_block(make_commit(6, {b"new": b"v"}, (b"fresh",)))
    assert ledger.height() == 6 and ledger.get(b"new") == b"v" and ledger.has_tx(b"fresh")


def test_duplicate_committed_tx_raises_and_changes_nothing(ledger: Ledger) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    with pytest.raises(DuplicateTx) as info:
        ledger.commit_block(make_commit(6, {b"new": b"v"}, (b"fresh", b"tx5")))
    assert info.value.location == (4, 1)
    assert snapshot(ledger) == before
    assert not ledger.has_tx(b"fresh")
    assert ledger.block_height(b"hash-6") is None


def test_the_first_committed_duplicate_in_block_order_is_named(ledger: Ledger) -> None:
    commit_chain(ledger)
    with pytest.raises(DuplicateTx) as info:
        ledger.commit_block(make_commit(6, {}, (b"fresh", b"tx6", b"new", b"tx1")))
    assert (info.value.tx_id, info.value.location) == (b"tx6", (4, 2))
    assert ledger.has_txs([b"fresh", b"new"]) == [False, False]


def test_tx_repeated_in_block_raises_and_changes_nothing(ledger: Ledger) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    with pytest.raises(DuplicateTx):
        ledger.commit_block(make_commit(6, {b"new": b"v"}, (b"fresh", b"dup", b"dup")))
    assert snapshot(ledger) == before


def test_duplicate_block_hash_raises_and_changes_nothing(ledger: Ledger) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    c = make_commit(6, {b"new": b"v"})
    with pytest.raises(DuplicateBlockHash):
        ledger.commit_block(_replace(c, block_hash=b"hash-2"))
    assert snapshot(ledger) == before


def test_over_long_key_raises_and_changes_nothing(ledger: Ledger) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    too_long = b"k" * (MAX_KEY_BYTES + 1)
    with pytest.raises(InvalidInput):
        ledger.commit_block(make_commit(6, {b"new": b"v", too_long: b"x"}))
    assert snapshot(ledger) == before
    for read in (ledger.get, ledger.history):
        with pytest.raises(InvalidInput):
            read(too_long)
    longest = b"k" * MAX_KEY_BYTES  # the limit itself is accepted, including its history
    ledger.commit_block(make_commit(6, {longest: b"x"}))
    assert ledger.get(longest) == b"x" and ledger.history(longest) == [(6, b"x")]


GOOD = make_commit(6, {b"k": b"v"}, (b"t",))


@pytest.mark.parametrize(
    "bad",
    [
        _replace(GOOD, writes=((b"b", b"1"), (b"a", b"2"))),  # unsorted
        _replace(GOOD, writes=((b"a", b"1"), (b"a", b"2"))),  # duplicate key
        _replace(GOOD, writes=((b"", b"1"),)),  # empty key
        _replace(GOOD, writes=((b"a", "text"),)),  # value not bytes
        _replace(GOOD, writes=[(b"a", b"1")]),  # not a tuple
        _replace(GOOD, writes=((b"a",),)),  # not a pair
        _replace(GOOD, receipts=()),  # receipts do not match tx ids
        _replace(GOOD, tx_ids=(b"",), receipts=(b"r",)),  # empty tx id
        _replace(GOOD, tx_ids=(b"t" * 65,), receipts=(b"r",)),  # tx id over the limit
        _replace(GOOD, block_hash=b""),
        _replace(GOOD, state_root=b"r" * 65),
        _replace(GOOD, block=bytearray(b"block")),
        _replace(GOOD, height=True),
        _replace(GOOD, height=0),
    ],
)
def test_malformed_block_commit_raises_and_changes_nothing(
    ledger: Ledger, bad: BlockCommit
) -> None:
    commit_chain(ledger)
    before = snapshot(ledger)
    with pytest.raises(InvalidInput):
        ledger.commit_block(bad)
    assert snapshot(ledger) == before
    ledger.commit_block(GOOD)  # control: the well-formed original is accepted
    assert ledger.height() == 6


# ---------------------------------------------------------------------------------------------
# Scans, metadata, reopen, read-only, locks
# ---------------------------------------------------------------------------------------------


def test_scan_prefix_pages_through_current_values(ledger: Ledger) -> None:
    writes: Writes = {b"acct/%03d" % i: b"v%d" % i for i in range(25)}
    writes |= {b"acc": b"outside", b"acct": b"exact", b"acct0": b"outside", b"b": b"outside"}
    ledger.commit_block(make_commit(1, writes))
    ledger.commit_block(make_commit(2, {b"acct/%03d" % i: None for i in range(0, 25, 5)}))
    expected = [(k, v) for k, v in sorted(writes.items()) if k.startswith(b"acct/") and v]
    expected = [(k, v) for k, v in expected if int(k[5:]) % 5]
    pages: list[list[tuple[bytes, bytes]]] = []
    start_after: bytes | None = None
    while page := ledger.scan_prefix(b"acct/", limit=7, start_after=start_after):
        pages.append(page)
        start_after = page[-1][0]
    assert [len(p) for p in pages] == [7, 7, 6]
    assert [row for p in pages for row in p] == expected
    assert ledger.scan_prefix(b"acct/", 3, start_after=b"a") == expected[:3]  # before prefix
    keys = [k for k, _ in expected]
    at_13, at_11 = keys.index(b"acct/013"), keys.index(b"acct/011")
    assert ledger.scan_prefix(b"acct/", 3, start_after=b"acct/012") == expected[at_13:][:3]
    assert ledger.scan_prefix(b"acct/", 3, start_after=b"acct/010") == expected[at_11:][:3]
    assert ledger.scan_prefix(b"acct/", 3, start_after=b"b") == []
    assert ledger.scan_prefix(b"acct/", 0) == []
    assert ledger.scan_prefix(b"zz", 5) == []
    with pytest.raises(InvalidInput):
        ledger.scan_prefix(b"acct/", MAX_SCAN_LIMIT + 1)


def test_meta_round_trip_and_validation(ledger: Ledger) -> None:
    assert ledger.get_meta("genesis") is None
    ledger.put_meta("genesis", b"g-hash")
    ledger.put_meta("genesis", b"g-hash-2")
    ledger.put_meta("链", b"")
    assert ledger.get_meta("genesis") == b"g-hash-2"
    assert ledger.get_meta("链") == b""
    for bad in ("", "a\nb", "x" * 200):
        with pytest.raises(InvalidInput):
            ledger.put_meta(bad, b"v")
    with pytest.raises(InvalidInput):
        ledger.put_meta("ok", "not bytes")  # type: ignore[arg-type]


def test_reopen_after_close_keeps_everything(target: LedgerTarget) -> None:
    first = target.open()
    commit_chain(first)
    first.put_meta("genesis", b"g")
    before = snapshot(first)
    first.close()
    first.close()  # idempotent
    with pytest.raises(LedgerClosed):
        first.height()
    with pytest.raises(LedgerClosed):
        first.commit_block(make_commit(6))
    second = target.open()
    try:
        assert snapshot(second) == before
        assert second.get_meta("genesis") == b"g"
        assert second.tx_location(b"tx6") == (4, 2)
        assert second.get_at(b"a", 2) == b"a2"
        second.check_integrity()
        second.commit_block(make_commit(6, {b"a": b"a6"}))
        assert second.history(b"a", limit=2) == [(6, b"a6"), (5, b"a5")]
    finally:
        second.close()


def test_read_only_open_reads_but_refuses_writes(target: LedgerTarget) -> None:
    writer = target.open()
    commit_chain(writer)
    writer.close()
    reader = target.open(readonly=True)
    try:
        assert reader.height() == 5 and reader.get(b"a") == b"a5"
        with pytest.raises(LedgerClosed):
            reader.commit_block(make_commit(6))
        with pytest.raises(LedgerClosed):
            reader.put_meta("x", b"y")
        assert reader.height() == 5
    finally:
        reader.close()
    with pytest.raises(LedgerError):
        replace(target, path=target.path.parent / "missing", schema="missing").open(readonly=True)


def test_second_writer_is_refused(target: LedgerTarget) -> None:
    first = target.open()
    try:
        with pytest.raises(LedgerError, match="open for writing elsewhere"):
            target.open(lock_wait_s=0.2)
        if target.backend == "postgres":  # (LMDB: one environment per process; see crash test)
            target.open(readonly=True).close()  # readers are welcome
    finally:
        first.close()
    target.open().close()  # released on close


def test_open_ledger_returns_the_protocol(target: LedgerTarget, ledger: Ledger) -> None:
    kind = LmdbLedger if target.backend == "lmdb" else PostgresLedger
    assert isinstance(ledger, Ledger) and isinstance(ledger, kind)


# ---------------------------------------------------------------------------------------------
# Growth, threads, corruption
# ---------------------------------------------------------------------------------------------


def test_readers_on_other_threads_see_block_boundaries(target: LedgerTarget) -> None:
    """Each block writes ``n = height`` and ``m = height`` (two keys); readers on other threads
    must never see them differ, nor a head whose records are missing — also across map growth.
    Neither side may starve the other (py-lmdb's environment mutex once stalled commits 60 s)."""
    ledger = target.open(sync=False, map_size=64 * 1024)
    blocks = 150
    stop = threading.Event()
    errors: list[BaseException] = []
    seen_heights: set[int] = set()

    def read_until_stopped() -> None:
        try:
            while not stop.is_set():
                h = ledger.height()
                seen_heights.add(h)
                if h:
                    assert ledger.block(h) == b"block-%d" % h
                    n, m = ledger.get_at(b"n", h), ledger.get_at(b"m", h)
                    assert n == m == b"%d" % h
                    rows = dict(ledger.scan_prefix(b"", 10))
                    assert rows[b"n"] == rows[b"m"]
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read_until_stopped) for _ in range(3)]
    for thread in readers:
        thread.start()
    started = time.monotonic()
    try:
        pad = b"p" * 2000
        for h in range(1, blocks + 1):
            ledger.commit_block(make_commit(h, {b"m": b"%d" % h, b"n": b"%d" % h, b"pad": pad}))
            time.sleep(0.0005)  # a node does other work between commits
    finally:
        elapsed_s = time.monotonic() - started
        stop.set()
        for thread in readers:
            thread.join()
        ledger.close()
    assert not errors, errors[0]
    assert elapsed_s < 20, f"writer starved: {blocks} commits took {elapsed_s:.1f} s"
    assert len(seen_heights) >= 10, f"readers starved: saw only heights {sorted(seen_heights)}"


# ---------------------------------------------------------------------------------------------
# Model-based: random block sequences against an in-memory model
# ---------------------------------------------------------------------------------------------

KEYS = [b"a", b"a\x00", b"ab", b"abc", b"b", b"b\xff", b"\x00", b"\xff\xff", b"k" * 40, b"zz"]
key_st = st.sampled_from(KEYS)
value_st = st.one_of(st.none(), st.binary(max_size=12))


class LedgerModel:
    """The meaning of the ledger's state API, written as plainly as possible."""

    def __init__(self) -> None:
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}
        self.height = 0
        self.tx_ids: list[bytes] = []

    def apply(self, height: int, writes: Writes) -> None:
        for key, value in writes.items():
            self.versions.setdefault(key, []).append((height, value))
        self.height = height

    def get_at(self, key: bytes, height: int) -> bytes | None:
        older = [v for h, v in self.versions.get(key, []) if h <= height]
        return older[-1] if older else None

    def history(self, key: bytes, limit: int, before: int | None) -> list[tuple[int, bytes | None]]:
        rows = [(h, v) for h, v in self.versions.get(key, []) if before is None or h < before]
        return rows[::-1][:limit]

    def current(self) -> list[tuple[bytes, bytes]]:
        rows = ((k, self.get_at(k, self.height)) for k in self.versions)
        return sorted((k, v) for k, v in rows if v is not None)


class LedgerMachine(RuleBasedStateMachine):
    #: Set by the test that runs the machine: a fresh ledger target per example.
    new_target: Callable[[], LedgerTarget]

    def __init__(self) -> None:
        super().__init__()
        self.target = self.new_target()
        self.ledger: Ledger = self.target.open(sync=False)
        self.model = LedgerModel()

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.target.path, ignore_errors=True)

    @rule(writes=st.dictionaries(key_st, value_st, max_size=6), tx_count=st.integers(0, 3))
    def commit(self, writes: Writes, tx_count: int) -> None:
        height = self.model.height + 1
        tx_ids = tuple(b"tx-%d-%d" % (height, i) for i in range(tx_count))
        self.ledger.commit_block(make_commit(height, writes, tx_ids))
        self.model.apply(height, writes)
        self.model.tx_ids.extend(tx_ids)

    @rule(data=st.data(), writes=st.dictionaries(key_st, value_st))
    def commit_wrong_height(self, data: st.DataObject, writes: Writes) -> None:
        right = self.model.height + 1
        height = data.draw(st.integers(1, right + 5).filter(lambda h: h != right))
        with pytest.raises(HeightMismatch):
            self.ledger.commit_block(make_commit(height, writes, (b"never",), tag=b"w"))
        assert not self.ledger.has_tx(b"never")

    @precondition(lambda self: bool(self.model.tx_ids))
    @rule(data=st.data(), writes=st.dictionaries(key_st, value_st, min_size=1))
    def commit_duplicate_tx(self, data: st.DataObject, writes: Writes) -> None:
        old = data.draw(st.sampled_from(self.model.tx_ids))
        with pytest.raises(DuplicateTx):
            height = self.model.height + 1
            self.ledger.commit_block(make_commit(height, writes, (b"never", old), tag=b"d"))
        assert not self.ledger.has_tx(b"never")

    @rule()
    def reopen(self) -> None:
        self.ledger.close()
        self.ledger = self.target.open(sync=False)

    @rule(key=key_st, data=st.data())
    def check_get_at(self, key: bytes, data: st.DataObject) -> None:
        height = data.draw(st.integers(0, self.model.height))
        assert self.ledger.get_at(key, height) == self.model.get_at(key, height)

    @rule(
        key=key_st,
        limit=st.integers(0, 5),
        before=st.one_of(st.none(), st.integers(0, 30)),
    )
    def check_history(self, key: bytes, limit: int, before: int | None) -> None:
        assert self.ledger.history(key, limit, before) == self.model.history(key, limit, before)

    @rule(prefix=st.sampled_from([b"", b"a", b"ab", b"b", b"\xff"]), limit=st.integers(1, 4))
    def check_scan_pages(self, prefix: bytes, limit: int) -> None:
        rows: list[tuple[bytes, bytes]] = []
        start_after: bytes | None = None
        while page := self.ledger.scan_prefix(prefix, limit, start_after):
            assert len(page) <= limit
            rows.extend(page)
            start_after = page[-1][0]
        assert rows == [(k, v) for k, v in self.model.current() if k.startswith(prefix)]

    @invariant()
    def current_state_and_head_match(self) -> None:
        assert self.ledger.height() == self.model.height
        for key in KEYS:
            assert self.ledger.get(key) == self.model.get_at(key, self.model.height)
        expected_root = b"root-%d" % self.model.height if self.model.height else None
        assert self.ledger.state_root() == expected_root

    @invariant()
    def integrity_holds(self) -> None:
        self.ledger.check_integrity()

    @invariant()
    def has_txs_matches_the_model(self) -> None:
        probe = [*self.model.tx_ids[-3:], b"never"]
        assert self.ledger.has_txs(probe) == [True] * (len(probe) - 1) + [False]


MACHINE_EXAMPLES = {"lmdb": 100, "postgres": 30}


@pytest.mark.parametrize("backend", BACKENDS)
def test_ledger_matches_model(request: pytest.FixtureRequest, backend: str) -> None:
    server = request.getfixturevalue("pg_server") if backend == "postgres" else None

    def new_target() -> LedgerTarget:
        return make_target(backend, Path(tempfile.mkdtemp(prefix="ledger-model-")), server)

    machine = type("Machine", (LedgerMachine,), {"new_target": staticmethod(new_target)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=MACHINE_EXAMPLES[backend],
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
