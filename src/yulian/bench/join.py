"""Introduction: what it costs a new node to join a chain — by replaying its blocks, or from a
snapshot (``python -m yulian.bench.join``).

A one-validator chain is built in process (the real replica on a real ledger, LMDB or a
PostgreSQL schema) until its state holds ``--keys`` keys, written ``--keys-per-tx`` to a tx
(``transfer.open_range``: 1 is a chain of one tx per key, as evidence or accounts opened one by
one; 10,000 is the fastest way to a big state and the least favourable case for snapshots),
then a few more blocks. Then, on fresh ledgers of the same backend:

* **replay** — a replica syncs every block from the source through the block sync messages
  (each block's txs admitted again, signatures included, executed, every root compared);
* **snapshot** — the source's snapshot of its head is checked chunk by chunk from the genesis
  (``node/snapshots.py``: every version hashed), installed in one write, and a replica on it
  syncs the blocks above.

Both end at the source's head with its state root. Wall-clock and CPU seconds (one thread:
on a busy machine CPU is the steadier figure); the
messages go from replica to replica in process, so no network time is in either figure (on a
real network the snapshot moves the state once, replay moves every block).
"""

from __future__ import annotations

import argparse
import heapq
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yulian.apps.benchmarks import TRANSFER, genesis_contracts
from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.wal import WAL
from yulian.crypto.suite import get_suite
from yulian.ledger import Ledger, PostgresLedger, open_ledger
from yulian.ledger.maintenance import LedgerMaintenance
from yulian.ledger.snapshot import install_snapshot_dir
from yulian.net.messages import Message, decode_message
from yulian.node.bootstrap import init_network
from yulian.node.replica import Outputs, Replica, ReplicaConfig, Timer
from yulian.node.snapshots import SnapshotCheck, produce_snapshot
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis

__all__ = ["main", "measure"]

TAIL_BLOCKS = 5  # blocks after the snapshot's height, synced by both joins
SUBMIT_BATCH = 5000  # txs submitted before the source commits them


class Courier:
    """Delivers the replicas' messages and timers in time order (through encode / decode)."""

    def __init__(self, replicas: dict[str, Replica], now: int) -> None:
        self.replicas, self.now = replicas, now
        self.queue: list[tuple[int, int, str, Any]] = []
        self.seq = 0

    def apply(self, sender: str, out: Outputs) -> None:
        for msg in out.broadcast:
            for name in self.replicas:
                if name != sender:
                    self.push(self.now + 1, name, (sender, msg.encode()))
        for peer, msg in out.send:
            self.push(self.now + 1, peer, (sender, msg.encode()))
        for timer in out.timers:
            self.push(timer.due_ms, sender, timer)

    def push(self, at: int, target: str, item: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, target, item))

    def run_until(self, done: Callable[[], bool]) -> None:
        while not done():
            at, _, target, item = heapq.heappop(self.queue)
            self.now = max(self.now, at)
            replica = self.replicas.get(target)
            if replica is None:
                continue
            if isinstance(item, Timer):
                self.apply(target, replica.on_timer(item, self.now))
            else:
                sender, data = item
                self.apply(target, replica.on_message(sender, decode_message(data), self.now))


def _committed(replica: Replica, tx_id: bytes) -> Callable[[], bool]:
    return lambda: replica.ledger.has_tx(tx_id)


