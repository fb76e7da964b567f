"""What only the LMDB backend has: its on-disk format, map growth, its thread gate, and how it
reports corruption (bit flips, truncation, tables that disagree with the head, old formats).

The behaviour every backend shares is tested in ``test_ledger_store.py``.
"""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import replace
from pathlib import Path

import lmdb
import pytest
from tests.unit.test_ledger_store import commit_chain, make_commit

from yulian.ledger import (
    CorruptLedger,
    EventRecord,
    LedgerError,
    LmdbLedger,
    UnsupportedFormat,
    open_ledger,
)


def _sealed(key: bytes, value: bytes) -> bytes:
    """The on-disk record format, written out independently of the backend's code."""
    return struct.pack(">I", zlib.crc32(key + value)) + value


def test_records_on_disk_keep_their_format(tmp_path: Path) -> None:
    """Raw LMDB records, byte for byte: a ledger written by any version must stay readable."""
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    ledger.close()
    env = lmdb.open(str(path), readonly=True, max_dbs=32, lock=False)
    try:
        with env.begin() as txn:

            def table(name: bytes) -> dict[bytes, bytes]:
                return dict(txn.cursor(db=env.open_db(name, txn=txn, create=False)))

            location = struct.pack(">QI", 4, 1)
            assert table(b"txindex")[b"tx5"] == _sealed(b"tx5", location)
            assert table(b"receipts")[location] == _sealed(location, b"receipt-tx5")
            assert table(b"state") == {
                b"a": _sealed(b"a", b"a5"),
                b"b": _sealed(b"b", b"b4"),
                b"c": _sealed(b"c", b"c1"),
            }
            history = table(b"history")
            written = b"\x00\x01a" + struct.pack(">Q", 5)
            deleted = b"\x00\x01a" + struct.pack(">Q", 3)
            assert history[written] == _sealed(written, b"\x01a5")
            assert history[deleted] == _sealed(deleted, b"\x00")
            assert len(history) == 8 and len(table(b"txindex")) == len(table(b"receipts")) == 6
            h4 = struct.pack(">Q", 4)
            assert table(b"blocktxs")[h4] == _sealed(h4, b"\x03tx4\x03tx5\x03tx6")
    finally:
        env.close()


def test_map_grows_when_full(tmp_path: Path) -> None:
    small = 64 * 1024
    ledger = open_ledger(tmp_path / "ledger", map_size=small, sync=False)
    try:
        big = bytes(range(256)) * 40  # 10 KiB, incompressible enough for LMDB pages
        for h in range(1, 41):
            ledger.commit_block(make_commit(h, {b"k%d" % h: big, b"x": big}))
        assert ledger.height() == 40
        assert ledger.get(b"k1") == big and ledger.history(b"x", limit=50)[-1] == (1, big)
        assert (tmp_path / "ledger" / "data.mdb").stat().st_size > small
        ledger.check_integrity()
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [(lmdb.CorruptedError, CorruptLedger), (lmdb.BadValsizeError, LedgerError)],
)
def test_an_lmdb_error_inside_a_read_is_a_ledger_error_and_frees_the_gate(
    tmp_path: Path, raised: type[lmdb.Error], expected: type[LedgerError]
) -> None:
    ledger = LmdbLedger(tmp_path / "ledger", sync=False)
    with pytest.raises(expected), ledger._read():
        raise raised("from inside the read")
    with pytest.raises(KeyError), ledger._read():
        raise KeyError("not LMDB's: passed through")
    assert ledger.height() == 0
    closer = threading.Thread(target=ledger.close)  # waits for the gate to be free
    closer.start()
    closer.join(timeout=10)
    assert not closer.is_alive(), "a read left the gate held"


