"""Introduction: the REST API of a node (FastAPI; JSON through orjson).

Writes enter only through ``POST /v1/txs`` as signed envelopes; admission refuses bad input
with an RFC 9457 problem and changes nothing. Reads serve committed data from the ledger, and
``GET /v1/txs/{id}`` returns a proof bundle that the client can verify offline.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import msgpack
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from yulian import __version__
from yulian.api.archived import not_held
from yulian.api.problems import Problem, problem_response
from yulian.api.views import block_view, commit_view, header_view, receipt_view
from yulian.execution.system.consortium import config_view
from yulian.explorer import mount as mount_explorer
from yulian.ledger import Pruned
from yulian.mempool.admission import AdmissionError
from yulian.sdk.jsonvalue import from_json, to_json
from yulian.sdk.verify import VerificationError, verify_bundle
from yulian.types.commit import CommitCertificate
from yulian.types.encoding import decode

if TYPE_CHECKING:
    from yulian.node.node import Node

MAX_WAIT_S = 60.0
MAX_BATCH_TXS = 1000
MAX_BATCH_BODY = 8 * 1024 * 1024
MAX_HISTORY = 1000
MAX_QUERY_BODY = 64 * 1024


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class QueryBody(BaseModel):
    contract: str = Field(max_length=64)
    method: str = Field(max_length=64)
    args: list[Any] = Field(default_factory=list, max_length=32)


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


def parse_batch(raw: bytes, json_body: bool) -> list[bytes]:
    """The envelopes of a batch body: a msgpack array of bin, or JSON ``{"txs": [base64]}``."""
    too_many = Problem("batch_too_large", 413, f"at most {MAX_BATCH_TXS} txs per batch")
    try:
        if json_body:
            items = orjson.loads(raw)["txs"]
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


def parse_tx_id(text: str) -> bytes:
    try:
        tx_id = bytes.fromhex(text)
    except ValueError:
        raise Problem("malformed_id", 400, "a tx id is hex") from None
    if not 16 <= len(tx_id) <= 64:
        raise Problem("malformed_id", 400, "a tx id is 16..64 bytes")
    return tx_id


class SubmitFastPath:
    """``POST /v1/txs`` and ``/v1/txs/batch`` straight to their handlers, in front of all of
    FastAPI (its middleware, routing, dependency solving): the hottest requests of a busy node
    (a quarter of its CPU went to the framework under load). Same parameters, answers and
    problem details as the documented routes, which stay in the OpenAPI schema and answer the
    same when called through FastAPI; every other request goes to FastAPI."""

    def __init__(
        self,
        app: ASGIApp,
        submit: Callable[[Request, bool, float], Awaitable[Response]],
        submit_batch: Callable[[Request], Awaitable[Response]],
    ) -> None:
        self.app = app
        self.submit = submit
        self.submit_batch = submit_batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        try:
            if path == "/v1/txs":
                wait, timeout = _submit_params(scope.get("query_string", b""))
                response = await self.submit(Request(scope, receive), wait, timeout)
            elif path == "/v1/txs/batch":
                response = await self.submit_batch(Request(scope, receive))
            else:
                await self.app(scope, receive, send)
                return
        except Problem as e:
            response = problem_response(e.code, e.status, e.detail)
        except AdmissionError as e:
            response = problem_response(e.code, e.status, e.detail)
        await response(scope, receive, send)


_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


def _submit_params(query: bytes) -> tuple[bool, float]:
    """``wait`` and ``timeout`` as FastAPI would parse them for the route."""
    params = parse_qs(query.decode("latin-1"), keep_blank_values=True)
    wait, timeout = False, 10.0
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
    return wait, timeout


def create_asgi(node: Node) -> SubmitFastPath:
    """The node's whole HTTP application: the submit fast path in front of FastAPI."""
    app = create_app(node)
    return SubmitFastPath(app, app.state.submit, app.state.submit_batch)


