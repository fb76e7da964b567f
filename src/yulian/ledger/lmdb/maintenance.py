"""The maintenance operations of the LMDB ledger: read versions, install a snapshot, prune.

Introduction
------------
``ledger/maintenance.py`` states what each operation means; this module does it with LMDB's
tables (``ledger.py``). A version read is one read transaction over the ``history`` table, whose
order is version order. An install is one write transaction into an empty environment. A
pruning first raises the ``floor`` record, then deletes in write transactions of at most
``PRUNE_BATCH`` records, each removing whole blocks (every per-height table at once, so the
tables always agree) or whole keys' versions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from yulian.ledger.lmdb import writes
from yulian.ledger.lmdb.codec import (
    HEIGHT,
    LOCATION,
    Head,
    decode_cursor,
    decode_event,
    decode_height,
    decode_history_value,
    encode_head,
    encode_height,
    make_history_prefix,
    name_digest,
    seal_value,
    split_history_key,
    unseal_value,
)
from yulian.ledger.lmdb.gate import Reading, Txn
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
from yulian.ledger.validate import InvalidInput, LedgerError

if TYPE_CHECKING:
    from yulian.ledger.lmdb.ledger import LmdbLedger

_BLOCK_TABLES = ("blocks", "commits", "hashes", "roots", "blocktxs")
_TABLES_EMPTY_FOR_INSTALL = (
    *_BLOCK_TABLES,
    "byhash",
    "txindex",
    "receipts",
    "events",
    "evcontract",
    "evname",
    "state",
    "history",
)


class VersionReading:
    """``LmdbLedger.read_versions()``: one read transaction, and the head it sees."""

    def __init__(self, ledger: LmdbLedger) -> None:
        self._ledger = ledger
        self._reading = Reading(ledger)

    def __enter__(self) -> _Reader:
        txn = self._reading.__enter__()
        try:
            head = self._ledger._read_head(txn)
        except BaseException as exc:
            self._reading.__exit__(type(exc), exc, None)
            raise
        return _Reader(txn, self._ledger._tables["history"], head)

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._reading.__exit__(exc_type, exc, tb)


class _Reader:
    def __init__(self, txn: Txn, history: object, head: Head) -> None:
        self._txn, self._history = txn, history
        self.height, self.block_hash, self.state_root, self.state_sum = head

    def versions(self) -> Iterator[Version]:
        for history_key, raw in self._txn.cursor(db=self._history):
            key, height = split_history_key(history_key)
            yield key, height, decode_history_value(unseal_value(history_key, raw, "history"))


# ---------------------------------------------------------------------------------------------
# Install
# ---------------------------------------------------------------------------------------------


def install(ledger: LmdbLedger, base: SnapshotBase, versions: Iterable[Version]) -> None:
    check_snapshot_base(base)
    if iter(versions) is versions:
        raise InvalidInput("versions must be re-iterable (a write may be run again)")
    ledger._write(lambda txn: _fill_install(ledger, txn, base, versions))


def _fill_install(
    ledger: LmdbLedger, txn: Txn, base: SnapshotBase, versions: Iterable[Version]
) -> None:
    tables = ledger._tables
    for table in _TABLES_EMPTY_FOR_INSTALL:
        if txn.stat(tables[table])["entries"]:
            raise LedgerError(f"a snapshot is installed into an empty ledger; {table} holds data")
    if ledger._get(txn, "sys", b"head") is not None:
        raise LedgerError("a snapshot is installed into an empty ledger; it has a head")
    for block in (*base.kept, base.block):
        writes.put_block_records(txn, tables, block)
        writes.put_txs(txn, tables, block)
        writes.put_events(txn, tables, block)
    index_records = [
        (tx_id, seal_value(tx_id, LOCATION.pack(height, i)))
        for height, tx_ids in base.recent_txs
        for i, tx_id in enumerate(tx_ids)
    ]
    _, added = txn.cursor(db=tables["txindex"]).putmulti(index_records, overwrite=False)
    if added != len(index_records):
        raise InvalidInput("a tx id of the replay window is repeated or in a kept block")
    _put_versions(txn, tables, checked_versions(versions, base.height))
    b = base.block
    ledger._put(
        txn, "sys", b"head", encode_head(Head(b.height, b.block_hash, b.state_root, b.state_sum))
    )
    ledger._put(txn, "sys", b"floor", encode_height(b.height))


def _put_versions(txn: Txn, tables: dict[str, object], versions: Iterator[Version]) -> None:
    """History records for every version and the state record of each key's newest one
    (versions come in version order, so a key's newest is the last of its run)."""
    batch: list[Version] = []
    last: Version | None = None
    state = txn.cursor(db=tables["state"])
    for version in versions:
        if last is not None and last[0] != version[0] and last[2] is not None:
            state.put(last[0], seal_value(last[0], last[2]))
        last = version
        batch.append(version)
        if len(batch) == PRUNE_BATCH:
            _put_history(txn, tables, batch)
            batch = []
    if last is not None and last[2] is not None:
        state.put(last[0], seal_value(last[0], last[2]))
    _put_history(txn, tables, batch)


def _put_history(txn: Txn, tables: dict[str, object], batch: list[Version]) -> None:
    records = []
    for key, height, value in batch:
        history_key = make_history_prefix(key) + encode_height(height)
        tagged = b"\x00" if value is None else b"\x01" + value
        records.append((history_key, seal_value(history_key, tagged)))
    txn.cursor(db=tables["history"]).putmulti(records, append=True)


# ---------------------------------------------------------------------------------------------
# Prune
# ---------------------------------------------------------------------------------------------


def prune(
    ledger: LmdbLedger, below: int, keep_heights: Collection[int], window: Callable[[bytes], int]
) -> PruneReport:
    keep = frozenset(keep_heights)
    with ledger._read() as txn:
        head, floor = ledger._read_head(txn).height, ledger._read_floor(txn)
    check_prune(below, head, floor)
    if below > floor:
        ledger._write(lambda txn: ledger._put(txn, "sys", b"floor", encode_height(below)))
    blocks = 0
    while dropped := _in_write(ledger, lambda txn: _drop_blocks(ledger, txn, below, keep)):
        blocks += dropped
    versions, resume = 0, _Resume()
    while True:
        versions += _in_write(
            ledger, lambda txn: _drop_versions(ledger, txn, below, keep, window, resume)
        )
        if resume.key is None:
            return PruneReport(below, blocks, versions)


class _Resume:
    """Where the next batch of the version walk starts (a key's history prefix; None: done)."""

    key: bytes | None = None


def _in_write(ledger: LmdbLedger, fill: Callable[[Txn], int]) -> int:
    """Run ``fill`` in one write transaction and return its count."""
    counts: list[int] = []
    ledger._write(lambda txn: counts.append(fill(txn)))
    return counts[-1]


def _drop_blocks(ledger: LmdbLedger, txn: Txn, below: int, keep: frozenset[int]) -> int:
    """Delete whole blocks below ``below`` (not kept) until about ``PRUNE_BATCH`` records are
    gone; return how many blocks."""
    cursor = txn.cursor(db=ledger._tables["blocks"])
    found = cursor.first()
    heights: list[int] = []
    while found and len(heights) < PRUNE_BATCH:
        height = decode_height(cursor.key(), "blocks")
        if height >= below:
            break
        if height not in keep:
            heights.append(height)
        found = cursor.next()
    records = 0
    for count, height in enumerate(heights, start=1):
        records += _drop_block(ledger, txn, height)
        if records >= PRUNE_BATCH:
            return count
    return len(heights)


def _drop_block(ledger: LmdbLedger, txn: Txn, height: int) -> int:
    tables = ledger._tables
    h = encode_height(height)
    block_hash = ledger._get(txn, "hashes", h)
    for table in _BLOCK_TABLES:
        txn.delete(h, db=tables[table])
    if block_hash is not None:
        txn.delete(block_hash, db=tables["byhash"])
    removed = 0
    for table in ("receipts", "events"):
        cursor = txn.cursor(db=tables[table])
        found = cursor.set_range(h)
        while found and cursor.key()[: HEIGHT.size] == h:
            if table == "events":
                raw_cursor, raw = cursor.item()
                event = decode_event(
                    decode_cursor(raw_cursor, "events"), unseal_value(raw_cursor, raw, "events")
                )
                txn.delete(name_digest(event.contract) + raw_cursor, db=tables["evcontract"])
                txn.delete(
                    name_digest(event.contract, event.name) + raw_cursor, db=tables["evname"]
                )
            found = cursor.delete()
            removed += 1
    return removed


def _drop_versions(
    ledger: LmdbLedger,
    txn: Txn,
    below: int,
    keep: frozenset[int],
    window: Callable[[bytes], int],
    resume: _Resume,
) -> int:
    """Walk the history from ``resume.key`` (a key's history prefix, or the start) for about
    ``PRUNE_BATCH`` versions, deleting what ``versions_to_drop`` says; leave in ``resume.key``
    the prefix of the next key, or None at the end. Return how many versions went."""
    history = ledger._tables["history"]
    cursor = txn.cursor(db=history)
    found = cursor.set_range(resume.key) if resume.key is not None else cursor.first()
    walked = dropped = 0
    while found:
        key, _ = split_history_key(cursor.key())
        prefix = make_history_prefix(key)
        if walked >= PRUNE_BATCH:
            resume.key = prefix
            return dropped
        heights = []
        while found and cursor.key().startswith(prefix):
            heights.append(decode_height(cursor.key()[len(prefix) :], "history"))
            found = cursor.next()
        walked += len(heights)
        doomed = versions_to_drop(heights, below, keep, window(key))
        for height in doomed:
            txn.delete(prefix + encode_height(height), db=history)
        if doomed:  # the deletes moved the cursor: seek past this key's newest version again
            found = cursor.set_range(prefix + encode_height(heights[-1]) + b"\x00")
        dropped += len(doomed)
    resume.key = None
    return dropped
