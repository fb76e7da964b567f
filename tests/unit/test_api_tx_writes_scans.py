"""``GET /v1/txs/{id}/writes`` for a tx whose block scans, on a real node (LMDB ledger, solo
consensus) through the node's API app: the writes cannot be recomputed on the past state, so
the route answers the named problem ``409 historical_scan_unavailable`` — never a 500 — that
says why and where the receipt and the block are, and both are still served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.unit.test_api_reads import Api

from yulian.api.app import create_asgi
from yulian.api.problems import PROBLEM_MEDIA_TYPE
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis

pytestmark = pytest.mark.anyio

LIST = """
def put(ctx, key, value):
    ctx.state.put("item/" + key, value)

def tally(ctx):
    page = ctx.state.scan("item/")
    ctx.state.put("count", len(page["items"]))
    return len(page["items"])
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    layout = init_network(
        tmp_path / "net",
        orgs=1,
        contracts=[("list", LIST)],
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


async def test_the_writes_of_a_tx_in_a_scanning_block_are_a_named_409(api: Api) -> None:
    put = await api.call("list", "put", "a", 1)
    tally = await api.call("list", "tally")
    # a block without scans is re-executed as before
    writes = await api.get(f"/v1/txs/{put}/writes")
    assert writes["writes"] == [{"contract": "list", "key": "item/a", "deleted": False, "value": 1}]
    receipt = await api.get(f"/v1/txs/{tally}")
    assert receipt["status"] == "committed"
    height = receipt["height"]

    response = await api.http.get(f"/v1/txs/{tally}/writes")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    problem = response.json()
    assert problem["code"] == "historical_scan_unavailable" and problem["status"] == 409
    assert f"the state after block {height - 1} cannot be scanned" in problem["detail"]
    assert "remain available" in problem["detail"]
    assert problem["receipt"] == f"/v1/txs/{tally}"
    assert problem["block"] == f"/v1/blocks/{height}"
    # and what it points to is there; asked again (not cached as a success), the same answer
    assert (await api.get(problem["receipt"]))["id"] == tally
    assert (await api.get(problem["block"]))["header"]["height"] == height
    again = await api.get(f"/v1/txs/{tally}/writes", 409)
    assert again["code"] == "historical_scan_unavailable"
