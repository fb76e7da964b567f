"""The privacy data model: clauses and audiences, definitions, records, grants, access
records and read policies round-trip through their canonical bytes; malformed values are a
named error; the salted digest binds every part of its preimage."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.types.access import AccessRecord, ReadPolicy
from yulian.types.encoding import DecodeError, encode
from yulian.types.privacy import (
    Clause,
    CollectionDef,
    Grant,
    PrivacyValueError,
    PrivateRecord,
    parse_audience,
    private_digest,
)

names = st.text(
    alphabet=st.one_of(st.characters(categories=("L", "N")), st.sampled_from("-_./")),
    min_size=1,
    max_size=12,
)
clauses = st.builds(
    lambda o, r, a: Clause(o, r, tuple(sorted(a.items()))),
    st.one_of(st.just("*"), names),
    st.one_of(st.just("*"), names),
    st.dictionaries(names, names, max_size=3),
)


@settings(max_examples=200)
@given(clauses)
def test_clauses_round_trip_as_values_and_as_text(clause: Clause) -> None:
    assert Clause.from_value(clause.to_value()) == clause
    assert Clause.parse(clause.text()) == clause


@settings(max_examples=100)
@given(
    st.lists(names, min_size=1, max_size=4, unique=True),
    st.lists(clauses, min_size=1, max_size=3),
    st.booleans(),
    st.integers(0, 10**6),
)
def test_definitions_round_trip(
    members: list[str], who: list[Clause], consent: bool, btl: int
) -> None:
    definition = CollectionDef(
        name="c-1",
        members=tuple(sorted(members)),
        writers=tuple(who),
        readers=tuple(who),
        auditors=tuple(who[:1]),
        consent=consent,
        subject_issuers=tuple(sorted(members[:1])),
        blocks_to_live=btl,
    )
    assert CollectionDef.decode(definition.encode()) == definition
    assert CollectionDef.from_view(definition.view()) == definition


def test_clause_matching_needs_every_attribute() -> None:
    doctor = Clause.parse("*:client:role=doctor")
    assert doctor.matches("org1", "client", {"role": "doctor", "dept": "x"})
    assert not doctor.matches("org1", "admin", {"role": "doctor"})
    assert not doctor.matches("org1", "client", {"role": "nurse"})
    assert Clause.parse("org2").matches("org2", "admin", {})
    assert not Clause.parse("org2").matches("org1", "admin", {})


@pytest.mark.parametrize(
    "text",
    ["a:b:c:d", "org1:client:role", "org1:client:=x", "org1:client:role=", 7, "or g:client"],
)
def test_malformed_clauses_are_refused(text: object) -> None:
    with pytest.raises(PrivacyValueError):
        Clause.parse(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ({"name": "Bad Name"}, "collection.name"),
        ({"members": []}, "collection.members: at least 1"),
        ({"members": ["*"]}, "organisation names, sorted and unique"),
        ({"writers": []}, "collection.writers: at least one clause"),
        ({"max_value_bytes": 0}, "collection.max_value_bytes"),
        ({"blocks_to_live": -1}, "collection.blocks_to_live"),
        ({"colour": "red"}, "unknown collection fields: colour"),
    ],
)
def test_malformed_definitions_are_refused(doc: dict[str, object], fragment: str) -> None:
    base = {"name": "c", "members": ["a"], "writers": ["*"], "readers": ["*"]}
    with pytest.raises(PrivacyValueError, match=fragment.replace("(", r"\(")):
        CollectionDef.from_view({**base, **doc})


def test_records_grants_and_access_records_round_trip_and_refuse_corruption() -> None:
    record = PrivateRecord("c", "k", 2, b"d" * 32, 10, "org1", "ab" * 32, "P-1", 5, b"t" * 32, 9)
    grant = Grant(
        3, "subject", "c", "P-1", "", "", Clause.parse("org2:*"), ("care",), "ab", "org3", 4, 0
    )
    access = AccessRecord(
        1,
        6,
        1000,
        b"t" * 32,
        "cd",
        "org2",
        "client",
        (("role", "doctor"),),
        "c",
        "k",
        2,
        b"d" * 32,
        "P-1",
        "org1",
        "care",
        "grant",
        3,
        26,
    )
    for value in (record, grant, access, ReadPolicy.parse("org1:* *:admin")):
        data = value.encode()
        assert type(value).decode(data) == value
        with pytest.raises(DecodeError):
            type(value).decode(data[:-1])
        with pytest.raises(DecodeError):
            type(value).decode(encode(("x",)))
    assert record.purged(9) and not record.purged(8)
    assert grant.covers(record) and grant.in_force(10**12)


def test_read_policies() -> None:
    anonymous = (None, "anonymous", {})
    assert ReadPolicy.parse("public").allows(*anonymous)
    assert not ReadPolicy.parse("members").allows(*anonymous)
    assert ReadPolicy.parse("members").allows("org9", "client", {})
    assert not ReadPolicy.parse("none").allows("org1", "admin", {})
    audience = ReadPolicy.parse("org1:admin *:client:role=auditor")
    assert audience.allows("org1", "admin", {}) and audience.allows(
        "org5", "client", {"role": "auditor"}
    )
    assert not audience.allows("org2", "admin", {})
    with pytest.raises(PrivacyValueError):
        ReadPolicy("audience")
    with pytest.raises(PrivacyValueError):
        parse_audience(["*"] * 17)


def test_the_digest_binds_chain_collection_key_salt_and_value() -> None:
    h = lambda b: hashlib.sha256(b).digest()  # noqa: E731
    base = ("chain", "c", "k", b"s" * 32, b"v")
    digest = private_digest(h, *base)
    for i in range(len(base)):
        changed = list(base)
        changed[i] = changed[i] + (b"x" if isinstance(changed[i], bytes) else "x")
        assert private_digest(h, *changed) != digest
