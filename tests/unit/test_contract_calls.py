"""Calls between contracts (``ctx.call``, ``ctx.try_call``, ``ctx.caller``) through the real
executor: what the callee sees, one step budget, rollback of a failed callee's writes and events,
clear receipts, and every refusal (re-entry, depth, system contracts, too many callees)."""

from __future__ import annotations

import pytest

from yulian.contracts.costs import (
    CONTRACT_CALL_STEPS,
    MAX_CALLED_CONTRACTS,
    MAX_CONTRACT_CALL_DEPTH,
)
from yulian.devkit import Harness

TOKEN = """
def mint(ctx, who, n):
    ctx.state.put(who, ctx.state.get(who, 0) + n)
    ctx.emit("minted", {"who": who, "n": n})
    return ctx.state.get(who)

def pay(ctx, who, n):
    have = ctx.state.get(who, 0)
    ctx.require(have >= n, "insufficient balance")
    ctx.state.put(who, have - n)
    ctx.emit("paid", {"who": who, "n": n})
    return {"caller": ctx.caller, "org": ctx.sender.org, "left": have - n}

def whoami(ctx):
    return [ctx.caller, ctx.sender.org, ctx.sender.role, ctx.tx.id, ctx.block.height]

def balance(ctx, who):
    return ctx.state.get(who, 0)

def spin(ctx):
    while True:
        pass

def crash(ctx):
    return 1 // 0

def mutate(ctx, items):
    items.append("callee")
    return items

def write(ctx, key):
    ctx.state.put(key, 1)
"""

SHOP = """
def buy(ctx, n):
    ctx.emit("buying", {"n": n})
    receipt = ctx.call("token", "pay", [ctx.sender.org, n])
    ctx.state.put("sold", ctx.state.get("sold", 0) + n)
    ctx.emit("bought", {"n": n})
    return receipt

def try_buy(ctx, n):
    answer = ctx.try_call("token", "pay", [ctx.sender.org, n])
    ctx.state.put("tries", ctx.state.get("tries", 0) + 1)
    return answer

def relay(ctx, method, args):
    return ctx.call("token", method, args)

def try_relay(ctx, method, args):
    return ctx.try_call("token", method, args)

def call_any(ctx, contract, method, args):
    return ctx.call(contract, method, args)

def try_any(ctx, contract, method, args):
    return ctx.try_call(contract, method, args)

def whoami(ctx):
    return ctx.caller

def back(ctx):
    return ctx.call("bank", "into", ["shop"])

def copies(ctx):
    mine = ["caller"]
    theirs = ctx.call("token", "mutate", [mine])
    theirs.append("again")
    return [mine, theirs]

def deploy_then_call(ctx):
    return ctx.call("late", "hello", [])
"""

# a bank that calls back into whoever it is told to
BANK = """
def into(ctx, contract):
    return ctx.call(contract, "whoami", [])

def keep_and_fail(ctx):
    ctx.state.put("kept", 1)
    ctx.call("token", "write", ["from-bank"])
    ctx.emit("bank", {})
    ctx.require(False, "bank says no")

def keep(ctx):
    ctx.state.put("kept", 1)
    ctx.call("token", "write", ["from-bank"])
    return "kept"
"""

OUTER = """
def go(ctx):
    answer = ctx.try_call("bank", "keep_and_fail", [])
    ctx.state.put("after", 1)
    return answer
"""


def chain(n: int) -> list[tuple[str, str]]:
    """Contracts c0 .. c{n-1}, each calling the next; the last answers its depth."""
    out = []
    for i in range(n):
        if i == n - 1:
            body = f"def down(ctx):\n    return [{i}, ctx.caller]\n"
        else:
            body = f"def down(ctx):\n    return ctx.call('c{i + 1}', 'down', [])\n"
        out.append((f"c{i}", body))
    return out


@pytest.fixture
def h() -> Harness:
    contracts = [("token", TOKEN), ("shop", SHOP), ("bank", BANK), ("outer", OUTER)]
    return Harness(["org1", "org2"], contracts=contracts)


