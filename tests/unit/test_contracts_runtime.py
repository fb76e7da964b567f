"""The contract runtime: a benign registry end to end, Decimal, metering, modes, determinism."""

from __future__ import annotations

import ast
import decimal
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import yulian
from yulian.contracts import (
    DEFAULT_STEP_LIMIT,
    MAX_CALL_DEPTH,
    BlockInfo,
    CompiledContract,
    ContractRejected,
    MemoryState,
    Outcome,
    Sender,
    TxInfo,
    compile_contract,
    sandbox_guards,
)
from yulian.types.encoding import decode, to_canonical
from yulian.types.receipt import Event, Receipt

REGISTRY = '''
"""A small evidence-like registry: register a digest once, look it up, transfer it."""

HEX = "0123456789abcdef"
MAX_TITLE = 128


def register(ctx, digest, title, metadata):
    _check_digest(ctx, digest)
    ctx.require(isinstance(title, str) and 0 < len(title) <= MAX_TITLE, "bad title")
    ctx.require(isinstance(metadata, dict), "metadata must be a map")
    key = "doc/" + digest
    ctx.require(not ctx.state.has(key), "already registered")
    record = {
        "owner_org": ctx.sender.org,
        "registrant": ctx.sender.id,
        "height": ctx.block.height,
        "time": ctx.block.time,
        "title": title,
        "metadata": metadata,
    }
    ctx.state.put(key, record)
    ctx.emit("registered", {"digest": digest, "owner_org": ctx.sender.org})
    return record


def lookup(ctx, digest):
    record = ctx.state.get("doc/" + digest)
    ctx.require(record is not None, "not registered")
    return record


def transfer(ctx, digest, new_org):
    key = "doc/" + digest
    record = ctx.state.get(key)
    ctx.require(record is not None, "not registered")
    ctx.require(record["owner_org"] == ctx.sender.org, "only the owner may transfer")
    previous = record["owner_org"]
    record["owner_org"] = new_org
    ctx.state.put(key, record)
    ctx.emit("transferred", {"digest": digest, "from": previous, "to": new_org})
    return record


def owners(ctx, digest):
    return [entry[1]["owner_org"] for entry in ctx.state.history("doc/" + digest)]


def _check_digest(ctx, digest):
    ok = isinstance(digest, str) and len(digest) == 64 and is_hex(digest)
    ctx.require(ok, "digest must be 64 lowercase hex characters")


def is_hex(text):
    return all([c in HEX for c in text])
'''

DIGEST = "ab" * 32
ORG1 = Sender("org1", "client", "c1", {"dept": "audit"})
ORG2 = Sender("org2", "admin", "a2")


def call(
    contract: CompiledContract,
    method: str,
    *args: Any,
    state: Any = None,
    sender: Sender = ORG1,
    height: int = 10,
    read_only: bool = False,
    step_limit: int = DEFAULT_STEP_LIMIT,
) -> Outcome:
    return contract.invoke(
        method,
        list(args),
        sender=sender,
        block=BlockInfo(height=height, time_ms=1_700_000_000_000 + height),
        tx=TxInfo(f"{height:064x}"),
        state=MemoryState() if state is None else state,
        read_only=read_only,
        step_limit=step_limit,
    )


@pytest.fixture(scope="module")
def registry() -> CompiledContract:
    return compile_contract("registry", REGISTRY)


