"""``ctx.private`` in calls between contracts, through the real executor: a callee's private
records are its own (written in its name, under the tx's signer and the collection's rules),
the caller's records are in place when the callee runs, and a failed callee's private writes
roll back like its state writes and events — under ``ctx.call`` and ``ctx.try_call``, also
when it is a callee's callee that wrote them."""

from __future__ import annotations

import pytest
from tests.unit.privacy_world import World, make_world

from yulian.execution.system.private_records import LOG_PUT, read_log

# writes a private record of the ``hospitals`` collection in its own name
RECORDS = """
def put(ctx, key, digest, size):
    stored = ctx.private.put("hospitals", key, digest, size, "P-001")
    ctx.state.put("last", key)
    ctx.emit("stored", {"key": key})
    return [ctx.caller, stored["via"], stored["version"], stored["writer"]]

def look(ctx, key):
    return ctx.private.get("hospitals", key)

def put_and_fail(ctx, key, digest):
    ctx.private.put("hospitals", key, digest, 1, "P-001")
    ctx.state.put("last", key)
    ctx.require(False, "records says no")

def put_then_relay(ctx, key, digest, other, method, args):
    ctx.private.put("hospitals", key, digest, 1, "P-001")
    return ctx.call(other, method, args)
"""

FRONT = """
def put_and_call(ctx, key, digest, method, args):
    mine = ctx.private.put("hospitals", key, digest, 1, "P-001")
    theirs = ctx.call("records", method, args)
    return {"mine": [mine["via"], mine["version"]], "theirs": theirs}

def try_put(ctx, key, digest, method, args):
    mine = ctx.private.put("hospitals", key, digest, 1, "P-001")
    answer = ctx.try_call("records", method, args)
    ctx.state.put("tried", 1)
    return {"mine": mine["version"], "answer": answer}

def call(ctx, method, args):
    return ctx.call("records", method, args)
"""

# calls ``records`` (which writes and succeeds), then fails itself
MIDDLE = """
def relay_and_fail(ctx, key, digest):
    ctx.call("records", "put", [key, digest, 1])
    ctx.require(False, "middle says no")
"""

OUTER = """
def go(ctx, key, digest):
    answer = ctx.try_call("middle", "relay_and_fail", [key, digest])
    ctx.state.put("after", 1)
    return answer
"""


@pytest.fixture(params=["standard", "gm"])
def world(request: pytest.FixtureRequest) -> World:
    w = make_world(request.param)
    for name, source in (
        ("records", RECORDS),
        ("front", FRONT),
        ("middle", MIDDLE),
        ("outer", OUTER),
    ):
        w.h.deploy(name, source)
    return w


def record(w: World, key: str) -> object:
    """The committed record of ``hospitals/key`` as the collections contract stores it."""
    return w.h.state("collections", f"record/hospitals/{key}")


def log_at(w: World, height: int) -> list[tuple[object, ...]]:
    return read_log(w.h.ledger, height)


def test_a_callees_private_writes_are_in_its_own_name(world: World) -> None:
    h = world.h
    digest = world.digest("hospitals", "c1", b"x")
    other = world.digest("hospitals", "f1", b"y")
    result = h.call(world.doctor_a, "front", "put_and_call", "f1", other, "put", ["c1", digest, 1])
    assert result.status == "ok", result.message
    # the caller's record names the caller, the callee's the callee; both the tx's signer
    assert result.value["mine"] == ["front", 1]
    caller, via, version, writer = result.value["theirs"]
    assert (caller, via, version) == ("front", "records", 1)
    assert writer == h.query("records", "look", "c1")["writer"]
    assert h.query("records", "look", "c1")["via"] == "records"
    assert h.query("records", "look", "f1")["via"] == "front"
    assert h.query("records", "look", "c1")["digest"] == digest.hex()
    # both puts are in the block's private-data log, which the member nodes hold values by
    assert log_at(world, result.height) == [
        (LOG_PUT, "hospitals", "f1", 1, other),
        (LOG_PUT, "hospitals", "c1", 1, digest),
    ]
    assert h.state("records", "last") == "c1" and h.state("front", "last") is None


