"""X.509 identities: build, read back, reject malformed input, check issuer signatures."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.crypto.standard import STANDARD, Ed25519PrivateKey
from yulian.crypto.x509 import (
    YULIAN_ATTRIBUTES_OID,
    CertificateError,
    create_ca,
    der_to_pem,
    encode_attributes,
    issue_certificate,
    parse_certificate,
    pem_to_der,
    verify_issued_by,
)
from yulian.types.encoding import encode

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)
T0_MS = 1_767_225_600_000
T1_MS = 1_798_761_600_000


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


CA_KEY = key(1)
CA = create_ca(STANDARD, "org1", CA_KEY, not_before=T0, not_after=T1)
OTHER_CA_KEY = key(2)
OTHER_CA = create_ca(STANDARD, "org2", OTHER_CA_KEY, not_before=T0, not_after=T1)


def leaf(
    role: str = "client",
    name: str = "alice",
    *,
    member_key: Ed25519PrivateKey | None = None,
    attributes: dict[str, str] | None = None,
) -> bytes:
    return issue_certificate(
        STANDARD,
        ca_cert=CA,
        ca_key=CA_KEY,
        org="org1",
        role=role,
        name=name,
        public_key=(member_key or key(9)).public_key(),
        not_before=T0,
        not_after=T1,
        attributes=attributes,
        serial=4242,
    )


def test_issue_then_parse_round_trips_every_field() -> None:
    member = key(7)
    der = leaf(member_key=member, attributes={"role": "doctor", "dept": "cardiology"})
    info = parse_certificate(der)
    assert (info.org, info.role, info.name) == ("org1", "client", "alice")
    assert dict(info.attributes) == {"dept": "cardiology", "role": "doctor"}
    assert info.public_key == member.public_key()
    assert (info.not_before_ms, info.not_after_ms) == (T0_MS, T1_MS)
    assert info.serial == 4242
    assert info.issuer_org == "org1"
    assert info.is_ca is False
    assert info.der == der


def test_ca_is_a_self_signed_ca() -> None:
    info = parse_certificate(CA)
    assert info.is_ca and info.can_sign_certificates
    assert (info.org, info.role, info.issuer_org) == ("org1", "ca", "org1")
    assert info.public_key == CA_KEY.public_key()
    assert verify_issued_by(STANDARD, CA, CA)
    assert not verify_issued_by(STANDARD, OTHER_CA, CA)


def test_no_attributes_means_no_extension_and_empty_map() -> None:
    der = leaf()
    assert dict(parse_certificate(der).attributes) == {}
    cert = x509.load_der_x509_certificate(der)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(YULIAN_ATTRIBUTES_OID)


def test_attributes_extension_is_canonical_msgpack_and_non_critical() -> None:
    der = leaf(attributes={"z": "1", "a": "2", "m": "3"})
    ext = x509.load_der_x509_certificate(der).extensions.get_extension_for_oid(
        YULIAN_ATTRIBUTES_OID
    )
    assert ext.critical is False
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    assert ext.value.value == encode({"a": "2", "m": "3", "z": "1"})
    assert encode_attributes({"m": "3", "z": "1", "a": "2"}) == ext.value.value


def test_node_certificate_is_usable_for_mutual_tls() -> None:
    cert = x509.load_der_x509_certificate(leaf("node", "org1-node0"))
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    client = x509.load_der_x509_certificate(leaf("client"))
    with pytest.raises(x509.ExtensionNotFound):
        client.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"not a certificate at all",
        b"\x30\x00",
        CA[:-1],
        CA + b"\x00",
        CA[: len(CA) // 2],
        b"\x30\x82\xff\xff" + b"\x00" * 16,
    ],
    ids=["empty", "zero", "text", "empty-seq", "truncated", "trailing", "half", "long-len"],
)
def test_malformed_der_raises_certificate_error(data: bytes) -> None:
    with pytest.raises(CertificateError):
        parse_certificate(data)


def test_non_bytes_raise_certificate_error() -> None:
    with pytest.raises(CertificateError):
        parse_certificate("MIIB...")  # type: ignore[arg-type]


def _raw_leaf(extensions: list[tuple[x509.ExtensionType, bool]], subject: x509.Name) -> bytes:
    """A certificate built directly with ``cryptography``, signed by org1's CA."""
    ca = x509.load_der_x509_certificate(CA)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key(9).crypto_key().public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T1)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(CA_KEY.crypto_key(), None).public_bytes(Encoding.DER)


SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org1"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
        x509.NameAttribute(NameOID.COMMON_NAME, "mallory"),
    ]
)


def test_the_raw_builder_makes_a_parseable_certificate() -> None:
    # The negative cases below differ from this one in exactly one respect.
    info = parse_certificate(_raw_leaf([], SUBJECT))
    assert (info.org, info.role, info.name) == ("org1", "client", "mallory")


@pytest.mark.parametrize(
    "extensions",
    [
        [(x509.UnrecognizedExtension(YULIAN_ATTRIBUTES_OID, b"\xc1"), False)],  # bad msgpack
        [(x509.UnrecognizedExtension(YULIAN_ATTRIBUTES_OID, b"\x92\xa1a\xa1b"), False)],  # array
        [(x509.UnrecognizedExtension(YULIAN_ATTRIBUTES_OID, b"\x81\xa1a\x01"), False)],  # int
        [
            (
                x509.UnrecognizedExtension(YULIAN_ATTRIBUTES_OID, b"\x82\xa1b\xa1x\xa1a\xa1y"),
                False,
            )
        ],  # keys out of canonical order
        [(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), True)],
    ],
    ids=["bad-msgpack", "array", "int-value", "unsorted-keys", "unknown-critical"],
)
def test_bad_extensions_raise_certificate_error(
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> None:
    with pytest.raises(CertificateError):
        parse_certificate(_raw_leaf(extensions, SUBJECT))


@pytest.mark.parametrize(
    "subject",
    [
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
                x509.NameAttribute(NameOID.COMMON_NAME, "mallory"),
            ]
        ),
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org1"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org2"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
                x509.NameAttribute(NameOID.COMMON_NAME, "mallory"),
            ]
        ),
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org1"),
                x509.NameAttribute(NameOID.COMMON_NAME, "mallory"),
            ]
        ),
    ],
    ids=["no-O", "two-O", "no-OU"],
)
def test_ambiguous_subjects_raise_certificate_error(subject: x509.Name) -> None:
    with pytest.raises(CertificateError):
        parse_certificate(_raw_leaf([], subject))


