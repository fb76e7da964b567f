"""Introduction: the REST API of a node (FastAPI; JSON through orjson), over the port.

Everything the API knows of the node is ``NodePort`` (``port.py``). Writes enter only through
``POST /v1/txs`` and ``/v1/txs/batch`` (``submit.py``). Reads serve committed data;
``GET /v1/txs/{id}`` returns a proof bundle the client can verify offline. This module holds
the core routes; the explorer's lists are in ``reads.py``, contracts and proposals in
``governance.py``, the event index's page in ``events.py``, the WebSocket event stream in
``stream.py`` and ``/metrics`` in ``metrics.py``.

Callers may sign their requests with a member's certificate (``auth.py``, decision 0078);
contract state and queries follow each contract's read policy, private values their own
routes (``private.py``), and every read route spends the caller's rate limit.

Every request is answered: with its data, or with an RFC 9457 problem (``problems.py``) — a
refused input is a 400-class problem naming the parameter and the limit (``limits.py``), never
a 500, and no input makes the node do work beyond those limits. The interactive docs
(``/docs``, ``/redoc``) load their assets from this node (the ``fastapi-offline`` package), so
they work on an air-gapped network.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Path, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from yulian import __version__
from yulian.api import events as event_routes
from yulian.api import governance as governance_routes
from yulian.api import metrics as metrics_routes
from yulian.api import reads as read_routes
from yulian.api.archived import floor_of, not_held_problem, pruned_problem
from yulian.api.auth import ApiOptions, Authenticator, ReadGuard
from yulian.api.limits import (
    DEFAULT_HISTORY,
    DEFAULT_WAIT_S,
    MAX_BATCH_TXS,
    MAX_HEIGHT,
    MAX_HISTORY,
    MAX_NAME_LEN,
    MAX_QUERY_BODY,
    MAX_STATE_KEY_BYTES,
    MAX_WAIT_S,
)
from yulian.api.openapi import answers, envelope_body, install_openapi, json_body
from yulian.api.port import NodePort
from yulian.api.private import PrivatePort, install_private_api
from yulian.api.private_schemas import document_privacy
from yulian.api.problems import Problem, problem_response
from yulian.api.schemas import (
    BatchJsonBody,
    BatchSubmitted,
    BlockView,
    ConsortiumView,
    Health,
    QueryBody,
    QueryResult,
    StateHistory,
    StateValue,
    TxCommitted,
    TxJsonBody,
    TxPending,
    TxSubmitted,
    ValidatorsView,
)
from yulian.api.stream import StreamHub
from yulian.api.submit import (
    SubmitFastPath,
    SubmitHandlers,
    is_json,
    json_response,
    read_body_limited,
    submit_params,
)
from yulian.api.views import block_view, commit_view, header_view, receipt_view
from yulian.execution.system.consortium import config_view
from yulian.explorer import mount as mount_explorer
from yulian.ledger import Pruned
from yulian.ledger.validate import LedgerUnavailable
from yulian.mempool.admission import AdmissionError
from yulian.types.encoding import decode, encode
from yulian.types.jsonvalue import from_json, to_json
from yulian.types.tx import TX_LIMITS

__all__ = ["MAX_BATCH_TXS", "create_app", "create_asgi"]

log = logging.getLogger("yulian.api")

TX_ID = r"^(?:[0-9a-fA-F]{2}){16,64}$"
NO_NUL = r"^[^\u0000]+$"
NO_NUL_OR_SLASH = r"^[^\u0000/]+$"
#: Problem codes of refused parameters that have their own (default: ``malformed_request``).
PARAMETER_CODES = {"tx_id": "malformed_id"}
ADMISSION_CODES = (
    (
        400,
        "malformed_tx, malformed_request, malformed_certificate, wrong_chain, tx_expired, "
        "tx_ttl_too_long",
    ),
    (401, "bad_signature"),
    (
        403,
        "unknown_ca, organisation_mismatch, certificate_expired, certificate_not_yet_valid, "
        "certificate_revoked, role_not_allowed",
    ),
    (404, "unknown_contract"),
    (409, "duplicate_tx"),
    (413, "tx_too_large"),
    (503, "mempool_full"),
)


class StateKeyConvertor(PathConvertor):
    """A state key in a URL path: any characters, ``/`` and line breaks included (Starlette's
    ``path`` convertor stops at a line break, so such a key would be unreachable)."""

    regex = r"[\s\S]+"


register_url_convertor("statekey", StateKeyConvertor())


def create_asgi(
    port: NodePort, private: PrivatePort | None = None, options: ApiOptions | None = None
) -> SubmitFastPath:
    """The node's whole HTTP application: the submit fast path in front of FastAPI."""
    handlers = SubmitHandlers(port)
    return SubmitFastPath(create_app(port, handlers, private=private, options=options), handlers)


