"""Introduction: X.509 identities — organisation root CAs and the certificates they issue.

Every organisation of a consortium has a self-signed root CA; the CA issues certificates to its
members, one of three roles: ``client`` (submits transactions), ``admin`` (acts for the
organisation in governance) and ``node`` (runs a node; the certificate doubles as the node's
mutual-TLS certificate). The subject names the member: ``O=<org>``, ``OU=<role>``,
``CN=<name>``. Optional attributes for attribute-based access (``role=doctor``) ride in a
non-critical private extension (``YULIAN_ATTRIBUTES_OID``) whose value is the canonical msgpack
encoding of a ``{str: str}`` map.

Everything that depends on the signature scheme — signing a certificate, reading a public key
out of one, checking an issuer's signature — goes through the small ``_sign_certificate``,
``_read_public_key`` and ``_verify_certificate_signature`` dispatchers, keyed on the suite name
or the public-key algorithm. The standard suite (Ed25519) is implemented with ``cryptography``.
``cryptography`` reads SM2 certificates but can neither hold an SM2 key nor sign with one, so a
gm certificate is built by ``cryptography`` around a placeholder P-256 key and signature, and
then re-assembled: the TBSCertificate gets the SM2 ``SubjectPublicKeyInfo`` (``id-ecPublicKey``
with the curve ``1.2.156.10197.1.301``) and the ``SM2-with-SM3`` algorithm
(``1.2.156.10197.1.501``, no parameters) in place of the placeholder's, and is signed with SM2
(``yulian.crypto.gm``; SM3 and the default distinguishing ID, as OpenSSL and GmSSL verify it).
The placeholder never reaches the output: only whole DER elements are swapped, checked to be
exactly the placeholder's first. Reading an SM2 key takes the SPKI from the TBSCertificate.

Whether a certificate belongs to the consortium (chain to an org root, validity at a time, role)
is decided by ``yulian.crypto.membership``, not here: this module only builds and reads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from yulian.crypto.suite import PrivateKey, Suite
from yulian.types.encoding import DecodeError, Limits, decode, encode

ROLES = ("client", "admin", "node")
CA_ROLE = "ca"  # the OU of an organisation's root CA; never a member role

YULIAN_ATTRIBUTES_OID = ObjectIdentifier("1.3.6.1.4.1.61839.1.1")

ED25519_OID = "1.3.101.112"
EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"  # id-ecPublicKey; the curve names the scheme
SM2_OID = "1.2.156.10197.1.301"  # the SM2 curve: CertInfo.public_key_algorithm of SM2 keys
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
_SM2_WITH_SM3_ALGORITHM = bytes.fromhex("300a06082a811ccf55018375")  # AlgorithmIdentifier DER

# The suite whose keys a public-key algorithm (as in CertInfo.public_key_algorithm) names.
KEY_ALGORITHM_SUITES = {ED25519_OID: "standard", SM2_OID: "gm"}

MAX_CERTIFICATE_BYTES = 16 * 1024
MAX_NAME_CHARS = 64  # ub-common-name / ub-organization-name in RFC 5280
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTE_KEY_BYTES = 64
MAX_ATTRIBUTE_VALUE_BYTES = 1024
_ATTRIBUTE_LIMITS = Limits(max_bytes=64 * 1024, max_depth=1, max_items=MAX_ATTRIBUTES)

# Extensions whose meaning we know; any other extension marked critical makes a certificate
# unusable (RFC 5280 §4.2).
_KNOWN_EXTENSIONS = frozenset(
    {
        x509.BasicConstraints.oid,
        x509.KeyUsage.oid,
        x509.ExtendedKeyUsage.oid,
        x509.SubjectAlternativeName.oid,
        x509.SubjectKeyIdentifier.oid,
        x509.AuthorityKeyIdentifier.oid,
        YULIAN_ATTRIBUTES_OID,
    }
)

DEFAULT_NODE_HOSTS = ("localhost", "127.0.0.1")  # every node certificate's first SANs
_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$){_DNS_LABEL}(\.{_DNS_LABEL})*")

_PEM_HEADER = "-----BEGIN CERTIFICATE-----"
_PEM_FOOTER = "-----END CERTIFICATE-----"


class CertificateError(ValueError):
    """A certificate that is malformed, or a request to build one that cannot be honoured."""


@dataclass(frozen=True)
class CertInfo:
    """What Yulian reads out of one certificate; ``der`` is the exact bytes parsed."""

    org: str
    role: str
    name: str
    attributes: Mapping[str, str]
    public_key: bytes  # raw, as in validator sets (32 bytes for Ed25519, 04||x||y for SM2)
    not_before_ms: int
    not_after_ms: int
    serial: int
    issuer_org: str
    is_ca: bool
    der: bytes
    # For checking the issuer's signature without parsing again:
    # dotted OID: Ed25519's, or for an id-ecPublicKey the curve's (SM2_OID)
    public_key_algorithm: str = field(repr=False, default="")
    signature_algorithm: str = field(repr=False, default="")  # dotted OID
    tbs: bytes = field(repr=False, default=b"")
    signature: bytes = field(repr=False, default=b"")
    subject_name: bytes = field(repr=False, default=b"")  # DER of the subject Name
    issuer_name: bytes = field(repr=False, default=b"")  # DER of the issuer Name
    can_sign_certificates: bool = field(repr=False, default=False)  # keyUsage keyCertSign


# --- building ---------------------------------------------------------------------------


def create_ca(
    suite: Suite,
    org: str,
    key: PrivateKey,
    *,
    not_before: datetime,
    not_after: datetime,
) -> bytes:
    """A self-signed root CA certificate for ``org`` (DER): ``O=org, OU=ca, CN=ca.org``."""
    _check_name("org", org)
    _check_validity(not_before, not_after)
    name = _subject(org, CA_ROLE, f"ca.{org}"[:MAX_NAME_CHARS])
    subject_key = key.public_key()
    ski = _subject_key_identifier(suite, subject_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_public_key_object(suite, subject_key))
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    return _sign_certificate(suite, builder, key, subject_key)


def issue_certificate(
    suite: Suite,
    *,
    ca_cert: bytes,
    ca_key: PrivateKey,
    org: str,
    role: str,
    name: str,
    public_key: bytes,
    not_before: datetime,
    not_after: datetime,
    attributes: Mapping[str, str] | None = None,
    serial: int | None = None,
    hosts: Sequence[str] = (),
) -> bytes:
    """A member certificate (DER) for ``public_key``, signed by ``ca_key`` under ``ca_cert``.

    Node certificates carry ExtendedKeyUsage clientAuth + serverAuth and the subject
    alternative names ``localhost`` / ``127.0.0.1`` and ``hosts`` (the DNS names or IP
    addresses the node is reached at) so the BFT transport can use them for mutual TLS.
    """
    _check_name("org", org)
    _check_name("name", name)
    if role not in ROLES:
        raise CertificateError(f"role must be one of {ROLES}, got {role!r}")
    _check_validity(not_before, not_after)
    ca = parse_certificate(ca_cert)
    if not ca.is_ca:
        raise CertificateError("the issuing certificate is not a CA")
    if ca.public_key != ca_key.public_key():
        raise CertificateError("the CA key does not match the CA certificate")
    if ca.org != org:
        raise CertificateError(f"a CA of {ca.org!r} cannot issue certificates for {org!r}")
    if hosts and role != "node":
        raise CertificateError("only node certificates name hosts")
    if serial is None:
        serial = x509.random_serial_number()
    if not 0 < serial < (1 << 159):
        raise CertificateError("serial must be a positive integer of at most 20 bytes")
    ca_cert_obj = x509.load_der_x509_certificate(ca.der)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(org, role, name))
        .issuer_name(ca_cert_obj.subject)
        .public_key(_public_key_object(suite, public_key))
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(_subject_key_identifier(suite, public_key), critical=False)
        .add_extension(_authority_key_identifier(suite, ca.public_key), critical=False)
    )
    if role == "node":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        ).add_extension(
            x509.SubjectAlternativeName(
                [_general_name(h) for h in dict.fromkeys([*DEFAULT_NODE_HOSTS, *hosts])]
            ),
            critical=False,
        )
    if attributes:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(YULIAN_ATTRIBUTES_OID, encode_attributes(attributes)),
            critical=False,
        )
    return _sign_certificate(suite, builder, ca_key, public_key)


def _general_name(host: str) -> x509.GeneralName:
    if not isinstance(host, str):
        raise CertificateError(f"host {host!r} is not a string")
    with contextlib.suppress(ValueError):
        return x509.IPAddress(ipaddress.ip_address(host))
    if not _DNS_NAME.fullmatch(host):
        raise CertificateError(f"host {host!r} is neither an IP address nor a DNS name")
    return x509.DNSName(host)


def encode_attributes(attributes: Mapping[str, str]) -> bytes:
    """The canonical msgpack of an attribute map (keys in ascending UTF-8 order)."""
    _check_attributes(attributes)
    ordered = {k: attributes[k] for k in sorted(attributes, key=lambda k: k.encode("utf-8"))}
    return encode(ordered)


def decode_attributes(data: bytes) -> dict[str, str]:
    try:
        value = decode(data, _ATTRIBUTE_LIMITS)
    except DecodeError as e:
        raise CertificateError(f"attributes extension: {e}") from None
    if not isinstance(value, dict):
        raise CertificateError("attributes extension: expected a map")
    _check_attributes(value)
    return dict(value)


# --- reading ----------------------------------------------------------------------------


def parse_certificate(der: bytes) -> CertInfo:
    """Read a DER certificate; raises ``CertificateError`` for anything malformed."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise CertificateError(f"expected DER bytes, got {type(der).__name__}")
    der = bytes(der)
    if not der:
        raise CertificateError("empty certificate")
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(f"certificate of {len(der)} bytes exceeds {MAX_CERTIFICATE_BYTES}")
    try:
        cert = x509.load_der_x509_certificate(der)
        return _read(cert, der)
    except CertificateError:
        raise
    except Exception as e:  # cryptography parses lazily and raises several types
        raise CertificateError(f"malformed certificate: {type(e).__name__}: {e}") from None


