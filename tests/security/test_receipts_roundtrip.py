"""Issue 16, class 1: every receipt the executor makes can be committed and read back.

A revert message or event name is checked in UTF-8 bytes, not chars; a return value or event
payload against the receipt decoder's nesting and item limits; a string that has no UTF-8 form
is a fault. Whatever a contract returns, emits or fails with, ``execute_block`` returns receipts
that encode and decode to themselves, and a failed one leaves no write behind. A system
contract whose answer would not decode gets a fault receipt, its writes rolled back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.contracts import Outcome
from yulian.crypto.suite import get_suite
from yulian.execution.executor import BlockContext, ExecTx, SenderInfo, execute_block
from yulian.execution.registry import ContractRegistry
from yulian.types.encoding import encode, to_canonical
from yulian.types.receipt import MAX_MESSAGE_BYTES, Receipt
from yulian.types.tx import SignedTx, Tx

HOSTILE = """
def revert_with(ctx, code, count):
    ctx.require(False, chr(code) * count)

def emit_named(ctx, code, count):
    ctx.state.put("k", 1)
    ctx.emit(chr(code) * count, 1)

def build(ctx, items, depth, code, count, where):
    value = [chr(code) * count] * items
    for i in range(depth):
        value = [value]
    ctx.state.put("k", 1)
    if where == "return":
        return value
    if where == "event":
        ctx.emit("e", value)
    if where == "state":
        ctx.state.put("v", value)
    return None

def surrogate_key(ctx):
    ctx.state.put(chr(0xD800), 1)
