"""The privacy system contracts on a chain in memory: collections by vote, private writes,
consent grants and revocations, reads that leave exactly one access record (and refusals that
leave none and change nothing), purges, the trail's visibility, read policies, and
``ctx.private`` from a user contract — in both suites."""

from __future__ import annotations

import pytest
from tests.unit.privacy_world import HOSPITALS, World, make_world, propose

from yulian.execution.system.private_records import LOG_PURGE, LOG_PUT, read_log
from yulian.types.privacy import CollectionDef


@pytest.fixture(params=["standard", "gm"])
def world(request: pytest.FixtureRequest) -> World:
    return make_world(request.param)


def state_after(w: World) -> dict[str, object]:
    """Everything a refused call must leave unchanged."""
    return {
        "access": w.h.state("access", "next"),
        "consent": w.h.state("consent", "next"),
        "record": w.h.state("collections", "record/hospitals/r1"),
        "trail": w.h.state("access", "trail/hospitals/count"),
    }


def test_a_collection_is_defined_by_vote_and_readable_by_members(world: World) -> None:
    h = world.h
    seen = h.query("collections", "collection", "hospitals", caller=world.doctor_b)
    assert seen["members"] == ["org1", "org2"] and seen["consent"] is True
    assert seen["readers"] == ["*:client:role=doctor"] and seen["keys"] == 0
    # a second definition of the same name fails at proposal time
    refused = h.call(h.admin("org1"), "collections", "propose", "define", [HOSPITALS.to_value()])
    assert refused.status == "reverted" and "already defined" in refused.message
    # a member outside the consortium is refused before any vote
    bad = CollectionDef.from_view({**HOSPITALS.view(), "name": "x", "members": ["org9"]})
    refused = h.call(h.admin("org1"), "collections", "propose", "define", [bad.to_value()])
    assert refused.status == "reverted" and "'org9' is not in the consortium" in refused.message
    # a client may not propose
    refused = h.call(world.doctor_a, "collections", "propose", "define", [bad.to_value()])
    assert "only an organisation admin" in refused.message


def test_only_writers_of_member_organisations_write_and_the_chain_keeps_only_the_digest(
    world: World,
) -> None:
    h = world.h
    value = b"diagnosis: influenza A"
    digest = world.digest("hospitals", "r1", value)
    record = h.ok(
        world.doctor_a, "collections", "put", "hospitals", "r1", digest, len(value), "P-1"
    )
    assert record["digest"] == digest.hex() and record["owner"] == "org1"
    assert record["version"] == 1 and record["subject"] == "P-1" and record["via"] == ""
    assert read_log(h.ledger, record["height"]) == [(LOG_PUT, "hospitals", "r1", 1, digest)]
    # the value appears nowhere in the chain's state
    assert not any(value in v for v in h.ledger.data.values())
    for who, fragment in (
        (world.nurse_a, "is not among the writers of 'hospitals'"),
        (world.registry, "organisation 'org3' is not a member of collection 'hospitals'"),
        (world.regulator, "organisation 'org4' is not a member"),
    ):
        before = state_after(world)
        result = h.call(who, "collections", "put", "hospitals", "r1", digest, 10, "P-1")
        assert result.status == "reverted" and fragment in result.message, result.message
        assert state_after(world) == before
    too_big = h.call(world.doctor_a, "collections", "put", "hospitals", "r2", digest, 1 << 20, "")
    assert "exceed the 65536 bytes" in too_big.message
    short = h.call(world.doctor_a, "collections", "put", "hospitals", "r2", b"x", 1, "")
    assert "a digest is 32 bytes" in short.message
    second = h.ok(world.doctor_b, "collections", "put", "hospitals", "r1", digest, 5, "P-1")
    assert second["version"] == 2 and second["owner"] == "org2"


