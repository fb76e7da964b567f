"""The SQL of the PostgreSQL ledger backend: one function per statement (or short sequence).

Introduction
------------
Every function takes a connection whose ``search_path`` is the ledger's schema. The writes run
inside the caller's transaction: bulk rows go through ``COPY`` (binary), the state through one
``unnest`` statement per kind of write, so a block costs a handful of round trips whatever its
size. Heights are ``bigint``: a height above ``PG_MAX_HEIGHT`` (2**63 - 1) can hold nothing, so
queries clamp to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from yulian.ledger.events import EventCursor, EventFilter, EventPage, StoredEvent
from yulian.ledger.store import BlockCommit
from yulian.ledger.validate import CorruptLedger

Conn = psycopg.Connection[Any]

PG_MAX_HEIGHT = 2**63 - 1


# ---------------------------------------------------------------------------------------------
# Schema and head
# ---------------------------------------------------------------------------------------------


def tables_of(conn: Conn, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    ).fetchall()
    return {name for (name,) in rows}


def has_table(conn: Conn, schema: str, table: str) -> bool:
    return table in tables_of(conn, schema)


def head_height(conn: Conn) -> int:
    row = conn.execute("SELECT height FROM head").fetchone()
    if row is None:
        raise CorruptLedger("head: the head row is missing")
    return int(row[0])


def check_head(conn: Conn) -> None:
    """The head names the last block, with its hash and root (a few index reads)."""
    rows = conn.execute("SELECT height, hash, state_root FROM head").fetchall()
    if len(rows) != 1:
        raise CorruptLedger(f"head: {len(rows)} head rows")
    height, block_hash, root = rows[0]
    last = conn.execute(
        "SELECT height, hash, state_root FROM blocks ORDER BY height DESC LIMIT 1"
    ).fetchone()
    if height == 0:
        if last is not None:
            raise CorruptLedger(f"blocks hold height {last[0]}, head is 0")
        return
    if last is None or last[0] != height:
        raise CorruptLedger(f"last block is {None if last is None else last[0]}, head is {height}")
    if bytes(last[1]) != bytes(block_hash) or bytes(last[2]) != bytes(root):
        raise CorruptLedger(f"head hash or state root differs from block {height}")


def lock_head(conn: Conn) -> int:
    row = conn.execute("SELECT height FROM head FOR UPDATE").fetchone()
    if row is None:
        raise CorruptLedger("head: the head row is missing")
    return int(row[0])


def move_head(conn: Conn, c: BlockCommit) -> None:
    conn.execute(
        "UPDATE head SET height = %s, hash = %s, state_root = %s, state_sum = %s",
        (c.height, c.block_hash, c.state_root, c.state_sum),
    )


def head_floor(conn: Conn) -> tuple[int, int]:
    """``(head height, floor)`` in one statement."""
    row = conn.execute("SELECT height, floor FROM head").fetchone()
    if row is None:
        raise CorruptLedger("head: the head row is missing")
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------------------------------------
# Writes of one block (inside the caller's transaction)
# ---------------------------------------------------------------------------------------------


def insert_block(conn: Conn, c: BlockCommit) -> None:
    conn.execute(
        "INSERT INTO blocks (height, hash, block, commit, state_root, tx_count) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (c.height, c.block_hash, c.block, c.commit, c.state_root, len(c.tx_ids)),
    )


def insert_txs(conn: Conn, c: BlockCommit) -> None:
    if not c.tx_ids:
        return
    with (
        conn.cursor() as cur,
        cur.copy("COPY txs (tx_id, height, tx_index, receipt) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["bytea", "int8", "int4", "bytea"])
        height = c.height
        for index, (tx_id, receipt) in enumerate(zip(c.tx_ids, c.receipts, strict=True)):
            copy.write_row((tx_id, height, index, receipt))


def insert_events(conn: Conn, c: BlockCommit) -> None:
    if not c.events:
        return
    columns = "height, tx_index, event_index, tx_id, contract, name, key, payload"
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY events ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8", "int4", "int4", "bytea", "bytea", "bytea", "bytea", "bytea"])
        height, tx_ids = c.height, c.tx_ids
        for e in c.events:
            copy.write_row(
                (
                    height,
                    e.tx_index,
                    e.event_index,
                    tx_ids[e.tx_index],
                    e.contract.encode("utf-8"),
                    e.name.encode("utf-8"),
                    e.key,
                    e.payload,
                )
            )


def write_state(conn: Conn, c: BlockCommit) -> None:
    if not c.writes:
        return
    deleted = [key for key, value in c.writes if value is None]
    put_keys = [key for key, value in c.writes if value is not None]
    put_values = [value for _, value in c.writes if value is not None]
    if deleted:
        conn.execute("DELETE FROM state WHERE key = ANY(%b::bytea[])", (deleted,))
    if put_keys:
        conn.execute(
            "INSERT INTO state (key, value) SELECT * FROM unnest(%b::bytea[], %b::bytea[]) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (put_keys, put_values),
        )
    with (
        conn.cursor() as cur,
        cur.copy("COPY history (key, height, value) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["bytea", "int8", "bytea"])
        height = c.height
        for key, value in c.writes:
            copy.write_row((key, height, value))


# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------


def tx_locations(conn: Conn, tx_ids: tuple[bytes, ...]) -> dict[bytes, tuple[int, int]]:
    rows = conn.execute(
        "SELECT tx_id, height, tx_index FROM txs WHERE tx_id = ANY(%b::bytea[])", (list(tx_ids),)
    ).fetchall()
    return {bytes(tx_id): (int(h), int(i)) for tx_id, h, i in rows}


def block_txs(conn: Conn, column: str, height: int) -> list[bytes] | None:
    """``column`` of the block's txs in block order; None if there is no such block."""
    rows = conn.execute(
        f"SELECT t.{column} FROM blocks b LEFT JOIN txs t ON t.height = b.height "
        "WHERE b.height = %s ORDER BY t.tx_index",
        (height,),
    ).fetchall()
    if not rows:
        return None
    return [bytes(value) for (value,) in rows if value is not None]


