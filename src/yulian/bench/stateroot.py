"""Introduction: what the state root costs per block (``python -m yulian.bench.stateroot``).

Runs a workload's blocks through ``execute_block`` on a real LMDB ledger (each block committed
before the next, so reads and key histories are the node's), and times, on the same blocks and
back to back, the three per-block steps a validator does:

* **execute** — ``execute_block``, the reference;
* **chained root** — the rule before decision 0050: one hash over the previous root, the height
  and the block's sorted writes;
* **LtHash root** — ``state_sum_after`` (one XOF per written version, and one per version that
  leaves a full history window, read from the ledger) and ``state_root``.

Every figure is CPU µs per block and per tx, the median over the measured blocks of ``rounds``
runs; blocks before ``--warm`` are not measured (hot keys' windows fill there first).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from yulian.bench.micro import MicroEnv
from yulian.bench.workloads import make_workload, presign, sign_calls
from yulian.execution.executor import BlockContext, execute_block
from yulian.execution.roots import EMPTY_STATE_SUM, state_root, state_sum_after
from yulian.ledger import BlockCommit, block_events, open_ledger
from yulian.types.encoding import encode

__all__ = ["main", "measure"]


def _chained_root(hash_fn: Any, prev: bytes, height: int, writes: Any) -> bytes:
    """The rule before decision 0050 (``yulian/state/v1``)."""
    return bytes(hash_fn(encode(("yulian/state/v1", prev, height, tuple(writes)))))


def measure(
    workload_name: str, blocks: int, block_size: int, warm: int, suite: str, rounds: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="yulian-stateroot-") as tmp:
        env = MicroEnv(Path(tmp), suite_name=suite)
        workload = make_workload(workload_name)
        expires = blocks + 10
        setup = env.admit(
            [
                t.envelope
                for t in sign_calls(
                    env.wallets[0],
                    env.genesis.chain_id,
                    workload.contract,
                    workload.setup_calls(),
                    expires_at=expires,
                )
            ]
        )
        txs = env.admit(
            [
                t.envelope
                for t in presign(
                    workload,
                    env.wallets,
                    env.genesis.chain_id,
                    0,
                    blocks * block_size,
                    expires_at=expires,
                )
            ]
        )
        samples: dict[str, list[float]] = {"execute": [], "chained": [], "lthash": []}
        for run in range(rounds):
            ledger = open_ledger(Path(tmp) / f"ledger-{run}", sync=False)
            state_sum, prev = EMPTY_STATE_SUM, b"\x00" * 32
            step_limit = env.genesis.params.step_limit
            chunks = [setup] + [txs[i : i + block_size] for i in range(0, len(txs), block_size)]
            for height, chunk in enumerate(chunks, start=1):
                context = BlockContext(height, env.now_ms + height, step_limit)
                t0 = time.process_time()
                result = execute_block(ledger, context, chunk, env.registry.resolve)
                t1 = time.process_time()
                prev = _chained_root(env.suite.hash, prev, height, result.writes)
                t2 = time.process_time()
                state_sum = state_sum_after(env.suite, state_sum, ledger, height, result.writes)
                root = state_root(env.suite, state_sum)
                t3 = time.process_time()
                if height > warm:
                    samples["execute"].append(t1 - t0)
                    samples["chained"].append(t2 - t1)
                    samples["lthash"].append(t3 - t2)
                ids = tuple(r.tx_id for r in result.receipts)
                ledger.commit_block(
                    BlockCommit(
                        height=height,
                        block_hash=env.suite.hash(b"%d" % height),
                        block=b"b",
                        commit=b"c",
                        tx_ids=ids,
                        receipts=tuple(r.encode() for r in result.receipts),
                        writes=result.writes,
                        state_root=root,
                        events=block_events(result.receipts),
                        state_sum=state_sum,
                    )
                )
            ledger.close()
    per_block = {k: statistics.median(v) * 1e6 for k, v in samples.items()}
    return {
        "workload": workload_name,
        "suite": suite,
        "block_size": block_size,
        "measured_blocks": len(samples["execute"]),
        "us_per_block": per_block,
        "us_per_tx": {k: v / block_size for k, v in per_block.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m yulian.bench.stateroot")
    parser.add_argument("--workloads", default="evidence,transfer,transfer-hot")
    parser.add_argument("--blocks", type=int, default=80)
    parser.add_argument("--block-size", type=int, default=100)
    parser.add_argument("--warm", type=int, default=66, help="blocks not measured")
    parser.add_argument("--suite", default="standard", choices=("standard", "gm"))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{'workload':<14}{'suite':<10}{'execute':>12}{'chained':>12}{'lthash':>12}  µs/tx")
    for name in args.workloads.split(","):
        r = measure(name, args.blocks, args.block_size, args.warm, args.suite, args.rounds)
        t = r["us_per_tx"]
        print(
            f"{name:<14}{args.suite:<10}{t['execute']:>12.1f}{t['chained']:>12.2f}"
            f"{t['lthash']:>12.1f}  ({r['measured_blocks']} blocks of {args.block_size})"
        )


if __name__ == "__main__":
    main()
