"""Limits, errors and argument checks shared by every ledger backend.

Introduction
------------
Every backend validates every argument with these functions before it touches storage, so all
of them reject the same inputs with the same named errors (``InvalidInput`` and its siblings)
and a rejected call changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "MAX_HASH_BYTES",
    "MAX_HEIGHT",
    "MAX_HISTORY_LIMIT",
    "MAX_KEY_BYTES",
    "MAX_META_NAME_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_SCAN_LIMIT",
    "MAX_STATE_SUM_BYTES",
    "MAX_TXS_PER_BLOCK",
    "MAX_TX_ID_BYTES",
    "MAX_WRITES_PER_BLOCK",
    "CorruptLedger",
    "DuplicateBlockHash",
    "DuplicateTx",
    "HeightMismatch",
    "InvalidInput",
    "LedgerClosed",
    "LedgerError",
    "LedgerFull",
    "LedgerUnavailable",
    "Pruned",
    "UnsupportedFormat",
    "check_height",
    "check_key",
    "check_limit",
    "check_meta_name",
    "check_prefix",
    "check_record",
    "check_scan",
    "check_tx_ids",
    "check_tx_index",
    "check_windows",
]

# ---------------------------------------------------------------------------------------------
# Limits. Every one is checked before anything is written.
# ---------------------------------------------------------------------------------------------

#: Longest state key, in bytes. LMDB's default max key size is 511 bytes and the history
#: table keys are ``2 (length) + key + 8 (height)`` bytes, so 500 leaves a margin.
MAX_KEY_BYTES = 500
#: Longest transaction id, in bytes (hash outputs are 32 bytes).
MAX_TX_ID_BYTES = 64
#: Longest block hash or state root, in bytes.
MAX_HASH_BYTES = 64
#: Longest state sum (the homomorphic hash a state root is the hash of), in bytes.
MAX_STATE_SUM_BYTES = 4096
#: Largest single stored value (block, commit, receipt, state value, meta value), in bytes.
MAX_RECORD_BYTES = 64 * 1024 * 1024
#: Most transactions (and receipts) in one block.
MAX_TXS_PER_BLOCK = 1_000_000
#: Most state writes in one block.
MAX_WRITES_PER_BLOCK = 1_000_000
#: Longest metadata name, in UTF-8 bytes.
MAX_META_NAME_BYTES = 128
#: Most rows returned by one ``scan_prefix``.
MAX_SCAN_LIMIT = 10_000
#: Most entries returned by one ``history``.
MAX_HISTORY_LIMIT = 10_000
#: Highest representable height (heights are stored as unsigned 64-bit big-endian).
MAX_HEIGHT = 2**64 - 2


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class InvalidInput(LedgerError):
    """An argument or a ``BlockCommit`` field is malformed or over a limit. Nothing was written."""


class HeightMismatch(LedgerError):
    """``commit_block`` got a height other than ``height() + 1``. Nothing was written."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected block height {expected}, got {got}")
        self.expected = expected
        self.got = got


class DuplicateTx(LedgerError):
    """A tx id of the block is already committed (or repeated in the block). Nothing written."""

    def __init__(self, tx_id: bytes, location: tuple[int, int] | None) -> None:
        where = f"at (height, index) {location}" if location else "twice in the block"
        super().__init__(f"tx id {tx_id.hex()} already committed {where}")
        self.tx_id = tx_id
        self.location = location


class DuplicateBlockHash(LedgerError):
    """The block hash is already committed at another height. Nothing was written."""

    def __init__(self, block_hash: bytes, height: int) -> None:
        super().__init__(f"block hash {block_hash.hex()} already committed at height {height}")
        self.block_hash = block_hash
        self.height = height


class LedgerFull(LedgerError):
    """The storage cannot grow any further (map size limit or disk). Nothing was written."""


class LedgerClosed(LedgerError):
    """The ledger was closed, or is read-only and a write was attempted."""


class LedgerUnavailable(LedgerError):
    """The database server holding the ledger cannot be reached now (restart, failover,
    network); nothing was changed. Retry later: the API answers 503."""


class CorruptLedger(LedgerError):
    """Stored data fails a consistency or checksum check. The node must not continue on it."""


class Pruned(LedgerError):
    """What was asked for lies below the ledger's floor: the ledger was pruned there (its blocks
    may be in an archive), or it started from a snapshot above it. Nothing is wrong with the
    ledger; another node or the archive holds the answer."""

    def __init__(self, what: str, height: int, floor: int) -> None:
        super().__init__(f"{what} at height {height} is below this ledger's floor {floor}")
        self.height = height
        self.floor = floor


