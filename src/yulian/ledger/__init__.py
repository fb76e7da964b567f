"""The ledger: blocks, commit certificates, tx index, receipts and versioned state, as bytes.

Introduction
------------
``open_ledger(path)`` returns the node's ``Ledger`` (the LMDB backend, the embedded default).
The ledger never decodes what it stores; ``store.py`` states the interface and its invariant
(one block = one atomic durable write, readers always see a block boundary), ``lmdb_store.py``
implements it, ``failpoints.py`` holds the crash points used by crash-consistency tests.
This package does I/O; it must not import consensus or execution code.
"""

from __future__ import annotations

from pathlib import Path

from yulian.ledger.lmdb_store import DEFAULT_MAP_BYTES, LmdbLedger
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
    check_block_commit,
)

__all__ = [
    "DEFAULT_MAP_BYTES",
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
    "HeightMismatch",
    "InvalidInput",
    "Ledger",
    "LedgerClosed",
    "LedgerError",
    "LedgerFull",
    "LmdbLedger",
    "check_block_commit",
    "open_ledger",
]


def open_ledger(
    path: str | Path,
    *,
    map_size: int = DEFAULT_MAP_BYTES,
    sync: bool = True,
    readonly: bool = False,
) -> Ledger:
    """Open (creating if missing, unless ``readonly``) the ledger in directory ``path``.

    ``sync=True`` makes every commit durable before it returns (fsync). ``sync=False`` keeps
    atomicity and survives a killed process, but an OS crash or power cut may lose the last
    commits: only for tests and tools. ``map_size`` is address space, not disk (it doubles on
    demand). ``readonly`` opens an existing ledger for reading, e.g. beside a running node.
    """
    return LmdbLedger(path, map_size=map_size, sync=sync, readonly=readonly)
