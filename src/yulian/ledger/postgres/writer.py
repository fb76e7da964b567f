"""The PostgreSQL ledger's one writing session, and how it comes back after the server went away.

Introduction
------------
A ledger has exactly one writer: a session that holds the schema's advisory lock for its life.
When the server restarts, fails over or the network drops the session, ``WriterSession``
connects again with a bounded, logged back-off (``reconnect_s`` in all from the first failure),
takes the lock again, re-applies its session settings and re-checks the head before anything
is written.

Invariant: never two writers. The lock is the fence: the new session writes only once it holds
the lock, and it gets the lock only after the old session has ended on the server — with it, any
transaction the old session left open (committed or rolled back, never in between). If the lock
is held by this writer's own old session (the server has not noticed the dropped connection
yet), that session is ended (``pg_terminate_backend``); if it is held by any other session,
another process writes this ledger now, and this one refuses for good.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from yulian.ledger.postgres import queries
from yulian.ledger.postgres.views import quote
from yulian.ledger.store import BlockCommit
from yulian.ledger.validate import CorruptLedger, LedgerClosed, LedgerError, LedgerUnavailable

__all__ = [
    "DEFAULT_RECONNECT_S",
    "MAX_RECONNECT_S",
    "WriterSession",
    "is_lost",
    "lock_key",
    "resolve_after_reconnect",
]

log = logging.getLogger("yulian.ledger.postgres")

#: How long a writer keeps trying to reach the server again before the write fails.
DEFAULT_RECONNECT_S = 60.0
MAX_RECONNECT_S = 3600.0
#: The back-off between attempts: the first, the factor, the longest.
RETRY_FIRST_S = 0.1
RETRY_FACTOR = 2.0
RETRY_MAX_S = 5.0
#: libpq's connect_timeout while reconnecting (seconds; libpq treats 1 as 2).
CONNECT_TIMEOUT_S = 5


def lock_key(schema: str) -> int:
    """The advisory lock id of a ledger: a signed 64-bit number named after its schema."""
    digest = hashlib.sha256(b"yulian-ledger:" + schema.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def is_lost(conn: psycopg.Connection[Any] | None, exc: BaseException | None = None) -> bool:
    """Whether the session is gone (server restarted, backend terminated, network dropped), as
    opposed to a statement that failed on a live session."""
    if conn is None or conn.closed or conn.broken:
        return True
    return isinstance(exc, pg_errors.AdminShutdown | pg_errors.CrashShutdown)


class WriterSession:
    """The writer's connection; ``connection()`` hands out a live one, reconnecting if needed."""

    def __init__(
        self, dsn: str, schema: str, *, sync: bool, lock_wait_s: float, reconnect_s: float
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._sync = sync
        self._lock_wait_s = lock_wait_s
        self.reconnect_s = reconnect_s
        self._conn: psycopg.Connection[Any] | None = None
        self._backend: tuple[int, object] | None = None  # (pid, backend_start) of our session
        self._fenced: str | None = None  # why this writer may never write again
        self.reconnects = 0
        self._conn = self._open(connect_timeout=None, check_head=False)

    def connection(self, deadline: float | None = None) -> psycopg.Connection[Any]:
        """A live session holding the lock. If the session is lost, connect again until
        ``deadline`` (monotonic; default ``reconnect_s`` from now), then raise
        ``LedgerUnavailable``."""
        if self._fenced is not None:
            raise LedgerClosed(self._fenced)
        if self._conn is not None and not is_lost(self._conn):
            return self._conn
        return self.reconnect(time.monotonic() + self.reconnect_s if deadline is None else deadline)

    def reconnect(self, deadline: float) -> psycopg.Connection[Any]:
        """Drop the current session and open a new one, with back-off, until ``deadline``."""
        self.drop()
        delay = RETRY_FIRST_S
        attempt = 0
        while True:
            attempt += 1
            try:
                self._conn = self._open(connect_timeout=CONNECT_TIMEOUT_S, check_head=True)
            except LedgerUnavailable as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.error(
                        "ledger %r: PostgreSQL unreachable after %d attempts over %.0f s: %s",
                        self._schema,
                        attempt,
                        self.reconnect_s,
                        exc,
                    )
                    raise LedgerUnavailable(
                        f"ledger {self._schema!r}: PostgreSQL unreachable for "
                        f"{self.reconnect_s:g} s (reconnect_s): {exc}"
                    ) from None
                log.warning(
                    "ledger %r: PostgreSQL unreachable (attempt %d, next in %.1f s): %s",
                    self._schema,
                    attempt,
                    min(delay, left),
                    exc,
                )
                time.sleep(min(delay, left))
                delay = min(delay * RETRY_FACTOR, RETRY_MAX_S)
                continue
            self.reconnects += 1
            log.warning(
                "ledger %r: writer reconnected to PostgreSQL (attempt %d), head %d",
                self._schema,
                attempt,
                queries.head_height(self._conn),
            )
            return self._conn

    def _open(self, *, connect_timeout: int | None, check_head: bool) -> psycopg.Connection[Any]:
        """Connect, take the writer lock, apply the session settings and (on a reconnect: the
        ledger exists) check the head. Connection failures are ``LedgerUnavailable``."""
        extra: dict[str, Any] = (
            {} if connect_timeout is None else {"connect_timeout": connect_timeout}
        )
        try:
            conn = psycopg.connect(self._dsn, autocommit=True, **extra)
        except psycopg.Error as exc:
            raise LedgerUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            self._take_lock(conn)
            conn.execute(f"SET synchronous_commit = {'on' if self._sync else 'off'}")
            conn.execute(f"SET search_path = {quote(self._schema)}")
            row = conn.execute(
                "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            ).fetchone()
            self._backend = None if row is None else (int(row[0]), row[1])
            if check_head:
                with conn.transaction():
                    queries.check_head(conn)
        except psycopg.Error as exc:
            conn.close()
            if is_lost(conn, exc):
                raise LedgerUnavailable(f"PostgreSQL dropped the new session: {exc}") from exc
            raise LedgerError(f"PostgreSQL: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _take_lock(self, conn: psycopg.Connection[Any]) -> None:
        """Take the schema's advisory lock, waiting up to ``lock_wait_s``; end our own stale
        session if it still holds it; refuse (for good) if another session does."""
        key = lock_key(self._schema)
        (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()  # type: ignore[misc]
        if got:
            return
        holder = self._lock_holder(conn, key)
        if holder is not None and self._backend is not None and holder == self._backend:
            log.warning(
                "ledger %r: our old session (pid %d) still holds the writer lock: ending it",
                self._schema,
                holder[0],
            )
            conn.execute("SELECT pg_terminate_backend(%s)", (holder[0],))
        conn.execute(f"SET lock_timeout = {int(self._lock_wait_s * 1000)}")
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        except pg_errors.LockNotAvailable:
            message = f"ledger {self._schema!r} is open for writing elsewhere"
            if self._backend is not None:
                self._fenced = (
                    f"{message}: this writer lost its session and another took the lock; "
                    "it will not write again (never two writers): restart the node"
                )
                raise LedgerClosed(self._fenced) from None
            raise LedgerError(message) from None
        conn.execute("SET lock_timeout = 0")

    def _lock_holder(self, conn: psycopg.Connection[Any], key: int) -> tuple[int, object] | None:
        """``(pid, backend_start)`` of the session holding advisory lock ``key`` here."""
        unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
        row = conn.execute(
            "SELECT a.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid",
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchone()
        return None if row is None else (int(row[0]), row[1])

    def drop(self) -> None:
        """Close the current session (the server frees the lock when it ends)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self.drop()
        self._fenced = self._fenced or "the ledger is closed"


def resolve_after_reconnect(
    conn: psycopg.Connection[Any], c: BlockCommit, maybe_committed: bool
) -> bool:
    """After a lost session, on the new one: True if block ``c`` is committed (a COMMIT whose
    answer was lost took effect), False if the head is just below it (write it again). Anything
    else — the head elsewhere, another block at that height — is ``CorruptLedger``: never a
    block lost, never one twice."""
    try:
        head = queries.head_height(conn)
        row = conn.execute("SELECT hash FROM blocks WHERE height = %s", (c.height,)).fetchone()
    except psycopg.Error as exc:
        if is_lost(conn, exc):
            return False  # lost again: the next attempt reconnects within the same deadline
        raise LedgerError(f"PostgreSQL: {exc}") from exc
    if head == c.height - 1 and row is None:
        return False
    if maybe_committed and head == c.height and row and bytes(row[0]) == c.block_hash:
        log.warning("block %d had committed before the session was lost", c.height)
        return True
    raise CorruptLedger(
        f"after reconnecting, head is {head} and block {c.height} is "
        f"{'missing' if row is None else bytes(row[0]).hex()}; writing block {c.height} "
        f"({c.block_hash.hex()}), {'maybe' if maybe_committed else 'not'} committed before"
    )
