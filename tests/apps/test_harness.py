"""The in-process harness runs contracts as a node does: real identities and admission, the
real executor and metering, deployment through the lifecycle, heights and times the test sets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yulian.apps.shared import AppError, call
from yulian.devkit import CallFailed, DeployFailed, Harness
from yulian.devkit.consortium import ConsortiumError
from yulian.devkit.harness import ANONYMOUS as HARNESS_ANONYMOUS
from yulian.execution.overlay import state_key
from yulian.execution.roots import history_window, state_root, state_sum_of
from yulian.mempool.admission import AdmissionError
from yulian.node.readmodel import ANONYMOUS as NODE_ANONYMOUS
from yulian.sdk import ApiError

ECHO = """
def whoami(ctx):
    return {
        "org": ctx.sender.org,
        "role": ctx.sender.role,
        "id": ctx.sender.id,
        "attributes": dict(ctx.sender.attributes),
        "height": ctx.block.height,
        "time": ctx.block.time,
        "tx": ctx.tx.id,
    }

def put(ctx, key, value):
    ctx.require(value != "no", "value may not be no")
    ctx.state.put(key, value)
    ctx.emit("put", {"key": key})
    return value

def get(ctx, key):
    return ctx.state.get(key)

def spin(ctx, n):
    total = 0
    for i in range(n):
        total = total + i
    return total

def boom(ctx):
    return {}["missing"]
"""

COUNTER_V1 = """
def bump(ctx):
    value = ctx.state.get("n", 0) + 1
    ctx.state.put("n", value)
    return value
"""

COUNTER_V2 = """
def bump(ctx):
    value = ctx.state.get("n", 0) + 100
    ctx.state.put("n", value)
    return value

def version(ctx):
    return "v2"
