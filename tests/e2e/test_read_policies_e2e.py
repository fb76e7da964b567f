"""Read policies on real node processes (decision 0079): after the consortium votes the default
to ``members``, a contract without a policy of its own answers an anonymous caller 401 (state
and queries) and a member 200; once it is voted ``public`` anyone reads it again — public by
policy, not by accident; a policy naming one organisation answers another's member 403; blocks,
the consortium and the governance contracts stay public, so the governance tools keep working
under the ``members`` default."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_cluster
from yulian.apps.privacy_setup import ensure_read_policy
from yulian.sdk import ApiError, Client, Wallet

pytestmark = pytest.mark.e2e

DIGEST = "ab" * 32
LOOKUP = {"contract": "evidence", "method": "lookup", "args": [DIGEST]}
STATE = f"/v1/state/evidence/doc/{DIGEST}"


def test_pages_are_public_by_policy_and_the_rest_by_membership(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4)
    root = cluster.layout.root
    urls = [n.url for n in cluster.nodes]
    cluster.start()
    anonymous = httpx.Client(base_url=urls[0], timeout=10)
    member = Client(urls[0], Wallet.from_network(root, "org1", "client1"))
    try:
        registered = member.submit("evidence", "register", [DIGEST, "a contract", {}])
        assert registered["receipt"]["status"] == "ok"
        ensure_read_policy(root, urls, "*", "members")

        closed = anonymous.post("/v1/query", json=LOOKUP)
        assert closed.status_code == 401, closed.json()
        assert closed.json()["code"] == "authentication_required"
        assert "'members'" in closed.json()["detail"]
        assert anonymous.get(STATE).status_code == 401
        assert member.query("evidence", "lookup", [DIGEST])["owner_org"] == "org1"
        assert member.state("evidence", f"doc/{DIGEST}")["owner_org"] == "org1"
        # what stays public whatever the default: blocks, the consortium, governance
        assert anonymous.get("/v1/blocks/1").status_code == 200
        assert anonymous.get("/v1/consortium").status_code == 200
        config = anonymous.post("/v1/query", json={"contract": "consortium", "method": "config"})
        assert config.status_code == 200 and config.json()["status"] == "ok"
        proposals = anonymous.post(
            "/v1/query", json={"contract": "lifecycle", "method": "proposals"}
        )
        assert proposals.status_code == 200

        ensure_read_policy(root, urls, "evidence", "public")  # public by a vote
        opened = anonymous.post("/v1/query", json=LOOKUP)
        assert opened.status_code == 200 and opened.json()["value"]["owner_org"] == "org1"
        assert anonymous.get(STATE).status_code == 200

        ensure_read_policy(root, urls, "evidence", "org2:*")
        with pytest.raises(ApiError) as refused:
            member.query("evidence", "lookup", [DIGEST])
        assert refused.value.status == 403
        assert refused.value.problem["code"] == "read_not_allowed"
        with Client(urls[0], Wallet.from_network(root, "org2", "client1")) as org2:
            assert org2.query("evidence", "lookup", [DIGEST])["owner_org"] == "org1"
        assert anonymous.post("/v1/query", json=LOOKUP).status_code == 401
    finally:
        anonymous.close()
        member.close()
        cluster.stop()