def test_a_read_needs_membership_readers_and_consent_and_leaves_one_record(world: World) -> None:
    h = world.h
    world.write("r1", subject="P-001")
    # refusals: each names its rule, leaves no record, changes nothing
    for who, purpose, fragment in (
        (world.regulator, "treatment", "organisation 'org4' is not a member"),
        (world.client_b, "treatment", "is not among the readers of 'hospitals'"),
        (world.doctor_b, "treatment", "no consent in force lets org2:client:role=doctor read"),
    ):
        before = state_after(world)
        result = h.call(who, "access", "read", "hospitals", "r1", purpose)
        assert result.status == "reverted" and fragment in result.message, result.message
        assert state_after(world) == before
        refused = h.query_result("access", "check", "hospitals", "r1", purpose, caller=who)
        assert refused.status == "reverted" and fragment in refused.message
    # the owner's doctors need no consent
    own = h.ok(world.doctor_a, "access", "read", "hospitals", "r1", "treatment")
    assert own["basis"] == "owner" and own["reader_org"] == "org1" and own["id"] == 1
    # the patient grants hospital B's doctors, for treatment only
    grant = h.ok(
        world.patient,
        "consent",
        "grant",
        "hospitals",
        "P-001",
        "",
        "org2:client:role=doctor",
        ["treatment"],
        0,
    )
    assert grant["scope"] == "subject" and grant["in_force"]
    wrong_purpose = h.call(world.doctor_b, "access", "read", "hospitals", "r1", "research")
    assert "no consent in force" in wrong_purpose.message
    read = h.ok(world.doctor_b, "access", "read", "hospitals", "r1", "treatment")
    assert read["basis"] == "grant" and read["grant_id"] == grant["id"]
    assert read["reader_attributes"] == {"role": "doctor"} and read["subject"] == "P-001"
    assert read["valid_until"] == read["height"] + 20 and world.access_count() == 2
    check = h.query("access", "check", "hospitals", "r1", "treatment", caller=world.doctor_b)
    assert check["basis"] == "grant" and check["version"] == 1
    # the patient revokes: the next read is refused, and says so
    h.ok(world.patient, "consent", "revoke", grant["id"])
    before = state_after(world)
    refused = h.call(world.doctor_b, "access", "read", "hospitals", "r1", "treatment")
    assert f"consent grant {grant['id']} for hospitals/r1 was revoked" in refused.message
    assert state_after(world) == before and world.access_count() == 2


def test_who_may_grant_and_revoke(world: World) -> None:
    h = world.h
    world.write("r1", subject="P-001")
    cases = [
        (world.other_patient, "P-001", "", "is not the subject 'P-001'"),
        (world.doctor_b, "P-001", "", "is not the subject 'P-001'"),
        (world.doctor_a, "", "", "only an admin of a member organisation"),
        (world.other_patient, "", "r1", "may not grant access to hospitals/r1"),
    ]
    for who, subject, key, fragment in cases:
        result = h.call(
            who, "consent", "grant", "hospitals", subject, key, "org2:client", ["treatment"], 0
        )
        assert result.status == "reverted" and fragment in result.message, result.message
    outside = h.call(
        world.patient, "consent", "grant", "hospitals", "P-001", "", "org3:client", ["x"], 0
    )
    assert "organisation 'org3' is not a member of collection 'hospitals'" in outside.message
    past = h.call(world.patient, "consent", "grant", "hospitals", "P-001", "", "org2:*", ["x"], 1)
    assert "is not after this block's time" in past.message
    # the owner's admin grants one record; the subject revokes it
    g = h.ok(h.admin("org1"), "consent", "grant", "hospitals", "", "r1", "org2:*", ["audit"], 0)
    assert g["scope"] == "key" and g["subject"] == "P-001" and g["owner"] == "org1"
    stranger = h.call(world.other_patient, "consent", "revoke", g["id"])
    assert "may not revoke grant" in stranger.message
    assert h.ok(world.patient, "consent", "revoke", g["id"])["revoked_at"] > 0
    again = h.call(world.patient, "consent", "revoke", g["id"])
    assert "was revoked at height" in again.message