def _read(cert: x509.Certificate, der: bytes) -> CertInfo:
    if cert.version != x509.Version.v3:
        raise CertificateError("only X.509 v3 certificates are accepted")
    org = _single(cert.subject, NameOID.ORGANIZATION_NAME, "subject O")
    name = _single(cert.subject, NameOID.COMMON_NAME, "subject CN")
    role = _single(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME, "subject OU")
    issuer_org = _single(cert.issuer, NameOID.ORGANIZATION_NAME, "issuer O")
    extensions = cert.extensions
    for ext in extensions:
        if ext.critical and ext.oid not in _KNOWN_EXTENSIONS:
            raise CertificateError(f"unknown critical extension {ext.oid.dotted_string}")
    try:
        basic = extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = basic.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        can_sign_certificates = usage.key_cert_sign
    except x509.ExtensionNotFound:
        can_sign_certificates = False
    try:
        raw = extensions.get_extension_for_oid(YULIAN_ATTRIBUTES_OID).value
    except x509.ExtensionNotFound:
        attributes = {}
    else:
        if not isinstance(raw, x509.UnrecognizedExtension):
            raise CertificateError("attributes extension: unexpected form")
        attributes = decode_attributes(raw.value)
    key_algorithm, public_key = _read_public_key(cert, cert.public_key_algorithm_oid.dotted_string)
    not_before_ms = _ms(cert.not_valid_before_utc)
    not_after_ms = _ms(cert.not_valid_after_utc)
    if not_after_ms < not_before_ms:
        raise CertificateError("validity window ends before it starts")
    return CertInfo(
        org=org,
        role=role,
        name=name,
        attributes=MappingProxyType(attributes),
        public_key=public_key,
        not_before_ms=not_before_ms,
        not_after_ms=not_after_ms,
        serial=cert.serial_number,
        issuer_org=issuer_org,
        is_ca=is_ca,
        der=der,
        public_key_algorithm=key_algorithm,
        signature_algorithm=cert.signature_algorithm_oid.dotted_string,
        tbs=cert.tbs_certificate_bytes,
        signature=cert.signature,
        subject_name=cert.subject.public_bytes(),
        issuer_name=cert.issuer.public_bytes(),
        can_sign_certificates=can_sign_certificates,
    )