def test_a_call_returns_the_callees_value_and_the_callee_sees_caller_and_sender(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    h.ok(alice, "token", "mint", "org1", 10)
    result = h.call(alice, "shop", "buy", 3)
    assert result.ok, result.message
    assert result.value == {"caller": "shop", "org": "org1", "left": 7}
    assert h.query("token", "balance", "org1") == 7
    assert h.state("shop", "sold") == 3
    # events in the order they were emitted, each under the contract that emitted it
    assert [(e.contract, e.name) for e in result.events] == [
        ("shop", "buying"),
        ("token", "paid"),
        ("shop", "bought"),
    ]
    # a tx calling the contract directly: no caller
    direct = h.ok(alice, "token", "whoami")
    assert direct[:3] == [None, "org1", "client"]
    through = h.call(alice, "shop", "relay", "whoami", [])
    assert through.value[:3] == ["shop", "org1", "client"]
    assert through.value[3] == through.tx_id and through.value[4] == through.height


def test_a_callee_that_reverts_reverts_the_caller_with_a_message_that_names_it(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    h.ok(alice, "token", "mint", "org1", 2)
    result = h.call(alice, "shop", "buy", 5)
    assert (result.status, result.message) == ("reverted", "token.pay: insufficient balance")
    assert result.events == ()
    assert h.state("shop", "sold") is None
    assert h.query("token", "balance", "org1") == 2


def test_a_callee_that_faults_makes_the_caller_a_fault_with_a_clear_message(h: Harness) -> None:
    alice = h.member("org1", "alice")
    result = h.call(alice, "shop", "relay", "crash", [])
    assert (result.status, result.message) == (
        "fault",
        "CallFailed: token.crash: fault: ZeroDivisionError",
    )
    missing = h.call(alice, "shop", "relay", "nope", [])
    assert missing.message == "CallFailed: token.nope: unknown_method: unknown method 'nope'"
    wrong = h.call(alice, "shop", "relay", "balance", [])
    assert wrong.message == (
        "CallFailed: token.balance: bad_args: balance takes 1 arguments, got 0"
    )


def test_try_call_lets_the_caller_go_on_and_drops_the_callees_writes_and_events(
    h: Harness,
) -> None:
    alice = h.member("org1", "alice")
    h.ok(alice, "token", "mint", "org1", 2)
    result = h.call(alice, "shop", "try_buy", 5)
    assert result.ok
    assert result.value == {"ok": False, "status": "reverted", "message": "insufficient balance"}
    assert h.state("shop", "tries") == 1
    assert result.events == ()
    fine = h.call(alice, "shop", "try_buy", 1)
    assert fine.value == {"ok": True, "value": {"caller": "shop", "org": "org1", "left": 1}}
    assert [e.name for e in fine.events] == ["paid"]


def test_a_failed_callee_takes_its_own_callees_writes_with_it(h: Harness) -> None:
    alice = h.member("org1", "alice")
    result = h.call(alice, "outer", "go")
    assert result.ok
    assert result.value == {"ok": False, "status": "reverted", "message": "bank says no"}
    assert h.state("outer", "after") == 1
    assert h.state("bank", "kept") is None
    assert h.state("token", "from-bank") is None  # written by bank's callee, then rolled back
    assert result.events == ()
    kept = h.call(alice, "bank", "keep")
    assert kept.ok and h.state("token", "from-bank") == 1 and h.state("bank", "kept") == 1


def test_the_callee_works_on_copies_and_the_caller_gets_a_copy(h: Harness) -> None:
    alice = h.member("org1", "alice")
    assert h.ok(alice, "shop", "copies") == [["caller"], ["caller", "callee", "again"]]


def test_re_entry_is_refused(h: Harness) -> None:
    alice = h.member("org1", "alice")
    result = h.call(alice, "shop", "back")  # shop -> bank -> shop
    assert result.status == "fault"
    assert result.message == (
        "CallFailed: bank.into: fault: CallFailed: shop.whoami: fault: "
        "shop is already running in this transaction (no re-entry)"
    )
    itself = h.call(alice, "shop", "try_any", "shop", "whoami", [])
    assert itself.value == {
        "ok": False,
        "status": "fault",
        "message": "shop is already running in this transaction (no re-entry)",
    }


def test_system_and_unknown_contracts_cannot_be_called(h: Harness) -> None:
    alice = h.member("org1", "alice")
    for system in ("lifecycle", "consortium", "misbehaviour"):
        answer = h.ok(alice, "shop", "try_any", system, "contracts", [])
        assert answer == {
            "ok": False,
            "status": "unknown_contract",
            "message": f"{system} is a system contract: contracts cannot call it",
        }
    answer = h.ok(alice, "shop", "try_any", "ghost", "x", [])
    assert answer["status"] == "unknown_contract"
    assert answer["message"] == "no contract named 'ghost'"
    for bad in ("", "x" * 65, "a\x00b"):
        result = h.call(alice, "shop", "call_any", bad, "m", [])
        assert result.status == "fault" and "InvalidValue: a contract name" in result.message
    result = h.call(alice, "shop", "call_any", "token", "whoami", "not a list")
    assert (result.status, result.message) == ("fault", "InvalidValue: call arguments are a list")


def test_calls_nest_to_the_depth_limit_and_no_deeper() -> None:
    depth = MAX_CONTRACT_CALL_DEPTH
    h = Harness(["org1"], contracts=chain(depth))
    alice = h.member("org1", "alice")
    assert h.ok(alice, "c0", "down") == [depth - 1, f"c{depth - 2}"]
    deeper = Harness(["org1"], contracts=chain(depth + 1))
    result = deeper.call(deeper.member("org1", "alice"), "c0", "down")
    assert result.status == "fault"
    assert result.message.endswith(f"fault: contract calls nested deeper than {depth}")


def test_a_transaction_reaches_at_most_so_many_contracts() -> None:
    n = MAX_CALLED_CONTRACTS + 1
    callees = [(f"leaf{i}", "def hi(ctx):\n    return 1\n") for i in range(n)]
    fan = (
        "def fan(ctx, n):\n"
        "    total = 0\n"
        "    for i in range(n):\n"
        "        total += ctx.call('leaf' + str(i), 'hi', [])\n"
        "    return total\n"
        "def again(ctx, n):\n"
        "    for k in range(3):\n"
        "        for i in range(n):\n"
        "            ctx.call('leaf' + str(i), 'hi', [])\n"
        "    return 'ok'\n"
    )
    h = Harness(["org1"], contracts=[*callees, ("fan", fan)])
    alice = h.member("org1", "alice")
    assert h.ok(alice, "fan", "fan", n - 1) == n - 1
    assert h.ok(alice, "fan", "again", n - 1) == "ok"  # the same contracts again: fine
    result = h.call(alice, "fan", "fan", n)
    assert result.status == "fault"
    assert result.message.endswith(f"calls reach more than {MAX_CALLED_CONTRACTS} contracts")


def test_one_step_budget_pays_for_caller_and_callee() -> None:
    callee = "def hi(ctx):\n    return 1\n"
    caller = (
        "def direct(ctx):\n    return 1\ndef through(ctx):\n    return ctx.call('leaf', 'hi', [])\n"
    )
    h = Harness(["org1"], contracts=[("leaf", callee), ("root", caller)], step_limit=50_000)
    alice = h.member("org1", "alice")
    alone = h.call(alice, "leaf", "hi").steps
    direct = h.call(alice, "root", "direct").steps
    through = h.call(alice, "root", "through")
    # the caller's own steps (its body is a little longer), the call, the callee's whole run
    # (arguments and return value included), and the value copied back
    assert through.steps > direct + CONTRACT_CALL_STEPS + alone - 10
    assert through.steps < direct + CONTRACT_CALL_STEPS + alone + 10


def test_a_callee_out_of_steps_ends_the_transaction_with_the_whole_budget(h: Harness) -> None:
    alice = h.member("org1", "alice")
    limit = 1_000_000
    for method in ("relay", "try_relay"):  # not even try_call catches it: nothing is left
        result = h.call(alice, "shop", method, "spin", [])
        assert (result.status, result.steps) == ("out_of_steps", limit)
        assert result.message == f"step limit of {limit} exceeded"


def test_a_query_that_calls_a_writer_is_refused_read_only(h: Harness) -> None:
    answer = h.query("shop", "try_relay", "write", ["k"])
    assert answer == {"ok": False, "status": "reverted", "message": "read-only call"}
    assert h.query("shop", "relay", "balance", ["org1"]) == 0


def test_a_contract_deployed_earlier_in_the_block_can_be_called(h: Harness) -> None:
    late = "def hello(ctx):\n    return ['late', ctx.caller]\n"
    alice = h.member("org1", "alice")
    assert h.call(alice, "shop", "deploy_then_call").status == "fault"
    proposal = h.ok(h.admin("org1"), "lifecycle", "propose", "late", "1.0", late)
    approve = h.tx(h.admin("org2"), "lifecycle", "approve", proposal["id"])
    applied, called = h.block(approve, h.tx(alice, "shop", "deploy_then_call"))
    assert applied.value["status"] == "applied"
    assert (called.status, called.value) == ("ok", ["late", "shop"])
