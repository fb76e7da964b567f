"""Reads below a node's floor, on real node processes: a validator archived and pruned with the
``yulian ledger`` commands, and a validator that started from a snapshot its peers wrote.

Every read that reaches below the floor answers a named 410 problem (``archived`` with the
archive file, or ``not_held`` with the floor) — the block list by hash and height, a block's
txs, a tx's writes, the event page, a past state — never a 500 and never a silently short
answer; lists that reach the floor say so (the block list's ``not_held`` ranges, the signing
statistics' ``window``, the key history's ``complete``); the event stream refuses a replay
from below the floor with close code 4410 (the SDK raises ``StreamRefused`` at once) and
replays from the floor itself; governance reads still answer.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.gov_helpers import COUNTER_V1
from tests.e2e.harness import make_cluster, serving
from tests.e2e.test_archive_e2e import TTL, one_org_node, run
from yulian.node.config import load_config, save_config
from yulian.sdk import Client, Wallet
from yulian.sdk.events import StreamRefused

pytestmark = pytest.mark.e2e

ARCHIVED_BELOW = 20  # heights 1..19 go to an archive file
FLOOR = 40  # heights 20..39 are dropped without one


def gone(url: str, path: str, code: str | None, floor: int) -> dict[str, Any]:
    """``GET path`` answers the named 410 problem (``code``; None: either) with this node's
    floor."""
    response = httpx.get(url + path, timeout=10)
    assert response.status_code == 410, (path, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"] in ((code,) if code else ("archived", "not_held")), (path, problem)
    assert problem["floor"] == floor, (path, problem)
    return problem


def stream_close(url: str, request: dict[str, Any]) -> tuple[int, str]:
    """The close code and reason the stream answers ``request`` with (before any frame)."""
    with connect(url.replace("http://", "ws://") + "/v1/events/stream", proxy=None) as ws:
        ws.send(json.dumps({"type": "subscribe", **request}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def check_below_floor(
    url: str, floor: int, early: dict[str, Any], early_hash: str, code: str, code_at_1: str
) -> None:
    """What every read route answers on a node whose floor is ``floor``; ``early`` is a tx
    committed below it, in the block whose hash is ``early_hash``; ``code`` is the problem of
    that block (``archived`` or ``not_held``), ``code_at_1`` block 1's."""
    height = int(early["height"])
    gone(url, f"/v1/blocks/{height}", code, floor)
    # a pruned block's hash goes with it: unknown here, and the answer says below what
    by_hash = httpx.get(f"{url}/v1/blocks/by-hash/{early_hash}", timeout=10)
    assert by_hash.status_code == 404 and by_hash.json()["floor"] == floor, by_hash.text
    gone(url, f"/v1/blocks/{height}/txs", code, floor)
    gone(url, f"/v1/txs/{early['id']}", code, floor)
    gone(url, f"/v1/txs/{early['id']}/writes", code, floor)
    gone(url, f"/v1/blocks?before={floor}", None, floor)

    # the block list ends at the floor and says where the blocks below it are
    page = httpx.get(f"{url}/v1/blocks?before={floor + 3}&limit=50", timeout=10).json()
    assert [b["header"]["height"] for b in page["blocks"]] == [floor + 2, floor + 1, floor]
    assert page["next_before"] is None and page["floor"] == floor
    assert page["not_held"] and page["not_held"][0]["last"] == floor - 1
    assert page["not_held"][-1]["first"] == 1
    full = httpx.get(f"{url}/v1/blocks?before={floor + 3}&limit=2", timeout=10).json()
    assert full["next_before"] == floor + 1 and full["not_held"] == []

    # events: a page or a replay from below the floor is refused; from the floor it is served
    gone(url, "/v1/events", code_at_1, floor)
    gone(url, "/v1/events?from_height=1", code_at_1, floor)
    gone(url, f"/v1/events?after={height}.0.0", code, floor)
    from_floor = httpx.get(f"{url}/v1/events?from_height={floor}", timeout=10)
    assert from_floor.status_code == 200, from_floor.text
    assert all(e["height"] >= floor for e in from_floor.json()["events"])
    close, reason = stream_close(url, {"blocks": True, "from_height": 1})
    assert close == 4410 and reason.startswith(f"{code_at_1}: floor {floor}, height 1"), reason
    close, reason = stream_close(url, {"events": [{}], "after": f"{height}.0.0"})
    assert close == 4410 and reason.startswith(f"{code}: floor {floor}"), reason
    client = Client(url)
    try:
        refused = client.subscribe(blocks=True, from_height=1)
        with refused, pytest.raises(StreamRefused, match=f"floor {floor}"):
            refused.next(timeout_s=10)
        assert refused.last_close is not None and refused.last_close[0] == 4410
        with client.subscribe(blocks=True, from_height=floor) as replay:
            first = replay.next(timeout_s=10)
            assert first is not None and first["type"] == "block" and first["height"] == floor
    finally:
        client.close()

    # a key written below the floor: its history says older versions may be gone
    key = f"/v1/state/evidence/doc/{early['digest']}/history"
    history = httpx.get(url + key, timeout=10).json()
    assert history["floor"] == floor and history["complete"] is False
    assert [v["height"] for v in history["versions"]] == [height]
    stats = httpx.get(f"{url}/v1/validators/stats?window=1000", timeout=10).json()
    assert stats["window"] == stats["height"] - floor + 1, "counted from the floor"
    for path in ("/v1/contracts", "/v1/contracts/evidence", "/v1/proposals"):
        assert httpx.get(url + path, timeout=10).status_code == 200, path


