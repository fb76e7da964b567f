"""State sync with real processes: a validator whose data directory is wiped starts again
from a snapshot its peers wrote, checked and fetched over the mutual-TLS links, then syncs the
blocks above it and votes again — it never replays the chain from genesis."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import make_cluster
from yulian.node.config import load_config, save_config
from yulian.sdk import Client, Wallet

pytestmark = pytest.mark.e2e

INTERVAL = 10  # blocks between snapshots


def _timed_counts(url: str) -> dict[str, float]:
    """How many ledger writes and WAL fsyncs the node's ``/metrics`` has timed."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ("yulian_ledger_commit_seconds_count", "yulian_wal_fsync_seconds_count")
    }


def test_a_wiped_validator_starts_from_a_snapshot(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, n=4, block_interval_ms=100)
    for node in cluster.nodes:
        config = load_config(node.config)
        save_config(replace(config, snapshot_interval=INTERVAL), node.config)
    cluster.start()
    client = Client(
        cluster.nodes[0].url, Wallet.from_network(cluster.layout.root, "org1", "client1")
    )
    wiped = cluster.nodes[3]
    try:
        digests = [f"{i:064x}" for i in range(40)]
        for digest in digests:
            result = client.submit("evidence", "register", [digest, "before", {}], timeout_s=20)
            assert result["status"] == "committed"
        cluster.wait_height(3 * INTERVAL + 2, timeout_s=120)
        snapshots = wiped.data_dir / "snapshots"
        assert any(p.name.isdigit() for p in snapshots.iterdir()), "the nodes write snapshots"

        wiped.stop()
        shutil.rmtree(wiped.data_dir)
        # the joining node asks its peers for a snapshot; the founders started from the genesis
        config = load_config(wiped.config)
        save_config(replace(config, state_sync=True), wiped.config)
        wiped.start()
        head = max(n.height() for n in cluster.nodes[:3])
        cluster.wait_height(head + 2, timeout_s=120)
        log = wiped.log.read_text()
        assert "state sync: installed the snapshot of height" in log, log[-3000:]
        installed = int(log.split("installed the snapshot of height ")[1].split()[0])
        assert installed >= INTERVAL
        blocks = httpx.get(f"{wiped.url}/v1/blocks/1", timeout=5)
        assert blocks.status_code == 410, "block 1 was never replayed here"
        assert blocks.json()["code"] == "not_held" and blocks.json()["floor"] == installed
        cluster.assert_agree(installed)
        cluster.assert_agree(head + 1)
        for digest in digests[::7]:  # state written before the snapshot, read from it
            url = f"/v1/state/evidence/doc/{digest}"
            mine = httpx.get(wiped.url + url, timeout=5).json()
            theirs = httpx.get(cluster.nodes[0].url + url, timeout=5).json()
            assert mine["value"]["digest"] == digest and mine["value"] == theirs["value"]

        # it takes part again: a tx sent to it commits, and it signs blocks
        other = Client(wiped.url, Wallet.from_network(cluster.layout.root, "org2", "client1"))
        result = other.submit("evidence", "register", ["ab" * 32, "after", {}], timeout_s=30)
        other.close()
        assert result["status"] == "committed"
        name = wiped.name
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            top = cluster.nodes[0].height()
            block = httpx.get(f"{cluster.nodes[0].url}/v1/blocks/{top}", timeout=5).json()
            if name in [s["validator"] for s in block["commit"]["signatures"]]:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"{name} signs no commit after state sync")

        # its write and fsync histograms go on counting after the install
        before = _timed_counts(wiped.url)
        height = wiped.height()
        cluster.wait_height(height + 3, timeout_s=60)
        after = _timed_counts(wiped.url)
        assert after["yulian_ledger_commit_seconds_count"] >= (
            before["yulian_ledger_commit_seconds_count"] + 3
        ), (before, after)
        assert after["yulian_wal_fsync_seconds_count"] > before["yulian_wal_fsync_seconds_count"]
    finally:
        client.close()
        cluster.stop()
