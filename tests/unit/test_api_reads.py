"""The explorer's read routes and ``/metrics`` over HTTP, on a real node (LMDB ledger, solo
consensus on the event loop): each route answers what the chain holds — the genesis with its
hash, blocks newest first and by hash, a block's txs with signer and status, a tx's state
writes (deletes included), keys by prefix, the REST page of events with its cursor, contracts
with their versions and code, proposals with approvals and the config diff they applied,
signing stats — and the metrics parse with Prometheus' own text parser with the API's height."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from yulian.api.app import create_asgi
from yulian.crypto.suite import get_suite
from yulian.execution.system.consortium import CONSORTIUM_CONTRACT
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).resolve().parents[2] / "docs"

NOTES = """
def put(ctx, key, value):
    ctx.state.put("note/" + key, value)
    ctx.emit("noted", {"key": key, "value": value})
    return key


def drop(ctx, key):
    ctx.state.delete("note/" + key)
    ctx.emit("dropped", key)
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Api:
    def __init__(
        self, http: httpx.AsyncClient, wallet: Wallet, admin: Wallet, genesis: Genesis
    ) -> None:
        self.http = http
        self.wallet = wallet
        self.admin = admin
        self.genesis = genesis
        self.nonce = 0

    async def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = await self.http.get(path, params=params)
        assert response.status_code == expect, response.text
        return response.json()

    async def call(self, contract: str, method: str, *args: Any, admin: bool = False) -> str:
        """One tx, submitted and waited for; its id."""
        self.nonce += 1
        signer = self.admin if admin else self.wallet
        envelope = signer.sign_tx(
            self.genesis.chain_id, contract, method, list(args), expires_at=5000, nonce=self.nonce
        ).encode()
        response = await self.http.post(
            "/v1/txs",
            content=envelope,
            params={"wait": "true"},
            headers={"content-type": "application/octet-stream"},
        )
        assert response.status_code in (200, 202), response.text
        tx_id: str = response.json()["id"]
        for _ in range(300):
            tx = await self.http.get(f"/v1/txs/{tx_id}")
            if tx.status_code == 200 and tx.json().get("status") == "committed":
                return tx_id
            await asyncio.sleep(0.05)
        raise AssertionError(f"tx {tx_id} not committed")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    layout = init_network(
        tmp_path / "net",
        orgs=1,
        contracts=[("notes", NOTES)],
        params=ChainParams(block_interval_ms=20),
    )
    node = Node(load_config(layout.nodes[0].config))
    reads = ReadModel(node)
    await node.start()
    try:
        transport = httpx.ASGITransport(app=create_asgi(reads))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
            genesis = Genesis.load(layout.genesis)
            admin = layout.credential("org1", "admin")
            yield Api(
                http,
                Wallet.from_network(layout.root),
                Wallet.from_files(admin.key, admin.cert, genesis.suite),
                genesis,
            )
    finally:
        await reads.close()
        await node.stop()


async def test_genesis_blocks_and_a_blocks_txs(api: Api) -> None:
    response = await api.http.get("/v1/genesis")
    assert response.status_code == 200
    assert Genesis.from_json(response.text) == api.genesis
    suite = get_suite(api.genesis.suite)
    assert response.headers["x-yulian-genesis-hash"] == suite.hash(api.genesis.encode()).hex()

    tx_id = await api.call("notes", "put", "a", 1)
    tx = await api.get(f"/v1/txs/{tx_id}")
    height = tx["height"]

    while (await api.get("/v1/health"))["height"] < 4:
        await asyncio.sleep(0.02)
    page = await api.get("/v1/blocks", limit=2)
    heights = [b["header"]["height"] for b in page["blocks"]]
    assert heights == sorted(heights, reverse=True) and len(heights) == 2
    older = await api.get("/v1/blocks", before=page["next_before"], limit=2)
    assert older["blocks"][0]["header"]["height"] == heights[-1] - 1

    block = await api.get(f"/v1/blocks/{height}")
    by_hash = await api.get(f"/v1/blocks/by-hash/{block['header']['hash']}")
    assert by_hash == block
    missing = await api.get(f"/v1/blocks/by-hash/{'00' * 32}", 404)
    assert missing["code"] == "unknown_block"

    txs = await api.get(f"/v1/blocks/{height}/txs")
    assert txs["tx_count"] == len(txs["txs"]) >= 1
    (row,) = [t for t in txs["txs"] if t["id"] == tx_id]
    assert (row["contract"], row["method"], row["status"]) == ("notes", "put", "ok")
    assert row["signer"]["org"] == "org1" and row["index"] == tx["index"]
    assert (await api.get("/v1/blocks/999999/txs", 404))["code"] == "unknown_block"


async def test_a_txs_writes_and_the_state_keys(api: Api) -> None:
    put_a = await api.call("notes", "put", "a", {"n": 1})
    await api.call("notes", "put", "ab", 2)
    await api.call("notes", "put", "b", 3)
    dropped = await api.call("notes", "drop", "b")

    writes = await api.get(f"/v1/txs/{put_a}/writes")
    assert writes["writes"] == [
        {"contract": "notes", "key": "note/a", "deleted": False, "value": {"n": 1}}
    ]
    deleted = await api.get(f"/v1/txs/{dropped}/writes")
    assert deleted["writes"] == [
        {"contract": "notes", "key": "note/b", "deleted": True, "value": None}
    ]
    assert (await api.get(f"/v1/txs/{'ab' * 32}/writes", 404))["code"] == "unknown_tx"

    keys = await api.get("/v1/state/notes", prefix="note/a")
    assert [k["key"] for k in keys["keys"]] == ["note/a", "note/ab"]
    assert keys["next_after"] is None
    first = await api.get("/v1/state/notes", prefix="note/", limit=1)
    assert [k["key"] for k in first["keys"]] == ["note/a"] and first["next_after"] == "note/a"
    rest = await api.get("/v1/state/notes", prefix="note/", after="note/a")
    assert [k["key"] for k in rest["keys"]] == ["note/ab"]  # note/b was deleted
    tx = await api.get(f"/v1/txs/{put_a}")
    assert first["keys"][0]["height"] == tx["height"]


