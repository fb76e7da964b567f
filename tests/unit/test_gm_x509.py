"""X.509 with SM2: gm CAs and members, read back, checked by OpenSSL and GmSSL, and membership.

A gm certificate has the standard suite's layout (subject O/OU/CN, the same extensions,
attributes and CA flags) with an SM2 ``SubjectPublicKeyInfo`` and an SM2-with-SM3 signature.
"""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from gmssl import sm2 as gmssl_sm2

from yulian.crypto.gm import GM, SM2_SPKI_PREFIX, Sm2PrivateKey
from yulian.crypto.membership import MALFORMED_CERTIFICATE, UNKNOWN_CA, Membership, MembershipError
from yulian.crypto.standard import STANDARD, Ed25519PrivateKey
from yulian.crypto.suite import Suite
from yulian.crypto.x509 import (
    SM2_OID,
    SM2_WITH_SM3_OID,
    CertificateError,
    create_ca,
    der_to_pem,
    issue_certificate,
    parse_certificate,
    verify_issued_by,
)
from yulian.node.bootstrap import init_network
from yulian.types.genesis import Genesis, Organisation

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)
T0_MS = 1_767_225_600_000
T1_MS = 1_798_761_600_000
MID_MS = (T0_MS + T1_MS) // 2
ROLES = ("client", "admin", "node")

CA1_KEY, CA2_KEY = GM.generate_key(), GM.generate_key()
CA1 = create_ca(GM, "org1", CA1_KEY, not_before=T0, not_after=T1)
CA2 = create_ca(GM, "org2", CA2_KEY, not_before=T0, not_after=T1)
GM_ORGS = (Organisation("org1", CA1), Organisation("org2", CA2))
MEMBER_KEY = GM.generate_key()


def issue(
    suite: Suite = GM,
    role: str = "client",
    name: str = "alice",
    *,
    ca: bytes = CA1,
    ca_key: Sm2PrivateKey | Ed25519PrivateKey = CA1_KEY,
    org: str = "org1",
    public_key: bytes | None = None,
    attributes: dict[str, str] | None = None,
) -> bytes:
    return issue_certificate(
        suite,
        ca_cert=ca,
        ca_key=ca_key,
        org=org,
        role=role,
        name=name,
        public_key=MEMBER_KEY.public_key() if public_key is None else public_key,
        not_before=T0,
        not_after=T1,
        attributes=attributes,
        serial=4242,
    )


def _extension_layout(der: bytes) -> list[tuple[str, bool, str]]:
    """Each extension's OID, criticality and value, key identifiers left out (keys differ)."""
    cert = x509.load_der_x509_certificate(der)
    key_ids = (x509.SubjectKeyIdentifier.oid, x509.AuthorityKeyIdentifier.oid)
    return [
        (e.oid.dotted_string, e.critical, "" if e.oid in key_ids else repr(e.value))
        for e in cert.extensions
    ]


# --- building and reading ---------------------------------------------------------------


def test_ca_reads_back() -> None:
    ca = parse_certificate(CA1)
    assert (ca.org, ca.role, ca.name, ca.issuer_org) == ("org1", "ca", "ca.org1", "org1")
    assert ca.is_ca and ca.can_sign_certificates
    assert ca.public_key == CA1_KEY.public_key()
    assert (ca.public_key_algorithm, ca.signature_algorithm) == (SM2_OID, SM2_WITH_SM3_OID)
    assert (ca.not_before_ms, ca.not_after_ms) == (T0_MS, T1_MS)
    assert verify_issued_by(GM, CA1, CA1)


@pytest.mark.parametrize("role", ROLES)
def test_member_certificates_read_back_and_verify(role: str) -> None:
    der = issue(role=role, name=f"{role}-1", attributes={"role": "doctor", "dept": "cardio"})
    info = parse_certificate(der)
    assert (info.org, info.role, info.name) == ("org1", role, f"{role}-1")
    assert dict(info.attributes) == {"dept": "cardio", "role": "doctor"}
    assert info.public_key == MEMBER_KEY.public_key()
    assert info.serial == 4242 and not info.is_ca and not info.can_sign_certificates
    assert (info.public_key_algorithm, info.signature_algorithm) == (SM2_OID, SM2_WITH_SM3_OID)
    assert verify_issued_by(GM, der, CA1)
    assert not verify_issued_by(GM, der, CA2)
    assert not verify_issued_by(STANDARD, der, CA1)


