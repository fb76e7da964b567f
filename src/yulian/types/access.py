"""Introduction: what the ``access`` system contract keeps — the audit trail and read policies.

- ``AccessRecord``: one allowed read of private data (访问全程留痕, decision 0076): who, what,
  when, purpose, and the consent it relied on.
- ``ReadPolicy``: who may read a contract's state and call its queries through the API
  (decision 0079).

Both have a canonical positional encoding and a strict decoder, like the rest of the privacy
data model (``types/privacy.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yulian.types.encoding import DecodeError, Value, decode, encode
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)
from yulian.types.privacy import (
    MAX_DIGEST,
    MAX_KEY,
    MAX_NAME,
    MAX_SUBJECT,
    MAX_TEXT,
    PRIVACY_LIMITS,
    Audience,
    PrivacyValueError,
    audience_from_value,
    audience_matches,
    audience_text,
    audience_value,
    parse_audience,
)

AccessVersion = 1


# --- the audit trail -------------------------------------------------------------------------

BASIS_OWNER = "owner"  # the reader's organisation wrote the record
BASIS_MEMBER = "member"  # the collection needs no consent
BASIS_GRANT = "grant"  # a consent grant (grant id in the record)


@dataclass(frozen=True)
class AccessRecord:
    """One allowed read (访问全程留痕, decision 0076)."""

    id: int
    height: int
    time_ms: int
    tx: bytes
    reader: str  # identity id (hex)
    reader_org: str
    reader_role: str
    reader_attributes: tuple[tuple[str, str], ...]
    collection: str
    key: str
    version: int
    digest: bytes
    subject: str
    owner: str
    purpose: str
    basis: str
    grant_id: int
    valid_until: int  # the last height at which the value may be delivered for this read

    def to_value(self) -> tuple[Value, ...]:
        return (
            AccessVersion,
            self.id,
            self.height,
            self.time_ms,
            self.tx,
            self.reader,
            self.reader_org,
            self.reader_role,
            tuple(self.reader_attributes),
            self.collection,
            self.key,
            self.version,
            self.digest,
            self.subject,
            self.owner,
            self.purpose,
            self.basis,
            self.grant_id,
            self.valid_until,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> AccessRecord:
        f = expect_array(decode(data, PRIVACY_LIMITS), "access", 19)
        expect_version(f[0], "access.version", AccessVersion)
        attrs = tuple(
            (expect_str(a[0], "access.attribute", MAX_NAME), expect_str(a[1], "value", MAX_TEXT))
            for a in (
                expect_array(a, "access.attribute", 2)
                for a in expect_list(f[8], "access.attributes", 16)
            )
        )
        return cls(
            expect_int(f[1], "access.id", 1),
            expect_int(f[2], "access.height", 1),
            expect_int(f[3], "access.time_ms", 0),
            expect_bytes(f[4], "access.tx", MAX_DIGEST),
            expect_str(f[5], "access.reader", 2 * MAX_DIGEST),
            expect_str(f[6], "access.reader_org", MAX_NAME),
            expect_str(f[7], "access.reader_role", MAX_NAME),
            attrs,
            expect_str(f[9], "access.collection", 48),
            expect_str(f[10], "access.key", MAX_KEY),
            expect_int(f[11], "access.record_version", 1),
            expect_bytes(f[12], "access.digest", MAX_DIGEST),
            expect_str(f[13], "access.subject", MAX_SUBJECT, allow_empty=True),
            expect_str(f[14], "access.owner", MAX_NAME),
            expect_str(f[15], "access.purpose", MAX_NAME),
            expect_str(f[16], "access.basis", 16),
            expect_int(f[17], "access.grant_id", 0),
            expect_int(f[18], "access.valid_until", 0),
        )

    def view(self) -> dict[str, Value]:
        return {
            "id": self.id,
            "height": self.height,
            "time_ms": self.time_ms,
            "tx": self.tx.hex(),
            "reader": self.reader,
            "reader_org": self.reader_org,
            "reader_role": self.reader_role,
            "reader_attributes": dict(self.reader_attributes),
            "collection": self.collection,
            "key": self.key,
            "version": self.version,
            "digest": self.digest.hex(),
            "subject": self.subject,
            "owner": self.owner,
            "purpose": self.purpose,
            "basis": self.basis,
            "grant_id": self.grant_id,
            "valid_until": self.valid_until,
        }


# --- read policies -----------------------------------------------------------------------------

POLICY_PUBLIC = "public"
POLICY_MEMBERS = "members"
POLICY_NONE = "none"
POLICY_AUDIENCE = "audience"
POLICY_KINDS = (POLICY_PUBLIC, POLICY_MEMBERS, POLICY_NONE, POLICY_AUDIENCE)


@dataclass(frozen=True)
class ReadPolicy:
    """Who may read a contract's state and call its queries through the API (decision 0079)."""

    kind: str
    audience: Audience = ()

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise PrivacyValueError(f"a read policy is one of {', '.join(POLICY_KINDS)}")
        if (self.kind == POLICY_AUDIENCE) != bool(self.audience):
            raise PrivacyValueError("an audience policy, and only it, lists clauses")

    def needs_identity(self) -> bool:
        return self.kind != POLICY_PUBLIC

    def allows(self, org: str | None, role: str, attributes: Mapping[str, str]) -> bool:
        """``org`` is None for an anonymous caller; otherwise an authenticated member."""
        if self.kind == POLICY_PUBLIC:
            return True
        if org is None or self.kind == POLICY_NONE:
            return False
        if self.kind == POLICY_MEMBERS:
            return True
        return audience_matches(self.audience, org, role, attributes)

    def text(self) -> str:
        if self.kind == POLICY_AUDIENCE:
            return " ".join(audience_text(self.audience))
        return self.kind

    @classmethod
    def parse(cls, text: str) -> ReadPolicy:
        """``public``, ``members``, ``none`` or clauses separated by spaces."""
        text = text.strip() if isinstance(text, str) else ""
        if text in (POLICY_PUBLIC, POLICY_MEMBERS, POLICY_NONE):
            return cls(text)
        if not text:
            raise PrivacyValueError("an empty read policy")
        return cls(POLICY_AUDIENCE, parse_audience(text))

    def to_value(self) -> tuple[Value, ...]:
        return (self.kind, audience_value(self.audience))

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> ReadPolicy:
        f = expect_array(decode(data, PRIVACY_LIMITS), "read policy", 2)
        kind = expect_str(f[0], "read policy.kind", 16)
        audience = audience_from_value(f[1], "read policy.audience", allow_empty=True)
        try:
            return cls(kind, audience)
        except PrivacyValueError as e:
            raise DecodeError(str(e)) from None
