"""K1 and K2 for calls between contracts and ordered scans: nothing escapes through a callee or
a scan, every resource attack through them ends in a deterministic receipt within the budget,
and a block of all of them gives the same receipts and writes on every node (here: under three
hash seeds, in separate processes).

Every case is a method of one attacking contract, run as a transaction through the real
executor, next to a ``vault`` whose state holds a secret and a ``probe`` that tries what a
hostile callee would: hand back its ``ctx``, a function, a bound method, write where it should
not, fail after writing. Whatever a case does: no write lands in the vault's key space, no
receipt carries the vault's secret, every receipt reads back, a failed tx writes nothing, and
an out-of-steps receipt has spent exactly the budget.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import yulian
from yulian.contracts.costs import MAX_CALLED_CONTRACTS, MAX_CONTRACT_CALL_DEPTH
from yulian.contracts.export import MAX_ARGS_BYTES
from yulian.crypto.suite import get_suite
from yulian.execution.executor import BlockContext, ExecTx, SenderInfo, execute_block
from yulian.execution.overlay import scan_mapping, state_key
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import result_root
from yulian.types.encoding import encode, to_canonical
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx, Tx

STEP_LIMIT = 200_000
SECRET = "TOPSECRET-7f3a"
SUITE = get_suite("standard")
SENDER = SenderInfo("org1", "client", "c1", {})

VAULT = f"""
def peek_own(ctx):
    return ctx.state.get("secret/1") == "{SECRET}"

def only_shop(ctx):
    ctx.require(ctx.caller == "shop", "shop only")
    return "{SECRET}"

def _read(ctx):
    return ctx.state.get("secret/1")

def whoami(ctx):
    return ctx.caller
"""

PROBE = """
def echo(ctx, value):
    return value

def leak_ctx(ctx):
    return ctx

def leak_state(ctx):
    return ctx.state

def leak_getter(ctx):
    return ctx.state.get

def leak_function(ctx):
    return leak_ctx

def leak_range(ctx):
    return range(10)

def leak_zip(ctx):
    return zip([1], [2])

def write(ctx, key):
    ctx.state.put(key, "probe")

def write_then_fault(ctx):
    ctx.state.put("written", 1)
    ctx.emit("probe", {})
    return 1 // 0

def spin(ctx):
    while True:
        pass

def call_back(ctx):
    return ctx.call(ctx.caller, "whoami", [])

def big(ctx, n):
    return "x" * n

def emit(ctx, n, size):
    for i in range(n):
        ctx.emit("e", "x" * size)

def recurse(ctx, n):
    if n == 0:
        return 0
    return recurse(ctx, n - 1) + 1

def scan_all(ctx):
    return ctx.state.scan("", 256)
