"""Introduction: what a block commit costs in each storage backend (``yulian bench --storage``).

The same prepared blocks — ``block_size`` evidence-sized txs each: a 32-byte tx id, a 120-byte
receipt, one event (70-byte payload), one 300-byte state write and 570 bytes of block per tx —
are committed with ``Ledger.commit_block`` into a fresh ledger of each backend, durable
(``sync=True``, the node's setting) unless ``--no-sync``. LMDB lives in a temporary directory;
PostgreSQL in a fresh schema of the server ``--dsn`` names, or, without it, of a throwaway
local server (``ledger/postgres/tempserver.py``, fsync on) started for the run. The two
backends run back to back, alternating, ``--rounds`` times; the figure of each is the median.

Blocks commit on one thread, one after another, as a node commits them: the figure is the
commit latency a node sees, not what a database could absorb from many writers at once.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yulian.ledger import BlockCommit, EventRecord, Ledger, StorageConfig, open_ledger
from yulian.ledger.postgres.tempserver import PgServer

DEFAULT_BLOCKS = 40
DEFAULT_BLOCK_SIZE = 500
DEFAULT_ROUNDS = 3
BACKENDS = ("lmdb", "postgres")


def make_blocks(blocks: int, block_size: int) -> list[BlockCommit]:
    """Deterministic evidence-sized blocks at heights 1..blocks."""
    result = []
    for height in range(1, blocks + 1):
        ids = tuple(hashlib.sha256(b"%d:%d" % (height, i)).digest() for i in range(block_size))
        writes = tuple(sorted((b"evidence\x00doc/" + t.hex().encode(), b"v" * 300) for t in ids))
        events = tuple(
            EventRecord(i, 0, "evidence", "registered", b"", b"e" * 70) for i in range(len(ids))
        )
        result.append(
            BlockCommit(
                height=height,
                block_hash=hashlib.sha256(b"block %d" % height).digest(),
                block=b"b" * (570 * block_size),
                commit=b"c" * 400,
                tx_ids=ids,
                receipts=tuple(b"r" * 120 for _ in ids),
                writes=writes,
                state_root=hashlib.sha256(b"root %d" % height).digest(),
                events=events,
            )
        )
    return result


def time_commits(open_fresh: Callable[[], Ledger], blocks: Sequence[BlockCommit]) -> float:
    """Seconds to commit ``blocks`` into a fresh ledger (opening and closing not counted)."""
    ledger = open_fresh()
    try:
        started = time.perf_counter()
        for c in blocks:
            ledger.commit_block(c)
        return time.perf_counter() - started
    finally:
        ledger.close()


def run(
    backends: Sequence[str],
    blocks: int,
    block_size: int,
    rounds: int,
    sync: bool,
    dsn: str | None,
) -> dict[str, Any]:
    prepared = make_blocks(blocks, block_size)
    server: PgServer | None = None
    if "postgres" in backends and dsn is None:
        server = PgServer(fsync=True).start()
        dsn = server.dsn()
    seconds: dict[str, list[float]] = {name: [] for name in backends}
    try:
        with tempfile.TemporaryDirectory(prefix="yulian-bench-storage-") as tmp:
            for round_number in range(rounds):
                for name in backends:
                    tag = f"bench_{round_number}_{time.time_ns()}"
                    if name == "lmdb":
                        config = StorageConfig(backend="lmdb", path=Path(tmp) / tag)
                    else:
                        config = StorageConfig(backend="postgres", dsn=dsn, schema=tag)
                    opener = functools.partial(open_ledger, config, sync=sync)
                    seconds[name].append(time_commits(opener, prepared))
    finally:
        if server is not None:
            server.stop()
    figures = {}
    for name, runs in seconds.items():
        median_s = statistics.median(runs)
        figures[name] = {
            "blocks_per_s": round(blocks / median_s, 1),
            "tx_per_s": round(blocks * block_size / median_s),
            "ms_per_block": round(median_s / blocks * 1000, 2),
            "rounds_s": [round(s, 3) for s in runs],
        }
    return {
        "blocks": blocks,
        "block_size": block_size,
        "sync": sync,
        "postgres": "throwaway local server (fsync on)" if server else "given dsn",
        "figures": figures,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yulian bench --storage", description=__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--blocks", type=int, default=DEFAULT_BLOCKS)
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--no-sync", action="store_true", help="commits not durable (tests)")
    parser.add_argument("--dsn", help="a PostgreSQL server to use (default: a throwaway one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        parser.error(f"--backends takes some of {', '.join(BACKENDS)}")
    if min(args.blocks, args.block_size, args.rounds) < 1:
        parser.error("--blocks, --block-size and --rounds must be at least 1")
    result = run(backends, args.blocks, args.block_size, args.rounds, not args.no_sync, args.dsn)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"storage commit: {result['blocks']} blocks of {result['block_size']} txs, "
        f"sync={result['sync']}, postgres: {result['postgres']}"
    )
    for name, f in result["figures"].items():
        print(
            f"  {name:9} {f['blocks_per_s']:8.1f} blocks/s  {f['tx_per_s']:8d} tx/s  "
            f"{f['ms_per_block']:7.2f} ms/block  rounds {f['rounds_s']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
