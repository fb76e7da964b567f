"""Commit TPS of the ``evidence`` workload through the public API, 1 or more validators.

Starts a real network of ``--validators`` processes (one organisation each) on loopback,
pre-signs ``--txs`` registrations, submits them round-robin to every node with ``--clients``
concurrent HTTP connections (msgpack envelopes, no waiting), and follows the committed blocks on
the first node until every tx is in one. Commit TPS = txs / (first submit → last commit).

    .venv/bin/python -m bench.commit_tps --validators 4 --txs 5000 --clients 16
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench.common import print_table
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.node.bootstrap import init_network
from yulian.node.network import network_down, network_up, pid_path, read_pid
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def submit_all(
    urls: list[str], envelopes: list[bytes], clients: int, latencies: list[float] | None = None
) -> tuple[float, int]:
    """Submit every envelope; with ``latencies`` each client waits for the commit (closed
    loop) and records submit → commit seen, otherwise it only waits for admission."""
    queue = list(reversed(envelopes))
    accepted = 0
    params = {"wait": "true", "timeout": "30"} if latencies is not None else {}

    async def worker(k: int) -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=urls[k % len(urls)], timeout=60) as http:
            while queue:
                body = queue.pop()
                sent = time.perf_counter()
                r = await http.post(
                    "/v1/txs",
                    content=body,
                    params=params,
                    headers={"content-type": "application/msgpack"},
                )
                if r.status_code == 202 and latencies is None:
                    accepted += 1
                elif r.status_code == 200 and latencies is not None:
                    accepted += 1
                    latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    return started, accepted


def follow_commits(
    url: str, start_height: int, expected: int, timeout_s: float
) -> tuple[float, int, list[int]]:
    committed, height, sizes = 0, start_height, []
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=10) as http:
        while committed < expected and time.monotonic() < deadline:
            r = http.get(f"/v1/blocks/{height + 1}")
            if r.status_code == 404:
                time.sleep(0.01)
                continue
            height += 1
            sizes.append(r.json()["header"]["tx_count"])
            committed += sizes[-1]
    return time.perf_counter(), committed, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validators", type=int, default=1)
    parser.add_argument("--txs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--block-interval-ms", type=int, default=200)
    parser.add_argument(
        "--closed-loop",
        action="store_true",
        help="each client waits for its tx's commit (measures latency)",
    )
    parser.add_argument("--dir", help="keep the network (and node logs) in this directory")
    args = parser.parse_args()
    n = args.validators
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.dir or scratch
        base = free_port()
        layout = init_network(
            Path(tmp) / "net",
            orgs=max(2, n),
            validators=n,
            base_api_port=base,
            base_p2p_port=base + n,
            contracts=[(CONTRACT_NAME, contract_source())],
            params=ChainParams(block_interval_ms=args.block_interval_ms),
        )
        genesis = Genesis.load(layout.genesis)
        wallet = Wallet.from_network(layout.root, "org1", "client1")
        envelopes = [
            wallet.sign_tx(
                genesis.chain_id,
                CONTRACT_NAME,
                "register",
                [f"{i:064x}", f"doc {i}", {}],
                expires_at=9_000,
            ).encode()
            for i in range(args.txs)
        ]
        try:
            urls = network_up(layout.root)
            procs = [
                psutil.Process(read_pid(pid_path(layout, node.name)) or 0) for node in layout.nodes
            ]
            cpu_before = [sum(p.cpu_times()[:2]) for p in procs]
            start_height = int(httpx.get(f"{urls[0]}/v1/health").json()["height"])
            latencies: list[float] | None = [] if args.closed_loop else None
            started, accepted = asyncio.run(submit_all(urls, envelopes, args.clients, latencies))
            received = time.perf_counter()
            ended, committed, sizes = follow_commits(urls[0], start_height, accepted, 300)
            cpu = [sum(p.cpu_times()[:2]) - c for p, c in zip(procs, cpu_before, strict=True)]
            rss = [p.memory_info().rss for p in procs]
        finally:
            network_down(layout.root)
    wall = ended - started
    print_table(
        f"evidence: commit TPS, {n} validator(s) (real processes, REST API)",
        [
            ("txs submitted / accepted", f"{args.txs} / {accepted}"),
            ("txs committed", f"{committed}"),
            ("HTTP clients", f"{args.clients}"),
            ("receive TPS", f"{accepted / (received - started):,.0f} tx/s"),
            ("commit TPS", f"{committed / wall:,.0f} tx/s"),
            ("blocks / txs per block", f"{len(sizes)} / {committed / max(1, len(sizes)):,.0f}"),
            ("CPU per tx per node", f"{sum(cpu) / n / max(1, committed) * 1e6:,.0f} µs"),
            *latency_rows(latencies),
            ("peak RSS per node (max)", f"{max(rss) / 2**20:,.0f} MiB"),
        ],
    )


def latency_rows(latencies: list[float] | None) -> list[tuple[str, str]]:
    """Median / p99 / max of submit → commit seen by the client (closed loop only)."""
    if not latencies:
        return [("latency", "not measured (open loop; use --closed-loop)")]
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return [
        (
            "latency median / p99 / max",
            f"{at(0.5):,.0f} / {at(0.99):,.0f} / {ordered[-1] * 1000:,.0f} ms",
        )
    ]


if __name__ == "__main__":
    main()
