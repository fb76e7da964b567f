"""The ``finance`` bench workload: its set-up and pre-signed transfers all succeed in any order,
through ``workloads.presign`` and ``sign_calls`` as the bench runner calls them, and move value
without creating or destroying any."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import get_type_hints

import pytest

from yulian.apps.benchmarks import genesis_contracts
from yulian.apps.finance import FINANCE
from yulian.bench.finance_workload import (
    NOTE_FACE,
    TRANSFER_AMOUNT,
    FinanceWorkload,
    genesis_contract,
    make_finance_workload,
    note_id,
)
from yulian.bench.micro import MicroEnv, execute_only
from yulian.bench.options import BenchOptions
from yulian.bench.workloads import WORKLOADS, make_workload, presign, sign_calls
from yulian.devkit import Harness

HOLDERS = ("org1", "org2", "org3")


def test_presigned_transfers_succeed_in_any_order_and_conserve_value() -> None:
    h = Harness(HOLDERS, contracts=[genesis_contract()])  # as a bench genesis installs it
    workload = make_finance_workload(HOLDERS, notes_per_holder=3)
    wallets = [h.member(org, "client1") for org in HOLDERS]  # one client per organisation
    expires = h.height + 90
    setup = sign_calls(
        wallets[0],
        h.genesis.chain_id,
        workload.contract,
        workload.setup_calls(),
        expires_at=expires,
    )
    assert all(r.ok for r in h.block(*(h.admit(t.envelope) for t in setup)))
    assert len(h.keys(FINANCE)) == workload.state_keys()
    txs = presign(workload, wallets, h.genesis.chain_id, 0, 240, expires_at=expires)
    random.Random(7).shuffle(txs)  # the network may order them any way
    results = []
    for start in range(0, len(txs), 60):
        results += h.block(*(h.admit(t.envelope) for t in txs[start : start + 60]))
    assert [r.status for r in results] == ["ok"] * len(txs)
    moved = {r.signer.split("@")[1]: 0 for r in results}
    for r in results:
        assert r.value["amount"] == TRANSFER_AMOUNT and r.value["holder"] != r.signer.split("@")[1]
        moved[r.signer.split("@")[1]] += 1
    assert sorted(moved.values()) == [80, 80, 80]  # the round-robin of presign
    parts = [h.state(FINANCE, key) for key in h.keys(FINANCE, "part/")]
    total = sum((Decimal(p["amount"]) for p in parts), Decimal(0))
    assert total == Decimal(NOTE_FACE) * len(HOLDERS) * 3
    roots = [h.state(FINANCE, "part/" + note_id(org, k)) for org in HOLDERS for k in range(3)]
    spent = sum((Decimal(NOTE_FACE) - Decimal(p["amount"]) for p in roots), Decimal(0))
    assert spent == Decimal(TRANSFER_AMOUNT) * len(txs)


def test_calls_are_deterministic_and_each_holder_spends_its_own_notes() -> None:
    workload = FinanceWorkload(HOLDERS, 4, seed=9)
    assert [workload.call(i) for i in range(50)] == [workload.call(i) for i in range(50)]
    for i in range(300):
        method, (part, receiver, amount) = workload.call(i)
        holder = HOLDERS[i % 3]
        assert (method, amount) == ("transfer", "0.01")
        assert part.startswith(f"bench-{holder}-") and receiver in HOLDERS and receiver != holder
    other = FinanceWorkload(HOLDERS, 4, seed=10)
    assert [other.call(i) for i in range(50)] != [workload.call(i) for i in range(50)]
    with pytest.raises(ValueError, match="at least 2 distinct holders"):
        FinanceWorkload(("org1",))
    with pytest.raises(ValueError, match="at least 1 note"):
        FinanceWorkload(HOLDERS, 0)


def test_yulian_bench_runs_it_as_the_finance_workload(tmp_path: Path) -> None:
    """Registered: the option table offers it, ``make_workload`` makes it with the bench
    network's organisations as holders, the bench genesis installs the contract, and the
    micro-benchmark executes its pre-signed transfers, every one ``ok``."""
    assert "finance" in WORKLOADS
    entry = get_type_hints(BenchOptions, include_extras=True)["workload"].__metadata__[0]
    assert "finance" in entry.choices
    workload = make_workload("finance", orgs=4, seed=5)
    assert isinstance(workload, FinanceWorkload)
    assert workload.holders == ("org1", "org2", "org3", "org4")
    assert workload.contract == FINANCE and workload.name == "finance"
    assert dict(genesis_contracts())[FINANCE] == genesis_contract()[1]
    result = execute_only(MicroEnv(tmp_path), make_workload("finance"), txs=120, rounds=1)
    assert (result["workload"], result["txs"], result["ok"]) == ("finance", 120, 120)