def test_registry_end_to_end(registry: CompiledContract) -> None:
    assert registry.name == "registry"
    assert registry.methods == ("lookup", "owners", "register", "transfer")
    state = MemoryState(height=10)

    registered = call(registry, "register", DIGEST, "contract v1", {"pages": 3}, state=state)
    expected = {
        "height": 10,
        "metadata": {"pages": 3},
        "owner_org": "org1",
        "registrant": "c1",
        "time": 1_700_000_000_010,
        "title": "contract v1",
    }
    assert (registered.status, registered.message, registered.value) == ("ok", "", expected)
    assert list(registered.value) == sorted(expected)  # canonical key order
    assert registered.events == (
        ("registry", "registered", {"digest": DIGEST, "owner_org": "org1"}),
    )
    assert decode(state.values["doc/" + DIGEST])["owner_org"] == "org1"

    duplicate = call(registry, "register", DIGEST, "again", {}, state=state)
    assert (duplicate.status, duplicate.message, duplicate.events) == (
        "reverted",
        "already registered",
        (),
    )
    assert call(registry, "lookup", DIGEST, state=state).value == expected
    assert call(registry, "lookup", "cd" * 32, state=state).message == "not registered"

    stolen = call(registry, "transfer", DIGEST, "org2", state=state, sender=ORG2)
    assert (stolen.status, stolen.message) == ("reverted", "only the owner may transfer")

    state.height = 11
    moved = call(registry, "transfer", DIGEST, "org2", state=state, height=11)
    assert moved.status == "ok" and moved.value["owner_org"] == "org2"
    assert moved.events == (
        ("registry", "transferred", {"digest": DIGEST, "from": "org1", "to": "org2"}),
    )
    state.height = 12
    back = call(registry, "transfer", DIGEST, "org3", state=state, sender=ORG2, height=12)
    assert back.status == "ok"
    assert call(registry, "owners", DIGEST, state=state).value == ("org3", "org2", "org1")

    bad = call(registry, "register", "XY" * 32, "t", {}, state=state)
    assert (bad.status, bad.message) == ("reverted", "digest must be 64 lowercase hex characters")


def test_writes_reach_the_state_only_when_ok() -> None:
    contract = compile_contract(
        "w",
        "def write(ctx, fail):\n"
        "    ctx.state.put('a', 1)\n"
        "    ctx.state.put('b', [1, 2])\n"
        "    ctx.state.delete('c')\n"
        "    ctx.state.put('a', 2)\n"
        "    ctx.require(ctx.state.get('a') == 2 and not ctx.state.has('c'), 'own writes')\n"
        "    ctx.require(ctx.state.history('a', 1) == [[5, 2]], 'pending history')\n"
        "    ctx.require(not fail, 'asked to fail')\n",
    )
    state = MemoryState(height=5)
    state.put("c", b"\x01")
    failed = call(contract, "write", True, state=state, height=5)
    assert (failed.status, failed.message) == ("reverted", "asked to fail")
    assert state.values == {"c": b"\x01"}
    assert call(contract, "write", False, state=state, height=5).status == "ok"
    assert {k: decode(v) for k, v in state.values.items()} == {"a": 2, "b": (1, 2)}
    assert [h for h, _ in state.versions["a"]] == [5]  # one write per key, final value


def test_values_handed_to_the_contract_are_copies() -> None:
    contract = compile_contract(
        "c",
        "def touch(ctx, arg):\n"
        "    ctx.state.put('k', {'list': [1]})\n"
        "    v = ctx.state.get('k')\n"
        "    v['list'].append(2)\n"
        "    arg.append(9)\n"
        "    return [ctx.state.get('k'), arg]\n",
    )
    arg = [1]
    outcome = call(contract, "touch", arg)
    assert outcome.value == ({"list": (1,)}, (1, 9))
    assert arg == [1]


def test_decimal_arithmetic_is_deterministic_and_isolated() -> None:
    source = (
        "def money(ctx):\n"
        "    rate = Decimal('0.035')\n"
        "    fee = (Decimal('100.00') * rate).quantize(Decimal('0.01'))\n"
        "    even = Decimal('2.665').quantize(Decimal('0.01'))\n"
        "    up = Decimal('2.665').quantize(Decimal('0.01'), rounding='ROUND_HALF_UP')\n"
        "    third = Decimal(10) // Decimal(3)\n"
        "    big = Decimal(2) ** 100\n"
        "    rounded = Decimal('1.00000000000000000000000000005') + 0\n"
        "    total = sum([Decimal('0.10')] * 3)\n"
        "    return [str(fee), str(even), str(up), str(third), str(big), str(rounded),\n"
        "            str(total), f'{total:.3f}', str(-Decimal('1.5')), int(Decimal('-7.9'))]\n"
    )
    contract = compile_contract("money", source)
    expected = (
        "3.50",
        "2.66",
        "2.67",
        "3",
        "1.267650600228229401496703205E+30",
        "1.000000000000000000000000000",
        "0.30",
        "0.300",
        "-1.5",
        -7,
    )
    assert call(contract, "money").value == expected
    host = decimal.getcontext()
    saved = host.copy()
    try:
        host.prec = 3
        host.rounding = decimal.ROUND_FLOOR
        host.traps[decimal.Inexact] = True
        assert call(contract, "money").value == expected
        assert (host.prec, host.rounding) == (3, decimal.ROUND_FLOOR)
    finally:
        decimal.setcontext(saved)


