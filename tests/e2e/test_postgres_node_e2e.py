"""A node process whose config says ``[storage] backend = "postgres"`` keeps its ledger there.

A real node (one validator) on loopback commits evidence txs into a schema of the test's
PostgreSQL server; it is killed with SIGKILL under load and restarted; every tx it reported
committed is still there, the ledger is consistent, the operators' views show the txs, and the
node never created an LMDB ledger in its data directory.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import psycopg
import pytest

from tests.e2e.harness import make_network, serving
from tests.pgserver import PgServer
from yulian.ledger import StorageConfig
from yulian.node.config import load_config, save_config

pytestmark = pytest.mark.e2e


def test_a_node_on_postgres_commits_survives_kill9_and_shows_in_sql(
    tmp_path: Path, pg_server: PgServer
) -> None:
    running = make_network(tmp_path, block_interval_ms=20)
    schema = pg_server.fresh_schema()
    config = load_config(running.config)
    storage = StorageConfig(backend="postgres", dsn=pg_server.dsn(), schema=schema)
    save_config(dataclasses.replace(config, storage=storage), running.config)
    assert load_config(running.config).storage == storage

    committed: list[str] = []
    with serving(running) as node:
        client = node.client()
        for i in range(5):
            result = client.submit("evidence", "register", [f"{i:064x}", "t", {}], timeout_s=10)
            assert result["status"] == "committed" and result["receipt"]["status"] == "ok"
            committed.append(result["id"])
        stop = threading.Event()

        def submit_until_stopped() -> None:
            i = 100
            while not stop.is_set():
                i += 1
                try:
                    result = client.submit(
                        "evidence", "register", [f"{i:064x}", "t", {}], timeout_s=5
                    )
                except Exception:  # the node is down
                    continue
                if result.get("status") == "committed":
                    committed.append(result["id"])

        writer = threading.Thread(target=submit_until_stopped)
        writer.start()
        try:
            while len(committed) < 15:
                stop.wait(0.05)
            node.kill9()
            node.start()
        finally:
            stop.set()
            writer.join()
        height = node.client().health()["height"]
        for tx_id in committed:
            assert node.client().tx(tx_id)["status"] == "committed", tx_id

    assert not (config.data_dir / "ledger").exists(), "the node made an LMDB ledger anyway"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT tx_id, contract, method, status FROM {schema}.v_txs "
            "WHERE contract = 'evidence'"
        ).fetchall()
        (blocks,) = conn.execute(f"SELECT count(*) FROM {schema}.v_blocks").fetchone()  # type: ignore[misc]
    by_id = {tx_id: (contract, method, status) for tx_id, contract, method, status in rows}
    for tx_id in committed:
        assert by_id[tx_id] == ("evidence", "register", "ok")
    assert blocks >= height
