"""Introduction: an in-memory ``Ledger`` with the protocol's atomic, durable commit.

``MemLedger`` implements ``yulian.ledger.store.Ledger`` with plain dicts, validating every input
with the same shared checks as the LMDB backend (``check_block_commit``, ``HeightMismatch``,
``DuplicateTx``, ``DuplicateBlockHash``). A simulated crash keeps the object: a block whose
``commit_block`` returned survives, one whose call was interrupted left nothing — that is all the
protocol promises, and all the simulator assumes.

``commit_block`` is a crash point (``CrashPoints``): an armed crash fires before the block is
written (nothing of it exists) or after (all of it exists, but the replica never learned that).

Invariant: ``height() == h`` implies that the blocks, commits, hashes, roots, tx index, receipts
and state of 1..h are present and nothing of h+1; every method validates its arguments.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from yulian.ledger.events import (
    EventCursor,
    EventPage,
    StoredEvent,
    check_event_query,
)
from yulian.ledger.store import (
    MAX_HASH_BYTES,
    MAX_HEIGHT,
    MAX_HISTORY_LIMIT,
    MAX_TX_ID_BYTES,
    MAX_TXS_PER_BLOCK,
    BlockCommit,
    CorruptLedger,
    DuplicateBlockHash,
    DuplicateTx,
    HeightMismatch,
    InvalidInput,
    LedgerClosed,
    check_block_commit,
    check_height,
    check_key,
    check_limit,
    check_meta_name,
    check_record,
    check_scan,
    check_tx_ids,
)
from yulian.sim.disk import CrashPoints


class MemLedger:
    def __init__(self, points: CrashPoints | None = None) -> None:
        self.points = points
        self._blocks: list[BlockCommit] = []  # index h - 1
        self._by_hash: dict[bytes, int] = {}
        self._tx_index: dict[bytes, tuple[int, int]] = {}
        self._state: dict[bytes, bytes] = {}
        self._sorted_keys: list[bytes] = []  # keys of _state, ascending (for scan_prefix)
        self._history: dict[bytes, list[tuple[int, bytes | None]]] = {}  # ascending heights
        self._meta: dict[bytes, bytes] = {}
        self._events: list[StoredEvent] = []  # cursor order
        self._closed = False

    # --- writes -----------------------------------------------------------------------------
    def commit_block(self, c: BlockCommit) -> None:
        self._open()
        check_block_commit(c)
        if c.height != self.height() + 1:
            raise HeightMismatch(self.height() + 1, c.height)
        for tx_id in c.tx_ids:
            if tx_id in self._tx_index:
                raise DuplicateTx(tx_id, self._tx_index[tx_id])
        if c.block_hash in self._by_hash:
            raise DuplicateBlockHash(c.block_hash, self._by_hash[c.block_hash])
        if self.points is not None:
            self.points.before("ledger.commit_block")
        self._blocks.append(c)
        self._by_hash[c.block_hash] = c.height
        for index, tx_id in enumerate(c.tx_ids):
            self._tx_index[tx_id] = (c.height, index)
        for e in c.events:
            at = EventCursor(c.height, e.tx_index, e.event_index)
            self._events.append(
                StoredEvent(at, c.tx_ids[e.tx_index], e.contract, e.name, e.key, e.payload)
            )
        for key, value in c.writes:
            self._history.setdefault(key, []).append((c.height, value))
            present = key in self._state
            if value is None:
                if present:
                    del self._state[key]
                    self._sorted_keys.pop(bisect.bisect_left(self._sorted_keys, key))
            else:
                self._state[key] = value
                if not present:
                    bisect.insort(self._sorted_keys, key)
        if self.points is not None:
            self.points.done("ledger.commit_block")

    def put_meta(self, name: str, value: bytes) -> None:
        self._open()
        key = check_meta_name(name)
        self._meta[key] = check_record(value, "meta value")

    # --- per-block reads --------------------------------------------------------------------
    def height(self) -> int:
        self._open()
        return len(self._blocks)

    def _record(self, height: int) -> BlockCommit | None:
        self._open()
        check_height(height)
        if not 1 <= height <= len(self._blocks):
            return None
        return self._blocks[height - 1]

    def block(self, height: int) -> bytes | None:
        r = self._record(height)
        return None if r is None else r.block

    def commit(self, height: int) -> bytes | None:
        r = self._record(height)
        return None if r is None else r.commit

    def block_hash(self, height: int) -> bytes | None:
        r = self._record(height)
        return None if r is None else r.block_hash

    def block_height(self, block_hash: bytes) -> int | None:
        self._open()
        check_key(block_hash, "block hash", MAX_HASH_BYTES)
        return self._by_hash.get(block_hash)

    def state_root(self, height: int | None = None) -> bytes | None:
        if height is None:
            return self._blocks[-1].state_root if self.height() else None
        r = self._record(height)
        return None if r is None else r.state_root

    def state_sum(self) -> bytes | None:
        self._open()
        return self._blocks[-1].state_sum if self._blocks else None

    def floor(self) -> int:
        """Always 1: the simulator never prunes."""
        self._open()
        return 1

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        self._open()
        check_key(tx_id, "tx id", MAX_TX_ID_BYTES)
        return self._tx_index.get(tx_id)

    def has_tx(self, tx_id: bytes) -> bool:
        return self.tx_location(tx_id) is not None

    def has_txs(self, tx_ids: Sequence[bytes]) -> list[bool]:
        self._open()
        return [i in self._tx_index for i in check_tx_ids(tx_ids)]

    def receipt(self, height: int, index: int) -> bytes | None:
        self._open()
        check_height(height)
        if type(index) is not int or not 0 <= index < MAX_TXS_PER_BLOCK:
            raise InvalidInput(
                f"tx index must be an int in [0, {MAX_TXS_PER_BLOCK}), got {index!r}"
            )
        r = self._record(height)
        if r is None or index >= len(r.receipts):
            return None
        return r.receipts[index]

    def receipts(self, height: int) -> list[bytes] | None:
        r = self._record(height)
        return None if r is None else list(r.receipts)

    def tx_ids(self, height: int) -> list[bytes] | None:
        r = self._record(height)
        return None if r is None else list(r.tx_ids)

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
        self._open()
        cursor, wanted = check_event_query(
            after, limit, scan_limit, contract, name, key_prefix, payload_prefix
        )
        start = 0 if cursor is None else bisect.bisect_right(self._events, cursor, key=_cursor)
        found: list[StoredEvent] = []
        last, scanned, i = cursor, 0, start
        while i < len(self._events) and len(found) < limit and scanned < scan_limit:
            e = self._events[i]
            i += 1
            if not wanted.in_group(e.contract, e.name):
                continue  # the stored backends skip these through an index
            if wanted.matches(e.contract, e.name, e.key, e.payload):
                found.append(e)
            last, scanned = e.cursor, scanned + 1
        exhausted = not any(wanted.in_group(e.contract, e.name) for e in self._events[i:])
        return EventPage(found, last, exhausted, self.height())

    # --- state reads ------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        self._open()
        check_key(key)
        return self._state.get(key)

    def get_at(self, key: bytes, height: int) -> bytes | None:
        self._open()
        check_key(key)
        check_height(height)
        if height > self.height():
            raise InvalidInput(f"height {height} is above the head {self.height()}")
        versions = self._versions(key, before_height=height + 1, limit=1)
        return versions[0][1] if versions else None

    def history(
        self, key: bytes, limit: int = 100, before_height: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        self._open()
        check_key(key)
        check_limit(limit, MAX_HISTORY_LIMIT)
        upper = MAX_HEIGHT + 1 if before_height is None else check_height(before_height)
        return self._versions(key, before_height=upper, limit=limit)

    def _versions(
        self, key: bytes, before_height: int, limit: int
    ) -> list[tuple[int, bytes | None]]:
        entries = self._history.get(key, [])
        result: list[tuple[int, bytes | None]] = []
        for height, value in reversed(entries):
            if len(result) >= limit:
                break
            if height < before_height:
                result.append((height, value))
        return result

    def scan_keys(self, prefix: bytes, limit: int, start_after: bytes | None = None) -> list[bytes]:
        return [key for key, _ in self.scan_prefix(prefix, limit, start_after)]

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        self._open()
        check_scan(prefix, limit, start_after)
        seek = prefix if start_after is None else max(prefix, start_after)
        i = bisect.bisect_left(self._sorted_keys, seek)
        result: list[tuple[bytes, bytes]] = []
        while i < len(self._sorted_keys) and len(result) < limit:
            key = self._sorted_keys[i]
            i += 1
            if key == start_after:
                continue
            if not key.startswith(prefix):
                break
            result.append((key, self._state[key]))
        return result

    # --- metadata, integrity ----------------------------------------------------------------
    def get_meta(self, name: str) -> bytes | None:
        self._open()
        return self._meta.get(check_meta_name(name))

    def check_integrity(self) -> None:
        self._open()
        for i, r in enumerate(self._blocks):
            if r.height != i + 1 or self._by_hash.get(r.block_hash) != r.height:
                raise CorruptLedger(f"block record {i + 1} is inconsistent")
            for index, tx_id in enumerate(r.tx_ids):
                if self._tx_index.get(tx_id) != (r.height, index):
                    raise CorruptLedger(f"tx index of {tx_id.hex()} is inconsistent")
        if sorted(self._state) != self._sorted_keys:
            raise CorruptLedger("state key order is inconsistent")

    def close(self) -> None:
        self._closed = True

    def _open(self) -> None:
        if self._closed:
            raise LedgerClosed("the ledger is closed")


def _cursor(event: StoredEvent) -> EventCursor:
    return event.cursor
