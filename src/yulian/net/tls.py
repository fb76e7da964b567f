"""Introduction: mutual TLS between consortium nodes.

Invariants:

- TLS 1.3 only, on both sides (``minimum_version == maximum_version == TLSv1_3``).
- Mutual authentication: both the server and the client require and verify the other side's
  certificate (``CERT_REQUIRED``); a peer without a certificate never gets past the handshake.
- The system's default certificate store is never loaded.
- ``check_hostname`` is off: peers are identified by their certificate (the PeerManager's
  ``identify`` runs ``Membership.validate(roles=("node",))`` on the DER that
  ``peer_certificate_der`` returns after the handshake), not by DNS names.
- ``peer_certificate_der`` returns the peer's *node certificate*, whatever the suite.

Standard suite (Ed25519 node certificates). OpenSSL (>= 1.1.1; tested against 3.x) verifies
Ed25519 certificate chains and signs the TLS 1.3 handshake with Ed25519 keys, so the node
certificates made by ``network init`` serve directly as TLS certificates, and trust is the
consortium's organisation root CAs and nothing else. The chain check here only proves "issued
by one of the consortium's CAs"; the role, organisation match and revocation are the membership
check's job.

gm suite (SM2 node certificates). OpenSSL 3.0's TLS can neither use an SM2 key (it refuses the
certificate as an "unknown certificate type") nor verify an SM2 certificate signature made with
the standard distinguishing ID (its X.509 verifier has no way to be given the ID), so an SM2
node certificate cannot be a TLS certificate. A gm node's TLS runs on a *transport key* that
its SM2 node key delegates to:

- Each context makes a fresh Ed25519 transport key in memory. (``load_cert_chain`` reads files
  only: the key passes through a private temporary file, encrypted under a random password that
  never touches the disk, deleted at once.)
- The node key signs the *delegation* ``[DELEGATION_LABEL, transport public key, not_before_ms,
  not_after_ms]`` (canonical msgpack), the window being its node certificate's.
- The transport certificate (Ed25519, that window) carries ``[node certificate DER, delegation
  signature]`` in the non-critical private extension ``TRANSPORT_DELEGATION_OID``.
- It is issued by the consortium's *gate* CA, whose Ed25519 key is derived from the consortium's
  root CA certificates: every node derives the same one, and so can anyone who knows the roots.
  The gate key is public by design and authenticates nothing; it exists because OpenSSL only
  requests and accepts a client certificate that chains to a trusted CA, and it keeps nodes of
  other consortiums out at the handshake.

What authenticates a gm peer is, together: TLS 1.3's CertificateVerify (the peer holds the
private transport key of the certificate it presented, signed over this handshake's transcript),
the delegation (the SM2 node key vouched for that transport key; checked by
``peer_certificate_der``, which then returns the node certificate) and the membership check of
the node certificate (``identify``). A delegation is public (it travels in every handshake) but
is worthless without the transport private key, which never leaves the node's process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from yulian.crypto.suite import PrivateKey, SuiteError, get_suite
from yulian.crypto.x509 import (
    KEY_ALGORITHM_SUITES,
    MAX_CERTIFICATE_BYTES,
    CertificateError,
    CertInfo,
    parse_certificate,
    pem_to_der,
)
from yulian.types.encoding import DecodeError, Limits, decode, encode

__all__ = [
    "DELEGATION_LABEL",
    "TRANSPORT_DELEGATION_OID",
    "TlsError",
    "client_context",
    "delegating_node_certificate",
    "gate_certificate_pem",
    "peer_certificate_der",
    "server_context",
]

PathLike = str | os.PathLike[str]

TRANSPORT_DELEGATION_OID = ObjectIdentifier("1.3.6.1.4.1.61839.1.2")
DELEGATION_LABEL = "yulian/tls-transport-key/v1"
_GATE_LABEL = b"yulian/tls-gate-ca/v1"
_DELEGATION_LIMITS = Limits(max_bytes=MAX_CERTIFICATE_BYTES + 1024, max_depth=1, max_items=2)
_GATE_NOT_BEFORE = datetime(2000, 1, 1, tzinfo=UTC)
_GATE_NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TlsError(ValueError):
    """A TLS configuration that cannot be built, or a connection without a peer certificate."""


class _DelegatedContext(ssl.SSLContext):
    """A context whose peers present transport certificates (the gm suite)."""


def server_context(
    cert_pem_path: PathLike, key_pem_path: PathLike, ca_pem_paths: Sequence[PathLike]
) -> ssl.SSLContext:
    """The listening side: TLS 1.3, requires a client certificate from a consortium CA
    (gm: a transport certificate from the gate, its delegation checked after the handshake)."""
    node = _delegating_node(cert_pem_path, key_pem_path)
    ctx_class = ssl.SSLContext if node is None else _DelegatedContext
    ctx = ctx_class(ssl.PROTOCOL_TLS_SERVER)
    _configure(ctx, cert_pem_path, key_pem_path, ca_pem_paths, node)
    # No session tickets: every connection runs a full handshake with certificates.
    ctx.options |= ssl.OP_NO_TICKET
    ctx.num_tickets = 0
    return ctx


def client_context(
    cert_pem_path: PathLike, key_pem_path: PathLike, ca_pem_paths: Sequence[PathLike]
) -> ssl.SSLContext:
    """The dialling side: TLS 1.3, presents our certificate, requires a consortium server
    (gm: our and its transport certificates, as for ``server_context``)."""
    node = _delegating_node(cert_pem_path, key_pem_path)
    ctx_class = ssl.SSLContext if node is None else _DelegatedContext
    ctx = ctx_class(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # must precede verify_mode changes; identity is the certificate
    _configure(ctx, cert_pem_path, key_pem_path, ca_pem_paths, node)
    return ctx


def peer_certificate_der(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes:
    """The DER of the peer's node certificate; raises ``TlsError`` if there is none.

    For a gm context that is the node certificate inside the peer's transport certificate,
    returned only once the delegation to the transport key the peer proved it holds checks out.
    """
    if ssl_object is None:
        raise TlsError("not a TLS connection")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise TlsError("the peer presented no certificate")
    if isinstance(ssl_object.context, _DelegatedContext):
        return delegating_node_certificate(der)
    return der


def delegating_node_certificate(transport_der: bytes) -> bytes:
    """The node certificate that delegated the key of ``transport_der``; raises ``TlsError``.

    Checks that the extension holds ``[node certificate, signature]``, that the node
    certificate parses, and that its key signed the delegation of exactly this certificate's
    Ed25519 key and validity window under the suite its key belongs to. Membership (chain,
    role, validity, revocation) is left to ``identify``.
    """
    try:
        cert = x509.load_der_x509_certificate(transport_der)
        carried = cert.extensions.get_extension_for_oid(TRANSPORT_DELEGATION_OID).value
        transport_key = cert.public_key()
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    except x509.ExtensionNotFound:
        raise TlsError("the peer's TLS certificate carries no node delegation") from None
    except Exception as e:  # cryptography parses lazily and raises several types
        raise TlsError(f"unreadable transport certificate: {type(e).__name__}: {e}") from None
    if not isinstance(carried, x509.UnrecognizedExtension):
        raise TlsError("malformed node delegation")
    if not isinstance(transport_key, ed25519.Ed25519PublicKey):
        raise TlsError("a transport certificate holds an Ed25519 key")
    try:
        pair = decode(carried.value, _DELEGATION_LIMITS)
    except DecodeError as e:
        raise TlsError(f"malformed node delegation: {e}") from None
    if not (
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and isinstance(pair[0], bytes)
        and isinstance(pair[1], bytes)
    ):
        raise TlsError("malformed node delegation: expected [certificate, signature]")
    node_der, signature = pair
    try:
        node = parse_certificate(node_der)
        suite_name = KEY_ALGORITHM_SUITES.get(node.public_key_algorithm)
        if suite_name is None:
            raise TlsError(f"node delegation by a key of no suite ({node.public_key_algorithm})")
        suite = get_suite(suite_name)
    except (CertificateError, SuiteError) as e:
        raise TlsError(f"node delegation: {e}") from None
    statement = _delegation_statement(_raw(transport_key), _ms(not_before), _ms(not_after))
    if not suite.verify(node.public_key, statement, signature):
        raise TlsError(f"node delegation not signed by the key of {node.name}@{node.org}")
    return node.der


# --- configuration ----------------------------------------------------------------------


def _configure(
    ctx: ssl.SSLContext,
    cert_pem_path: PathLike,
    key_pem_path: PathLike,
    ca_pem_paths: Sequence[PathLike],
    node: tuple[CertInfo, PrivateKey] | None,
) -> None:
    if not ca_pem_paths:
        raise TlsError("at least one organisation root CA is required")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.options |= ssl.OP_NO_COMPRESSION
    if node is not None:
        _configure_delegated(ctx, node, _read_roots(ca_pem_paths))
        return
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


def _delegating_node(
    cert_pem_path: PathLike, key_pem_path: PathLike
) -> tuple[CertInfo, PrivateKey] | None:
    """The node certificate and key if they need a transport key (gm), else ``None``.

    A certificate this module cannot read is left to ``load_cert_chain`` to report.
    """
    try:
        node = parse_certificate(pem_to_der(Path(cert_pem_path).read_bytes()))
    except (OSError, CertificateError):
        return None
    if KEY_ALGORITHM_SUITES.get(node.public_key_algorithm) != "gm":
        return None
    try:
        key = get_suite("gm").load_private_key(Path(key_pem_path).read_bytes())
    except (OSError, SuiteError) as e:
        raise TlsError(f"cannot load key {key_pem_path}: {e}") from None
    if key.public_key() != node.public_key:
        raise TlsError(f"key {key_pem_path} does not match certificate {cert_pem_path}")
    return node, key


def _read_roots(ca_pem_paths: Sequence[PathLike]) -> list[bytes]:
    """The DER of every certificate in the root CA files (each must hold at least one)."""
    roots: list[bytes] = []
    for path in ca_pem_paths:
        try:
            pem = Path(path).read_bytes()
            pem_to_der(pem)  # a readable CERTIFICATE block, or a named error
            certs = x509.load_pem_x509_certificates(pem)
        except (OSError, ValueError) as e:
            raise TlsError(f"cannot load root CA {path}: {e}") from None
        roots.extend(c.public_bytes(serialization.Encoding.DER) for c in certs)
    return roots


def _configure_delegated(
    ctx: ssl.SSLContext, node: tuple[CertInfo, PrivateKey], roots: Sequence[bytes]
) -> None:
    info, node_key = node
    gate_key, gate_cert = _gate(roots)
    transport_key = ed25519.Ed25519PrivateKey.generate()
    transport_cert = _transport_certificate(info, node_key, transport_key, gate_key, gate_cert)
    password = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="yulian-tls-") as tmp:  # mode 0700
        cert_path = os.path.join(tmp, "transport.crt")
        key_path = os.path.join(tmp, "transport.key")
        with open(cert_path, "wb") as f:
            f.write(transport_cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(
                transport_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(password.encode("ascii")),
                )
            )
        try:
            ctx.load_cert_chain(cert_path, key_path, password=password)
        except (OSError, ssl.SSLError) as e:
            raise TlsError(f"cannot load the transport certificate: {e}") from None
    ctx.load_verify_locations(cadata=gate_cert.public_bytes(serialization.Encoding.PEM).decode())


def gate_certificate_pem(roots: Sequence[bytes]) -> bytes:
    """The consortium's gate CA certificate (PEM) for root CA certificates ``roots`` (DER): what
    a gm client trusts to reach a node's TLS, before it checks the node's delegation."""
    return _gate(roots)[1].public_bytes(serialization.Encoding.PEM)


def _gate(roots: Sequence[bytes]) -> tuple[ed25519.Ed25519PrivateKey, x509.Certificate]:
    """The consortium's gate CA: a key derived from its roots and a deterministic certificate."""
    digest = hashlib.sha256(_GATE_LABEL)
    for der in sorted(set(roots)):
        digest.update(len(der).to_bytes(4, "big") + der)
    seed = digest.digest()
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "yulian"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"tls gate {hashlib.sha256(seed).hexdigest()[:16]}"
            ),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(_GATE_NOT_BEFORE)
        .not_valid_after(_GATE_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, None)
    )
    return key, cert


def _transport_certificate(
    node: CertInfo,
    node_key: PrivateKey,
    transport_key: ed25519.Ed25519PrivateKey,
    gate_key: ed25519.Ed25519PrivateKey,
    gate_cert: x509.Certificate,
) -> x509.Certificate:
    not_before = _EPOCH + timedelta(milliseconds=node.not_before_ms)
    not_after = _EPOCH + timedelta(milliseconds=node.not_after_ms)
    public = transport_key.public_key()
    statement = _delegation_statement(_raw(public), _ms(not_before), _ms(not_after))
    delegation = encode([node.der, node_key.sign(statement)])
    return (
        x509.CertificateBuilder()
        .subject_name(x509.load_der_x509_certificate(node.der).subject)
        .issuer_name(gate_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(gate_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.UnrecognizedExtension(TRANSPORT_DELEGATION_OID, delegation), critical=False
        )
        .sign(gate_key, None)
    )


def _delegation_statement(transport_key: bytes, not_before_ms: int, not_after_ms: int) -> bytes:
    return encode([DELEGATION_LABEL, transport_key, not_before_ms, not_after_ms])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _raw(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)
