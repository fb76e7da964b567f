"""Introduction: TLS on the node's API, with the node's own certificate (decision 0078).

``api_ssl_context`` builds the server side: TLS 1.3; the standard suite presents the Ed25519
node certificate itself; the gm suite presents the node's transport certificate, which its
SM2 node key delegates to (``net/tls.py``, decision 0007) — the SDK checks that delegation.
Clients are not asked for a certificate: they authenticate by signing their requests.
``TlsServerConfig`` hands the context to uvicorn.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import uvicorn

from yulian.crypto.x509 import der_to_pem
from yulian.net.tls import server_context
from yulian.node.config import NodeConfig
from yulian.types.genesis import Genesis


def api_ssl_context(config: NodeConfig, genesis: Genesis, cert_der: bytes) -> ssl.SSLContext:
    directory = config.data_dir / "api-tls"
    directory.mkdir(parents=True, exist_ok=True)
    cert_pem = directory / "node-cert.pem"
    roots = directory / "roots.pem"
    cert_pem.write_bytes(der_to_pem(cert_der))
    roots.write_bytes(b"".join(der_to_pem(o.ca_cert) for o in genesis.organisations))
    ctx = server_context(cert_pem, config.key, [Path(roots)])
    ctx.verify_mode = ssl.CERT_NONE  # callers sign requests; browsers have no member certificate
    return ctx


class TlsServerConfig(uvicorn.Config):
    """A uvicorn config that serves with a ready ``ssl.SSLContext``."""

    def __init__(self, app: Any, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._ssl_context = ssl_context

    def load(self) -> None:
        super().load()
        self.ssl = self._ssl_context
