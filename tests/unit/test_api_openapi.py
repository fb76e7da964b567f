"""The OpenAPI document is complete enough to generate a client from, and the interactive docs
load nothing from outside the node (an air-gapped network has no CDN)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from yulian.api.app import create_asgi
from yulian.api.problems import PROBLEM_MEDIA_TYPE
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel

pytestmark = pytest.mark.anyio

# every route, the success status(es) and every problem status it really answers
ROUTES: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/txs"): {"200", "202", "400", "401", "403", "404", "409", "413", "503"},
    ("post", "/v1/txs/batch"): {"200", "400", "413"},
    ("get", "/v1/txs/{tx_id}"): {"200", "400", "404", "410", "429"},
    ("get", "/v1/blocks/latest"): {"200", "404", "429"},
    ("get", "/v1/blocks/{height}"): {"200", "400", "404", "410", "429"},
    ("get", "/v1/state/{contract}/{key}"): {"200", "400", "401", "403", "404", "429"},
    ("get", "/v1/state/{contract}/{key}/history"): {"200", "400", "401", "403", "429"},
    ("post", "/v1/query"): {"200", "400", "401", "403", "404", "413", "415", "429"},
    ("get", "/v1/consortium"): {"200", "400", "404", "429"},
    ("get", "/v1/validators"): {"200", "400", "404", "429"},
    ("get", "/v1/health"): {"200"},
    ("post", "/v1/private/txs"): {"200", "202", "400", "401", "403", "404", "409", "413", "503"},
    ("post", "/v1/private/reads"): {"200", "202", "400", "401", "403", "409", "413", "503"},
    ("get", "/v1/private/reads/{access_id}"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "429",
        "503",
    },
    ("get", "/v1/private/status"): {"200", "401", "429", "503"},
    # decision 0093: every read route spends the rate limit; keys, writes and events follow
    # the read policy
    ("get", "/v1/genesis"): {"200", "429"},
    ("get", "/v1/blocks"): {"200", "400", "410", "429"},
    ("get", "/v1/blocks/by-hash/{block_hash}"): {"200", "400", "404", "410", "429"},
    ("get", "/v1/blocks/{height}/txs"): {"200", "400", "404", "410", "429"},
    ("get", "/v1/txs/{tx_id}/writes"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "410",
        "429",
        "503",
    },
    ("get", "/v1/state/{contract}"): {"200", "400", "401", "403", "429"},
    ("get", "/v1/validators/stats"): {"200", "400", "429"},
    ("get", "/v1/events"): {"200", "400", "401", "403", "410", "429"},
    ("get", "/v1/contracts"): {"200", "429"},
    ("get", "/v1/contracts/{name}"): {"200", "400", "404", "429"},
    ("get", "/v1/contracts/{name}/code"): {"200", "400", "404", "429"},
    ("get", "/v1/proposals"): {"200", "400", "429"},
    ("get", "/v1/proposals/{scope}/{proposal_id}"): {"200", "400", "404", "429"},
    ("get", "/metrics"): {"200"},
}
# answers that are not a JSON model: the genesis file as published, Prometheus' text format
RAW_ANSWERS = {"/v1/genesis": "application/json", "/metrics": "text/plain"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    layout = init_network(tmp_path / "net", orgs=1)
    node = Node(load_config(layout.nodes[0].config))
    try:
        transport = httpx.ASGITransport(app=create_asgi(ReadModel(node)))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as c:
            yield c
    finally:
        node.close()


async def _doc(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_every_route_documents_each_status_it_answers(client: httpx.AsyncClient) -> None:
    doc = await _doc(client)
    documented = {
        (method, path): set(op["responses"])
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    }
    assert documented == ROUTES
    for (method, path), statuses in documented.items():
        responses = doc["paths"][path][method]["responses"]
        for status in statuses:
            content = responses[status]["content"]
            if path in RAW_ANSWERS and status.startswith("2"):  # its refusals are problems
                assert list(content) == [RAW_ANSWERS[path]], (path, status)
            elif status.startswith("2"):
                assert "$ref" in str(content["application/json"]["schema"]), (path, status)
            else:
                assert list(content) == [PROBLEM_MEDIA_TYPE], (path, status)
                assert content[PROBLEM_MEDIA_TYPE]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


async def test_request_bodies_in_both_encodings(client: httpx.AsyncClient) -> None:
    doc = await _doc(client)
    schemas = doc["components"]["schemas"]
    for path, model in (("/v1/txs", "TxJsonBody"), ("/v1/txs/batch", "BatchJsonBody")):
        body = doc["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/msgpack"]["schema"]["format"] == "binary"
        assert body["content"]["application/json"]["schema"]["$ref"].endswith("/" + model)
        assert model in schemas
    assert schemas["BatchJsonBody"]["properties"]["txs"]["maxItems"] == 1000
    query = doc["paths"]["/v1/query"]["post"]["requestBody"]["content"]
    assert list(query) == ["application/json"]
    args = schemas["QueryBody"]["properties"]["args"]
    assert args["items"] == {"$ref": "#/components/schemas/ContractValue"}
    assert "ContractValue" in schemas and "Problem" in schemas


async def test_the_event_streams_messages_are_in_the_components(
    client: httpx.AsyncClient,
) -> None:
    """OpenAPI has no WebSocket operations; the stream's messages are still typed there."""
    schemas = (await _doc(client))["components"]["schemas"]
    for name in ("EventStreamSubscribe", "EventStreamBlock", "EventStreamTx", "EventStreamLive"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["EventStreamSubscribe"]["properties"]["events"]["maxItems"] == 16
    assert "EventItem" in schemas  # a stream's event message is the page's event


async def test_no_framework_validation_answers_remain(client: httpx.AsyncClient) -> None:
    doc = await _doc(client)
    assert "422" not in str(doc["paths"])
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def test_every_referenced_schema_exists(client: httpx.AsyncClient) -> None:
    doc = await _doc(client)
    text = str(doc)
    names = set(re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text))
    assert names and names <= set(doc["components"]["schemas"])


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_interactive_docs_are_served_by_the_node(
    client: httpx.AsyncClient, page: str
) -> None:
    html = (await client.get(page)).text
    urls = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)["']""", html)
    urls += re.findall(r"""url:\s*["']([^"']+)["']""", html)  # Swagger UI's openapi_url
    assets = [u for u in urls if not u.startswith("#")]
    assert assets, html
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url  # this node, no CDN
        response = await client.get(url)
        assert response.status_code == 200 and len(response.content) > 100, url
    assert "cdn" not in html.lower() and "https://" not in html


async def test_method_not_allowed_names_the_allowed_ones(client: httpx.AsyncClient) -> None:
    for method, path, allow in (
        ("DELETE", "/v1/health", "GET"),
        ("PUT", "/v1/txs", "POST"),
        ("GET", "/v1/txs/batch", "POST"),
        ("PATCH", "/v1/blocks/1", "GET"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allow
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["code"] == "method_not_allowed"
