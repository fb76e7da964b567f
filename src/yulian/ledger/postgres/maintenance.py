"""The maintenance operations of the PostgreSQL ledger: read versions, install a snapshot, prune.

Introduction
------------
``ledger/maintenance.py`` states what each operation means; this module does it in SQL. A
version read is one ``REPEATABLE READ`` transaction whose server-side cursor walks the history
in version order (``length(key), key, height``: PostgreSQL compares ``bytea`` bytewise, as LMDB
compares keys). An install is one transaction of ``COPY``s into an empty schema. A pruning
raises ``head.floor`` in its own statement, then deletes whole blocks in transactions of at
most ``PRUNE_BATCH`` heights (the tx index keeps their txs, with the receipt set to NULL), then
walks the history once and deletes what ``versions_to_drop`` says, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg

from yulian.ledger.maintenance import (
    PRUNE_BATCH,
    PruneReport,
    SnapshotBase,
    Version,
    check_prune,
    check_snapshot_base,
    checked_versions,
    versions_to_drop,
)
from yulian.ledger.postgres import queries
from yulian.ledger.validate import InvalidInput, LedgerError

Conn = psycopg.Connection[Any]

_VERSION_ORDER = "ORDER BY length(key), key, height"


class _Reader:
    def __init__(self, conn: Conn, head: tuple[Any, ...]) -> None:
        self._conn = conn
        height, block_hash, root, state_sum = head
        self.height = int(height)
        self.block_hash, self.state_root = bytes(block_hash), bytes(root)
        self.state_sum = bytes(state_sum)

    def versions(self) -> Iterator[Version]:
        with self._conn.cursor(name="yulian_versions") as cur:
            cur.itersize = PRUNE_BATCH
            cur.execute(f"SELECT key, height, value FROM history {_VERSION_ORDER}")
            for key, height, value in cur:
                yield bytes(key), int(height), None if value is None else bytes(value)


def read_versions(
    reading: Callable[[], AbstractContextManager[Conn]],
) -> AbstractContextManager[_Reader]:
    """One repeatable-read transaction on a reader connection, and the head it sees."""

    @contextmanager
    def context() -> Iterator[_Reader]:
        with reading() as conn, conn.transaction():
            row = conn.execute("SELECT height, hash, state_root, state_sum FROM head").fetchone()
            assert row is not None
            yield _Reader(conn, row)

    return context()


def install(conn: Conn, base: SnapshotBase, versions: Iterable[Version]) -> None:
    check_snapshot_base(base)
    if iter(versions) is versions:
        raise InvalidInput("versions must be re-iterable (as LMDB's install needs them)")
    with conn.transaction():
        if queries.lock_head(conn) != 0 or _holds_anything(conn):
            raise LedgerError("a snapshot is installed into an empty ledger; this one holds data")
        for block in (*base.kept, base.block):
            queries.insert_block(conn, block)
            queries.insert_txs(conn, block)
            queries.insert_events(conn, block)
        with (
            conn.cursor() as cur,
            cur.copy("COPY txs (tx_id, height, tx_index) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["bytea", "int8", "int4"])
            for height, tx_ids in base.recent_txs:
                for index, tx_id in enumerate(tx_ids):
                    copy.write_row((tx_id, height, index))
        with (
            conn.cursor() as cur,
            cur.copy("COPY history (key, height, value) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["bytea", "int8", "bytea"])
            for version in checked_versions(versions, base.height):
                copy.write_row(version)
        conn.execute(
            "INSERT INTO state (key, value) SELECT key, value FROM ("
            " SELECT DISTINCT ON (key) key, value FROM history ORDER BY key, height DESC"
            ") newest WHERE value IS NOT NULL"
        )
        b = base.block
        conn.execute(
            "UPDATE head SET height = %s, hash = %s, state_root = %s, state_sum = %s, floor = %s",
            (b.height, b.block_hash, b.state_root, b.state_sum, b.height),
        )


def _holds_anything(conn: Conn) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM blocks) OR EXISTS (SELECT 1 FROM txs) "
        "OR EXISTS (SELECT 1 FROM history) OR EXISTS (SELECT 1 FROM events)"
    ).fetchone()
    return bool(row and row[0])


def prune(
    conn: Conn, below: int, keep_heights: Collection[int], window: Callable[[bytes], int]
) -> PruneReport:
    keep = sorted(frozenset(keep_heights))
    head, floor = queries.head_floor(conn)
    check_prune(below, head, floor)
    if below > floor:
        conn.execute("UPDATE head SET floor = %s WHERE floor < %s", (below, below))
    blocks = 0
    while True:
        with conn.transaction():
            rows = conn.execute(
                "SELECT height FROM blocks WHERE height < %s AND NOT height = ANY(%s) "
                "ORDER BY height LIMIT %s",
                (below, keep, PRUNE_BATCH),
            ).fetchall()
            heights = [int(h) for (h,) in rows]
            if not heights:
                break
            conn.execute("DELETE FROM events WHERE height = ANY(%s)", (heights,))
            conn.execute("UPDATE txs SET receipt = NULL WHERE height = ANY(%s)", (heights,))
            conn.execute("DELETE FROM blocks WHERE height = ANY(%s)", (heights,))
        blocks += len(heights)
    return PruneReport(below, blocks, _prune_versions(conn, below, frozenset(keep), window))


def _prune_versions(
    conn: Conn, below: int, keep: frozenset[int], window: Callable[[bytes], int]
) -> int:
    doomed: list[tuple[bytes, int]] = []
    with conn.transaction():
        with conn.cursor(name="yulian_prune") as cur:
            cur.itersize = PRUNE_BATCH
            cur.execute(f"SELECT key, height FROM history {_VERSION_ORDER}")
            for key, heights in _runs((bytes(k), int(h)) for k, h in cur):
                doomed.extend((key, h) for h in versions_to_drop(heights, below, keep, window(key)))
        for start in range(0, len(doomed), PRUNE_BATCH):
            batch = doomed[start : start + PRUNE_BATCH]
            conn.execute(
                "DELETE FROM history h USING unnest(%b::bytea[], %s::bigint[]) AS d(key, height) "
                "WHERE h.key = d.key AND h.height = d.height",
                ([k for k, _ in batch], [h for _, h in batch]),
            )
    return len(doomed)


def _runs(rows: Iterable[tuple[bytes, int]]) -> Iterator[tuple[bytes, list[int]]]:
    """``(key, heights)`` per key of ``(key, height)`` rows grouped by key."""
    key: bytes | None = None
    heights: list[int] = []
    for row_key, height in rows:
        if row_key != key:
            if key is not None:
                yield key, heights
            key, heights = row_key, []
        heights.append(height)
    if key is not None:
        yield key, heights
