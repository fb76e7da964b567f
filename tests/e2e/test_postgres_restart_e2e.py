"""Nodes on PostgreSQL ride through database restarts (issue 15, decision 0096).

Real node processes on loopback, each PostgreSQL ledger in a server of the test's own (it is
restarted, which must not touch other tests' ledgers). Under load from every organisation, the
server of one validator of four is restarted (an operator's restart, a crash, a pause of some
seconds): that node keeps committing, agrees with the others, and every acknowledged tx is on
every node. A lone node on PostgreSQL answers reads with ``503 ledger_unavailable`` while the
server is down, and reads and commits again once it is back; one whose server stays down past
``reconnect_s`` stops, and resumes once started again.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_cluster, make_network, serving
from tests.e2e.test_bft_e2e import Load, assert_acknowledged_everywhere
from tests.pgserver import PgServer
from yulian.ledger import StorageConfig
from yulian.node.config import load_config, save_config
from yulian.node.serve import EXIT_LEDGER_FAILED

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    with PgServer() as server:
        yield server


def use_postgres(
    config_path: Path, server: PgServer, schema: str, *, reconnect_s: float = 60.0
) -> None:
    config = load_config(config_path)
    storage = StorageConfig(
        backend="postgres", dsn=server.dsn(), schema=schema, reconnect_s=reconnect_s
    )
    save_config(dataclasses.replace(config, storage=storage), config_path)


def test_a_validator_on_postgres_keeps_committing_through_restarts_under_load(
    tmp_path: Path, own_server: PgServer
) -> None:
    cluster = make_cluster(tmp_path, 4)
    on_pg = cluster.nodes[0]
    use_postgres(on_pg.config, own_server, "n0")
    cluster.start()
    try:
        with Load(cluster) as load:
            cluster.wait_height(3)
            for outage in ("fast", "immediate", "pause"):
                before = on_pg.height()
                if outage == "pause":
                    own_server.halt()
                    time.sleep(5)  # well within reconnect_s (60 s)
                    own_server.resume()
                else:
                    own_server.restart(outage)
                cluster.wait_height(before + 3, [on_pg])
                assert on_pg.proc is not None and on_pg.proc.poll() is None, "the node stopped"
            acknowledged_during = len(load.acknowledged)
        head = max(n.height() for n in cluster.nodes)
        cluster.wait_height(head)
        cluster.assert_agree(head)
        assert acknowledged_during > 0
        assert_acknowledged_everywhere(cluster, load)
    finally:
        cluster.stop()
    log = on_pg.log.read_text(encoding="utf-8", errors="replace")
    assert "writer reconnected to PostgreSQL" in log


def test_a_node_on_postgres_answers_503_while_the_server_is_down_then_recovers(
    tmp_path: Path, own_server: PgServer
) -> None:
    running = make_network(tmp_path, block_interval_ms=20)
    use_postgres(running.config, own_server, "solo")
    with serving(running) as node:
        client = node.client()
        first = client.submit("evidence", "register", [f"{1:064x}", "t", {}], timeout_s=10)
        assert first["status"] == "committed"
        own_server.halt()
        try:
            with httpx.Client(base_url=node.url, timeout=20) as http:
                started = time.monotonic()
                response = http.get(f"/v1/txs/{first['id']}")
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "ledger_unavailable"
                assert response.headers["content-type"].startswith("application/problem+json")
                assert time.monotonic() - started < 15
        finally:
            own_server.resume()
        deadline = time.monotonic() + 30
        while True:  # the node's readers come back by themselves
            with httpx.Client(base_url=node.url, timeout=20) as http:
                response = http.get(f"/v1/txs/{first['id']}")
            if response.status_code == 200:
                break
            assert response.status_code == 503 and time.monotonic() < deadline, response.text
            time.sleep(0.5)
        assert response.json()["status"] == "committed"
        second = client.submit("evidence", "register", [f"{2:064x}", "t", {}], timeout_s=30)
        assert second["status"] == "committed"
        metrics = httpx.get(f"{node.url}/metrics", timeout=10).text
        reconnects = [
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("yulian_ledger_reconnects_total ")
        ]
        assert reconnects and reconnects[0] >= 1, "the writer's reconnect is counted"
        assert node.proc is not None and node.proc.poll() is None


def test_a_node_whose_database_stays_down_past_reconnect_s_stops_then_resumes(
    tmp_path: Path, own_server: PgServer
) -> None:
    """The commit fails after ``reconnect_s``: the node ends (exit status 74, the reason in its
    log) instead of running on with consensus ahead of its ledger; started again once the
    database is back, it has every acknowledged tx and commits new ones."""
    running = make_network(tmp_path, block_interval_ms=20)
    use_postgres(running.config, own_server, "solo", reconnect_s=1.0)
    with serving(running) as node:
        client = node.client()
        acknowledged = [
            client.submit("evidence", "register", [f"{i:064x}", "t", {}], timeout_s=10)["id"]
            for i in range(3)
        ]
        own_server.halt()
        assert node.proc is not None
        try:
            status = node.proc.wait(60)  # the next (empty) block's commit gives up after 1 s
        finally:
            own_server.resume()
        assert status == EXIT_LEDGER_FAILED
        node.proc = None
        log = node.log.read_text(encoding="utf-8", errors="replace")
        assert "stopping: the ledger could not take block" in log
        assert "unreachable for 1 s (reconnect_s)" in log
        node.start()
        for tx_id in acknowledged:
            assert client.tx(tx_id)["status"] == "committed", tx_id
        later = client.submit("evidence", "register", [f"{9:064x}", "t", {}], timeout_s=30)
        assert later["status"] == "committed"
