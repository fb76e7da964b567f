"""Introduction: a copy-on-write state overlay with per-transaction snapshot and rollback.

The block overlay sits on a read-only view of the committed state. Each transaction runs in a
nested journal: ``begin_tx`` opens it, ``commit_tx`` folds it into the block's writes and
``rollback_tx`` drops it, so a failed transaction changes no state (the shape of
execution-specs' ``begin_transaction`` / ``rollback_transaction``). Inside a transaction, each
call from one contract into another opens a journal of its own (``begin_call``), folded into
the caller's on success (``commit_call``) and dropped on failure (``rollback_call``), so a
failed callee's writes vanish while its caller goes on.

``scan`` reads keys in order as the transaction sees them: the committed keys of the view
merged with the keys written in the block and the open journals. The written keys are indexed
in a sorted set from the block's first scan on; a block that never scans never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from sortedcontainers import SortedSet

from yulian.contracts.ranges import Entry, merge_entries

MAX_KEY_BYTES = 480  # below LMDB's 511-byte key limit, with room for the contract prefix
FIRST_CHUNK = 4  # committed entries a scan reads at first; then twice as many each time
_TOMBSTONE = None


class StateView(Protocol):
    """Read-only committed state (the ledger, or a snapshot of it)."""

    def get(self, key: bytes) -> bytes | None: ...

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]: ...

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Live ``(key, value)`` pairs with ``prefix``, ascending bytewise, keys after
        ``start_after``, at most ``limit`` (the ledger's ``scan_prefix``)."""
        ...


def state_key(contract: str, key: str) -> bytes:
    """The ledger key of ``key`` in ``contract``'s namespace; names never contain NUL."""
    return contract.encode("utf-8") + b"\x00" + key.encode("utf-8")


def scan_mapping(
    data: Mapping[bytes, bytes], prefix: bytes, limit: int, start_after: bytes | None = None
) -> list[tuple[bytes, bytes]]:
    """``StateView.scan_prefix`` over a dict of the committed state (for in-memory views:
    a pass over every key, then a sort of those that match)."""
    keys = sorted(
        k for k in data if k.startswith(prefix) and (start_after is None or k > start_after)
    )
    return [(k, data[k]) for k in keys[:limit]]


