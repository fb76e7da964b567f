"""Governance on a real 4-organisation network (issue 4, "Must show"), for both crypto suites.

One story per suite, through the public API only:

1. ``evidence`` is not in the genesis: it is deployed through the lifecycle (org1 proposes,
   org2 and org3 approve: MAJORITY of 4), used, then upgraded to 2.0 with its state kept.
2. A 5th organisation and its validator join by MAJORITY votes; its node process starts from
   an empty directory, syncs, and its precommits appear in commit certificates.
3. The 5th organisation is removed: its validator leaves the set two blocks later, the other
   nodes disconnect it, and the chain goes on without it.
4. org1 revokes its client's certificate (an organisation may always withdraw its own); that
   client's next tx is refused with ``certificate_revoked`` while other clients go on.
5. A receipt from before and one from after all that verify offline with the genesis alone,
   through the governance path the proof carries.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Cluster, ClusterNode, free_port_block, make_cluster
from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.crypto.x509 import parse_certificate, pem_to_der
from yulian.node.bootstrap import create_org
from yulian.node.config import load_config
from yulian.sdk import ApiError, Client, Wallet
from yulian.sdk.verify import verify_receipt
from yulian.types.genesis import Genesis

pytestmark = pytest.mark.e2e

V2_SOURCE = contract_source() + '\n\ndef version(ctx):\n    return "2.0"\n'


def admin(cluster: Cluster, org: str, node: int = 0) -> Client:
    return Client(cluster.nodes[node].url, Wallet.from_network(cluster.layout.root, org, "admin"))


def applied(result: dict) -> dict:  # type: ignore[type-arg]
    receipt = result["receipt"]
    assert receipt["status"] == "ok", receipt
    value: dict = receipt["value"]  # type: ignore[type-arg]
    return value


def vote(cluster: Cluster, kind: str, args: list, approvers: list[str]) -> int:  # type: ignore[type-arg]
    """org1's admin proposes ``kind``; the ``approvers``' admins approve in turn; returns the
    height of the block that applied it."""
    with admin(cluster, "org1") as first:
        proposal = applied(first.submit("consortium", "propose", [kind, args]))
    height = 0
    for org in approvers:
        assert proposal["status"] == "open", proposal
        with admin(cluster, org, node=1) as other:
            result = other.submit("consortium", "approve", [proposal["id"]])
        proposal, height = applied(result), int(result["height"])
    assert proposal["status"] == "applied", proposal
    return height


def wait_for(predicate, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def commit_signers(node: ClusterNode, height: int) -> list[str]:
    r = httpx.get(f"{node.url}/v1/blocks/{height}", timeout=5)
    r.raise_for_status()
    return [s["validator"] for s in r.json()["commit"]["signatures"]]


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_governance_story(tmp_path: Path, suite: str) -> None:
    cluster = make_cluster(tmp_path, 4, block_interval_ms=100, suite=suite, genesis_contracts=False)
    network = cluster.layout.root
    genesis = Genesis.load(cluster.layout.genesis)
    urls = [n.url for n in cluster.nodes]
    extra: list[ClusterNode] = []
    cluster.start()
    try:
        cluster.wait_height(2)
        client1 = Client(urls[0], Wallet.from_network(network, "org1", "client1"))
        client2 = Client(urls[2], Wallet.from_network(network, "org2", "client1"))
        with pytest.raises(ApiError) as unknown:
            client1.submit(CONTRACT_NAME, "register", ["ab" * 32, "x", {}])
        assert unknown.value.status == 404  # nothing is installed at genesis any more

        # 1. deploy through the lifecycle, use, upgrade with the state kept
        status = deploy_with_local_admins(network, urls, CONTRACT_NAME, "1.0", contract_source())
        assert status["version"] == "1.0"
        first = client1.submit(CONTRACT_NAME, "register", ["ab" * 32, "before", {}])
        assert first["receipt"]["status"] == "ok"
        status = deploy_with_local_admins(network, urls, CONTRACT_NAME, "2.0", V2_SOURCE)
        assert status["version"] == "2.0" and status["height"] > first["height"]
        assert client2.query(CONTRACT_NAME, "lookup", ["ab" * 32])["title"] == "before"
        assert client2.query(CONTRACT_NAME, "version", []) == "2.0"

        # 2. a 5th organisation and its validator join by MAJORITY
        base = free_port_block(2)
        org5 = create_org(network, "org5", nodes=1, p2p_port=base, api_port=base + 1)
        ca_der = pem_to_der(org5.org.ca_cert.read_bytes())
        vote(cluster, "add_org", ["org5", ca_der], ["org2", "org3"])
        node5 = org5.nodes[0]
        node5_cert = pem_to_der(node5.credential.cert.read_bytes())
        public_key = parse_certificate(node5_cert).public_key
        # 5 organisations now: MAJORITY is 3 of 5
        joined = vote(
            cluster,
            "add_validator",
            [node5.name, "org5", public_key, 1, f"127.0.0.1:{base}"],
            ["org2", "org3"],
        )
        cfg5 = load_config(node5.config)
        n5 = ClusterNode(
            node5.name, node5.config, cfg5.api_url, tmp_path / "org5.log", cfg5.data_dir
        )
        extra.append(n5)
        n5.start()
        effective = joined + 2  # VALIDATOR_SET_DELAY after the block that applied it
        signed = wait_for(
            lambda: next(
                (
                    h
                    for h in range(effective, cluster.nodes[0].height() + 1)
                    if node5.name in commit_signers(cluster.nodes[0], h)
                ),
                None,
            ),
            60,
            f"{node5.name}'s signature in a commit certificate",
        )
        assert signed >= effective
        for h, member in ((effective - 1, False), (effective, True), (signed, True)):
            r = httpx.get(f"{urls[0]}/v1/validators", params={"height": h}, timeout=5)
            names = [v["name"] for v in r.json()["validators"]]
            assert (node5.name in names) is member, (h, names)  # in force at H + 2, not before
        cluster.wait_height(signed, [n5])  # the new node synced the whole chain
        cluster.assert_agree(signed, [*cluster.nodes, n5])
        # a node restarted after the change still talks to everyone (old and new members)
        cluster.nodes[1].stop()
        cluster.nodes[1].start()
        wait_for(
            lambda: (
                set((cluster.nodes[1].health() or {}).get("peers", []))
                >= {"org1-node0", "org3-node0", "org4-node0", node5.name}
            ),
            30,
            "the restarted node to reconnect to every member",
        )

        # 3. the 5th organisation leaves; the chain goes on with four
        removed = vote(cluster, "remove_org", ["org5"], ["org2", "org3"])
        gone = removed + 2
        cluster.wait_height(gone + 3)
        for h in range(gone, gone + 4):
            assert node5.name not in commit_signers(cluster.nodes[0], h)
        wait_for(
            lambda: node5.name not in (cluster.nodes[0].health() or {}).get("peers", [node5.name]),
            20,
            "org5's node to be disconnected",
        )
        cluster.assert_agree(gone + 3)

        # 4. org1 revokes its own client's certificate: in force from the next block
        cert_der = pem_to_der(cluster.layout.credential("org1", "client1").cert.read_bytes())
        with admin(cluster, "org1") as org1_admin:
            revoked = applied(org1_admin.submit("consortium", "propose", ["revoke", [cert_der]]))
        assert revoked["status"] == "applied"  # its own organisation's approval suffices
        with pytest.raises(ApiError) as refused:
            client1.submit(CONTRACT_NAME, "register", ["cd" * 32, "after revocation", {}])
        assert refused.value.status == 403
        assert refused.value.problem["code"] == "certificate_revoked"
        last = client2.submit(CONTRACT_NAME, "register", ["ef" * 32, "after", {}])
        assert last["receipt"]["status"] == "ok"

        # 5. offline proofs, before and after the governance changes, from the genesis alone
        for tx in (first, last):
            verified = verify_receipt(client2.export_receipt(tx["id"]), genesis)
            assert verified.summary["height"] == tx["height"]
        client1.close()
        client2.close()
    finally:
        for node in extra:
            node.stop()
        cluster.stop()
