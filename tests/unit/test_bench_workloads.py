"""``yulian bench``: workload generators, bench contracts, report math, load plans."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yulian.apps.benchmarks import NAMES, genesis_contracts, source
from yulian.bench import figures, observations, report
from yulian.bench.http_client import HttpConnection, problem_code
from yulian.bench.machine import SignatureCeiling, describe, verify_rate
from yulian.bench.micro import MemoryView, MicroEnv
from yulian.bench.options import BenchOptions
from yulian.bench.plan import Segment, plan, steady_rate
from yulian.bench.workloads import (
    HOT_ACCOUNTS,
    INITIAL_BALANCE,
    WORKLOADS,
    account,
    make_workload,
    presign,
    sign_calls,
)
from yulian.contracts import compile_contract
from yulian.execution.executor import BlockContext, ExecTx, execute_block
from yulian.execution.overlay import state_key
from yulian.types.encoding import decode


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MicroEnv]:
    yield MicroEnv(tmp_path_factory.mktemp("bench-env"))


def run_block(env: MicroEnv, view: MemoryView, txs: list[ExecTx], height: int = 2) -> list[Any]:
    result = execute_block(
        view,
        BlockContext(height, env.now_ms + height, env.genesis.params.step_limit),
        txs,
        env.registry.resolve,
    )
    view.apply(result.writes)
    return list(result.receipts)


def signed(env: MicroEnv, contract: str, calls: list[tuple[str, list[Any]]]) -> list[ExecTx]:
    txs = sign_calls(env.wallets[0], env.genesis.chain_id, contract, calls, expires_at=1000)
    return env.admit([t.envelope for t in txs])


def balances(view: MemoryView, n: int) -> list[int]:
    out = []
    for k in range(n):
        raw = view.get(state_key("transfer", "acct/" + account(k)))
        assert raw is not None
        value = decode(raw)
        assert isinstance(value, int)
        out.append(value)
    return out


# --- contracts ----------------------------------------------------------------------------


def test_bench_contracts_compile_in_the_dialect() -> None:
    for name in NAMES:
        compiled = compile_contract(name, source(name))
        assert compiled is not None
    names = [n for n, _ in genesis_contracts()]
    assert names == ["evidence", "transfer", "trace", "noop", "finance"]
    with pytest.raises(ValueError):
        source("nope")


def test_transfer_conserves_the_total_and_overdraft_reverts(env: MicroEnv) -> None:
    view = MemoryView()
    n = 12
    receipts = run_block(env, view, signed(env, "transfer", [("open_range", ["a", 0, n, 100])]))
    assert [r.status for r in receipts] == ["ok"]
    assert sum(balances(view, n)) == 100 * n
    wl = make_workload("transfer", accounts=n, seed=7)
    calls: list[tuple[str, list[Any]]] = []
    for i in range(200):
        method, args = wl.call(i)
        args[2] = 1 + i % 37  # amounts large enough that some transfers overdraft
        calls.append((method, args))
    receipts = run_block(env, view, signed(env, "transfer", calls), height=3)
    statuses = {r.status for r in receipts}
    assert statuses <= {"ok", "reverted"}
    assert "reverted" in statuses and "ok" in statuses
    reverted = [r for r in receipts if r.status == "reverted"]
    assert all(r.message == "insufficient balance" for r in reverted)
    after = balances(view, n)
    assert sum(after) == 100 * n
    assert all(b >= 0 for b in after)


def test_overdraft_changes_nothing(env: MicroEnv) -> None:
    view = MemoryView()
    run_block(env, view, signed(env, "transfer", [("open_range", ["a", 0, 2, 5])]))
    before = dict(view.data)
    receipts = run_block(
        env, view, signed(env, "transfer", [("transfer", ["a0", "a1", 6])]), height=3
    )
    assert receipts[0].status == "reverted"
    assert receipts[0].message == "insufficient balance"
    assert view.data == before
    ok = run_block(env, view, signed(env, "transfer", [("transfer", ["a0", "a1", 5])]), height=4)
    assert ok[0].status == "ok"
    assert balances(view, 2) == [0, 10]


def test_transfer_refuses_bad_input(env: MicroEnv) -> None:
    view = MemoryView()
    run_block(env, view, signed(env, "transfer", [("open_account", ["x", 3])]))
    receipts = run_block(
        env,
        view,
        signed(
            env,
            "transfer",
            [
                ("open_account", ["x", 1]),  # exists
                ("transfer", ["x", "x", 1]),  # same account
                ("transfer", ["x", "nobody", 1]),  # no such account
                ("transfer", ["x", "y", -1]),  # negative
                ("open_range", ["a", 0, 20_001, 1]),  # too many at once
            ],
        ),
        height=3,
    )
    assert [r.status for r in receipts] == ["reverted"] * 5


def test_trace_appends_and_returns_the_history(env: MicroEnv) -> None:
    view = MemoryView()
    calls: list[tuple[str, list[Any]]] = [("append", ["b1", {"step": i}]) for i in range(20)]
    receipts = run_block(env, view, signed(env, "trace", calls))
    assert all(r.status == "ok" for r in receipts)
    last = receipts[-1].value
    assert last["count"] == 20
    assert len(last["recent"]) == 16  # the newest KEEP events
    assert last["recent"][-1]["event"] == {"step": 19}
    assert last["recent"][0]["event"] == {"step": 4}


def test_noop_does_nothing(env: MicroEnv) -> None:
    view = MemoryView()
    receipts = run_block(env, view, signed(env, "noop", [("noop", [])]))
    assert receipts[0].status == "ok" and receipts[0].value is None
    assert view.data == {}


# --- workload generators ------------------------------------------------------------------


@pytest.mark.parametrize("name", WORKLOADS)
def test_every_workload_tx_is_admitted_and_executes_ok(env: MicroEnv, name: str) -> None:
    wl = make_workload(name, accounts=50, batches=10, seed=3)
    setup = env.admit(
        [
            t.envelope
            for t in sign_calls(
                env.wallets[0],
                env.genesis.chain_id,
                wl.contract,
                wl.setup_calls(),
                expires_at=1000,
            )
        ]
    )
    txs = presign(wl, env.wallets, env.genesis.chain_id, 0, 60, expires_at=1000)
    assert len({t.tx_id for t in txs}) == 60
    admitted = env.admit([t.envelope for t in txs])  # decode, certificate, signature
    assert [a.tx_id for a in admitted] == [t.tx_id for t in txs]
    assert {a.sender.org for a in admitted} == {"org1", "org2"}  # the wallets take turns
    view = MemoryView()
    if setup:
        run_block(env, view, setup, height=2)
    receipts = run_block(env, view, admitted, height=3)
    assert all(r.status == "ok" for r in receipts), {r.status for r in receipts}


def test_generators_are_deterministic_and_distinct() -> None:
    a = make_workload("transfer", accounts=1000, seed=5)
    b = make_workload("transfer", accounts=1000, seed=5)
    assert [a.call(i) for i in range(50)] == [b.call(i) for i in range(50)]
    for i in range(500):
        _, (src, dst, amount) = a.call(i)
        assert src != dst and amount == 1
    ev = make_workload("evidence", tag="t")
    digests = {ev.call(i)[1][0] for i in range(1000)}
    assert len(digests) == 1000
    assert all(len(d) == 64 and set(d) <= set("0123456789abcdef") for d in digests)
    assert make_workload("evidence", tag="u").call(0) != ev.call(0)


def test_hot_key_variant_targets_few_accounts() -> None:
    hot = make_workload("transfer-hot", accounts=10_000, seed=2)
    uniform = make_workload("transfer", accounts=10_000, seed=2)
    hot_dst = {hot.call(i)[1][1] for i in range(2000)}
    uniform_dst = {uniform.call(i)[1][1] for i in range(2000)}
    assert hot_dst <= {account(k) for k in range(HOT_ACCOUNTS)}
    assert len(uniform_dst) > 1000


def test_transfer_setup_opens_every_account_once() -> None:
    wl = make_workload("transfer", accounts=25_001)
    calls = wl.setup_calls()
    assert [c[1][1] for c in calls] == [0, 10_000, 20_000]
    assert sum(c[1][2] for c in calls) == 25_001
    assert all(c[0] == "open_range" and c[1][3] == INITIAL_BALANCE for c in calls)
    assert wl.state_keys() == 25_001
    assert make_workload("evidence").setup_calls() == []
    with pytest.raises(ValueError):
        make_workload("nope")


# --- report math --------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert figures.percentile(values, 0.5) == 50
    assert figures.percentile(values, 0.99) == 99
    assert figures.percentile(values, 1.0) == 100
    assert figures.percentile(values, 0.0) == 1
    assert figures.percentile([3.0], 0.99) == 3
    assert math.isnan(figures.percentile([], 0.5))
    assert figures.percentile([5.0, 1.0, 3.0], 0.5) == 3  # unsorted input


def synthetic_record() -> observations.RunRecord:
    """10 txs sent at 0.0 .. 0.9 s; 8 committed 0.5 s after sending (one duplicate
    sighting), one accepted and lost, one refused (mempool full)."""
    sent = [i / 10 for i in range(10)]
    status = [202] * 8 + [202, 503]
    committed = [s + 0.5 for s in sent[:8]] + [math.nan, math.nan]
    heights = [2] * 4 + [3] * 4 + [0, 0]
    blocks = [
        observations.BlockObs(2, 1000, 4, 4, 0.8),
        observations.BlockObs(3, 1200, 5, 4, 1.2),
        observations.BlockObs(4, 1600, 0, 0, 1.6),
    ]
    return observations.RunRecord(
        label="synthetic",
        workload="evidence",
        validators=4,
        sent=sent,
        status=status,
        committed=committed,
        heights=heights,
        tx_ids=[f"{i:064x}" for i in range(10)],
        receipt=["ok"] * 7 + ["reverted", None, None],
        duplicates=1,
        rejects={"mempool_full": 1},
        blocks=blocks,
        phases=[observations.Phase("load", "open", 0.0, 1.0, rate=10.0)],
        node_names=["n0", "n1", "n2", "n3"],
        node_cpu_s=[0.8, 0.4, 0.4, 0.4],
        node_peak_rss=[100 * figures.MIB] * 4,
        rss_samples=[(0.0, [90 * figures.MIB] * 4), (1.0, [95 * figures.MIB] * 4)],
    )


def test_summary_math_on_synthetic_data() -> None:
    ceiling = SignatureCeiling("standard", 20_000.0, 2, 4).to_dict()
    s = figures.summarise(synthetic_record(), ceiling=ceiling, machine=describe())
    assert s["kind"] == figures.REPORT_KIND
    txs = s["txs"]
    assert txs["submitted"] == 10 and txs["accepted"] == 9 and txs["committed"] == 8
    assert txs["duplicates"] == 1 and txs["lost"] == 1 and txs["ok"] == 7
    assert txs["rejected"] == {"mempool_full": 1}
    assert txs["failed_receipts"] == {"reverted": 1}
    assert s["success_rate"] == pytest.approx(0.7)
    last_commit = 0.7 + 0.5
    assert s["commit_tps"] == pytest.approx(8 / last_commit)
    assert s["receive_tps"] == pytest.approx(9 / 0.8)  # last accepted tx sent at 0.8 s
    assert s["latency_ms"]["median"] == pytest.approx(500.0)
    assert s["latency_ms"]["p99"] == pytest.approx(500.0)
    assert s["blocks"]["count"] == 2  # blocks 2..3 carry the run
    assert s["blocks"]["interval_ms_mean"] == 200
    assert s["blocks"]["txs_per_block_mean"] == 4.5
    assert s["cpu_s_per_tx_per_node"] == pytest.approx([0.1, 0.05, 0.05, 0.05])
    assert s["cpu_us_per_tx_per_node_mean"] == pytest.approx(62_500.0)
    assert s["peak_rss_mib_per_node"] == [100.0] * 4
    assert ceiling["ceiling_tps"] == 10_000.0
    assert s["ceiling_fraction"] == pytest.approx(s["commit_tps"] / 10_000.0)
    assert s["verdict"]["checks"]["exactly_once"] is False
    assert s["verdict"]["passed"] is False
    ts = s["timeseries"]
    assert sum(row["submitted_tps"] for row in ts) == 10
    assert sum(row["committed_tps"] for row in ts) == 8
    rows = dict(report.rows(s))
    assert "commit TPS" in rows
    assert rows["  of the signature ceiling"].endswith("(2 cores × 20,000 verify/s / 4 validators)")


def test_stress_verdict_and_clean_run() -> None:
    rec = synthetic_record()
    rec.status = [202] * 10
    rec.committed = [s + 0.25 for s in rec.sent]
    rec.heights = [2] * 10
    rec.receipt = ["ok"] * 10
    rec.duplicates = 0
    rec.rejects = {}
    s = figures.summarise(rec, test="stress")
    assert s["success_rate"] == 1.0
    assert s["verdict"]["passed"] is True
    assert s["verdict"]["checks"]["success>=95%"] is True


def test_stability_stats_compare_first_and_last_tenth() -> None:
    n = 100
    sent = [i * 0.1 for i in range(n)]  # 10 s of load
    latency = [0.2 if i < 50 else 0.4 for i in range(n)]  # latency doubles halfway
    rec = observations.RunRecord(
        label="stab",
        workload="noop",
        validators=1,
        sent=sent,
        status=[202] * n,
        committed=[s + lat for s, lat in zip(sent, latency, strict=True)],
        heights=[1] * n,
        receipt=["ok"] * n,
        phases=[observations.Phase("steady", "open", 0.0, 10.0, rate=10.0)],
        rss_samples=[(float(t), [100 * figures.MIB + t * figures.MIB]) for t in range(11)],
        anon_samples=[(float(t), [60 * figures.MIB + t * 3 * figures.MIB]) for t in range(11)],
    )
    s = figures.summarise(rec, test="stability")
    st = s["stability"]
    assert st["first_tenth_latency_ms"]["p99"] == pytest.approx(200.0)
    assert st["last_tenth_latency_ms"]["p99"] == pytest.approx(400.0)
    assert st["p99_drift"] == pytest.approx(1.0)
    assert st["rss_growth_mib"] == [pytest.approx(9.5, abs=0.6)]
    assert st["anon_growth_mib"] == [pytest.approx(28.5, abs=1.8)]
    assert s["verdict"]["checks"]["latency_flat"] is False  # +100 % and +200 ms
    assert s["verdict"]["checks"]["memory_flat"] is False  # the heap grew by > 20 MiB
    rec.anon_samples = [(float(t), [60 * figures.MIB]) for t in range(11)]
    assert figures.summarise(rec, test="stability")["verdict"]["checks"]["memory_flat"] is True


def test_spike_recovery_time() -> None:
    # before: 0..10 s at 100 ms latency; spike 10..20 s at 3 s; after: 20..40 s, latency back
    # to 100 ms from 25 s on
    sent, committed = [], []
    for k in range(400):
        t = k * 0.1
        lat = 0.1 if t < 10 or t >= 25 else 3.0
        sent.append(t)
        committed.append(t + lat)
    rec = observations.RunRecord(
        label="spike",
        workload="noop",
        validators=4,
        sent=sent,
        status=[202] * 400,
        committed=committed,
        heights=[1] * 400,
        receipt=["ok"] * 400,
        phases=[
            observations.Phase("before", "open", 0.0, 10.0, rate=10.0),
            observations.Phase("spike", "open", 10.0, 20.0, rate=20.0),
            observations.Phase("after", "open", 20.0, 40.0, rate=10.0),
        ],
    )
    s = figures.summarise(rec, test="spike")
    sp = s["spike"]
    assert sp["phases"]["spike"]["latency_ms"]["p99"] == pytest.approx(3000.0)
    assert sp["recovery_s"] == pytest.approx(5.0)
    assert s["verdict"]["checks"]["recovered"] is True
    assert s["verdict"]["passed"] is True


def test_signature_ceiling_math_and_measurement() -> None:
    c = SignatureCeiling("standard", 20_000.0, 2, 4)
    assert c.tps == 10_000.0
    assert SignatureCeiling("standard", 20_000.0, 2, 1).tps == 40_000.0
    assert verify_rate(seconds=0.05, rounds=1) > 100
    assert figures.fraction(1, 0) == 0.0 and figures.rate(5, 0) == 0.0


def test_report_writes_json_and_png(tmp_path: Path) -> None:
    s = figures.summarise(synthetic_record(), machine=describe())
    report.write_json(s, tmp_path / "r.json")
    assert (tmp_path / "r.json").read_text().startswith("{")
    report.plot([s], tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- load plans, probe, HTTP client ---------------------------------------------------------


def test_plans() -> None:
    segs, _ = plan(BenchOptions(test="spike"), 100.0)
    assert [(s.name, s.rate) for s in segs] == [
        ("before", 50.0),
        ("spike", 200.0),
        ("after", 50.0),
    ]
    segs, _ = plan(BenchOptions(test="stability", duration=30), 100.0)
    assert segs == [Segment("steady", "open", rate=20.0, duration=30)]
    segs, _ = plan(BenchOptions(rate=50.0, txs=10), None)
    assert segs[0].mode == "open" and segs[0].count == 10
    segs, _ = plan(BenchOptions(clients=8, duration=5), None)
    assert segs[0].mode == "closed" and segs[0].count is None
    segs, _ = plan(BenchOptions(), None)
    assert segs[0].mode == "stress" and segs[0].count == 2000
    assert Segment("x", "open", rate=10.0, duration=3).budget(1000) == 31
    assert Segment("x", "stress", duration=3).budget(1000) == 3000
    with pytest.raises(ValueError):
        BenchOptions(rate=1.0, clients=2).check()
    with pytest.raises(ValueError):
        BenchOptions(test="stress", rate=5.0).check()
    with pytest.raises(ValueError):
        BenchOptions(workload="nope").check()


def test_steady_rate_uses_the_second_half_of_the_probe() -> None:
    sent = [i * 0.01 for i in range(1000)]  # 10 s
    rec = observations.RunRecord(
        label="p",
        workload="noop",
        validators=1,
        sent=sent,
        status=[202] * 1000,
        committed=[s + 0.1 for s in sent],
        heights=[1] * 1000,
        phases=[observations.Phase("probe", "stress", 0.0, 10.0)],
    )
    assert steady_rate(rec) == pytest.approx(100.0, rel=0.02)


def test_http_connection_reads_length_and_chunked_responses() -> None:
    async def scenario() -> list[tuple[int, bytes]]:
        responses = [
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n"
            b'4\r\n{"co\r\n14\r\nde": "mempool_full"}\r\n0\r\n\r\n',
        ]

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for r in responses:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(r)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = HttpConnection(f"http://127.0.0.1:{port}")
        try:
            return [await conn.request("POST", "/v1/txs", b"") for _ in responses]
        finally:
            conn.close()
            server.close()
            await server.wait_closed()

    (s1, b1), (s2, b2) = asyncio.run(scenario())
    assert (s1, b1) == (202, b"hello")
    assert s2 == 503 and problem_code(b2) == "mempool_full"
    assert problem_code(b"not json") == "http_error"