def create_app(
    port: NodePort,
    handlers: SubmitHandlers | None = None,
    *,
    private: PrivatePort | None = None,
    options: ApiOptions | None = None,
) -> FastAPI:
    submitting = handlers if handlers is not None else SubmitHandlers(port)
    auth = Authenticator(port, options or ApiOptions())
    guard = ReadGuard(port)
    app = FastAPIOffline(
        title="Yulian node API",
        version=__version__,
        description="REST API of a Yulian (渝链) consortium-chain node. Errors are RFC 9457 "
        "problem details (`application/problem+json`) with a stable `code`; see docs/api.md.",
    )
    install_openapi(app)
    document_privacy(app)
    _install_problem_handlers(app)

    @app.exception_handler(Pruned)
    async def _pruned(_: Request, exc: Pruned) -> Response:
        problem = pruned_problem(port, exc)
        return problem_response(problem.code, problem.status, problem.detail, extra=problem.extra)

    @app.post(
        "/v1/txs",
        summary="Submit a signed transaction",
        description="Body: the msgpack envelope (`application/msgpack`) or JSON "
        '`{"tx": "<base64 envelope>"}`. With `wait=true` the answer comes once the tx '
        f"is committed (200) or after `timeout` seconds (202; clamped to 0..{MAX_WAIT_S:g}).",
        status_code=202,
        response_model=None,
        responses=answers(TxSubmitted, *ADMISSION_CODES, ok_status=202)
        | {200: {"model": TxSubmitted, "description": "committed (wait=true)"}},
        openapi_extra=envelope_body(TxJsonBody, "one signed envelope"),
    )
    async def submit_tx(
        request: Request,
        wait: bool = Query(False, description="answer once committed"),
        timeout: float = Query(DEFAULT_WAIT_S, description=f"seconds, 0..{MAX_WAIT_S:g}"),
    ) -> Response:
        wait, timeout = submit_params(request.scope.get("query_string", b""))
        return await submitting.submit(request, wait, timeout)

    @app.post(
        "/v1/txs/batch",
        summary=f"Submit up to {MAX_BATCH_TXS:,} signed transactions at once",
        description="Body: a msgpack array of envelopes (`application/msgpack`) or JSON "
        '`{"txs": ["<base64 envelope>", ...]}`. Each tx is admitted on its own, in order: the '
        "answer lists, per tx, `pending` with its id or `refused` with the problem code a "
        "single submit would have got. The batch itself is refused (400/413) only when its body "
        "cannot be read.",
        response_model=None,
        responses=answers(BatchSubmitted, (400, "malformed_batch"), (413, "batch_too_large")),
        openapi_extra=envelope_body(BatchJsonBody, "signed envelopes"),
    )
    async def submit_tx_batch(request: Request) -> Response:
        return await submitting.submit_batch(request)

    @app.get(
        "/v1/txs/{tx_id}",
        summary="Status, receipt and offline-verifiable proof of a tx",
        response_model=None,
        responses=answers(
            TxPending | TxCommitted,
            (400, "malformed_id"),
            (404, "unknown_tx"),
            (410, "archived, not_held"),
        ),
    )
    async def get_tx(
        request: Request,
        tx_id: str = Path(pattern=TX_ID, description="hex, 16..64 bytes"),
    ) -> Response:
        auth.caller(request)
        ident = bytes.fromhex(tx_id)
        status = port.tx_status(ident)
        if status.status == "pending":
            return json_response({"id": ident.hex(), "status": "pending"})
        proven = port.proven_tx(ident) if status.status == "committed" else None
        if proven is None and status.status == "committed":
            for height in (status.height, status.height - 1):  # its block, its parent's header
                gone = port.not_held(height)
                if gone is not None:
                    raise not_held_problem(gone, f"the proof of tx {ident.hex()}")
        if proven is None:
            raise Problem("unknown_tx", 404, f"no tx {ident.hex()}")
        receipt = receipt_view(proven.receipt)
        return json_response(
            {
                "id": ident.hex(),
                "status": "committed",
                "height": proven.height,
                "index": proven.index,
                "receipt": receipt,
                "events": receipt["events"],
                "header": header_view(proven.header, proven.block_hash),
                "commit": commit_view(proven.commit),
                "proof": proven.bundle.to_json(),
                "summary": proven.summary,
            }
        )

    def _block(height: int) -> Response:
        record = port.block(height)
        gone = port.not_held(height) if record is None else None
        if gone is not None:
            raise not_held_problem(gone, "the block")
        if record is None:
            raise Problem("unknown_block", 404, f"no block at height {height}")
        return json_response(
            block_view(record.header, record.block_hash, record.tx_ids, record.commit)
        )

    @app.get(
        "/v1/blocks/latest",
        summary="The latest committed block",
        response_model=None,
        responses=answers(BlockView, (404, "unknown_block")),
    )
    async def latest_block(request: Request) -> Response:
        auth.caller(request)
        height = port.head().height
        if height == 0:
            raise Problem("unknown_block", 404, "no block has been committed yet")
        return _block(height)

    @app.get(
        "/v1/blocks/{height}",
        summary="A committed block by height",
        response_model=None,
        responses=answers(
            BlockView,
            (400, "malformed_request"),
            (404, "unknown_block"),
            (410, "archived, not_held"),
        ),
    )
    async def get_block(request: Request, height: int = Path(ge=1, le=MAX_HEIGHT)) -> Response:
        auth.caller(request)
        return _block(height)

    contract_param = Path(min_length=1, max_length=MAX_NAME_LEN, pattern=NO_NUL_OR_SLASH)
    key_param = Path(
        min_length=1,
        max_length=MAX_STATE_KEY_BYTES,
        pattern=NO_NUL,
        description=f"contract name, NUL and key together at most {MAX_STATE_KEY_BYTES} "
        "UTF-8 bytes",
    )

    @app.get(
        "/v1/state/{contract}/{key:statekey}/history",
        summary="Version history of a key, newest first",
        description="On a node whose floor is above 1 (pruned, or started from a snapshot) "
        "older versions may be gone: `complete` is false when the list reaches below `floor` "
        "(versions older than its last may exist that this node does not hold; a node that "
        "holds the whole chain has them).",
        response_model=None,
        responses=answers(StateHistory, (400, "malformed_request, key_too_long")),
    )
    async def state_history(
        request: Request,
        contract: str = contract_param,
        key: str = key_param,
        limit: int = Query(DEFAULT_HISTORY, ge=1, le=MAX_HISTORY),
    ) -> Response:
        _check_state_key(contract, key)
        guard.require(auth.caller(request), contract)
        versions = port.state_history(contract, key, limit)
        floor = floor_of(port)
        # below the floor the pruning kept only the versions a read from the floor needs
        reaches_below = floor > 1 and bool(versions) and versions[-1][0] < floor
        return json_response(
            {
                "contract": contract,
                "key": key,
                "floor": floor,
                "complete": not reaches_below,
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

    @app.get(
        "/v1/state/{contract}/{key:statekey}",
        summary="Current value of a key",
        response_model=None,
        responses=answers(
            StateValue, (400, "malformed_request, key_too_long"), (404, "unknown_key")
        ),
    )
    async def state_get(
        request: Request, contract: str = contract_param, key: str = key_param
    ) -> Response:
        _check_state_key(contract, key)
        guard.require(auth.caller(request), contract)
        height = port.head().height
        value = port.state_get(contract, key)
        if value is None:
            raise Problem("unknown_key", 404, f"{contract}/{key} has no value")
        return json_response(
            {"contract": contract, "key": key, "height": height, "value": to_json(decode(value))}
        )

    @app.post(
        "/v1/query",
        summary="Read-only contract call on the committed state",
        description=f"Body: JSON, at most {MAX_QUERY_BODY:,} bytes; `args` as a tx's would be "
        '(bytes as `{"$bytes": "<hex>"}`). The call is metered like a tx; writes are discarded.',
        response_model=None,
        responses=answers(
            QueryResult,
            (400, "malformed_request, bad_args"),
            (404, "unknown_contract"),
            (413, "body_too_large"),
            (415, "unsupported_media_type"),
        ),
        openapi_extra=json_body(QueryBody),
    )
    async def query(request: Request) -> Response:
        body, raw = await _query_body(request)
        caller = auth.caller(request, raw)
        guard.require_query(caller, body.contract)
        args = _query_args(body.args)
        height = port.head().height
        receipt = port.query(body.contract, body.method, args, caller.sender)
        if receipt.status == "unknown_contract":
            raise Problem("unknown_contract", 404, receipt.message)
        return json_response(
            {
                "height": height,
                "status": receipt.status,
                "message": receipt.message,
                "value": to_json(receipt.value),
                "steps": receipt.steps,
            }
        )

    @app.get(
        "/v1/consortium",
        summary="The consortium config after a block (default: the head block)",
        response_model=None,
        responses=answers(ConsortiumView, (400, "malformed_request"), (404, "unknown_height")),
    )
    async def consortium(
        request: Request, height: int | None = Query(None, ge=0, le=MAX_HEIGHT)
    ) -> Response:
        auth.caller(request)
        head = port.head().height
        at = head if height is None else height
        if at > head:
            raise Problem("unknown_height", 404, f"heights 0..{head} are committed")
        return json_response({"height": at, **config_view(port.config_at(at), at)})

    @app.get(
        "/v1/validators",
        summary="The validator set that signs a height",
        description="Without `height`: the next block's. Heights up to head + 1 are known (the "
        "set of a height is decided by the state after the block before it).",
        response_model=None,
        responses=answers(ValidatorsView, (400, "malformed_request"), (404, "unknown_height")),
    )
    async def validators(
        request: Request, height: int | None = Query(None, ge=1, le=MAX_HEIGHT)
    ) -> Response:
        auth.caller(request)
        head = port.head().height
        target = head + 1 if height is None else height
        if target > head + 1:
            raise Problem("unknown_height", 404, f"heights 1..{head + 1} are known")
        view = config_view(port.config_at(target - 1), target - 1)  # signers of target
        return json_response({"height": target, "validators": view["validators"]})

    @app.get(
        "/v1/health",
        summary="Liveness, identity and chain head",
        response_model=None,
        responses=answers(Health),
    )
    async def health() -> Response:
        h = port.health()
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "node": h.node,
                "org": h.org,
                "chain_id": h.chain_id,
                "genesis_hash": h.genesis_hash.hex(),
                "suite": h.suite,
                "height": h.height,
                "last_block_time_ms": h.last_block_time_ms,
                "round": h.round,
                "peers": list(h.peers),
                "mempool": h.mempool,
                "validators": list(h.validators),
                "contracts": list(h.contracts),
            }
        )

    install_private_api(app, port, private, auth)
    hub = StreamHub(port, auth, guard)
    app.state.stream_hub = hub

    @app.websocket("/v1/events/stream")
    async def event_stream(websocket: WebSocket) -> None:
        await hub.serve(websocket)

    for routes in (
        read_routes.router(port, auth, guard),
        event_routes.router(port, auth, guard),
        governance_routes.router(port, auth),
        metrics_routes.router(port, hub),
    ):
        app.include_router(routes)
    mount_explorer(app, genesis=port.genesis)
    return app


