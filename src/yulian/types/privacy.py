"""Introduction: the data model of private data — who, collections, records, grants, reads.

These are the values the privacy system contracts keep in state (decisions 0075–0077), each a
frozen dataclass with a canonical positional encoding and a strict decoder (a wrong field is a
``DecodeError`` naming it), so every node reads the same bytes the same way:

- ``Clause`` / ``Audience``: who — ``org:role[:attr=value,...]`` clauses, ``*`` for any; an
  identity matches an audience when it matches one of its clauses.
- ``CollectionDef``: a governed private data collection.
- ``PrivateRecord``: one version of a private key as the chain knows it — the salted digest,
  never the value.
- ``Grant``: a consent grant.

The audit trail's ``AccessRecord`` and the API's ``ReadPolicy`` are in ``types/access.py``.

``private_digest`` is the one definition of the salted digest the chain carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yulian.types.encoding import DecodeError, Limits, Value, decode, encode
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)

DIGEST_DOMAIN = "yulian/private/v1"
SALT_BYTES = 32
ANY = "*"
MAX_CLAUSES = 16
MAX_ATTRIBUTES = 8
MAX_MEMBERS = 64
MAX_PURPOSES = 8
MAX_NAME = 64  # organisations, roles, attribute names and values, purposes
MAX_KEY = 128  # a private key (UTF-8 bytes)
MAX_SUBJECT = 64
MAX_TEXT = 256
MAX_VALUE_LIMIT = 1 << 20  # the largest max_value_bytes a collection may declare
DEFAULT_MAX_VALUE_BYTES = 64 * 1024
MAX_DIGEST = 64
COLLECTION_NAME = re.compile(r"[a-z][a-z0-9_-]{0,47}")
PRIVACY_LIMITS = Limits(max_bytes=64 * 1024, max_depth=6, max_items=256, max_str=4096)

DefinitionVersion = 1
RecordVersion = 1
GrantVersion = 1


class PrivacyValueError(ValueError):
    """A privacy value (clause, definition, grant, ...) that is not well-formed."""


def private_digest(
    hash_fn: Callable[[bytes], bytes],
    chain_id: str,
    collection: str,
    key: str,
    salt: bytes,
    value: bytes,
) -> bytes:
    """The salted digest of one version of a private value (decision 0075)."""
    return hash_fn(encode((DIGEST_DOMAIN, chain_id, collection, key, salt, value)))


# --- who ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """``org:role[:name=value,...]``: an organisation (or ``*``), a role (or ``*``) and
    attributes the identity's certificate must all carry."""

    org: str = ANY
    role: str = ANY
    attributes: tuple[tuple[str, str], ...] = ()

    def matches(self, org: str, role: str, attributes: Mapping[str, str]) -> bool:
        if self.org != ANY and self.org != org:
            return False
        if self.role != ANY and self.role != role:
            return False
        return all(attributes.get(k) == v for k, v in self.attributes)

    def to_value(self) -> tuple[Value, ...]:
        return (self.org, self.role, tuple(self.attributes))

    @classmethod
    def from_value(cls, value: Value, name: str = "clause") -> Clause:
        f = expect_array(value, name, 3)
        attrs = tuple(
            (
                _name(expect_array(a, f"{name}.attribute", 2)[0], f"{name}.attribute.name"),
                _name(a[1], f"{name}.attribute.value"),
            )
            for a in expect_list(f[2], f"{name}.attributes", MAX_ATTRIBUTES)
        )
        clause = cls(_name(f[0], f"{name}.org"), _name(f[1], f"{name}.role"), attrs)
        if list(attrs) != sorted(set(attrs)):
            raise DecodeError(f"{name}.attributes: must be sorted and unique")
        return clause

    def text(self) -> str:
        base = f"{self.org}:{self.role}"
        if self.attributes:
            base += ":" + ",".join(f"{k}={v}" for k, v in self.attributes)
        return base

    @classmethod
    def parse(cls, text: str) -> Clause:
        """``"org:role"`` or ``"org:role:name=value,name=value"`` (``*`` for any)."""
        if not isinstance(text, str):
            raise PrivacyValueError("a clause is a string like 'org1:client:role=doctor'")
        parts = text.split(":")
        if len(parts) == 1:
            parts.append(ANY)
        if len(parts) not in (2, 3):
            raise PrivacyValueError(f"clause {text!r}: expected org:role[:name=value,...]")
        attrs: dict[str, str] = {}
        if len(parts) == 3 and parts[2]:
            for pair in parts[2].split(","):
                k, sep, v = pair.partition("=")
                if not sep or not k or not v:
                    raise PrivacyValueError(
                        f"clause {text!r}: attribute {pair!r} is not name=value"
                    )
                attrs[k.strip()] = v.strip()
        clause = cls(parts[0].strip() or ANY, parts[1].strip() or ANY, tuple(sorted(attrs.items())))
        try:
            return cls.from_value(clause.to_value())
        except DecodeError as e:
            raise PrivacyValueError(f"clause {text!r}: {e}") from None


