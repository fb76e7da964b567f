"""The membership check: who is a member, when, in which role — and every named refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from yulian.crypto.membership import ERROR_CODES, Identity, Membership, MembershipError
from yulian.crypto.standard import STANDARD, Ed25519PrivateKey
from yulian.crypto.x509 import create_ca, issue_certificate
from yulian.types.genesis import Organisation

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)
T0_MS = 1_767_225_600_000
T1_MS = 1_798_761_600_000
MID_MS = (T0_MS + T1_MS) // 2
ALL_ROLES = ("client", "admin", "node")


def key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey(bytes([n]) * 32)


CA1_KEY, CA2_KEY, ROGUE_KEY = key(1), key(2), key(3)
CA1 = create_ca(STANDARD, "org1", CA1_KEY, not_before=T0, not_after=T1)
CA2 = create_ca(STANDARD, "org2", CA2_KEY, not_before=T0, not_after=T1)
# A CA with the very same subject as org1's, but a key the consortium never agreed on.
ROGUE_CA = create_ca(STANDARD, "org1", ROGUE_KEY, not_before=T0, not_after=T1)
ORGS = (Organisation("org1", CA1), Organisation("org2", CA2))


def issue(
    org: str = "org1",
    role: str = "client",
    name: str = "alice",
    *,
    ca: bytes = CA1,
    ca_key: Ed25519PrivateKey = CA1_KEY,
    member: int = 10,
    not_before: datetime = T0,
    not_after: datetime = T1,
    attributes: dict[str, str] | None = None,
) -> bytes:
    return issue_certificate(
        STANDARD,
        ca_cert=ca,
        ca_key=ca_key,
        org=org,
        role=role,
        name=name,
        public_key=key(member).public_key(),
        not_before=not_before,
        not_after=not_after,
        attributes=attributes,
    )


def cross_signed(subject_org: str, ca: bytes, ca_key: Ed25519PrivateKey) -> bytes:
    """A certificate whose subject says ``subject_org``, signed by another org's CA."""
    issuer = x509.load_der_x509_certificate(ca)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject_org),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "admin"),
            x509.NameAttribute(NameOID.COMMON_NAME, "admin"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key(20).crypto_key().public_key())
        .serial_number(77)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key.crypto_key(), None)
        .public_bytes(Encoding.DER)
    )


def self_signed_leaf(org: str = "org1") -> bytes:
    """A leaf that copies org1's CA name as its issuer but signs itself."""
    mallory = key(30)
    issuer = x509.load_der_x509_certificate(CA1).subject
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
            x509.NameAttribute(NameOID.COMMON_NAME, "mallory"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(mallory.crypto_key().public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T1)
        .sign(mallory.crypto_key(), None)
        .public_bytes(Encoding.DER)
    )


@pytest.fixture
def membership() -> Membership:
    return Membership(STANDARD, ORGS)


@pytest.mark.parametrize(
    ("org", "role", "name", "ca", "ca_key"),
    [
        ("org1", "client", "alice", CA1, CA1_KEY),
        ("org1", "admin", "admin", CA1, CA1_KEY),
        ("org1", "node", "org1-node0", CA1, CA1_KEY),
        ("org2", "client", "bob", CA2, CA2_KEY),
        ("org2", "admin", "admin", CA2, CA2_KEY),
        ("org2", "node", "org2-node0", CA2, CA2_KEY),
    ],
)
def test_valid_members(
    membership: Membership,
    org: str,
    role: str,
    name: str,
    ca: bytes,
    ca_key: Ed25519PrivateKey,
) -> None:
    der = issue(org, role, name, ca=ca, ca_key=ca_key, attributes={"role": "doctor"})
    identity = membership.validate(der, at_ms=MID_MS, roles=(role,))
    assert isinstance(identity, Identity)
    assert (identity.org, identity.role, identity.name) == (org, role, name)
    assert identity.id == STANDARD.hash(der).hex()
    assert identity.public_key == key(10).public_key()
    assert dict(identity.attributes) == {"role": "doctor"}
    assert identity.cert == der


def test_window_edges_are_inclusive(membership: Membership) -> None:
    der = issue()
    assert membership.validate(der, at_ms=T0_MS, roles=ALL_ROLES).name == "alice"
    assert membership.validate(der, at_ms=T1_MS, roles=ALL_ROLES).name == "alice"


