"""Introduction: the ``private`` peer message — push, pull and items (decision 0081).

The network layer carries a ``private`` message's payload as opaque bytes (at most
``MAX_PRIVATE_MESSAGE_BYTES``); this module is its strict codec. The payload is the canonical
msgpack of ``[kind, entries]``:

=========  ==============================================  =========================
kind       entry                                           meaning
=========  ==============================================  =========================
``push``   ``[collection, key, salt, value]``              a write admitted here
``pull``   ``[collection, key, digest]``                   send me these versions
``items``  ``[collection, key, salt, value]``              the versions asked for
=========  ==============================================  =========================

At most ``MAX_ENTRIES`` entries; a value at most 1 MiB (the largest a collection allows).
``decode_private`` raises only ``DecodeError``; it checks shapes, never membership — the
service decides who may send or receive what.
"""

from __future__ import annotations

from dataclasses import dataclass

from yulian.privacy.store import PrivateItem
from yulian.types.encoding import DecodeError, Limits, decode, encode
from yulian.types.privacy import MAX_KEY, MAX_VALUE_LIMIT, SALT_BYTES

PUSH = "push"
PULL = "pull"
ITEMS = "items"
MAX_ENTRIES = 256
MAX_PRIVATE_MESSAGE_BYTES = 16 * 1024 * 1024
WIRE_LIMITS = Limits(
    max_bytes=MAX_PRIVATE_MESSAGE_BYTES,
    max_depth=3,
    max_items=MAX_ENTRIES,
    max_str=MAX_KEY,
    max_bin=MAX_VALUE_LIMIT,
)


@dataclass(frozen=True)
class Wanted:
    collection: str
    key: str
    digest: bytes


@dataclass(frozen=True)
class PrivateMessage:
    kind: str
    items: tuple[PrivateItem, ...] = ()
    wanted: tuple[Wanted, ...] = ()

    def encode(self) -> bytes:
        entries: tuple[tuple[str | bytes, ...], ...]
        if self.kind == PULL:
            entries = tuple((w.collection, w.key, w.digest) for w in self.wanted)
        else:
            entries = tuple((i.collection, i.key, i.salt, i.value) for i in self.items)
        data = encode((self.kind, entries))
        decode_private(data)  # never send what a peer must drop
        return data


def decode_private(data: bytes) -> PrivateMessage:
    """The message in ``data``; raises ``DecodeError`` for anything else."""
    value = decode(data, WIRE_LIMITS)
    if not isinstance(value, tuple) or len(value) != 2 or not isinstance(value[1], tuple):
        raise DecodeError("private message: expected [kind, entries]")
    kind, entries = value
    if kind not in (PUSH, PULL, ITEMS):
        raise DecodeError(f"private message: unknown kind {kind!r}")
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise DecodeError(f"private message: 1..{MAX_ENTRIES} entries")
    if kind == PULL:
        return PrivateMessage(kind, wanted=tuple(_wanted(e) for e in entries))
    return PrivateMessage(kind, items=tuple(_item(e) for e in entries))


def _names(entry: object, size: int) -> tuple[object, ...]:
    if not isinstance(entry, tuple) or len(entry) != size:
        raise DecodeError(f"private message: an entry has {size} fields")
    if not (isinstance(entry[0], str) and entry[0] and isinstance(entry[1], str) and entry[1]):
        raise DecodeError("private message: collection and key are non-empty strings")
    return entry


def _wanted(entry: object) -> Wanted:
    collection, key, digest = _names(entry, 3)
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise DecodeError("private message: a digest is 32 bytes")
    return Wanted(str(collection), str(key), digest)


def _item(entry: object) -> PrivateItem:
    collection, key, salt, value = _names(entry, 4)
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise DecodeError(f"private message: a salt is {SALT_BYTES} bytes")
    if not isinstance(value, bytes):
        raise DecodeError("private message: a value is bytes")
    return PrivateItem(str(collection), str(key), salt, value)


def split_items(kind: str, items: list[PrivateItem]) -> list[PrivateMessage]:
    """``items`` as messages of ``kind`` within the entry and byte limits."""
    out: list[PrivateMessage] = []
    batch: list[PrivateItem] = []
    size = 0
    for item in items:
        cost = len(item.value) + len(item.key) + len(item.collection) + 64
        if batch and (len(batch) == MAX_ENTRIES or size + cost > MAX_PRIVATE_MESSAGE_BYTES // 2):
            out.append(PrivateMessage(kind, items=tuple(batch)))
            batch, size = [], 0
        batch.append(item)
        size += cost
    if batch:
        out.append(PrivateMessage(kind, items=tuple(batch)))
    return out
