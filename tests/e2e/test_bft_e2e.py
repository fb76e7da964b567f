"""Four validators of four organisations as real processes on loopback: crash, pause, loss of
quorum and a wiped data directory — the chain stays one chain and every node catches up."""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster, make_cluster
from yulian.sdk import Client, Wallet

pytestmark = pytest.mark.e2e


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, 4)
    c.start()
    try:
        yield c
    finally:
        c.stop()


class Load:
    """Clients of all organisations submitting evidence txs to every node, waiting for commit."""

    def __init__(self, cluster: Cluster, writers: int = 3) -> None:
        self.cluster = cluster
        self.acknowledged: dict[str, tuple[str, str]] = {}  # tx id -> (digest, node url)
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in range(writers)]

    def _run(self, k: int) -> None:
        rng = random.Random(k)
        wallets = [
            Wallet.from_network(self.cluster.layout.root, f"org{i}", "client1") for i in range(1, 5)
        ]
        n = 0
        while not self.stop_flag.is_set() and n < 10_000:
            n += 1
            node = rng.choice(self.cluster.nodes)
            digest = f"{k:02x}{n:062x}"
            client = Client(node.url, rng.choice(wallets), timeout_s=10)
            try:
                result = client.submit(
                    "evidence",
                    "register",
                    [digest, "t", {}],
                    timeout_s=8,
                )
                if result.get("status") == "committed" and result["receipt"]["status"] == "ok":
                    with self.lock:
                        self.acknowledged[result["id"]] = (digest, node.url)
            except Exception:
                time.sleep(0.1)
            finally:
                client.close()

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)


def assert_acknowledged_everywhere(cluster: Cluster, load: Load) -> None:
    import httpx

    assert load.acknowledged, "the load committed something"
    for node in cluster.nodes:
        with httpx.Client(base_url=node.url, timeout=5) as http:
            for tx_id in load.acknowledged:
                assert http.get(f"/v1/txs/{tx_id}").json()["status"] == "committed", node.name


def test_kill9_one_validator_under_load_then_it_catches_up(cluster: Cluster) -> None:
    victim = cluster.nodes[2]
    with Load(cluster) as load:
        cluster.wait_height(3)
        time.sleep(1.0)
        victim.kill9()
        start = max(n.height() for n in cluster.nodes if n is not victim)
        cluster.wait_height(start + 3, [n for n in cluster.nodes if n is not victim])
        victim.start()
        time.sleep(1.0)
    head = max(n.height() for n in cluster.nodes)
    cluster.wait_height(head, timeout_s=60)
    cluster.assert_agree(head)
    assert_acknowledged_everywhere(cluster, load)


def test_sigstop_one_validator_for_20s(cluster: Cluster) -> None:
    paused = cluster.nodes[1]
    cluster.wait_height(2)
    assert paused.proc is not None
    os.kill(paused.proc.pid, signal.SIGSTOP)
    try:
        before = max(n.height() for n in cluster.nodes if n is not paused)
        others = [n for n in cluster.nodes if n is not paused]
        with Load(cluster, writers=2) as load:
            cluster.wait_height(before + 3, others, timeout_s=20)
            time.sleep(max(0.0, 20 - 3))
    finally:
        os.kill(paused.proc.pid, signal.SIGCONT)
    head = max(n.height() for n in others)
    cluster.wait_height(head, timeout_s=60)
    cluster.assert_agree(head)
    assert load.acknowledged


def test_two_of_four_down_halts_then_resumes(cluster: Cluster) -> None:
    cluster.wait_height(2)
    a, b = cluster.nodes[2], cluster.nodes[3]
    a.stop()
    b.stop()
    live = cluster.nodes[:2]
    time.sleep(1.0)  # a block in flight may still land
    stalled = max(n.height() for n in live)
    time.sleep(6.0)
    assert max(n.height() for n in live) == stalled, "no quorum, no block"
    a.start()
    cluster.wait_height(stalled + 2, [*live, a], timeout_s=60)
    b.start()
    head = max(n.height() for n in cluster.nodes)
    cluster.wait_height(head, timeout_s=60)
    cluster.assert_agree(head)


def test_wiped_node_resyncs_to_the_same_head(cluster: Cluster) -> None:
    cluster.wait_height(3)
    with Load(cluster, writers=2) as load:
        cluster.wait_height(6)
    wiped = cluster.nodes[3]
    wiped.stop()
    shutil.rmtree(wiped.data_dir)
    wiped.start()
    head = max(n.height() for n in cluster.nodes)
    cluster.wait_height(head, [wiped], timeout_s=60)
    cluster.assert_agree(head)
    assert_acknowledged_everywhere(cluster, load)