"""


def chain(n: int, recursion: int) -> list[tuple[str, str]]:
    """Contracts d0 .. d{n-1}: each recurses ``recursion`` deep and calls the next from there."""
    out = []
    for i in range(n):
        nxt = f"ctx.call('d{i + 1}', 'go', [])" if i < n - 1 else "0"
        source = (
            f"def _down(ctx, k):\n    if k == 0:\n        return {nxt}\n"
            "    return _down(ctx, k - 1)\n"
            f"def go(ctx):\n    return _down(ctx, {recursion})\n"
        )
        out.append((f"d{i}", source))
    return out


LEAVES = [(f"leaf{i}", "def hi(ctx):\n    return 1\n") for i in range(MAX_CALLED_CONTRACTS + 1)]

# (id, expected status, text the message holds, body of ``case_<id>(ctx)``)
CASES: list[tuple[str, str, str, str]] = [
    # --- what crosses a call: plain data only ---
    (
        "arg_ctx",
        "fault",
        "CallFailed: probe.echo: bad_args: arguments:",
        "ctx.call('probe', 'echo', [ctx])",
    ),
    (
        "arg_state",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [ctx.state])",
    ),
    (
        "arg_sender",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [ctx.sender])",
    ),
    (
        "arg_getter",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [ctx.state.get])",
    ),
    (
        "arg_function",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [case_arg_ctx])",
    ),
    (
        "arg_nested_ctx",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [{'c': [ctx]}])",
    ),
    (
        "arg_range",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [range(3)])",
    ),
    (
        "arg_cycle",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "a = []\n    a.append(a)\n    ctx.call('probe', 'echo', [a])",
    ),
    (
        "arg_decimal",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [Decimal('1.5')])",
    ),
    (
        "arg_big_int",
        "fault",
        "CallFailed: probe.echo: bad_args",
        "ctx.call('probe', 'echo', [2 ** 70])",
    ),
    (
        "ret_ctx",
        "fault",
        "CallFailed: probe.leak_ctx: fault: InvalidValue",
        "ctx.call('probe', 'leak_ctx', [])",
    ),
    (
        "ret_state",
        "fault",
        "CallFailed: probe.leak_state: fault: InvalidValue",
        "ctx.call('probe', 'leak_state', [])",
    ),
    (
        "ret_getter",
        "fault",
        "CallFailed: probe.leak_getter: fault: InvalidValue",
        "ctx.call('probe', 'leak_getter', [])",
    ),
    (
        "ret_function",
        "fault",
        "CallFailed: probe.leak_function: fault: InvalidValue",
        "ctx.call('probe', 'leak_function', [])",
    ),
    (
        "ret_range",
        "fault",
        "CallFailed: probe.leak_range: fault: InvalidValue",
        "ctx.call('probe', 'leak_range', [])",
    ),
    (
        "ret_zip",
        "fault",
        "CallFailed: probe.leak_zip: fault: InvalidValue",
        "ctx.call('probe', 'leak_zip', [])",
    ),
    ("try_ret_ctx", "ok", "", "return ctx.try_call('probe', 'leak_ctx', [])"),
    (
        "copy_is_fresh",
        "ok",
        "",
        "x = [[1]]\n    y = ctx.call('probe', 'echo', [x])\n    y[0].append(2)\n    return [x, y]",
    ),
    # --- names and methods a call cannot reach ---
    (
        "private_method",
        "fault",
        "CallFailed: vault._read: unknown_method",
        "ctx.call('vault', '_read', [])",
    ),
    (
        "dunder_method",
        "fault",
        "CallFailed: vault.__init__: unknown_method",
        "ctx.call('vault', '__init__', [])",
    ),
    ("method_not_str", "fault", "InvalidValue: a method name is a str", "ctx.call('vault', 1, [])"),
    (
        "name_nul",
        "fault",
        "InvalidValue: a contract name",
        "ctx.call('vault\\x00secret', 'peek_own', [])",
    ),
    ("name_long", "fault", "InvalidValue: a contract name", "ctx.call('v' * 65, 'x', [])"),
    ("name_not_str", "fault", "InvalidValue: a contract name", "ctx.call(b'vault', 'x', [])"),
    (
        "name_path",
        "fault",
        "CallFailed: vault/../probe.echo: unknown_contract",
        "ctx.call('vault/../probe', 'echo', [1])",
    ),
    (
        "no_such",
        "fault",
        "CallFailed: nobody.x: unknown_contract: no contract named 'nobody'",
        "ctx.call('nobody', 'x', [])",
    ),
    (
        "re_entry",
        "fault",
        "CallFailed: probe.call_back: fault: CallFailed: attacker.whoami",
        "ctx.call('probe', 'call_back', [])",
    ),
    (
        "self_call",
        "fault",
        "CallFailed: attacker.whoami: fault: attacker is already running",
        "ctx.call('attacker', 'whoami', [])",
    ),
    (
        "caller_checked",
        "reverted",
        "vault.only_shop: shop only",
        "return ctx.call('vault', 'only_shop', [])",
    ),
    ("caller_is_attacker", "ok", "", "return ctx.call('vault', 'whoami', [])"),
    # --- state: a callee writes only its own; a failed one writes nothing ---
    (
        "callee_writes_own",
        "ok",
        "",
        "ctx.call('probe', 'write', ['secret/1'])\n    return ctx.state.get('secret/1')",
    ),
    ("try_write_fault", "ok", "", "return ctx.try_call('probe', 'write_then_fault', [])"),
    (
        "call_write_fault",
        "fault",
        "CallFailed: probe.write_then_fault: fault: ZeroDivisionError",
        "ctx.state.put('mine/2', 1)\n    ctx.call('probe', 'write_then_fault', [])",
    ),
    # --- scans: only the contract's own key space ---
    ("scan_all", "ok", "", "return ctx.state.scan('', 256)"),
    ("scan_nul", "ok", "", "return ctx.state.scan('\\x00', 256)"),
    ("range_all", "ok", "", "return ctx.state.range('', '\\U0010ffff', 256)"),
    ("range_cursor_nul", "ok", "", "return ctx.state.range('', None, 256, '\\x00vault\\x00')"),
    ("scan_vault_name", "ok", "", "return ctx.state.scan('vault', 256)"),
    ("callee_scans_own", "ok", "", "return ctx.call('probe', 'scan_all', [])"),
    (
        "page_is_a_copy",
        "ok",
        "",
        "p = ctx.state.scan('mine/')\n    p['items'][0][1] = 'changed'\n"
        "    return ctx.state.scan('mine/')",
    ),
    # --- resources: K2 ---
    (
        "callee_spins",
        "out_of_steps",
        f"step limit of {STEP_LIMIT} exceeded",
        "ctx.call('probe', 'spin', [])",
    ),
    (
        "try_callee_spins",
        "out_of_steps",
        f"step limit of {STEP_LIMIT} exceeded",
        "ctx.try_call('probe', 'spin', [])\n    return 'went on'",
    ),
    (
        "try_loop",
        "out_of_steps",
        "step limit",
        "while True:\n        ctx.try_call('probe', 'write_then_fault', [])",
    ),
    (
        "call_loop_big_args",
        "out_of_steps",
        "step limit",
        "s = 'x' * 60000\n    while True:\n        ctx.call('probe', 'echo', [s])",
    ),
    (
        "args_too_big",
        "fault",
        f"CallFailed: probe.echo: bad_args: arguments: arguments larger than {MAX_ARGS_BYTES}",
        "s = 'x' * 600000\n    ctx.call('probe', 'echo', [s, s])",
    ),
    (
        "return_too_big",
        "fault",
        "CallFailed: probe.big: fault: LimitExceeded: value larger than 65536",
        "ctx.call('probe', 'big', [70000])",
    ),
    (
        "shared_event_count",
        "fault",
        "LimitExceeded: more than 64 events",
        "ctx.call('probe', 'emit', [64, 1])\n    ctx.emit('one', 1)",
    ),
    (
        "shared_event_bytes",
        "fault",
        "CallFailed: probe.emit: fault: LimitExceeded: events larger than 65536",
        "ctx.emit('e', 'x' * 16000)\n    ctx.call('probe', 'emit', [4, 16000])",
    ),
    ("depth_shared", "out_of_steps", "call depth limit of 64", "return ctx.call('d0', 'go', [])"),
    (
        "recursion_in_callee",
        "out_of_steps",
        "call depth limit of 64",
        "return ctx.call('probe', 'recurse', [100])",
    ),
    (
        "too_deep",
        "fault",
        f"contract calls nested deeper than {MAX_CONTRACT_CALL_DEPTH}",
        "return ctx.call('e0', 'go', [])",
    ),
    (
        "too_many_callees",
        "fault",
        f"calls reach more than {MAX_CALLED_CONTRACTS}",
        f"for i in range({MAX_CALLED_CONTRACTS + 1}):\n        ctx.call('leaf' + str(i), 'hi', [])",
    ),
    ("scan_loop", "out_of_steps", "step limit", "while True:\n        ctx.state.scan('', 256)"),
    (
        "scan_keep_pages",
        "out_of_steps",
        "step limit",
        "kept = []\n    while True:\n        kept.append(ctx.state.scan('', 256))",
    ),
    (
        "scan_past_deletes",
        "out_of_steps",
        "step limit",
        "for i in range(4000):\n        ctx.state.delete('mine/' + str(i))\n"
        "    while True:\n        ctx.state.scan('mine/', 1)",
    ),
    (
        "scan_own_writes",
        "out_of_steps",
        "step limit",
        "for i in range(3000):\n        ctx.state.put('w/' + str(i), i)\n"
        "    while True:\n        ctx.state.scan('w/', 256)",
    ),
    (
        "key_huge",
        "out_of_steps",
        "string longer than",
        "p = 'a' * 600000\n    return ctx.key(p, p)",
    ),
    ("split_huge", "out_of_steps", "step limit", "return ctx.split_key('\\x00' * 1000000)"),
]

# the attacker and 7 more contracts, each 11 levels deep: within 8 contracts, past 64 levels
DEEP_CHAIN = chain(MAX_CONTRACT_CALL_DEPTH - 1, 10)
TOO_DEEP = [(n.replace("d", "e", 1), s.replace("'d", "'e")) for n, s in chain(9, 0)]


def attacker_source() -> str:
    lines = ["def whoami(ctx):", "    return ctx.caller", ""]
    for case_id, _, _, body in CASES:
        lines += [f"def case_{case_id}(ctx):", f"    {body}", ""]
    return "\n".join(lines)


def contracts() -> list[tuple[str, str]]:
    return [
        ("vault", VAULT),
        ("probe", PROBE),
        ("attacker", attacker_source()),
        ("shop", "def buy(ctx):\n    return ctx.call('vault', 'only_shop', [])\n"),
        *DEEP_CHAIN,
        *TOO_DEEP,
        *LEAVES,
    ]


class View:
    """The committed state: the vault's secret, a few of the attacker's own keys."""

    def __init__(self) -> None:
        self.data = {state_key("vault", "secret/1"): encode(SECRET)}
        for i in range(3):
            self.data[state_key("attacker", f"mine/{i}")] = encode(i)

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        return scan_mapping(self.data, prefix, limit, start_after)


def make_tx(method: str, nonce: int, contract: str = "attacker") -> ExecTx:
    tx = Tx("k-chain", contract, method, to_canonical(()), b"signer", nonce, 10)
    body = tx.encode()
    signed = SignedTx.decode(encode((body, b"signature")))
    return ExecTx(hashlib.sha256(body).digest(), signed, SENDER)


def run(methods: Sequence[str], contract: str = "attacker") -> Any:
    registry = ContractRegistry(SUITE, contracts())
    txs = [make_tx(m, i, contract) for i, m in enumerate(methods)]
    block = BlockContext(3, 1_000, STEP_LIMIT)
    return execute_block(View(), block, txs, registry.resolve)


def receipt_text(receipt: Receipt) -> str:
    return repr((receipt.value, receipt.events, receipt.message))


@pytest.mark.parametrize(
    ("case_id", "status", "message"), [c[:3] for c in CASES], ids=[c[0] for c in CASES]
)
def test_case_is_contained(case_id: str, status: str, message: str) -> None:
    first = run([f"case_{case_id}"])
    second = run([f"case_{case_id}"])
    (receipt,) = first.receipts
    assert receipt.status == status and message in receipt.message, receipt
    assert first.receipts == second.receipts and first.writes == second.writes  # deterministic
    assert Receipt.decode(receipt.encode()) == receipt
    assert receipt.steps <= STEP_LIMIT
    if status == "out_of_steps":
        assert receipt.steps == STEP_LIMIT
    if status != "ok":
        assert first.writes == () and receipt.events == ()
    assert not any(key.startswith(b"vault\x00") for key, _ in first.writes)
    assert SECRET not in receipt_text(receipt)


def test_what_the_contained_cases_return_is_their_own() -> None:
    result = run(
        [
            "case_caller_is_attacker",
            "case_copy_is_fresh",
            "case_callee_writes_own",
            "case_try_write_fault",
            "case_scan_all",
            "case_scan_nul",
            "case_range_all",
            "case_callee_scans_own",
            "case_page_is_a_copy",
            "case_try_ret_ctx",
        ]
    )
    values = [r.value for r in result.receipts]
    mine = {"items": (("mine/0", 0), ("mine/1", 1), ("mine/2", 2)), "next": None}
    assert values[0] == "attacker"
    assert values[1] == (((1,),), ((1, 2),))
    assert values[2] is None  # the probe wrote its own secret/1, not the attacker's
    assert values[3] == {
        "ok": False,
        "status": "fault",
        "message": "ZeroDivisionError",
    }
    assert values[4] == mine and values[6] == mine
    assert values[5] == {"items": (), "next": None}
    assert values[7] == {"items": (("secret/1", "probe"),), "next": None}  # the probe's own
    assert values[8] == {"items": (("mine/0", 0), ("mine/1", 1), ("mine/2", 2)), "next": None}
    assert values[9]["ok"] is False and values[9]["status"] == "fault"
    assert dict(result.writes) == {state_key("probe", "secret/1"): encode("probe")}


def test_only_a_contract_the_caller_names_may_act_for_it() -> None:
    (receipt,) = run(["buy"], contract="shop").receipts
    assert (receipt.status, receipt.value) == ("ok", SECRET)  # the vault trusts its shop


DIGEST_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from tests.security.test_calls_and_scans import CASES, run
from yulian.execution.roots import result_root
from yulian.crypto.suite import get_suite
result = run([f"case_{c[0]}" for c in CASES])
root = result_root(get_suite("standard"), [r.encode() for r in result.receipts])
print(hashlib.sha256(root + repr(result.writes).encode()).hexdigest())
"""


def test_a_block_of_every_case_is_identical_under_every_hash_seed() -> None:
    """As on nodes that differ in nothing but their process: the same receipts and writes."""
    root = str(Path(yulian.__file__).resolve().parents[2])
    digests = set()
    for seed in ("0", "1", "random"):
        done = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT, root],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": root + "/src"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        digests.add(done.stdout.strip())
    result = run([f"case_{c[0]}" for c in CASES])
    local = result_root(SUITE, [r.encode() for r in result.receipts])
    digests.add(hashlib.sha256(local + repr(result.writes).encode()).hexdigest())
    assert len(digests) == 1
    assert [r.status for r in result.receipts] == [c[1] for c in CASES]


def test_the_corpus_covers_calls_and_scans() -> None:
    bodies = " ".join(c[3] for c in CASES)
    for needed in ("ctx.call(", "ctx.try_call(", "ctx.state.scan(", "ctx.state.range(", "ctx.key("):
        assert needed in bodies
    assert sum(c[1] == "out_of_steps" for c in CASES) >= 10
    assert len(CASES) >= 50