def verify_issued_by(suite: Suite, cert_der: bytes, issuer_der: bytes) -> bool:
    """True iff ``issuer_der`` is a CA that names and signed ``cert_der`` under ``suite``.

    Raises ``CertificateError`` if either certificate is malformed; the validity windows are
    not looked at (that is the membership check's business, with a time handed in).
    """
    return verify_signed_by(suite, parse_certificate(cert_der), parse_certificate(issuer_der))


def verify_signed_by(suite: Suite, cert: CertInfo, issuer: CertInfo) -> bool:
    """``verify_issued_by`` on certificates already parsed."""
    if not (issuer.is_ca and issuer.can_sign_certificates):
        return False
    if cert.issuer_name != issuer.subject_name:
        return False
    return _verify_certificate_signature(
        suite, issuer.public_key, cert.signature_algorithm, cert.tbs, cert.signature
    )


# --- PEM --------------------------------------------------------------------------------


def der_to_pem(der: bytes) -> bytes:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([_PEM_HEADER, *lines, _PEM_FOOTER]) + "\n").encode("ascii")


def pem_to_der(pem: bytes | str) -> bytes:
    """The DER inside the first ``CERTIFICATE`` block of ``pem``; raises ``CertificateError``."""
    text = pem.decode("ascii", errors="replace") if isinstance(pem, bytes) else pem
    start = text.find(_PEM_HEADER)
    end = text.find(_PEM_FOOTER, start + 1)
    if start < 0 or end < 0:
        raise CertificateError("no PEM CERTIFICATE block found")
    body = "".join(text[start + len(_PEM_HEADER) : end].split())
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise CertificateError("invalid base64 in PEM CERTIFICATE block") from None
    if not der:
        raise CertificateError("empty PEM CERTIFICATE block")
    return der


