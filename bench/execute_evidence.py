"""Execute-only throughput of a workload on one core — a thin wrapper of ``yulian bench
--micro`` (``yulian.bench.micro.execute_only``): no consensus, no storage.

    .venv/bin/python -m bench.execute_evidence --txs 20000
    .venv/bin/python bench/execute_evidence.py --workload transfer --txs 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from yulian.bench.machine import machine
from yulian.bench.micro import MICRO_ACCOUNTS, MicroEnv, execute_only
from yulian.bench.workloads import WORKLOADS, make_workload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--block-size", type=int, default=2000)
    parser.add_argument("--workload", default="evidence", choices=WORKLOADS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = MicroEnv(Path(tmp))
        row = execute_only(
            env,
            make_workload(args.workload, accounts=MICRO_ACCOUNTS, tag="script"),
            args.txs,
            args.block_size,
        )
    print(
        f"{row['workload']}: execute-only {row['tx_per_s']:,.0f} tx/s, "
        f"{row['cpu_us_per_tx']:,.0f} µs CPU per tx ({row['ok']:,}/{row['txs']:,} ok, "
        f"blocks of {row['block_size']}, one core)\nmachine: {machine()}"
    )
    return 0 if row["ok"] == row["txs"] else 1


if __name__ == "__main__":
    sys.exit(main())