def create_app(node: Node) -> FastAPI:
    app = FastAPI(
        title="Yulian node API",
        version=__version__,
        description="REST API of a Yulian (渝链) consortium-chain node. Errors are RFC 9457 "
        "problem details with a stable `code`.",
    )

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> Response:
        return problem_response(exc.code, exc.status, exc.detail, exc.extra)

    @app.exception_handler(Pruned)
    async def _pruned(_: Request, exc: Pruned) -> Response:
        problem = not_held(node.ledger, exc.height, "what was asked for")
        return problem_response(problem.code, problem.status, problem.detail, problem.extra)

    @app.exception_handler(AdmissionError)
    async def _admission(_: Request, exc: AdmissionError) -> Response:
        return problem_response(exc.code, exc.status, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return problem_response("malformed_request", 400, str(exc.errors())[:500])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(code, exc.status_code, str(exc.detail))

    @app.post(
        "/v1/txs",
        summary="Submit a signed transaction",
        description="Body: the msgpack envelope (`application/msgpack`) or JSON "
        '`{"tx": "<base64 envelope>"}`. With `wait=true` the answer comes once the tx '
        "is committed (or `timeout` seconds pass).",
    )
    async def submit_tx(request: Request, wait: bool = False, timeout: float = 10.0) -> Response:
        return await submit(request, wait, timeout)

    async def submit(request: Request, wait: bool, timeout: float) -> Response:
        limit = node.params.max_tx_bytes
        raw = await read_body_limited(request, limit * 2 + 64)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                doc = orjson.loads(raw)
                data = base64.b64decode(doc["tx"], validate=True)
            except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error, ValueError):
                raise Problem(
                    "malformed_tx", 400, 'expected JSON {"tx": "<base64 envelope>"}'
                ) from None
        else:
            data = raw
        tx = await node.submit_one(data)
        body: dict[str, Any] = {"id": tx.tx_id.hex(), "status": "pending"}
        if not wait:
            return json_response(body, 202)
        status = await node.wait_committed(tx.tx_id, min(max(timeout, 0.0), MAX_WAIT_S))
        body["status"] = status.status
        if status.status == "committed":
            receipt = node.receipt(status.height, status.index)
            assert receipt is not None
            body.update(height=status.height, index=status.index, receipt=receipt_view(receipt))
            return json_response(body, 200)
        return json_response(body, 202)

    @app.post(
        "/v1/txs/batch",
        summary="Submit up to 1,000 signed transactions at once",
        description="Body: a msgpack array of envelopes (`application/msgpack`) or JSON "
        '`{"txs": ["<base64 envelope>", ...]}`. Each tx is admitted on its own, in order: the '
        "answer lists, per tx, `pending` with its id or `refused` with the problem code a "
        "single submit would have got. The batch itself is refused (400/413) only when its body "
        "cannot be read.",
    )
    async def submit_tx_batch(request: Request) -> Response:
        return await submit_batch(request)

    async def submit_batch(request: Request) -> Response:
        raw = await read_body_limited(request, MAX_BATCH_BODY, "batch_too_large")
        json_body = request.headers.get("content-type", "").startswith("application/json")
        datas = parse_batch(raw, json_body)
        results = await node.submit_many(datas)
        items: list[dict[str, Any]] = []
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
                items.append({"id": r.tx_id.hex(), "status": "pending"})
        accepted = sum(1 for r in results if not isinstance(r, AdmissionError))
        return json_response(
            {"accepted": accepted, "refused": len(results) - accepted, "results": items}
        )

    app.state.submit = submit
    app.state.submit_batch = submit_batch

    @app.get("/v1/txs/{tx_id}", summary="Status, receipt and offline-verifiable proof of a tx")
    async def get_tx(tx_id: str) -> Response:
        ident = parse_tx_id(tx_id)
        status = node.tx_status(ident)
        if status.status == "unknown":
            raise Problem("unknown_tx", 404, f"no tx {tx_id}")
        if status.status == "pending":
            return json_response({"id": tx_id, "status": "pending"})
        for height in (status.height, status.height - 1):  # the block and its parent's header
            if height >= 1 and node.ledger.block(height) is None:
                raise not_held(node.ledger, height, f"the proof of tx {tx_id}")
        bundle = node.proof(ident)
        assert bundle is not None
        try:
            verified = verify_bundle(bundle, node.genesis)
        except VerificationError as e:  # never serve a proof that does not verify
            raise Problem("internal_proof_error", 500, str(e)) from None
        return json_response(
            {
                "id": tx_id,
                "status": "committed",
                "height": status.height,
                "index": status.index,
                "receipt": receipt_view(verified.receipt),
                "events": receipt_view(verified.receipt)["events"],
                "header": header_view(verified.header, node.suite.hash(bundle.header)),
                "commit": commit_view(verified.commit),
                "proof": bundle.to_json(),
                "summary": verified.summary,
            }
        )

    def _block(height: int) -> Response:
        block = node.block(height)
        if block is None and height < node.ledger.floor():
            raise not_held(node.ledger, height, "the block")
        if block is None:
            raise Problem("unknown_block", 404, f"no block at height {height}")
        commit_bytes = node.ledger.commit(height)
        commit = CommitCertificate.decode(commit_bytes) if commit_bytes else None
        tx_ids = node.block_tx_ids(height, block)
        block_hash = node.ledger.block_hash(height) or b""
        return json_response(block_view(block, block_hash, tx_ids, commit))

    @app.get("/v1/blocks/latest", summary="The latest committed block")
    async def latest_block() -> Response:
        if node.tip.height == 0:
            raise Problem("unknown_block", 404, "no block has been committed yet")
        return _block(node.tip.height)

    @app.get("/v1/blocks/{height}", summary="A committed block by height")
    async def get_block(height: int) -> Response:
        if height < 1:
            raise Problem("unknown_block", 404, "heights start at 1")
        return _block(height)

    @app.get("/v1/state/{contract}/{key:path}/history", summary="Version history of a key")
    async def state_history(contract: str, key: str, limit: int = 100) -> Response:
        limit = max(1, min(limit, MAX_HISTORY))
        versions = node.state_history(contract, key, limit)
        return json_response(
            {
                "contract": contract,
                "key": key,
                "versions": [
                    {
                        "height": h,
                        "deleted": v is None,
                        "value": to_json(decode(v)) if v is not None else None,
                    }
                    for h, v in versions
                ],
            }
        )

    @app.get("/v1/state/{contract}/{key:path}", summary="Current value of a key")
    async def state_get(contract: str, key: str) -> Response:
        value = node.state_get(contract, key)
        if value is None:
            raise Problem("unknown_key", 404, f"{contract}/{key} has no value")
        return json_response(
            {
                "contract": contract,
                "key": key,
                "height": node.tip.height,
                "value": to_json(decode(value)),
            }
        )

    @app.post("/v1/query", summary="Read-only contract call on the committed state")
    async def query(body: QueryBody) -> Response:
        try:
            args = from_json(body.args)
        except ValueError as e:
            raise Problem("bad_args", 400, str(e)) from None
        receipt = node.query(body.contract, body.method, args)
        if receipt.status == "unknown_contract":
            raise Problem("unknown_contract", 404, receipt.message)
        return json_response(
            {
                "height": node.tip.height,
                "status": receipt.status,
                "message": receipt.message,
                "value": to_json(receipt.value),
                "steps": receipt.steps,
            }
        )

    @app.get("/v1/consortium", summary="The consortium config in force after the head block")
    async def consortium() -> Response:
        return json_response(
            {"height": node.tip.height, **config_view(node.replica.consortium, node.tip.height)}
        )

    @app.get("/v1/validators", summary="The validator set that signs a height")
    async def validators(height: int | None = None) -> Response:
        """Without ``height``: the next block's. A height up to head + 1 is known (the set of
        a height is decided by the state after the block before it)."""
        target = node.tip.height + 1 if height is None else height
        if not 1 <= target <= node.tip.height + 1:
            raise Problem("unknown_height", 404, f"heights 1..{node.tip.height + 1} are known")
        config = node.config_at(target - 1)
        return json_response(
            {
                "height": target,
                "validators": [
                    {
                        "name": v.name,
                        "org": v.org,
                        "public_key": v.public_key.hex(),
                        "power": v.power,
                        "address": v.address,
                    }
                    for v in config.validators_at(target)
                ],
            }
        )

    @app.get("/v1/health", summary="Liveness and chain head")
    async def health() -> Response:
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "node": node.config.name,
                "org": node.config.org,
                "chain_id": node.chain_id,
                "genesis_hash": node.replica.genesis_hash.hex(),
                "suite": node.suite.name,
                "height": node.tip.height,
                "last_block_time_ms": node.tip.time_ms,
                "round": node.replica.round,
                "peers": node.peers.connected() if node.peers is not None else [],
                "mempool": len(node.mempool),
                "validators": [v.name for v in node.replica.validators.validators],
                "contracts": node.contract_names(),
            }
        )

    mount_explorer(app, genesis=node.genesis)
    return app