def value_at(conn: Conn, key: bytes, height: int) -> tuple[int, int, bytes | None]:
    """The head, the floor and the value of ``key`` at the end of block ``height``, in one
    snapshot."""
    row = conn.execute(
        "SELECT (SELECT height FROM head), (SELECT floor FROM head), "
        "(SELECT value FROM history WHERE key = %s AND height <= %s "
        " ORDER BY height DESC LIMIT 1)",
        (key, min(height, PG_MAX_HEIGHT)),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), None if row[2] is None else bytes(row[2])


def versions(
    conn: Conn, key: bytes, limit: int, before_height: int | None
) -> list[tuple[int, bytes | None]]:
    upper = PG_MAX_HEIGHT if before_height is None else min(before_height, PG_MAX_HEIGHT)
    inclusive = before_height is None  # no bound: the highest height is a version too
    rows = conn.execute(
        "SELECT height, value FROM history WHERE key = %s AND "
        + ("height <= %s" if inclusive else "height < %s")
        + " ORDER BY height DESC LIMIT %s",
        (key, upper, limit),
    ).fetchall()
    return [(int(h), None if v is None else bytes(v)) for h, v in rows]


def oldest_in_window(
    conn: Conn, windows: Sequence[tuple[bytes, int]]
) -> list[tuple[int, bytes | None] | None]:
    """For each ``(key, window)``, the key's ``window``-th newest version (None: it has fewer),
    in one statement: per key an index walk down its newest versions (``OFFSET window - 1``)."""
    if not windows:
        return []
    rows = conn.execute(
        "SELECT w.i, v.height, v.value "
        "FROM unnest(%b::bytea[], %s::int[]) WITH ORDINALITY AS w(key, size, i) "
        "CROSS JOIN LATERAL (SELECT height, value FROM history WHERE key = w.key "
        "  ORDER BY height DESC OFFSET w.size - 1 LIMIT 1) v",
        ([key for key, _ in windows], [size for _, size in windows]),
    ).fetchall()
    result: list[tuple[int, bytes | None] | None] = [None] * len(windows)
    for i, height, value in rows:
        result[int(i) - 1] = (int(height), None if value is None else bytes(value))
    return result


