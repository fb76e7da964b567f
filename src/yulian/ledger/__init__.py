"""The ledger: blocks, commit certificates, tx index, receipts, events and versioned state.

Introduction
------------
``open_ledger(...)`` returns the node's ``Ledger``: LMDB (the embedded default, ``lmdb/``) or
PostgreSQL (``postgres/``), chosen by a ``StorageConfig`` (``config.py``). The ledger never
decodes what it stores; ``store.py`` states the interface and its invariant (one block = one
atomic durable write, readers always see a block boundary), ``validate.py`` the limits and
checks every backend shares, ``events.py`` the event index and its cursor, ``failpoints.py``
the crash points used by crash-consistency tests. This package does I/O; it must not import
consensus or execution code.
"""

from __future__ import annotations

from yulian.ledger.config import InvalidStorageConfig, StorageConfig, open_ledger
from yulian.ledger.events import (
    MAX_EVENT_LIMIT,
    MAX_EVENT_SCAN,
    EventCursor,
    EventPage,
    EventRecord,
    StoredEvent,
    block_events,
    event_key,
)
from yulian.ledger.lmdb import DEFAULT_MAP_BYTES, LmdbLedger
from yulian.ledger.postgres import PostgresLedger
from yulian.ledger.store import (
    MAX_HASH_BYTES,
    MAX_HISTORY_LIMIT,
    MAX_KEY_BYTES,
    MAX_META_NAME_BYTES,
    MAX_RECORD_BYTES,
    MAX_SCAN_LIMIT,
    MAX_TX_ID_BYTES,
    MAX_TXS_PER_BLOCK,
    MAX_WRITES_PER_BLOCK,
    BlockCommit,
    CorruptLedger,
    DuplicateBlockHash,
    DuplicateTx,
    HeightMismatch,
    InvalidInput,
    Ledger,
    LedgerClosed,
    LedgerError,
    LedgerFull,
    Pruned,
    UnsupportedFormat,
    check_block_commit,
)

__all__ = [
    "DEFAULT_MAP_BYTES",
    "MAX_EVENT_LIMIT",
    "MAX_EVENT_SCAN",
    "MAX_HASH_BYTES",
    "MAX_HISTORY_LIMIT",
    "MAX_KEY_BYTES",
    "MAX_META_NAME_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_SCAN_LIMIT",
    "MAX_TXS_PER_BLOCK",
    "MAX_TX_ID_BYTES",
    "MAX_WRITES_PER_BLOCK",
    "BlockCommit",
    "CorruptLedger",
    "DuplicateBlockHash",
    "DuplicateTx",
    "EventCursor",
    "EventPage",
    "EventRecord",
    "HeightMismatch",
    "InvalidInput",
    "InvalidStorageConfig",
    "Ledger",
    "LedgerClosed",
    "LedgerError",
    "LedgerFull",
    "LmdbLedger",
    "PostgresLedger",
    "Pruned",
    "StorageConfig",
    "StoredEvent",
    "UnsupportedFormat",
    "block_events",
    "check_block_commit",
    "event_key",
    "open_ledger",
]
