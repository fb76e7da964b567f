"""The records one block adds to an LMDB ledger, inside the caller's write transaction.

Introduction
------------
The hot path of ``commit_block``: records are built in comprehensions and handed to LMDB in one
``putmulti`` per table, which loops in C; the seal is inlined. Tables keyed by height (or by
cursor) only ever grow at the end, so they are written with ``append`` and a record that would
land below the end means the tables disagree with the head (``CorruptLedger``).
"""

from __future__ import annotations

import zlib
from typing import Any

from yulian.ledger.lmdb.codec import (
    CRC,
    HISTORY_DELETED,
    HISTORY_VALUE,
    KEY_LENGTH,
    LOCATION,
    decode_height,
    decode_location,
    encode_cursor,
    encode_event,
    encode_height,
    encode_tx_ids,
    name_digest,
    seal_value,
    unseal_value,
)
from yulian.ledger.lmdb.gate import Txn
from yulian.ledger.store import BlockCommit
from yulian.ledger.validate import CorruptLedger, DuplicateBlockHash, DuplicateTx

Tables = dict[str, Any]


def _get(txn: Txn, tables: Tables, table: str, key: bytes) -> bytes | None:
    raw = txn.get(key, db=tables[table])
    return None if raw is None else unseal_value(key, raw, table)


def put_block_records(txn: Txn, tables: Tables, c: BlockCommit) -> None:
    h = encode_height(c.height)
    for table, value in (
        ("blocks", c.block),
        ("commits", c.commit),
        ("hashes", c.block_hash),
        ("roots", c.state_root),
        ("blocktxs", encode_tx_ids(c.tx_ids)),
    ):
        if not txn.put(h, seal_value(h, value), db=tables[table], append=True):
            raise CorruptLedger(f"{table} already holds a record above height {c.height - 1}")
    if not txn.put(c.block_hash, seal_value(c.block_hash, h), db=tables["byhash"], overwrite=False):
        other = _get(txn, tables, "byhash", c.block_hash)
        raise DuplicateBlockHash(c.block_hash, decode_height(other or b"", "byhash"))


def put_txs(txn: Txn, tables: Tables, c: BlockCommit) -> None:
    # Hot path (two records per tx): the records are built in comprehensions and handed to
    # LMDB in one ``putmulti`` per table, which loops in C; the seal is inlined.
    height, pack, crc = c.height, LOCATION.pack, zlib.crc32
    seal = CRC.pack
    locations = [pack(height, index) for index in range(len(c.tx_ids))]
    index_records = [
        (tx_id, seal(crc(loc, crc(tx_id))) + loc)
        for tx_id, loc in zip(c.tx_ids, locations, strict=True)
    ]
    _, added = txn.cursor(db=tables["txindex"]).putmulti(index_records, overwrite=False)
    if added != len(index_records):
        _raise_duplicate_tx(txn, tables, index_records)
    receipt_records = [
        (loc, seal(crc(receipt, crc(loc))) + receipt)
        for loc, receipt in zip(locations, c.receipts, strict=True)
    ]
    _, added = txn.cursor(db=tables["receipts"]).putmulti(receipt_records, append=True)
    if added != len(receipt_records):
        raise CorruptLedger(f"receipts already hold a record above height {height - 1}")


def put_events(txn: Txn, tables: Tables, c: BlockCommit) -> None:
    """The event records and both index entries of each; all keys of one block sort after
    every key of the blocks before it within their group, so the primary table appends."""
    if not c.events:
        return
    seal, crc = CRC.pack, zlib.crc32
    digests: dict[tuple[str, str | None], bytes] = {}
    records: list[tuple[bytes, bytes]] = []
    index_records: list[tuple[bytes, bytes]] = []
    for e in c.events:
        cursor = encode_cursor((c.height, e.tx_index, e.event_index))
        value = encode_event(c.tx_ids[e.tx_index], e.contract, e.name, e.key, e.payload)
        records.append((cursor, seal(crc(value, crc(cursor))) + value))
        for group in ((e.contract, None), (e.contract, e.name)):
            digest = digests.get(group)
            if digest is None:
                digest = digests[group] = name_digest(*group)
            index_key = digest + cursor
            index_records.append((index_key, seal(crc(index_key))))
    _, added = txn.cursor(db=tables["events"]).putmulti(records, append=True)
    if added != len(records):
        raise CorruptLedger(f"events already hold a record above height {c.height - 1}")
    by_contract, by_name = index_records[0::2], index_records[1::2]
    txn.cursor(db=tables["evcontract"]).putmulti(by_contract, overwrite=False)
    txn.cursor(db=tables["evname"]).putmulti(by_name, overwrite=False)


def _raise_duplicate_tx(txn: Txn, tables: Tables, index_records: list[tuple[bytes, bytes]]) -> None:
    """A tx id of the block was already committed (``putmulti`` kept its old record): name
    the first one, with where it was committed."""
    for tx_id, sealed in index_records:
        if txn.get(tx_id, db=tables["txindex"]) != sealed:
            other = _get(txn, tables, "txindex", tx_id)
            raise DuplicateTx(tx_id, decode_location(other or b"", "txindex"))
    raise CorruptLedger("txindex: a record was not written, yet every one reads back")


def put_state(
    txn: Txn, tables: Tables, height: int, writes: tuple[tuple[bytes, bytes | None], ...]
) -> None:
    # Hot path (one or two records per write): as in _put_txs.
    seal, crc, prefix = CRC.pack, zlib.crc32, KEY_LENGTH.pack
    h = encode_height(height)
    state_records: list[tuple[bytes, bytes]] = []
    history_records: list[tuple[bytes, bytes]] = []
    deleted: list[bytes] = []
    for key, value in writes:
        if value is None:
            deleted.append(key)
            tagged = HISTORY_DELETED
        else:
            state_records.append((key, seal(crc(value, crc(key))) + value))
            tagged = HISTORY_VALUE + value
        history_key = prefix(len(key)) + key + h
        history_records.append((history_key, seal(crc(tagged, crc(history_key))) + tagged))
    state = tables["state"]
    for key in deleted:
        txn.delete(key, db=state)
    txn.cursor(db=state).putmulti(state_records)
    txn.cursor(db=tables["history"]).putmulti(history_records)
