"""Introduction: ordered scans of a contract's state — pages, cursors, and the merge of layers.

A contract reads its keys in order with ``ctx.state.scan(prefix, limit, after)`` (the keys
that start with ``prefix``) or ``ctx.state.range(start, end, limit, after)`` (``start <= key <
end``). Either answers one page, ``{"items": [[key, value], ...], "next": key or None}``: at
most ``limit`` live keys in ascending order of their UTF-8 bytes (which is also the order of
Python's ``str``), and ``next`` the cursor to pass as ``after`` for the page that follows, or
None when no key is left. The order is the bytes', so it is the same on every node.

What a scan reads comes in layers — the committed state, the block's and the transaction's
writes, the invocation's own buffered writes — each an ascending stream of ``Entry``s, and
``merge_entries`` lays one over the other. A deleted key stays in the stream (value None) so
that the reader pays for every key it passes, and an entry carries the bytes read for it
(shadowed values included), so that the charge covers everything a scan touched.

Invariant: ``PageReader`` charges before it keeps anything: one scan set-up, then per entry
examined ``SCAN_ENTRY_STEPS`` and its bytes, and per value returned the nodes decoding made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from yulian.contracts.aborts import InvalidValue
from yulian.contracts.costs import (
    BYTES_PER_STEP,
    EXPORT_NODES_PER_STEP,
    SCAN_ENTRY_STEPS,
)
from yulian.contracts.export import count_nodes
from yulian.contracts.meter import Meter

K = TypeVar("K", str, bytes)
# (key, value or None for a deleted key, value bytes read for it: shadowed versions included)
Entry = tuple[K, bytes | None, int]

MAX_SCAN_LIMIT = 256  # live keys in one page
DEFAULT_SCAN_LIMIT = 64
_MAX_CHAR = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def prefix_end(prefix: str) -> str | None:
    """The least str above every str that starts with ``prefix`` (None: there is none, or the
    prefix is empty): its last char incremented, past the surrogates no key can hold."""
    stripped = prefix.rstrip(chr(_MAX_CHAR))
    if not stripped:
        return None
    code = ord(stripped[-1]) + 1
    if code in _SURROGATES:
        code = _SURROGATES.stop
    return stripped[:-1] + chr(code)


def merge_entries(upper: Iterator[Entry[K]], lower: Iterator[Entry[K]]) -> Iterator[Entry[K]]:
    """Two ascending streams as one: where both hold a key, the upper entry wins and carries
    the bytes of the lower one it hides. Lazy: the lower stream advances only as far as read."""
    u = next(upper, None)
    low = next(lower, None)
    while u is not None or low is not None:
        if low is None or (u is not None and u[0] < low[0]):
            assert u is not None
            yield u
            u = next(upper, None)
        elif u is None or low[0] < u[0]:
            yield low
            low = next(lower, None)
        else:
            yield u[0], u[1], u[2] + low[2]
            u = next(upper, None)
            low = next(lower, None)


def check_limit(limit: Any) -> int:
    if type(limit) is not int or not 1 <= limit <= MAX_SCAN_LIMIT:
        raise InvalidValue(f"a scan's limit must be an int in 1..{MAX_SCAN_LIMIT}")
    return limit


def check_bound(value: Any, what: str, size_of: Callable[[str], int], max_bytes: int) -> int:
    """The UTF-8 size of a scan's prefix, bound or cursor (a str of at most ``max_bytes``)."""
    if type(value) is not str:
        raise InvalidValue(f"a scan's {what} must be a str")
    size = size_of(value)
    if size > max_bytes:
        raise InvalidValue(f"a scan's {what} is longer than {max_bytes} bytes")
    return size


def read_page(
    meter: Meter,
    entries: Iterator[Entry[str]],
    limit: int,
    decode: Callable[[bytes], Any],
    size_of: Callable[[str], int],
) -> dict[str, Any]:
    """One page of at most ``limit`` live keys from ``entries``, with the cursor of the next:
    every entry examined is charged (the one past the page too: it tells whether there is a
    next page), and each value returned pays for the nodes its decoding made."""
    items: list[list[Any]] = []
    following: str | None = None
    for key, data, size in entries:
        meter.charge(SCAN_ENTRY_STEPS + (size_of(key) + size) // BYTES_PER_STEP)
        if data is None:
            continue
        if len(items) == limit:
            following = items[-1][0]
            break
        value = decode(data)
        meter.charge(count_nodes(value) // EXPORT_NODES_PER_STEP)
        items.append([key, value])
    return {"items": items, "next": following}
