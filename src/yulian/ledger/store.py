"""The ledger interface: what every storage backend promises.

Introduction
------------
The ledger keeps, for a chain of blocks at heights 1, 2, 3, ... (no gaps):

* the encoded block, its commit certificate, its hash and the state root after it (and, for the
  head, the state sum whose hash that root is);
* a transaction index ``tx_id -> (height, index)``, the tx ids and the encoded receipts of each
  block;
* the event index: every event of every receipt at its cursor ``(height, tx, event)``
  (``events.py``), queried in cursor order with filters;
* the state: the current value of every key, and the version history of every key
  (one entry per block that wrote the key; a delete is an entry with value ``None``);
* a small table of named metadata (e.g. the genesis hash) and the head.

It is byte-oriented: it never decodes a block, a receipt or a value. Callers hand it bytes (and
the block's events as ``EventRecord``s, built from the receipts by ``events.block_events``).

A ledger may start above height 1 (installed from a snapshot) or be pruned: its **floor** is the
lowest height from which every block is held and from which versioned state reads are answered
(1 for a ledger that holds everything). Below it the ledger may still hold some blocks (the
ones a pruning kept, e.g. those that changed the consortium config) and the tx index; a read
that would need what is gone raises ``Pruned`` (``maintenance.py`` has the operations).

Invariant
---------
**One block is one atomic, durable write.** After ``commit_block(c)`` returns, every record of
block ``c.height`` is durable and the head says ``c.height``; if the process dies at any moment
before that, a reopened ledger shows none of them. A reader therefore always sees the ledger at a
block boundary: ``height() == h`` implies blocks, commits, receipts, indexes, events and state
of 1..h and nothing of h+1. A rejected ``commit_block`` (wrong height, duplicate tx id, invalid
record) changes nothing.

Backends: ``lmdb.LmdbLedger`` (embedded default) and ``postgres.PostgresLedger``; the checks
(``validate.py``, ``check_block_commit``) are shared so that both reject the same inputs with the
same errors, and the same test suite runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from yulian.ledger.events import EventCursor, EventPage, EventRecord, check_events
from yulian.ledger.validate import (
    MAX_HASH_BYTES,
    MAX_HEIGHT,
    MAX_HISTORY_LIMIT,
    MAX_KEY_BYTES,
    MAX_META_NAME_BYTES,
    MAX_RECORD_BYTES,
    MAX_SCAN_LIMIT,
    MAX_STATE_SUM_BYTES,
    MAX_TX_ID_BYTES,
    MAX_TXS_PER_BLOCK,
    MAX_WRITES_PER_BLOCK,
    CorruptLedger,
    DuplicateBlockHash,
    DuplicateTx,
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
    check_prefix,
    check_record,
    check_scan,
    check_tx_ids,
    check_tx_index,
)

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
    "Pruned",
    "UnsupportedFormat",
    "check_block_commit",
    "check_height",
    "check_key",
    "check_limit",
    "check_meta_name",
    "check_prefix",
    "check_record",
    "check_scan",
    "check_tx_ids",
    "check_tx_index",
]


# ---------------------------------------------------------------------------------------------
# The record of one block
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockCommit:
    """Everything written for one block, in one atomic write.

    ``writes`` is the block's write set: ``(key, new value)`` pairs, ``None`` meaning delete,
    keys unique and strictly ascending (bytewise). ``receipts[i]`` belongs to ``tx_ids[i]``.
    ``events`` are the events of the receipts in cursor order (``events.block_events``).
    ``state_sum`` is the state's homomorphic hash after the block (``state_root`` is its
    hash; execution computes both): kept for the head, so the next block can move it.
    """

    height: int
    block_hash: bytes
    block: bytes
    commit: bytes
    tx_ids: tuple[bytes, ...]
    receipts: tuple[bytes, ...]
    writes: tuple[tuple[bytes, bytes | None], ...]
    state_root: bytes
    events: tuple[EventRecord, ...] = field(default=())
    state_sum: bytes = b""


# ---------------------------------------------------------------------------------------------
# Validation of a whole block
# ---------------------------------------------------------------------------------------------


def check_block_commit(c: BlockCommit) -> None:
    """Check every field of ``c`` against its type and limit; raise ``InvalidInput`` or
    ``DuplicateTx`` (tx id repeated inside the block). Does not look at stored data."""
    if not isinstance(c, BlockCommit):
        raise InvalidInput(f"expected BlockCommit, got {type(c).__name__}")
    check_height(c.height, allow_zero=False)
    check_key(c.block_hash, "block_hash", MAX_HASH_BYTES)
    check_key(c.state_root, "state_root", MAX_HASH_BYTES)
    if type(c.state_sum) is not bytes or len(c.state_sum) > MAX_STATE_SUM_BYTES:
        raise InvalidInput(f"state_sum must be bytes of at most {MAX_STATE_SUM_BYTES}")
    check_record(c.block, "block")
    check_record(c.commit, "commit")
    _check_txs(c.tx_ids, c.receipts)
    _check_writes(c.writes)
    check_events(c.events, len(c.tx_ids), MAX_RECORD_BYTES)


def _check_txs(tx_ids: object, receipts: object) -> None:
    if type(tx_ids) is not tuple or type(receipts) is not tuple:
        raise InvalidInput("tx_ids and receipts must be tuples")
    if len(tx_ids) != len(receipts):
        raise InvalidInput(f"{len(tx_ids)} tx ids but {len(receipts)} receipts")
    if len(tx_ids) > MAX_TXS_PER_BLOCK:
        raise InvalidInput(f"{len(tx_ids)} txs, over {MAX_TXS_PER_BLOCK}")
    # per-item loops run once per tx of every block: the checkers are called only to name a fault
    for tx_id in tx_ids:
        if type(tx_id) is not bytes or not 1 <= len(tx_id) <= MAX_TX_ID_BYTES:
            check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
    for receipt in receipts:
        if type(receipt) is not bytes or len(receipt) > MAX_RECORD_BYTES:
            check_record(receipt, "receipt")
    if len(set(tx_ids)) != len(tx_ids):
        seen: set[bytes] = set()
        for tx_id in tx_ids:
            if tx_id in seen:
                raise DuplicateTx(tx_id, None)
            seen.add(tx_id)


def _check_writes(writes: object) -> None:
    if type(writes) is not tuple:
        raise InvalidInput("writes must be a tuple")
    if len(writes) > MAX_WRITES_PER_BLOCK:
        raise InvalidInput(f"{len(writes)} writes, over {MAX_WRITES_PER_BLOCK}")
    previous = b""  # below every key (keys are never empty)
    for item in writes:  # once per write of every block: as in _check_txs
        if type(item) is not tuple or len(item) != 2:
            raise InvalidInput("each write must be a (key, value | None) tuple")
        key, value = item
        if type(key) is not bytes or not 1 <= len(key) <= MAX_KEY_BYTES:
            check_key(key, "state key")
        if value is not None and (type(value) is not bytes or len(value) > MAX_RECORD_BYTES):
            check_record(value, "state value")
        if key <= previous:
            raise InvalidInput(f"write keys not strictly ascending at {key!r}")
        previous = key


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class Ledger(Protocol):
    """The storage of one node's copy of the chain. See the module docstring for the invariant.

    Reads may run from any thread while one writer commits; each read sees one consistent
    snapshot (a block boundary). Heights are ints; querying a height above the head returns
    ``None`` for per-block records and raises ``InvalidInput`` for versioned state reads
    (the answer would not be final yet). Every argument is validated (``InvalidInput``).
    """

    def height(self) -> int:
        """Height of the last committed block; 0 when none."""
        ...

    def commit_block(self, c: BlockCommit) -> None:
        """Write all of ``c`` in one atomic durable transaction (see module invariant).

        Raises ``HeightMismatch`` unless ``c.height == height() + 1``, ``DuplicateTx`` if a tx
        id is already committed or repeated, ``DuplicateBlockHash``, ``InvalidInput`` for a
        malformed field (e.g. a key over ``MAX_KEY_BYTES``), ``LedgerFull``. On any error
        nothing is written.
        """
        ...

    def block(self, height: int) -> bytes | None:
        """The encoded block at ``height``, or None."""
        ...

    def commit(self, height: int) -> bytes | None:
        """The encoded commit certificate of the block at ``height``, or None."""
        ...

    def block_hash(self, height: int) -> bytes | None:
        """The hash of the block at ``height``, or None."""
        ...

    def block_height(self, block_hash: bytes) -> int | None:
        """The height of the block with hash ``block_hash``, or None."""
        ...

    def state_root(self, height: int | None = None) -> bytes | None:
        """The state root after block ``height`` (None: the head); None if no such block."""
        ...

    def state_sum(self) -> bytes | None:
        """The state sum of the head (``BlockCommit.state_sum``); None at height 0."""
        ...

    def floor(self) -> int:
        """The lowest height from which every block is held and versioned state reads are
        answered: 1 unless the ledger was pruned or installed from a snapshot."""
        ...

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        """``(height, index in block)`` of a committed tx, or None."""
        ...

    def has_tx(self, tx_id: bytes) -> bool:
        """Whether ``tx_id`` is committed."""
        ...

    def has_txs(self, tx_ids: Sequence[bytes]) -> list[bool]:
        """``[has_tx(i) for i in tx_ids]`` from one snapshot (one read for a whole batch, e.g.
        the duplicate check of a gossiped batch). At most ``MAX_TXS_PER_BLOCK`` ids; every id
        is checked before anything is read."""
        ...

    def receipt(self, height: int, index: int) -> bytes | None:
        """The encoded receipt of tx ``index`` of block ``height``, or None."""
        ...

    def receipts(self, height: int) -> list[bytes] | None:
        """All receipts of block ``height`` in block order, or None if no such block."""
        ...

    def tx_ids(self, height: int) -> list[bytes] | None:
        """The tx ids of block ``height`` in block order, or None if no such block."""
        ...

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
        """Committed events strictly after cursor ``after`` (None: from the first), in cursor
        order, that match every given filter; at most ``limit`` (<= ``MAX_EVENT_LIMIT``), after
        examining at most ``scan_limit`` (<= ``MAX_EVENT_SCAN``) events. All from one snapshot.
        See ``events.EventPage`` for how to continue. Raises ``Pruned`` when events after
        ``after`` may be gone (it lies below the floor of a ledger whose floor is above 1)."""
        ...

    def get(self, key: bytes) -> bytes | None:
        """The current value of ``key`` (as of the head), or None if absent/deleted."""
        ...

    def get_at(self, key: bytes, height: int) -> bytes | None:
        """The value of ``key`` at the end of block ``height`` (0 <= height <= head); raises
        ``Pruned`` below the floor (of a ledger whose floor is above 1)."""
        ...

    def history(
        self, key: bytes, limit: int = 100, before_height: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        """Versions of ``key``, newest first: ``(height, value or None for a delete)``, only
        heights ``< before_height`` when given, at most ``limit`` (<= MAX_HISTORY_LIMIT)."""
        ...

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Current ``(key, value)`` pairs whose key starts with ``prefix``, ascending, keys
        ``> start_after`` when given, at most ``limit`` (<= MAX_SCAN_LIMIT). Page by passing
        the last key returned as ``start_after``."""
        ...

    def scan_keys(self, prefix: bytes, limit: int, start_after: bytes | None = None) -> list[bytes]:
        """The keys ``scan_prefix`` would return, without their values (a cheap listing)."""
        ...

    def get_meta(self, name: str) -> bytes | None:
        """The metadata value stored under ``name``, or None."""
        ...

    def put_meta(self, name: str, value: bytes) -> None:
        """Store ``value`` under ``name`` durably (its own atomic write)."""
        ...

    def check_integrity(self) -> None:
        """Walk every record and cross-check tables; raise ``CorruptLedger`` on any mismatch.
        Cost is linear in the size of the ledger: for tools and tests, not the hot path."""
        ...

    def close(self) -> None:
        """Release the storage. Idempotent; later calls raise ``LedgerClosed``."""
        ...
