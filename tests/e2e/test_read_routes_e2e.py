"""Every route that shows a contract's state, a tx's writes or a contract's events follows the
contract's read policy like ``/v1/query`` (decision 0093), on real node processes.

Under a ``members`` default: a contract's keys (``GET /v1/state/{contract}``), a tx's writes
(by the contract the tx called), an event page or a stream filter naming the contract answer an
anonymous caller 401 and a member 200 with the data; once the contract's policy names one other
organisation, a member of the first answers 403 (the stream closes 4401/4403). Answers that mix
contracts — an unfiltered event page or stream, the other contracts' writes of a tx — leave out
what the caller may not read. ``access`` and ``consent`` raw state is listed to nobody;
``consortium`` and ``lifecycle`` stay public, and so does a contract voted public.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.harness import Cluster, make_cluster
from yulian.apps.privacy_setup import ensure_read_policy
from yulian.sdk import Client, Wallet
from yulian.sdk.auth import RequestSigner
from yulian.sdk.events import StreamRefused

pytestmark = pytest.mark.e2e

DIGEST = "cd" * 32


class Net:
    def __init__(self, cluster: Cluster, register_tx: str) -> None:
        self.cluster = cluster
        self.root = cluster.layout.root
        self.urls = [n.url for n in cluster.nodes]
        self.register_tx = register_tx
        self.chain_id = Client(self.urls[0]).chain_id()

    def http(self, org: str | None = None) -> httpx.Client:
        """A plain HTTP client: anonymous, or signing as ``org``'s client1."""
        if org is None:
            return httpx.Client(base_url=self.urls[0], timeout=30)
        wallet = Wallet.from_network(self.root, org, "client1")
        return httpx.Client(
            base_url=self.urls[0], timeout=30, auth=RequestSigner(wallet, self.chain_id)
        )

    def client(self, org: str | None = None) -> Client:
        wallet = Wallet.from_network(self.root, org, "client1") if org is not None else None
        return Client(self.urls[0], wallet)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    cluster = make_cluster(tmp_path_factory.mktemp("routes"), 4)
    cluster.start()
    try:
        wallet = Wallet.from_network(cluster.layout.root, "org1", "client1")
        with Client(cluster.nodes[0].url, wallet) as c:
            registered = c.submit("evidence", "register", [DIGEST, "a deed", {}])
        assert registered["receipt"]["status"] == "ok"
        net = Net(cluster, registered["id"])
        ensure_read_policy(net.root, net.urls, "*", "members")
        yield net
    finally:
        cluster.stop()


def evidence_routes(net: Net) -> dict[str, str]:
    return {
        "keys": "/v1/state/evidence",
        "writes": f"/v1/txs/{net.register_tx}/writes",
        "events": "/v1/events?contract=evidence&from_height=1",
    }


def assert_data(route: str, body: dict[str, Any]) -> None:
    """The member's 200 carries the registered deed."""
    if route == "keys":
        assert f"doc/{DIGEST}" in [k["key"] for k in body["keys"]], body
    elif route == "writes":
        assert (
            "evidence",
            f"doc/{DIGEST}",
        ) in [(w["contract"], w["key"]) for w in body["writes"]], body
    else:
        assert [e["name"] for e in body["events"]] == ["registered"], body


def all_events(http: httpx.Client) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        params.update({"after": after} if after else {"from_height": 1})
        page = http.get("/v1/events", params=params)
        assert page.status_code == 200, page.json()
        events += page.json()["events"]
        if page.json()["exhausted"]:
            return events
        after = page.json()["next_after"]


def stream_until_live(client: Client, **kwargs: Any) -> list[dict[str, Any]]:
    """The replayed messages of a stream from block 1, up to its live marker."""
    messages = []
    with client.subscribe(from_height=1, live_markers=True, reconnect=False, **kwargs) as sub:
        for message in sub:
            if message["type"] == "live":
                return messages
            messages.append(message)
    raise AssertionError("the stream ended before it was live")


def test_members_default_401_anonymous_200_member(net: Net) -> None:
    with net.http() as anonymous, net.http("org1") as member:
        for route, path in evidence_routes(net).items():
            refused = anonymous.get(path)
            assert refused.status_code == 401, (route, refused.json())
            assert refused.json()["code"] == "authentication_required"
            assert "'members'" in refused.json()["detail"]
            allowed = member.get(path)
            assert allowed.status_code == 200, (route, allowed.json())
            assert_data(route, allowed.json())