def _check_state_key(contract: str, key: str) -> None:
    size = len(contract.encode("utf-8")) + 1 + len(key.encode("utf-8"))
    if size > MAX_STATE_KEY_BYTES:
        raise Problem(
            "key_too_long",
            400,
            f"contract, NUL and key are {size} UTF-8 bytes; at most {MAX_STATE_KEY_BYTES}",
        )


async def _query_body(request: Request) -> tuple[QueryBody, bytes]:
    if not is_json(request):
        raise Problem("unsupported_media_type", 415, "a query body is application/json")
    raw = await read_body_limited(request, MAX_QUERY_BODY, "body_too_large")
    try:
        return QueryBody.model_validate(orjson.loads(raw)), raw
    except orjson.JSONDecodeError as e:
        raise Problem("malformed_request", 400, f"the body is not JSON: {e}") from None
    except ValidationError as e:
        raise Problem("malformed_request", 400, _describe(e.errors())) from None


def _query_args(raw: list[Any]) -> tuple[Any, ...]:
    """Query args as a tx would carry them: the same value model and the same limits."""
    try:
        args = tuple(from_json(raw))
        decode(encode((args,)), TX_LIMITS)
    except ValueError as e:
        raise Problem("bad_args", 400, str(e)) from None
    return args


def _describe(errors: Any) -> str:
    """A validation error list as one line: where, and what is wrong."""
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)[:500]


def _install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> Response:
        return problem_response(
            exc.code, exc.status, exc.detail, getattr(exc, "headers", None), extra=exc.extra
        )

    @app.exception_handler(AdmissionError)
    async def _admission(_: Request, exc: AdmissionError) -> Response:
        return problem_response(exc.code, exc.status, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        where = errors[0].get("loc", ("",))[-1] if errors else ""
        code = PARAMETER_CODES.get(str(where), "malformed_request")
        return problem_response(code, 400, _describe(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(code, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(LedgerUnavailable)
    async def _ledger_unavailable(_: Request, exc: LedgerUnavailable) -> Response:
        # the database is restarting or unreachable: the node itself is fine, retry later
        return problem_response("ledger_unavailable", 503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem_response("internal_error", 500, f"{type(exc).__name__} (see the node log)")
