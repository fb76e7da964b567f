"""Introduction: one bench session — a started network, its set-up, and one load after another.

``BenchSession`` is a context manager: it creates and starts the network, commits the
workload's set-up txs (the transfer accounts; untimed), and always stops the network. Each
``load`` pre-signs the txs of a plan (untimed; one client of each organisation in turn), runs
the load driver, and keeps the record; after the network stopped, ``fill_receipts`` reads
every run's receipt statuses from node 0's ledger — success is committed once with ``ok``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from yulian.bench.driver import LoadDriver, ProgressFn
from yulian.bench.network import TX_TTL_BLOCKS, BenchNetwork, check_convergence, read_receipts
from yulian.bench.observations import RunRecord
from yulian.bench.options import BenchOptions
from yulian.bench.plan import Segment
from yulian.bench.workloads import BenchWorkload, presign, sign_calls
from yulian.sdk import Client

SETUP_TIMEOUT_S = 120.0


class BenchSession:
    """A started bench network and what is needed to load it; a context manager that always
    stops the network."""

    def __init__(
        self,
        root: Path,
        workload: BenchWorkload,
        opts: BenchOptions,
        progress: ProgressFn | None = None,
    ) -> None:
        self.net = BenchNetwork(root, opts)
        self.batch = opts.batch  # txs per request; a session may change it between loads
        self.workload = workload
        self.progress = progress
        self.next_index = 0
        self.setup_s = 0.0
        self.ledger_heights: list[int] = []
        self.runs: list[RunRecord] = []
        self._statuses: dict[str, str] | None = None  # read when the network stopped

    def __enter__(self) -> BenchSession:
        self.net.create()
        try:
            self.net.start()
            self.genesis = self.net.genesis
            self.wallets = self.net.wallets()
            self.setup()
        except BaseException:
            self.net.stop()
            raise
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self.net.stop_nodes()
            if exc_type is None and self.runs:  # read while the ledger's server still runs
                self._statuses = read_receipts(self.net.storage(0), self.ledger_heights)
        finally:
            self.net.stop()

    def head(self) -> int:
        return int(httpx.get(f"{self.net.urls[0]}/v1/health", timeout=10).json()["height"])

    def setup(self) -> None:
        """Commit the workload's set-up txs one by one (untimed)."""
        calls = self.workload.setup_calls()
        if not calls:
            return
        started = time.perf_counter()
        expires = self.head() + TX_TTL_BLOCKS - 100
        txs = sign_calls(
            self.wallets[0],
            self.genesis.chain_id,
            self.workload.contract,
            calls,
            expires_at=expires,
        )
        with Client(self.net.urls[0], timeout_s=SETUP_TIMEOUT_S) as client:
            for k, tx in enumerate(txs):
                if self.progress is not None:
                    self.progress({"phase": f"set-up {k + 1}/{len(txs)}", "setup": True})
                result = client.submit_envelope(tx.envelope, wait=True, timeout_s=SETUP_TIMEOUT_S)
                receipt = result.get("receipt") or {}
                if result.get("status") != "committed" or receipt.get("status") != "ok":
                    raise RuntimeError(f"set-up tx {k} did not commit ok: {result}")
        self.setup_s = time.perf_counter() - started

    def load(self, segments: Sequence[Segment], label: str, presign_rate: float) -> RunRecord:
        """Pre-sign for ``segments``, run them, and fill in the receipts' statuses later."""
        count = sum(s.budget(presign_rate) for s in segments)
        start_height = self.head()
        if self.progress is not None:
            self.progress({"phase": f"signing {count:,} txs", "setup": True})
        txs = presign(
            self.workload,
            self.wallets,
            self.genesis.chain_id,
            self.next_index,
            count,
            expires_at=start_height + TX_TTL_BLOCKS - 100,
        )
        self.next_index += count
        driver = LoadDriver(
            self.net.urls,
            txs,
            start_height,
            self.net.procs,
            label=label,
            workload=self.workload.name,
            node_names=self.net.node_names,
            progress=self.progress,
            batch=self.batch,
        )
        record = asyncio.run(driver.run(segments))
        self.ledger_heights.extend(h for h in record.heights if h)
        self.runs.append(record)
        return record

    def convergence(self) -> dict[str, Any]:
        return check_convergence(self.net.urls, self.net.node_names)

    def fill_receipts(self) -> None:
        """After the network stopped: every run's receipt statuses, from node 0's ledger."""
        statuses = self._statuses
        if statuses is None:
            statuses = read_receipts(self.net.storage(0), self.ledger_heights)
        for record in self.runs:
            record.receipt = [
                statuses.get(tx_id) if h else None
                for tx_id, h in zip(record.tx_ids, record.heights, strict=True)
            ]