@pytest.mark.parametrize("role", ROLES)
def test_same_layout_as_the_standard_suite(role: str) -> None:
    ed_ca_key = Ed25519PrivateKey(bytes([1]) * 32)
    ed_ca = create_ca(STANDARD, "org1", ed_ca_key, not_before=T0, not_after=T1)
    ed = issue(
        STANDARD,
        role,
        ca=ed_ca,
        ca_key=ed_ca_key,
        public_key=Ed25519PrivateKey(bytes([2]) * 32).public_key(),
        attributes={"a": "b"},
    )
    sm2 = issue(GM, role, attributes={"a": "b"})
    assert _extension_layout(sm2) == _extension_layout(ed)
    assert _extension_layout(CA1) == _extension_layout(ed_ca)
    ed_cert, sm2_cert = x509.load_der_x509_certificate(ed), x509.load_der_x509_certificate(sm2)
    assert ed_cert.subject == sm2_cert.subject and ed_cert.issuer == sm2_cert.issuer


def test_key_identifiers_are_sha1_of_the_point() -> None:
    import hashlib

    cert = x509.load_der_x509_certificate(issue())
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert ski.digest == hashlib.sha1(MEMBER_KEY.public_key()).digest()
    assert aki.key_identifier == hashlib.sha1(CA1_KEY.public_key()).digest()


def test_tampered_certificate_is_refused() -> None:
    der = issue(role="node", name="org1-node0")
    at = der.index(b"org1-node0")
    tampered = der[:at] + b"org1-node1" + der[at + 10 :]
    assert parse_certificate(tampered).name == "org1-node1"
    assert not verify_issued_by(GM, tampered, CA1)


def test_building_refuses_wrong_keys() -> None:
    with pytest.raises(CertificateError):  # an Ed25519 key in a gm certificate
        issue(public_key=Ed25519PrivateKey(bytes(32)).public_key())
    point = MEMBER_KEY.public_key()
    with pytest.raises(CertificateError):  # not a point on the curve
        issue(public_key=point[:-1] + bytes([point[-1] ^ 1]))
    with pytest.raises(CertificateError):  # a CA key that is not the CA certificate's
        issue(ca_key=CA2_KEY)
    with pytest.raises(CertificateError):  # an Ed25519 CA key under the gm suite
        create_ca(GM, "org3", Ed25519PrivateKey(bytes(32)), not_before=T0, not_after=T1)
    with pytest.raises(CertificateError):
        create_ca(STANDARD, "org3", GM.generate_key(), not_before=T0, not_after=T1)


def test_off_curve_key_in_a_certificate_is_malformed() -> None:
    der = issue()
    at = der.index(SM2_SPKI_PREFIX) + len(SM2_SPKI_PREFIX) + 64
    broken = der[:at] + bytes([der[at] ^ 1]) + der[at + 1 :]
    with pytest.raises(CertificateError, match="not a point on the curve"):
        parse_certificate(broken)


def test_other_elliptic_curves_are_not_read() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "org1"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ca"),
            x509.NameAttribute(NameOID.COMMON_NAME, "ca.org1"),
        ]
    )
    der = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    with pytest.raises(CertificateError, match="only SM2"):
        parse_certificate(der)


# --- interoperability -------------------------------------------------------------------


def test_openssl_verifies_the_chain(tmp_path: Path) -> None:
    (tmp_path / "ca1.crt").write_bytes(der_to_pem(CA1))
    (tmp_path / "ca2.crt").write_bytes(der_to_pem(CA2))
    (tmp_path / "leaf.crt").write_bytes(der_to_pem(issue(role="node", name="org1-node0")))
    at = str(MID_MS // 1000)

    def verify(ca: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["openssl", "verify", "-attime", at, "-vfyopt", "distid:1234567812345678",
             "-CAfile", str(tmp_path / ca), str(tmp_path / "leaf.crt")],
            capture_output=True, check=False, timeout=30,
        )  # fmt: skip

    ok = verify("ca1.crt")
    assert ok.returncode == 0, ok.stderr
    assert verify("ca2.crt").returncode != 0
    text = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "leaf.crt"), "-noout", "-text"],
        capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    assert b"Signature Algorithm: SM2-with-SM3" in text and b"ASN1 OID: SM2" in text


def test_a_ca_made_by_openssl_works_here(tmp_path: Path) -> None:
    key_path, cert_path = tmp_path / "ca.key", tmp_path / "ca.crt"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "SM2", "-out", str(key_path)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "req", "-x509", "-new", "-key", str(key_path), "-sm3",
         "-sigopt", "distid:1234567812345678", "-subj", "/O=org9/OU=ca/CN=ca.org9",
         "-days", "30", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
         "-out", str(cert_path)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    ca_der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(Encoding.DER)
    ca_key = GM.load_private_key(key_path.read_bytes())
    ca = parse_certificate(ca_der)
    assert ca.is_ca and ca.public_key == ca_key.public_key()
    assert verify_issued_by(GM, ca_der, ca_der)
    now = datetime.now(UTC)
    member = issue_certificate(
        GM,
        ca_cert=ca_der,
        ca_key=ca_key,
        org="org9",
        role="client",
        name="bob",
        public_key=MEMBER_KEY.public_key(),
        not_before=now,
        not_after=datetime(now.year + 1, 1, 1, tzinfo=UTC),
    )
    assert verify_issued_by(GM, member, ca_der)


