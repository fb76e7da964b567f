"""TLS on the API with the node's own certificate (decision 0078), in both suites, on real node
processes: the SDK trusts the node from the genesis alone (the gm node's delegated transport
certificate included) and signs as its wallet; a client with the system's trust store, or one
that expects another node, is refused; the CLI reaches the node over HTTPS with the network
directory and queries as a member."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_cluster
from yulian.node.config import load_config, save_config
from yulian.sdk import Client, Wallet
from yulian.sdk.tls import NodeCertificateError, NodeTrust

pytestmark = pytest.mark.e2e

YULIAN = str(Path(sys.executable).with_name("yulian"))


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_the_api_serves_tls_with_the_node_certificate(tmp_path: Path, suite: str) -> None:
    cluster = make_cluster(tmp_path, 1, suite=suite, genesis_contracts=False)
    node = cluster.nodes[0]
    save_config(replace(load_config(node.config), api_tls=True), node.config)
    node.url = load_config(node.config).api_url
    assert node.url.startswith("https://")
    root = cluster.layout.root
    cluster.start()
    try:
        trust = NodeTrust.for_genesis(cluster.genesis, node=node.name)
        client = Client(node.url, Wallet.from_network(root, "org1", "client1"), trust=trust)
        assert client.health()["node"] == node.name
        # a signed query over TLS: the contract sees the member, not an anonymous caller
        assert client.query("access", "my_reads", [0, 5]) == {"total": 0, "start": 0, "items": []}
        with pytest.raises(httpx.ConnectError):  # the system trust store knows no member CA
            httpx.get(f"{node.url}/v1/health", timeout=5)
        with pytest.raises(NodeCertificateError, match="not org9-node"):
            Client(node.url, trust=NodeTrust.for_genesis(cluster.genesis, "org9-node")).health()
        cli = subprocess.run(
            [
                YULIAN,
                "query",
                "access",
                "my_reads",
                "[0, 5]",
                "--network",
                str(root),
                "--org",
                "org1",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert '"total": 0' in cli.stdout
        anonymous = subprocess.run(
            [YULIAN, "query", "access", "my_reads", "[0, 5]", "--network", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "an anonymous caller has no reads" in anonymous.stdout + anonymous.stderr
    finally:
        cluster.stop()