# --- the suite dispatchers --------------------------------------------------------------


def _sign_certificate(
    suite: Suite,
    builder: x509.CertificateBuilder,
    key: PrivateKey,
    subject_key: bytes,
) -> bytes:
    """Sign the certificate ``builder`` describes with ``key``; DER.

    ``subject_key`` is the raw subject key the builder holds a ``_public_key_object`` of.
    """
    if suite.name == "standard":
        from yulian.crypto.standard import Ed25519PrivateKey

        if not isinstance(key, Ed25519PrivateKey):
            raise CertificateError("the standard suite signs certificates with Ed25519 keys")
        cert = builder.sign(key.crypto_key(), None)
        return cert.public_bytes(serialization.Encoding.DER)
    if suite.name == "gm":
        from yulian.crypto.gm import SM2_SPKI_PREFIX, Sm2PrivateKey

        if not isinstance(key, Sm2PrivateKey):
            raise CertificateError("the gm suite signs certificates with SM2 keys")
        placeholder = _placeholder_key()
        draft = builder.sign(placeholder, hashes.SHA256())
        fields = _der_elements(_der_content(draft.tbs_certificate_bytes, 0x30))
        if len(fields) != 8 or fields[0][:1] != b"\xa0":
            raise CertificateError("unexpected TBSCertificate layout")  # a v3 certificate
        if fields[6] != _placeholder_spki():
            raise CertificateError("the builder does not hold the placeholder key")
        fields[2] = _SM2_WITH_SM3_ALGORITHM
        fields[6] = SM2_SPKI_PREFIX + subject_key
        tbs = _der_encode(0x30, b"".join(fields))
        signature = key.sign(tbs)
        return _der_encode(
            0x30, tbs + _SM2_WITH_SM3_ALGORITHM + _der_encode(0x03, b"\x00" + signature)
        )
    raise CertificateError(f"suite {suite.name!r} cannot sign certificates")


