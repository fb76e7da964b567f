"""Issue 14: calls between contracts and scans on real validators — hostile callers, callees and
scans end as the cost model says, a failed callee leaves nothing behind, a block of
whole-budget txs is split by the block's step budget, and every node commits the same
receipts (the header's result root) and state.

Four validator processes; ``callee`` and ``hostile`` are deployed through the lifecycle. The
same cases run through the executor alone in ``tests/security/test_calls_and_scans.py``; here
they go through admission, consensus and every node's execution.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import make_cluster
from yulian.apps.deploy import deploy_with_local_admins
from yulian.sdk import Client, Wallet, verify_receipt
from yulian.types.genesis import Genesis

pytestmark = pytest.mark.e2e

CALLEE = """
def spin(ctx):
    while True:
        pass

def write_then_revert(ctx, key):
    ctx.state.put(key, "written by the callee")
    ctx.emit("written", key)
    ctx.require(False, "the callee refuses")

def who(ctx):
    return [ctx.caller, ctx.sender.org]

def read(ctx, key):
    return ctx.state.get(key)
"""

HOSTILE = """
def spin_in_callee(ctx):
    ctx.call("callee", "spin", [])

def try_spin_in_callee(ctx):
    ctx.try_call("callee", "spin", [])
    ctx.state.put("after", 1)

def rolled_back(ctx):
    answer = ctx.try_call("callee", "write_then_revert", ["k"])
    ctx.state.put("answer", answer)
    return answer

def who(ctx):
    return ctx.call("callee", "who", [])

def pass_ctx(ctx):
    return ctx.call("callee", "who", [ctx])

def system_callee(ctx):
    return ctx.call("lifecycle", "propose", ["x", "1.0", "def f(ctx):\\n    return 1\\n"])

def fill(ctx, n):
    for i in range(n):
        ctx.state.put(ctx.key("k", str(i)), i)

def scan_forever(ctx):
    while True:
        ctx.state.scan(ctx.key("k"), 256)

def read(ctx, key):
    return ctx.state.get(key)

def scan_page(ctx, after):
    page = ctx.state.scan(ctx.key("k"), 3, after)
    return [[ctx.split_key(key), value] for key, value in page["items"]] + [page["next"]]
"""

WHOLE_BUDGET_TXS = 5


def wait_committed(
    client: Client, tx_ids: list[str], timeout_s: float = 120
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(tx_ids) and time.monotonic() < deadline:
        for tx_id in tx_ids:
            if tx_id not in done and (doc := client.tx(tx_id))["status"] == "committed":
                done[tx_id] = doc
        time.sleep(0.2)
    assert len(done) == len(tx_ids), f"{len(done)} of {len(tx_ids)} committed"
    return [done[t] for t in tx_ids]


def test_hostile_calls_and_scans_on_four_validators(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4, block_interval_ms=100, genesis_contracts=False)
    network = cluster.layout.root
    genesis = Genesis.load(cluster.layout.genesis)
    step_limit, budget = genesis.params.step_limit, genesis.params.max_block_steps
    urls = [n.url for n in cluster.nodes]
    cluster.start()
    try:
        cluster.wait_height(2)
        deploy_with_local_admins(network, urls, "callee", "1.0", CALLEE)
        deploy_with_local_admins(network, urls, "hostile", "1.0", HOSTILE)
        wallet = Wallet.from_network(network, "org1", "client1")
        attacker = Client(urls[0], wallet)

        def send(method: str, *args: Any) -> dict[str, Any]:
            result = attacker.submit("hostile", method, list(args), timeout_s=60)
            assert result["status"] == "committed", (method, result)
            receipt: dict[str, Any] = result["receipt"]
            return receipt

        # what a callee sees, and what never crosses a call
        assert send("who")["value"] == ["hostile", "org1"]
        # a query has no caller; its signer is the signed request's (decision 0078) or none
        assert attacker.query("callee", "who") == [None, "org1"]
        assert Client(urls[0]).query("callee", "who") == [None, ""]
        passed = send("pass_ctx")
        assert passed["status"] == "fault" and "bad_args" in passed["message"], passed
        system = send("system_callee")
        assert system["status"] == "fault" and "system contract" in system["message"], system

        # a failed callee leaves no write and no event; the caller goes on under try_call
        rolled = send("rolled_back")
        assert rolled["status"] == "ok" and rolled["events"] == []
        assert rolled["value"] == {
            "ok": False,
            "status": "reverted",
            "message": "the callee refuses",
        }
        assert attacker.query("callee", "read", ["k"]) is None

        # out of steps in a callee is never caught: exactly the budget, nothing written
        for method in ("spin_in_callee", "try_spin_in_callee"):
            spun = send(method)
            assert (spun["status"], spun["steps"]) == ("out_of_steps", step_limit), spun
        assert attacker.query("hostile", "read", ["after"]) is None  # try_call's caller ended too

        # scans: pages in order with a cursor, and a loop of them runs out of steps
        assert send("fill", 2000)["status"] == "ok"
        page = attacker.query("hostile", "scan_page", [None])
        assert page == [[["k", "0"], 0], [["k", "1"], 1], [["k", "10"], 10], "k\x0010\x00"]
        scanned = send("scan_forever")
        assert (scanned["status"], scanned["steps"]) == ("out_of_steps", step_limit), scanned

        # the block's step budget: whole-budget txs sent at once are spread over blocks
        envelopes = [
            wallet.sign_tx(
                genesis.chain_id,
                "hostile",
                "spin_in_callee",
                [],
                expires_at=cluster.nodes[0].height() + 100,
            ).encode()
            for _ in range(WHOLE_BUDGET_TXS)
        ]
        accepted = attacker.submit_batch(envelopes)
        assert [a["status"] for a in accepted] == ["pending"] * WHOLE_BUDGET_TXS, accepted
        docs = wait_committed(attacker, [a["id"] for a in accepted])
        per_block = Counter(int(d["height"]) for d in docs)
        assert max(per_block.values()) <= budget // step_limit, per_block
        assert len(per_block) >= -(-WHOLE_BUDGET_TXS // (budget // step_limit)), per_block
        for doc in docs:
            assert (doc["receipt"]["status"], doc["receipt"]["steps"]) == (
                "out_of_steps",
                step_limit,
            )
            assert verify_receipt(Client(urls[2]).export_receipt(doc["id"]), genesis)

        # every node committed the same blocks: same receipts (result root), same state
        last = max(per_block)
        cluster.wait_height(last + 1)
        cluster.assert_agree(last)
        for url in urls[1:]:
            assert Client(url).query("hostile", "scan_page", [None]) == page
    finally:
        cluster.stop()