REFUSALS = [
    ("unknown-ca", lambda: issue(ca=ROGUE_CA, ca_key=ROGUE_KEY), ALL_ROLES, {"unknown_ca"}),
    (
        "unknown-org",
        lambda: issue(
            "org9",
            ca=create_ca(STANDARD, "org9", key(4), not_before=T0, not_after=T1),
            ca_key=key(4),
        ),
        ALL_ROLES,
        {"unknown_ca"},
    ),
    (
        "org1-subject-signed-by-org2",
        lambda: cross_signed("org1", CA2, CA2_KEY),
        ALL_ROLES,
        {"unknown_ca", "organisation_mismatch"},
    ),
    (
        "org9-subject-signed-by-org2",
        lambda: cross_signed("org9", CA2, CA2_KEY),
        ALL_ROLES,
        {"unknown_ca", "organisation_mismatch"},
    ),
    ("self-signed-leaf", lambda: self_signed_leaf("org1"), ALL_ROLES, {"unknown_ca"}),
    ("self-signed-leaf-org2", lambda: self_signed_leaf("org2"), ALL_ROLES, {"unknown_ca"}),
    (
        "expired",
        lambda: issue(not_before=T0, not_after=datetime(2026, 2, 1, tzinfo=UTC)),
        ALL_ROLES,
        {"certificate_expired"},
    ),
    (
        "not-yet-valid",
        lambda: issue(not_before=datetime(2026, 12, 1, tzinfo=UTC), not_after=T1),
        ALL_ROLES,
        {"certificate_not_yet_valid"},
    ),
    ("client-as-node", lambda: issue(role="client"), ("node",), {"role_not_allowed"}),
    ("admin-as-client", lambda: issue(role="admin"), ("client",), {"role_not_allowed"}),
    ("no-role-allowed", lambda: issue(role="admin"), (), {"role_not_allowed"}),
    ("ca-as-member", lambda: CA1, ALL_ROLES, {"role_not_allowed"}),
    ("garbage", lambda: b"\x30\x03\x02\x01\x01", ALL_ROLES, {"malformed_certificate"}),
    ("empty", lambda: b"", ALL_ROLES, {"malformed_certificate"}),
    ("truncated", lambda: issue()[:-10], ALL_ROLES, {"malformed_certificate"}),
]