def test_gmssl_verifies_the_certificate_signature() -> None:
    der = issue(role="admin", name="admin")
    cert = x509.load_der_x509_certificate(der)
    crypt = gmssl_sm2.CryptSM2(private_key="", public_key="00", asn1=True)
    crypt.public_key = CA1_KEY.public_key()[1:].hex()
    assert crypt.verify_with_sm3(cert.signature.hex(), cert.tbs_certificate_bytes)
    assert not crypt.verify_with_sm3(cert.signature.hex(), cert.tbs_certificate_bytes + b"\x00")


# --- membership -------------------------------------------------------------------------


def test_membership_accepts_gm_members_in_every_role() -> None:
    membership = Membership(GM, GM_ORGS)
    for role in ROLES:
        der = issue(role=role, name=f"{role}-7")
        identity = membership.validate(der, at_ms=MID_MS, roles=ROLES)
        assert (identity.org, identity.role, identity.name) == ("org1", role, f"{role}-7")
        assert identity.public_key == MEMBER_KEY.public_key()
        assert identity.id == GM.hash(der).hex()
    org2_node = issue(role="node", name="org2-node0", ca=CA2, ca_key=CA2_KEY, org="org2")
    assert membership.validate(org2_node, at_ms=MID_MS, roles=("node",)).org == "org2"


def test_a_standard_certificate_is_refused_under_gm_and_vice_versa() -> None:
    ed_ca_key = Ed25519PrivateKey(bytes([5]) * 32)
    ed_ca = create_ca(STANDARD, "org1", ed_ca_key, not_before=T0, not_after=T1)
    ed_member = issue(
        STANDARD,
        ca=ed_ca,
        ca_key=ed_ca_key,
        public_key=Ed25519PrivateKey(bytes([6]) * 32).public_key(),
    )
    gm_member = issue(GM)
    # a consortium of one suite cannot be built on the other suite's roots
    with pytest.raises(MembershipError) as refused:
        Membership(GM, (Organisation("org1", ed_ca),))
    assert refused.value.code == UNKNOWN_CA
    with pytest.raises(MembershipError):
        Membership(STANDARD, (Organisation("org1", CA1),))
    # and a member certificate of the other suite, naming the same organisation, is refused
    with pytest.raises(MembershipError) as e1:
        Membership(GM, GM_ORGS).validate(ed_member, at_ms=MID_MS, roles=ROLES)
    assert e1.value.code == UNKNOWN_CA
    with pytest.raises(MembershipError) as e2:
        Membership(STANDARD, (Organisation("org1", ed_ca),)).validate(
            gm_member, at_ms=MID_MS, roles=ROLES
        )
    assert e2.value.code == UNKNOWN_CA


def test_a_foreign_gm_ca_is_refused() -> None:
    rogue_key = GM.generate_key()
    rogue = create_ca(GM, "org1", rogue_key, not_before=T0, not_after=T1)
    der = issue(ca=rogue, ca_key=rogue_key)
    with pytest.raises(MembershipError) as e:
        Membership(GM, GM_ORGS).validate(der, at_ms=MID_MS, roles=ROLES)
    assert e.value.code == UNKNOWN_CA
    with pytest.raises(MembershipError) as bad:
        Membership(GM, GM_ORGS).validate(b"\x30\x03\x02\x01\x00", at_ms=MID_MS, roles=ROLES)
    assert bad.value.code == MALFORMED_CERTIFICATE


# --- network init -----------------------------------------------------------------------


def _der(pem_path: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem_path.read_bytes()).public_bytes(Encoding.DER)


def test_network_init_makes_a_gm_consortium(tmp_path: Path) -> None:
    layout = init_network(tmp_path / "net", orgs=2, validators=3, suite_name="gm")
    genesis = Genesis.load(layout.genesis)
    assert genesis.suite == "gm"
    membership = Membership(GM, genesis.organisations)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    for org in layout.orgs:
        assert parse_certificate(_der(org.ca_cert)).public_key_algorithm == SM2_OID
        admin = membership.validate(_der(org.admin.cert), at_ms=now_ms, roles=("admin",))
        assert admin.org == org.name
    for node, validator in zip(layout.nodes, genesis.validators, strict=True):
        cred = node.credential
        assert stat.S_IMODE(os.stat(cred.key).st_mode) == 0o600
        pem = cred.key.read_bytes()
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
        key = GM.load_private_key(pem)
        identity = membership.validate(_der(cred.cert), at_ms=now_ms, roles=("node",))
        assert identity.name == node.name == validator.name
        assert identity.public_key == key.public_key() == validator.public_key
