"""How the LMDB backend lays records out in bytes, and how it seals them.

Introduction
------------
Every stored value is *sealed*: ``crc32(key, value)`` (4 bytes BE) followed by the value, so a
flipped bit in a record or its key is reported as ``CorruptLedger`` when read, never returned.
Heights are u64 big-endian so that byte order is height order; a tx location is
``height (u64) + index (u32)``; an event cursor is ``height (u64) + tx (u32) + event (u32)``.
These layouts are the on-disk format (``FORMAT_TAG``): changing one is a format change.
"""

from __future__ import annotations

import errno
import hashlib
import struct
import zlib
from typing import NamedTuple

import lmdb

from yulian.ledger.events import EventCursor, StoredEvent
from yulian.ledger.validate import MAX_HASH_BYTES, CorruptLedger, LedgerError, LedgerFull

FORMAT_TAG = b"yulian-ledger-lmdb/3"
#: What to do about a ledger an older release wrote: its chain's state roots are of an earlier
#: rule (format 2 and before chained the write sets; format 3 commits to the whole state), so
#: no block of it verifies under this release and no migration can make one (decision 0052).
_OLD_CHAIN = (
    "its chain's state roots follow the rule of an earlier release (a hash chained over each "
    "block's writes), which this release does not compute, so the chain cannot continue here: "
    "keep running that release for this chain, or start a new chain with this one"
)
#: Formats an older release wrote, with what to do about them.
OLD_FORMATS = {
    b"yulian-ledger-lmdb/1": _OLD_CHAIN,
    b"yulian-ledger-lmdb/2": _OLD_CHAIN,
}

HEIGHT = struct.Struct(">Q")
LOCATION = struct.Struct(">QI")
CURSOR = struct.Struct(">QII")
KEY_LENGTH = struct.Struct(">H")
CRC = struct.Struct(">I")
EVENT_HEAD = struct.Struct(">BHHI")  # lengths of tx id, contract, name, key
HISTORY_DELETED = b"\x00"
HISTORY_VALUE = b"\x01"
#: History key overhead: the u16 key length in front and the u64 height behind the key.
HISTORY_OVERHEAD_BYTES = KEY_LENGTH.size + HEIGHT.size
CURSOR_BYTES = CURSOR.size
#: Bytes of the digest that names a contract (or a contract and event name) in index keys.
NAME_DIGEST_BYTES = 16

_LMDB_CORRUPTION = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.PanicError,
    lmdb.InvalidError,
    lmdb.VersionMismatchError,
    lmdb.BadChecksumError,
)


def seal_value(key: bytes, value: bytes) -> bytes:
    """Prefix ``value`` with the CRC-32 of key and value."""
    return CRC.pack(zlib.crc32(value, zlib.crc32(key))) + value


def unseal_value(key: bytes, raw: bytes, table: str) -> bytes:
    """Strip and verify the seal of a stored value; raise ``CorruptLedger`` on mismatch."""
    if len(raw) < CRC.size:
        raise CorruptLedger(f"{table}: record for key {key.hex()[:80]} is truncated")
    value = raw[CRC.size :]
    if CRC.unpack_from(raw)[0] != zlib.crc32(value, zlib.crc32(key)):
        raise CorruptLedger(f"{table}: checksum mismatch for key {key.hex()[:80]}")
    return value


def encode_height(height: int) -> bytes:
    return HEIGHT.pack(height)


def decode_height(raw: bytes, table: str) -> int:
    if len(raw) != HEIGHT.size:
        raise CorruptLedger(f"{table}: height record of {len(raw)} bytes")
    height: int = HEIGHT.unpack(raw)[0]
    return height


def encode_location(height: int, index: int) -> bytes:
    return LOCATION.pack(height, index)


def decode_location(raw: bytes, table: str) -> tuple[int, int]:
    if len(raw) != LOCATION.size:
        raise CorruptLedger(f"{table}: location record of {len(raw)} bytes")
    height, index = LOCATION.unpack(raw)
    return height, index


def encode_cursor(cursor: tuple[int, int, int]) -> bytes:
    return CURSOR.pack(*cursor)


def decode_cursor(raw: bytes, table: str) -> EventCursor:
    if len(raw) != CURSOR.size:
        raise CorruptLedger(f"{table}: cursor of {len(raw)} bytes")
    return EventCursor(*CURSOR.unpack(raw))


def make_history_prefix(key: bytes) -> bytes:
    return KEY_LENGTH.pack(len(key)) + key


