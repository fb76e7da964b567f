"""Introduction: mutual TLS between consortium nodes.

Invariants:

- TLS 1.3 only, on both sides (``minimum_version == maximum_version == TLSv1_3``).
- Mutual authentication: both the server and the client require and verify the other side's
  certificate (``CERT_REQUIRED``); a peer without a certificate never gets past the handshake.
- Trust is the consortium's organisation root CAs and nothing else: the system's default
  certificate store is never loaded.
- ``check_hostname`` is off: peers are identified by their certificate (the PeerManager's
  ``identify`` runs ``Membership.validate(roles=("node",))`` on the DER after the handshake),
  not by DNS names.

OpenSSL (>= 1.1.1; this is tested against 3.x) verifies Ed25519 certificate chains and signs
the TLS 1.3 handshake with Ed25519 keys, so the node certificates made by ``network init``
serve directly as TLS certificates. The chain check here only proves "issued by one of the
consortium's CAs"; the role, organisation match and revocation are the membership check's job.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Sequence

from yulian.crypto.x509 import CertificateError, pem_to_der

__all__ = ["TlsError", "client_context", "peer_certificate_der", "server_context"]

PathLike = str | os.PathLike[str]


class TlsError(ValueError):
    """A TLS configuration that cannot be built, or a connection without a peer certificate."""


def server_context(
    cert_pem_path: PathLike, key_pem_path: PathLike, ca_pem_paths: Sequence[PathLike]
) -> ssl.SSLContext:
    """The listening side: TLS 1.3, requires a client certificate from a consortium CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _configure(ctx, cert_pem_path, key_pem_path, ca_pem_paths)
    # No session tickets: every connection runs a full handshake with certificates.
    ctx.options |= ssl.OP_NO_TICKET
    ctx.num_tickets = 0
    return ctx


def client_context(
    cert_pem_path: PathLike, key_pem_path: PathLike, ca_pem_paths: Sequence[PathLike]
) -> ssl.SSLContext:
    """The dialling side: TLS 1.3, presents our certificate, requires a consortium server."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # must precede verify_mode changes; identity is the certificate
    _configure(ctx, cert_pem_path, key_pem_path, ca_pem_paths)
    return ctx


def peer_certificate_der(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes:
    """The DER of the certificate the peer presented; raises ``TlsError`` if there is none."""
    if ssl_object is None:
        raise TlsError("not a TLS connection")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise TlsError("the peer presented no certificate")
    return der


def _configure(
    ctx: ssl.SSLContext,
    cert_pem_path: PathLike,
    key_pem_path: PathLike,
    ca_pem_paths: Sequence[PathLike],
) -> None:
    if not ca_pem_paths:
        raise TlsError("at least one organisation root CA is required")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.options |= ssl.OP_NO_COMPRESSION
    try:
        ctx.load_cert_chain(os.fspath(cert_pem_path), os.fspath(key_pem_path))
    except (OSError, ssl.SSLError) as e:
        raise TlsError(
            f"cannot load certificate {cert_pem_path} / key {key_pem_path}: {e}"
        ) from None
    for path in ca_pem_paths:
        try:
            with open(path, "rb") as f:
                pem = f.read()
            pem_to_der(pem)  # a readable CERTIFICATE block, or a named error
            ctx.load_verify_locations(cadata=pem.decode("ascii"))
        except (OSError, ssl.SSLError, UnicodeDecodeError, CertificateError) as e:
            raise TlsError(f"cannot load root CA {path}: {e}") from None
