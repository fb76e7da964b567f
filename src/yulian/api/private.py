"""Introduction: the private-data routes — writes with their values, reads that leave a record.

- ``POST /v1/private/txs``: a signed tx and the private values it commits to (their salted
  digests are among its arguments). A member node keeps them pending, admits the tx and
  pushes the values to the other member organisations' nodes (decision 0081).
- ``POST /v1/private/reads``: a signed ``access.read`` tx. The node checks, in order, that it
  decodes and is a read, that its signature and signer are valid, that the value may travel
  here (TLS or loopback), that the read rule allows it now (``access.check`` as the signer),
  and that this node holds that version — only then admits the tx, waits for its commit and
  answers with the value, the salt and the access record (decision 0076). A refusal on the
  way reaches no chain and changes nothing.
- ``GET /v1/private/reads/{id}``: the same read again, for the identity that holds access
  record ``id``, until the record's ``valid_until`` (a signed request).
- ``GET /v1/private/status``: what this node holds (counts, never values), for members.

The node side is ``PrivatePort`` (``yulian.privacy.service.PrivateDataService``).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any, Protocol, TypeVar

import orjson
from fastapi import FastAPI, Path, Query, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from yulian.api.auth import MEMBER_ROLES, Authenticator, Caller
from yulian.api.limits import DEFAULT_WAIT_S, MAX_WAIT_S
from yulian.api.openapi import answers, json_body
from yulian.api.port import NodePort
from yulian.api.private_schemas import (
    PrivateReadBody,
    PrivateReadDone,
    PrivateStatus,
    PrivateTxBody,
)
from yulian.api.problems import Problem
from yulian.api.schemas import TxPending, TxSubmitted
from yulian.api.submit import json_response, read_body_limited
from yulian.api.views import receipt_view
from yulian.crypto.membership import MembershipError
from yulian.execution.system.access import ACCESS_CONTRACT
from yulian.privacy.service import Holding, PrivateDataRefused
from yulian.privacy.store import PrivateItem
from yulian.types.access import AccessRecord
from yulian.types.encoding import DecodeError
from yulian.types.privacy import SALT_BYTES
from yulian.types.tx import SignedTx, tx_sign_bytes

MAX_PRIVATE_BODY = 4 * 1024 * 1024  # JSON: base64 values of up to 1 MiB each, and the tx
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
READ_CODES = (
    (400, "malformed_tx, malformed_request, not_a_read"),
    (401, "bad_signature, malformed_auth, stale_request, replayed_request"),
    (403, "read_refused, tls_required, unknown_ca, certificate_revoked, certificate_expired"),
    (409, "not_held, purged"),
    (413, "body_too_large"),
    (503, "not_yet_held, mempool_full, private_data_unavailable"),
)


class PrivatePort(Protocol):
    """What the private routes ask of the node."""

    org: str

    async def submit(self, envelope: bytes, items: list[PrivateItem]) -> bytes: ...

    def holding(self, collection: str, digest: bytes) -> Holding: ...

    def value(self, collection: str, key: str, digest: bytes) -> PrivateItem | None: ...

    def status(self) -> dict[str, Any]: ...


def secure(request: Request, tls: bool) -> bool:
    """Whether a private value may travel on this connection: TLS, or a loopback client."""
    if tls or request.url.scheme == "https":
        return True
    return request.client is not None and request.client.host in LOOPBACK


def install_private_api(
    app: FastAPI, port: NodePort, private: PrivatePort | None, auth: Authenticator
) -> None:
    tls = auth.options.tls

    def node() -> PrivatePort:
        if private is None:
            raise Problem("private_data_unavailable", 503, "this node keeps no private data")
        return private

    def require_secure(request: Request) -> None:
        if not secure(request, tls):
            raise Problem(
                "tls_required",
                403,
                "private values travel only over TLS or to a loopback client; this node serves "
                "plain HTTP (set [api] tls = true)",
            )

    @app.post(
        "/v1/private/txs",
        summary="Submit a signed tx with the private values it commits to",
        description="JSON body: `tx` (base64 envelope) and `items`, each `collection`, `key`, "
        "`salt` (hex, 32 bytes) and `value` (base64), whose salted digest the tx carries. "
        "Only a node of a member organisation of each collection accepts them.",
        status_code=202,
        response_model=None,
        responses=answers(
            TxSubmitted,
            (400, "malformed_tx, malformed_request, digest_not_in_tx, private_ttl_too_long"),
            (401, "bad_signature"),
            (403, "not_a_member, tls_required, role_not_allowed, unknown_ca"),
            (404, "unknown_collection, unknown_contract"),
            (409, "duplicate_tx"),
            (413, "body_too_large, value_too_large"),
            (503, "private_store_full, mempool_full"),
            ok_status=202,
        )
        | {200: {"model": TxSubmitted, "description": "committed (wait=true)"}},
        openapi_extra=json_body(PrivateTxBody),
    )
    async def private_tx(
        request: Request,
        wait: bool = Query(False, description="answer once committed"),
        timeout: float = Query(DEFAULT_WAIT_S, ge=0, le=MAX_WAIT_S),
    ) -> Response:
        require_secure(request)
        body = _parse(await read_body_limited(request, MAX_PRIVATE_BODY, "body_too_large"))
        parsed = _model(PrivateTxBody, body)
        envelope = _b64(parsed.tx, "tx")
        items = [
            PrivateItem(i.collection, i.key, _hex(i.salt, "salt"), _b64(i.value, "value"))
            for i in parsed.items
        ]
        try:
            tx_id = await node().submit(envelope, items)
        except PrivateDataRefused as e:
            raise Problem(e.code, e.status, e.detail) from None
        answer: dict[str, Any] = {"id": tx_id.hex(), "status": "pending"}
        if not wait:
            return json_response(answer, 202)
        status = await port.wait_committed(tx_id, timeout)
        answer["status"] = status.status
        if status.status != "committed":
            return json_response(answer, 202)
        receipt = port.receipt(status.height, status.index)
        assert receipt is not None
        answer.update(height=status.height, index=status.index, receipt=receipt_view(receipt))
        return json_response(answer, 200)

    @app.post(
        "/v1/private/reads",
        summary="Read a private value: a signed access.read tx, recorded on chain first",
        description="JSON body: `tx`, the base64 envelope of `access.read(collection, key, "
        "purpose)` signed by the reader. Refused reads never reach the chain. The answer "
        "comes once the access record is committed (or 202 after `timeout` s; fetch it "
        "then with `GET /v1/private/reads/{id}`).",
        response_model=None,
        responses=answers(PrivateReadDone, *READ_CODES)
        | {202: {"model": TxPending, "description": "not committed yet"}},
        openapi_extra=json_body(PrivateReadBody),
    )
    async def private_read(
        request: Request,
        timeout: float = Query(DEFAULT_WAIT_S, ge=0, le=MAX_WAIT_S),
    ) -> Response:
        raw = await read_body_limited(request, MAX_PRIVATE_BODY, "body_too_large")
        envelope = _b64(_model(PrivateReadBody, _parse(raw)).tx, "tx")
        signed = _decode_envelope(envelope)
        call = signed.tx
        if (call.contract, call.method) != (ACCESS_CONTRACT, "read") or len(call.args) != 3:
            raise Problem("not_a_read", 400, "the tx is not access.read(collection, key, purpose)")
        if not all(isinstance(a, str) for a in call.args):
            raise Problem("not_a_read", 400, "access.read takes three strings")
        collection, key, purpose = call.args
        caller = _signer(auth, signed)
        require_secure(request)
        check = port.query(ACCESS_CONTRACT, "check", [collection, key, purpose], caller.sender)
        if check.status != "ok":
            raise Problem("read_refused", 403, check.message)
        digest = bytes.fromhex(check.value["digest"])
        _require_held(node(), collection, digest)
        tx_id = await port.submit(envelope)
        status = await port.wait_committed(tx_id, timeout)
        if status.status != "committed":
            return json_response({"id": tx_id.hex(), "status": status.status}, 202)
        receipt = port.receipt(status.height, status.index)
        assert receipt is not None
        if receipt.status != "ok":
            raise Problem("read_refused", 403, receipt.message)
        return _deliver(node(), _access_record(port, int(receipt.value["id"])))

    @app.get(
        "/v1/private/reads/{access_id}",
        summary="The value of a committed read, again, for its reader",
        description="A signed request by the identity that holds access record `access_id`, "
        "until the record's `valid_until` height.",
        response_model=None,
        responses=answers(
            PrivateReadDone,
            (400, "malformed_request"),
            (401, "authentication_required, bad_signature, stale_request"),
            (403, "read_refused, tls_required"),
            (404, "unknown_access"),
            (409, "not_held, purged"),
            (503, "private_data_unavailable"),
        ),
    )
    async def private_read_again(
        request: Request, access_id: int = Path(ge=1, le=(1 << 62))
    ) -> Response:
        caller = auth.caller(request)
        if caller.identity is None:
            raise Problem("authentication_required", 401, "a read is fetched by its reader")
        require_secure(request)
        access = _access_record(port, access_id)
        if access.reader != caller.identity.id:
            raise Problem("read_refused", 403, f"access record {access_id} is another reader's")
        head = port.head().height
        if head > access.valid_until:
            raise Problem(
                "read_refused",
                403,
                f"access record {access_id} was valid until height {access.valid_until} "
                f"(now {head}); read again",
            )
        return _deliver(node(), access)

    @app.get(
        "/v1/private/status",
        summary="What this node holds of private data (counts, never values)",
        response_model=None,
        responses=answers(
            PrivateStatus,
            (401, "authentication_required, bad_signature"),
            (503, "private_data_unavailable"),
        ),
    )
    async def private_status(request: Request) -> Response:
        caller = auth.caller(request)
        if caller.identity is None:
            raise Problem("authentication_required", 401, "the status is for members")
        return json_response(node().status())


def _access_record(port: NodePort, access_id: int) -> AccessRecord:
    data = port.state_get(ACCESS_CONTRACT, f"rec/{access_id:012d}")
    if data is None:
        raise Problem("unknown_access", 404, f"no access record {access_id}")
    return AccessRecord.decode(data)


M = TypeVar("M", bound=BaseModel)


def _model(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        where = ".".join(str(p) for p in e.errors()[0].get("loc", ()))
        raise Problem("malformed_request", 400, f"{where}: {e.errors()[0].get('msg')}") from None


def _require_held(node: PrivatePort, collection: str, digest: bytes) -> None:
    holding = node.holding(collection, digest)
    if not holding.member:
        raise Problem(
            "not_held",
            409,
            f"this node's organisation {node.org!r} is not a member of {collection!r}; read "
            "through a member's node",
        )
    if holding.state == "purged":
        raise Problem("purged", 409, "this version was purged")
    if holding.state != "held":
        raise Problem(
            "not_yet_held",
            503,
            f"this node does not hold that version yet ({holding.state}); retry in a few seconds",
        )


def _deliver(node: PrivatePort, access: AccessRecord) -> Response:
    item = node.value(access.collection, access.key, access.digest)
    if item is None:
        raise Problem("not_held", 409, f"this node no longer holds version {access.version}")
    return json_response(
        {
            "access": access.view(),
            "collection": item.collection,
            "key": item.key,
            "version": access.version,
            "digest": access.digest.hex(),
            "salt": item.salt.hex(),
            "value": base64.b64encode(item.value).decode("ascii"),
        }
    )


def _signer(auth: Authenticator, signed: SignedTx) -> Caller:
    try:
        identity = auth.membership().validate(
            signed.tx.signer, at_ms=time.time_ns() // 1_000_000, roles=MEMBER_ROLES
        )
    except MembershipError as e:
        raise Problem(e.code, 403, str(e)) from None
    message = tx_sign_bytes(signed.tx.chain_id, signed.body)
    if signed.tx.chain_id != auth.port.chain_id or not auth.suite.verify(
        identity.public_key, message, signed.signature
    ):
        raise Problem("bad_signature", 401, "the read's signature does not verify")
    return Caller(identity, "")


def _decode_envelope(envelope: bytes) -> SignedTx:
    try:
        return SignedTx.decode(envelope)
    except DecodeError as e:
        raise Problem("malformed_tx", 400, f"the envelope does not decode: {e}") from None


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Problem("malformed_request", 400, f"the body is not JSON: {e}") from None


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Problem("malformed_request", 400, f"{what} is base64") from None


def _hex(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise Problem("malformed_request", 400, f"{what} is hex") from None
    if len(value) != SALT_BYTES:
        raise Problem("malformed_request", 400, f"a salt is {SALT_BYTES} bytes")
    return value