def test_certificate_signed_by_another_key_fails_verify_issued_by() -> None:
    good = leaf()
    assert verify_issued_by(STANDARD, good, CA)
    # Same issuer name as org1's CA, but signed with a different key.
    impostor_ca = create_ca(STANDARD, "org1", key(3), not_before=T0, not_after=T1)
    forged = issue_certificate(
        STANDARD,
        ca_cert=impostor_ca,
        ca_key=key(3),
        org="org1",
        role="client",
        name="alice",
        public_key=key(9).public_key(),
        not_before=T0,
        not_after=T1,
    )
    assert parse_certificate(forged).issuer_org == "org1"
    assert not verify_issued_by(STANDARD, forged, CA)
    assert verify_issued_by(STANDARD, forged, impostor_ca)
    # Another organisation's CA did not sign it either.
    assert not verify_issued_by(STANDARD, good, OTHER_CA)
    # A leaf is not a CA, even over its own certificate.
    assert not verify_issued_by(STANDARD, good, good)


def test_tampered_signature_fails_verify_issued_by() -> None:
    der = bytearray(leaf())
    der[-1] ^= 0x01  # the signature is the last field of the certificate
    assert parse_certificate(bytes(der)).name == "alice"
    assert not verify_issued_by(STANDARD, bytes(der), CA)


def test_verify_issued_by_raises_for_malformed_input() -> None:
    with pytest.raises(CertificateError):
        verify_issued_by(STANDARD, b"junk", CA)
    with pytest.raises(CertificateError):
        verify_issued_by(STANDARD, leaf(), b"junk")


@pytest.mark.parametrize(
    "change",
    [
        {"role": "ca"},
        {"role": "superuser"},
        {"org": "org2"},  # org1's CA cannot issue for org2
        {"ca_key": key(3)},  # not the CA certificate's key
        {"ca_cert": b"junk"},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "alice\n"},
        {"public_key": b"\x01" * 31},
        {"not_before": T1, "not_after": T0},
        {"not_before": datetime(2026, 1, 1)},  # naive
        {"attributes": {"k": 1}},
        {"attributes": {"": "v"}},
        {"serial": 0},
    ],
)
def test_issue_rejects_bad_requests(change: dict[str, object]) -> None:
    request: dict[str, object] = {
        "ca_cert": CA,
        "ca_key": CA_KEY,
        "org": "org1",
        "role": "client",
        "name": "alice",
        "public_key": key(9).public_key(),
        "not_before": T0,
        "not_after": T1,
    }
    request.update(change)
    with pytest.raises(CertificateError):
        issue_certificate(STANDARD, **request)  # type: ignore[arg-type]


def test_a_leaf_cannot_issue() -> None:
    with pytest.raises(CertificateError, match="not a CA"):
        issue_certificate(
            STANDARD,
            ca_cert=leaf(member_key=key(5)),
            ca_key=key(5),
            org="org1",
            role="client",
            name="bob",
            public_key=key(6).public_key(),
            not_before=T0,
            not_after=T1,
        )


def test_pem_round_trip_and_errors() -> None:
    der = leaf()
    pem = der_to_pem(der)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert all(len(line) <= 64 for line in pem.splitlines()[1:-1])
    assert pem_to_der(pem) == der
    assert pem_to_der(pem.decode()) == der
    assert pem_to_der(b"junk before\n" + pem + b"trailing\n") == der
    for bad in (b"", b"hello", b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"):
        with pytest.raises(CertificateError):
            pem_to_der(bad)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=16),
        st.text(max_size=40),
        max_size=6,
    )
)
def test_attributes_round_trip(attributes: dict[str, str]) -> None:
    info = parse_certificate(leaf(attributes=attributes))
    assert dict(info.attributes) == attributes


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_openssl_agrees_on_the_chain(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(der_to_pem(CA))
    (tmp_path / "other.crt").write_bytes(der_to_pem(OTHER_CA))
    (tmp_path / "leaf.crt").write_bytes(der_to_pem(leaf("node", "org1-node0")))
    at = str(int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()))

    def verify(ca: str) -> int:
        return subprocess.run(
            ["openssl", "verify", "-attime", at, "-CAfile", ca, str(tmp_path / "leaf.crt")],
            capture_output=True,
            check=False,
        ).returncode

    assert verify(str(tmp_path / "ca.crt")) == 0
    assert verify(str(tmp_path / "other.crt")) != 0


def test_validity_is_read_in_milliseconds_at_second_precision() -> None:
    nb = T0 + timedelta(seconds=1, microseconds=999_999)
    der = issue_certificate(
        STANDARD,
        ca_cert=CA,
        ca_key=CA_KEY,
        org="org1",
        role="admin",
        name="admin",
        public_key=key(9).public_key(),
        not_before=nb,
        not_after=T1,
    )
    assert parse_certificate(der).not_before_ms == T0_MS + 1000
