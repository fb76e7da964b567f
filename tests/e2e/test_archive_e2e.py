"""Archiving, pruning, backup and restore with real node processes and the ``yulian ledger``
commands.

One validator commits evidence txs; stopped, its old blocks are archived and pruned; started
again, it answers for them with an ``archived`` problem naming the file, still commits, and the
proof of an archived tx rebuilt from the archive verifies offline — the same proof the node
served before. In a four-validator network, a node's hot backup is restored after its ledger is
lost, and the node catches up to the head from its peers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.e2e.harness import RunningNode, free_port, make_cluster, serving
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.cli.main import app
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.sdk import Client, Wallet
from yulian.sdk.verify import verify_receipt
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

TTL = 20  # max_tx_ttl_blocks: the replay window, which pruning leaves alone
BELOW = 40


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def register(client: Client, digest: str, head: int) -> dict[str, object]:
    result: dict[str, object] = client.submit(
        "evidence", "register", [digest, "t", {}], timeout_s=20, expires_at=head + TTL // 2
    )
    assert result["status"] == "committed"
    return result


def one_org_node(tmp_path: Path) -> tuple[RunningNode, Path, str]:
    """A one-organisation, one-validator network with the evidence contract and a short
    replay window (``TTL``): the node (not started), its config file and its API URL."""
    layout = init_network(
        tmp_path / "network",
        orgs=1,
        validators=1,
        base_api_port=free_port(),
        base_p2p_port=free_port(),
        contracts=[(CONTRACT_NAME, contract_source())],
        params=ChainParams(block_interval_ms=20, max_tx_ttl_blocks=TTL),
    )
    config = layout.nodes[0].config
    url = load_config(config).api_url
    return RunningNode(layout=layout, url=url, log=tmp_path / "node.log"), config, url


def test_archive_prune_then_prove_from_the_archive(tmp_path: Path) -> None:
    node, config, url = one_org_node(tmp_path)
    archive_dir = tmp_path / "archive"
    with serving(node):
        client = node.client()
        txs = []
        head = 0
        while head < BELOW + TTL + 5:  # past the archive point and its replay window
            head = client.health()["height"]
            txs.append(register(client, f"{len(txs):064x}", head))
        early = next(t for t in txs if int(t["height"]) < BELOW // 2)  # type: ignore[call-overload]
        served = httpx.get(f"{url}/v1/txs/{early['id']}", timeout=10).json()
    run(
        "ledger",
        "archive",
        "--config",
        str(config),
        "--below",
        str(BELOW),
        "--to",
        str(archive_dir),
    )
    out = run("ledger", "prune", "--config", str(config), "--below", str(BELOW))
    assert f"floor {BELOW}" in out
    info = json.loads(run("ledger", "info", "--config", str(config)))
    assert info["floor"] == BELOW and info["archives"][0]["first"] == 1
    run("ledger", "check", "--config", str(config))

    with serving(node):
        block = httpx.get(f"{url}/v1/blocks/5", timeout=5)
        assert block.status_code == 410
        problem = block.json()
        assert problem["code"] == "archived" and problem["first"] == 1
        assert problem["archive"] == info["archives"][0]["file"]
        assert (archive_dir / problem["archive"]).is_file()
        tx = httpx.get(f"{url}/v1/txs/{early['id']}", timeout=5)
        assert tx.status_code == 410 and tx.json()["code"] == "archived"
        assert httpx.get(f"{url}/v1/blocks/{BELOW}", timeout=5).status_code == 200
        client = node.client()
        register(client, "ff" * 32, client.health()["height"])  # the chain goes on

        doc_path = tmp_path / "early.json"
        run(
            "ledger", "proof", str(early["id"]), "--config", str(config),
            "--archive", str(archive_dir), "--out", str(doc_path),
        )  # fmt: skip
    doc = json.loads(doc_path.read_text())
    assert doc["proof"] == served["proof"], "the archive gives the proof the node gave"
    verified = verify_receipt(doc, node.genesis)
    assert verified.summary["height"] == early["height"]
    run("verify", str(doc_path), "--genesis", str(node.layout.genesis))


def test_restore_a_backup_then_catch_up(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, n=4, block_interval_ms=100)
    cluster.start()
    client = Client(
        cluster.nodes[0].url, Wallet.from_network(cluster.layout.root, "org1", "client1")
    )
    node = cluster.nodes[3]
    backup = tmp_path / "backup"
    try:
        for i in range(10):
            client.submit("evidence", "register", [f"{i:064x}", "t", {}], timeout_s=20)
        run("ledger", "backup", "--config", str(node.config), "--out", str(backup))
        later = [
            client.submit("evidence", "register", [f"{i:064x}", "t", {}], timeout_s=20)["id"]
            for i in range(10, 20)
        ]
        node.stop()
        shutil.rmtree(node.data_dir / "ledger")
        out = run("ledger", "restore", "--config", str(node.config), "--from", str(backup))
        assert "restored" in out
        restored = int(out.split("height ")[1].split()[0])
        head = max(n.height() for n in cluster.nodes[:3])
        assert restored < head, "the backup is behind the chain"
        node.start()
        cluster.wait_height(head, timeout_s=90)
        cluster.assert_agree(head)
        for tx_id in later:  # committed after the backup: synced from the peers
            assert (
                httpx.get(f"{node.url}/v1/txs/{tx_id}", timeout=5).json()["status"] == "committed"
            )
    finally:
        client.close()
        cluster.stop()
