"""Smoke run of ``yulian bench``: 4 validator processes on loopback, a few hundred txs.

Every submitted tx must be committed exactly once (checked on *every* node's blocks, not only
through the bench's own follower), every receipt ``ok``, and all nodes must hold the same chain
(block hashes and state roots) — one tx per request, 25 per request (``POST /v1/txs/batch``)
and a closed loop. A short transfer run goes through the ``yulian bench`` command itself and
checks its JSON report and PNG plot. ``max_block_txs=200`` spreads the few hundred txs over
several blocks.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from yulian.bench.options import BenchOptions
from yulian.bench.plan import Segment
from yulian.bench.session import BenchSession
from yulian.bench.workloads import make_workload

pytestmark = pytest.mark.e2e

SMOKE_TXS = 300
CLOSED_TXS = 40
BLOCK_CAP = 200


def chain_of(url: str, height: int) -> list[dict]:
    with httpx.Client(base_url=url, timeout=10) as http:
        return [http.get(f"/v1/blocks/{h}").json() for h in range(1, height + 1)]


def test_smoke_every_tx_committed_exactly_once_and_nodes_agree(tmp_path: Path) -> None:
    session = BenchSession(
        tmp_path / "network",
        make_workload("evidence", tag="smoke"),
        BenchOptions(validators=4, max_block_txs=BLOCK_CAP),
    )
    with session:
        stress = session.load([Segment("load", "stress", count=SMOKE_TXS)], "smoke", 1000)
        closed = session.load(
            [Segment("closed", "closed", clients=8, count=CLOSED_TXS)], "closed", 1000
        )
        session.batch = 25
        batched = session.load([Segment("load", "stress", count=SMOKE_TXS)], "batched", 1000)
        convergence = session.convergence()
        height = convergence["height"]
        chains = [chain_of(url, height) for url in session.net.urls]
    session.fill_receipts()

    assert convergence["agree"], convergence
    # the same chain on every node: block hashes and state roots at every height
    for h in range(height):
        assert len({c[h]["header"]["hash"] for c in chains}) == 1, h
        assert len({c[h]["header"]["state_root"] for c in chains}) == 1, h
    for record, expected in ((stress, SMOKE_TXS), (closed, CLOSED_TXS), (batched, SMOKE_TXS)):
        assert len(record.tx_ids) == expected
        assert record.duplicates == 0
        assert all(s in (202, 200) for s in record.status)
        assert all(not math.isnan(c) for c in record.committed)
        assert record.receipt == ["ok"] * expected
        assert not record.stalled and not record.crashed
        # on every node, each submitted tx id is in exactly one block
        for chain in chains:
            seen = Counter(t for block in chain for t in block["tx_ids"])
            assert all(seen[t] == 1 for t in record.tx_ids)
    assert all(b.tx_count <= BLOCK_CAP for b in stress.blocks)


def test_bench_command_transfer_json_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "report.json", tmp_path / "plot.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yulian.cli.main",
            "bench",
            "--validators",
            "4",
            "--workload",
            "transfer",
            "--accounts",
            "1000",
            "--txs",
            "200",
            "--rate",
            "150",
            "--max-block-txs",
            str(BLOCK_CAP),
            "--json",
            str(out),
            "--plot",
            str(png),
            "--batch",
            "10",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "commit TPS" in result.stdout
    doc = json.loads(out.read_text())
    for field in (
        "kind",
        "workload",
        "validators",
        "txs",
        "success_rate",
        "receive_tps",
        "commit_tps",
        "latency_ms",
        "blocks",
        "cpu_s_per_tx_per_node",
        "peak_rss_mib_per_node",
        "ceiling",
        "ceiling_fraction",
        "machine",
        "timeseries",
        "convergence",
        "verdict",
    ):
        assert field in doc, field
    assert doc["kind"] == "yulian-bench/v1" and doc["workload"] == "transfer"
    assert doc["batch"] == 10 and "10 txs per request" in doc["load_text"]
    assert doc["txs"]["submitted"] == doc["txs"]["committed"] == doc["txs"]["ok"] == 200
    assert doc["txs"]["duplicates"] == 0 and doc["txs"]["lost"] == 0
    assert doc["success_rate"] == 1.0
    assert doc["state_keys"] == 1000
    assert set(doc["latency_ms"]) >= {"median", "p99", "max"}
    assert len(doc["cpu_s_per_tx_per_node"]) == len(doc["peak_rss_mib_per_node"]) == 4
    assert doc["ceiling"]["validators"] == 4 and 0 < doc["ceiling_fraction"] < 1
    assert {"cores", "cpu_model", "python"} <= set(doc["machine"])
    assert doc["convergence"]["agree"] is True
    assert doc["verdict"]["passed"] is True
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_on_postgres_ledgers_commits_every_tx_once(tmp_path: Path) -> None:
    """``--storage postgres``: the nodes keep their ledgers in a PostgreSQL server the bench
    starts (a schema per node); every tx committed once, the receipts read back from node 0's
    schema before the server stops, and no LMDB ledger anywhere."""
    session = BenchSession(
        tmp_path / "network",
        make_workload("evidence", tag="pg"),
        BenchOptions(validators=2, max_block_txs=BLOCK_CAP, storage="postgres"),
    )
    with session:
        assert session.net.pg is not None
        record = session.load([Segment("load", "stress", count=SMOKE_TXS)], "pg", 1000)
        convergence = session.convergence()
    session.fill_receipts()

    assert session.net.pg is None  # the server stopped with the network
    assert convergence["agree"], convergence
    assert record.duplicates == 0 and not record.stalled and not record.crashed
    assert record.receipt == ["ok"] * SMOKE_TXS
    assert not list((tmp_path / "network").rglob("data.mdb"))