LOOP = (
    "def loop(ctx, n):\n    total = 0\n    for i in range(n):\n        total += i\n"
    "    return total\n"
)
WHILE = "def spin(ctx, n):\n    while n > 0:\n        n -= 1\n    return n\n"
CALLS = (
    "def calls(ctx, n):\n    return len([one(i) for i in range(n)])\n\ndef one(i):\n    return i\n"
)
BIG_BODY = (
    "def big(ctx, n):\n    x = 0\n    for i in range(n):\n"
    + "        x = i\n" * 8
    + "    return x\n"
)


# Steps = module load + arguments + entry (2) + block charges + per item + return value. A block
# pays ceil(units / 8), units from costs.NODE_UNITS (a call 3, a comparison or operator 2, any
# other node 1); a value crossing the boundary bytes // 32 + its nodes (an int argument: 1),
# plus 1 for a return value (an int: 2).
# These numbers are the metering rules themselves, identical on every CPython version.
@pytest.mark.parametrize(
    ("source", "method", "per_item", "base"),
    [
        # load 1 (one def), n 1, entry 2, body: total = 0 (3), for header (1 + 1 + call 5 = 7),
        # return (2) = 12 units: 2, return value 2; each item 1 + ceil((3 + target 1) / 8)
        pytest.param(LOOP, "loop", 2, 8, id="for"),
        # load 1, n 1, entry 2, body: while + test (5), return (2): 1, return value 2; each
        # iteration 1 + ceil((test 4 + body 3) / 8)
        pytest.param(WHILE, "spin", 2, 7, id="while"),
        # load 1, n 1, entry 2, body: return len(comprehension of range(n)) = 14 units: 2,
        # return value 2; each item 1 + ceil((target 1 + one(i) 5) / 8) + one(): 2 + 1
        pytest.param(CALLS, "calls", 5, 8, id="calls"),
        # as for, but each item 1 + ceil((8 assignments * 3 + target 1) / 8) = 5
        pytest.param(BIG_BODY, "big", 5, 8, id="big_body"),
    ],
)
def test_metering_is_exact_and_grows_with_loop_length(
    source: str, method: str, per_item: int, base: int
) -> None:
    contract = compile_contract("m", source)
    steps = {}
    for n in (0, 1, 10, 20, 30):
        first, second = call(contract, method, n), call(contract, method, n)
        assert first == second and first.status == "ok"
        steps[n] = first.steps
    assert steps[0] == base
    assert steps[1] == base + per_item
    assert steps[10] < steps[20] < steps[30]
    assert steps[30] - steps[20] == steps[20] - steps[10] == 10 * per_item