"""
SUITE = get_suite("standard")
SENDER = SenderInfo("org1", "client", "c1", {})


class EmptyView:
    def get(self, key: bytes) -> bytes | None:
        return None

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []


def make_tx(contract: str, method: str, args: Sequence[Any], nonce: int) -> ExecTx:
    tx = Tx("rt-chain", contract, method, to_canonical(tuple(args)), b"signer", nonce, 10)
    body = tx.encode()
    signed = SignedTx.decode(encode((body, b"signature")))
    return ExecTx(hashlib.sha256(body).digest(), signed, SENDER)


def execute(calls: Sequence[tuple[str, str, Sequence[Any]]], system: Any = None) -> Any:
    registry = ContractRegistry(
        SUITE, [("hostile", HOSTILE)], system={"sys": system} if system else None
    )
    txs = [make_tx(c, m, a, i) for i, (c, m, a) in enumerate(calls)]
    return execute_block(EmptyView(), BlockContext(3, 1_000, 1_000_000), txs, registry.resolve)


def assert_readable(receipt: Receipt) -> None:
    assert Receipt.decode(receipt.encode()) == receipt
    assert len(receipt.message.encode("utf-8")) <= MAX_MESSAGE_BYTES


def one(method: str, *args: Any) -> tuple[Receipt, Any]:
    result = execute([("hostile", method, args)])
    (receipt,) = result.receipts
    assert_readable(receipt)
    return receipt, result.writes


def test_a_long_revert_message_of_emoji_is_cut_in_bytes_and_reads_back() -> None:
    receipt, writes = one("revert_with", 0x1F600, 10_000)
    assert receipt.status == "reverted"
    assert receipt.message == "\U0001f600" * 128  # 512 bytes: the longest prefix that fits
    assert writes == ()


def test_a_revert_message_cut_inside_a_char_keeps_whole_chars() -> None:
    receipt, _ = one("revert_with", 0x4E2D, 1000)  # 3 bytes a char: 170 fit in 512
    assert receipt.message == "\u4e2d" * 170


def test_a_revert_message_with_no_utf8_form_is_a_fault() -> None:
    receipt, writes = one("revert_with", 0xD800, 3)
    assert (receipt.status, writes) == ("fault", ())
    assert "UTF-8" in receipt.message


def test_event_names_are_limited_in_bytes() -> None:
    ok, writes = one("emit_named", 0x4E2D, 21)  # 63 bytes
    assert ok.status == "ok" and ok.events[0].name == "\u4e2d" * 21 and writes
    too_long, writes = one("emit_named", 0x4E2D, 22)  # 22 chars, 66 bytes
    assert (too_long.status, writes) == ("fault", ())
    assert "InvalidValue" in too_long.message
    surrogate, writes = one("emit_named", 0xD800, 1)
    assert (surrogate.status, writes) == ("fault", ())


def test_a_state_key_with_no_utf8_form_is_a_fault() -> None:
    receipt, writes = one("surrogate_key")
    assert (receipt.status, writes) == ("fault", ())


def test_values_past_the_receipt_decoders_limits_are_faults_with_no_writes() -> None:
    for items, depth, where, status in [
        (4096, 0, "return", "ok"),
        (4097, 0, "return", "fault"),
        (4096, 0, "event", "ok"),
        (4097, 0, "event", "fault"),
        (1, 10, "return", "ok"),  # the list of items is 11 levels down: the deepest a receipt holds
        (1, 11, "return", "fault"),
        (1, 8, "event", "ok"),
        (1, 9, "event", "fault"),
        (1, 15, "state", "ok"),
        (1, 16, "state", "fault"),
        (5000, 0, "state", "ok"),
    ]:
        receipt, writes = one("build", items, depth, 0x41, 1, where)
        assert receipt.status == status, (items, depth, where, receipt)
        assert bool(writes) == (status == "ok"), (items, depth, where)


CODES = st.sampled_from([0x41, 0xE9, 0x4E2D, 0x1F600, 0xD800, 0xDFFF, 0])


@settings(max_examples=120, deadline=None)
@given(
    st.integers(0, 5000),
    st.integers(0, 14),
    CODES,
    st.sampled_from([0, 1, 3, 100, 5000, 20_000]),
    st.sampled_from(["return", "event", "state", "none"]),
    st.tuples(CODES, st.integers(0, 2000)),
)
def test_whatever_a_contract_does_its_receipt_reads_back(
    items: int, depth: int, code: int, count: int, where: str, revert: tuple[int, int]
) -> None:
    result = execute(
        [
            ("hostile", "build", (items, depth, code, count, where)),
            ("hostile", "revert_with", revert),
            ("hostile", "emit_named", revert),
        ]
    )
    for receipt in result.receipts:
        assert_readable(receipt)
    if any(r.status == "ok" for r in result.receipts):
        assert result.writes
    else:
        assert result.writes == ()


class UnreadableSystem:
    """A system contract whose answer no receipt can hold: it writes, then returns too much."""

    is_system = True

    def __init__(self, value: Any, message: str = "") -> None:
        self.value = value
        self.message = message

    def invoke(self, method: str, args: Any, *, state: Any, **_: Any) -> Outcome:
        state.put("written", b"\x01")
        if self.message:
            return Outcome("reverted", self.message, None, (), 5)
        return Outcome("ok", "", self.value, (), 5)


def test_a_system_contracts_receipt_that_would_not_decode_is_a_fault_with_no_writes() -> None:
    for value in ([0] * 5000, "\ud800", {"k": [[[[[[[[[[[[1]]]]]]]]]]]]}):
        result = execute([("sys", "anything", ())], system=UnreadableSystem(value))
        (receipt,) = result.receipts
        assert_readable(receipt)
        assert receipt.status == "fault" and "would not decode" in receipt.message
        assert result.writes == ()
    fine = execute([("sys", "anything", ())], system=UnreadableSystem([0] * 10))
    assert fine.receipts[0].status == "ok" and fine.writes


def test_every_failure_message_is_cut_to_what_the_decoder_takes() -> None:
    for message in ("\U0001f600" * 1000, "x" * 5000, "bad \udc80 half"):
        result = execute([("sys", "m", ())], system=UnreadableSystem(None, message))
        (receipt,) = result.receipts
        assert_readable(receipt)
        assert receipt.status == "reverted" and result.writes == ()
    unknown = execute([("\U0001f600" * 16, "m", ())])  # 64 bytes: a valid contract name
    assert_readable(unknown.receipts[0])
    assert unknown.receipts[0].status == "unknown_contract"
