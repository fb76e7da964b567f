"""Real node processes on loopback, each in its own temporary network directory."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.ports import free_port, free_port_block
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.process import start_node_process, stop_node_process, wait_healthy
from yulian.pki.chain import ChainIdentity
from yulian.pki.layout import NetworkLayout
from yulian.sdk import Client, Wallet
from yulian.types.genesis import ChainParams, Genesis


class NodeProcessControl:
    """Start, stop and kill -9 one node process (``config``, ``log``, ``url``, ``proc``)."""

    config: Path
    log: Path
    url: str
    proc: subprocess.Popen[bytes] | None

    def start(self, wait: bool = True, env: dict[str, str] | None = None) -> None:
        assert self.proc is None
        self.proc = start_node_process(self.config, self.log, env=env)
        if wait:
            self.wait_healthy()

    def wait_healthy(self) -> None:
        """Until this very node answers: its chain, its name (never a node on a reused port)."""
        cfg = load_config(self.config)
        identity = ChainIdentity.of(Genesis.load(cfg.genesis))
        wait_healthy(self.url, self.proc, self.log, identity=identity, node=cfg.name)

    def stop(self) -> None:
        if self.proc is not None:
            stop_node_process(self.proc)
            self.proc = None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None


@dataclass
class RunningNode(NodeProcessControl):
    layout: NetworkLayout
    url: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    clients: list[Client] = field(default_factory=list)

    @property
    def genesis(self) -> Genesis:
        return Genesis.load(self.layout.genesis)

    @property
    def config(self) -> Path:
        return self.layout.nodes[0].config

    def client(self, org: str = "org1", user: str = "client1") -> Client:
        c = Client(self.url, Wallet.from_network(self.layout.root, org, user))
        self.clients.append(c)
        return c


@contextmanager
def serving(running: RunningNode) -> Iterator[RunningNode]:
    """Start ``running`` and, whatever happens, close its clients and stop it afterwards."""
    running.start()
    try:
        yield running
    finally:
        for c in running.clients:
            c.close()
        running.stop()


def make_network(
    tmp: Path, contracts: Sequence[tuple[str, str]] = (), block_interval_ms: int = 50
) -> RunningNode:
    layout = init_network(
        tmp / "network",
        orgs=2,
        validators=1,
        base_api_port=free_port(),
        base_p2p_port=free_port(),
        contracts=[(CONTRACT_NAME, contract_source()), *contracts],
        params=ChainParams(block_interval_ms=block_interval_ms),
    )
    url = load_config(layout.nodes[0].config).api_url
    return RunningNode(layout=layout, url=url, log=tmp / "node.log")


@dataclass
class ClusterNode(NodeProcessControl):
    name: str
    config: Path
    url: str
    log: Path
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None

    def health(self) -> dict[str, object] | None:
        try:
            r = httpx.get(f"{self.url}/v1/health", timeout=2)
            return r.json() if r.status_code == 200 else None
        except httpx.HTTPError:
            return None

    def height(self) -> int:
        h = self.health()
        return int(h["height"]) if h else -1  # type: ignore[call-overload]

    def header(self, height: int) -> dict[str, object]:
        r = httpx.get(f"{self.url}/v1/blocks/{height}", timeout=5)
        r.raise_for_status()
        header: dict[str, object] = r.json()["header"]
        return header


@dataclass
class Cluster:
    layout: NetworkLayout
    nodes: list[ClusterNode]

    @property
    def genesis(self) -> Genesis:
        return Genesis.load(self.layout.genesis)

    def start(self) -> None:
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            assert n.proc is not None
            n.wait_healthy()

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()

    def wait_height(
        self, height: int, nodes: Sequence[ClusterNode] | None = None, timeout_s: float = 60.0
    ) -> None:
        deadline = time.monotonic() + timeout_s
        targets = list(nodes or self.nodes)
        while time.monotonic() < deadline:
            if all(n.height() >= height for n in targets):
                return
            time.sleep(0.2)
        heights = {n.name: n.height() for n in targets}
        raise AssertionError(f"not all at height {height} after {timeout_s} s: {heights}")

    def assert_agree(self, height: int, nodes: Sequence[ClusterNode] | None = None) -> None:
        """Identical header (hash and state root) at ``height`` on every node."""
        headers = [n.header(height) for n in (nodes or self.nodes)]
        assert len({h["hash"] for h in headers}) == 1, headers
        assert len({h["state_root"] for h in headers}) == 1, headers


def make_cluster(
    tmp: Path,
    n: int = 4,
    block_interval_ms: int = 100,
    *,
    suite: str = "standard",
    genesis_contracts: bool = True,
    params: ChainParams | None = None,
) -> Cluster:
    """``n`` organisations with one validator each; ``evidence`` pre-installed in the genesis
    unless ``genesis_contracts`` is false (then deploy it through the lifecycle). ``params``
    (default: the defaults with ``block_interval_ms``) are the genesis chain parameters."""
    base = free_port_block(2 * n)
    layout = init_network(
        tmp / "network",
        orgs=n,
        validators=n,
        suite_name=suite,
        base_api_port=base,
        base_p2p_port=base + n,
        contracts=[(CONTRACT_NAME, contract_source())] if genesis_contracts else [],
        params=params or ChainParams(block_interval_ms=block_interval_ms),
    )
    nodes = []
    for node in layout.nodes:
        cfg = load_config(node.config)
        nodes.append(
            ClusterNode(node.name, node.config, cfg.api_url, tmp / f"{node.name}.log", cfg.data_dir)
        )
    return Cluster(layout, nodes)
