"""The PostgreSQL ledger backend: the same ``Ledger``, in a database the operators can query.

Introduction
------------
One schema of one PostgreSQL database holds one node's ledger (``schema.py``), with the views
operators read (``views.py``). The writer has its own connection; readers take one from a
small pool, so API reads never queue behind a commit.

Invariant: ``commit_block`` writes every row of the block — block, tx index and receipts,
events, state and history — and moves the head, in **one** database transaction; PostgreSQL
commits it atomically and, with ``sync=True``, durably (``synchronous_commit = on``: the WAL is
flushed before the commit returns). A node killed at any moment leaves the server to roll the
open transaction back, so the ledger is always at a block boundary. Every read is one
statement (one snapshot) or runs in one ``REPEATABLE READ`` read-only transaction.

One writing process per ledger: the writer holds a session advisory lock on the schema's name
for its life; the server releases it when the session ends, also when the process is killed.
Other processes may open the ledger read-only.

The server may go away (restart, failover, a network blip) without the node stopping: the
writer reconnects within ``reconnect_s`` (``writer.py``), and a commit whose outcome the dropped
session never reported is resolved from the head the server kept: the block is there (done),
or the head is one below (write it again) — never lost, never twice. Readers come from a pool
that checks each connection before lending it; while the server is down, reads fail fast with
``LedgerUnavailable``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from yulian.ledger import failpoints
from yulian.ledger.events import EventCursor, EventPage, check_event_query
from yulian.ledger.maintenance import PruneReport, SnapshotBase, Version, VersionReader
from yulian.ledger.postgres import maintenance, queries
from yulian.ledger.postgres.schema import CREATE_TABLES, FORMAT_TAG, OLD_FORMATS, TABLES
from yulian.ledger.postgres.views import CREATE_VIEWS, create_functions_sql, quote
from yulian.ledger.postgres.writer import (
    DEFAULT_RECONNECT_S,
    WriterSession,
    is_lost,
    resolve_after_reconnect,
)
from yulian.ledger.store import BlockCommit, check_block_commit
from yulian.ledger.validate import (
    MAX_HASH_BYTES,
    MAX_HISTORY_LIMIT,
    MAX_TX_ID_BYTES,
    CorruptLedger,
    DuplicateBlockHash,
    DuplicateTx,
    HeightMismatch,
    InvalidInput,
    LedgerClosed,
    LedgerError,
    LedgerFull,
    LedgerUnavailable,
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

__all__ = ["DEFAULT_SCHEMA", "MAX_READERS", "PostgresLedger"]

DEFAULT_SCHEMA = "yulian"
#: Reader connections kept by one ledger.
MAX_READERS = 8
#: How long opening waits for the writer lock: a killed writer's session may take a moment to
#: end on the server.
DEFAULT_LOCK_WAIT_S = 10.0
#: How long a read waits for a free reader connection before it fails.
READ_WAIT_S = 30.0
#: ... and while the server is known to be unreachable: answer soon that it is.
DOWN_READ_WAIT_S = 2.0
#: How long the reader pool retries a lost connection in the background before it gives up
#: (the next read starts a new attempt at once).
READER_RECONNECT_S = 10.0
_SCHEMA_NAME_MAX = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)


def check_schema(schema: object) -> str:
    """A schema name: 1..63 characters of ``[a-z0-9_]``, not starting with a digit (no quoting
    surprises in operators' SQL)."""
    if (
        type(schema) is not str
        or not 1 <= len(schema) <= _SCHEMA_NAME_MAX
        or not all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in schema)
        or schema[0].isdigit()
        or schema.startswith("pg_")
    ):
        raise InvalidInput(f"schema must be 1..63 of [a-z0-9_], not pg_*, got {schema!r}")
    return schema


log = logging.getLogger("yulian.ledger.postgres")