def test_a_grant_ends_at_its_block_time(world: World) -> None:
    h = world.h
    world.write("r1", subject="P-001")
    until = h.next_time_ms + 5_000
    h.ok(world.patient, "consent", "grant", "hospitals", "P-001", "", "org2:*", ["care"], until)
    assert h.ok(world.doctor_b, "access", "read", "hospitals", "r1", "care")["basis"] == "grant"
    h.advance(ms=10_000)
    expired = h.call(world.doctor_b, "access", "read", "hospitals", "r1", "care")
    assert "expired at" in expired.message


def test_purge_by_schedule_and_by_vote_keeps_the_record_and_refuses_reads(world: World) -> None:
    h = world.h
    short = CollectionDef.from_view(
        {**HOSPITALS.view(), "name": "brief", "consent": False, "blocks_to_live": 3}
    )
    assert propose(h, "collections", "define", short.to_value())["status"] == "applied"
    digest = world.digest("brief", "k", b"v")
    record = h.ok(world.doctor_a, "collections", "put", "brief", "k", digest, 1, "")
    assert record["purge_at"] == record["height"] + 3
    assert h.ok(world.doctor_b, "access", "read", "brief", "k", "x")["basis"] == "member"
    h.advance(blocks=3)
    purged = h.call(world.doctor_b, "access", "read", "brief", "k", "x")
    assert f"was purged at height {record['purge_at']}" in purged.message
    # a governed purge of a key without schedule
    world.write("r1")
    applied = propose(h, "collections", "purge", "hospitals", "r1")
    assert applied["status"] == "applied", applied
    seen = h.query("collections", "record", "hospitals", "r1", caller=world.regulator)
    assert seen["purged"] is True and seen["holders"] == [] and seen["digest"]
    assert (LOG_PURGE, "hospitals", "r1") in read_log(h.ledger, seen["purged_at"])
    refused = h.call(world.doctor_a, "access", "read", "hospitals", "r1", "x")
    assert "was purged at height" in refused.message


def test_the_trail_is_seen_by_auditors_subjects_and_readers_only(world: World) -> None:
    h = world.h
    world.write("r1", subject="P-001")
    h.ok(world.patient, "consent", "grant", "hospitals", "P-001", "", "org2:*", ["care"], 0)
    first = h.ok(world.doctor_b, "access", "read", "hospitals", "r1", "care")
    h.ok(world.doctor_a, "access", "read", "hospitals", "r1", "care")
    trail = h.query("access", "trail", "hospitals", 0, 10, caller=world.regulator)
    assert trail["total"] == 2 and [r["reader_org"] for r in trail["items"]] == ["org2", "org1"]
    mine = h.query("access", "subject_trail", "hospitals", "P-001", 0, 10, caller=world.patient)
    assert mine["total"] == 2
    own = h.query("access", "my_reads", 0, 10, caller=world.doctor_b)
    assert [r["id"] for r in own["items"]] == [first["id"]]
    assert h.query("access", "record", first["id"], caller=world.patient)["purpose"] == "care"
    for who, method, args in (
        (world.doctor_b, "trail", ("hospitals", 0, 10)),
        (world.other_patient, "subject_trail", ("hospitals", "P-001", 0, 10)),
        (world.other_patient, "record", (first["id"],)),
        (None, "trail", ("hospitals", 0, 10)),
    ):
        refused = h.query_result("access", method, *args, caller=who)
        assert refused.status == "reverted", (method, refused)
    # the regulator sees who holds what, never a value
    held = h.query("collections", "records", "hospitals", 0, 10, caller=world.regulator)
    assert held["items"][0]["holders"] == ["org1", "org2"] and "value" not in held["items"][0]
    refused = h.query_result("collections", "records", "hospitals", 0, 10, caller=world.registry)
    assert "only its members and auditors" in refused.message
    grants = h.query("consent", "subject_grants", "hospitals", "P-001", 0, 5, caller=world.patient)
    assert grants["total"] == 1 and grants["items"][0]["grantee"] == "org2:*"