def split_history_key(history_key: bytes) -> tuple[bytes, int]:
    if len(history_key) < HISTORY_OVERHEAD_BYTES + 1:
        raise CorruptLedger("history: key too short")
    (length,) = KEY_LENGTH.unpack_from(history_key)
    if len(history_key) != length + HISTORY_OVERHEAD_BYTES:
        raise CorruptLedger("history: key length prefix disagrees with the key")
    key = history_key[KEY_LENGTH.size : KEY_LENGTH.size + length]
    return key, decode_height(history_key[-HEIGHT.size :], "history")


def decode_history_value(raw: bytes) -> bytes | None:
    if raw == HISTORY_DELETED:
        return None
    if raw[:1] != HISTORY_VALUE:
        raise CorruptLedger("history: unknown version tag")
    return raw[1:]


class Head(NamedTuple):
    """The head record: the last block's height, hash and state root, and the state sum."""

    height: int
    block_hash: bytes
    state_root: bytes
    state_sum: bytes


EMPTY_HEAD = Head(0, b"", b"", b"")


def encode_head(head: Head) -> bytes:
    """``height (u64) || len(hash) (u8) || hash || len(root) (u8) || root || state sum``."""
    height, block_hash, root, state_sum = head
    return (
        HEIGHT.pack(height)
        + bytes([len(block_hash)])
        + block_hash
        + bytes([len(root)])
        + root
        + state_sum
    )


def decode_head(raw: bytes) -> Head:
    at = HEIGHT.size
    if len(raw) < at + 2:
        raise CorruptLedger("sys: head record too short")
    height: int = HEIGHT.unpack_from(raw)[0]
    block_hash = raw[at + 1 : at + 1 + raw[at]]
    at += 1 + raw[at]
    root_len = raw[at] if at < len(raw) else 0
    state_root = raw[at + 1 : at + 1 + root_len]
    state_sum = raw[at + 1 + root_len :]
    if (
        not 1 <= len(block_hash) <= MAX_HASH_BYTES
        or not 1 <= root_len == len(state_root) <= MAX_HASH_BYTES
    ):
        raise CorruptLedger("sys: malformed head record")
    return Head(height, block_hash, state_root, state_sum)


def encode_tx_ids(tx_ids: tuple[bytes, ...]) -> bytes:
    """A block's tx ids as one record: each one's length (one byte) and bytes."""
    return b"".join(bytes([len(tx_id)]) + tx_id for tx_id in tx_ids)


def decode_tx_ids(raw: bytes) -> list[bytes]:
    result: list[bytes] = []
    at = 0
    while at < len(raw):
        end = at + 1 + raw[at]
        if end > len(raw) or raw[at] == 0:
            raise CorruptLedger("blocktxs: malformed tx id list")
        result.append(raw[at + 1 : end])
        at = end
    return result


def name_digest(contract: str, name: str | None = None) -> bytes:
    """The fixed-size name of a contract (or of a contract's event name) in the index keys:
    names may be longer than an LMDB key allows. A collision only costs a longer scan: every
    index hit is checked against the event record itself."""
    text = contract if name is None else contract + "\x00" + name
    return hashlib.blake2b(text.encode("utf-8"), digest_size=NAME_DIGEST_BYTES).digest()


def encode_event(tx_id: bytes, contract: str, name: str, key: bytes, payload: bytes) -> bytes:
    c, n = contract.encode("utf-8"), name.encode("utf-8")
    return EVENT_HEAD.pack(len(tx_id), len(c), len(n), len(key)) + tx_id + c + n + key + payload


def decode_event(cursor: EventCursor, raw: bytes) -> StoredEvent:
    if len(raw) < EVENT_HEAD.size:
        raise CorruptLedger("events: record too short")
    tx_len, c_len, n_len, k_len = EVENT_HEAD.unpack_from(raw)
    at = EVENT_HEAD.size
    ends = (at + tx_len, at + tx_len + c_len, at + tx_len + c_len + n_len)
    key_end = ends[2] + k_len
    if key_end > len(raw):
        raise CorruptLedger("events: field lengths exceed the record")
    try:
        contract = raw[ends[0] : ends[1]].decode("utf-8")
        name = raw[ends[1] : ends[2]].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptLedger(f"events: name is not UTF-8: {exc}") from None
    return StoredEvent(
        cursor, raw[at : ends[0]], contract, name, raw[ends[2] : key_end], raw[key_end:]
    )


def translate_lmdb_error(exc: lmdb.Error) -> LedgerError:
    """Map an LMDB error to the ledger's named errors."""
    if isinstance(exc, _LMDB_CORRUPTION):
        return CorruptLedger(f"LMDB reports corruption: {exc}")
    if isinstance(exc, lmdb.MapFullError):
        return LedgerFull(str(exc))
    if isinstance(exc, lmdb.DiskError) or getattr(exc, "code", 0) == errno.ENOSPC:
        return LedgerFull(f"disk error: {exc}")
    return LedgerError(f"LMDB error: {exc}")
