"""Real node processes on loopback, each in its own temporary network directory."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.node.bootstrap import NetworkLayout, init_network
from yulian.node.config import load_config
from yulian.node.process import start_node_process, stop_node_process, wait_healthy
from yulian.sdk import Client, Wallet
from yulian.types.genesis import ChainParams, Genesis


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningNode:
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

    def start(self, env: dict[str, str] | None = None) -> None:
        self.proc = start_node_process(self.config, self.log, env=env)
        wait_healthy(self.url, self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None:
            stop_node_process(self.proc)
            self.proc = None

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def client(self, org: str = "org1", user: str = "client1") -> Client:
        c = Client(self.url, Wallet.from_network(self.layout.root, org, user))
        self.clients.append(c)
        return c


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
