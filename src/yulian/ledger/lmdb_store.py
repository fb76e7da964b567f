"""The LMDB ledger backend: the embedded default.

Introduction
------------
One LMDB environment (a directory holding ``data.mdb`` and ``lock.mdb``) with named tables:

==========  =======================================  ==========================================
table       key                                      value (each sealed, see below)
==========  =======================================  ==========================================
blocks      height (u64 BE)                          encoded block
commits     height                                   encoded commit certificate
hashes      height                                   block hash
roots       height                                   state root after the block
byhash      block hash                               height
txindex     tx id                                    height (u64 BE) + index (u32 BE)
receipts    height + index                           encoded receipt
state       state key                                current value
history     len(key) (u16 BE) + key + height         0x00 (deleted) | 0x01 + value
meta        UTF-8 name                               caller's bytes
sys         b"format" / b"head"                      format tag / head record
==========  =======================================  ==========================================

Invariant: all records of one block, and the head record naming it, are written in **one** LMDB
write transaction; LMDB commits it atomically (copy-on-write pages, then the meta page) and, with
``sync=True``, durably (fsync before ``commit_block`` returns). A process killed at any point
leaves the previous transaction's snapshot, so a reopened ledger is always at a block boundary.
Opening checks the head against the tables (cheap); ``check_integrity`` checks everything.

Every stored value is *sealed*: ``crc32(key, value)`` (4 bytes BE) followed by the value, so a
flipped bit in a record or its key is reported as ``CorruptLedger`` when read, never returned.
A data file shorter than LMDB's last used page (truncation) is refused at open, before any page
of it is touched (touching it would be a SIGBUS).

The history key groups all versions of one key together, ordered by height: the value at the end
of block h is one cursor seek to ``prefix + h`` (exact hit) or the entry just before it.

Threads: any number of reader threads, one writer at a time (a lock). Growing the memory map
(``MapFullError``) must not race a live transaction of this process, so every transaction
passes a gate that ``_grow_map`` and ``close`` take exclusively; while the writer's transaction
runs, new readers wait at the gate (see ``_Gate``: without it readers starve the writer).
Processes: one writing process per ledger (an ``flock`` on ``writer.lock``); other processes may
open it read-only.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lmdb

from yulian.ledger import failpoints
from yulian.ledger.store import (
    MAX_HASH_BYTES,
    MAX_HEIGHT,
    MAX_HISTORY_LIMIT,
    MAX_KEY_BYTES,
    MAX_SCAN_LIMIT,
    MAX_TX_ID_BYTES,
    MAX_TXS_PER_BLOCK,
    BlockCommit,
    CorruptLedger,
    DuplicateBlockHash,
    DuplicateTx,
    HeightMismatch,
    InvalidInput,
    LedgerClosed,
    LedgerError,
    LedgerFull,
    check_block_commit,
    check_height,
    check_key,
    check_limit,
    check_meta_name,
    check_record,
    check_tx_ids,
)

__all__ = ["DEFAULT_MAP_BYTES", "MAX_MAP_BYTES", "LmdbLedger"]

#: Initial size of the memory map: address space reserved, not disk used (writemap is off,
#: so the data file grows only with the data).
DEFAULT_MAP_BYTES = 64 * 2**30
#: The map doubles on ``MapFullError`` up to this size; beyond it a commit raises LedgerFull.
MAX_MAP_BYTES = 2**40
#: Reader slots in the lock file: concurrent read transactions across all processes.
MAX_READERS = 1024
#: Named tables (sub-databases) the environment may hold.
MAX_TABLES = 16

FORMAT_TAG = b"yulian-ledger-lmdb/1"
_FORMAT_KEY = b"format"
_HEAD_KEY = b"head"
_WRITER_LOCK_FILE = "writer.lock"

_TABLE_NAMES = (
    "blocks",
    "commits",
    "hashes",
    "roots",
    "byhash",
    "txindex",
    "receipts",
    "state",
    "history",
    "meta",
    "sys",
)
#: Tables holding exactly one entry per committed height.
_PER_HEIGHT_TABLES = ("blocks", "commits", "hashes", "roots", "byhash")

_HEIGHT = struct.Struct(">Q")
_LOCATION = struct.Struct(">QI")
_KEY_LENGTH = struct.Struct(">H")
_CRC = struct.Struct(">I")
_HISTORY_DELETED = b"\x00"
_HISTORY_VALUE = b"\x01"
#: History key overhead: the u16 key length in front and the u64 height behind the key.
_HISTORY_OVERHEAD_BYTES = _KEY_LENGTH.size + _HEIGHT.size

_LMDB_CORRUPTION = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.PanicError,
    lmdb.InvalidError,
    lmdb.VersionMismatchError,
    lmdb.BadChecksumError,
)

_Txn = Any  # lmdb.Transaction; Any keeps the generic stub types out of every signature


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def seal_value(key: bytes, value: bytes) -> bytes:
    """Prefix ``value`` with the CRC-32 of key and value."""
    return _CRC.pack(zlib.crc32(value, zlib.crc32(key))) + value


def unseal_value(key: bytes, raw: bytes, table: str) -> bytes:
    """Strip and verify the seal of a stored value; raise ``CorruptLedger`` on mismatch."""
    if len(raw) < _CRC.size:
        raise CorruptLedger(f"{table}: record for key {key.hex()[:80]} is truncated")
    value = raw[_CRC.size :]
    if _CRC.unpack_from(raw)[0] != zlib.crc32(value, zlib.crc32(key)):
        raise CorruptLedger(f"{table}: checksum mismatch for key {key.hex()[:80]}")
    return value


def encode_height(height: int) -> bytes:
    return _HEIGHT.pack(height)


def decode_height(raw: bytes, table: str) -> int:
    if len(raw) != _HEIGHT.size:
        raise CorruptLedger(f"{table}: height record of {len(raw)} bytes")
    height: int = _HEIGHT.unpack(raw)[0]
    return height


def encode_location(height: int, index: int) -> bytes:
    return _LOCATION.pack(height, index)


def decode_location(raw: bytes, table: str) -> tuple[int, int]:
    if len(raw) != _LOCATION.size:
        raise CorruptLedger(f"{table}: location record of {len(raw)} bytes")
    height, index = _LOCATION.unpack(raw)
    return height, index


def make_history_prefix(key: bytes) -> bytes:
    return _KEY_LENGTH.pack(len(key)) + key


def decode_history_value(raw: bytes) -> bytes | None:
    if raw == _HISTORY_DELETED:
        return None
    if raw[:1] != _HISTORY_VALUE:
        raise CorruptLedger("history: unknown version tag")
    return raw[1:]


def encode_head(height: int, block_hash: bytes, state_root: bytes) -> bytes:
    return _HEIGHT.pack(height) + bytes([len(block_hash)]) + block_hash + state_root


def decode_head(raw: bytes) -> tuple[int, bytes, bytes]:
    """Return ``(height, block_hash, state_root)`` of a head record."""
    if len(raw) < _HEIGHT.size + 2:
        raise CorruptLedger("sys: head record too short")
    height: int = _HEIGHT.unpack_from(raw)[0]
    hash_len = raw[_HEIGHT.size]
    block_hash = raw[_HEIGHT.size + 1 : _HEIGHT.size + 1 + hash_len]
    state_root = raw[_HEIGHT.size + 1 + hash_len :]
    if not 1 <= hash_len == len(block_hash) or not 1 <= len(state_root) <= MAX_HASH_BYTES:
        raise CorruptLedger("sys: malformed head record")
    return height, block_hash, state_root


def translate_lmdb_error(exc: lmdb.Error) -> LedgerError:
    """Map an LMDB error to the ledger's named errors."""
    if isinstance(exc, _LMDB_CORRUPTION):
        return CorruptLedger(f"LMDB reports corruption: {exc}")
    if isinstance(exc, lmdb.MapFullError):
        return LedgerFull(str(exc))
    if isinstance(exc, lmdb.DiskError) or getattr(exc, "code", 0) == errno.ENOSPC:
        return LedgerFull(f"disk error: {exc}")
    return LedgerError(f"LMDB error: {exc}")