class Clock:
    """Wall-clock and CPU seconds since ``start()``."""

    def start(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self._wall, time.process_time() - self._cpu


def _ledger(backend: str, path: Path, dsn: str | None, name: str) -> Ledger:
    if backend == "postgres":
        assert dsn is not None
        return PostgresLedger(dsn, schema=f"join_{name}_{int(time.time() * 1000) % 10**9}")
    return open_ledger(path / name)


def measure(
    keys: int, per_tx: int, backend: str = "lmdb", dsn: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="yulian-join-") as tmp:
        root = Path(tmp)
        layout = init_network(
            root / "net",
            orgs=1,
            validators=1,
            contracts=genesis_contracts(),
            params=ChainParams(
                step_limit=50_000_000, max_block_steps=10_000_000_000, max_block_txs=10_000
            ),
        )
        genesis = Genesis.load(layout.genesis)
        suite = get_suite(genesis.suite)
        node = layout.nodes[0]
        key = suite.load_private_key(node.credential.key.read_bytes())

        def replica(name: str, ledger: Ledger, voter: bool) -> Replica:
            safety = (
                SafetyRules(suite, key, genesis.chain_id, name, MemoryFile()) if voter else None
            )
            return Replica(
                genesis, suite, ledger, safety, WAL(MemoryFile()), ReplicaConfig(name=name)
            )

        source = replica(node.name, _ledger(backend, root, dsn, "source"), True)
        courier = Courier({node.name: source}, genesis.time_ms + 3_600_000)
        courier.apply(node.name, source.start(courier.now))
        wallet = Wallet.from_network(layout.root, "org1", "client1")
        clock = Clock()
        clock.start()
        firsts = list(range(0, keys, per_tx))
        for start in range(0, len(firsts), SUBMIT_BATCH):  # within the mempool's room
            ids = []
            for first in firsts[start : start + SUBMIT_BATCH]:
                args = ["k", first, min(per_tx, keys - first), 1]
                expires = source.tip.height + 5000
                signed = wallet.sign_tx(
                    genesis.chain_id, TRANSFER, "open_range", args, expires_at=expires
                )
                ids.append(source.submit(signed.encode(), courier.now).tx_id)
            courier.run_until(_committed(source, ids[-1]))
        built_s = clock.stop()
        snapshot_dir = root / "snapshot"
        clock.start()
        manifest = produce_snapshot(source.ledger, genesis, suite, snapshot_dir)
        snapshot_s = clock.stop()
        size = sum(p.stat().st_size for p in snapshot_dir.iterdir())
        goal = source.tip.height + TAIL_BLOCKS
        courier.run_until(lambda: source.tip.height >= goal)

        # join by replay
        joiner = replica("replayer", _ledger(backend, root, dsn, "replay"), False)
        courier.replicas["replayer"] = joiner
        clock.start()
        courier.apply("replayer", joiner.start(courier.now))
        courier.push(
            courier.now + 1,
            "replayer",
            (node.name, Message("status", (source.tip.height, 0)).encode()),
        )
        courier.run_until(lambda: joiner.tip.height >= goal)
        replay_s = clock.stop()
        assert joiner.ledger.state_root(goal) == source.ledger.state_root(goal)
        del courier.replicas["replayer"]

        # join from the snapshot
        clock.start()
        check = SnapshotCheck(genesis, suite, manifest)
        for i in range(len(manifest.state_chunks)):
            check.state_chunk(i, (snapshot_dir / f"state-{i:05d}").read_bytes())
        for i in range(len(manifest.block_chunks)):
            check.block_chunk(i, (snapshot_dir / f"blocks-{i:05d}").read_bytes())
        fresh = _ledger(backend, root, dsn, "snap")
        maintained: LedgerMaintenance = fresh  # type: ignore[assignment]
        install_snapshot_dir(maintained, snapshot_dir, manifest, check.base())
        follower = replica("follower", fresh, False)
        courier.replicas["follower"] = follower
        courier.apply("follower", follower.start(courier.now))
        courier.push(
            courier.now + 1,
            "follower",
            (node.name, Message("status", (source.tip.height, 0)).encode()),
        )
        courier.run_until(lambda: follower.tip.height >= goal)
        snapshot_join_s = clock.stop()
        assert follower.ledger.state_root(goal) == source.ledger.state_root(goal)
        for r in (source, joiner, follower):
            r.ledger.close()
    return {
        "keys": keys,
        "keys_per_tx": per_tx,
        "backend": backend,
        "blocks": goal,
        "build_s": built_s,
        "snapshot_write_s": snapshot_s,
        "snapshot_bytes": size,
        "join_replay_s": replay_s,
        "join_snapshot_s": snapshot_join_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m yulian.bench.join")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--keys-per-tx", type=int, default=10_000)
    parser.add_argument("--backend", choices=("lmdb", "postgres"), default="lmdb")
    parser.add_argument("--dsn", help="PostgreSQL (default: a throwaway local server)")
    args = parser.parse_args(argv)
    if args.backend == "postgres" and args.dsn is None:
        from yulian.ledger.postgres.tempserver import PgServer

        with PgServer(fsync=True) as server:
            result = measure(args.keys, args.keys_per_tx, "postgres", server.dsn())
    else:
        result = measure(args.keys, args.keys_per_tx, args.backend, args.dsn)
    for name, value in result.items():
        if isinstance(value, tuple):
            print(f"{name:>18}: {value[0]:.1f} s wall, {value[1]:.1f} s CPU")
        else:
            print(f"{name:>18}: {value}")
    replay, snapshot = result["join_replay_s"], result["join_snapshot_s"]
    print(
        f"{'speed-up':>18}: {replay[0] / snapshot[0]:.1f}x wall, {replay[1] / snapshot[1]:.1f}x CPU"
    )


if __name__ == "__main__":
    main()
