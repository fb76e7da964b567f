"""A rolling restart (how a new release is rolled out): every validator of a four-validator
network is stopped and started again, one after the other, while clients keep submitting
through all of them. No acknowledged tx is lost, the chain never stops for good, and at the end
every node holds every acknowledged tx and the same head."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_cluster
from yulian.sdk import Client, Wallet

pytestmark = pytest.mark.e2e

WRITERS = 4


def test_a_rolling_restart_under_load_loses_no_tx(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, n=4, block_interval_ms=100)
    cluster.start()
    urls = [n.url for n in cluster.nodes]
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k: int) -> None:
        wallet = Wallet.from_network(cluster.layout.root, f"org{k % 4 + 1}", "client1")
        counter = itertools.count()
        for url in itertools.cycle(urls[k:] + urls[:k]):  # on failure, the next node
            if stop.is_set():
                return
            client = Client(url, wallet, timeout_s=10)
            try:
                while not stop.is_set():
                    digest = f"{k:02x}{next(counter):062x}"
                    result = client.submit(
                        "evidence", "register", [digest, "rolling", {}], timeout_s=10
                    )
                    if result.get("status") == "committed":
                        with lock:
                            acknowledged.add(str(result["id"]))
            except Exception:  # that node is restarting: go on with another
                time.sleep(0.2)
            finally:
                client.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        for node in cluster.nodes:
            before = len(acknowledged)
            node.stop()
            time.sleep(1.5)  # the others go on without it
            node.start()
            others = [n for n in cluster.nodes if n is not node]
            cluster.wait_height(max(n.height() for n in others), [node], timeout_s=60)
            deadline = time.monotonic() + 30
            while len(acknowledged) <= before and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(acknowledged) > before, f"nothing committed while {node.name} restarted"
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    try:
        assert len(acknowledged) > 40, "the load was real"
        head = min(n.height() for n in cluster.nodes)
        cluster.wait_height(head, timeout_s=60)
        cluster.assert_agree(head)
        for node in cluster.nodes:
            for tx_id in acknowledged:
                doc = httpx.get(f"{node.url}/v1/txs/{tx_id}", timeout=10).json()
                assert doc["status"] == "committed", (node.name, tx_id)
    finally:
        cluster.stop()
