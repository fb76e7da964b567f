"""Issue 16: a hostile contract deployed through the lifecycle, called while normal load runs.

Four validator processes; ``evidence`` and ``hostile`` are deployed through the lifecycle (no
contract is installed at genesis). A client keeps registering evidence while another calls
every hostile method, one after the other: loops that spend the whole budget on the slowest
operations of the cost model (backward searches, int/Decimal conversions, big values made in
a comprehension), colliding dict keys, and values no receipt could hold (a revert message of
100,000 emoji, a lone surrogate, a 192-byte event name, a 5,000-item return value).

Then: each hostile call ended as the cost model says; the chain kept committing the normal
load; no two consecutive blocks are further apart than the consensus base timeout (so no
validator waited out a round for a tx to execute); every receipt of the run — normal and
hostile — is served by the API and verifies offline against the genesis alone; and every node
has the same block at the head.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster, make_cluster
from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.sdk import Client, Wallet, verify_receipt
from yulian.types.genesis import Genesis

pytestmark = pytest.mark.e2e

HOSTILE = """
def rfind(ctx):
    s = 'a' * 20000
    p = 'a' * 49 + 'b' + 'a' * 49
    while True:
        s.rfind(p)

def mixed(ctx):
    n = 2 ** 2040 + 12345
    d = Decimal(7)
    while True:
        n == d

def big_values(ctx):
    n = 2 ** 2040
    return len([(-n, -n, -n, -n) for i in range(10 ** 9)])

def spin(ctx):
    while True:
        pass

def collide(ctx):
    d = {}
    k = 2 ** 61 - 1
    for i in range(1, 100000):
        d[k * i] = i

def emoji(ctx):
    ctx.require(False, '\\U0001f600' * 100000)

def surrogate(ctx):
    ctx.require(False, chr(0xD800))

def wide_event(ctx):
    ctx.emit('\\u4e2d' * 64, 1)

def wide_return(ctx):
    return list(range(5000))

def fine(ctx, key):
    ctx.state.put(key, 1)
    return key
"""
EXPECTED = {
    "rfind": "out_of_steps",
    "mixed": "out_of_steps",
    "big_values": "out_of_steps",
    "spin": "out_of_steps",
    "collide": "fault",
    "emoji": "reverted",
    "surrogate": "fault",
    "wide_event": "fault",
    "wide_return": "fault",
}


class Load(threading.Thread):
    """A client registering evidence, one tx after another, until told to stop."""

    def __init__(self, client: Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.stop = threading.Event()
        self.tx_ids: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                result = self.client.submit(CONTRACT_NAME, "register", [f"{n:064x}", "load", {}])
            except Exception as e:  # reported by the test
                self.errors.append(repr(e))
                continue
            if result["status"] == "committed" and result["receipt"]["status"] == "ok":
                self.tx_ids.append(result["id"])
            else:
                self.errors.append(repr(result))


def header_times(cluster: Cluster, first: int, last: int) -> list[int]:
    return [int(cluster.nodes[0].header(h)["time_ms"]) for h in range(first, last + 1)]


def test_a_hostile_contract_under_load(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4, block_interval_ms=100, genesis_contracts=False)
    network = cluster.layout.root
    genesis = Genesis.load(cluster.layout.genesis)
    urls = [n.url for n in cluster.nodes]
    cluster.start()
    try:
        cluster.wait_height(2)
        deploy_with_local_admins(network, urls, CONTRACT_NAME, "1.0", contract_source())
        deploy_with_local_admins(network, urls, "hostile", "1.0", HOSTILE)

        load = Load(Client(urls[1], Wallet.from_network(network, "org2", "client1")))
        attacker = Client(urls[0], Wallet.from_network(network, "org1", "client1"))
        start = cluster.nodes[0].height()
        load.start()
        time.sleep(1)
        hostile: dict[str, dict] = {}  # type: ignore[type-arg]
        for method in EXPECTED:
            hostile[method] = attacker.submit("hostile", method, [], timeout_s=60)
        fine = attacker.submit("hostile", "fine", ["after"], timeout_s=60)
        time.sleep(1)
        load.stop.set()
        load.join(60)
        end = cluster.nodes[0].height()

        for method, status in EXPECTED.items():
            result = hostile[method]
            assert result["status"] == "committed", (method, result)
            receipt = result["receipt"]
            assert receipt["status"] == status, (method, receipt)
            assert receipt["steps"] <= genesis.params.step_limit
            if status == "out_of_steps":
                assert receipt["steps"] == genesis.params.step_limit
        assert hostile["emoji"]["receipt"]["message"] == "\U0001f600" * 128  # 512 bytes
        assert fine["receipt"]["status"] == "ok"

        # the chain kept committing the normal load all along
        assert not load.errors, load.errors[:3]
        assert len(load.tx_ids) >= 10
        hostile_heights = [int(r["height"]) for r in hostile.values()]
        assert min(hostile_heights) > start and max(hostile_heights) < end

        # no validator waited out a round: blocks at most a base timeout apart
        times = header_times(cluster, start, end)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) < genesis.params.timeout_propose_ms, gaps

        # every receipt is served and verifies offline with the genesis alone
        reader = Client(urls[2])
        ids = [*load.tx_ids, *(r["id"] for r in hostile.values()), fine["id"]]
        for tx_id in ids:
            verified = verify_receipt(reader.export_receipt(tx_id), genesis)
            assert verified.receipt.tx_id.hex() == tx_id
        statuses = {
            verify_receipt(reader.export_receipt(r["id"]), genesis).receipt.status
            for r in hostile.values()
        }
        assert statuses == set(EXPECTED.values())

        cluster.wait_height(end + 1)
        cluster.assert_agree(end)
    finally:
        cluster.stop()