def _translate(exc: psycopg.Error, conn: psycopg.Connection[Any] | None = None) -> LedgerError:
    if isinstance(exc, pg_errors.DiskFull | pg_errors.OutOfMemory):
        return LedgerFull(f"PostgreSQL: {exc}")
    if isinstance(exc, pg_errors.DataCorrupted | pg_errors.IndexCorrupted):
        return CorruptLedger(f"PostgreSQL reports corruption: {exc}")
    if isinstance(exc, pg_errors.CannotConnectNow) or (
        isinstance(exc, psycopg.OperationalError) and is_lost(conn, exc)
    ):
        return LedgerUnavailable(f"PostgreSQL unavailable: {exc}")
    return LedgerError(f"PostgreSQL: {exc}")


class PostgresLedger:
    """A ``Ledger`` in schema ``schema`` of the database at ``dsn`` (created if missing)."""

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        sync: bool = True,
        readonly: bool = False,
        lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
        reconnect_s: float = DEFAULT_RECONNECT_S,
    ) -> None:
        if type(dsn) is not str or not dsn:
            raise InvalidInput("dsn must be a non-empty connection string")
        self._schema = check_schema(schema)
        self._readonly = readonly
        self._closed = False
        self._write_lock = threading.Lock()
        self._writer: WriterSession | None = None
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._down_since: float | None = None  # monotonic; None: the server answers
        try:
            if not readonly:
                self._writer = WriterSession(
                    dsn, self._schema, sync=sync, lock_wait_s=lock_wait_s, reconnect_s=reconnect_s
                )
                self._create_or_check_schema(self._writer.connection())
            self._pool = ConnectionPool(
                dsn,
                min_size=1,
                max_size=MAX_READERS,
                kwargs={"autocommit": True},
                configure=self._configure_reader,
                check=self._check_reader,
                reconnect_timeout=READER_RECONNECT_S,
                reconnect_failed=lambda _pool: self._mark_down(),
                timeout=READ_WAIT_S,
                open=False,
                name=f"ledger-{schema}",
            )
            self._pool.open(wait=True, timeout=READ_WAIT_S)
            with self._reading() as conn:
                if readonly and not queries.has_table(conn, self._schema, "ledger"):
                    raise LedgerError(f"no ledger in schema {schema!r}")
                self._check_format(conn)
                with conn.transaction():
                    queries.check_head(conn)
        except BaseException:
            self._release()
            raise

    # -- connections -----------------------------------------------------------------------

    def _configure_reader(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f"SET search_path = {quote(self._schema)}")
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True

    def _create_or_check_schema(self, conn: psycopg.Connection[Any]) -> None:
        """Create the schema, tables, functions and views in a new ledger (one transaction);
        refuse a schema that holds something else."""
        with conn.transaction():
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self._schema)}")
            present = queries.tables_of(conn, self._schema)
            if not present:
                conn.execute(CREATE_TABLES)
                conn.execute(
                    "INSERT INTO ledger (name, value) VALUES ('format', %s)", (FORMAT_TAG,)
                )
                conn.execute(create_functions_sql(self._schema))
                conn.execute(CREATE_VIEWS)
            elif "ledger" not in present:
                raise CorruptLedger(
                    f"schema {self._schema!r} holds tables of something else: {sorted(present)}"
                )
            elif set(TABLES) - present:
                raise CorruptLedger(f"schema {self._schema!r} lacks {set(TABLES) - present}")

    def _check_format(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute("SELECT value FROM ledger WHERE name = 'format'").fetchone()
        tag = None if row is None else row[0]
        if tag != FORMAT_TAG:
            advice = OLD_FORMATS.get(str(tag), "it was written by another release")
            raise UnsupportedFormat(
                f"schema {self._schema!r} holds a ledger of format {tag!r}; this release "
                f"reads {FORMAT_TAG!r}: {advice}"
            )

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A reader connection (autocommit: each statement is one snapshot; ``transaction()``
        gives a repeatable-read snapshot for several); errors come out as ledger errors."""
        if self._closed or self._pool is None:
            raise LedgerClosed(f"ledger {self._schema!r} is closed")
        conn = self._lend(self._pool)
        try:
            with conn:  # as the pool's own context: the transaction ends, errors roll back
                yield conn
        except psycopg.Error as exc:
            error = _translate(exc, conn)
            if isinstance(error, LedgerUnavailable):
                self._mark_down()
            raise error from exc
        finally:
            self._pool.putconn(conn)  # a broken one is dropped and replaced

    def _lend(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> psycopg.Connection[Any]:
        """A live reader. The first ``DOWN_READ_WAIT_S`` tell an unreachable server (answer
        ``LedgerUnavailable`` now) from a busy pool (wait up to ``READ_WAIT_S`` in all)."""
        try:
            conn = pool.getconn(timeout=DOWN_READ_WAIT_S)
        except PoolTimeout as exc:
            if self._down_since is not None:
                down_s = time.monotonic() - self._down_since
                raise LedgerUnavailable(f"PostgreSQL unreachable for {down_s:.0f} s") from exc
            try:
                conn = pool.getconn(timeout=READ_WAIT_S - DOWN_READ_WAIT_S)
            except PoolTimeout as exc2:
                if self._down_since is not None:
                    raise LedgerUnavailable("PostgreSQL unreachable") from exc2
                raise LedgerError(f"no reader connection within {READ_WAIT_S} s") from exc2
        self._down_since = None
        return conn

    def _check_reader(self, conn: psycopg.Connection[Any]) -> None:
        """Before lending a reader: is it alive? (After a server restart the pooled ones are
        dead; the pool drops them and connects anew.)"""
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            self._mark_down()
            raise

    def _mark_down(self) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()

    # -- writes ----------------------------------------------------------------------------

    def commit_block(self, c: BlockCommit) -> None:
        check_block_commit(c)
        failpoints.failpoint(failpoints.COMMIT_BEFORE_WRITE)
        with self._write_lock:
            writer = self._writable()
            deadline: float | None = None  # reconnect_s from the first lost session
            maybe_committed = False  # a COMMIT was sent and its answer lost
            while True:
                conn = writer.connection(deadline)
                sent = [False]
                try:
                    self._write_once(conn, c, sent)
                    break
                except psycopg.Error as exc:
                    if not is_lost(conn, exc):
                        raise _translate(exc, conn) from exc
                    self._mark_down()
                    maybe_committed = maybe_committed or sent[0]
                    log.warning(
                        "ledger %r: writer session lost during block %d (%s): %s",
                        self._schema,
                        c.height,
                        "outcome unknown" if sent[0] else "not committed",
                        exc,
                    )
                if deadline is None:
                    deadline = time.monotonic() + writer.reconnect_s
                if resolve_after_reconnect(writer.reconnect(deadline), c, maybe_committed):
                    break
        failpoints.failpoint(failpoints.COMMIT_AFTER_WRITE)

    def _write_once(self, conn: psycopg.Connection[Any], c: BlockCommit, sent: list[bool]) -> None:
        """One attempt in one transaction; ``sent[0]`` is set once COMMIT may have been sent."""
        try:
            with conn.transaction():
                self._fill_block(conn, c)
                sent[0] = True  # leaving the block sends COMMIT
        except pg_errors.UniqueViolation as exc:
            raise self._duplicate(conn, c, exc) from None

    def _fill_block(self, conn: psycopg.Connection[Any], c: BlockCommit) -> None:
        head = queries.lock_head(conn)
        if c.height != head + 1:
            raise HeightMismatch(head + 1, c.height)
        queries.insert_block(conn, c)
        failpoints.failpoint(failpoints.COMMIT_AFTER_BLOCK)
        queries.insert_txs(conn, c)
        queries.insert_events(conn, c)
        queries.write_state(conn, c)
        failpoints.failpoint(failpoints.COMMIT_AFTER_STATE)
        queries.move_head(conn, c)

    def _duplicate(
        self, conn: psycopg.Connection[Any], c: BlockCommit, exc: pg_errors.UniqueViolation
    ) -> LedgerError:
        """Name what a unique violation (the transaction is rolled back) was about."""
        constraint = exc.diag.constraint_name or ""
        try:
            if constraint == "blocks_hash_key":
                row = conn.execute(
                    "SELECT height FROM blocks WHERE hash = %s", (c.block_hash,)
                ).fetchone()
                return DuplicateBlockHash(c.block_hash, -1 if row is None else row[0])
            if constraint == "txs_pkey":
                found = queries.tx_locations(conn, c.tx_ids)
                first = next((t for t in c.tx_ids if t in found), None)
                if first is not None:
                    return DuplicateTx(first, found[first])
        except psycopg.Error as lookup_error:
            return _translate(lookup_error)
        return CorruptLedger(f"unexpected unique violation ({constraint}): {exc}")

    def put_meta(self, name: str, value: bytes) -> None:
        key = check_meta_name(name).decode("utf-8")
        check_record(value, "meta value")
        with self._write_lock:
            writer = self._writable()
            for attempt in (1, 2):  # an upsert: safe to repeat on a new session
                conn = writer.connection()
                try:
                    conn.execute(
                        "INSERT INTO meta (name, value) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                        (key, value),
                    )
                    return
                except psycopg.Error as exc:
                    if attempt == 2 or not is_lost(conn, exc):
                        raise _translate(exc, conn) from exc

    def _writable(self) -> WriterSession:
        if self._closed or self._writer is None:
            state = "closed" if self._closed else "read-only"
            raise LedgerClosed(f"ledger {self._schema!r} is {state}")
        return self._writer

    # -- per-block reads -------------------------------------------------------------------

    def height(self) -> int:
        with self._reading() as conn:
            return queries.head_height(conn)

    def _per_height(self, column: str, height: int) -> bytes | None:
        check_height(height)
        if not 1 <= height <= queries.PG_MAX_HEIGHT:
            return None
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {column} FROM blocks WHERE height = %s", (height,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def block(self, height: int) -> bytes | None:
        return self._per_height("block", height)

    def commit(self, height: int) -> bytes | None:
        return self._per_height("commit", height)

    def block_hash(self, height: int) -> bytes | None:
        return self._per_height("hash", height)

    def block_height(self, block_hash: bytes) -> int | None:
        check_key(block_hash, "block hash", MAX_HASH_BYTES)
        with self._reading() as conn:
            row = conn.execute(
                "SELECT height FROM blocks WHERE hash = %s", (block_hash,)
            ).fetchone()
        return None if row is None else int(row[0])

    def state_root(self, height: int | None = None) -> bytes | None:
        if height is not None:
            return self._per_height("state_root", height)
        with self._reading() as conn:
            row = conn.execute("SELECT height, state_root FROM head").fetchone()
        return bytes(row[1]) if row and row[0] else None

    def state_sum(self) -> bytes | None:
        with self._reading() as conn:
            row = conn.execute("SELECT height, state_sum FROM head").fetchone()
        return bytes(row[1]) if row and row[0] else None

    def floor(self) -> int:
        with self._reading() as conn:
            return queries.head_floor(conn)[1]

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
        with self._reading() as conn:
            return queries.tx_locations(conn, (tx_id,)).get(tx_id)

    def has_tx(self, tx_id: bytes) -> bool:
        return self.tx_location(tx_id) is not None

    def has_txs(self, tx_ids: Sequence[bytes]) -> list[bool]:
        ids = check_tx_ids(tx_ids)
        if not ids:
            return []
        with self._reading() as conn:
            found = queries.tx_locations(conn, ids)
        return [tx_id in found for tx_id in ids]

    def receipt(self, height: int, index: int) -> bytes | None:
        check_height(height)
        check_tx_index(index)
        if not 1 <= height <= queries.PG_MAX_HEIGHT:
            return None
        with self._reading() as conn:
            row = conn.execute(
                "SELECT receipt FROM txs WHERE height = %s AND tx_index = %s", (height, index)
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def receipts(self, height: int) -> list[bytes] | None:
        return self._block_txs("receipt", height)

    def tx_ids(self, height: int) -> list[bytes] | None:
        return self._block_txs("tx_id", height)

    def _block_txs(self, column: str, height: int) -> list[bytes] | None:
        check_height(height)
        if not 1 <= height <= queries.PG_MAX_HEIGHT:
            return None
        with self._reading() as conn:
            return queries.block_txs(conn, column, height)

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
        with self._reading() as conn, conn.transaction():
            floor = queries.head_floor(conn)[1]
            if floor > 1 and (cursor is None or cursor < EventCursor.before(floor)):
                raise Pruned("events", 0 if cursor is None else cursor.height, floor)
            return queries.query_events(conn, cursor, wanted, limit, scan_limit)

    # -- state reads -----------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        check_key(key)
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM state WHERE key = %s", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def get_at(self, key: bytes, height: int) -> bytes | None:
        check_key(key)
        check_height(height)
        with self._reading() as conn:
            head, floor, value = queries.value_at(conn, key, height)
        if height > head:
            raise InvalidInput(f"height {height} is above the head {head}")
        if floor > 1 and height < floor:
            raise Pruned("state", height, floor)
        return value

    def history(
        self, key: bytes, limit: int = 100, before_height: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        check_key(key)
        check_limit(limit, MAX_HISTORY_LIMIT)
        if before_height is not None:
            check_height(before_height)
        if limit == 0:
            return []
        with self._reading() as conn:
            return queries.versions(conn, key, limit, before_height)

    def oldest_in_window(
        self, windows: Sequence[tuple[bytes, int]]
    ) -> list[tuple[int, bytes | None] | None]:
        """``roots.WindowView``: a block's state-root reads in one statement."""
        check_windows(windows)
        with self._reading() as conn:
            return queries.oldest_in_window(conn, windows)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        check_scan(prefix, limit, start_after)
        if limit == 0:
            return []
        with self._reading() as conn:
            rows = queries.scan_state(conn, prefix, limit, start_after, with_values=True)
        return [(bytes(k), bytes(v)) for k, v in rows]

    def scan_keys(self, prefix: bytes, limit: int, start_after: bytes | None = None) -> list[bytes]:
        check_scan(prefix, limit, start_after)
        if limit == 0:
            return []
        with self._reading() as conn:
            rows = queries.scan_state(conn, prefix, limit, start_after, with_values=False)
        return [bytes(k) for (k,) in rows]

    # -- metadata, integrity ---------------------------------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        key = check_meta_name(name).decode("utf-8")
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE name = %s", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def check_integrity(self) -> None:
        with self._reading() as conn, conn.transaction():
            queries.check_head(conn)
            queries.check_tables(conn)

    # -- maintenance (``ledger/maintenance.py``) -------------------------------------------

    def read_versions(self) -> AbstractContextManager[VersionReader]:
        return maintenance.read_versions(self._reading)

    def install_snapshot(self, base: SnapshotBase, versions: Iterable[Version]) -> None:
        with self._write_lock:
            conn = self._writable().connection()
            try:
                maintenance.install(conn, base, versions)
            except pg_errors.UniqueViolation as exc:
                raise InvalidInput(f"a snapshot repeats a record: {exc}") from None
            except psycopg.Error as exc:
                raise _translate(exc, conn) from exc

    def prune(
        self, below: int, keep_heights: Collection[int], window: Callable[[bytes], int]
    ) -> PruneReport:
        with self._write_lock:
            conn = self._writable().connection()
            try:
                return maintenance.prune(conn, below, keep_heights, window)
            except psycopg.Error as exc:
                raise _translate(exc, conn) from exc

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def schema(self) -> str:
        return self._schema

    @property
    def reconnects(self) -> int:
        """How often the writer's session was re-established after the server went away."""
        return 0 if self._writer is None else self._writer.reconnects

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._release()

    def _release(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._writer is not None:
            self._writer.close()  # ends the session: the server frees the writer lock

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self._readonly else "open")
        return f"PostgresLedger(schema={self._schema!r}, {state})"
