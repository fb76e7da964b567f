"""Four organisations on four hosts: each organisation's node runs in its own network
namespace with its own address (veth pairs on a bridge, made and removed here), after a
genesis ceremony in which each organisation initialised its own directory and no directory
holds another's private keys.

Under a steady load of transactions the chain commits; it keeps committing while one
organisation's cable is pulled (3 of 4 validators are a quorum), and that organisation catches
up when the cable is back; with two of four unplugged nothing can commit, and the chain
resumes when they return; with 50 ms added to every packet between the hosts it keeps
committing. At the end every node has the same blocks and state, and every accepted
transaction is committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.gov_helpers import COUNTER_V1
from tests.e2e.netns import CLIENT_HOST, Lab, connect_ms
from tests.keyfiles import foreign_keys
from yulian.crypto.suite import get_suite
from yulian.node.bootstrap import init_org_directory, plan_nodes
from yulian.node.ceremony import accept_genesis, export_org
from yulian.node.config import load_config
from yulian.node.process import start_node_process, stop_node_process, wait_healthy
from yulian.pki.ceremony import assemble_genesis
from yulian.pki.chain import ChainIdentity
from yulian.sdk import Client, Wallet
from yulian.sdk import governance as gov
from yulian.sdk.client import ApiError
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

ORGS = ["org1", "org2", "org3", "org4"]
P2P_PORT, API_PORT = 9600, 8600  # the same on every host: each has its own address
DELAY_MS = 50
PROGRESS_TIMEOUT_S = 90.0


@dataclass
class Host:
    org: str
    directory: Path
    address: str
    log: Path
    proc: object = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{API_PORT}"


@dataclass
class Consortium:
    lab: Lab
    hosts: dict[str, Host]
    identity: ChainIdentity
    procs: dict[str, object] = field(default_factory=dict)

    def health(self, org: str) -> dict[str, object] | None:
        def get() -> dict[str, object] | None:
            try:
                with Client(self.hosts[org].url, timeout_s=3) as c:
                    return c.health()
            except (httpx.HTTPError, ApiError):  # unplugged, or not serving yet
                return None

        return self.lab.call(CLIENT_HOST, get)

    def height(self, org: str) -> int:
        h = self.health(org)
        return int(h["height"]) if h else -1  # type: ignore[call-overload]

    def wait_height(
        self, height: int, orgs: list[str], timeout_s: float = PROGRESS_TIMEOUT_S
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self.height(o) >= height for o in orgs):
                return
            time.sleep(0.5)
        raise AssertionError(f"not at height {height}: { ({o: self.height(o) for o in orgs}) }")

    def header(self, org: str, height: int) -> dict[str, object]:
        def get() -> dict[str, object]:
            with Client(self.hosts[org].url) as c:
                block = c.block(height)
            return {"hash": block["header"]["hash"], "state_root": block["header"]["state_root"]}

        return self.lab.call(CLIENT_HOST, get)


@pytest.fixture
def consortium(tmp_path: Path) -> Iterator[Consortium]:
    lab = Lab(list(ORGS))
    lab.create()
    try:
        hosts = {
            org: Host(org, tmp_path / org, lab.addresses[org], tmp_path / f"{org}.log")
            for org in ORGS
        }
        # the ceremony: each organisation in its own directory, only public material moves
        for host in hosts.values():
            plans = plan_nodes(
                host.org,
                1,
                hosts=[host.address],
                p2p_port=P2P_PORT,
                api_port=API_PORT,
                api_host=host.address,
            )
            init_org_directory(host.directory, host.org, nodes=plans)
        exports = [export_org(h.directory) for h in hosts.values()]
        genesis = assemble_genesis(
            exports,
            chain_id="netns",
            time_ms=int(time.time()) * 1000,
            params=ChainParams(block_interval_ms=200),
        )
        identity = ChainIdentity.of(genesis)
        for host in hosts.values():
            accept_genesis(host.directory, genesis, identity.genesis_hash)
        c = Consortium(lab, hosts, identity)
        try:
            for host in hosts.values():
                config = host.directory / "nodes" / f"{host.org}-node0" / "config.toml"
                c.procs[host.org] = start_node_process(
                    config, host.log, wrapper=lab.exec_prefix(host.org)
                )
            for host in hosts.values():
                lab.call(
                    CLIENT_HOST,
                    lambda h=host: wait_healthy(
                        h.url,
                        c.procs[h.org],
                        h.log,
                        120.0,  # type: ignore[arg-type]
                        identity=identity,
                        node=f"{h.org}-node0",
                    ),
                )
            yield c
        finally:
            for proc in c.procs.values():
                stop_node_process(proc)  # type: ignore[arg-type]
    finally:
        lab.destroy()


class Load:
    """Counter increments from every organisation's client, round-robin over the nodes."""

    def __init__(self, c: Consortium) -> None:
        self.c = c
        self.accepted: list[str] = []
        self.refused = 0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        clients = [
            Client(
                self.c.hosts[o].url,
                Wallet.from_network(self.c.hosts[o].directory, o, "client1"),
                timeout_s=5,
            )
            for o in ORGS
        ]
        try:
            k = 0
            while not self.stop.is_set():
                client = clients[k % len(clients)]
                k += 1
                try:
                    tx = client.submit("counter", "incr", [1], wait=False)
                    self.accepted.append(tx["id"])
                except (httpx.HTTPError, ApiError):  # an unplugged host: on to the next one
                    self.refused += 1
                time.sleep(0.05)
        finally:
            for client in clients:
                client.close()

    def __enter__(self) -> Load:
        self.thread = self.c.lab.thread(CLIENT_HOST, self.run)
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        assert self.thread is not None
        self.thread.join(30)


