"""Commit TPS of a workload through the public API — now a thin wrapper of ``yulian bench``.

The old options map onto ``yulian bench``: without ``--closed-loop`` the txs are submitted as
fast as the network commits them (``yulian bench``'s stress load; ``--clients`` was the HTTP
concurrency and is ignored); with ``--closed-loop`` each of ``--clients`` clients waits for
its tx's commit (``yulian bench --clients C``); ``--dir`` is ``--keep``.

    .venv/bin/python -m bench.commit_tps --validators 4 --txs 5000
    .venv/bin/python bench/commit_tps.py --validators 4 --txs 3000 --clients 64 --closed-loop
"""

from __future__ import annotations

import argparse
import sys

from yulian.bench.command import main as bench_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validators", type=int, default=1)
    parser.add_argument("--txs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--block-interval-ms", type=int)
    parser.add_argument("--closed-loop", action="store_true")
    parser.add_argument("--workload", default="evidence")
    parser.add_argument("--dir", help="keep the network (and node logs) in this directory")
    args, rest = parser.parse_known_args(argv)
    forwarded = [
        "--validators",
        str(args.validators),
        "--txs",
        str(args.txs),
        "--workload",
        args.workload,
    ]
    if args.closed_loop:
        forwarded += ["--clients", str(args.clients)]
    if args.block_interval_ms is not None:
        forwarded += ["--block-interval-ms", str(args.block_interval_ms)]
    if args.dir:
        forwarded += ["--keep", args.dir]
    return bench_main([*forwarded, *rest])


if __name__ == "__main__":
    sys.exit(main())
