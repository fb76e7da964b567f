"""Execution results pinned to bytes: every optimisation of the execution path must leave them
exactly as they were.

The digests were recorded from the code before the execution path was tuned for speed, and
again when the cost model was measured (issue 16, decision 0011): the result roots and step
totals moved then (steps are in every receipt), the state roots did not (no write changed). A
fixed block sequence of each bench workload (plus a contract that walks the value model and
every failure status) must give the same result and state roots, and every attack of the
sandbox corpora the same outcome, steps included. A mismatch here is a consensus change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from tests.security.test_sandbox_escapes import CASES
from tests.security.test_sandbox_resources import ATTACKS

from yulian.apps.benchmarks import genesis_contracts
from yulian.bench.workloads import make_workload
from yulian.contracts import BlockInfo, MemoryState, Outcome, Sender, TxInfo, compile_contract
from yulian.crypto.suite import get_suite
from yulian.execution.executor import BlockContext, ExecTx, SenderInfo, execute_block
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import EMPTY_STATE_SUM, result_root, state_root, state_sum_after
from yulian.types.encoding import encode, to_canonical
from yulian.types.tx import SignedTx, Tx

SUITE = get_suite("standard")
STEP_LIMIT = 1_000_000
SENDERS = (
    SenderInfo("org1", "client", "c1", {"dept": "audit"}),
    SenderInfo("org2", "admin", "a2", {}),
)

PIN = """
def store(ctx, key, value):
    ctx.state.put(key, value)
    ctx.emit("stored", {"key": key, "value": value})
    return ctx.state.get(key)

def remove(ctx, key):
    ctx.require(ctx.state.has(key), "absent")
    ctx.state.delete(key)
    return [ctx.state.has(key), ctx.state.get(key, "gone")]

def versions(ctx, key):
    return ctx.state.history(key, 4)

def compute(ctx, n, extra=None):
    words = [f"w{i:03d}" for i in range(n)]
    table = {w: len(w) * i for i, w in enumerate(words)}
    ordered = sorted(words, key=_rank, reverse=True)
    text = "-".join(ordered[:5]).upper()
    amount = Decimal("1.5") * n
    return {
        "total": sum(table.values()),
        "text": text,
        "dec": str(amount),
        "range": 0 < n < 100,
        "tail": ordered[-2:],
        "pairs": list(zip(words[:3], range(3))),
        "bytes": text.encode("utf-8"),
        "neg": -n,
        "big": 2 ** 63 - 1,
        "low": -(2 ** 63),
        "none": None,
        "nested": [[1, [2, [3, {"z": 1, "a": (2, 3)}]]]],
        "extra": extra,
        "\\u00e9": 1, "Z": 2, "a": 3, "\\u00ff": 4, "\\U0001f600": 5, "\\u4e2d": 6,
    }

def _rank(word):
    return word[::-1]

def fail(ctx, kind):
    if kind == "revert":
        ctx.require(False, "nope")
    if kind == "key_error":
        return {}["x"]
    if kind == "host_object":
        return ctx
    if kind == "big_int":
        return 2 ** 64
    if kind == "deep":
        x = []
        for i in range(20):
            x = [x]
        return x
    if kind == "dag":
        a = [0]
        for i in range(20):
            a = [a, a]
        return a
    if kind == "wide":
        a = [0]
        for i in range(12):
            a = [a, a, a, a]
        return a
    if kind == "spin":
        while True:
            pass
    if kind == "big_value":
        ctx.state.put("k", "a" * 70000)
    if kind == "many_events":
        for i in range(70):
            ctx.emit("e", i)
    if kind == "write_then_revert":
        ctx.state.put("k", 1)
        ctx.require(False, "rolled back")
    if kind == "surrogate":
        return "\\ud800"
    if kind == "surrogate_key":
        return {"\\ud800": 1, "a": 2}
    if kind == "int_key":
        k = 1
        return {k: 2}
    if kind == "deep_put":
        x = []
        for i in range(20):
            x = [x]
        ctx.state.put("deep", x)
    return kind
