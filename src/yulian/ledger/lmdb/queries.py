"""Range reads of the LMDB backend: versions of a key, prefix scans, the event index.

Introduction
------------
Each function runs inside one read transaction the caller holds (one snapshot) and walks an
LMDB cursor over one table; each stops at its limit, so no query does unbounded work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yulian.ledger.events import EventCursor, EventFilter, EventPage, StoredEvent
from yulian.ledger.lmdb.codec import (
    CURSOR_BYTES,
    decode_cursor,
    decode_event,
    decode_height,
    decode_history_value,
    encode_cursor,
    encode_height,
    make_history_prefix,
    name_digest,
    unseal_value,
)
from yulian.ledger.lmdb.gate import Txn
from yulian.ledger.validate import MAX_HEIGHT, CorruptLedger

Tables = dict[str, Any]


def seek_versions(
    txn: Txn, tables: Tables, key: bytes, before_height: int, limit: int
) -> list[tuple[int, bytes | None]]:
    """Versions of ``key`` at heights ``< before_height``, newest first: one ``set_range``
    to the first entry at or after ``prefix + before_height``, then step back."""
    result: list[tuple[int, bytes | None]] = []
    if limit == 0:
        return result
    prefix = make_history_prefix(key)
    cursor = txn.cursor(db=tables["history"])
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


def oldest_in_window(
    txn: Txn, tables: Tables, windows: Sequence[tuple[bytes, int]]
) -> list[tuple[int, bytes | None] | None]:
    """For each ``(key, window)``, the key's ``window``-th newest version, None when it has
    fewer: one cursor for them all; per key a seek to its newest version and ``window - 1``
    steps back, decoding only the version it lands on. A key's versions are contiguous (the
    length-prefixed key is their common prefix), so the entry ``window - 1`` steps back from
    its newest is one of them exactly when it starts with the prefix."""
    cursor = txn.cursor(db=tables["history"])
    after_newest = encode_height(MAX_HEIGHT + 1)
    result: list[tuple[int, bytes | None] | None] = []
    for key, window in windows:
        prefix = make_history_prefix(key)
        found = cursor.prev() if cursor.set_range(prefix + after_newest) else cursor.last()
        if found and window > 1 and cursor.key().startswith(prefix):  # it has a version
            for _ in range(window - 1):
                if not cursor.prev():
                    found = False
                    break
        history_key = cursor.key() if found else b""
        if not history_key.startswith(prefix):
            result.append(None)
            continue
        height = decode_height(history_key[len(prefix) :], "history")
        raw = unseal_value(history_key, cursor.value(), "history")
        result.append((height, decode_history_value(raw)))
    return result


def scan_state(
    txn: Txn,
    tables: Tables,
    prefix: bytes,
    limit: int,
    start_after: bytes | None,
    with_values: bool,
) -> list[Any]:
    """Current keys starting with ``prefix`` after ``start_after``, ascending, at most
    ``limit``: ``(key, value)`` pairs, or bare keys (values are neither copied nor checked)."""
    result: list[Any] = []
    if limit == 0:
        return result
    seek = prefix if start_after is None else max(prefix, start_after)
    cursor = txn.cursor(db=tables["state"])
    found = cursor.set_range(seek) if seek else cursor.first()
    if found and cursor.key() == start_after:
        found = cursor.next()
    while found and len(result) < limit:
        key = cursor.key()
        if not key.startswith(prefix):
            break
        result.append((key, unseal_value(key, cursor.value(), "state")) if with_values else key)
        found = cursor.next()
    return result


def receipts_of(txn: Txn, tables: Tables, height: int) -> list[bytes]:
    result: list[bytes] = []
    prefix = encode_height(height)
    cursor = txn.cursor(db=tables["receipts"])
    found = cursor.set_range(prefix)
    while found and cursor.key().startswith(prefix):
        key, raw = cursor.item()
        result.append(unseal_value(key, raw, "receipts"))
        found = cursor.next()
    return result


def query_events(
    txn: Txn,
    tables: Tables,
    head: int,
    after: EventCursor | None,
    wanted: EventFilter,
    limit: int,
    scan_limit: int,
) -> EventPage:
    """Events after ``after`` matching ``wanted``: through the narrowest index the filter
    allows (contract and name, contract, or none), each hit checked against its record."""
    if wanted.contract is None:
        group, table = b"", "events"
    elif wanted.name is None:
        group, table = name_digest(wanted.contract), "evcontract"
    else:
        group, table = name_digest(wanted.contract, wanted.name), "evname"
    events_table = tables["events"]
    cursor = txn.cursor(db=tables[table])
    seek = group + (encode_cursor(after) if after is not None else b"")
    found = cursor.set_range(seek)
    if found and after is not None and cursor.key() == seek:
        found = cursor.next()
    result: list[StoredEvent] = []
    last = after
    scanned = 0
    while found and len(result) < limit and scanned < scan_limit:
        index_key = cursor.key()
        if not index_key.startswith(group):
            break
        raw_cursor = index_key[len(group) :]
        if len(raw_cursor) != CURSOR_BYTES:
            raise _dangling(table, index_key)
        at = decode_cursor(raw_cursor, table)
        raw = cursor.value() if table == "events" else txn.get(raw_cursor, db=events_table)
        if raw is None:
            raise _dangling(table, index_key)
        event = decode_event(at, unseal_value(raw_cursor, raw, "events"))
        if wanted.matches(event.contract, event.name, event.key, event.payload):
            result.append(event)
        last = at
        scanned += 1
        found = cursor.next()
    exhausted = not (found and cursor.key().startswith(group))
    return EventPage(result, last, exhausted, head)


def _dangling(table: str, index_key: bytes) -> CorruptLedger:
    return CorruptLedger(f"{table}: entry {index_key.hex()[:80]} has no event record")
