"""A tx's writes (``/v1/txs/{id}/writes``, recovered by re-executing its block) with calls
between contracts and scans: a caller's tx shows the callee's writes too, as the block
committed them; a block whose contracts scan is not re-executed — the ledger cannot scan a past
state — so nothing wrong is served: ``409 historical_scan_unavailable``, a named problem
document, through the node's API app on a real node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.unit.test_api_reads import NOTES, Api

from yulian.api.app import create_asgi
from yulian.api.problems import PROBLEM_MEDIA_TYPE
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.types.genesis import ChainParams, Genesis

pytestmark = pytest.mark.anyio

RELAY = """
def relay(ctx, key, value):
    ctx.state.put("relayed/" + key, value)
    return ctx.call("notes", "put", [key, value])

def count(ctx):
    return len(ctx.call("lister", "page", [])["items"])
"""
LISTER = """
def page(ctx):
    return ctx.state.scan("", 10)

def mark(ctx):
    ctx.state.put("seen", len(ctx.state.scan("", 10)["items"]))
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    layout = init_network(
        tmp_path / "net",
        orgs=1,
        contracts=[("notes", NOTES), ("relay", RELAY), ("lister", LISTER)],
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


async def test_a_callers_tx_shows_the_callees_writes(api: Api) -> None:
    relayed = await api.call("relay", "relay", "a", 7)
    writes = await api.get(f"/v1/txs/{relayed}/writes")
    assert writes["writes"] == [
        {"contract": "notes", "key": "note/a", "deleted": False, "value": 7},
        {"contract": "relay", "key": "relayed/a", "deleted": False, "value": 7},
    ]


async def test_a_block_that_scans_is_not_re_executed(api: Api) -> None:
    """The read API never answers 500 (issue 10): the named problem says why, and where the
    receipt and the block are, and both are served."""
    await api.call("notes", "put", "a", 1)
    put = await api.call("notes", "put", "b", 2)
    marked = await api.call("lister", "mark")
    # a block without scans is re-executed as before
    assert (await api.get(f"/v1/txs/{put}/writes"))["writes"] == [
        {"contract": "notes", "key": "note/b", "deleted": False, "value": 2}
    ]
    tx = await api.get(f"/v1/txs/{marked}")
    assert tx["status"] == "committed"
    height = tx["height"]

    response = await api.http.get(f"/v1/txs/{marked}/writes")
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    problem = response.json()
    assert problem["code"] == "historical_scan_unavailable" and problem["status"] == 409
    assert f"the state after block {height - 1} cannot be scanned" in problem["detail"]
    assert "remain available" in problem["detail"]
    assert problem["receipt"] == f"/v1/txs/{marked}"
    assert problem["block"] == f"/v1/blocks/{height}"
    # what it points to is served; asked again (nothing cached as a success), the same answer
    assert (await api.get(problem["receipt"]))["id"] == marked
    assert (await api.get(problem["block"]))["header"]["height"] == height
    again = await api.get(f"/v1/txs/{marked}/writes", 409)
    assert again["code"] == "historical_scan_unavailable"
