"""Signed requests on the API (decision 0078): a member's signature makes the caller that
member — as ``ctx.sender`` of a query too — and every way a signature can be wrong, stale,
replayed or from outside the consortium is a 401 with its own code; rate limits answer 429
with ``Retry-After``; the OpenAPI document declares the four headers and which routes take
them; private values never travel over plain HTTP to another host. Every read route, and the
event stream's handshake, spends the caller's bucket (decision 0093)."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from yulian.api.app import create_asgi
from yulian.api.auth import ApiOptions, RateLimiter
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.sdk.auth import auth_headers

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Api:
    def __init__(self, client: httpx.AsyncClient, root: Path, chain_id: str) -> None:
        self.http = client
        self.root = root
        self.chain_id = chain_id
        self.wallet = Wallet.from_network(root, "org1", "client1")

    def signed(self, method: str, target: str, body: bytes = b"", **kw: Any) -> dict[str, str]:
        return auth_headers(self.wallet, self.chain_id, method, target, body, **kw)

    async def query(self, headers: dict[str, str] | None, body: bytes) -> httpx.Response:
        h = {"content-type": "application/json", **(headers or {})}
        return await self.http.post("/v1/query", content=body, headers=h)


async def _api(tmp_path: Path, suite: str, options: ApiOptions) -> AsyncIterator[Api]:
    layout = init_network(tmp_path / "net", orgs=2, suite_name=suite)
    node = Node(load_config(layout.nodes[0].config))
    try:
        app = create_asgi(ReadModel(node), options=options)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            yield Api(c, layout.root, node.chain_id)
    finally:
        node.close()


@pytest.fixture(params=["standard", "gm"])
async def api(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    async for a in _api(tmp_path, request.param, ApiOptions()):
        yield a


MY_READS = b'{"contract": "access", "method": "my_reads", "args": [0, 10]}'


async def test_a_signed_query_runs_as_the_caller(api: Api) -> None:
    anonymous = await api.query(None, MY_READS)
    assert anonymous.json()["status"] == "reverted"
    assert "an anonymous caller has no reads" in anonymous.json()["message"]
    signed = await api.query(api.signed("POST", "/v1/query", MY_READS), MY_READS)
    assert signed.status_code == 200 and signed.json()["status"] == "ok", signed.json()
    assert signed.json()["value"] == {"total": 0, "start": 0, "items": []}


async def test_every_bad_signature_is_a_named_401(api: Api, tmp_path: Path) -> None:
    good = api.signed("POST", "/v1/query", MY_READS)
    now = time.time_ns() // 1_000_000
    outsider = init_network(tmp_path / "other", orgs=1, suite_name=api.wallet.suite.name)
    stranger = Wallet.from_network(outsider.root, "org1", "client1")
    cases = [
        ({k: v for k, v in good.items() if k != "yulian-nonce"}, "malformed_auth"),
        ({**good, "yulian-certificate": "%%%"}, "malformed_auth"),
        ({**good, "yulian-time": "soon"}, "malformed_auth"),
        ({**good, "yulian-nonce": "XYZ"}, "malformed_auth"),
        (api.signed("POST", "/v1/query", MY_READS, time_ms=now - 600_000), "stale_request"),
        (api.signed("POST", "/v1/query", b"other body"), "bad_signature"),
        (api.signed("POST", "/v1/other", MY_READS), "bad_signature"),
        (
            {**good, "yulian-certificate": base64.b64encode(stranger.cert).decode()},
            "unknown_ca",
        ),
    ]
    for headers, code in cases:
        response = await api.query(headers, MY_READS)
        assert response.status_code == 401, (code, response.json())
        assert response.json()["code"] == code, response.json()
    assert (await api.query(good, MY_READS)).status_code == 200
    replay = await api.query(good, MY_READS)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_request"


async def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    async for api in _api(tmp_path, "standard", ApiOptions(rate_per_s=1, rate_burst=3)):
        statuses = []
        for _ in range(5):
            r = await api.query(api.signed("POST", "/v1/query", MY_READS), MY_READS)
            statuses.append(r.status_code)
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        assert r.json()["code"] == "rate_limited" and r.headers["retry-after"] == "1"
        # anonymous callers are limited per address, apart from the identity
        anon = [(await api.http.get("/v1/state/evidence/x")).status_code for _ in range(4)]
        assert anon == [404, 404, 404, 429]


def test_the_token_bucket_refills() -> None:
    limiter = RateLimiter(rate_per_s=2, burst=2)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [0, 0, 0.5]
    assert limiter.take("a", 1.0) == 0  # refilled
    assert limiter.take("b", 1.0) == 0  # another caller has its own bucket
    assert RateLimiter(rate_per_s=0, burst=1).take("a") == 0  # 0: no limit


async def test_the_openapi_document_declares_the_signed_request(api: Api) -> None:
    doc = (await api.http.get("/openapi.json")).json()
    schemes = doc["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {
        "Yulian-Certificate",
        "Yulian-Time",
        "Yulian-Nonce",
        "Yulian-Signature",
    }
    assert all(s["type"] == "apiKey" and s["in"] == "header" for s in schemes.values())
    paths = doc["paths"]
    assert paths["/v1/query"]["post"]["security"][0] == {}  # anonymous callers too
    assert set(paths["/v1/query"]["post"]["security"][1]) == set(schemes)
    assert paths["/v1/private/status"]["get"]["security"] == [{name: [] for name in schemes}]
    assert "PrivateTxBody" in doc["components"]["schemas"]


async def test_private_values_never_travel_over_plain_http_to_another_host(api: Api) -> None:
    target = "/v1/private/reads/1"
    response = await api.http.get(target, headers=api.signed("GET", target))
    assert response.status_code == 403 and response.json()["code"] == "tls_required"
    status = await api.http.get("/v1/private/status")
    assert status.status_code == 401 and status.json()["code"] == "authentication_required"


#: Every read route that shows contract data, lists or governance: each spends the caller's
#: rate limit (decision 0093), so after the one token of the bucket each answers 429.
LIMITED_READS = (
    "/v1/state/evidence",
    f"/v1/txs/{'ab' * 32}/writes",
    "/v1/events",
    "/v1/events?contract=evidence",
    "/v1/blocks",
    "/v1/blocks/1/txs",
    "/v1/validators/stats",
    "/v1/genesis",
    "/v1/contracts",
    "/v1/contracts/evidence",
    "/v1/proposals",
)


async def test_every_read_route_spends_the_callers_rate_limit(tmp_path: Path) -> None:
    async for api in _api(tmp_path, "standard", ApiOptions(rate_per_s=0.01, rate_burst=1)):
        first = await api.http.get("/v1/state/evidence")
        assert first.status_code == 200, first.json()
        for path in LIMITED_READS:
            r = await api.http.get(path)
            assert r.status_code == 429, (path, r.status_code)
            assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        # a member has its own bucket, spent by the same routes
        member = await api.http.get("/v1/events", headers=api.signed("GET", "/v1/events"))
        assert member.status_code == 200, member.json()
        again = await api.http.get("/v1/events", headers=api.signed("GET", "/v1/events"))
        assert again.status_code == 429


def test_the_stream_handshake_spends_the_rate_limit_and_checks_the_signature(
    tmp_path: Path,
) -> None:
    layout = init_network(tmp_path / "net", orgs=1)
    node = Node(load_config(layout.nodes[0].config))
    try:
        app = create_asgi(ReadModel(node), options=ApiOptions(rate_per_s=0.01, rate_burst=1))
        wallet = Wallet.from_network(layout.root, "org1", "client1")
        forged = auth_headers(wallet, node.chain_id, "GET", "/v1/other", b"")
        subscribe = '{"type": "subscribe", "blocks": true}'
        with TestClient(app) as client:  # its address is not loopback: it is limited
            closes = []
            for headers in (forged, {}):
                with client.websocket_connect("/v1/events/stream", headers=headers) as ws:
                    with pytest.raises(WebSocketDisconnect) as closed:
                        ws.send_text(subscribe)
                        ws.receive_text()
                    closes.append((closed.value.code, closed.value.reason.split(":")[0]))
                if not closes[1:]:  # after the forged one, which spent no token: the token
                    with client.websocket_connect("/v1/events/stream") as ws:
                        ws.send_text(subscribe)
                        assert orjson.loads(ws.receive_text())[-1]["type"] == "live"
        assert closes == [(4401, "bad_signature"), (4429, "rate_limited")]
    finally:
        node.close()


#: The core reads (blocks, a tx with its receipt and proof, state, the consortium and its
#: validators): each spends the caller's bucket like the other read routes.
CORE_READS = (
    f"/v1/txs/{'ab' * 32}",
    "/v1/blocks/latest",
    "/v1/blocks/1",
    "/v1/state/evidence/some-key",
    "/v1/state/evidence/some-key/history",
    "/v1/consortium",
    "/v1/validators",
)


async def test_each_core_read_answers_429_after_the_limit(tmp_path: Path) -> None:
    layout = init_network(tmp_path / "net", orgs=1)
    node = Node(load_config(layout.nodes[0].config))
    try:
        app = create_asgi(ReadModel(node), options=ApiOptions(rate_per_s=0.01, rate_burst=2))
        for i, path in enumerate(CORE_READS):  # each from its own address: its own bucket
            transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{i + 10}", 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
                answers = [(await http.get(path)).status_code for _ in range(3)]
                assert 429 not in answers[:2] and answers[2] == 429, (path, answers)
                refused = await http.get(path)
                assert refused.json()["code"] == "rate_limited", path
                assert int(refused.headers["retry-after"]) >= 1
    finally:
        node.close()
