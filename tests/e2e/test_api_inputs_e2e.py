"""Every class of hostile or out-of-range input to the read API, against a real node: each is
answered with an RFC 9457 problem naming the parameter or limit — never a 500, never a body
read past its cap — and the node keeps serving, unchanged."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.harness import RunningNode
from tests.e2e.test_bad_input_e2e import _signed
from yulian.api.limits import MAX_QUERY_BODY

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str
    status: int
    code: str
    body: bytes | None = None
    content_type: str = "application/json"


def _nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _query(args: str) -> bytes:
    return ('{"contract": "evidence", "method": "lookup", "args": ' + args + "}").encode()


CASES = [
    # heights
    Case("a height beyond the chain", "GET", "/v1/blocks/999999", 404, "unknown_block"),
    Case("height 0", "GET", "/v1/blocks/0", 400, "malformed_request"),
    Case("a negative height", "GET", "/v1/blocks/-1", 400, "malformed_request"),
    Case("a height over 63 bits", "GET", f"/v1/blocks/{2**64 - 1}", 400, "malformed_request"),
    Case("a huge height", "GET", f"/v1/blocks/{10**30}", 400, "malformed_request"),
    Case("a height of 5,000 digits", "GET", "/v1/blocks/" + "9" * 5000, 400, "malformed_request"),
    Case("a height that is no number", "GET", "/v1/blocks/twelve", 400, "malformed_request"),
    Case(
        "validators of a huge height",
        "GET",
        f"/v1/validators?height={10**20}",
        400,
        "malformed_request",
    ),
    Case(
        "validators beyond head + 1", "GET", "/v1/validators?height=999999", 404, "unknown_height"
    ),
    Case(
        "the config beyond the head", "GET", "/v1/consortium?height=999999", 404, "unknown_height"
    ),
    Case(
        "the config at a negative height",
        "GET",
        "/v1/consortium?height=-1",
        400,
        "malformed_request",
    ),
    # query limits
    Case(
        "history limit 0", "GET", "/v1/state/evidence/k/history?limit=0", 400, "malformed_request"
    ),
    Case(
        "a negative history limit",
        "GET",
        "/v1/state/evidence/k/history?limit=-5",
        400,
        "malformed_request",
    ),
    Case(
        "a history limit over the maximum",
        "GET",
        "/v1/state/evidence/k/history?limit=1001",
        400,
        "malformed_request",
    ),
    Case(
        "a huge history limit",
        "GET",
        f"/v1/state/evidence/k/history?limit={10**40}",
        400,
        "malformed_request",
    ),
    # keys and ids
    Case(
        "a state key over 500 characters",
        "GET",
        "/v1/state/evidence/" + "k" * 600,
        400,
        "malformed_request",
    ),
    Case(
        "a state key over 500 UTF-8 bytes",
        "GET",
        "/v1/state/evidence/" + "键" * 300,
        400,
        "key_too_long",
    ),
    Case(
        "the history of a key over 500 bytes",
        "GET",
        "/v1/state/evidence/" + "键" * 300 + "/history",
        400,
        "key_too_long",
    ),
    Case("a key with a line break", "GET", "/v1/state/evidence/a%0Ab", 404, "unknown_key"),
    Case("a NUL in a key", "GET", "/v1/state/evidence/a%00b", 400, "malformed_request"),
    Case("a tx id over 64 bytes", "GET", "/v1/txs/" + "ab" * 65, 400, "malformed_id"),
    Case("a tx id of 30,000 characters", "GET", "/v1/txs/" + "ab" * 15_000, 400, "malformed_id"),
    # bodies
    Case(
        "JSON nested 5,000 deep",
        "POST",
        "/v1/query",
        400,
        "malformed_request",
        _query(_nested_list(5000)),
    ),
    Case(
        "an argument nested 900 deep",
        "POST",
        "/v1/query",
        400,
        "bad_args",
        _query("[" + _nested_object(900) + "]"),
    ),
    Case(
        "an argument nested deeper than a tx allows",
        "POST",
        "/v1/query",
        400,
        "bad_args",
        _query("[" + _nested_list(10) + "]"),
    ),
    Case("a float argument", "POST", "/v1/query", 400, "bad_args", _query("[1.5]")),
    Case(
        "an integer over 64 bits",
        "POST",
        "/v1/query",
        400,
        "bad_args",
        _query(f"[{2**70}]"),
    ),
    Case("bad hex in bytes", "POST", "/v1/query", 400, "bad_args", _query('[{"$bytes": "zz"}]')),
    Case(
        "33 arguments",
        "POST",
        "/v1/query",
        400,
        "malformed_request",
        _query("[" + ",".join(["1"] * 33) + "]"),
    ),
    Case(
        "an unknown member",
        "POST",
        "/v1/query",
        400,
        "malformed_request",
        b'{"contract": "evidence", "method": "lookup", "args": [], "x": 1}',
    ),
    Case("a body that is no JSON object", "POST", "/v1/query", 400, "malformed_request", b"[]"),
    Case(
        "a query body over its cap",
        "POST",
        "/v1/query",
        413,
        "body_too_large",
        b" " * (MAX_QUERY_BODY + 1),
    ),
    Case(
        "a query in another media type",
        "POST",
        "/v1/query",
        415,
        "unsupported_media_type",
        _query("[]"),
        "text/plain",
    ),
    Case(
        "a batch with an unknown member",
        "POST",
        "/v1/txs/batch",
        400,
        "malformed_batch",
        b'{"txs": ["AA=="], "more": 1}',
    ),
    Case(
        "a batch nested 5,000 deep",
        "POST",
        "/v1/txs/batch",
        400,
        "malformed_batch",
        ('{"txs": ' + _nested_list(5000) + "}").encode(),
    ),
    Case(
        "a tx with an unknown member",
        "POST",
        "/v1/txs",
        400,
        "malformed_tx",
        b'{"tx": "AA==", "more": 1}',
    ),
    # methods and paths
    Case("an undeclared method", "DELETE", "/v1/health", 405, "method_not_allowed"),
    Case("GET on the batch route", "GET", "/v1/txs/batch", 405, "method_not_allowed"),
    Case("an unknown path", "GET", "/v1/nothing-here", 404, "not_found"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_input_is_refused_with_a_problem(node: RunningNode, case: Case) -> None:
    response = httpx.request(
        case.method,
        node.url + case.path,
        content=case.body,
        headers={"content-type": case.content_type},
        timeout=30,
    )
    assert response.status_code == case.status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == case.code, problem
    assert problem["type"] == f"urn:yulian:problem:{case.code}"
    assert problem["status"] == case.status and problem["detail"]
    if case.status == 405:
        assert response.headers["allow"] in ("GET", "POST")
    health = httpx.get(f"{node.url}/v1/health", timeout=10).json()
    assert health["status"] == "ok" and health["mempool"] == 0


@pytest.mark.parametrize("path", ["/v1/query", "/v1/txs", "/v1/txs/batch"])
def test_a_body_over_its_cap_is_refused_before_it_is_read(node: RunningNode, path: str) -> None:
    """A body that announces 1 GiB and sends 1 KiB: the answer comes from the announced length
    alone (the node never waits for, or buffers, the rest)."""
    address = urlsplit(node.url)
    with socket.create_connection((address.hostname, address.port), timeout=20) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
            f"Content-Length: {1 << 30}\r\n\r\n".encode()
            + b" " * 1024
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/problem+json" in head and str(1 << 30).encode() in body


def test_wait_timeouts_are_clamped(node: RunningNode) -> None:
    wallet = node.client().wallet
    assert wallet is not None
    url = f"{node.url}/v1/txs"
    headers = {"content-type": "application/msgpack"}
    # below 0: no wait at all
    first = _signed(wallet, nonce=31, args=("31" * 32, "t", {}))
    answer = httpx.post(url + "?wait=true&timeout=-5", content=first, headers=headers, timeout=30)
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    # far above the maximum: waits (at most 60 s) and answers once committed
    second = _signed(wallet, nonce=32, args=("32" * 32, "t", {}))
    answer = httpx.post(
        url + "?wait=true&timeout=1e300", content=second, headers=headers, timeout=90
    )
    assert answer.status_code == 200 and answer.json()["receipt"]["status"] == "ok"
    for bad in ("nan", "soon"):
        refused = httpx.post(
            url + f"?wait=true&timeout={bad}", content=second, headers=headers, timeout=30
        )
        assert refused.status_code == 400 and refused.json()["code"] == "malformed_request"


def test_reads_answer_for_real_data(node: RunningNode) -> None:
    """The same routes answer 200 with data when the input is in range."""
    client = node.client()
    digest = "cd" * 32
    committed = client.submit("evidence", "register", [digest, "t", {}])
    key = f"/v1/state/evidence/doc/{digest}"
    value = httpx.get(node.url + key, timeout=10).json()
    assert value["key"] == f"doc/{digest}" and value["value"] is not None
    history = httpx.get(node.url + key + "/history?limit=1000", timeout=10).json()
    assert [v["height"] for v in history["versions"]] == [committed["height"]]
    head = httpx.get(f"{node.url}/v1/blocks/latest", timeout=10).json()["header"]["height"]
    config = httpx.get(f"{node.url}/v1/consortium?height={head}", timeout=10).json()
    assert config["height"] == head and "org1" in config["organisations"]
    genesis_config = httpx.get(f"{node.url}/v1/consortium?height=0", timeout=10).json()
    assert genesis_config["organisations"] == config["organisations"]
    validators = httpx.get(f"{node.url}/v1/validators?height={head + 1}", timeout=10).json()
    assert validators["height"] == head + 1 and validators["validators"]
    answer = httpx.post(
        f"{node.url}/v1/query",
        json={"contract": "evidence", "method": "lookup", "args": [digest]},
        timeout=10,
    ).json()
    assert answer["status"] == "ok" and answer["value"] is not None
    tx = httpx.get(f"{node.url}/v1/txs/{committed['id'].upper()}", timeout=10).json()
    assert tx["status"] == "committed" and tx["id"] == committed["id"]