def test_long_bodies_pay_for_their_length() -> None:
    # `x = (x + 1) % 7` is 9 units: Assign, Name, BinOp (2), BinOp (2), Name, Constant, Constant.
    statements = "".join("        x = (x + 1) % 7\n" for _ in range(2000))
    source = f"def f(ctx, n):\n    x = 0\n    for i in range(n):\n{statements}    return x\n"
    contract = compile_contract("long", source)
    one, two = call(contract, "f", 1), call(contract, "f", 2)
    assert one.status == two.status == "ok"
    assert two.steps - one.steps == 1 + -(-(2000 * 9 + 1) // 8)  # the item + the body
    assert call(contract, "f", 10**6, step_limit=100_000).status == "out_of_steps"


def test_loading_the_module_is_charged() -> None:
    # The module level runs again for every invocation; its literals pay by size too.
    literal = "[" + ", ".join(["[1, 2, 3]"] * 9000) + "]"  # 9000 * (2 + 3) + 2 units
    contract = compile_contract("big", f"TABLE = {literal}\n\ndef f(ctx):\n    return 1\n")
    outcome = call(contract, "f")
    assert outcome.status == "ok"
    # load (the literal, its assignment 2, the def 1), entry, body (return 2), return value
    assert outcome.steps == -(-(2 + 9000 * 5 + 2 + 1) // 8) + 2 + 1 + 2
    assert call(contract, "f", step_limit=4000).status == "out_of_steps"


def test_state_bytes_and_events_are_charged() -> None:
    contract = compile_contract(
        "s", "def put(ctx, n):\n    ctx.state.put('k', 'x' * n)\n    ctx.emit('e', 'y' * n)\n"
    )
    small, large = call(contract, "put", 10), call(contract, "put", 10_000)
    assert small.status == large.status == "ok"
    assert large.steps - small.steps >= 2 * (10_000 - 10) // 32


def test_read_only_calls_cannot_write(registry: CompiledContract) -> None:
    state = MemoryState()
    call(registry, "register", DIGEST, "t", {}, state=state)
    before = dict(state.values)
    assert call(registry, "lookup", DIGEST, state=state, read_only=True).status == "ok"
    for method, args in (("register", ("cd" * 32, "t", {})), ("transfer", (DIGEST, "org9"))):
        outcome = call(registry, method, *args, state=state, read_only=True)
        assert (outcome.status, outcome.message) == ("reverted", "read-only call")
    contract = compile_contract(
        "ro",
        "def d(ctx):\n    ctx.state.delete('k')\n\ndef e(ctx):\n    ctx.emit('e', 1)\n",
    )
    for method in ("d", "e"):
        outcome = call(contract, method, state=state, read_only=True)
        assert (outcome.status, outcome.message) == ("reverted", "read-only call")
    assert state.values == before


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="too_few"),
        pytest.param((DIGEST, "t", {}, "extra"), id="too_many"),
        pytest.param((DIGEST, 1.5, {}), id="float"),
        pytest.param((DIGEST, "t", {1: "non-str key"}), id="int_key"),
        pytest.param((DIGEST, "t", {"s": {1, 2}}), id="set"),
        pytest.param((DIGEST, "t", 2**64), id="int_range"),
        pytest.param((DIGEST, "t", object()), id="object"),
    ],
)
def test_bad_args(registry: CompiledContract, args: tuple[Any, ...]) -> None:
    state = MemoryState()
    outcome = call(registry, "register", *args, state=state)
    assert outcome.status == "bad_args"
    assert (outcome.steps, outcome.value, outcome.events) == (0, None, ())
    assert state.values == {}


def test_args_that_are_not_a_list(registry: CompiledContract) -> None:
    outcome = registry.invoke(
        "lookup",
        {"digest": DIGEST},  # type: ignore[arg-type]
        sender=ORG1,
        block=BlockInfo(1, 0),
        tx=TxInfo("00"),
        state=MemoryState(),
    )
    assert outcome.status == "bad_args"


def test_optional_parameters(registry: CompiledContract) -> None:
    contract = compile_contract("o", "def f(ctx, a, b=2, c=None):\n    return [a, b, c]\n")
    assert call(contract, "f", 1).value == (1, 2, None)
    assert call(contract, "f", 1, 5, 6).value == (1, 5, 6)
    assert call(contract, "f").status == "bad_args"
    assert call(contract, "f", 1, 2, 3, 4).status == "bad_args"


@pytest.mark.parametrize("method", ["nope", "_check_digest", "is_hex", "", "x" * 1000])
def test_unknown_method(registry: CompiledContract, method: str) -> None:
    outcome = call(registry, method)
    assert outcome.status == "unknown_method"
    assert len(outcome.message) < 100


def test_non_str_method_is_unknown(registry: CompiledContract) -> None:
    outcome = call(registry, 42)  # type: ignore[arg-type]
    assert outcome.status == "unknown_method"


