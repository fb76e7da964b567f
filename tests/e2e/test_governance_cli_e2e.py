"""Governance through the ``yulian`` CLI on a real 4-organisation network.

A contract is deployed by vote (``contract propose`` by one admin, ``contract approve`` by two
more: a majority of four), used with ``tx send``, upgraded to v2 the same way with its state
intact; a chain parameter changes by vote; a client identity cannot propose.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.gov_helpers import COUNTER_V1, COUNTER_V2, as_admin, cli, cli_json
from tests.e2e.harness import Cluster, ClusterNode, free_port_block, make_cluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, n=4, block_interval_ms=100)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def _vote(kind: str, network: Path, urls: list[str], proposal_id: int, orgs: list[str]) -> None:
    """``kind approve`` by each of ``orgs``; the last approval applies the proposal."""
    for i, org in enumerate(orgs):
        done = cli_json(kind, "approve", proposal_id, *as_admin(network, urls[i + 1], org))
        assert done["id"] == proposal_id
        assert org in done["approvals"]
        assert done["status"] == ("applied" if i == len(orgs) - 1 else "open"), done


def test_deploy_upgrade_and_params_through_the_cli(cluster: Cluster, tmp_path: Path) -> None:
    network = cluster.layout.root
    urls = [n.url for n in cluster.nodes]
    v1, v2 = tmp_path / "counter_v1.py", tmp_path / "counter_v2.py"
    v1.write_text(COUNTER_V1)
    v2.write_text(COUNTER_V2)

    # --- deploy: org1 proposes, org2 and org3 approve (MAJORITY of 4 = 3) -----------------
    proposed = cli_json(
        "contract", "propose", "counter", "1.0", "--code", v1, *as_admin(network, urls[0], "org1")
    )
    assert (proposed["kind"], proposed["status"], proposed["approvals"]) == (
        "deploy",
        "open",
        ["org1"],
    )
    assert [p["id"] for p in cli_json("contract", "proposals", "--url", urls[0])] == [
        proposed["id"]
    ]
    again = cli("contract", "approve", proposed["id"], *as_admin(network, urls[0], "org1"))
    assert again.returncode == 3 and "already approved" in again.stderr
    _vote("contract", network, urls, proposed["id"], ["org2", "org3"])
    status = cli_json("contract", "status", "counter", "--url", urls[2])
    assert status["version"] == "1.0"
    assert [c["name"] for c in cli_json("contract", "list", "--url", urls[2])] == ["counter"]

    # --- use it -----------------------------------------------------------------------------
    for by, expected in ((5, 5), (2, 7)):
        sent = cli_json(
            "tx", "send", "counter", "incr", json.dumps([by]),
            "--network", network, "--url", urls[3], "--org", "org4",
        )  # fmt: skip
        assert sent["receipt"]["status"] == "ok" and sent["receipt"]["value"] == expected
    assert cli_json("query", "counter", "version", "--url", urls[3]) == "v1"

    # --- upgrade to v2 the same way; the state survives ------------------------------------
    upgrade = cli_json(
        "contract", "propose", "counter", "2.0", "--code", v2, *as_admin(network, urls[0], "org1")
    )
    assert (upgrade["kind"], upgrade["status"]) == ("upgrade", "open")
    _vote("contract", network, urls, upgrade["id"], ["org2", "org3"])
    assert cli_json("contract", "status", "counter", "--url", urls[2])["version"] == "2.0"
    code = cli("contract", "code", "counter", "--url", urls[2])
    assert code.returncode == 0 and code.stdout == COUNTER_V2
    sent = cli_json(
        "tx", "send", "counter", "incr", "[1]",
        "--network", network, "--url", urls[2], "--org", "org3",
    )  # fmt: skip
    assert sent["receipt"]["value"] == 8  # 7 from v1, plus 1
    assert [e["name"] for e in sent["receipt"]["events"]] == ["counted"]
    assert cli_json("query", "counter", "version", "--url", urls[2]) == "v2"
    assert cli_json("query", "counter", "get", "--url", urls[2]) == 8

    # --- a chain parameter by vote ---------------------------------------------------------
    before = cli_json("consortium", "show", "--url", urls[0])
    assert before["params"]["block_interval_ms"] == 100
    params = cli_json(
        "consortium", "propose", "set-params", "block_interval_ms=300",
        *as_admin(network, urls[0], "org1"),
    )  # fmt: skip
    assert (params["kind"], params["scope"], params["status"]) == ("set_params", "params", "open")
    assert [p["id"] for p in cli_json("consortium", "proposals", "--url", urls[0])] == [
        params["id"]
    ]
    _vote("consortium", network, urls, params["id"], ["org2", "org4"])
    after = cli_json("consortium", "show", "--url", urls[2])
    assert after["params"]["block_interval_ms"] == 300
    assert {k: v for k, v in after["params"].items() if k != "block_interval_ms"} == {
        k: v for k, v in before["params"].items() if k != "block_interval_ms"
    }
    assert cli_json("consortium", "proposals", "--url", urls[2]) == []


def test_a_client_identity_cannot_propose(cluster: Cluster, tmp_path: Path) -> None:
    network = cluster.layout.root
    url = cluster.nodes[0].url
    client = ["--network", network, "--url", url, "--org", "org1", "--user", "client1"]
    r = cli("consortium", "propose", "set-params", "block_interval_ms=300", *client)
    assert r.returncode == 3, r.stdout
    assert "admin" in r.stderr and "client" in r.stderr
    code = tmp_path / "c.py"
    code.write_text(COUNTER_V1)
    r = cli("contract", "propose", "counter", "1.0", "--code", code, *client)
    assert r.returncode == 3 and "admin" in r.stderr
    assert cli_json("consortium", "proposals", "--url", url) == []
    assert cli_json("contract", "proposals", "--url", url) == []
    # a file that is not a certificate is refused before anything is signed
    r = cli("consortium", "propose", "revoke", "--cert", code, *client)
    assert r.returncode == 1 and "malformed certificate" in r.stderr


def test_issue_warn_and_revoke_a_certificate(cluster: Cluster) -> None:
    """`ca issue` a short-lived identity: it signs txs, `network status` warns about it, and
    `ca revoke` (its organisation alone) shuts it out from the next block."""
    network = cluster.layout.root
    url = cluster.nodes[1].url
    issued = cli_json(
        "ca", "issue", "--org", "org2", "--role", "client", "--name", "auditor", "--days", "10",
        "--network", network,
    )  # fmt: skip
    assert (issued["org"], issued["role"], issued["name"]) == ("org2", "client", "auditor")
    auditor = ["--network", network, "--url", url, "--org", "org2", "--user", "auditor"]
    sent = cli_json(
        "tx", "send", "evidence", "register", json.dumps(["ab" * 32, "t", {}]), *auditor
    )
    assert sent["receipt"]["status"] == "ok"

    status = cli("network", "status", "--network", network)
    assert status.returncode == 0, status.stderr
    warnings = [line for line in status.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "org2/auditor (client) expires in" in warnings[0], warnings

    # signed by org2's admin: --org names the member's organisation and the signer's
    revoked = cli_json(
        "ca", "revoke", "--org", "org2", "--name", "auditor", "--network", network, "--url", url
    )
    assert (revoked["kind"], revoked["status"], revoked["approvals"]) == (
        "revoke",
        "applied",
        ["org2"],
    )
    assert len(cli_json("consortium", "show", "--url", url)["revocations"]) == 1
    r = cli("tx", "send", "evidence", "register", json.dumps(["cd" * 32, "t", {}]), *auditor)
    assert r.returncode != 0 and "revoked" in r.stderr


def test_a_new_organisation_joins_and_validates(cluster: Cluster, tmp_path: Path) -> None:
    """`org create`, `consortium propose add-org` + approvals, start its node, then
    `consortium propose add-validator` (by the new organisation's own admin) + approvals: the
    new node signs commit certificates."""
    network = cluster.layout.root
    urls = [n.url for n in cluster.nodes]
    base = free_port_block(2)
    created = cli_json(
        "org", "create", "org5", "--network", network, "--p2p-port", base, "--api-port", base + 1
    )
    node = created["nodes"][0]
    assert (node["name"], node["p2p"]) == ("org5-node0", f"127.0.0.1:{base}")
    r = cli("consortium", "propose", "add-validator", "--node-cert", node["cert"],
            "--address", node["p2p"], *as_admin(network, urls[0], "org5"))  # fmt: skip
    assert r.returncode == 1 and "unknown_ca" in r.stderr  # the API refuses a non-member

    added = cli_json(
        "consortium", "propose", "add-org", "--ca-cert", created["ca_cert"],
        *as_admin(network, urls[0], "org1"),
    )  # fmt: skip
    assert (added["kind"], added["status"]) == ("add_org", "open")
    _vote("consortium", network, urls, added["id"], ["org2", "org3"])
    show = cli_json("consortium", "show", "--url", urls[0])
    assert show["organisations"] == ["org1", "org2", "org3", "org4", "org5"]

    new = ClusterNode(
        "org5-node0", Path(node["config"]), node["api"], tmp_path / "org5-node0.log",
        Path(node["config"]).parent / "data",
    )  # fmt: skip
    cluster.nodes.append(new)  # stopped with the others
    new.start()
    proposal = cli_json(
        "consortium", "propose", "add-validator", "--node-cert", node["cert"],
        "--address", node["p2p"], *as_admin(network, node["api"], "org5"),
    )  # fmt: skip
    assert proposal["approvals"] == ["org5"]
    _vote("consortium", network, urls, proposal["id"], ["org1", "org2"])
    scheduled = cli_json("consortium", "show", "--url", urls[2])["schedule"][-1]
    assert [v["name"] for v in scheduled["validators"]][-1] == "org5-node0"
    later = cli_json(
        "consortium", "validators", "--height", scheduled["from_height"], "--url", urls[2]
    )
    assert len(later) == 5

    # a certificate holds the first +2/3 precommits its node saw: the new validator (which
    # also had to sync the chain first) appears in some, not necessarily in the next few
    first = int(scheduled["from_height"])
    deadline = time.monotonic() + 60
    signed_at = None
    while signed_at is None and time.monotonic() < deadline:
        top = cluster.nodes[0].height()
        for h in range(first, top + 1):
            block = httpx.get(f"{urls[0]}/v1/blocks/{h}", timeout=5).json()
            if "org5-node0" in {s["validator"] for s in block["commit"]["signatures"]}:
                signed_at = h
                break
        first = max(first, top - 1)
        time.sleep(0.5)
    assert signed_at is not None, "org5-node0 never signed a commit certificate"
    cluster.assert_agree(signed_at)
