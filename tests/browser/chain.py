"""A real network with real activity for the browser tests, and the files the verify page gets.

``start_chain`` starts validators on loopback (one per organisation), registers documents with
the evidence contract from two organisations, transfers one, runs a governance proposal that
the organisations' admins approve (a chain-parameter change, so later proofs carry a
governance path), and registers one more document after it. Everything the pages should show
is recorded in ``Activity`` for the tests to compare with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.harness import Cluster, ClusterNode, free_port_block
from yulian.apps.evidence import CONTRACT_NAME, contract_source, file_digest, make_certificate
from yulian.crypto.suite import get_suite
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.process import wait_healthy
from yulian.sdk import Client, Wallet
from yulian.sdk.governance import approve, propose_set_params
from yulian.types.genesis import ChainParams

START_TIMEOUT_S = 120.0  # node processes importing and opening their stores on a loaded machine


@dataclass
class Registration:
    file: Path
    digest: str
    tx_id: str
    height: int
    org: str
    receipt_doc: dict[str, Any]
    certificate: Path


@dataclass
class Activity:
    registrations: list[Registration] = field(default_factory=list)
    transfer_tx: str = ""
    proposal: dict[str, Any] = field(default_factory=dict)
    governance_height: int = 0


@dataclass
class Chain:
    cluster: Cluster
    activity: Activity
    files: Path

    @property
    def url(self) -> str:
        return self.cluster.nodes[0].url

    @property
    def genesis_file(self) -> Path:
        return self.cluster.layout.genesis

    def client(self, org: str = "org1", user: str = "client1") -> Client:
        return Client(self.url, Wallet.from_network(self.cluster.layout.root, org, user))


def register(chain_dir: Path, client: Client, suite: str, name: str, text: str) -> Registration:
    document = chain_dir / name
    document.write_text(text, encoding="utf-8")
    digest = file_digest(document, get_suite(suite))
    result = client.submit("evidence", "register", [digest, name, {"file_name": name}])
    assert result["status"] == "committed" and result["receipt"]["status"] == "ok", result
    doc = client.export_receipt(result["id"])
    certificate = document.with_name(name + ".evidence.json")
    certificate.write_text(
        json.dumps(make_certificate(doc, name, digest), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    org = client.wallet.org if client.wallet else ""
    return Registration(document, digest, result["id"], result["height"], org, doc, certificate)


def make_chain_cluster(tmp: Path, orgs: int, suite: str, validity_days: int) -> Cluster:
    """``orgs`` organisations with one validator each and the evidence contract in the
    genesis (as ``tests.e2e.harness.make_cluster``, with the certificates' validity chosen:
    root CAs live ten times as long as the certificates they issue)."""
    base = free_port_block(2 * orgs)
    layout = init_network(
        tmp / "network",
        orgs=orgs,
        validators=orgs,
        suite_name=suite,
        base_api_port=base,
        base_p2p_port=base + orgs,
        contracts=[(CONTRACT_NAME, contract_source())],
        params=ChainParams(block_interval_ms=100),
        validity_days=validity_days,
    )
    nodes = []
    for node in layout.nodes:
        cfg = load_config(node.config)
        log = tmp / f"{node.name}.log"
        nodes.append(ClusterNode(node.name, node.config, cfg.api_url, log, cfg.data_dir))
    return Cluster(layout, nodes)


def start_chain(
    tmp: Path, *, orgs: int = 4, suite: str = "standard", validity_days: int = 365
) -> Chain:
    cluster = make_chain_cluster(tmp, orgs, suite, validity_days)
    files = tmp / "files"
    files.mkdir()
    for node in cluster.nodes:
        node.start(wait=False)
    chain = Chain(cluster, Activity(), files)
    try:
        for node in cluster.nodes:
            assert node.proc is not None
            wait_healthy(node.url, node.proc, node.log, timeout_s=START_TIMEOUT_S)
        _make_activity(chain, orgs, suite)
    except BaseException:
        cluster.stop()
        raise
    return chain


def _make_activity(chain: Chain, orgs: int, suite: str) -> None:
    activity = chain.activity
    org1, org2 = chain.client("org1"), chain.client("org2" if orgs > 1 else "org1")
    try:
        activity.registrations.append(
            register(chain.files, org1, suite, "合同-2026.txt", "供货合同 org1 与 org2\n")
        )
        activity.registrations.append(
            register(chain.files, org2, suite, "invoice-17.txt", "invoice 17 of org2\n")
        )
        moved = org1.submit("evidence", "transfer", [activity.registrations[0].digest, "org2"])
        assert moved["receipt"]["status"] == "ok", moved
        activity.transfer_tx = moved["id"]
        admins = [chain.client(f"org{i}", "admin") for i in range(1, orgs + 1)]
        try:
            proposal = propose_set_params(admins[0], {"block_interval_ms": 120})
            for admin in admins[1:]:
                if proposal["status"] != "open":
                    break
                proposal = approve(admin, proposal["id"])
            assert proposal["status"] == "applied", proposal
            activity.proposal = proposal
            activity.governance_height = _config_height(org1)
        finally:
            for admin in admins:
                admin.close()
        activity.registrations.append(
            register(chain.files, org1, suite, "after-governance.txt", "registered after a vote\n")
        )
    finally:
        org1.close()
        org2.close()


def _config_height(client: Client) -> int:
    history = client.history("consortium", "config", limit=10)
    return int(history[0]["height"])
