"""Read policies on real node processes (decision 0079): after the consortium votes the default
to ``members``, the evidence contract it votes ``public`` stays readable by anyone — public by
policy, not by accident — while other contracts' state and queries answer an anonymous caller
401 and a member 200; a policy naming one organisation answers another organisation's member
403; blocks and the consortium's configuration stay public; the governance tools keep
working under the ``members`` default."""

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
PROPOSALS = {"contract": "lifecycle", "method": "proposals", "args": []}


def test_pages_are_public_by_policy_and_the_rest_by_membership(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4)
    root = cluster.layout.root
    urls = [n.url for n in cluster.nodes]
    cluster.start()
    try:
        ensure_read_policy(root, urls, "*", "members")
        ensure_read_policy(root, urls, "evidence", "public")
        url = urls[0]
        anonymous = httpx.Client(base_url=url, timeout=10)
        assert anonymous.post("/v1/query", json=LOOKUP).status_code == 200
        assert anonymous.get("/v1/state/evidence/doc/x").status_code == 404  # no such key
        closed = anonymous.post("/v1/query", json=PROPOSALS)
        assert closed.status_code == 401
        assert closed.json()["code"] == "authentication_required"
        assert "members" in closed.json()["detail"]
        state = anonymous.get("/v1/state/lifecycle/contract/evidence")
        assert state.status_code == 401
        # the consortium's configuration is public by construction (GET /v1/consortium too)
        config = anonymous.post("/v1/query", json={"contract": "consortium", "method": "config"})
        assert config.status_code == 200 and config.json()["status"] == "ok"
        assert anonymous.get("/v1/blocks/1").status_code == 200
        assert anonymous.get("/v1/consortium").status_code == 200
        with Client(url, Wallet.from_network(root, "org1", "client1")) as member:
            assert member.query("lifecycle", "proposals", []) == []
            registered = member.submit("evidence", "register", [DIGEST, "a contract", {}])
            assert registered["receipt"]["status"] == "ok"
            lookup = anonymous.post("/v1/query", json=LOOKUP).json()
            assert lookup["status"] == "ok" and lookup["value"]["owner_org"] == "org1"
            ensure_read_policy(root, urls, "evidence", "org2:*")
            with pytest.raises(ApiError) as refused:
                member.query("evidence", "lookup", [DIGEST])
            assert refused.value.status == 403
            assert refused.value.problem["code"] == "read_not_allowed"
        with Client(url, Wallet.from_network(root, "org2", "client1")) as org2:
            assert org2.query("evidence", "lookup", [DIGEST])["owner_org"] == "org1"
        assert anonymous.post("/v1/query", json=LOOKUP).status_code == 401
        anonymous.close()
    finally:
        cluster.stop()
