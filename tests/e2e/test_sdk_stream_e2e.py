"""The SDK's event stream against real node processes: over TLS it streams on ``wss://`` with
the client's trust (the consortium's roots from the genesis, the node it expects) — a client
that expects another node, or that trusts only the system's store, gets no stream — and over
its rate limit (4429) it waits as the node says and resumes within ``retry_for_s``, giving up
once that window has passed."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.e2e.harness import make_cluster
from yulian.node.config import load_config, save_config
from yulian.sdk import Client, Wallet
from yulian.sdk.client import ApiError
from yulian.sdk.events import StreamClosed, StreamRefused
from yulian.sdk.tls import NodeCertificateError, NodeTrust

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_the_stream_over_tls_uses_the_clients_trust(tmp_path: Path, suite: str) -> None:
    cluster = make_cluster(tmp_path, 1, suite=suite, block_interval_ms=50)
    node = cluster.nodes[0]
    save_config(replace(load_config(node.config), api_tls=True), node.config)
    node.url = load_config(node.config).api_url
    assert node.url.startswith("https://")
    wallet = Wallet.from_network(cluster.layout.root, "org1", "client1")
    cluster.start()
    try:
        trusted = Client(node.url, wallet, trust=NodeTrust.for_genesis(cluster.genesis, node.name))
        with trusted, trusted.subscribe(blocks=True, retry_for_s=10) as stream:
            first = stream.next(timeout_s=20)
            assert first is not None and first["type"] == "block", first
            second = stream.next(timeout_s=20)
            assert second is not None and second["height"] == first["height"] + 1
        impostor = Client(node.url, trust=NodeTrust.for_genesis(cluster.genesis, "org9-node"))
        with impostor, pytest.raises(NodeCertificateError, match="not org9-node"):
            impostor.subscribe(blocks=True, retry_for_s=1)
        untrusting = Client(node.url)  # the system's trust store knows no consortium CA
        with untrusting, pytest.raises(StreamClosed, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.subscribe(blocks=True, retry_for_s=1)
    finally:
        cluster.stop()


def test_the_stream_waits_out_a_rate_limit(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 1, block_interval_ms=50)
    node = cluster.nodes[0]
    config = load_config(node.config)
    save_config(replace(config, api_rate_per_s=1, api_rate_burst=1), node.config)
    cluster.start()
    # signed: the member's own bucket (anonymous callers on loopback are not limited)
    client = Client(node.url, Wallet.from_network(cluster.layout.root, "org1", "client1"))

    def spend() -> None:
        """Empty the member's bucket (one token; a refused request spends none)."""
        try:
            client.events(limit=1)
        except ApiError as e:
            assert e.status == 429
        with pytest.raises(ApiError, match="rate_limited"):
            client.events(limit=1)

    try:
        spend()
        started = time.monotonic()
        # the node asks for 1 s, more than the window: refused, without waiting past it
        with pytest.raises(StreamRefused, match=r"for 0\.5 s: rate_limited"):
            client.subscribe(blocks=True, retry_for_s=0.5)
        assert time.monotonic() - started < 1.0

        spend()
        with client.subscribe(blocks=True, retry_for_s=20) as patient:
            first = patient.next(timeout_s=30)
            assert first is not None and first["type"] == "block", first
            assert patient.closes.get(4429, 0) >= 1, "it was rate limited, then let in"
            assert patient.next(timeout_s=20) is not None
    finally:
        client.close()
        cluster.stop()
