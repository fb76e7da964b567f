"""Single-node commit TPS of the ``evidence`` workload through the public API.

Starts a real one-validator network on loopback, pre-signs ``--txs`` registrations, submits them
with ``--clients`` concurrent HTTP connections (msgpack envelopes, no waiting), and follows the
committed blocks until every tx is in one. Commit TPS = txs / (first submit → last commit).

    .venv/bin/python -m bench.commit_tps --txs 5000 --clients 16
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
from yulian.node.config import load_config
from yulian.node.process import start_node_process, stop_node_process, wait_healthy
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def submit_all(url: str, envelopes: list[bytes], clients: int) -> tuple[float, int]:
    queue = list(reversed(envelopes))
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while queue:
                body = queue.pop()
                r = await http.post("/v1/txs", content=body,
                                    headers={"content-type": "application/msgpack"})
                if r.status_code == 202:
                    accepted += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return started, accepted


def follow_commits(url: str, start_height: int, expected: int, timeout_s: float) -> tuple[
        float, int, list[int]]:
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
    parser.add_argument("--txs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--block-interval-ms", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        layout = init_network(Path(tmp) / "net", orgs=2, base_api_port=free_port(),
                              contracts=[(CONTRACT_NAME, contract_source())],
                              params=ChainParams(block_interval_ms=args.block_interval_ms))
        genesis = Genesis.load(layout.genesis)
        wallet = Wallet.from_network(layout.root, "org1", "client1")
        envelopes = [wallet.sign_tx(genesis.chain_id, CONTRACT_NAME, "register",
                                    [f"{i:064x}", f"doc {i}", {}], expires_at=10_000).encode()
                     for i in range(args.txs)]
        cfg = load_config(layout.nodes[0].config)
        log = Path(tmp) / "node.log"
        proc = start_node_process(layout.nodes[0].config, log)
        try:
            wait_healthy(cfg.api_url, proc, log)
            node = psutil.Process(proc.pid)
            cpu_before = sum(node.cpu_times()[:2])
            started, accepted = asyncio.run(submit_all(cfg.api_url, envelopes, args.clients))
            received = time.perf_counter()
            ended, committed, sizes = follow_commits(cfg.api_url, 0, accepted, 120)
            cpu = sum(node.cpu_times()[:2]) - cpu_before
            rss = node.memory_info().rss
        finally:
            stop_node_process(proc)
    wall = ended - started
    print_table("evidence: single-validator commit TPS (real node process, REST API)", [
        ("txs submitted / accepted", f"{args.txs} / {accepted}"),
        ("txs committed", f"{committed}"),
        ("HTTP clients", f"{args.clients}"),
        ("receive TPS", f"{accepted / (received - started):,.0f} tx/s"),
        ("commit TPS", f"{committed / wall:,.0f} tx/s"),
        ("blocks / txs per block", f"{len(sizes)} / {committed / max(1, len(sizes)):,.0f}"),
        ("node CPU per tx", f"{cpu / max(1, committed) * 1e6:,.0f} µs"),
        ("node RSS at end", f"{rss / 2**20:,.0f} MiB"),
    ])


if __name__ == "__main__":
    main()
