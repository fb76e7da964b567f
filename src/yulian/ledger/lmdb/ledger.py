"""The LMDB ledger backend: the embedded default.

Introduction
------------
One LMDB environment (a directory holding ``data.mdb`` and ``lock.mdb``) with named tables:

==========  =======================================  ==========================================
table       key                                      value (each sealed, see ``codec.py``)
==========  =======================================  ==========================================
blocks      height (u64 BE)                          encoded block
commits     height                                   encoded commit certificate
hashes      height                                   block hash
roots       height                                   state root after the block
blocktxs    height                                   the block's tx ids (length-prefixed)
byhash      block hash                               height
txindex     tx id                                    height (u64 BE) + index (u32 BE)
receipts    height + index                           encoded receipt
events      cursor: height + tx (u32) + event (u32)  tx id, contract, name, key, payload
evcontract  digest(contract) + cursor                (empty)
evname      digest(contract, name) + cursor          (empty)
state       state key                                current value
history     len(key) (u16 BE) + key + height         0x00 (deleted) | 0x01 + value
meta        UTF-8 name                               caller's bytes
sys         b"format" / b"head" / b"floor"           format tag / head record / floor (u64)
==========  =======================================  ==========================================

Invariant: all records of one block, and the head record naming it, are written in **one** LMDB
write transaction; LMDB commits it atomically (copy-on-write pages, then the meta page) and, with
``sync=True``, durably (fsync before ``commit_block`` returns). A process killed at any point
leaves the previous transaction's snapshot, so a reopened ledger is always at a block boundary.
Below the floor (``maintenance.py``: a pruned ledger, or one installed from a snapshot) the
per-height tables hold only the blocks that were kept; the tx index holds every tx.

Opening checks the format tag and the head against the tables (cheap); ``check_integrity``
checks everything (``integrity.py``). A data file shorter than LMDB's last used page
(truncation) is refused at open, before any page of it is touched (touching it would be a
SIGBUS).

The history key groups all versions of one key together, ordered by height: the value at the end
of block h is one cursor seek to ``prefix + h`` (exact hit) or the entry just before it. The
event indexes group one contract's (or one contract's event name's) cursors together, in
cursor order, so a filtered query reads only matching events (``queries.py``).

Threads: any number of reader threads, one writer at a time (a lock), admitted through a
``Gate`` (``gate.py``). Processes: one writing process per ledger (an ``flock`` on
``writer.lock``); other processes may open it read-only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import lmdb

from yulian.ledger import failpoints
from yulian.ledger.events import EventCursor, EventPage, check_event_query
from yulian.ledger.lmdb import maintenance, queries, writes
from yulian.ledger.lmdb.codec import (
    EMPTY_HEAD,
    FORMAT_TAG,
    HISTORY_OVERHEAD_BYTES,
    OLD_FORMATS,
    Head,
    decode_head,
    decode_height,
    decode_location,
    decode_tx_ids,
    encode_head,
    encode_height,
    encode_location,
    seal_value,
    translate_lmdb_error,
    unseal_value,
)
from yulian.ledger.lmdb.files import acquire_writer_lock, check_data_file_length, copy_environment
from yulian.ledger.lmdb.gate import Gate, Reading, Txn
from yulian.ledger.lmdb.integrity import check_tables
from yulian.ledger.maintenance import PruneReport, SnapshotBase, Version, VersionReader
from yulian.ledger.store import BlockCommit, check_block_commit
from yulian.ledger.validate import (
    MAX_HASH_BYTES,
    MAX_HEIGHT,
    MAX_HISTORY_LIMIT,
    MAX_KEY_BYTES,
    MAX_TX_ID_BYTES,
    CorruptLedger,
    HeightMismatch,
    InvalidInput,
    LedgerClosed,
    LedgerError,
    LedgerFull,
    Pruned,
    UnsupportedFormat,
    check_height,
    check_key,
    check_limit,
    check_meta_name,
    check_record,
    check_scan,
    check_tx_ids,
    check_tx_index,
    check_windows,
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
MAX_TABLES = 32

_FORMAT_KEY = b"format"
_HEAD_KEY = b"head"
_FLOOR_KEY = b"floor"
_WRITER_LOCK_FILE = "writer.lock"

TABLE_NAMES = (
    "blocks",
    "commits",
    "hashes",
    "roots",
    "blocktxs",
    "byhash",
    "txindex",
    "receipts",
    "events",
    "evcontract",
    "evname",
    "state",
    "history",
    "meta",
    "sys",
)
#: Tables holding exactly one entry per committed height.
PER_HEIGHT_TABLES = ("blocks", "commits", "hashes", "roots", "blocktxs", "byhash")


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
        self._gate = Gate()
        self._closed = False
        self._lock_fd: int | None = None
        if readonly:
            if not (self._path / "data.mdb").is_file():
                raise LedgerError(f"no ledger at {self._path}")
        else:
            self._path.mkdir(parents=True, exist_ok=True)
            self._lock_fd = acquire_writer_lock(self._path / _WRITER_LOCK_FILE)
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
            check_data_file_length(env, self._path / "data.mdb")
            if env.max_key_size() < MAX_KEY_BYTES + HISTORY_OVERHEAD_BYTES:
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
            foreign = names - {name.encode() for name in TABLE_NAMES}
            if foreign:
                raise CorruptLedger(f"{self._path} holds tables of something else: {foreign}")
            if b"sys" in names:
                self._refuse_old_format()
            for name in TABLE_NAMES:
                tables[name] = self._env.open_db(name.encode(), create=not self._readonly)
        except lmdb.NotFoundError as exc:
            raise LedgerError(f"{self._path} is not a ledger (missing table)") from exc
        except lmdb.Error as exc:
            raise translate_lmdb_error(exc) from exc
        return tables

    def _refuse_old_format(self) -> None:
        """Refuse a ledger of an older format before any table is created in it."""
        sys_table = self._env.open_db(b"sys", create=False)
        with self._env.begin() as txn:
            raw = txn.get(_FORMAT_KEY, db=sys_table)
        tag = None if raw is None else unseal_value(_FORMAT_KEY, raw, "sys")
        if tag in OLD_FORMATS:
            raise UnsupportedFormat(
                f"{self._path} holds a ledger of format {tag!r}; this release reads "
                f"{FORMAT_TAG!r}: {OLD_FORMATS[tag]}"
            )

    def _check_format_and_head(self) -> None:
        """Write the format tag into a new ledger; check tag and head of an existing one."""
        with self._read() as txn:
            tag = self._get(txn, "sys", _FORMAT_KEY)
            empty = all(txn.stat(self._tables[t])["entries"] == 0 for t in TABLE_NAMES)
        if tag is None and empty and not self._readonly:
            self._write(lambda txn: self._put(txn, "sys", _FORMAT_KEY, FORMAT_TAG))
        elif tag != FORMAT_TAG:
            raise CorruptLedger(f"{self._path}: unknown ledger format {tag!r}")
        with self._read() as txn:
            self._check_head(txn)

    def _check_head(self, txn: Txn) -> None:
        """Check the head against the per-height tables: O(1) reads, done at every open."""
        height, block_hash, state_root, _ = self._read_head(txn)
        floor = self._read_floor(txn)
        counts = {t: txn.stat(self._tables[t])["entries"] for t in PER_HEIGHT_TABLES}
        entries = counts["blocks"]
        if len(set(counts.values())) != 1 or not height - floor + 1 <= entries <= height:
            raise CorruptLedger(f"per-height tables hold {counts}, head {height}, floor {floor}")
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

    def _read(self) -> Reading:
        """A read-only snapshot (``with self._read() as txn``); LMDB errors come out as ledger
        errors."""
        return Reading(self)

    def _begin_read(self) -> Txn:
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

    def _write(self, fill: Callable[[Txn], object]) -> None:
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

    def _write_once(self, fill: Callable[[Txn], object]) -> None:
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

    def _get(self, txn: Txn, table: str, key: bytes) -> bytes | None:
        raw = txn.get(key, db=self._tables[table])
        return None if raw is None else unseal_value(key, raw, table)

    def _put(self, txn: Txn, table: str, key: bytes, value: bytes, **flags: bool) -> bool:
        stored: bool = txn.put(key, seal_value(key, value), db=self._tables[table], **flags)
        return stored

    def _read_head(self, txn: Txn) -> Head:
        raw = self._get(txn, "sys", _HEAD_KEY)
        return EMPTY_HEAD if raw is None else decode_head(raw)

    def _read_floor(self, txn: Txn) -> int:
        raw = self._get(txn, "sys", _FLOOR_KEY)
        return 1 if raw is None else decode_height(raw, "sys")

    # -- writes ----------------------------------------------------------------------------

    def commit_block(self, c: BlockCommit) -> None:
        check_block_commit(c)
        failpoints.failpoint(failpoints.COMMIT_BEFORE_WRITE)
        self._write(lambda txn: self._fill_block(txn, c))
        failpoints.failpoint(failpoints.COMMIT_AFTER_WRITE)

    def _fill_block(self, txn: Txn, c: BlockCommit) -> None:
        head_height = self._read_head(txn).height
        if c.height != head_height + 1:
            raise HeightMismatch(head_height + 1, c.height)
        writes.put_block_records(txn, self._tables, c)
        failpoints.failpoint(failpoints.COMMIT_AFTER_BLOCK)
        writes.put_txs(txn, self._tables, c)
        writes.put_events(txn, self._tables, c)
        writes.put_state(txn, self._tables, c.height, c.writes)
        failpoints.failpoint(failpoints.COMMIT_AFTER_STATE)
        head = Head(c.height, c.block_hash, c.state_root, c.state_sum)
        self._put(txn, "sys", _HEAD_KEY, encode_head(head))

    def put_meta(self, name: str, value: bytes) -> None:
        key = check_meta_name(name)
        check_record(value, "meta value")
        self._write(lambda txn: self._put_meta(txn, key, value))

    def _put_meta(self, txn: Txn, key: bytes, value: bytes) -> None:
        self._put(txn, "meta", key, value)

    # -- per-block reads -------------------------------------------------------------------

    def height(self) -> int:
        with self._read() as txn:
            return self._read_head(txn).height

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
            head = self._read_head(txn)
        return head.state_root if head.height else None

    def state_sum(self) -> bytes | None:
        with self._read() as txn:
            head = self._read_head(txn)
        return head.state_sum if head.height else None

    def floor(self) -> int:
        with self._read() as txn:
            return self._read_floor(txn)

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
        check_tx_index(index)
        if height == 0:
            return None
        with self._read() as txn:
            return self._get(txn, "receipts", encode_location(height, index))

    def receipts(self, height: int) -> list[bytes] | None:
        check_height(height)
        with self._read() as txn:
            if height == 0 or txn.get(encode_height(height), db=self._tables["blocks"]) is None:
                return None  # above the head, or below the floor and not kept
            return queries.receipts_of(txn, self._tables, height)

    def tx_ids(self, height: int) -> list[bytes] | None:
        raw = self._get_per_height("blocktxs", height)
        return None if raw is None else decode_tx_ids(raw)

    def events(
        self,
        after: EventCursor | tuple[int, int, int] | None = None,
        limit: int = 100,
        *,
        contract: str | None = None,
        name: str | None = None,
        key_prefix: bytes = b"",
        payload_prefix: bytes = b"",
        scan_limit: int = 10_000,
    ) -> EventPage:
        cursor, wanted = check_event_query(
            after, limit, scan_limit, contract, name, key_prefix, payload_prefix
        )
        with self._read() as txn:
            head, floor = self._read_head(txn).height, self._read_floor(txn)
            if floor > 1 and (cursor is None or cursor < EventCursor.before(floor)):
                raise Pruned("events", 0 if cursor is None else cursor.height, floor)
            return queries.query_events(txn, self._tables, head, cursor, wanted, limit, scan_limit)

    # -- state reads -----------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        check_key(key)
        with self._read() as txn:
            return self._get(txn, "state", key)

    def get_at(self, key: bytes, height: int) -> bytes | None:
        check_key(key)
        check_height(height)
        with self._read() as txn:
            head_height, floor = self._read_head(txn).height, self._read_floor(txn)
            if height > head_height:
                raise InvalidInput(f"height {height} is above the head {head_height}")
            if floor > 1 and height < floor:
                raise Pruned("state", height, floor)
            versions = queries.seek_versions(txn, self._tables, key, height + 1, limit=1)
        return versions[0][1] if versions else None

    def history(
        self, key: bytes, limit: int = 100, before_height: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        check_key(key)
        check_limit(limit, MAX_HISTORY_LIMIT)
        upper = MAX_HEIGHT + 1 if before_height is None else check_height(before_height)
        with self._read() as txn:
            return queries.seek_versions(txn, self._tables, key, upper, limit)

    def oldest_in_window(
        self, windows: Sequence[tuple[bytes, int]]
    ) -> list[tuple[int, bytes | None] | None]:
        """``roots.WindowView``: a block's state-root reads in one read transaction."""
        check_windows(windows)
        with self._read() as txn:
            return queries.oldest_in_window(txn, self._tables, windows)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        check_scan(prefix, limit, start_after)
        with self._read() as txn:
            return queries.scan_state(txn, self._tables, prefix, limit, start_after, True)

    def scan_keys(self, prefix: bytes, limit: int, start_after: bytes | None = None) -> list[bytes]:
        check_scan(prefix, limit, start_after)
        with self._read() as txn:
            return queries.scan_state(txn, self._tables, prefix, limit, start_after, False)

    # -- metadata --------------------------------------------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        key = check_meta_name(name)
        with self._read() as txn:
            return self._get(txn, "meta", key)

    # -- integrity -------------------------------------------------------------------------

    def check_integrity(self) -> None:
        with self._read() as txn:
            self._check_head(txn)
            head, floor = self._read_head(txn), self._read_floor(txn)
            check_tables(txn, self._tables, head.height, floor, self._get)

    # -- maintenance (``ledger/maintenance.py``) -------------------------------------------

    def read_versions(self) -> AbstractContextManager[VersionReader]:
        return maintenance.VersionReading(self)

    def install_snapshot(self, base: SnapshotBase, versions: Iterable[Version]) -> None:
        maintenance.install(self, base, versions)

    def prune(
        self, below: int, keep_heights: Collection[int], window: Callable[[bytes], int]
    ) -> PruneReport:
        return maintenance.prune(self, below, keep_heights, window)

    def backup(self, directory: Path) -> None:
        """A consistent copy of the ledger into ``directory`` (empty), while it runs."""
        with self._read() as txn:
            copy_environment(self._env, directory, txn)

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