def prefix_end(prefix: bytes) -> bytes | None:
    """The least key above every key that starts with ``prefix`` (None: there is none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class Overlay:
    def __init__(self, base: StateView, height: int) -> None:
        self._base = base
        self._height = height
        self._block: dict[bytes, bytes | None] = {}
        self._tx: dict[bytes, bytes | None] | None = None  # the innermost open journal
        self._outer: list[dict[bytes, bytes | None]] = []  # the journals enclosing it
        # every key of _block, _tx and _outer, sorted: built by the block's first scan
        self._index: SortedSet | None = None

    def begin_tx(self) -> None:
        assert self._tx is None, "transactions do not nest"
        self._tx = {}

    def commit_tx(self) -> None:
        assert self._tx is not None and not self._outer, "every call journal is closed"
        self._block.update(self._tx)
        self._tx = None

    def rollback_tx(self) -> None:
        assert self._tx is not None
        dropped = [self._tx, *self._outer]
        self._tx = None
        self._outer = []
        self._unindex(dropped)

    def begin_call(self) -> None:
        """A journal for a call into another contract, inside the open transaction."""
        assert self._tx is not None, "calls happen inside a transaction"
        self._outer.append(self._tx)
        self._tx = {}

    def commit_call(self) -> None:
        assert self._tx is not None and self._outer, "a call journal is open"
        inner = self._tx
        self._tx = self._outer.pop()
        self._tx.update(inner)

    def rollback_call(self) -> None:
        assert self._tx is not None and self._outer, "a call journal is open"
        inner = self._tx
        self._tx = self._outer.pop()
        self._unindex([inner])

    def _unindex(self, dropped: list[dict[bytes, bytes | None]]) -> None:
        """Take out of the index the keys only ``dropped`` journals held."""
        index = self._index
        if index is None:
            return
        for journal in dropped:
            for key in journal:
                if not self._is_pending(key):
                    index.discard(key)

    def _is_pending(self, key: bytes) -> bool:
        tx = self._tx
        return (
            (tx is not None and key in tx)
            or any(key in journal for journal in self._outer)
            or key in self._block
        )

    def _pending(self, key: bytes) -> bytes | None:
        """The value of a key written in the block or the open journals (None: deleted)."""
        tx = self._tx
        if tx is not None and key in tx:
            return tx[key]
        for journal in reversed(self._outer):
            if key in journal:
                return journal[key]
        return self._block[key]

    def get(self, key: bytes) -> bytes | None:
        tx = self._tx
        if tx is not None and key in tx:
            return tx[key]
        if self._outer:
            for journal in reversed(self._outer):
                if key in journal:
                    return journal[key]
        if key in self._block:
            return self._block[key]
        return self._base.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        assert self._tx is not None, "writes happen inside a transaction"
        self._tx[key] = value
        if self._index is not None:
            self._index.add(key)

    def delete(self, key: bytes) -> None:
        assert self._tx is not None, "writes happen inside a transaction"
        self._tx[key] = _TOMBSTONE
        if self._index is not None:
            self._index.add(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        """Committed versions, newest first, with this block's pending version on top."""
        pending: list[tuple[int, bytes | None]] = []
        if self._is_pending(key):
            pending = [(self._height, self._pending(key))]
        if limit <= len(pending):
            return pending[:limit]
        return pending + self._base.history(key, limit - len(pending))

    def scan(
        self, prefix: bytes, start: bytes, end: bytes | None, after: bytes | None, chunk: int
    ) -> Iterator[Entry[bytes]]:
        """The keys with ``prefix`` in ``[start, end)`` (``end`` None: to the prefix's end) and
        above ``after``, ascending, as the open transaction sees them: ``(key, value, bytes
        read)``, a deleted key with value None (so a caller pays for every key it passes).
        ``start`` starts with ``prefix``; the view is asked for at most ``chunk`` keys at a
        time, fewer at first (``FIRST_CHUNK``, doubling), so that what is read but not yet
        taken is never more than what was."""
        assert start.startswith(prefix), "a scan stays inside its prefix"
        high = prefix_end(prefix) if end is None else end
        if self._index is None:
            self._index = SortedSet(self._block)
            for journal in (*self._outer, *([self._tx] if self._tx is not None else [])):
                self._index.update(journal)
        low, inclusive = (start, True) if after is None or after < start else (after, False)
        pending = self._index.irange(low, high, inclusive=(inclusive, False))
        written = (
            (key, value, 0 if value is None else len(value))
            for key in pending
            for value in (self._pending(key),)
        )
        committed = self._committed(prefix, low, inclusive, high, chunk)
        return merge_entries(written, committed)

    def _committed(
        self, prefix: bytes, low: bytes, inclusive: bool, high: bytes | None, chunk: int
    ) -> Iterator[Entry[bytes]]:
        """The view's keys with ``prefix`` from ``low`` to ``high``, ``chunk`` at a time."""
        after: bytes | None = low
        if high is not None and low >= high:
            return
        if inclusive:  # the view pages strictly after a key: start at ``low`` another way
            if high is not None and high == prefix_end(low):
                prefix, after = low, None  # the keys that start with ``low``: ask for them
            elif low == prefix:
                after = None
            else:  # ask for ``low`` itself first
                value = self._base.get(low)
                if value is not None:
                    yield low, value, len(value)
        size = min(FIRST_CHUNK, chunk)
        while True:  # chunks grow to ``chunk``: what is read ahead stays within what was taken
            page = self._base.scan_prefix(prefix, size, after)
            for key, value in page:
                if high is not None and key >= high:
                    return
                yield key, value, len(value)
            if len(page) < size:
                return
            after = page[-1][0]
            size = min(size * 2, chunk)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """``StateView.scan_prefix`` as the open transaction sees the state."""
        out: list[tuple[bytes, bytes]] = []
        for key, value, _ in self.scan(prefix, prefix, None, start_after, limit):
            if value is not None:
                out.append((key, value))
                if len(out) == limit:
                    break
        return out

    def writes(self) -> tuple[tuple[bytes, bytes | None], ...]:
        """The block's write set, sorted by key (the canonical order for the state root)."""
        assert self._tx is None, "no transaction is open"
        return tuple(sorted(self._block.items()))


class ContractStateAdapter:
    """The overlay as one contract sees it: str keys inside the contract's own namespace."""

    __slots__ = ("_overlay", "_prefix")

    def __init__(self, overlay: Overlay, contract: str) -> None:
        self._overlay = overlay
        self._prefix = state_key(contract, "")  # every key of the contract starts with it

    def get(self, key: str) -> bytes | None:
        return self._overlay.get(self._prefix + key.encode("utf-8"))

    def put(self, key: str, value: bytes) -> None:
        self._overlay.put(self._prefix + key.encode("utf-8"), value)

    def delete(self, key: str) -> None:
        self._overlay.delete(self._prefix + key.encode("utf-8"))

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return self._overlay.history(self._prefix + key.encode("utf-8"), limit)

    def scan(
        self, start: str, end: str | None, after: str | None, chunk: int
    ) -> Iterator[Entry[str]]:
        prefix = self._prefix
        cut = len(prefix)
        entries = self._overlay.scan(
            prefix,
            prefix + start.encode("utf-8"),
            None if end is None else prefix + end.encode("utf-8"),
            None if after is None else prefix + after.encode("utf-8"),
            chunk,
        )
        for key, value, size in entries:
            yield key[cut:].decode("utf-8"), value, size
