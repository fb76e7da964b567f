"""The full consistency check of an LMDB ledger (``LmdbLedger.check_integrity``).

Introduction
------------
Walks every table once inside one read transaction and cross-checks them: per-height tables
hold the same heights, contiguous from the floor to the head, receipts and the tx index map
one to one (the tx index may also name txs of blocks below the floor that are not held),
every block's tx id list agrees with the tx index, events sit at valid cursors of their block
with both index entries, and the state table is exactly the latest live version of every
key's history. Every record's seal is verified on the way. Linear in the size of the ledger:
for tools and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yulian.ledger.lmdb.codec import (
    decode_cursor,
    decode_event,
    decode_height,
    decode_history_value,
    decode_location,
    decode_tx_ids,
    encode_height,
    encode_location,
    name_digest,
    split_history_key,
    unseal_value,
)
from yulian.ledger.lmdb.gate import Txn
from yulian.ledger.validate import CorruptLedger

Getter = Callable[[Txn, str, bytes], "bytes | None"]


def check_tables(txn: Txn, tables: dict[str, Any], height: int, floor: int, get: Getter) -> None:
    """Raise ``CorruptLedger`` on the first inconsistency among ``tables`` at head ``height``
    and ``floor``."""
    _Check(txn, tables, height, floor, get).run()


class _Check:
    def __init__(
        self, txn: Txn, tables: dict[str, Any], height: int, floor: int, get: Getter
    ) -> None:
        self.txn, self.tables, self.height, self.floor, self.get = txn, tables, height, floor, get
        self.tx_counts: dict[int, int] = {}
        self.held: list[int] = []  # heights of the blocks held
        self.held_set: set[int] = set()

    def run(self) -> None:
        self.per_height_tables()
        self.txs()
        self.events()
        self.state()
        for key, raw in self.txn.cursor(db=self.tables["meta"]):
            unseal_value(key, raw, "meta")

    def per_height_tables(self) -> None:
        blocks = self.txn.cursor(db=self.tables["blocks"]).iternext(values=False)
        self.held = [decode_height(key, "blocks") for key in blocks]
        self.held_set = set(self.held)
        from_floor = [h for h in self.held if h >= self.floor]
        if self.height and from_floor != list(range(self.floor, self.height + 1)):
            raise CorruptLedger(f"blocks are not every height {self.floor}..{self.height}")
        if not self.height and self.held:
            raise CorruptLedger(f"blocks held at heights {self.held[:3]}, head is 0")
        expected = [encode_height(h) for h in self.held]
        for table in ("blocks", "commits", "hashes", "roots", "blocktxs"):
            keys = []
            for key, raw in self.txn.cursor(db=self.tables[table]):
                unseal_value(key, raw, table)
                keys.append(key)
            if keys != expected:
                raise CorruptLedger(f"{table}: holds other heights than the blocks table")
        for key, raw in self.txn.cursor(db=self.tables["byhash"]):
            h = decode_height(unseal_value(key, raw, "byhash"), "byhash")
            if self.get(self.txn, "hashes", encode_height(h)) != key:
                raise CorruptLedger(f"byhash: {key.hex()} -> {h} disagrees with hashes")

    def txs(self) -> None:
        """Receipts are contiguous per block; the tx index maps 1:1 onto receipts and onto the
        blocks' tx id lists."""
        locations: set[bytes] = set()
        last = (0, -1)
        for key, raw in self.txn.cursor(db=self.tables["receipts"]):
            h, index = decode_location(key, "receipts")
            expected_index = last[1] + 1 if h == last[0] else 0
            if h not in self.held_set or index != expected_index:
                raise CorruptLedger(f"receipts: unexpected (height, index) ({h}, {index})")
            unseal_value(key, raw, "receipts")
            locations.add(key)
            last = (h, index)
            self.tx_counts[h] = index + 1
        held = self.held_set
        for tx_id, raw in self.txn.cursor(db=self.tables["txindex"]):
            location = unseal_value(tx_id, raw, "txindex")
            h, _ = decode_location(location, "txindex")
            if h not in held and h < self.floor:
                continue  # a tx of a block below the floor that is not held
            if location not in locations:
                raise CorruptLedger(f"txindex: {tx_id.hex()} points to no receipt")
            locations.discard(location)
        if locations:
            raise CorruptLedger(f"{len(locations)} receipts have no (unique) tx index entry")
        for key, raw in self.txn.cursor(db=self.tables["blocktxs"]):
            h = decode_height(key, "blocktxs")
            ids = decode_tx_ids(unseal_value(key, raw, "blocktxs"))
            if len(ids) != self.tx_counts.get(h, 0):
                raise CorruptLedger(f"blocktxs: block {h} lists {len(ids)} txs")
            for index, tx_id in enumerate(ids):
                if self.get(self.txn, "txindex", tx_id) != encode_location(h, index):
                    raise CorruptLedger(f"blocktxs: ({h}, {index}) disagrees with the tx index")

    def events(self) -> None:
        """Events sit at valid cursors, name their block's tx, and are indexed twice."""
        count = 0
        last = (0, -1, -1)
        for raw_cursor, raw in self.txn.cursor(db=self.tables["events"]):
            at = decode_cursor(raw_cursor, "events")
            event = decode_event(at, unseal_value(raw_cursor, raw, "events"))
            expected = last[2] + 1 if at[:2] == last[:2] else 0
            if at.tx_index >= self.tx_counts.get(at.height, 0) or at.event_index != expected:
                raise CorruptLedger(f"events: unexpected cursor {tuple(at)}")
            if self.get(self.txn, "txindex", event.tx_id) != encode_location(*at[:2]):
                raise CorruptLedger(f"events: {tuple(at)} names tx {event.tx_id.hex()}")
            for table, digest in (
                ("evcontract", name_digest(event.contract)),
                ("evname", name_digest(event.contract, event.name)),
            ):
                if self.get(self.txn, table, digest + raw_cursor) is None:
                    raise CorruptLedger(f"{table}: no entry for event {tuple(at)}")
            count += 1
            last = at
        for table in ("evcontract", "evname"):
            entries = self.txn.stat(self.tables[table])["entries"]
            if entries != count:
                raise CorruptLedger(f"{table} holds {entries} entries for {count} events")

    def state(self) -> None:
        """The state table is exactly the latest non-deleted version of every history key."""
        live = 0
        latest: tuple[bytes, bytes | None] | None = None
        for history_key, raw in self.txn.cursor(db=self.tables["history"]):
            key, h = split_history_key(history_key)
            if not 1 <= h <= self.height:
                raise CorruptLedger(f"history: version at height {h}, head is {self.height}")
            value = decode_history_value(unseal_value(history_key, raw, "history"))
            if latest is not None and latest[0] != key:
                live += self.current(*latest)
            latest = (key, value)
        if latest is not None:
            live += self.current(*latest)
        entries = self.txn.stat(self.tables["state"])["entries"]
        if entries != live:
            raise CorruptLedger(f"state holds {entries} keys, history says {live} are live")

    def current(self, key: bytes, value: bytes | None) -> int:
        if self.get(self.txn, "state", key) != value:
            raise CorruptLedger(f"state of {key.hex()[:80]} differs from its latest version")
        return 0 if value is None else 1