def flip_every_occurrence(data_file: Path, needle: bytes) -> int:
    raw = bytearray(data_file.read_bytes())
    count, start = 0, 0
    while (at := raw.find(needle, start)) >= 0:
        raw[at + len(needle) // 2] ^= 0x01
        count, start = count + 1, at + len(needle)
    data_file.write_bytes(bytes(raw))
    return count


def test_bit_flip_in_a_value_is_reported_not_returned(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    needle = b"UNIQUE-VALUE-0123456789"
    ledger.commit_block(make_commit(6, {b"doc": needle}))
    ledger.close()
    assert flip_every_occurrence(path / "data.mdb", needle) >= 2  # state and history
    ledger = open_ledger(path)
    try:
        assert ledger.get(b"a") == b"a5"  # untouched records still read
        with pytest.raises(CorruptLedger):
            ledger.get(b"doc")
        with pytest.raises(CorruptLedger):
            ledger.history(b"doc")
        with pytest.raises(CorruptLedger):
            ledger.check_integrity()
    finally:
        ledger.close()


def test_bit_flip_in_a_block_is_found_by_check_integrity(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    ledger.check_integrity()
    ledger.close()
    assert flip_every_occurrence(path / "data.mdb", b"block-3") >= 1  # live + stale page copies
    ledger = open_ledger(path)
    try:
        with pytest.raises(CorruptLedger):
            ledger.block(3)
        with pytest.raises(CorruptLedger):
            ledger.check_integrity()
    finally:
        ledger.close()


@pytest.mark.parametrize("keep_fraction", [0.0, 0.1, 0.5, 0.9])
def test_truncated_data_file_is_refused_at_open(tmp_path: Path, keep_fraction: float) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path, sync=False)
    for h in range(1, 31):
        ledger.commit_block(make_commit(h, {b"k%d" % h: b"v" * 3000}))
    ledger.close()
    data_file = path / "data.mdb"
    size = data_file.stat().st_size
    with data_file.open("r+b") as f:
        f.truncate(int(size * keep_fraction) // 4096 * 4096 or 100)  # 100: inside the meta page
    with pytest.raises(CorruptLedger):
        open_ledger(path)


def _edit_raw(path: Path, table: bytes, key: bytes, value: bytes | None) -> None:
    """Change one record behind the ledger's back (raw LMDB, no seal, no head update)."""
    env = lmdb.open(str(path), max_dbs=32)
    with env.begin(write=True) as txn:
        db = env.open_db(table, txn=txn, create=False)
        if value is None:
            assert txn.delete(key, db=db)
        else:
            txn.put(key, value, db=db)
    env.close()


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        (b"blocks", (5).to_bytes(8, "big"), None),  # the head block vanished
        (b"hashes", (2).to_bytes(8, "big"), None),  # a middle hash vanished
        (b"sys", b"head", None),  # the head vanished: tables say 5 blocks
        (b"blocktxs", (4).to_bytes(8, "big"), None),  # a block's tx id list vanished
        (b"blocks", (6).to_bytes(8, "big"), b"\0\0\0\0x"),  # a block above the head
    ],
)
def test_tables_disagreeing_with_the_head_are_refused_at_open(
    tmp_path: Path, table: bytes, key: bytes, value: bytes | None
) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    ledger.close()
    _edit_raw(path, table, key, value)
    with pytest.raises(CorruptLedger):
        open_ledger(path)


def test_unsealed_record_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    ledger.close()
    _edit_raw(path, b"state", b"a", b"\0\0\0\0forged")
    ledger = open_ledger(path)  # opening checks the head only
    try:
        with pytest.raises(CorruptLedger):
            ledger.get(b"a")
        assert ledger.get(b"b") == b"b4"
    finally:
        ledger.close()


def test_foreign_lmdb_environment_is_not_a_ledger(tmp_path: Path) -> None:
    env = lmdb.open(str(tmp_path / "other"), max_dbs=2)
    with env.begin(write=True) as txn:
        txn.put(b"something", b"else")
    env.close()
    with pytest.raises(CorruptLedger):
        open_ledger(tmp_path / "other")


def test_event_records_on_disk_keep_their_format(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    event = EventRecord(1, 0, "合约", "made", b"k1", b"\xa1p")
    ledger.commit_block(make_commit(1, {}, (b"tx1", b"tx2")))
    ledger.commit_block(replace(make_commit(2, {}, (b"tx3", b"tx4")), events=(event,)))
    ledger.close()
    env = lmdb.open(str(path), readonly=True, max_dbs=32, lock=False)
    try:
        with env.begin() as txn:
            events = dict(txn.cursor(db=env.open_db(b"events", txn=txn, create=False)))
            cursor = struct.pack(">QII", 2, 1, 0)
            name = "合约".encode()
            record = struct.pack(">BHHI", 3, len(name), 4, 2) + b"tx4" + name + b"made" + b"k1"
            assert events == {cursor: _sealed(cursor, record + b"\xa1p")}
            for table in (b"evcontract", b"evname"):
                (key, value), *others = txn.cursor(db=env.open_db(table, txn=txn, create=False))
                assert not others and len(key) == 16 + len(cursor) and key.endswith(cursor)
                assert value == _sealed(key, b"")
    finally:
        env.close()


def test_a_ledger_of_the_previous_format_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    ledger = open_ledger(path)
    commit_chain(ledger)
    ledger.close()
    env = lmdb.open(str(path), max_dbs=32)
    with env.begin(write=True) as txn:
        for name in (b"blocktxs", b"events", b"evcontract", b"evname"):
            txn.drop(env.open_db(name, txn=txn), delete=True)
        sys_table = env.open_db(b"sys", txn=txn)
        txn.put(b"format", _sealed(b"format", b"yulian-ledger-lmdb/1"), db=sys_table)
    env.close()
    before = (path / "data.mdb").read_bytes()
    for readonly in (False, True):
        with pytest.raises(UnsupportedFormat, match="cannot continue here"):
            open_ledger(path, readonly=readonly)
    assert (path / "data.mdb").read_bytes() == before, "refusing must not change the file"