def test_non_encodable_return_is_a_fault() -> None:
    contract = compile_contract(
        "r", "def dec(ctx):\n    return Decimal(1)\n\ndef big(ctx):\n    return 2 ** 70\n"
    )
    assert call(contract, "dec").status == "fault"
    assert call(contract, "big").message == "InvalidValue: integer outside the 64-bit range"


def test_compiling_twice_gives_identical_behaviour(registry: CompiledContract) -> None:
    again = compile_contract("registry", REGISTRY)
    for contract in (registry, again):
        assert contract.methods == registry.methods
    runs = []
    for contract in (registry, again):
        state = MemoryState()
        runs.append(
            (
                call(contract, "register", DIGEST, "t", {"k": "v"}, state=state),
                call(contract, "transfer", DIGEST, "org5", state=state),
                dict(state.values),
            )
        )
    assert runs[0] == runs[1]


def test_module_globals_are_fresh_for_every_invocation() -> None:
    contract = compile_contract(
        "g",
        "SEEN = []\nLIMITS = {'n': 1}\n\ndef f(ctx):\n    SEEN.append(1)\n    return len(SEEN)\n",
    )
    assert [call(contract, "f").value for _ in range(3)] == [1, 1, 1]


def test_mutable_defaults_are_fresh_for_every_invocation() -> None:
    contract = compile_contract(
        "d", "N = (1, 2)\n\ndef f(ctx, acc=[]):\n    acc.append(1)\n    return len(acc)\n"
    )
    assert [call(contract, "f").value for _ in range(3)] == [1, 1, 1]


def test_a_kept_module_behaves_like_a_fresh_one() -> None:
    """A module level that binds nothing mutable is loaded once per environment and kept."""
    source = (
        "LIMIT = 3\nNAMES = ('a', 'b')\n\n"
        "def f(ctx, n=-1):\n    seen = [n]\n    seen.append(len(NAMES))\n"
        "    ctx.state.put('k', ctx.state.get('k', 0) + 1)\n    return [LIMIT, seen]\n"
        "def g(ctx):\n    return f(ctx, 7)\n"
    )
    contract = compile_contract("m", source)
    first = [call(contract, method) for method in ("f", "g")]  # loads the module
    again = [call(contract, method) for method in ("f", "g", "f")]  # keeps it
    assert again == [*first, first[0]]
    assert [o.value for o in first] == [(3, (-1, 2)), (3, (7, 2))]


# (initial value, statement changing x) for every list and dict method and every other way to
# change a container in place: after ctx.state.put(x) the return value must still show it
LIST_CHANGES = {
    "append": "x.append(4)",
    "clear": "x.clear()",
    "copy": "y = x.copy()",
    "count": "y = x.count(1)",
    "extend": "x.extend([5, 6])",
    "index": "y = x.index(2)",
    "insert": "x.insert(0, 9)",
    "pop": "x.pop()",
    "remove": "x.remove(2)",
    "reverse": "x.reverse()",
    "sort": "x.sort(reverse=True)",
}
DICT_CHANGES = {
    "clear": "x.clear()",
    "copy": "y = x.copy()",
    "get": "y = x.get('a')",
    "items": "y = x.items()",
    "keys": "y = x.keys()",
    "pop": "x.pop('a')",
    "popitem": "x.popitem()",
    "setdefault": "x.setdefault('z', 0)",
    "update": "x.update({'b': 7})",
    "values": "y = x.values()",
}
OTHER_CHANGES = [
    ("[1, 2, 3]", "x[0] = 8"),
    ("[1, 2, 3]", "x[1:] = [0]"),
    ("[1, 2, 3]", "del x[0]"),
    ("[1, 2, 3]", "x += [4]"),
    ("[1, 2, 3]", "x *= 2"),
    ("{'a': 1, 'b': 2}", "x['c'] = 3"),
    ("{'a': 1, 'b': 2}", "x['a'] += 5"),
    ("{'a': 1, 'b': 2}", "del x['a']"),
    ("{'a': 1, 'b': 2}", "x |= {'d': 4}"),
    ("{'a': [1], 'b': 2}", "x['a'].append(2)"),
    ("{'a': [1], 'b': 2}", "x['a'][0] = 5"),
    ("[1, 2, 3]", "add(4)"),  # a method fetched before the put, called after it
    ("[[2], [1]]", "y = sorted(x, key=_grow)"),  # a change made by a key function
    ("[1, 2, 3]", "_change(x)"),
]
CHANGE_SOURCE = """
def _grow(v):
    v.append(0)
    return len(v)

def _change(v):
    v.append(7)

def f(ctx, put):
    x = INITIAL
    add = x.append if isinstance(x, list) else None
    if put:
        ctx.state.put("k", x)
    CHANGE
    return x
"""