async def test_the_event_page_filters_and_resumes(api: Api) -> None:
    for key in ("x", "y", "z"):
        await api.call("notes", "put", key, key)
    await api.call("notes", "drop", "y")
    page = await api.get("/v1/events", contract="notes", name="noted")
    assert [e["payload"]["key"] for e in page["events"]] == ["x", "y", "z"]
    assert page["exhausted"] is True
    one = await api.get("/v1/events", contract="notes", name="noted", limit=1)
    assert [e["payload"]["key"] for e in one["events"]] == ["x"]
    rest = await api.get("/v1/events", contract="notes", name="noted", after=one["next_after"])
    assert [e["payload"]["key"] for e in rest["events"]] == ["y", "z"]
    drops = await api.get("/v1/events", contract="notes", name="dropped")
    assert [e["payload"] for e in drops["events"]] == ["y"]
    bad = await api.get("/v1/events", 400, after="not-a-cursor")
    assert bad["code"] == "malformed_cursor"


async def test_contracts_and_a_proposal_with_what_it_changed(api: Api) -> None:
    contracts = await api.get("/v1/contracts")
    names = {c["name"]: c for c in contracts["contracts"]}
    assert "notes" in names and CONSORTIUM_CONTRACT in names
    detail = await api.get("/v1/contracts/notes")
    assert (detail["name"], detail["kind"], detail["height"]) == ("notes", "genesis", 0)
    assert [v["code_hash"] for v in detail["versions"]] == [detail["code_hash"]]
    code = await api.get("/v1/contracts/notes/code")
    assert code["source"].strip() == NOTES.strip()
    assert (await api.get("/v1/contracts/nothing", 404))["code"] == "unknown_contract"

    # one organisation: its proposal is applied by its own approval
    before = api.genesis.params.max_block_txs
    proposed = await api.call(
        CONSORTIUM_CONTRACT, "propose", "set_params", [[["max_block_txs", before + 1]]], admin=True
    )
    receipt = (await api.get(f"/v1/txs/{proposed}"))["receipt"]
    assert receipt["status"] == "ok", receipt
    listing = await api.get("/v1/proposals", scope="consortium")
    (proposal,) = listing["proposals"]
    assert proposal["status"] == "applied" and proposal["kind"] == "set_params"
    assert [a["org"] for a in proposal["approvals"]] == ["org1"]
    assert proposal["approvals"][0]["tx_id"] == proposed
    assert proposal["changes"] == [
        {"path": "params.max_block_txs", "before": before, "after": before + 1}
    ]
    assert proposal["decided_tx_id"] == proposed  # one organisation: it applied at once
    one = await api.get(f"/v1/proposals/consortium/{proposal['id']}")
    assert one == proposal
    assert (await api.get("/v1/proposals", status="open"))["proposals"] == []
    assert (await api.get("/v1/proposals/consortium/99", 404))["code"] == "unknown_proposal"
    config = await api.get("/v1/consortium")
    assert config["params"]["max_block_txs"] == before + 1


async def test_validator_stats_and_metrics_agree_with_the_api(api: Api) -> None:
    await api.call("notes", "put", "m", 1)
    refused = await api.http.post(
        "/v1/txs", content=b"junk", headers={"content-type": "application/octet-stream"}
    )
    assert refused.status_code == 400
    stats = await api.get("/v1/validators/stats", window=5)
    (row,) = stats["validators"]  # the window is at most the height
    assert stats["window"] == min(5, stats["height"]) and row["signed"] == stats["window"]
    assert row["name"] == "org1-node0" and row["proposed"] == stats["window"]
    assert row["missed"] == 0 and row["last_signed_height"] == stats["height"]

    response = await api.http.get("/metrics")
    assert response.status_code == 200
    health = await api.get("/v1/health")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    (height,) = families["yulian_chain_height"].samples
    assert health["height"] - 1 <= height.value <= health["height"]  # blocks keep coming
    assert height.value >= 1
    rejected = {
        s.labels["code"]: s.value
        for s in families["yulian_txs_rejected"].samples
        if s.name == "yulian_txs_rejected_total"
    }
    assert rejected.get("malformed_tx") == 1.0
    admitted = [s for s in families["yulian_txs_admitted"].samples if s.name.endswith("_total")]
    assert admitted and admitted[0].value >= 1
    for name in (
        "yulian_block_interval_seconds",
        "yulian_commit_latency_seconds",
        "yulian_mempool_txs",
        "yulian_peers_connected",
        "yulian_event_subscribers",
        "process_cpu_seconds",
    ):
        assert name in families, f"{name} missing from {sorted(families)}"
    reconnects = [s for s in families["yulian_ledger_reconnects"].samples]
    assert [s.value for s in reconnects if s.name.endswith("_total")] == [0.0], "LMDB: never"

    # the shipped Grafana dashboard asks only for series this node exposes
    exposed = {sample.name for f in families.values() for sample in f.samples}
    dashboard = json.loads((DOCS / "monitoring" / "grafana-dashboard.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:yulian|process)_[a-z_]+", target["expr"])
    }
    assert asked and asked <= exposed, sorted(asked - exposed)