def test_read_policies_are_governed_and_the_privacy_contracts_are_built_in(world: World) -> None:
    h = world.h
    assert h.query("access", "policy", "evidence") == {"contract": "evidence", "policy": "public"}
    assert propose(h, "access", "default_policy", "members")["status"] == "applied"
    assert propose(h, "access", "read_policy", "evidence", "public")["status"] == "applied"
    assert propose(h, "access", "read_policy", "trace", "org1:* org2:admin")["status"] == "applied"
    policies = h.query("access", "policies")
    assert policies["default"] == "members"
    assert policies["contracts"] == {"evidence": "public", "trace": "org1:* org2:admin"}
    assert policies["built_in"] == {
        "access": "none",
        "collections": "members",
        "consent": "none",
        "consortium": "public",
        "lifecycle": "public",
    }
    refused = h.call(h.admin("org1"), "access", "propose", "read_policy", ["access", "public"])
    assert "is built in" in refused.message
    closed = h.call(h.admin("org1"), "access", "propose", "read_policy", ["consortium", "members"])
    assert "is built in" in closed.message
    refused = h.call(h.admin("org1"), "access", "propose", "read_policy", ["x", "everyone"])
    assert "invalid read policy" in refused.message


CONTRACT = """
def record(ctx, key, digest, size, patient):
    ctx.require(ctx.private.get("hospitals", key) is None, "already recorded")
    stored = ctx.private.put("hospitals", key, digest, size, patient)
    ctx.emit("recorded", {"key": key, "version": stored["version"]})
    return stored

def look(ctx, key):
    return ctx.private.get("hospitals", key)

def overwrite(ctx, key, digest):
    first = ctx.private.put("hospitals", key, digest, 1)
    second = ctx.private.put("hospitals", key, digest, 2)
    return [first["version"], second["version"]]

def fail_after(ctx, key, digest):
    ctx.private.put("hospitals", key, digest, 1)
    ctx.require(False, "changed my mind")

def check_grant(ctx, grant_id):
    return ctx.private.grant(grant_id)
"""


def test_contracts_use_private_data_through_the_host_api(world: World) -> None:
    h = world.h
    h.deploy("emrtest", CONTRACT)
    digest = world.digest("hospitals", "k1", b"x")
    stored = h.ok(world.doctor_a, "emrtest", "record", "k1", digest, 1, "P-001")
    assert stored["via"] == "emrtest" and stored["owner"] == "org1" and stored["version"] == 1
    assert h.query("emrtest", "look", "k1")["digest"] == digest.hex()
    again = h.call(world.doctor_a, "emrtest", "record", "k1", digest, 1, "P-001")
    assert again.status == "reverted" and "already recorded" in again.message
    # the rules are the collection's: a nurse is not a writer, the call reverts with why
    nurse = h.call(world.nurse_a, "emrtest", "record", "k2", digest, 1, "P-001")
    assert nurse.status == "reverted" and "is not among the writers" in nurse.message
    # a second put in one call sees the first; a failed call writes nothing
    assert h.ok(world.doctor_a, "emrtest", "overwrite", "k3", digest) == [1, 2]
    failed = h.call(world.doctor_a, "emrtest", "fail_after", "k4", digest)
    assert failed.status == "reverted" and h.query("emrtest", "look", "k4") is None
    # a read-only call cannot write
    query = h.query_result("emrtest", "record", "k5", digest, 1, "P-001", caller=world.doctor_a)
    assert query.status == "reverted" and "read-only" in query.message
    grant = h.ok(world.patient, "consent", "grant", "hospitals", "P-001", "", "org2:*", ["x"], 0)
    assert h.query("emrtest", "check_grant", grant["id"])["grantee"] == "org2:*"
    assert h.query("emrtest", "check_grant", 999) is None
