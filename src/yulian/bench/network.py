"""Introduction: the bench network — N validator processes on loopback, and what is read back.

``BenchNetwork`` creates a network directory of N validators, one organisation each (at least
two), whose genesis installs ``evidence`` and the bench contracts and keeps pre-signed txs
valid for long runs (``TX_TTL_BLOCKS``); it starts one process per validator on free ports
(``network_up``) and stops them (``network_down``). The options that shape it (suite, genesis
block interval and size, verifier processes) come from ``BenchOptions``.
``check_convergence`` compares every node's block hash and state root at a common height;
``read_receipts`` reads the run's receipt statuses from a stopped node's ledger (read-only).
"""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from yulian.apps.benchmarks import genesis_contracts
from yulian.bench.options import BenchOptions
from yulian.ledger import StorageConfig, open_ledger
from yulian.ledger.postgres.tempserver import PgServer
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config, save_config
from yulian.node.network import network_down, network_up, pid_path, read_pid
from yulian.pki.layout import NetworkLayout, load_layout
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis
from yulian.types.receipt import Receipt

TX_TTL_BLOCKS = 1_000_000  # bench genesis: pre-signed txs stay valid for long runs
START_TIMEOUT_S = 90.0


def free_port_base(count: int, attempts: int = 200) -> int:
    """A port p such that p .. p + count - 1 are all free on 127.0.0.1 right now."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20_000, 60_000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"found no {count} consecutive free ports on 127.0.0.1")


def auto_verify_workers(validators: int, cores: int | None = None) -> int:
    """Verifier processes per node for a bench network: one when the machine has a core to
    spare beyond one per validator process (1 validator on 2 cores), else none — on a machine
    the nodes already fill, another process only adds hand-off work."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return 1 if cores >= 2 * validators else 0


class BenchNetwork:
    """``opts.validators`` validator processes on loopback in ``root`` (made by ``create``)."""

    def __init__(self, root: Path, opts: BenchOptions) -> None:
        self.root = root
        self.opts = opts
        self.validators = opts.validators
        self.verify_workers = (
            opts.verify_workers
            if opts.verify_workers is not None
            else auto_verify_workers(opts.validators)
        )
        self.layout: NetworkLayout | None = None
        self.urls: list[str] = []
        self.procs: list[psutil.Process] = []
        self.pg: PgServer | None = None  # --storage postgres: the nodes' database server

    def create(self) -> NetworkLayout:
        n, opts = self.validators, self.opts
        base = free_port_base(2 * n)
        params = dataclasses.replace(ChainParams(), max_tx_ttl_blocks=TX_TTL_BLOCKS)
        if opts.block_interval_ms is not None:
            params = dataclasses.replace(params, block_interval_ms=opts.block_interval_ms)
        if opts.max_block_txs is not None:
            params = dataclasses.replace(params, max_block_txs=opts.max_block_txs)
        self.layout = init_network(
            self.root,
            orgs=max(2, n),
            validators=n,
            suite_name=opts.suite,
            base_api_port=base,
            base_p2p_port=base + n,
            contracts=genesis_contracts(),
            params=params,
        )
        if opts.storage == "postgres":
            self.pg = PgServer(fsync=True).start()
        for node in self.layout.nodes:
            cfg = load_config(node.config)
            if self.verify_workers:
                cfg = dataclasses.replace(cfg, verify_workers=self.verify_workers)
            if self.pg is not None:
                storage = StorageConfig("postgres", dsn=self.pg.dsn(), schema=pg_schema(node.name))
                cfg = dataclasses.replace(cfg, storage=storage)
            save_config(cfg, node.config)
        return self.layout

    def description(self) -> str:
        """The network row of the report's table."""
        g = self.genesis
        return (
            f"{self.validators} validator process(es), {len(g.organisations)} organisations, "
            f"{g.suite} suite, block interval {g.params.block_interval_ms} ms, "
            f"≤ {g.params.max_block_txs} txs per block, loopback, "
            + ("PostgreSQL ledgers" if self.opts.storage == "postgres" else "LMDB ledgers")
            + (
                f", {self.verify_workers} verifier process(es) per node"
                if self.verify_workers
                else ""
            )
        )

    @property
    def genesis(self) -> Genesis:
        assert self.layout is not None
        return Genesis.load(self.layout.genesis)

    @property
    def node_names(self) -> list[str]:
        assert self.layout is not None
        return [node.name for node in self.layout.nodes]

    def wallets(self) -> list[Wallet]:
        """One client of every organisation."""
        assert self.layout is not None
        return [Wallet.from_network(self.root, org.name, "client1") for org in self.layout.orgs]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> list[str]:
        """Start every node and wait until each is healthy and the chain has a block."""
        layout = self.layout or load_layout(self.root)
        self.layout = layout
        self.urls = network_up(self.root, timeout_s=timeout_s)
        self.procs = []
        for node in layout.nodes:
            pid = read_pid(pid_path(layout, node.name))
            if pid is None:
                raise RuntimeError(f"node {node.name} has no running process")
            self.procs.append(psutil.Process(pid))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            heights = self.heights()
            if all(h is not None and h >= 1 for h in heights):
                return self.urls
            time.sleep(0.2)
        raise RuntimeError(f"the network made no block within {timeout_s:.0f} s: {heights}")

    def heights(self) -> list[int | None]:
        out: list[int | None] = []
        for url in self.urls:
            try:
                out.append(int(httpx.get(f"{url}/v1/health", timeout=5).json()["height"]))
            except (httpx.HTTPError, ValueError, KeyError):
                out.append(None)
        return out

    def stop_nodes(self) -> None:
        if self.layout is not None or (self.root / "genesis.json").exists():
            network_down(self.root)

    def stop(self) -> None:
        """Stop the nodes, then the database server if the bench started one."""
        try:
            self.stop_nodes()
        finally:
            if self.pg is not None:
                self.pg.stop()
                self.pg = None

    def storage(self, index: int = 0) -> StorageConfig:
        """Where node ``index`` keeps its ledger (an LMDB directory in its data dir, or its
        schema on the bench's PostgreSQL server)."""
        assert self.layout is not None
        cfg = load_config(self.layout.nodes[index].config)
        if cfg.storage.backend == "lmdb":
            return dataclasses.replace(cfg.storage, path=cfg.storage.lmdb_path(cfg.data_dir))
        return cfg.storage


