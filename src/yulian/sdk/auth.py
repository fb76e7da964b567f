"""Introduction: signing API requests with a wallet (decision 0078).

``RequestSigner`` turns a wallet into an ``httpx`` auth flow: every request gets the caller's
certificate, the time, a fresh nonce and the signature of ``types.signed_request`` over the
method, the exact path and query httpx sends, and the hash of the body. The node answers as
that identity: read policies, ``ctx.sender`` in queries, private reads.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Generator

import httpx

from yulian.sdk.wallet import Wallet
from yulian.types.signed_request import (
    CERTIFICATE_HEADER,
    NONCE_HEADER,
    NONCE_HEX_CHARS,
    SIGNATURE_HEADER,
    TIME_HEADER,
    request_sign_bytes,
)


def auth_headers(
    wallet: Wallet,
    chain_id: str,
    method: str,
    target: str,
    body: bytes,
    *,
    time_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that authenticate one request as ``wallet``."""
    time_ms = time.time_ns() // 1_000_000 if time_ms is None else time_ms
    nonce = secrets.token_hex(NONCE_HEX_CHARS // 2) if nonce is None else nonce
    message = request_sign_bytes(chain_id, method, target, time_ms, nonce, wallet.suite.hash(body))
    return {
        CERTIFICATE_HEADER: base64.b64encode(wallet.cert).decode("ascii"),
        TIME_HEADER: str(time_ms),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(wallet.key.sign(message)).decode("ascii"),
    }


class RequestSigner(httpx.Auth):
    """httpx auth: sign each request with ``wallet`` for the chain ``chain_id()`` names."""

    requires_request_body = True

    def __init__(self, wallet: Wallet, chain_id: str) -> None:
        self.wallet = wallet
        self.chain_id = chain_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(
            auth_headers(self.wallet, self.chain_id, request.method, target, request.content)
        )
        yield request
