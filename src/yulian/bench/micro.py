"""Introduction: per-node micro-benchmarks (``yulian bench --micro``), one core, no network.

* **execute-only**, per workload: pre-signed txs are admitted (untimed), the workload's set-up
  calls are applied, then ``execute_block`` runs blocks of ``block_size`` txs on an in-memory
  state view (writes applied between blocks) — the contract and executor cost alone;
* **storage commit**: ``Ledger.commit_block`` of blocks of ``block_size`` evidence-sized
  records (tx id, 120-byte receipt, one 300-byte state write per tx, 570 bytes of block per tx)
  into a fresh LMDB ledger (``open_ledger``) in a temporary directory, durable (``sync=True``,
  the node's setting) and not;
* **decode + verify**: ``Admission.check`` (decode, chain id, expiry, certificate chain and
  validity, Ed25519 signature) of pre-signed envelopes, each unique, so none hits the node's
  verified-signature cache; beside it the raw ``suite.verify`` rate.

Every figure is the median of ``rounds`` timed repetitions.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yulian.apps.benchmarks import genesis_contracts
from yulian.bench.machine import describe, verify_rate
from yulian.bench.workloads import WORKLOADS, BenchWorkload, make_workload, presign, sign_calls
from yulian.consensus.consortium_view import ConsortiumView
from yulian.crypto.suite import get_suite
from yulian.execution.executor import BlockContext, ExecTx, execute_block
from yulian.execution.overlay import scan_mapping
from yulian.execution.registry import ContractRegistry
from yulian.ledger import BlockCommit, open_ledger
from yulian.mempool.admission import Admission
from yulian.node.bootstrap import init_network
from yulian.sdk import Wallet
from yulian.types.consortium import ConsortiumConfig
from yulian.types.genesis import Genesis

DEFAULT_TXS = 4000
DEFAULT_BLOCK_SIZE = 1000
DEFAULT_ROUNDS = 3
MICRO_ACCOUNTS = 10_000
STORAGE_BLOCKS = 20


class MemoryView:
    """The committed state as a dict (a ``StateView`` for ``execute_block``)."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        return scan_mapping(self.data, prefix, limit, start_after)

    def apply(self, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value


class MicroEnv:
    """A genesis, its registry and admission, and one client per organisation."""

    def __init__(self, workdir: Path, suite_name: str = "standard") -> None:
        layout = init_network(
            workdir / "net", orgs=2, contracts=genesis_contracts(), suite_name=suite_name
        )
        self.genesis = Genesis.load(layout.genesis)
        self.suite = get_suite(self.genesis.suite)
        self.registry = ContractRegistry(self.suite, self.genesis.contracts)
        self.wallets = [
            Wallet.from_network(layout.root, org.name, "client1") for org in layout.orgs
        ]
        self.now_ms = self.genesis.time_ms + 60_000

    def admission(self) -> Admission:
        return Admission(
            self.suite,
            self.genesis.chain_id,
            self.genesis.params,
            ConsortiumView.of(
                ConsortiumConfig.from_genesis(self.genesis), 1, self.suite
            ).membership,
            contract_exists=lambda n: n in self.registry.genesis_names(),
            is_known=lambda _: False,
        )

    def admit(self, envelopes: Sequence[bytes]) -> list[ExecTx]:
        admission = self.admission()
        return [admission.check(e, height=1, at_ms=self.now_ms) for e in envelopes]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _timed(fn: Callable[[], int], rounds: int) -> dict[str, float]:
    """Run ``fn`` (returns the number of items it did) ``rounds`` times: median items/s and
    CPU µs per item."""
    rates, cpus = [], []
    for _ in range(max(1, rounds)):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        n = fn()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        rates.append(n / wall if wall > 0 else 0.0)
        cpus.append(cpu / n * 1e6 if n else 0.0)
    return {"per_s": _median(rates), "cpu_us_per_item": _median(cpus)}


def execute_only(
    env: MicroEnv,
    workload: BenchWorkload,
    txs: int,
    block_size: int = DEFAULT_BLOCK_SIZE,
    rounds: int = DEFAULT_ROUNDS,
) -> dict[str, Any]:
    """Execute-only throughput of ``workload`` (txs/s on one core)."""
    expires = 1000
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
    admitted = env.admit(
        [
            t.envelope
            for t in presign(
                workload, env.wallets, env.genesis.chain_id, 0, txs, expires_at=expires
            )
        ]
    )
    step_limit = env.genesis.params.step_limit
    for name in {workload.contract}:
        env.registry.resolve(name, MemoryView())  # compile outside the timed part
    base = MemoryView()
    if setup:
        base.apply(
            execute_block(
                base, BlockContext(1, env.now_ms, step_limit), setup, env.registry.resolve
            ).writes
        )
    ok_counts: list[int] = []

    def run() -> int:
        view = MemoryView()
        view.data = dict(base.data)
        ok = 0
        for h, start in enumerate(range(0, len(admitted), block_size), start=2):
            block = BlockContext(h, env.now_ms + h, step_limit)
            result = execute_block(
                view, block, admitted[start : start + block_size], env.registry.resolve
            )
            ok += sum(r.ok for r in result.receipts)
            view.apply(result.writes)
        ok_counts.append(ok)
        return len(admitted)

    timing = _timed(run, rounds)
    return {
        "workload": workload.name,
        "txs": txs,
        "block_size": block_size,
        "ok": min(ok_counts),
        "tx_per_s": timing["per_s"],
        "cpu_us_per_tx": timing["cpu_us_per_item"],
    }


def storage_commit(
    block_size: int = DEFAULT_BLOCK_SIZE,
    blocks: int = STORAGE_BLOCKS,
    rounds: int = DEFAULT_ROUNDS,
    *,
    sync: bool = True,
) -> dict[str, Any]:
    """``commit_block`` throughput of evidence-sized blocks into a fresh LMDB ledger."""

    def make(height: int) -> BlockCommit:
        ids = tuple(hashlib.sha256(f"{height}:{i}".encode()).digest() for i in range(block_size))
        writes = tuple(
            sorted((b"evidence\x00doc/" + tx_id.hex().encode(), b"v" * 300) for tx_id in ids)
        )
        return BlockCommit(
            height=height,
            block_hash=hashlib.sha256(f"block {height}".encode()).digest(),
            block=b"b" * (570 * block_size),
            commit=b"c" * 400,
            tx_ids=ids,
            receipts=tuple(b"r" * 120 for _ in ids),
            writes=writes,
            state_root=hashlib.sha256(f"root {height}".encode()).digest(),
        )

    prepared = [make(h) for h in range(1, blocks + 1)]

    def run() -> int:
        with tempfile.TemporaryDirectory(prefix="yulian-micro-ledger-") as tmp:
            ledger = open_ledger(Path(tmp) / "ledger", sync=sync)
            try:
                for c in prepared:
                    ledger.commit_block(c)
            finally:
                ledger.close()
        return blocks

    timing = _timed(run, rounds)
    return {
        "sync": sync,
        "block_size": block_size,
        "blocks_per_s": timing["per_s"],
        "tx_per_s": timing["per_s"] * block_size,
        "ms_per_block": 1000 / timing["per_s"] if timing["per_s"] else None,
    }


def decode_verify(env: MicroEnv, txs: int, rounds: int = DEFAULT_ROUNDS) -> dict[str, Any]:
    """``Admission.check`` throughput on unique pre-signed envelopes (txs/s on one core)."""
    workload = make_workload("evidence", tag="micro-verify")
    envelopes = [
        t.envelope
        for t in presign(workload, env.wallets, env.genesis.chain_id, 0, txs, expires_at=1000)
    ]

    def run() -> int:
        admission = env.admission()  # a fresh verified-signature cache each round
        for e in envelopes:
            admission.check(e, height=1, at_ms=env.now_ms)
        return len(envelopes)

    timing = _timed(run, rounds)
    return {"txs": txs, "tx_per_s": timing["per_s"], "cpu_us_per_tx": timing["cpu_us_per_item"]}


def run_micro(
    workloads: Sequence[str] = WORKLOADS,
    txs: int = DEFAULT_TXS,
    block_size: int = DEFAULT_BLOCK_SIZE,
    rounds: int = DEFAULT_ROUNDS,
) -> dict[str, Any]:
    """Every micro-benchmark; returns the ``--json`` document of ``--micro``."""
    with tempfile.TemporaryDirectory(prefix="yulian-micro-") as tmp:
        env = MicroEnv(Path(tmp))
        execute = [
            execute_only(
                env,
                make_workload(name, accounts=MICRO_ACCOUNTS, tag="micro"),
                txs,
                block_size,
                rounds,
            )
            for name in workloads
        ]
        verify = decode_verify(env, txs, rounds)
    return {
        "kind": "yulian-bench-micro/v1",
        "machine": describe(),
        "signature_verify_per_s": verify_rate(),
        "execute_only": execute,
        "storage_commit": [
            storage_commit(block_size, rounds=rounds, sync=True),
            storage_commit(block_size, rounds=rounds, sync=False),
        ],
        "decode_verify": verify,
    }


def render(results: dict[str, Any], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="yulian bench --micro (one core, no network)")
    table.add_column("benchmark", style="bold")
    table.add_column("throughput", justify="right")
    table.add_column("CPU per item", justify="right")
    table.add_column("notes")
    for row in results["execute_only"]:
        table.add_row(
            f"execute-only: {row['workload']}",
            f"{row['tx_per_s']:,.0f} tx/s",
            f"{row['cpu_us_per_tx']:,.0f} µs",
            f"{row['txs']:,} txs, blocks of {row['block_size']}, {row['ok']:,} ok",
        )
    for row in results["storage_commit"]:
        table.add_row(
            f"storage commit ({'fsync' if row['sync'] else 'no fsync'})",
            f"{row['tx_per_s']:,.0f} tx/s",
            f"{row['ms_per_block']:,.1f} ms/block",
            f"LMDB, blocks of {row['block_size']} (1 write, 1 receipt per tx)",
        )
    v = results["decode_verify"]
    table.add_row(
        "decode + verify (Admission.check)",
        f"{v['tx_per_s']:,.0f} tx/s",
        f"{v['cpu_us_per_tx']:,.0f} µs",
        "decode, certificate, Ed25519 signature",
    )
    table.add_row(
        "Ed25519 verify alone",
        f"{results['signature_verify_per_s']:,.0f} /s",
        f"{1e6 / results['signature_verify_per_s']:,.0f} µs",
        "suite.verify (PyNaCl)",
    )
    m = results["machine"]
    table.caption = (
        f"{m['cores']} cores, {m['cpu_model']}, Python {m['python']}; median of the rounds"
    )
    console.print(table)
