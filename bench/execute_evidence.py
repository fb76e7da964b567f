"""Execute-only throughput of the ``evidence`` contract on one core (no consensus, no storage).

Pre-signs and admits ``--txs`` registrations (admission is not timed), then times
``execute_block`` over blocks of ``--block-size`` txs on an in-memory state view.

    .venv/bin/python -m bench.execute_evidence --txs 20000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import print_table
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.crypto.membership import Membership
from yulian.crypto.suite import get_suite
from yulian.execution.executor import BlockContext, ExecTx, execute_block
from yulian.execution.registry import ContractRegistry
from yulian.mempool.admission import Admission
from yulian.node.bootstrap import init_network
from yulian.sdk import Wallet
from yulian.types.genesis import Genesis


class MemoryView:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []


def prepare(txs: int, workdir: Path) -> tuple[Genesis, ContractRegistry, list[ExecTx]]:
    layout = init_network(workdir / "net", orgs=2, contracts=[(CONTRACT_NAME, contract_source())])
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    registry = ContractRegistry(suite, genesis.contracts)
    wallet = Wallet.from_network(layout.root, "org1", "client1")
    admission = Admission(
        suite,
        genesis.chain_id,
        genesis.params,
        Membership(suite, genesis.organisations),
        contract_exists=lambda n: registry.source(n) is not None,
        is_known=lambda _: False,
    )
    now = genesis.time_ms + 60_000
    admitted = []
    for i in range(txs):
        signed = wallet.sign_tx(
            genesis.chain_id,
            CONTRACT_NAME,
            "register",
            [f"{i:064x}", f"document {i}", {"n": i}],
            expires_at=1000,
        )
        admitted.append(admission.admit(signed.encode(), next_height=1, now_ms=now))
    return genesis, registry, admitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--block-size", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        genesis, registry, txs = prepare(args.txs, Path(tmp))
    view = MemoryView()
    registry.resolve(CONTRACT_NAME)  # compile outside the timed part
    started = time.perf_counter()
    cpu_started = time.process_time()
    ok = 0
    for h, start in enumerate(range(0, len(txs), args.block_size), start=1):
        block = BlockContext(h, genesis.time_ms + h, genesis.params.step_limit)
        result = execute_block(view, block, txs[start : start + args.block_size], registry.resolve)
        ok += sum(r.ok for r in result.receipts)
        for key, value in result.writes:
            if value is not None:
                view.data[key] = value
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert ok == len(txs), f"only {ok} of {len(txs)} succeeded"
    steps = sum(1 for _ in txs)
    print_table(
        "evidence: execute-only (execute_block, in-memory state, one core)",
        [
            ("txs", f"{steps}"),
            ("block size", f"{args.block_size}"),
            ("wall time", f"{wall:.2f} s"),
            ("throughput", f"{len(txs) / wall:,.0f} tx/s"),
            ("CPU per tx", f"{cpu / len(txs) * 1e6:,.0f} µs"),
        ],
    )


if __name__ == "__main__":
    main()