Audience = tuple[Clause, ...]


def audience_matches(audience: Audience, org: str, role: str, attrs: Mapping[str, str]) -> bool:
    return any(c.matches(org, role, attrs) for c in audience)


def audience_value(audience: Audience) -> tuple[Value, ...]:
    return tuple(c.to_value() for c in audience)


def audience_from_value(value: Value, name: str, *, allow_empty: bool = False) -> Audience:
    clauses = tuple(
        Clause.from_value(c, f"{name}[{i}]")
        for i, c in enumerate(expect_list(value, name, MAX_CLAUSES))
    )
    if not clauses and not allow_empty:
        raise DecodeError(f"{name}: at least one clause")
    return clauses


def parse_audience(texts: Sequence[str] | str) -> Audience:
    """Clauses from text (a list, or one string of clauses separated by spaces)."""
    items = texts.split() if isinstance(texts, str) else list(texts)
    if len(items) > MAX_CLAUSES:
        raise PrivacyValueError(f"at most {MAX_CLAUSES} clauses")
    return tuple(Clause.parse(t) for t in items)


def audience_text(audience: Audience) -> list[str]:
    return [c.text() for c in audience]


# --- collections -------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionDef:
    """A private data collection as governance defined it (decision 0075)."""

    name: str
    members: tuple[str, ...]  # organisations whose nodes hold the values, sorted
    writers: Audience
    readers: Audience
    auditors: Audience = ()
    consent: bool = False  # reads by other organisations than the writer's need a grant
    subject_issuers: tuple[str, ...] = ()  # organisations that certify subject=<id>
    blocks_to_live: int = 0  # 0: kept until a governed purge
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES

    def __post_init__(self) -> None:
        try:
            _definition_fields(self.to_value())
        except DecodeError as e:
            raise PrivacyValueError(str(e)) from None

    def is_member(self, org: str) -> bool:
        return org in self.members

    def is_subject(self, org: str, attributes: Mapping[str, str], subject: str) -> bool:
        """Whether an identity of ``org`` with ``attributes`` is the data subject ``subject``."""
        return (
            bool(subject) and org in self.subject_issuers and attributes.get("subject") == subject
        )

    def to_value(self) -> tuple[Value, ...]:
        return (
            DefinitionVersion,
            self.name,
            tuple(self.members),
            audience_value(self.writers),
            audience_value(self.readers),
            audience_value(self.auditors),
            self.consent,
            tuple(self.subject_issuers),
            self.blocks_to_live,
            self.max_value_bytes,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> CollectionDef:
        return cls.from_value(decode(data, PRIVACY_LIMITS))

    @classmethod
    def from_value(cls, value: Value) -> CollectionDef:
        return cls(*_definition_fields(value))

    def view(self) -> dict[str, Value]:
        return {
            "name": self.name,
            "members": list(self.members),
            "writers": audience_text(self.writers),
            "readers": audience_text(self.readers),
            "auditors": audience_text(self.auditors),
            "consent": self.consent,
            "subject_issuers": list(self.subject_issuers),
            "blocks_to_live": self.blocks_to_live,
            "max_value_bytes": self.max_value_bytes,
        }

    @classmethod
    def from_view(cls, doc: Mapping[str, Any]) -> CollectionDef:
        """A definition from its readable form (CLI files, SDK); raises ``PrivacyValueError``."""
        known = set(cls.__dataclass_fields__)
        unknown = set(doc) - known
        if unknown:
            raise PrivacyValueError(f"unknown collection fields: {', '.join(sorted(unknown))}")
        try:
            return cls(
                name=doc["name"],
                members=tuple(sorted(set(doc["members"]))),
                writers=parse_audience(doc["writers"]),
                readers=parse_audience(doc["readers"]),
                auditors=parse_audience(doc.get("auditors", ())),
                consent=bool(doc.get("consent", False)),
                subject_issuers=tuple(sorted(set(doc.get("subject_issuers", ())))),
                blocks_to_live=int(doc.get("blocks_to_live", 0)),
                max_value_bytes=int(doc.get("max_value_bytes", DEFAULT_MAX_VALUE_BYTES)),
            )
        except KeyError as e:
            raise PrivacyValueError(f"a collection needs {e.args[0]!r}") from None
        except TypeError as e:
            raise PrivacyValueError(f"collection: {e}") from None


def _definition_fields(value: Value) -> tuple[Any, ...]:
    """The fields of an encoded definition, checked; raises ``DecodeError``."""
    f = expect_array(value, "collection", 10)
    expect_version(f[0], "collection.version", DefinitionVersion)
    name = expect_str(f[1], "collection.name", 48)
    if not COLLECTION_NAME.fullmatch(name):
        raise DecodeError("collection.name: 1..48 of a-z 0-9 _ -, starting with a letter")
    if not isinstance(f[6], bool):
        raise DecodeError("collection.consent: expected true or false")
    return (
        name,
        _org_set(f[2], "collection.members", MAX_MEMBERS, low=1),
        audience_from_value(f[3], "collection.writers"),
        audience_from_value(f[4], "collection.readers"),
        audience_from_value(f[5], "collection.auditors", allow_empty=True),
        f[6],
        _org_set(f[7], "collection.subject_issuers", MAX_MEMBERS, low=0),
        expect_int(f[8], "collection.blocks_to_live", 0, 1 << 40),
        expect_int(f[9], "collection.max_value_bytes", 1, MAX_VALUE_LIMIT),
    )


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateRecord:
    """One version of a private key, as the chain knows it (decision 0075)."""

    collection: str
    key: str
    version: int
    digest: bytes
    size: int
    owner: str  # the writer's organisation
    writer: str  # the writer's identity id (hex)
    subject: str
    height: int
    tx: bytes
    purge_at: int  # the height from which the value is purged (0: never by schedule)
    purged_at: int = 0  # the height of a governed purge (0: none)
    via: str = ""  # the contract that wrote it through ctx.private ("" for collections.put)

    def purged(self, height: int) -> bool:
        """Whether the value is gone at ``height`` (scheduled or governed purge)."""
        return bool(self.purged_at) or (self.purge_at > 0 and height >= self.purge_at)

    def to_value(self) -> tuple[Value, ...]:
        return (
            RecordVersion,
            self.collection,
            self.key,
            self.version,
            self.digest,
            self.size,
            self.owner,
            self.writer,
            self.subject,
            self.height,
            self.tx,
            self.purge_at,
            self.purged_at,
            self.via,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> PrivateRecord:
        f = expect_array(decode(data, PRIVACY_LIMITS), "record", 14)
        expect_version(f[0], "record.version", RecordVersion)
        return cls(
            expect_str(f[1], "record.collection", 48),
            expect_str(f[2], "record.key", MAX_KEY),
            expect_int(f[3], "record.version", 1),
            expect_bytes(f[4], "record.digest", MAX_DIGEST),
            expect_int(f[5], "record.size", 0, MAX_VALUE_LIMIT),
            expect_str(f[6], "record.owner", MAX_NAME),
            expect_str(f[7], "record.writer", 2 * MAX_DIGEST),
            expect_str(f[8], "record.subject", MAX_SUBJECT, allow_empty=True),
            expect_int(f[9], "record.height", 0),
            expect_bytes(f[10], "record.tx", MAX_DIGEST),
            expect_int(f[11], "record.purge_at", 0),
            expect_int(f[12], "record.purged_at", 0),
            expect_str(f[13], "record.via", 48, allow_empty=True),
        )

    def view(self, height: int) -> dict[str, Value]:
        return {
            "collection": self.collection,
            "key": self.key,
            "version": self.version,
            "digest": self.digest.hex(),
            "size": self.size,
            "owner": self.owner,
            "writer": self.writer,
            "subject": self.subject,
            "height": self.height,
            "tx": self.tx.hex(),
            "purge_at": self.purge_at,
            "purged_at": self.purged_at,
            "purged": self.purged(height),
            "via": self.via,
        }


# --- consent -------------------------------------------------------------------------------

SCOPE_KEY = "key"  # one record
SCOPE_SUBJECT = "subject"  # every record of one subject in the collection
SCOPE_OWNER = "owner"  # every record one organisation wrote in the collection


@dataclass(frozen=True)
class Grant:
    """A consent grant (decision 0077)."""

    id: int
    scope: str
    collection: str
    subject: str
    key: str
    owner: str  # for SCOPE_OWNER: the organisation whose records it covers
    grantee: Clause
    purposes: tuple[str, ...]
    grantor: str  # identity id (hex)
    grantor_org: str
    granted_at: int  # height
    until_ms: int  # block time it ends (0: until revoked)
    revoked_at: int = 0  # height (0: not revoked)

    def in_force(self, time_ms: int) -> bool:
        return not self.revoked_at and (self.until_ms == 0 or time_ms < self.until_ms)

    def covers(self, record: PrivateRecord) -> bool:
        if record.collection != self.collection:
            return False
        if self.scope == SCOPE_KEY:
            return record.key == self.key
        if self.scope == SCOPE_SUBJECT:
            return bool(record.subject) and record.subject == self.subject
        return record.owner == self.owner

    def to_value(self) -> tuple[Value, ...]:
        return (
            GrantVersion,
            self.id,
            self.scope,
            self.collection,
            self.subject,
            self.key,
            self.owner,
            self.grantee.to_value(),
            tuple(self.purposes),
            self.grantor,
            self.grantor_org,
            self.granted_at,
            self.until_ms,
            self.revoked_at,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def decode(cls, data: bytes) -> Grant:
        f = expect_array(decode(data, PRIVACY_LIMITS), "grant", 14)
        expect_version(f[0], "grant.version", GrantVersion)
        scope = expect_str(f[2], "grant.scope", 16)
        if scope not in (SCOPE_KEY, SCOPE_SUBJECT, SCOPE_OWNER):
            raise DecodeError(f"grant.scope: unknown scope {scope!r}")
        return cls(
            expect_int(f[1], "grant.id", 1),
            scope,
            expect_str(f[3], "grant.collection", 48),
            expect_str(f[4], "grant.subject", MAX_SUBJECT, allow_empty=True),
            expect_str(f[5], "grant.key", MAX_KEY, allow_empty=True),
            expect_str(f[6], "grant.owner", MAX_NAME, allow_empty=True),
            Clause.from_value(f[7], "grant.grantee"),
            purposes_from_value(f[8], "grant.purposes"),
            expect_str(f[9], "grant.grantor", 2 * MAX_DIGEST),
            expect_str(f[10], "grant.grantor_org", MAX_NAME),
            expect_int(f[11], "grant.granted_at", 0),
            expect_int(f[12], "grant.until_ms", 0),
            expect_int(f[13], "grant.revoked_at", 0),
        )

    def view(self, time_ms: int) -> dict[str, Value]:
        return {
            "id": self.id,
            "scope": self.scope,
            "collection": self.collection,
            "subject": self.subject,
            "key": self.key,
            "owner": self.owner,
            "grantee": self.grantee.text(),
            "purposes": list(self.purposes),
            "grantor": self.grantor,
            "grantor_org": self.grantor_org,
            "granted_at": self.granted_at,
            "until_ms": self.until_ms,
            "revoked_at": self.revoked_at,
            "in_force": self.in_force(time_ms),
        }


def purposes_from_value(value: Value, name: str) -> tuple[str, ...]:
    purposes = tuple(
        _name(p, f"{name}[{i}]") for i, p in enumerate(expect_list(value, name, MAX_PURPOSES))
    )
    if not purposes:
        raise DecodeError(f"{name}: at least one purpose")
    if len(set(purposes)) != len(purposes):
        raise DecodeError(f"{name}: purposes repeat")
    return purposes


# --- helpers ---------------------------------------------------------------------------------


def _name(value: Value, name: str) -> str:
    text = expect_str(value, name, MAX_NAME)
    if not text.isprintable() or any(c.isspace() or c in ":,=" for c in text):
        raise DecodeError(f"{name}: {text!r} must be printable, without spaces, ':' ',' or '='")
    return text


def _org_set(value: Value, name: str, high: int, *, low: int) -> tuple[str, ...]:
    orgs = tuple(_name(o, f"{name}[{i}]") for i, o in enumerate(expect_list(value, name, high)))
    if len(orgs) < low:
        raise DecodeError(f"{name}: at least {low}")
    if list(orgs) != sorted(set(orgs)) or ANY in orgs:
        raise DecodeError(f"{name}: organisation names, sorted and unique")
    return orgs
