"""Introduction: the write side of the API — ``POST /v1/txs`` and ``POST /v1/txs/batch``.

Writes enter only as signed envelopes; admission (``mempool/admission.py``, behind the port)
refuses bad input with a problem and changes nothing. These are the hottest requests of a busy
node, so ``SubmitFastPath`` serves them in front of FastAPI; the documented routes in
``app.py`` call the same handlers and answer the same.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs

import msgpack
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from yulian.api.limits import (
    DEFAULT_WAIT_S,
    MAX_BATCH_BODY,
    MAX_BATCH_TXS,
    MAX_WAIT_S,
    TX_BODY_FACTOR,
    TX_BODY_SLACK,
)
from yulian.api.port import NodePort
from yulian.api.problems import Problem, problem_response
from yulian.api.views import receipt_view
from yulian.mempool.admission import AdmissionError


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def read_body_limited(request: Request, limit: int, code: str = "tx_too_large") -> bytes:
    """The request body, refusing (413 ``code``) anything over ``limit`` bytes before
    buffering it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(code, 413, f"body of {declared} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(code, 413, f"body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("application/json")


def parse_batch(raw: bytes, json_body: bool) -> list[bytes]:
    """The envelopes of a batch body: a msgpack array of bin, or JSON ``{"txs": [base64]}``."""
    too_many = Problem("batch_too_large", 413, f"at most {MAX_BATCH_TXS} txs per batch")
    try:
        if json_body:
            items = _json_member(raw, "txs")
            if not isinstance(items, list):
                raise TypeError
            if len(items) > MAX_BATCH_TXS:
                raise too_many
            datas = [base64.b64decode(t, validate=True) for t in items]
        else:
            datas = msgpack.unpackb(raw, max_array_len=MAX_BATCH_TXS, max_map_len=0, max_str_len=0)
            if not isinstance(datas, list) or not all(type(d) is bytes for d in datas):
                raise TypeError
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        if "exceeds max_array_len" in str(e):
            raise too_many from None
        raise Problem(
            "malformed_batch",
            400,
            'expected a msgpack array of envelopes or JSON {"txs": ["<base64>", ...]}',
        ) from None
    if not datas:
        raise Problem("malformed_batch", 400, "a batch holds at least one tx")
    return datas


def _json_member(raw: bytes, name: str) -> Any:
    """The one member of a JSON object that has exactly that member (``KeyError`` else)."""
    doc = orjson.loads(raw)
    if type(doc) is not dict or len(doc) != 1:
        raise KeyError(name)
    return doc[name]


_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


def submit_params(query: bytes) -> tuple[bool, float]:
    """``wait`` and ``timeout`` of ``POST /v1/txs``: a boolean, and seconds clamped to
    0..``MAX_WAIT_S`` (a number that is not finite is refused)."""
    params = parse_qs(query.decode("latin-1"), keep_blank_values=True)
    wait, timeout = False, DEFAULT_WAIT_S
    if "wait" in params:
        text = params["wait"][-1].lower()
        if text not in _TRUE | _FALSE:
            raise Problem("malformed_request", 400, "wait must be a boolean")
        wait = text in _TRUE
    if "timeout" in params:
        try:
            timeout = float(params["timeout"][-1])
        except ValueError:
            raise Problem("malformed_request", 400, "timeout must be a number") from None
        if timeout != timeout:  # NaN
            raise Problem("malformed_request", 400, "timeout must be a number")
        timeout = min(max(timeout, 0.0), MAX_WAIT_S)
    return wait, timeout


class SubmitHandlers:
    """The two write endpoints over the node's port."""

    def __init__(self, port: NodePort) -> None:
        self.port = port

    async def submit(self, request: Request, wait: bool, timeout: float) -> Response:
        port = self.port
        raw = await read_body_limited(request, port.max_tx_bytes() * TX_BODY_FACTOR + TX_BODY_SLACK)
        if is_json(request):
            try:
                data = base64.b64decode(_json_member(raw, "tx"), validate=True)
            except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error, ValueError):
                raise Problem(
                    "malformed_tx", 400, 'expected JSON {"tx": "<base64 envelope>"}'
                ) from None
        else:
            data = raw
        tx_id = await port.submit(data)
        body: dict[str, Any] = {"id": tx_id.hex(), "status": "pending"}
        if not wait:
            return json_response(body, 202)
        status = await port.wait_committed(tx_id, timeout)
        body["status"] = status.status
        if status.status == "committed":
            receipt = port.receipt(status.height, status.index)
            assert receipt is not None
            body.update(height=status.height, index=status.index, receipt=receipt_view(receipt))
            return json_response(body, 200)
        return json_response(body, 202)

    async def submit_batch(self, request: Request) -> Response:
        raw = await read_body_limited(request, MAX_BATCH_BODY, "batch_too_large")
        datas = parse_batch(raw, is_json(request))
        results = await self.port.submit_many(datas)
        items: list[dict[str, Any]] = []
        accepted = 0
        for r in results:
            if isinstance(r, AdmissionError):
                items.append(
                    {
                        "status": "refused",
                        "code": r.code,
                        "http_status": r.status,
                        "detail": r.detail,
                    }
                )
            else:
                items.append({"id": r.hex(), "status": "pending"})
                accepted += 1
        return json_response(
            {"accepted": accepted, "refused": len(results) - accepted, "results": items}
        )


class SubmitFastPath:
    """``POST /v1/txs`` and ``/v1/txs/batch`` straight to their handlers, in front of all of
    FastAPI (its middleware, routing, dependency solving): the hottest requests of a busy node
    (a quarter of its CPU went to the framework under load). Same parameters, answers and
    problem details as the documented routes, which stay in the OpenAPI schema and answer the
    same when called through FastAPI; every other request goes to FastAPI."""

    def __init__(self, app: ASGIApp, handlers: SubmitHandlers) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            if scope["type"] == "http" and scope["path"] == "/v1/txs/batch":
                # FastAPI would route it to GET /v1/txs/{tx_id} and refuse the id "batch"
                allow = {"Allow": "POST"}
                response = problem_response("method_not_allowed", 405, "only POST", allow)
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        try:
            if path == "/v1/txs":
                wait, timeout = submit_params(scope.get("query_string", b""))
                response = await self.handlers.submit(Request(scope, receive), wait, timeout)
            elif path == "/v1/txs/batch":
                response = await self.handlers.submit_batch(Request(scope, receive))
            else:
                await self.app(scope, receive, send)
                return
        except Problem as e:
            response = problem_response(e.code, e.status, e.detail)
        except AdmissionError as e:
            response = problem_response(e.code, e.status, e.detail)
        await response(scope, receive, send)
