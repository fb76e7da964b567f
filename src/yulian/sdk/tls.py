"""Introduction: trusting a node's API over TLS with nothing but the genesis (decision 0078).

A node serves HTTPS with its own certificate (standard suite) or with a transport certificate
its SM2 node key delegates to (gm suite; decision 0007). ``NodeTrust.for_genesis`` makes the
client side: the TLS layer trusts only the consortium's root CAs (standard) or the gate CA
derived from them (gm), with no DNS name check — identity is the certificate — and
``NodeTrust.check`` then verifies, on every connection, that the server's node certificate was
issued by the root CA of the organisation it names, has the role ``node`` and, if asked, is
a given node. A server that fails is refused before any answer is used.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx

from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import CertificateError, der_to_pem, parse_certificate, verify_issued_by
from yulian.net.tls import TlsError, delegating_node_certificate, gate_certificate_pem
from yulian.types.genesis import Genesis


class NodeCertificateError(httpx.TransportError):
    """The server is not a node of the consortium (or not the node asked for)."""


@dataclass
class NodeTrust:
    genesis: Genesis
    node: str | None = None  # the node name the server must be, if any
    _verified: set[bytes] = field(default_factory=set)

    @classmethod
    def for_genesis(cls, genesis: Genesis, node: str | None = None) -> NodeTrust:
        return cls(genesis, node)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False  # the node is identified by its certificate, not by DNS
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        roots = [o.ca_cert for o in self.genesis.organisations]
        if self.genesis.suite == "gm":
            ctx.load_verify_locations(cadata=gate_certificate_pem(roots).decode("ascii"))
        else:
            ctx.load_verify_locations(cadata=b"".join(der_to_pem(r) for r in roots).decode())
        return ctx

    def check(self, response: httpx.Response) -> None:
        """An httpx response hook: refuse a server that is not a consortium node."""
        stream: Any = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        if ssl_object is None:
            if response.url.scheme == "https":
                raise NodeCertificateError("the TLS connection shows no server certificate")
            return
        self.check_certificate(ssl_object.getpeercert(True))

    def check_certificate(self, der: bytes) -> None:
        """Refuse a server certificate (DER) that is not a consortium node's (or not the node
        asked for); the REST hook and the event stream's ``wss://`` connections both ask."""
        if der in self._verified:
            return
        self._check_node(der)
        self._verified.add(der)

    def _check_node(self, der: bytes) -> None:
        suite = get_suite(self.genesis.suite)
        try:
            node_der = delegating_node_certificate(der) if self.genesis.suite == "gm" else der
            info = parse_certificate(node_der)
        except (TlsError, CertificateError) as e:
            raise NodeCertificateError(f"the server's certificate: {e}") from None
        root = next((o for o in self.genesis.organisations if o.name == info.org), None)
        if root is None or not verify_issued_by(suite, node_der, root.ca_cert):
            raise NodeCertificateError(
                f"the server's certificate ({info.name}@{info.org}) is not issued by a root CA "
                "of this consortium"
            )
        if info.role != "node":
            raise NodeCertificateError(f"the server's certificate has role {info.role!r}")
        if self.node is not None and info.name != self.node:
            raise NodeCertificateError(f"the server is {info.name}, not {self.node}")