def register(client: Client, n: int, head: int) -> dict[str, Any]:
    digest = f"{n:064x}"
    result: dict[str, Any] = client.submit(
        "evidence", "register", [digest, "t", {}], timeout_s=20, expires_at=head + TTL // 2
    )
    assert result["status"] == "committed"
    return {**result, "digest": digest}


def test_a_pruned_node_answers_410_below_its_floor(tmp_path: Path) -> None:
    node, config, url = one_org_node(tmp_path)
    with serving(node):
        admin = node.client(user="admin")
        head = admin.health()["height"]  # one organisation: proposing applies it
        deployed = admin.submit(
            "lifecycle", "propose", ["counter", "1.0", COUNTER_V1], expires_at=head + TTL // 2
        )
        assert deployed["receipt"]["status"] == "ok", deployed
        client = node.client()
        txs: list[dict[str, Any]] = []
        head = 0
        while head < FLOOR + TTL + 5:  # past the floor and its replay window
            head = client.health()["height"]
            txs.append(register(client, len(txs), head))
        early = next(t for t in txs if 1 < int(t["height"]) < ARCHIVED_BELOW)
        between = next(t for t in txs if ARCHIVED_BELOW < int(t["height"]) < FLOOR)
        hashes = {
            int(t["height"]): httpx.get(f"{url}/v1/blocks/{t['height']}", timeout=5).json()[
                "header"
            ]["hash"]
            for t in (early, between)
        }
        client.close()
    archive = tmp_path / "archive"
    run("ledger", "archive", "--config", str(config), "--below", str(ARCHIVED_BELOW), "--to",
        str(archive))  # fmt: skip
    run("ledger", "prune", "--config", str(config), "--below", str(FLOOR), "--without-archive")
    info = json.loads(run("ledger", "info", "--config", str(config)))
    assert info["floor"] == FLOOR
    file = info["archives"][0]["file"]

    with serving(node):
        # in the archive: archived, naming the file; between it and the floor: not_held
        problem = gone(url, f"/v1/blocks/{early['height']}", "archived", FLOOR)
        assert problem["archive"] == file and (problem["first"], problem["last"]) == (1, 19)
        check_below_floor(
            url, FLOOR, between, hashes[int(between["height"])], "not_held", "archived"
        )
        check_below_floor(url, FLOOR, early, hashes[int(early["height"])], "archived", "archived")
        page = httpx.get(f"{url}/v1/blocks?before={FLOOR + 1}", timeout=10).json()
        assert page["not_held"] == [
            {"first": ARCHIVED_BELOW, "last": FLOOR - 1, "archive": None},
            {"first": 1, "last": ARCHIVED_BELOW - 1, "archive": file},
        ]
        # governance below the floor: what the state says, the rest marked, nothing guessed
        counter = httpx.get(f"{url}/v1/contracts/counter", timeout=10).json()
        (version,) = counter["versions"]
        assert version["held_from"] == FLOOR and version["proposal"] is None, version
        assert httpx.get(f"{url}/v1/contracts/counter/code", timeout=10).status_code == 200
        (proposal,) = httpx.get(f"{url}/v1/proposals", timeout=10).json()["proposals"]
        assert proposal["held_from"] == FLOOR and proposal["status"] == "applied", proposal
        assert [a["height"] for a in proposal["approvals"]] == [None]
        assert proposal["decided_tx_id"] is None and proposal["changes"] is None
        # a tx at the floor: its block is held, the state it ran on is not
        at_floor = httpx.get(f"{url}/v1/blocks/{FLOOR}", timeout=10).json()
        if at_floor["tx_ids"]:
            writes = gone(url, f"/v1/txs/{at_floor['tx_ids'][0]}/writes", "not_held", FLOOR)
            assert writes["height"] == FLOOR - 1


def test_a_node_started_from_a_snapshot_answers_410_below_it(tmp_path: Path) -> None:
    interval = 10
    cluster = make_cluster(tmp_path, n=4, block_interval_ms=100)
    for n in cluster.nodes:
        save_config(replace(load_config(n.config), snapshot_interval=interval), n.config)
    cluster.start()
    wallet = Wallet.from_network(cluster.layout.root, "org1", "client1")
    client = Client(cluster.nodes[0].url, wallet)
    synced = cluster.nodes[3]
    try:
        txs = [register(client, i, client.health()["height"]) for i in range(8)]
        cluster.wait_height(3 * interval + 2, timeout_s=120)
        synced.stop()
        shutil.rmtree(synced.data_dir)
        save_config(replace(load_config(synced.config), state_sync=True), synced.config)
        synced.start()
        head = max(n.height() for n in cluster.nodes[:3])
        cluster.wait_height(head + 4, timeout_s=120)
        log = synced.log.read_text()
        floor = int(log.split("installed the snapshot of height ")[1].split()[0])
        early = txs[0]
        assert int(early["height"]) < floor
        block = httpx.get(f"{cluster.nodes[0].url}/v1/blocks/{early['height']}", timeout=5)
        deadline = time.monotonic() + 60
        while synced.height() < floor + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        early_hash = block.json()["header"]["hash"]
        check_below_floor(synced.url, floor, early, early_hash, "not_held", "not_held")
        page = httpx.get(f"{synced.url}/v1/blocks?before={floor + 1}", timeout=10).json()
        assert page["not_held"] == [{"first": 1, "last": floor - 1, "archive": None}]
    finally:
        client.close()
        cluster.stop()