def test_every_list_and_dict_method_is_covered_by_the_change_table() -> None:
    from yulian.contracts.methods import METHODS

    assert set(LIST_CHANGES) == set(METHODS[list])
    assert set(DICT_CHANGES) == set(METHODS[dict])


@pytest.mark.parametrize(
    ("initial", "change"),
    [("[1, 2, 3]", c) for c in LIST_CHANGES.values()]
    + [("{'a': 1, 'b': 2}", c) for c in DICT_CHANGES.values()]
    + OTHER_CHANGES,
)
def test_a_value_changed_after_it_was_put_is_returned_as_changed(initial: str, change: str) -> None:
    """The host reuses the export of the value last put only while no container changed."""
    source = CHANGE_SOURCE.replace("INITIAL", initial).replace("CHANGE", change)
    contract = compile_contract("changes", source)
    state = MemoryState()
    stored, unstored = call(contract, "f", True, state=state), call(contract, "f", False)
    assert stored.status == "ok", stored
    assert stored.value == unstored.value
    assert decode(state.values["k"]) == to_canonical(ast.literal_eval(initial))  # as it was put


def test_host_failure_is_raised_not_turned_into_a_receipt(registry: CompiledContract) -> None:
    class BrokenState(MemoryState):
        def get(self, key: str) -> bytes | None:
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        call(registry, "lookup", DIGEST, state=BrokenState())


def test_contract_rejected_carries_the_line() -> None:
    with pytest.raises(ContractRejected) as rejected:
        compile_contract("x", "def f(ctx):\n    x = 1\n    return x / 2\n")
    assert rejected.value.line == 3
    assert "'/'" in rejected.value.reason


def test_language_features_that_are_allowed() -> None:
    source = '''
"""Docstrings, helpers, comprehensions, unpacking, f-strings, slicing, nested functions."""

WEIGHTS = {"a": 1, "b": 2}


def features(ctx, words: list) -> dict:
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    counts["a"] += 10
    pairs = sorted(counts.items(), key=second, reverse=True)
    first, (key, value) = pairs[0], pairs[-1]
    squares = [i * i for i in range(5) if i % 2 == 0]
    index = {w: n for n, w in enumerate(words)}

    def scaled(x):
        return x * WEIGHTS.get(key, 3)

    return {
        "first": first,
        "last": [key, value, scaled(value)],
        "squares": squares,
        "index": index,
        "text": f"{len(words):03d}|{key!s:>4}|{255:#x}|{'/'.join(words[::-1])}",
        "bounds": [0 <= value < 10, 1 < 2 > 3, max(words, key=len), min([3, 1, 2])],
        "bytes": [b"abc".hex(), "héllo".encode("utf-8").decode("utf-8"), bytes([104, 105])],
        "misc": [divmod(17, 5), abs(-4), hex(255), chr(65), ord("A"), int("ff", 16), -7 // 2],
        "walrus": [(n := len(words)), n + 1],
        "ints": [2 ** 62, 1 << 10, 6 & 3, 6 ^ 3, 6 | 1, 256 >> 2, ~5],
    }


def second(pair):
    return pair[1]
'''
    outcome = call(compile_contract("features", source), "features", ["b", "a", "b", "c"])
    assert outcome.status == "ok", outcome
    assert outcome.value == {
        "bounds": (True, False, "b", 1),
        "bytes": ("616263", "héllo", b"hi"),
        "first": ("a", 11),
        "index": {"a": 1, "b": 2, "c": 3},
        "ints": (2**62, 1024, 2, 5, 7, 64, -6),
        "last": ("c", 1, 3),
        "misc": ((3, 2), 4, "0xff", "A", 65, 255, -4),
        "squares": (0, 4, 16),
        "text": "004|   c|0xff|c/b/a/b",
        "walrus": (4, 5),
    }


