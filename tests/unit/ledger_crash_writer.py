"""Crash-test writer: commits deterministic blocks to a ledger until it is killed.

Usage: ``python ledger_crash_writer.py TARGET SEED MAX_HEIGHT MAP_BYTES`` where TARGET is a
``LedgerTarget`` as JSON (``tests/ledger_backends.py``): an LMDB directory or a PostgreSQL schema

Block ``h`` of seed ``s`` is a pure function ``make_block(s, h)``, so the test process can compute
what blocks 1..h and the resulting state must be without any record from this process. On start
the writer opens the ledger, prints ``ready <height>`` and commits ``height+1 .. MAX_HEIGHT``
with ``sync=True``; the test kills it with SIGKILL (or a failpoint does) at any moment.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys

from yulian.ledger import BlockCommit, EventRecord, Ledger, StorageConfig, open_ledger

#: Distinct state keys the blocks write to (small, so keys are overwritten and deleted often).
KEY_SPACE = 300
MAX_WRITES_PER_BLOCK = 40
MAX_TXS_PER_BLOCK = 6
MAX_VALUE_BYTES = 400
DELETE_PROBABILITY = 0.2


def make_key(number: int) -> bytes:
    """Keys of different lengths, some a prefix of others (``k7`` / ``k7/…``)."""
    return b"k%d" % number if number % 3 else b"k%d/%s" % (number // 3, b"x" * (number % 17))


def make_tx_id(seed: int, height: int, index: int) -> bytes:
    return hashlib.sha256(b"tx:%d:%d:%d" % (seed, height, index)).digest()


def make_block(seed: int, height: int) -> BlockCommit:
    """The block at ``height`` for ``seed``: deterministic, independent of other heights."""
    rng = random.Random(f"{seed}:{height}")
    writes: dict[bytes, bytes | None] = {}
    for _ in range(rng.randint(1, MAX_WRITES_PER_BLOCK)):
        key = make_key(rng.randrange(KEY_SPACE))
        deleted = rng.random() < DELETE_PROBABILITY
        writes[key] = None if deleted else rng.randbytes(rng.randint(0, MAX_VALUE_BYTES))
    tx_count = rng.randint(0, MAX_TXS_PER_BLOCK)
    tx_ids = tuple(make_tx_id(seed, height, i) for i in range(tx_count))
    receipts = tuple(b"receipt:%d:%d:" % (height, i) + rng.randbytes(20) for i in range(tx_count))
    events = tuple(
        EventRecord(i, j, f"c{rng.randrange(3)}", "made", b"k%d" % height, rng.randbytes(30))
        for i in range(tx_count)
        for j in range(rng.randint(0, 2))
    )
    block = b"block:%d:" % height + rng.randbytes(rng.randint(50, 2000))
    block_hash = hashlib.sha256(block).digest()
    return BlockCommit(
        height=height,
        block_hash=block_hash,
        block=block,
        commit=b"commit:" + block_hash,
        tx_ids=tx_ids,
        receipts=receipts,
        writes=tuple(sorted(writes.items())),
        state_root=hashlib.sha256(b"root:%d:%d" % (seed, height)).digest(),
        events=events,
    )


def open_target(target: str, map_bytes: int) -> Ledger:
    backend, path, dsn, schema = json.loads(target)
    if backend == "lmdb":
        return open_ledger(path, map_size=map_bytes, sync=True)
    return open_ledger(StorageConfig(backend=backend, dsn=dsn, schema=schema), sync=True)


def run(target: str, seed: int, max_height: int, map_bytes: int) -> None:
    ledger = open_target(target, map_bytes)
    start = ledger.height()
    print(f"ready {start}", flush=True)
    for height in range(start + 1, max_height + 1):
        ledger.commit_block(make_block(seed, height))
    ledger.close()


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