def _public_key_object(
    suite: Suite, public_key: bytes
) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """A ``cryptography`` public key for the builder, from the suite's raw key bytes.

    For the gm suite this is the placeholder (``cryptography`` has no SM2 keys), which
    ``_sign_certificate`` swaps for the SM2 key; the SM2 key is checked to be a curve point.
    """
    if suite.name == "standard":
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(bytes(public_key))
        except ValueError:
            raise CertificateError("an Ed25519 public key is 32 bytes") from None
    if suite.name == "gm":
        from yulian.crypto.gm import sm2_public_key_valid

        if not sm2_public_key_valid(bytes(public_key)):
            raise CertificateError("an SM2 public key is 04 || x || y, a point on the curve")
        return _placeholder_key().public_key()
    raise CertificateError(f"suite {suite.name!r} cannot build certificates")


def _subject_key_identifier(suite: Suite, public_key: bytes) -> x509.SubjectKeyIdentifier:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits."""
    if suite.name == "gm":
        return x509.SubjectKeyIdentifier(hashlib.sha1(public_key).digest())
    return x509.SubjectKeyIdentifier.from_public_key(_public_key_object(suite, public_key))


def _authority_key_identifier(suite: Suite, issuer_key: bytes) -> x509.AuthorityKeyIdentifier:
    if suite.name == "gm":
        return x509.AuthorityKeyIdentifier(hashlib.sha1(issuer_key).digest(), None, None)
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(_public_key_object(suite, issuer_key))


def _read_public_key(cert: x509.Certificate, algorithm: str) -> tuple[str, bytes]:
    """The key algorithm and raw public key of ``cert``, dispatched on its SPKI algorithm."""
    if algorithm == ED25519_OID:
        key = cert.public_key()
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise CertificateError("public key does not match its algorithm identifier")
        return algorithm, key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    if algorithm == EC_PUBLIC_KEY_OID:
        from yulian.crypto.gm import SM2_PUBLIC_KEY_SIZE, SM2_SPKI_PREFIX, sm2_public_key_valid

        fields = _der_elements(_der_content(cert.tbs_certificate_bytes, 0x30))
        spki = fields[6] if len(fields) >= 7 and fields[0][:1] == b"\xa0" else b""
        point = spki[len(SM2_SPKI_PREFIX) :]
        if not spki.startswith(SM2_SPKI_PREFIX) or len(point) != SM2_PUBLIC_KEY_SIZE:
            raise CertificateError("unsupported elliptic curve public key (only SM2 is known)")
        if not sm2_public_key_valid(point):
            raise CertificateError("the SM2 public key is not a point on the curve")
        return SM2_OID, point
    raise CertificateError(f"unsupported public key algorithm {algorithm}")


def _verify_certificate_signature(
    suite: Suite, issuer_public_key: bytes, algorithm: str, tbs: bytes, signature: bytes
) -> bool:
    if suite.name == "standard":
        # PureEdDSA signs the TBSCertificate bytes directly (RFC 8410 §6).
        return algorithm == ED25519_OID and suite.verify(issuer_public_key, tbs, signature)
    if suite.name == "gm":
        # SM2 with SM3 and the default ID over the TBSCertificate (GM/T 0015), which must name
        # the same algorithm it is signed with.
        if algorithm != SM2_WITH_SM3_OID:
            return False
        try:
            fields = _der_elements(_der_content(tbs, 0x30))
        except CertificateError:
            return False
        return (
            len(fields) >= 7
            and fields[2] == _SM2_WITH_SM3_ALGORITHM
            and suite.verify(issuer_public_key, tbs, signature)
        )
    return False


@functools.cache
def _placeholder_key() -> ec.EllipticCurvePrivateKey:
    """A fixed P-256 key (scalar 1) that stands in for SM2 keys inside ``cryptography``."""
    return ec.derive_private_key(1, ec.SECP256R1())


@functools.cache
def _placeholder_spki() -> bytes:
    return (
        _placeholder_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


# --- DER --------------------------------------------------------------------------------


def _der_encode(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_header(data: bytes, pos: int) -> tuple[int, int]:
    """``(content start, content end)`` of the DER element at ``pos`` (one-byte tags only)."""
    if pos + 2 > len(data) or data[pos] & 0x1F == 0x1F:
        raise CertificateError("truncated or multi-byte-tag DER element")
    first = data[pos + 1]
    if first < 0x80:
        start, size = pos + 2, first
    else:
        count = first & 0x7F
        if not 1 <= count <= 3 or pos + 2 + count > len(data):
            raise CertificateError("unsupported DER length")
        size = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        if size < 0x80 or data[pos + 2] == 0:
            raise CertificateError("non-minimal DER length")
        start = pos + 2 + count
    if start + size > len(data):
        raise CertificateError("DER element runs past its container")
    return start, start + size


def _der_content(data: bytes, tag: int) -> bytes:
    """The content of ``data``, which must be exactly one DER element with ``tag``."""
    if not data or data[0] != tag:
        raise CertificateError(f"expected DER tag {tag:#04x}")
    start, end = _der_header(data, 0)
    if end != len(data):
        raise CertificateError("trailing bytes after a DER element")
    return data[start:end]


def _der_elements(content: bytes) -> list[bytes]:
    """The whole DER elements (tag, length and content) that ``content`` is made of."""
    elements = []
    pos = 0
    while pos < len(content):
        _, end = _der_header(content, pos)
        elements.append(content[pos:end])
        pos = end
    return elements


# --- helpers ----------------------------------------------------------------------------


def _subject(org: str, role: str, name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _single(name: x509.Name, oid: ObjectIdentifier, what: str) -> str:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        raise CertificateError(f"{what}: expected exactly one value, found {len(values)}")
    value = values[0].value
    if not isinstance(value, str):
        raise CertificateError(f"{what}: expected a string")
    _check_name(what, value)
    return value


def _check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise CertificateError(f"{what} must be a non-empty string")
    if len(value) > MAX_NAME_CHARS:
        raise CertificateError(f"{what} is longer than {MAX_NAME_CHARS} characters")
    if value != value.strip() or not value.isprintable():
        raise CertificateError(f"{what} {value!r} has surrounding space or control characters")


def _check_attributes(attributes: Mapping[Any, Any]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise CertificateError(f"at most {MAX_ATTRIBUTES} attributes")
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise CertificateError("attribute keys and values must be strings")
        if not key or len(key.encode("utf-8")) > MAX_ATTRIBUTE_KEY_BYTES:
            raise CertificateError(f"attribute key must be 1..{MAX_ATTRIBUTE_KEY_BYTES} bytes")
        if len(value.encode("utf-8")) > MAX_ATTRIBUTE_VALUE_BYTES:
            raise CertificateError(f"attribute {key!r} longer than {MAX_ATTRIBUTE_VALUE_BYTES}")


def _check_validity(not_before: datetime, not_after: datetime) -> None:
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise CertificateError("validity times must be timezone-aware")
    if not_after <= not_before:
        raise CertificateError("not_after must be later than not_before")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)