def prefix_end(prefix: bytes) -> bytes | None:
    """The least byte string above every string starting with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def scan_state(
    conn: Conn, prefix: bytes, limit: int, start_after: bytes | None, with_values: bool
) -> list[Any]:
    conditions, params = ["key >= %s"], [prefix]
    end = prefix_end(prefix)
    if end is not None:
        conditions.append("key < %s")
        params.append(end)
    if start_after is not None:
        conditions.append("key > %s")
        params.append(start_after)
    columns = "key, value" if with_values else "key"
    sql = f"SELECT {columns} FROM state WHERE {' AND '.join(conditions)} ORDER BY key LIMIT %s"
    return conn.execute(sql, (*params, limit)).fetchall()


def query_events(
    conn: Conn,
    after: EventCursor | None,
    wanted: EventFilter,
    limit: int,
    scan_limit: int,
) -> EventPage:
    """Events after ``after`` in the filter's index group (``EventFilter.in_group``), walked in
    cursor order: at most ``scan_limit`` examined, stopping at the ``limit``-th match. One
    statement fetches the examined window with a running count of matches; only matching rows
    carry their payload. Runs in the caller's repeatable-read transaction, with the head."""
    head = head_height(conn)
    start = (0, -1, -1) if after is None else (min(after[0], PG_MAX_HEIGHT), after[1], after[2])
    conditions, where_params = _group_conditions(start, wanted)
    match: list[str] = ["true"]
    match_params: list[object] = []
    if wanted.contract is None and wanted.name is not None:
        match.append("name = %s")
        match_params.append(wanted.name.encode("utf-8"))
    for column, prefix in (("key", wanted.key_prefix), ("payload", wanted.payload_prefix)):
        if prefix:
            match.append(f"substr({column}, 1, %s) = %s")
            match_params.extend((len(prefix), prefix))
    # one row more than may be examined: whether the group goes on
    params = [*match_params, *where_params, scan_limit + 1, limit]
    rows = conn.execute(
        f"""
        WITH walked AS (
            SELECT height, tx_index, event_index, tx_id, contract, name, key, payload,
                   ({" AND ".join(match)}) AS matched
            FROM events WHERE {" AND ".join(conditions)}
            ORDER BY height, tx_index, event_index
            LIMIT %s
        ), counted AS (
            SELECT *, count(*) FILTER (WHERE matched)
                          OVER (ORDER BY height, tx_index, event_index) AS matches,
                      row_number() OVER (ORDER BY height, tx_index, event_index) AS position
            FROM walked
        )
        SELECT height, tx_index, event_index, matched, position,
               CASE WHEN matched THEN tx_id END, CASE WHEN matched THEN contract END,
               CASE WHEN matched THEN name END, CASE WHEN matched THEN key END,
               CASE WHEN matched THEN payload END
        FROM counted
        WHERE matches - matched::int < %s
        ORDER BY height, tx_index, event_index
        """,
        params,
    ).fetchall()
    examined = [row for row in rows if row[4] <= scan_limit]
    events = [
        StoredEvent(
            EventCursor(int(h), int(t), int(e)),
            bytes(tx_id),
            bytes(contract).decode("utf-8"),
            bytes(name).decode("utf-8"),
            bytes(key),
            bytes(payload),
        )
        for h, t, e, matched, _, tx_id, contract, name, key, payload in examined
        if matched
    ]
    last = EventCursor(*map(int, examined[-1][:3])) if examined else after
    exhausted = len(rows) == len(examined) and len(events) < limit
    if len(events) == limit and last is not None:
        exhausted = not _more_in_group(conn, last, wanted)
    return EventPage(events, last, exhausted, head)