# ---------------------------------------------------------------------------------------------
# The shared/exclusive gate
# ---------------------------------------------------------------------------------------------


class _Gate:
    """Admission of this process's threads to the LMDB environment.

    * shared — a read transaction. Many at once.
    * writing — the one write transaction (already serialised by the write lock). While it
      runs, new readers wait at the gate. py-lmdb 3 guards every transaction call with one
      environment mutex held across the C call; back-to-back readers on other threads can
      re-take it before a blocked writer wakes and starve a commit for seconds (measured:
      10-60 s with 3 spinning readers). Holding new readers back bounds the writer's wait to
      the reads already in flight.
    * exclusive — ``set_mapsize`` or ``close``: no reader and no writer inside.
    """

    def __init__(self) -> None:
        # the lock is taken directly on the hot paths (a Condition's ``with`` is a Python-level
        # call on top), and waiters are counted so that leaving wakes no one when no one waits
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._shared = 0
        self._writing = 0
        self._exclusive = False
        self._waiting = 0

    def enter_shared(self) -> None:
        with self._lock:
            while self._exclusive or self._writing:
                self._wait()
            self._shared += 1

    def leave_shared(self) -> None:
        with self._lock:
            self._shared -= 1
            if self._shared == 0 and self._waiting:
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            while self._exclusive:
                self._wait()
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1
                if self._waiting:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            while self._exclusive:
                self._wait()
            self._exclusive = True
            while self._shared or self._writing:
                self._wait()
        try:
            yield
        finally:
            with self._lock:
                self._exclusive = False
                if self._waiting:
                    self._cond.notify_all()

    def _wait(self) -> None:
        """Wait for a change (the lock held, as ``Condition.wait`` requires)."""
        self._waiting += 1
        try:
            self._cond.wait()
        finally:
            self._waiting -= 1