@pytest.mark.parametrize(
    ("make", "roles", "codes"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_refusals(membership: Membership, make, roles, codes) -> None:  # type: ignore[no-untyped-def]
    der = make()
    with pytest.raises(MembershipError) as info:
        membership.validate(der, at_ms=MID_MS, roles=roles)
    assert info.value.code in codes
    assert info.value.code in ERROR_CODES
    assert isinstance(info.value, ValueError)


def test_cross_signed_certificate_is_reported_as_organisation_mismatch(
    membership: Membership,
) -> None:
    with pytest.raises(MembershipError) as info:
        membership.validate(cross_signed("org1", CA2, CA2_KEY), at_ms=MID_MS, roles=ALL_ROLES)
    assert info.value.code == "organisation_mismatch"
    assert "org2" in str(info.value)


def test_root_ca_window_is_enforced_too() -> None:
    short_ca = create_ca(
        STANDARD, "org1", CA1_KEY, not_before=T0, not_after=datetime(2026, 3, 1, tzinfo=UTC)
    )
    membership = Membership(STANDARD, [Organisation("org1", short_ca)])
    der = issue(ca=short_ca)  # the leaf itself is valid for the whole of 2026
    with pytest.raises(MembershipError) as info:
        membership.validate(der, at_ms=MID_MS, roles=ALL_ROLES)
    assert info.value.code == "certificate_expired"
    assert membership.validate(der, at_ms=T0_MS + 1, roles=ALL_ROLES).name == "alice"


def test_cache_returns_the_same_identity_and_still_checks_time_and_role() -> None:
    membership = Membership(STANDARD, ORGS)
    der = issue(role="client", not_after=datetime(2026, 7, 1, tzinfo=UTC))
    first = membership.validate(der, at_ms=T0_MS + 1, roles=("client",))
    again = membership.validate(bytes(der), at_ms=T0_MS + 2, roles=("client", "admin"))
    assert again is first  # served from the cache
    with pytest.raises(MembershipError) as late:
        membership.validate(der, at_ms=T1_MS, roles=("client",))
    assert late.value.code == "certificate_expired"
    with pytest.raises(MembershipError) as early:
        membership.validate(der, at_ms=T0_MS - 1, roles=("client",))
    assert early.value.code == "certificate_not_yet_valid"
    with pytest.raises(MembershipError) as role:
        membership.validate(der, at_ms=T0_MS + 3, roles=("node",))
    assert role.value.code == "role_not_allowed"
    assert membership.validate(der, at_ms=T0_MS + 4, roles=("client",)) is first


def test_cache_skips_the_signature_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import yulian.crypto.membership as module

    calls = 0
    real = module.verify_signed_by

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "verify_signed_by", counting)
    membership = Membership(STANDARD, ORGS)
    calls = 0  # the roots' self-signatures were checked at construction
    der = issue()
    for _ in range(5):
        membership.validate(der, at_ms=MID_MS, roles=ALL_ROLES)
    assert calls == 1
    # A refusal is cached too, and still refused every time.
    bad = issue(ca=ROGUE_CA, ca_key=ROGUE_KEY)
    for _ in range(3):
        with pytest.raises(MembershipError):
            membership.validate(bad, at_ms=MID_MS, roles=ALL_ROLES)
    assert calls == 1 + 2  # org1 root, then the search among the other roots (org2), once


def test_cache_is_bounded() -> None:
    membership = Membership(STANDARD, ORGS, cache_size=3)
    certs = [issue(name=f"user{i}", member=40 + i) for i in range(5)]
    for der in certs:
        membership.validate(der, at_ms=MID_MS, roles=ALL_ROLES)
    assert len(membership._cache) == 3
    assert list(membership._cache) == certs[2:]


def test_consortium_roots_are_checked_at_construction() -> None:
    with pytest.raises(MembershipError) as bad:
        Membership(STANDARD, [Organisation("org1", b"junk")])
    assert bad.value.code == "malformed_certificate"
    with pytest.raises(MembershipError) as renamed:
        Membership(STANDARD, [Organisation("org2", CA1)])
    assert renamed.value.code == "organisation_mismatch"
    with pytest.raises(MembershipError) as leaf:
        Membership(STANDARD, [Organisation("org1", issue())])
    assert leaf.value.code == "malformed_certificate"
    with pytest.raises(ValueError):
        Membership(STANDARD, [Organisation("org1", CA1), Organisation("org1", CA1)])


def test_membership_error_codes_are_stable() -> None:
    assert ERROR_CODES == (
        "malformed_certificate",
        "unknown_ca",
        "certificate_expired",
        "certificate_not_yet_valid",
        "role_not_allowed",
        "organisation_mismatch",
        "certificate_revoked",
    )
    with pytest.raises(ValueError):
        MembershipError("nope", "x")


def test_every_edge_of_the_combined_window_gives_the_first_failing_check() -> None:
    """The cached fast path (one combined window) must agree with the checks in order."""
    ca_end = datetime(2026, 9, 1, tzinfo=UTC)
    leaf_start = datetime(2026, 2, 1, tzinfo=UTC)
    short_ca = create_ca(STANDARD, "org1", CA1_KEY, not_before=T0, not_after=ca_end)
    membership = Membership(STANDARD, [Organisation("org1", short_ca)])
    der = issue(ca=short_ca, not_before=leaf_start)  # the leaf outlives its CA
    start, end = int(leaf_start.timestamp() * 1000), int(ca_end.timestamp() * 1000)
    expected = {
        T0_MS - 1: "certificate_not_yet_valid",  # before both
        start - 1: "certificate_not_yet_valid",
        start: None,
        end: None,
        end + 1: "certificate_expired",  # the CA's end, inside the leaf's window
        T1_MS + 1: "certificate_expired",
    }
    for _ in range(2):  # first from a fresh check, then from the cache
        for at_ms, code in expected.items():
            if code is None:
                assert membership.validate(der, at_ms=at_ms, roles=("client",)).name == "alice"
                continue
            with pytest.raises(MembershipError) as info:
                membership.validate(der, at_ms=at_ms, roles=("client",))
            assert info.value.code == code, at_ms
    with pytest.raises(MembershipError) as late:
        membership.validate(der, at_ms=end + 1, roles=("client",))
    assert "root CA of org1 expired" in str(late.value)


@pytest.mark.parametrize("by", ["id", "key"])
def test_revocation_is_refused_from_the_cache_too(by: str) -> None:
    der = issue()
    revoked = (
        Membership(STANDARD, ORGS, revoked_ids=[STANDARD.hash(der)])
        if by == "id"
        else Membership(STANDARD, ORGS, revoked_keys=[("org1", key(10).public_key())])
    )
    for _ in range(3):
        with pytest.raises(MembershipError) as info:
            revoked.validate(der, at_ms=MID_MS, roles=ALL_ROLES)
        assert info.value.code == "certificate_revoked"
    # another member's certificate, and the same one under another organisation's key list
    assert revoked.validate(issue(name="bob", member=11), at_ms=MID_MS, roles=ALL_ROLES)
    other_org = Membership(STANDARD, ORGS, revoked_keys=[("org2", key(10).public_key())])
    assert other_org.validate(der, at_ms=MID_MS, roles=ALL_ROLES).name == "alice"