def test_a_callee_builds_on_the_callers_records_of_the_same_key(world: World) -> None:
    h = world.h
    first = world.digest("hospitals", "k", b"one")
    second = world.digest("hospitals", "k", b"two")
    result = h.call(world.doctor_a, "front", "put_and_call", "k", first, "put", ["k", second, 3])
    assert result.status == "ok", result.message
    # the callee saw the caller's version 1 and wrote version 2; neither is lost
    assert result.value["mine"] == ["front", 1] and result.value["theirs"][2] == 2
    assert record(world, "k") is not None
    assert h.query("records", "look", "k")["version"] == 2
    assert h.query("records", "look", "k")["via"] == "records"
    assert log_at(world, result.height) == [
        (LOG_PUT, "hospitals", "k", 1, first),
        (LOG_PUT, "hospitals", "k", 2, second),
    ]


def test_a_callee_is_held_to_the_collections_rules_for_the_txs_signer(world: World) -> None:
    h = world.h
    digest = world.digest("hospitals", "n1", b"x")
    # a nurse is not among the hospitals' writers: the callee's put reverts, so the call does
    refused = h.call(world.nurse_a, "front", "call", "put", ["n1", digest, 1])
    assert refused.status == "reverted"
    assert "records.put" in refused.message and "is not among the writers" in refused.message
    assert record(world, "n1") is None and log_at(world, refused.height) == []


def test_a_failed_callees_private_writes_roll_back_under_try_call(world: World) -> None:
    h = world.h
    mine = world.digest("hospitals", "t0", b"mine")
    theirs = world.digest("hospitals", "t1", b"theirs")
    result = h.call(world.doctor_a, "front", "try_put", "t0", mine, "put_and_fail", ["t1", theirs])
    assert result.status == "ok", result.message
    answer = result.value["answer"]
    assert answer["ok"] is False and answer["status"] == "reverted"
    assert answer["message"] == "records says no"
    # the callee's record, log entry and state write are gone; the caller's stay
    assert record(world, "t1") is None and h.state("records", "last") is None
    assert h.query("records", "look", "t0")["via"] == "front"
    assert h.state("front", "tried") == 1
    assert log_at(world, result.height) == [(LOG_PUT, "hospitals", "t0", 1, mine)]


def test_a_failed_callee_under_call_leaves_no_private_write_of_anyone(world: World) -> None:
    h = world.h
    mine = world.digest("hospitals", "u0", b"mine")
    theirs = world.digest("hospitals", "u1", b"theirs")
    result = h.call(
        world.doctor_a, "front", "put_and_call", "u0", mine, "put_and_fail", ["u1", theirs]
    )
    assert result.status == "reverted"
    assert result.message == "records.put_and_fail: records says no"
    assert record(world, "u0") is None and record(world, "u1") is None
    assert log_at(world, result.height) == []


def test_a_failed_callees_own_callees_private_writes_roll_back(world: World) -> None:
    h = world.h
    digest = world.digest("hospitals", "v1", b"deep")
    result = h.call(world.doctor_a, "outer", "go", "v1", digest)
    assert result.status == "ok", result.message
    assert result.value == {"ok": False, "status": "reverted", "message": "middle says no"}
    # records.put succeeded inside middle, which then failed: its record rolls back with it
    assert record(world, "v1") is None and h.state("records", "last") is None
    assert h.state("outer", "after") == 1
    assert log_at(world, result.height) == []
    assert h.events("records") == []


def test_a_callees_private_put_in_a_query_reverts_and_reads_answer(world: World) -> None:
    h = world.h
    digest = world.digest("hospitals", "q1", b"x")
    h.ok(world.doctor_a, "records", "put", "q1", digest, 1)
    query = h.query_result("front", "call", "put", ["q2", digest, 1], caller=world.doctor_a)
    assert query.status == "reverted" and "read-only" in query.message
    assert record(world, "q2") is None
    # a read through a call answers the record as the callee sees it
    assert h.query("front", "call", "look", ["q1"])["via"] == "records"