class _Reading:
    """The context of ``LmdbLedger._read``: hold the gate shared and begin a read txn; on the
    way out abort it, release the gate, and turn an LMDB error into a ledger error. A class,
    not a generator: every read passes here, and a generator context costs about a microsecond
    more per read."""

    __slots__ = ("_ledger", "_txn")

    def __init__(self, ledger: LmdbLedger) -> None:
        self._ledger = ledger

    def __enter__(self) -> _Txn:
        ledger = self._ledger
        ledger._gate.enter_shared()
        try:
            if ledger._closed:
                raise LedgerClosed(f"ledger {ledger._path} is closed")
            self._txn = ledger._begin_read()
        except lmdb.Error as exc:
            ledger._gate.leave_shared()
            raise translate_lmdb_error(exc) from exc
        except BaseException:
            ledger._gate.leave_shared()
            raise
        return self._txn

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._txn.abort()
        except lmdb.Error as abort_error:
            raise translate_lmdb_error(abort_error) from abort_error
        finally:
            self._ledger._gate.leave_shared()
        if isinstance(exc, lmdb.Error):
            raise translate_lmdb_error(exc) from exc


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


class LmdbLedger:
    """A ``Ledger`` in one LMDB environment at ``path`` (a directory, created if missing)."""

    def __init__(
        self,
        path: str | Path,
        *,
        map_size: int = DEFAULT_MAP_BYTES,
        sync: bool = True,
        readonly: bool = False,
    ) -> None:
        if type(map_size) is not int or not 2**16 <= map_size <= MAX_MAP_BYTES:
            raise InvalidInput(f"map_size must be an int in [65536, {MAX_MAP_BYTES}]")
        self._path = Path(path)
        self._readonly = readonly
        self._write_lock = threading.Lock()
        self._gate = _Gate()
        self._closed = False
        self._lock_fd: int | None = None
        if readonly:
            if not (self._path / "data.mdb").is_file():
                raise LedgerError(f"no ledger at {self._path}")
        else:
            self._path.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _acquire_writer_lock(self._path / _WRITER_LOCK_FILE)
        try:
            self._env = self._open_env(map_size, sync)
            self._tables = self._open_tables()
            self._check_format_and_head()
        except BaseException:
            self._release()
            raise

    # -- opening ---------------------------------------------------------------------------

    def _open_env(self, map_size: int, sync: bool) -> lmdb.Environment:
        try:
            env = lmdb.open(
                str(self._path),
                map_size=map_size,
                subdir=True,
                readonly=self._readonly,
                metasync=True,
                sync=sync,
                writemap=False,
                max_readers=MAX_READERS,
                max_dbs=MAX_TABLES,
                lock=True,
            )
        except lmdb.Error as exc:
            raise translate_lmdb_error(exc) from exc
        try:
            _check_data_file_length(env, self._path / "data.mdb")
            if env.max_key_size() < MAX_KEY_BYTES + _HISTORY_OVERHEAD_BYTES:
                raise LedgerError(f"LMDB max key size {env.max_key_size()} is too small")
            if not self._readonly:
                env.reader_check()  # free reader slots left by killed processes
        except BaseException:
            env.close()
            raise
        return env

    def _open_tables(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        try:
            with self._env.begin() as txn:
                names = {key for key, _ in txn.cursor()}
            foreign = names - {name.encode() for name in _TABLE_NAMES}
            if foreign:
                raise CorruptLedger(f"{self._path} holds tables of something else: {foreign}")
            for name in _TABLE_NAMES:
                tables[name] = self._env.open_db(name.encode(), create=not self._readonly)
        except lmdb.NotFoundError as exc:
            raise LedgerError(f"{self._path} is not a ledger (missing table)") from exc
        except lmdb.Error as exc:
            raise translate_lmdb_error(exc) from exc
        return tables

    def _check_format_and_head(self) -> None:
        """Write the format tag into a new ledger; check tag and head of an existing one."""
        with self._read() as txn:
            tag = self._get(txn, "sys", _FORMAT_KEY)
            empty = all(txn.stat(self._tables[t])["entries"] == 0 for t in _TABLE_NAMES)
        if tag is None and empty and not self._readonly:
            self._write(lambda txn: self._put(txn, "sys", _FORMAT_KEY, FORMAT_TAG))
        elif tag != FORMAT_TAG:
            raise CorruptLedger(f"{self._path}: unknown ledger format {tag!r}")
        with self._read() as txn:
            self._check_head(txn)

    def _check_head(self, txn: _Txn) -> None:
        """Check the head against the per-height tables: O(1) reads, done at every open."""
        height, block_hash, state_root = self._read_head(txn)
        for table in _PER_HEIGHT_TABLES:
            entries = txn.stat(self._tables[table])["entries"]
            if entries != height:
                raise CorruptLedger(f"{table} holds {entries} entries, head is {height}")
        if height == 0:
            return
        cursor = txn.cursor(db=self._tables["blocks"])
        if not cursor.last() or cursor.key() != encode_height(height):
            raise CorruptLedger(f"last block is not the head {height}")
        if self._get(txn, "hashes", encode_height(height)) != block_hash:
            raise CorruptLedger(f"head hash differs from the hash of block {height}")
        if self._get(txn, "roots", encode_height(height)) != state_root:
            raise CorruptLedger(f"head state root differs from the root of block {height}")

    # -- transactions ----------------------------------------------------------------------

    def _read(self) -> _Reading:
        """A read-only snapshot (``with self._read() as txn``); LMDB errors come out as ledger
        errors."""
        return _Reading(self)

    def _begin_read(self) -> _Txn:
        """Begin a read txn (gate held shared); adopt a map grown by the writing process."""
        try:
            return self._env.begin(write=False)
        except lmdb.MapResizedError:
            self._gate.leave_shared()
            try:
                with self._gate.exclusive():
                    self._env.set_mapsize(0)
            finally:
                self._gate.enter_shared()
            if self._closed:
                raise LedgerClosed(f"ledger {self._path} is closed") from None
            return self._env.begin(write=False)

    def _write(self, fill: Callable[[_Txn], object]) -> None:
        """Run ``fill`` in one write txn and commit it; on MapFullError grow the map and rerun
        ``fill`` from scratch. Any exception aborts the txn: nothing is written."""
        with self._write_lock:
            while True:
                try:
                    with self._gate.writing():
                        self._write_once(fill)
                    return
                except lmdb.MapFullError:
                    pass
                except lmdb.Error as exc:
                    raise translate_lmdb_error(exc) from exc
                self._grow_map()

    def _write_once(self, fill: Callable[[_Txn], object]) -> None:
        if self._closed or self._readonly:
            state = "closed" if self._closed else "read-only"
            raise LedgerClosed(f"ledger {self._path} is {state}")
        txn = self._env.begin(write=True)
        try:
            fill(txn)
            txn.commit()
        except BaseException:
            txn.abort()
            raise

    def _grow_map(self) -> None:
        size = self._env.info()["map_size"]
        if size >= MAX_MAP_BYTES:
            raise LedgerFull(f"map size {size} bytes is at the limit {MAX_MAP_BYTES}")
        with self._gate.exclusive():
            try:
                self._env.set_mapsize(min(size * 2, MAX_MAP_BYTES))
            except lmdb.Error as exc:
                raise LedgerFull(f"cannot grow the map beyond {size} bytes: {exc}") from exc

    def _get(self, txn: _Txn, table: str, key: bytes) -> bytes | None:
        raw = txn.get(key, db=self._tables[table])
        return None if raw is None else unseal_value(key, raw, table)

    def _put(self, txn: _Txn, table: str, key: bytes, value: bytes, **flags: bool) -> bool:
        stored: bool = txn.put(key, seal_value(key, value), db=self._tables[table], **flags)
        return stored

    def _read_head(self, txn: _Txn) -> tuple[int, bytes, bytes]:
        raw = self._get(txn, "sys", _HEAD_KEY)
        return (0, b"", b"") if raw is None else decode_head(raw)

    # -- writes ----------------------------------------------------------------------------

    def commit_block(self, c: BlockCommit) -> None:
        check_block_commit(c)
        failpoints.failpoint(failpoints.COMMIT_BEFORE_WRITE)
        self._write(lambda txn: self._fill_block(txn, c))
        failpoints.failpoint(failpoints.COMMIT_AFTER_WRITE)

    def _fill_block(self, txn: _Txn, c: BlockCommit) -> None:
        head_height = self._read_head(txn)[0]
        if c.height != head_height + 1:
            raise HeightMismatch(head_height + 1, c.height)
        self._put_block_records(txn, c)
        failpoints.failpoint(failpoints.COMMIT_AFTER_BLOCK)
        self._put_txs(txn, c)
        self._put_writes(txn, c.height, c.writes)
        failpoints.failpoint(failpoints.COMMIT_AFTER_STATE)
        self._put(txn, "sys", _HEAD_KEY, encode_head(c.height, c.block_hash, c.state_root))

    def _put_block_records(self, txn: _Txn, c: BlockCommit) -> None:
        h = encode_height(c.height)
        for table, value in (
            ("blocks", c.block),
            ("commits", c.commit),
            ("hashes", c.block_hash),
            ("roots", c.state_root),
        ):
            if not self._put(txn, table, h, value, append=True):
                raise CorruptLedger(f"{table} already holds a record above height {c.height - 1}")
        if not self._put(txn, "byhash", c.block_hash, h, overwrite=False):
            other = self._get(txn, "byhash", c.block_hash)
            raise DuplicateBlockHash(c.block_hash, decode_height(other or b"", "byhash"))

    def _put_txs(self, txn: _Txn, c: BlockCommit) -> None:
        # Hot path (two records per tx): the records are built in comprehensions and handed to
        # LMDB in one ``putmulti`` per table, which loops in C; the seal is inlined.
        height, pack, crc = c.height, _LOCATION.pack, zlib.crc32
        seal = _CRC.pack
        locations = [pack(height, index) for index in range(len(c.tx_ids))]
        index_records = [
            (tx_id, seal(crc(loc, crc(tx_id))) + loc)
            for tx_id, loc in zip(c.tx_ids, locations, strict=True)
        ]
        _, added = txn.cursor(db=self._tables["txindex"]).putmulti(index_records, overwrite=False)
        if added != len(index_records):
            self._raise_duplicate_tx(txn, index_records)
        receipt_records = [
            (loc, seal(crc(receipt, crc(loc))) + receipt)
            for loc, receipt in zip(locations, c.receipts, strict=True)
        ]
        _, added = txn.cursor(db=self._tables["receipts"]).putmulti(receipt_records, append=True)
        if added != len(receipt_records):
            raise CorruptLedger(f"receipts already hold a record above height {height - 1}")

    def _raise_duplicate_tx(self, txn: _Txn, index_records: list[tuple[bytes, bytes]]) -> None:
        """A tx id of the block was already committed (``putmulti`` kept its old record): name
        the first one, with where it was committed."""
        for tx_id, sealed in index_records:
            if txn.get(tx_id, db=self._tables["txindex"]) != sealed:
                other = self._get(txn, "txindex", tx_id)
                raise DuplicateTx(tx_id, decode_location(other or b"", "txindex"))
        raise CorruptLedger("txindex: a record was not written, yet every one reads back")

    def _put_writes(
        self, txn: _Txn, height: int, writes: tuple[tuple[bytes, bytes | None], ...]
    ) -> None:
        # Hot path (one or two records per write): as in _put_txs.
        seal, crc, prefix = _CRC.pack, zlib.crc32, _KEY_LENGTH.pack
        h = encode_height(height)
        state_records: list[tuple[bytes, bytes]] = []
        history_records: list[tuple[bytes, bytes]] = []
        deleted: list[bytes] = []
        for key, value in writes:
            if value is None:
                deleted.append(key)
                tagged = _HISTORY_DELETED
            else:
                state_records.append((key, seal(crc(value, crc(key))) + value))
                tagged = _HISTORY_VALUE + value
            history_key = prefix(len(key)) + key + h
            history_records.append((history_key, seal(crc(tagged, crc(history_key))) + tagged))
        state = self._tables["state"]
        for key in deleted:
            txn.delete(key, db=state)
        txn.cursor(db=state).putmulti(state_records)
        txn.cursor(db=self._tables["history"]).putmulti(history_records)

    def put_meta(self, name: str, value: bytes) -> None:
        key = check_meta_name(name)
        check_record(value, "meta value")
        self._write(lambda txn: self._put_meta(txn, key, value))

    def _put_meta(self, txn: _Txn, key: bytes, value: bytes) -> None:
        self._put(txn, "meta", key, value)

    # -- per-block reads -------------------------------------------------------------------

    def height(self) -> int:
        with self._read() as txn:
            return self._read_head(txn)[0]

    def _get_per_height(self, table: str, height: int) -> bytes | None:
        check_height(height)
        if height == 0:
            return None
        with self._read() as txn:
            return self._get(txn, table, encode_height(height))

    def block(self, height: int) -> bytes | None:
        return self._get_per_height("blocks", height)

    def commit(self, height: int) -> bytes | None:
        return self._get_per_height("commits", height)

    def block_hash(self, height: int) -> bytes | None:
        return self._get_per_height("hashes", height)

    def block_height(self, block_hash: bytes) -> int | None:
        check_key(block_hash, "block hash", MAX_HASH_BYTES)
        with self._read() as txn:
            raw = self._get(txn, "byhash", block_hash)
        return None if raw is None else decode_height(raw, "byhash")

    def state_root(self, height: int | None = None) -> bytes | None:
        if height is not None:
            return self._get_per_height("roots", height)
        with self._read() as txn:
            head_height, _, root = self._read_head(txn)
        return root if head_height else None

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
        with self._read() as txn:
            raw = self._get(txn, "txindex", tx_id)
        return None if raw is None else decode_location(raw, "txindex")

    def has_tx(self, tx_id: bytes) -> bool:
        check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
        with self._read() as txn:
            return txn.get(tx_id, db=self._tables["txindex"]) is not None

    def has_txs(self, tx_ids: Sequence[bytes]) -> list[bool]:
        ids = check_tx_ids(tx_ids)
        if not ids:
            return []
        with self._read() as txn:
            get, txindex = txn.get, self._tables["txindex"]
            return [get(tx_id, db=txindex) is not None for tx_id in ids]

    def receipt(self, height: int, index: int) -> bytes | None:
        check_height(height)
        if type(index) is not int or not 0 <= index < MAX_TXS_PER_BLOCK:
            raise InvalidInput(
                f"tx index must be an int in [0, {MAX_TXS_PER_BLOCK}), got {index!r}"
            )
        if height == 0:
            return None
        with self._read() as txn:
            return self._get(txn, "receipts", encode_location(height, index))

    def receipts(self, height: int) -> list[bytes] | None:
        check_height(height)
        with self._read() as txn:
            if not 1 <= height <= self._read_head(txn)[0]:
                return None
            result: list[bytes] = []
            prefix = encode_height(height)
            cursor = txn.cursor(db=self._tables["receipts"])
            found = cursor.set_range(prefix)
            while found and cursor.key().startswith(prefix):
                key, raw = cursor.item()
                result.append(unseal_value(key, raw, "receipts"))
                found = cursor.next()
            return result

    # -- state reads -----------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        check_key(key)
        with self._read() as txn:
            return self._get(txn, "state", key)

    def get_at(self, key: bytes, height: int) -> bytes | None:
        check_key(key)
        check_height(height)
        with self._read() as txn:
            head_height = self._read_head(txn)[0]
            if height > head_height:
                raise InvalidInput(f"height {height} is above the head {head_height}")
            versions = self._seek_versions(txn, key, before_height=height + 1, limit=1)
        return versions[0][1] if versions else None

    def history(
        self, key: bytes, limit: int = 100, before_height: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        check_key(key)
        check_limit(limit, MAX_HISTORY_LIMIT)
        upper = MAX_HEIGHT + 1 if before_height is None else check_height(before_height)
        with self._read() as txn:
            return self._seek_versions(txn, key, before_height=upper, limit=limit)

    def _seek_versions(
        self, txn: _Txn, key: bytes, before_height: int, limit: int
    ) -> list[tuple[int, bytes | None]]:
        """Versions of ``key`` at heights ``< before_height``, newest first: one ``set_range``
        to the first entry at or after ``prefix + before_height``, then step back."""
        result: list[tuple[int, bytes | None]] = []
        if limit == 0:
            return result
        prefix = make_history_prefix(key)
        cursor = txn.cursor(db=self._tables["history"])
        if cursor.set_range(prefix + encode_height(before_height)):
            found = cursor.prev()
        else:
            found = cursor.last()
        while found and len(result) < limit:
            history_key, raw = cursor.item()
            if not history_key.startswith(prefix):
                break
            height = decode_height(history_key[len(prefix) :], "history")
            value = decode_history_value(unseal_value(history_key, raw, "history"))
            result.append((height, value))
            found = cursor.prev()
        return result

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        if type(prefix) is not bytes or len(prefix) > MAX_KEY_BYTES:
            raise InvalidInput(f"prefix must be bytes of at most {MAX_KEY_BYTES}")
        check_limit(limit, MAX_SCAN_LIMIT)
        if start_after is not None:
            check_key(start_after, "start_after")
        result: list[tuple[bytes, bytes]] = []
        if limit == 0:
            return result
        seek = prefix if start_after is None else max(prefix, start_after)
        with self._read() as txn:
            cursor = txn.cursor(db=self._tables["state"])
            found = cursor.set_range(seek) if seek else cursor.first()
            if found and cursor.key() == start_after:
                found = cursor.next()
            while found and len(result) < limit:
                key, raw = cursor.item()
                if not key.startswith(prefix):
                    break
                result.append((key, unseal_value(key, raw, "state")))
                found = cursor.next()
        return result

    # -- metadata --------------------------------------------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        key = check_meta_name(name)
        with self._read() as txn:
            return self._get(txn, "meta", key)

    # -- integrity -------------------------------------------------------------------------

    def check_integrity(self) -> None:
        with self._read() as txn:
            self._check_head(txn)
            height = self._read_head(txn)[0]
            self._check_per_height_tables(txn, height)
            self._check_txs(txn, height)
            self._check_state(txn, height)
            for key, raw in txn.cursor(db=self._tables["meta"]):
                unseal_value(key, raw, "meta")

    def _check_per_height_tables(self, txn: _Txn, height: int) -> None:
        for table in ("blocks", "commits", "hashes", "roots"):
            expected = 1
            for key, raw in txn.cursor(db=self._tables[table]):
                if key != encode_height(expected):
                    raise CorruptLedger(f"{table}: expected height {expected}, found {key.hex()}")
                unseal_value(key, raw, table)
                expected += 1
            if expected != height + 1:
                raise CorruptLedger(f"{table}: ends at {expected - 1}, head is {height}")
        for key, raw in txn.cursor(db=self._tables["byhash"]):
            h = decode_height(unseal_value(key, raw, "byhash"), "byhash")
            if self._get(txn, "hashes", encode_height(h)) != key:
                raise CorruptLedger(f"byhash: {key.hex()} -> {h} disagrees with hashes")

    def _check_txs(self, txn: _Txn, height: int) -> None:
        """Receipts are contiguous per block; the tx index maps 1:1 onto receipts."""
        locations: set[bytes] = set()
        last = (0, -1)
        for key, raw in txn.cursor(db=self._tables["receipts"]):
            h, index = decode_location(key, "receipts")
            expected_index = last[1] + 1 if h == last[0] else 0
            if not 1 <= h <= height or index != expected_index:
                raise CorruptLedger(f"receipts: unexpected (height, index) ({h}, {index})")
            unseal_value(key, raw, "receipts")
            locations.add(key)
            last = (h, index)
        for tx_id, raw in txn.cursor(db=self._tables["txindex"]):
            location = unseal_value(tx_id, raw, "txindex")
            if location not in locations:
                raise CorruptLedger(f"txindex: {tx_id.hex()} points to no receipt")
            locations.discard(location)
        if locations:
            raise CorruptLedger(f"{len(locations)} receipts have no (unique) tx index entry")

    def _check_state(self, txn: _Txn, height: int) -> None:
        """The state table is exactly the latest non-deleted version of every history key."""
        live = 0
        latest: tuple[bytes, bytes | None] | None = None
        for history_key, raw in txn.cursor(db=self._tables["history"]):
            key, h = _split_history_key(history_key)
            if not 1 <= h <= height:
                raise CorruptLedger(f"history: version at height {h}, head is {height}")
            value = decode_history_value(unseal_value(history_key, raw, "history"))
            if latest is not None and latest[0] != key:
                live += self._check_current(txn, *latest)
            latest = (key, value)
        if latest is not None:
            live += self._check_current(txn, *latest)
        entries = txn.stat(self._tables["state"])["entries"]
        if entries != live:
            raise CorruptLedger(f"state holds {entries} keys, history says {live} are live")

    def _check_current(self, txn: _Txn, key: bytes, value: bytes | None) -> int:
        if self._get(txn, "state", key) != value:
            raise CorruptLedger(f"state of {key.hex()[:80]} differs from its latest version")
        return 0 if value is None else 1

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        with self._write_lock, self._gate.exclusive():
            if self._closed:
                return
            self._closed = True
            self._release()

    def _release(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            env.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> LmdbLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self._readonly else "open")
        return f"LmdbLedger({str(self._path)!r}, {state})"


def _split_history_key(history_key: bytes) -> tuple[bytes, int]:
    if len(history_key) < _HISTORY_OVERHEAD_BYTES + 1:
        raise CorruptLedger("history: key too short")
    (length,) = _KEY_LENGTH.unpack_from(history_key)
    if len(history_key) != length + _HISTORY_OVERHEAD_BYTES:
        raise CorruptLedger("history: key length prefix disagrees with the key")
    key = history_key[_KEY_LENGTH.size : _KEY_LENGTH.size + length]
    return key, decode_height(history_key[-_HEIGHT.size :], "history")


def _acquire_writer_lock(lock_path: Path) -> int:
    """Hold an exclusive ``flock`` for the life of the writer; released by the kernel when the
    process dies, so a killed node never leaves a stale lock."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LedgerError(f"ledger {lock_path.parent} is open for writing elsewhere") from None
    return fd


def _check_data_file_length(env: lmdb.Environment, data_file: Path) -> None:
    """Refuse a data file shorter than LMDB's last used page: it was truncated."""
    page_bytes = env.stat()["psize"]
    needed = (env.info()["last_pgno"] + 1) * page_bytes
    actual = data_file.stat().st_size
    if actual < needed:
        raise CorruptLedger(f"{data_file} is {actual} bytes, its pages need {needed}: truncated")