def test_outcome_does_not_depend_on_int_max_str_digits() -> None:
    contract = compile_contract(
        "digits",
        "def f(ctx):\n    x = 7 ** 700\n    return [len(str(x)), int(str(x)[:600]) % 1000]\n",
    )
    baseline = call(contract, "f")
    saved = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(640)
        assert call(contract, "f") == baseline
    finally:
        sys.set_int_max_str_digits(saved)
    assert baseline.status == "ok" and baseline.value[0] == 592


def test_outcome_does_not_depend_on_warning_filters() -> None:
    source = "def f(ctx):\n    return ['\\d', b'a' == 'a', str(b'x')]\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outcome = call(compile_contract("w", source), "f")
    assert outcome.value == ("\\d", False, "b'x'")


def test_invocations_under_one_set_of_guards_match_single_invocations() -> None:
    """A block installs the guards once (``sandbox_guards``): Decimal flags then carry over
    from one invocation to the next, and no outcome may depend on that."""
    source = (
        "def f(ctx, n):\n"
        "    third = Decimal(n) // Decimal(3) + Decimal('1.00000000000000000000000000005')\n"
        "    return [str(third), b'a' == 'a', '\\d', str(Decimal(2) ** 100)]\n"
        "def g(ctx):\n"
        "    return str(Decimal(10) ** 10**18)\n"
    )
    contract = compile_contract("guards", source)
    calls = [("f", (10,)), ("g", ()), ("f", (11,)), ("g", ()), ("f", (10,))]
    single = [call(contract, method, *args) for method, args in calls]
    host_context = decimal.getcontext().copy()
    filters = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with sandbox_guards():
            with sandbox_guards():  # nested: a no-op
                guarded = [call(contract, method, *args) for method, args in calls]
            assert decimal.getcontext().prec == 28
    assert guarded == single
    assert [o.status for o in single] == ["ok", "fault", "ok", "fault", "ok"]
    assert warnings.filters == filters
    live = decimal.getcontext()
    assert (live.prec, live.Emax, live.traps) == (
        host_context.prec,
        host_context.Emax,
        host_context.traps,
    )


def test_deep_host_stack_still_meters_recursion() -> None:
    contract = compile_contract("r", "def f(ctx, n):\n    return f(ctx, n + 1)\n")
    limit = sys.getrecursionlimit()

    def descend(levels: int) -> Outcome:
        if levels == 0:
            return call(contract, "f", 0)
        return descend(levels - 1)

    try:
        outcome = descend(limit - 60)  # close to the host's own limit
    finally:
        sys.setrecursionlimit(limit)
    assert outcome.status == "out_of_steps"
    assert outcome.message == f"call depth limit of {MAX_CALL_DEPTH} exceeded"


# --- generated programs -------------------------------------------------------------------

OPERATORS = ["+", "-", "*", "//", "%"]
atoms = st.one_of(st.integers(-50, 50).map(str), st.sampled_from(["x", "i", "acc", "len(items)"]))
expressions = st.recursive(
    atoms,
    lambda inner: st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    ),
    max_leaves=6,
)
statements = st.one_of(
    expressions.map(lambda e: f"acc = {e}"),
    expressions.map(lambda e: f"items.append({e})"),
    expressions.map(lambda e: f"items = items + [{e}]"),
    st.just("items = sorted(items)"),
    st.just("items = items[1:]"),
    expressions.map(lambda e: f"if {e} > 0:\n            acc += 1"),
)


def _program(loop: int, body: list[str]) -> str:
    lines = "\n".join(f"        {s}" for s in body)
    return (
        "def run(ctx, x):\n    acc = 0\n    items = [x]\n"
        f"    for i in range({loop}):\n{lines}\n"
        "    return [acc, items, len(items)]\n"
    )


