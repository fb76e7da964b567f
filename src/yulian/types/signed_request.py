"""Introduction: a signed API request — the bytes a caller signs to say who it is (decision 0078).

An API request is authenticated by four headers: the caller's certificate, the time, a nonce
and a signature by the certificate's key over

    encode(["yulian/api-request/v1", chain_id, METHOD, target, time_ms, nonce, H(body)])

where ``target`` is the path and query exactly as sent (percent-encoding included), ``nonce``
16 random bytes in hex and ``H`` the chain's suite hash. The SDK (``sdk/auth.py``), the
explorer (``static/js/auth.js``) and the node (``api/auth.py``) share this definition.
"""

from __future__ import annotations

from yulian.types.encoding import encode

REQUEST_DOMAIN = "yulian/api-request/v1"
CERTIFICATE_HEADER = "yulian-certificate"
TIME_HEADER = "yulian-time"
NONCE_HEADER = "yulian-nonce"
SIGNATURE_HEADER = "yulian-signature"
AUTH_HEADERS = (CERTIFICATE_HEADER, TIME_HEADER, NONCE_HEADER, SIGNATURE_HEADER)
NONCE_HEX_CHARS = 32


def request_sign_bytes(
    chain_id: str, method: str, target: str, time_ms: int, nonce: str, body_hash: bytes
) -> bytes:
    """The canonical bytes a caller signs for one request."""
    return encode((REQUEST_DOMAIN, chain_id, method.upper(), target, time_ms, nonce, body_hash))