def _group_conditions(
    start: tuple[int, int, int], wanted: EventFilter
) -> tuple[list[str], list[object]]:
    """The WHERE conditions of the events after ``start`` in the filter's index group."""
    conditions: list[str] = ["(height, tx_index, event_index) > (%s, %s, %s)"]
    params: list[object] = list(start)
    if wanted.contract is not None:
        conditions.append("contract = %s")
        params.append(wanted.contract.encode("utf-8"))
        if wanted.name is not None:
            conditions.append("name = %s")
            params.append(wanted.name.encode("utf-8"))
    return conditions, params


def _more_in_group(conn: Conn, after: EventCursor, wanted: EventFilter) -> bool:
    conditions, params = _group_conditions(after, wanted)
    row = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM events WHERE {' AND '.join(conditions)})", params
    ).fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------------------------------------
# Integrity
# ---------------------------------------------------------------------------------------------

#: Each query names the first inconsistency of one kind, or returns no row.
_INTEGRITY_CHECKS = (
    (
        "blocks are not every height from the floor to the head",
        "SELECT count(*), max(b.height) FROM blocks b, head h "
        "WHERE b.height >= h.floor GROUP BY h.height, h.floor "
        "HAVING count(*) <> h.height - h.floor + 1 OR max(b.height) <> h.height",
    ),
    (
        "a block is held above the head",
        "SELECT height FROM blocks WHERE height > (SELECT height FROM head) LIMIT 1",
    ),
    (
        "a block's txs are not numbered 0..tx_count-1",
        "SELECT b.height FROM blocks b LEFT JOIN ("
        " SELECT height, count(*) AS n, min(tx_index) AS lo, max(tx_index) AS hi"
        " FROM txs GROUP BY height) t ON t.height = b.height "
        "WHERE coalesce(t.n, 0) <> b.tx_count OR (t.n > 0 AND (t.lo <> 0 OR t.hi <> t.n - 1)) "
        "LIMIT 1",
    ),
    (
        "a tx of a block at or above the floor belongs to no block",
        "SELECT tx_id FROM txs t WHERE t.height >= (SELECT floor FROM head) AND NOT EXISTS "
        "(SELECT 1 FROM blocks b WHERE b.height = t.height) LIMIT 1",
    ),
    (
        "a tx of a held block has no receipt, or one of a block not held has one",
        "SELECT t.tx_id FROM txs t LEFT JOIN blocks b ON b.height = t.height "
        "WHERE (b.height IS NULL) <> (t.receipt IS NULL) LIMIT 1",
    ),
    (
        "an event names no tx of its block, or another tx",
        "SELECT e.height, e.tx_index FROM events e LEFT JOIN txs t "
        "ON t.height = e.height AND t.tx_index = e.tx_index "
        "WHERE t.tx_id IS DISTINCT FROM e.tx_id LIMIT 1",
    ),
    (
        "a tx's events are not numbered 0, 1, 2, ...",
        "SELECT height, tx_index FROM events GROUP BY height, tx_index "
        "HAVING min(event_index) <> 0 OR max(event_index) <> count(*) - 1 LIMIT 1",
    ),
    (
        "a version is outside heights 1..head",
        "SELECT key, height FROM history "
        "WHERE height < 1 OR height > (SELECT height FROM head) LIMIT 1",
    ),
    (
        "the state differs from the latest version of a key",
        "SELECT coalesce(latest.key, s.key) FROM "
        "(SELECT DISTINCT ON (key) key, value FROM history ORDER BY key, height DESC) latest "
        "FULL JOIN state s ON s.key = latest.key "
        "WHERE latest.value IS DISTINCT FROM s.value LIMIT 1",
    ),
)


def check_tables(conn: Conn) -> None:
    """Cross-check every table (linear in the ledger's size); raise ``CorruptLedger``."""
    for problem, sql in _INTEGRITY_CHECKS:
        row = conn.execute(sql).fetchone()
        if row is not None:
            raise CorruptLedger(f"{problem}: {row!r}")