def _deploy_counter(c: Consortium) -> None:
    def admin(org: str) -> Client:
        return Client(c.hosts[org].url, Wallet.from_network(c.hosts[org].directory, org, "admin"))

    def deploy() -> None:
        with admin("org1") as a:
            proposal = gov.propose_contract(a, "counter", "1.0", COUNTER_V1)
        for org in ("org2", "org3"):
            with admin(org) as a:
                proposal = gov.approve_contract(a, proposal["id"])
        assert proposal["status"] == "applied", proposal

    c.lab.call(CLIENT_HOST, deploy)


def test_four_hosts_partition_heal_and_latency(consortium: Consortium) -> None:
    c = consortium
    suite = get_suite("standard")
    assert foreign_keys({h.org: h.directory for h in c.hosts.values()}, suite) == []
    for org in ORGS:  # each node listens on its own host's address and knows the other three
        cfg = load_config(c.hosts[org].directory / "nodes" / f"{org}-node0" / "config.toml")
        assert (cfg.p2p_host, cfg.advertised_address) == (
            c.hosts[org].address,
            f"{c.hosts[org].address}:{P2P_PORT}",
        )
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while any(len(c.health(o)["peers"]) < 3 for o in ORGS):  # type: ignore[index,arg-type]
        assert time.monotonic() < deadline, {o: c.health(o) for o in ORGS}
        time.sleep(0.5)
    _deploy_counter(c)

    with Load(c) as load:
        start = max(c.height(o) for o in ORGS)
        c.wait_height(start + 5, ORGS)

        # one host unplugged: the other three are a quorum and keep committing
        c.lab.set_link("org4", up=False)
        cut = c.height("org4")
        majority = ORGS[:3]
        c.wait_height(max(c.height(o) for o in majority) + 5, majority)
        assert c.height("org4") <= cut + 1
        c.lab.set_link("org4", up=True)
        c.wait_height(max(c.height(o) for o in majority), ["org4"])

        # two of four unplugged: no quorum anywhere, nothing commits; back, it resumes
        c.lab.set_link("org3", up=False)
        c.lab.set_link("org4", up=False)
        time.sleep(2)
        split = max(c.height(o) for o in ORGS[:2])
        time.sleep(8)
        assert max(c.height(o) for o in ORGS[:2]) <= split + 1
        c.lab.set_link("org3", up=True)
        c.lab.set_link("org4", up=True)
        c.wait_height(split + 4, ORGS)

        # 50 ms on every packet between the hosts: a round trip is two of them
        c.lab.add_latency(DELAY_MS)
        rtt = c.lab.call("org1", connect_ms, c.hosts["org2"].address, P2P_PORT)
        assert rtt >= 2 * DELAY_MS * 0.95, rtt
        c.wait_height(max(c.height(o) for o in ORGS) + 5, ORGS)
        c.lab.remove_latency()
        assert c.lab.call("org1", connect_ms, c.hosts["org2"].address, P2P_PORT) < rtt

    assert len(load.accepted) > 50, (len(load.accepted), load.refused)
    # every accepted tx commits, on every host: the counter counts them all
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S

    def counters() -> list[int]:
        def get() -> list[int]:
            values = []
            for org in ORGS:
                with Client(c.hosts[org].url) as client:
                    values.append(int(client.query("counter", "get")))
            return values

        return c.lab.call(CLIENT_HOST, get)

    while counters() != [len(load.accepted)] * 4:
        assert time.monotonic() < deadline, (counters(), len(load.accepted))
        time.sleep(1)
    head = min(c.height(o) for o in ORGS)
    for height in range(1, head + 1, max(1, head // 20)):
        headers = [c.header(o, height) for o in ORGS]
        assert all(h == headers[0] for h in headers), (height, headers)