def _plain_python(source: str, x: int) -> tuple[str, Any]:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    try:
        return "ok", namespace["run"](None, x)
    except Exception as e:
        return "raised", type(e).__name__


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 8), st.lists(statements, min_size=1, max_size=5), st.integers(-20, 20))
def test_generated_programs_are_deterministic_and_agree_with_python(
    loop: int, body: list[str], x: int
) -> None:
    source = _program(loop, body)
    contract = compile_contract("gen", source)
    first = call(contract, "run", x)
    assert call(contract, "run", x) == first
    assert call(compile_contract("gen", source), "run", x) == first
    kind, expected = _plain_python(source, x)
    if first.status == "ok":
        assert kind == "ok"
        assert first.value == (expected[0], tuple(expected[1]), expected[2])
    elif first.status == "fault" and ":" not in first.message:
        assert (kind, expected) == ("raised", first.message)
    else:  # the sandbox's own limits: 64-bit results, integer size
        assert first.status in ("fault", "out_of_steps")


# --- hash seeds -------------------------------------------------------------------------------

HASHSEED_SCRIPT = r"""
from yulian.contracts import BlockInfo, MemoryState, Sender, TxInfo, compile_contract
SOURCE = '''
def build(ctx, words):
    index = {}
    for w in words:
        index[w] = index.get(w, 0) + len(w)
        index[w + "!"] = {"k" + w: [w, len(index)]}
    ctx.state.put("index", index)
    for key in index:
        ctx.state.put("k/" + key, str(index[key]))
    ctx.emit("built", {"keys": list(index.keys()), "text": ",".join([str(k) for k in index])})
    return [index, sorted(index), str(index), f"{list(index.items())}", [k for k in index]]
'''
contract = compile_contract("seeded", SOURCE)
state = MemoryState(height=3)
words = ["zeta", "alpha", "mu", "beta", "alpha", "omega", "pi", "chi", "nu", "xi"] * 3
outcome = contract.invoke("build", [words], sender=Sender("o", "client", "c"),
                          block=BlockInfo(3, 9), tx=TxInfo("aa"), state=state)
print(repr(outcome))
print(repr(sorted(state.values.items())))
print(repr(list(state.values)))
"""


def test_outcomes_do_not_depend_on_the_hash_seed() -> None:
    src = str(Path(yulian.__file__).resolve().parents[1])
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": src}
        result = subprocess.run(
            [sys.executable, "-c", HASHSEED_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "status='ok'" in result.stdout, result.stdout + result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_what_a_receipt_cannot_hold_is_a_fault_with_no_writes() -> None:
    """A return value nested deeper than 11 levels, or an event payload deeper than 9, would
    make a receipt that does not decode (at 16, one that does not even encode, so no block could
    be made): such a call ends as ``fault`` and writes nothing; one level less is ``ok``."""
    contract = compile_contract(
        "deep",
        "def nest(k):\n"
        "    v = 1\n"
        "    for _ in range(k):\n"
        "        v = [v]\n"
        "    return v\n"
        "def ret(ctx, k):\n"
        "    ctx.state.put('a', 1)\n"
        "    return nest(k)\n"
        "def event(ctx, k):\n"
        "    ctx.state.put('a', 1)\n"
        "    ctx.emit('e', {'x': nest(k - 1)})\n",
    )
    for method, ok_depth in (("ret", 11), ("event", 9)):
        for k in (ok_depth, ok_depth + 1, 15):
            state = MemoryState()
            outcome = call(contract, method, k, state=state)
            if k <= ok_depth:
                assert outcome.status == "ok", (method, k)
                receipt = Receipt(
                    tx_id=bytes(32),
                    status=outcome.status,
                    message=outcome.message,
                    steps=outcome.steps,
                    value=outcome.value,
                    events=tuple(Event(c, n, p) for c, n, p in outcome.events),
                )
                assert Receipt.decode(receipt.encode()) == receipt
                assert state.values
            else:
                assert outcome.status == "fault" and "InvalidValue" in outcome.message, (method, k)
                assert state.values == {}