def pg_schema(node_name: str) -> str:
    """The PostgreSQL schema of a bench node's ledger (one server, a schema per node)."""
    return "ledger_" + "".join(c if c.isalnum() else "_" for c in node_name.lower())


def check_convergence(
    urls: Sequence[str], names: Sequence[str], timeout_s: float = 15.0
) -> dict[str, Any]:
    """Wait (bounded) until every node reports the same height, then compare every node's
    block hash and state root at that height (at the lowest height if they never settle)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=10) as http:

        def get(url: str) -> Any:
            try:
                r = http.get(url)
                return r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None  # a node that crashed or does not answer

        while True:
            heights = [(get(f"{u}/v1/health") or {}).get("height") for u in urls]
            if len(set(heights)) == 1 or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        height = min((h for h in heights if h is not None), default=0)
        nodes = []
        for name, url in zip(names, urls, strict=True):
            header = (get(f"{url}/v1/blocks/{height}") or {}).get("header") or {}
            nodes.append(
                {"node": name, "hash": header.get("hash"), "state_root": header.get("state_root")}
            )
    hashes = {n["hash"] for n in nodes}
    roots = {n["state_root"] for n in nodes}
    return {
        "height": height,
        "heights": heights,
        "same_height": len(set(heights)) == 1 and None not in heights,
        "hash": nodes[0]["hash"],
        "state_root": nodes[0]["state_root"],
        "agree": len(hashes) == 1 and len(roots) == 1 and None not in hashes | roots,
        "nodes": nodes,
    }


def read_receipts(storage: StorageConfig, heights: Sequence[int]) -> dict[str, str]:
    """tx id (hex) → receipt status for every tx of the blocks at ``heights`` (read-only)."""
    out: dict[str, str] = {}
    ledger = open_ledger(storage, readonly=True)
    try:
        for h in sorted(set(heights)):
            for raw in ledger.receipts(h) or []:
                r = Receipt.decode(raw)
                out[r.tx_id.hex()] = r.status
    finally:
        ledger.close()
    return out