class UnsupportedFormat(LedgerError):
    """The storage holds a ledger of another format version (an older release's, or a newer
    one's). Nothing was changed; the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def check_height(height: object, *, allow_zero: bool = True) -> int:
    """Return ``height`` if it is an int in ``[0 or 1, MAX_HEIGHT]``; raise ``InvalidInput``."""
    if type(height) is not int:
        raise InvalidInput(f"height must be an int, got {type(height).__name__}")
    low = 0 if allow_zero else 1
    if not low <= height <= MAX_HEIGHT:
        raise InvalidInput(f"height {height} outside [{low}, {MAX_HEIGHT}]")
    return height


def check_key(key: object, what: str = "key", max_bytes: int = MAX_KEY_BYTES) -> bytes:
    """Return ``key`` if it is non-empty ``bytes`` of at most ``max_bytes``."""
    if type(key) is not bytes:
        raise InvalidInput(f"{what} must be bytes, got {type(key).__name__}")
    if not 1 <= len(key) <= max_bytes:
        raise InvalidInput(f"{what} length {len(key)} outside [1, {max_bytes}]")
    return key


def check_limit(limit: object, max_limit: int) -> int:
    """Return ``limit`` if it is an int in ``[0, max_limit]``."""
    if type(limit) is not int or not 0 <= limit <= max_limit:
        raise InvalidInput(f"limit must be an int in [0, {max_limit}], got {limit!r}")
    return limit


def check_meta_name(name: object) -> bytes:
    """Return the UTF-8 bytes of a metadata name (printable, 1..MAX_META_NAME_BYTES bytes)."""
    if type(name) is not str or not name.isprintable():
        raise InvalidInput(f"meta name must be a printable str, got {name!r}")
    raw = name.encode("utf-8")
    if not 1 <= len(raw) <= MAX_META_NAME_BYTES:
        raise InvalidInput(f"meta name length {len(raw)} outside [1, {MAX_META_NAME_BYTES}]")
    return raw


def check_record(value: object, what: str) -> bytes:
    """Return ``value`` if it is ``bytes`` of at most ``MAX_RECORD_BYTES`` (may be empty)."""
    if type(value) is not bytes:
        raise InvalidInput(f"{what} must be bytes, got {type(value).__name__}")
    if len(value) > MAX_RECORD_BYTES:
        raise InvalidInput(f"{what} is {len(value)} bytes, over {MAX_RECORD_BYTES}")
    return value


def check_tx_ids(tx_ids: object) -> tuple[bytes, ...]:
    """Return ``tx_ids`` (a list or tuple of at most ``MAX_TXS_PER_BLOCK`` tx ids) as a tuple;
    raise ``InvalidInput`` naming the first bad one."""
    if not isinstance(tx_ids, list | tuple):
        raise InvalidInput(f"tx ids must be a list or tuple, got {type(tx_ids).__name__}")
    if len(tx_ids) > MAX_TXS_PER_BLOCK:
        raise InvalidInput(f"{len(tx_ids)} tx ids, over {MAX_TXS_PER_BLOCK}")
    for tx_id in tx_ids:
        check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
    return tuple(tx_ids)


def check_windows(windows: object) -> Sequence[tuple[bytes, int]]:
    """Return ``windows`` (a list or tuple of at most ``MAX_WRITES_PER_BLOCK`` pairs of a key
    and a window in ``[1, MAX_HISTORY_LIMIT]``: ``oldest_in_window``'s argument); raise
    ``InvalidInput`` naming the first bad one. Once per write of every block: the checkers are
    called only to name a fault."""
    if not isinstance(windows, list | tuple):
        raise InvalidInput(f"windows must be a list or tuple, got {type(windows).__name__}")
    if len(windows) > MAX_WRITES_PER_BLOCK:
        raise InvalidInput(f"{len(windows)} windows, over {MAX_WRITES_PER_BLOCK}")
    for item in windows:
        if type(item) is not tuple or len(item) != 2:
            raise InvalidInput("each window must be a (key, window) tuple")
        key, window = item
        if type(key) is not bytes or not 1 <= len(key) <= MAX_KEY_BYTES:
            check_key(key, "state key")
        if type(window) is not int or not 1 <= window <= MAX_HISTORY_LIMIT:
            raise InvalidInput(f"a window is an int in [1, {MAX_HISTORY_LIMIT}], got {window!r}")
    return windows


def check_prefix(prefix: object) -> bytes:
    """Return a key prefix: ``bytes`` of at most ``MAX_KEY_BYTES`` (may be empty)."""
    if type(prefix) is not bytes or len(prefix) > MAX_KEY_BYTES:
        raise InvalidInput(f"prefix must be bytes of at most {MAX_KEY_BYTES}")
    return prefix


def check_scan(prefix: object, limit: object, start_after: object) -> None:
    """Check the arguments of ``scan_prefix`` / ``scan_keys``."""
    check_prefix(prefix)
    check_limit(limit, MAX_SCAN_LIMIT)
    if start_after is not None:
        check_key(start_after, "start_after")


def check_tx_index(index: object) -> int:
    """Return ``index`` if it is an int in ``[0, MAX_TXS_PER_BLOCK)``."""
    if type(index) is not int or not 0 <= index < MAX_TXS_PER_BLOCK:
        raise InvalidInput(f"tx index must be an int in [0, {MAX_TXS_PER_BLOCK}), got {index!r}")
    return index