"""

# one (contract, method, args) list per scenario, executed as blocks of BLOCK_TXS
BLOCK_TXS = 40
PIN_CALLS: list[tuple[str, list[Any]]] = [
    ("store", ["a", 1]),
    ("store", ["b", {"y": [1, 2, {"q": b"\x00\xff"}], "x": "text", "é": True}]),
    ("store", ["a", -5]),
    ("versions", ["a"]),
    ("remove", ["b"]),
    ("remove", ["b"]),
    ("versions", ["b"]),
    ("compute", [7]),
    ("compute", [40, {"k": [None, False, "v"]}]),
    ("compute", []),
    ("compute", [1, 2, 3]),
    ("missing", []),
    ("store", ["", 1]),
    ("store", ["k" * 300, 1]),
    ("store", ["n", None]),
    *[
        ("fail", [kind])
        for kind in (
            "revert",
            "key_error",
            "host_object",
            "big_int",
            "deep",
            "dag",
            "wide",
            "spin",
            "big_value",
            "many_events",
            "write_then_revert",
            "surrogate",
            "surrogate_key",
            "int_key",
            "deep_put",
            "fine",
        )
    ],
    ("store", ["c", "x" * 2000]),
    ("store", ["d", [list(range(50)), {"m": "x" * 900}]]),
    ("versions", ["c"]),
]

# scenario -> (result root, digest of the write sets, total steps, state root); the write-set
# digests as recorded before any tuning (they were the state roots before decision 0050); the
# state roots (the LtHash rule) recorded when it was introduced, and again when the standard
# suite's XOF became SHAKE128 (decision 0090: result roots, write sets and steps unchanged)
PINNED: dict[str, tuple[str, str, int, str]] = {
    "evidence": (
        "9f013a6ff6c24e16177c2f35a717ebd48c4ced7eadaeab29e5df91aa32e1e695",
        "f6edcc31d09e643999e91c65796c9199e4ed00286df7080c73b6886cda1d1f74",
        16522,
        "204832bfaf0794ecb9dd77c794cb5cf07010af19254d94ddcaaa5adb0b624443",
    ),
    "noop": (
        "3bc597aefb514f77c15ef7b79f1e22246e0522816b58536ddfd4ee4da7ff9ac4",
        "373300874988c46d02beccb1148fada1455befe2c9363c719cce76106fca0f35",
        720,
        "4eabb22f2850c49c346335448c2a89115ad993b4b3acf31cb961e6e899767564",
    ),
    "pin": (
        "72cd6f49ad855e6b4c53333bb0bceaaae5c1830d8c7802fa6ed07544a3c71b08",
        "bb6994b7a580d7816a79553a51c01f9346c33854933b4fcfb3ada9ec56bd1d9b",
        1017233,
        "a100caac2e23af0904874fc8690b0c089f4da0bb13d06c268012cd1d45476f78",
    ),
    "trace": (
        "00c0d6f788e50fb7ad84e0f994f1625b31d4b1f396e1374270e299acc2a64429",
        "20066a423a96b13656c9fd30b601cb78dc370ed5588bba5635d5ab7362322f38",
        49698,
        "1542c22b1738fe3e87a0013c42433c7d7e2f98c8f0544385423b1d680393e87e",
    ),
    "transfer": (
        "7b067c677bfa68a0d8ca7a66ff23204ceac035fa416242a119c508321e5efbdb",
        "587d4227fdc379c7ee643f019661fc562fcdf05b09aa6f3b320c87174de98f52",
        15330,
        "bbbd7237f073eb7a2d9499426aaae42ffa19b19dba93f7a70621a8e88449cabb",
    ),
}
ATTACKS_DIGEST = "77988646451aa6c26db0eb9a40903aa379110fcbc304e296069adc2b00a7799b"
CASES_DIGEST = "6e329e8a5941d2144a884734e0aaddceef879daa1ab843b632fa093136a2fd02"


def make_tx(contract: str, method: str, args: Sequence[Any], nonce: int) -> ExecTx:
    """An ``ExecTx`` as admission would build it, without keys: the body is decoded again."""
    tx = Tx("pin-chain", contract, method, to_canonical(tuple(args)), b"signer", nonce, 10)
    body = tx.encode()
    signed = SignedTx.decode(encode((body, b"signature")))
    return ExecTx(hashlib.sha256(body).digest(), signed, SENDERS[nonce % 2])


class MemoryView:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return list(reversed(self.versions.get(key, [])))[:limit]

    def apply(self, height: int, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            self.versions.setdefault(key, []).append((height, value))
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value


def scenario_calls(name: str) -> list[tuple[str, str, list[Any]]]:
    if name == "pin":
        return [("pin", method, args) for method, args in PIN_CALLS * 2]
    workload = make_workload(name, accounts=30, batches=3, tag="pin")
    calls = [(workload.contract, *workload.call(i)) for i in range(3 * BLOCK_TXS)]
    if name == "evidence":
        calls[5] = calls[4]  # registered twice: reverted
        calls[9] = (workload.contract, "transfer", [*calls[8][2][:1], "org9"])
        calls[10] = ("no-such-contract", "register", [])
    if name == "transfer":
        calls[7] = (workload.contract, "transfer", ["a1", "a2", 10**18])  # insufficient
        calls[8] = (workload.contract, "transfer", ["a1", "nobody", 1])
    return calls


def writes_digest(previous: bytes, height: int, writes: Sequence[Any]) -> bytes:
    """Every block's sorted writes chained: the state root's rule before decision 0050, kept
    here to pin the write sets themselves, as recorded before any tuning."""
    return SUITE.hash(encode(("yulian/state/v1", previous, height, tuple(writes))))


def run_scenario(name: str) -> tuple[str, str, int, str]:
    registry = ContractRegistry(SUITE, [*genesis_contracts(), ("pin", PIN)])
    view = MemoryView()
    root = hashlib.sha256(b"pinned genesis").digest()
    state_sum = EMPTY_STATE_SUM
    receipts = []
    setup = make_workload(name, accounts=30).setup_calls() if name != "pin" else []
    blocks = [[make_tx(name, m, a, 10_000 + i) for i, (m, a) in enumerate(setup)]] if setup else []
    txs = [make_tx(c, m, a, i) for i, (c, m, a) in enumerate(scenario_calls(name))]
    blocks += [txs[i : i + BLOCK_TXS] for i in range(0, len(txs), BLOCK_TXS)]
    for height, block in enumerate(blocks, start=1):
        limit = 5_000 if name == "pin" and height == 2 else STEP_LIMIT
        result = execute_block(
            view, BlockContext(height, 1_700_000_000_000 + height, limit), block, registry.resolve
        )
        receipts.extend(result.receipts)
        root = writes_digest(root, height, result.writes)
        state_sum = state_sum_after(SUITE, state_sum, view, height, result.writes)
        view.apply(height, result.writes)
    return (
        result_root(SUITE, [r.encode() for r in receipts]).hex(),
        root.hex(),
        sum(r.steps for r in receipts),
        state_root(SUITE, state_sum).hex(),
    )


@pytest.mark.parametrize("name", sorted(PINNED))
def test_block_roots_are_pinned(name: str) -> None:
    assert run_scenario(name) == PINNED[name]


def outcome_digest(outcomes: list[Outcome]) -> str:
    parts = [(o.status, o.message, o.steps, o.value, tuple(o.events)) for o in outcomes]
    return hashlib.sha256(encode(to_canonical(tuple(parts)))).hexdigest()


def invoke_attack(source: str, step_limit: int) -> Outcome:
    return compile_contract("attack", source).invoke(
        "attack",
        [],
        sender=Sender("org1", "client", "c0ffee", {"dept": "audit"}),
        block=BlockInfo(7, 1_700_000_000_000),
        tx=TxInfo("ab" * 32),
        state=MemoryState(),
        step_limit=step_limit,
    )


def test_attack_outcomes_are_pinned() -> None:
    outcomes = [invoke_attack(source, 500_000) for _, _, _, source in ATTACKS]
    assert outcome_digest(outcomes) == ATTACKS_DIGEST


def test_escape_outcomes_are_pinned() -> None:
    sources = [source for _, expect, source in CASES if expect != "rejected"]
    outcomes = [invoke_attack(source, 200_000) for source in sources]
    assert outcome_digest(outcomes) == CASES_DIGEST