def test_a_one_organisation_policy_answers_another_member_403(net: Net) -> None:
    ensure_read_policy(net.root, net.urls, "evidence", "org2:*")
    try:
        with net.http() as anonymous, net.http("org1") as org1, net.http("org2") as org2:
            for route, path in evidence_routes(net).items():
                assert anonymous.get(path).status_code == 401, route
                refused = org1.get(path)
                assert refused.status_code == 403, (route, refused.json())
                assert refused.json()["code"] == "read_not_allowed"
                assert "'org2:*'" in refused.json()["detail"]
                allowed = org2.get(path)
                assert allowed.status_code == 200, (route, allowed.json())
                assert_data(route, allowed.json())
        with net.client("org1") as org1_client, pytest.raises(StreamRefused) as closed:
            stream_until_live(org1_client, contract="evidence")
        assert "read_not_allowed" in str(closed.value)
        with net.client("org2") as org2_client:
            events = stream_until_live(org2_client, contract="evidence")
        assert [e["name"] for e in events] == ["registered"]
    finally:
        ensure_read_policy(net.root, net.urls, "evidence", "members")


def test_the_stream_authenticates_like_rest(net: Net) -> None:
    with net.client() as anonymous, pytest.raises(StreamRefused) as closed:
        stream_until_live(anonymous, contract="evidence")
    assert "authentication_required" in str(closed.value)
    with net.client("org1") as member:  # Client.subscribe signs the handshake with its wallet
        events = stream_until_live(member, contract="evidence")
    assert [(e["contract"], e["name"]) for e in events] == [("evidence", "registered")]


def test_mixed_answers_leave_out_what_the_caller_may_not_read(net: Net) -> None:
    with net.http() as anonymous, net.http("org1") as member:
        seen_anonymously = {e["contract"] for e in all_events(anonymous)}
        seen_by_member = {e["contract"] for e in all_events(member)}
    # the governance votes above emitted consortium/access events; evidence its registration
    assert "evidence" not in seen_anonymously and "access" not in seen_anonymously
    assert "evidence" in seen_by_member and "access" not in seen_by_member
    with net.client() as anonymous_client:
        streamed = {m.get("contract") for m in stream_until_live(anonymous_client, blocks=True)}
    assert "evidence" not in streamed and "access" not in streamed
    assert None in streamed  # block messages stay public
    with net.client("org1") as member_client:
        streamed = {m.get("contract") for m in stream_until_live(member_client)}
    assert "evidence" in streamed and "access" not in streamed


def test_access_and_consent_raw_state_is_listed_to_nobody(net: Net) -> None:
    access_tx = _a_tx_of(net, "access")
    with net.http() as anonymous, net.http("org1") as member:
        for path in ("/v1/state/access", "/v1/state/consent", f"/v1/txs/{access_tx}/writes"):
            assert anonymous.get(path).status_code == 401, path
            refused = member.get(path)
            assert refused.status_code == 403, (path, refused.json())
            assert refused.json()["code"] == "read_not_allowed"
        for contract in ("access", "consent"):
            assert anonymous.get("/v1/events", params={"contract": contract}).status_code == 401
        # their query methods still answer each caller themselves
        policies = anonymous.post(
            "/v1/query", json={"contract": "access", "method": "policies", "args": []}
        )
        assert policies.status_code == 200 and policies.json()["value"]["default"] == "members"


def test_public_contracts_and_public_data_stay_public(net: Net) -> None:
    with net.http() as anonymous, net.http("org1") as member:
        for contract in ("consortium", "lifecycle"):
            for path, items in (
                (f"/v1/state/{contract}", "keys"),
                (f"/v1/events?contract={contract}", "events"),
            ):
                answer = anonymous.get(path)
                assert answer.status_code == 200, (path, answer.json())
                assert answer.json()[items] == member.get(path).json()[items]  # not less
        for path in (
            "/v1/blocks?limit=5",
            "/v1/blocks/1/txs",
            f"/v1/txs/{net.register_tx}",
            "/v1/contracts",
            "/v1/proposals",
            "/v1/consortium",
        ):
            assert anonymous.get(path).status_code == 200, path
    ensure_read_policy(net.root, net.urls, "evidence", "public")
    try:
        with net.http() as anonymous:
            for route, path in evidence_routes(net).items():
                opened = anonymous.get(path)
                assert opened.status_code == 200, (route, opened.json())
                assert_data(route, opened.json())
        with net.client() as anonymous_client:
            events = stream_until_live(anonymous_client, contract="evidence")
        assert [e["name"] for e in events] == ["registered"]
    finally:
        ensure_read_policy(net.root, net.urls, "evidence", "members")


def _a_tx_of(net: Net, contract: str) -> str:
    with net.http() as anonymous:
        head = anonymous.get("/v1/blocks/latest").json()["header"]["height"]
        for height in range(head, 0, -1):
            for tx in anonymous.get(f"/v1/blocks/{height}/txs").json()["txs"]:
                if tx["contract"] == contract and tx["status"] == "ok":
                    return str(tx["id"])
    raise AssertionError(f"no tx of {contract}")