"""


@pytest.fixture
def h() -> Harness:
    harness = Harness(["acme", "globex", "initech"])
    harness.deploy("echo", ECHO)
    return harness


def test_the_contract_sees_the_identity_admission_establishes_from_the_certificate(
    h: Harness,
) -> None:
    alice = h.member("acme", "alice", attributes={"roles": "buyer,auditor", "dept": "finance"})
    seen = h.ok(alice, "echo", "whoami")
    assert seen["org"] == "acme" and seen["role"] == "client"
    assert seen["id"] == alice.id == h.suite.hash(alice.cert).hex()
    assert seen["attributes"] == {"roles": "buyer,auditor", "dept": "finance"}
    admin = h.ok(h.admin("globex"), "echo", "whoami")
    assert (admin["org"], admin["role"], admin["attributes"]) == ("globex", "admin", {})
    # the same member twice is one certificate; a clash of attributes is named
    assert h.member("acme", "alice", attributes={"roles": "buyer,auditor", "dept": "finance"})
    with pytest.raises(ConsortiumError, match="exists as client"):
        h.member("acme", "alice", attributes={"roles": "buyer"})
    with pytest.raises(ConsortiumError, match="no organisation 'umbrella'"):
        h.member("umbrella")


def test_heights_and_times_are_the_tests_to_set(h: Harness) -> None:
    user = h.member("acme")
    first = h.ok(user, "echo", "whoami")
    assert (first["height"], first["time"]) == (h.height, h.time_ms)
    h.advance(blocks=10)
    assert h.ok(user, "echo", "whoami")["height"] == first["height"] + 11
    h.advance(ms=86_400_000)
    later = h.ok(user, "echo", "whoami")
    assert later["time"] == first["time"] + 12 * h.block_interval_ms + 86_400_000
    h.set_time(later["time"] + 5)
    assert h.ok(user, "echo", "whoami")["time"] == later["time"] + 5
    with pytest.raises(ValueError, match="not after the last block"):
        h.set_time(h.time_ms)
    h.set_time(h.time_ms + 3_600_000)  # an empty block at that time, then queries see it
    h.advance(blocks=1)
    assert h.query("echo", "whoami")["time"] == later["time"] + 5 + 3_600_000
    with pytest.raises(ValueError, match="only move forward"):
        h.advance(blocks=-1)


def test_receipts_carry_status_message_steps_value_and_events(h: Harness) -> None:
    user = h.member("acme")
    ok = h.call(user, "echo", "put", "k", "v")
    assert (ok.status, ok.value, ok.event_names()) == ("ok", "v", ["put"])
    assert ok.steps > 0 and ok.signer == "client@acme" and ok.height == h.height
    assert ok.events[0].payload == {"key": "k"} and ok.events[0].tx_id == ok.tx_id

    reverted = h.call(user, "echo", "put", "k", "no")
    assert (reverted.status, reverted.message, reverted.events) == (
        "reverted",
        "value may not be no",
        (),
    )
    assert h.state("echo", "k") == "v"  # the failed call changed nothing
    assert h.call(user, "echo", "boom").status == "fault"
    assert h.call(user, "echo", "nope").status == "unknown_method"
    assert h.call(user, "echo", "put", "only one").status == "bad_args"
    with pytest.raises(CallFailed, match=r"echo.put by client@acme .* reverted: value may not"):
        h.ok(user, "echo", "put", "k", "no")


def test_metering_is_the_chains_and_its_limit_is_a_chain_parameter() -> None:
    h = Harness(["acme", "globex"], step_limit=5_000)
    h.deploy("echo", ECHO)
    user = h.member("acme")
    small, large = h.call(user, "echo", "spin", 10), h.call(user, "echo", "spin", 100)
    assert small.ok and large.ok and large.steps > small.steps
    spent = h.call(user, "echo", "spin", 1_000_000)
    assert (spent.status, spent.steps) == ("out_of_steps", 5_000)


def test_txs_of_one_block_see_each_others_writes_and_the_block_commits_at_once(
    h: Harness,
) -> None:
    a, b = h.member("acme"), h.member("globex")
    before = h.state_root
    results = h.block(
        h.tx(a, "echo", "put", "x", "1"),
        h.tx(b, "echo", "get", "x"),
        h.tx(a, "echo", "put", "x", "no"),
    )
    assert [r.status for r in results] == ["ok", "ok", "reverted"]
    assert results[1].value == "1"
    assert {r.height for r in results} == {h.height} and [r.index for r in results] == [0, 1, 2]
    # the header's state root: the LtHash of every key's readable versions, as a node's
    versions = [
        (key, height, value)
        for key, kept in h.ledger.versions.items()
        for height, value in kept[-history_window(key) :]
    ]
    assert h.state_root == state_root(h.suite, state_sum_of(h.suite, versions)) != before
    assert (h.height, h.ledger.get(state_key("echo", "x"))) in h.ledger.versions[
        state_key("echo", "x")
    ]
    assert h.blocks[-1].tx_ids == tuple(r.tx_id for r in results)


def test_admission_refuses_what_a_node_refuses(h: Harness) -> None:
    user = h.member("acme")
    envelope = h.sign(user, "echo", "put", "k", "v")
    h.block(h.admit(envelope))
    with pytest.raises(AdmissionError) as e:
        h.admit(envelope)
    assert e.value.code == "duplicate_tx"
    with pytest.raises(AdmissionError) as e:
        h.tx(user, "nothing", "put")
    assert e.value.code == "unknown_contract"
    org = h.consortium.org("globex")
    stale = org.issue(
        "stale", not_before=org.not_before, not_after=org.not_before + timedelta(days=1)
    )
    h.advance(ms=3 * 86_400_000)
    with pytest.raises(AdmissionError) as e:
        h.tx(stale, "echo", "whoami")
    assert e.value.code == "certificate_expired"
    with pytest.raises(AdmissionError) as e:
        h.tx(h.member("acme", "node", role="node"), "echo", "whoami")
    assert e.value.code == "role_not_allowed"


def test_queries_are_anonymous_and_read_only_as_on_a_node(h: Harness) -> None:
    assert HARNESS_ANONYMOUS == NODE_ANONYMOUS
    assert h.query("echo", "whoami")["org"] == ""
    refused = h.query_result("echo", "put", "k", "v")
    assert (refused.status, refused.message) == ("reverted", "read-only call")
    assert h.state("echo", "k") is None


def test_deploy_goes_through_the_lifecycle_and_an_upgrade_keeps_the_state() -> None:
    h = Harness(["acme", "globex", "initech"])
    status = h.deploy("counter", COUNTER_V1)
    assert status["version"] == "1.0"
    kinds = [e.name for e in h.events("lifecycle")]
    assert kinds == ["proposed", "approved", "applied", "deployed"]  # majority of 3: 2 approve
    user = h.member("initech")
    assert [h.ok(user, "counter", "bump") for _ in range(3)] == [1, 2, 3]
    h.upgrade("counter", COUNTER_V2, "2.0")
    assert h.ok(user, "counter", "bump") == 103
    assert h.query("counter", "version") == "v2"
    assert [v for _, v in h.history("counter", "n")] == [103, 3, 2, 1]
    assert h.query("lifecycle", "contract", "counter")["version"] == "2.0"
    with pytest.raises(DeployFailed, match="line 2: import is not allowed"):
        h.deploy("bad", "def f(ctx):\n    import os\n")
    with pytest.raises(DeployFailed, match="not deployed"):
        h.upgrade("missing", COUNTER_V1, "2.0")
    with pytest.raises(DeployFailed, match="already active"):
        h.upgrade("counter", COUNTER_V2, "2.0")


def test_genesis_contracts_need_no_vote() -> None:
    h = Harness(["acme"], contracts=[("counter", COUNTER_V1)])
    assert h.ok(h.member("acme"), "counter", "bump") == 1
    assert h.events("lifecycle") == []


def test_the_client_answers_as_the_sdk_client_does(h: Harness) -> None:
    client = h.client(h.member("acme"))
    body = client.submit("echo", "put", ["k", "v"])
    assert body["status"] == "committed" and body["receipt"]["status"] == "ok"
    assert body["receipt"]["events"] == [
        {"contract": "echo", "name": "put", "payload": {"key": "k"}}
    ]
    assert call(client, "echo", "put", "k", "w") == "w"
    with pytest.raises(AppError, match="reverted: value may not be no"):
        call(client, "echo", "put", "k", "no")
    assert client.query("echo", "get", ["k"]) == "w"
    with pytest.raises(ApiError) as e:
        client.query("echo", "put", ["k", "v"])
    assert e.value.code == "reverted"
    with pytest.raises(ApiError) as e:
        client.submit("nothing", "f")
    assert (e.value.status, e.value.code) == (404, "unknown_contract")
    with pytest.raises(ValueError, match="needs a wallet"):
        h.client().submit("echo", "get", ["k"])


def test_state_history_keys_and_events_are_inspectable(h: Harness) -> None:
    user = h.member("acme")
    for value in ("a", "b", "c"):
        h.ok(user, "echo", "put", "item/1", value)
    h.ok(user, "echo", "put", "item/2", "z")
    h.ok(user, "echo", "put", "other", "q")
    assert h.keys("echo", "item/") == ["item/1", "item/2"]
    assert [v for _, v in h.history("echo", "item/1")] == ["c", "b", "a"]
    heights = [height for height, _ in h.history("echo", "item/1")]
    assert heights == sorted(heights, reverse=True)
    assert [e.payload["key"] for e in h.events("echo", "put")] == [
        "item/1",
        "item/1",
        "item/1",
        "item/2",
        "other",
    ]
    assert h.state("echo", "missing", default=7) == 7


def test_the_gm_suite_runs_the_same_way() -> None:
    h = Harness(["acme", "globex"], suite="gm")
    h.deploy("counter", COUNTER_V1)
    member = h.member("globex", "sm2-user")
    assert h.ok(member, "counter", "bump") == 1
    assert h.suite.name == "gm" and len(h.state_root) == 32
