"""kill -9 of a node under load: every tx reported committed survives the restart."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_network
from yulian.sdk import Client, Wallet

pytestmark = pytest.mark.e2e

WRITERS = 4
KILLS = 3


def test_kill9_under_load_loses_nothing(tmp_path: Path) -> None:
    node = make_network(tmp_path, block_interval_ms=20)
    node.start()
    acknowledged: dict[str, str] = {}  # tx id -> digest, only after "committed" was reported
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(7)

    def writer(k: int) -> None:
        client = Client(
            node.url, Wallet.from_network(node.layout.root, "org1", "client1"), timeout_s=10
        )
        client.health()
        n = 0
        while not stop.is_set() and n < 5000:
            n += 1
            digest = f"{k:02x}{n:062x}"
            try:
                result = client.submit(
                    "evidence", "register", [digest, "t", {}], timeout_s=5, expires_at=1_000
                )
            except Exception:  # the node is down: retry later
                time.sleep(0.05)
                continue
            if result.get("status") == "committed" and result["receipt"]["status"] == "ok":
                with lock:
                    acknowledged[result["id"]] = digest
        client.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.8, 1.6))
            node.kill9()
            time.sleep(0.2)
            node.start()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    try:
        assert len(acknowledged) > 50, "the load was real"
        node.kill9()  # one last crash right after the load
        node.start()
        health = httpx.get(f"{node.url}/v1/health", timeout=5).json()
        for tx_id, digest in acknowledged.items():
            doc = httpx.get(f"{node.url}/v1/txs/{tx_id}", timeout=5).json()
            assert doc["status"] == "committed", tx_id
            assert doc["height"] <= health["height"]
            value = httpx.get(f"{node.url}/v1/state/evidence/doc/{digest}", timeout=5).json()
            assert value["value"]["tx"] == tx_id
        # the chain is intact: consecutive heights, each linking to the previous hash
        prev = None
        for height in range(1, health["height"] + 1):
            block = httpx.get(f"{node.url}/v1/blocks/{height}", timeout=5).json()
            if prev is not None:
                assert block["header"]["prev_hash"] == prev
            prev = block["header"]["hash"]
    finally:
        node.stop()
