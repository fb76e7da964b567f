"""The parts of an invocation made only when a contract uses them (issue 16: the per-tx path):
``ctx.private``'s data is opened on its first use — once, for the running contract and its
tx — and never for an invocation that does not touch it (contracts cannot tell: the dialect
compares identity only with None, True and False); without a source ``ctx.private`` still
answers that private data is not available."""

from __future__ import annotations

from typing import Any

from yulian.contracts import BlockInfo, Sender, TxInfo, compile_contract
from yulian.contracts.calls import TxFrame
from yulian.contracts.private import PrivateData
from yulian.execution.executor import OverlayCalls
from yulian.execution.overlay import ContractStateAdapter, Overlay

SOURCE = """
def plain(ctx):
    ctx.state.put("k", 1)
    return ctx.sender.org

def reads_twice(ctx):
    first = ctx.private.get("hospitals", "a")
    second = ctx.private.grant(7)
    return [first, second, ctx.tx.id]
"""

TX_ID = "ab" * 32


class DictView:
    """A committed state of nothing (a ``StateView``)."""

    def get(self, key: bytes) -> bytes | None:
        return None

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        return []


class CountingSource:
    """The executor's real ``OverlayCalls.open_private``, counting what it opens."""

    def __init__(self, calls: OverlayCalls) -> None:
        self.calls = calls
        self.opened: list[tuple[str, str]] = []

    def __call__(self, contract: str, frame: TxFrame) -> PrivateData:
        self.opened.append((contract, frame.tx.id))
        return self.calls.open_private(contract, frame)


def run(method: str, *, with_private: bool = True) -> tuple[Any, CountingSource]:
    overlay = Overlay(DictView(), 5)
    calls = OverlayCalls(
        overlay, lambda name, view: None, lambda n: ContractStateAdapter(overlay, n)
    )
    source = CountingSource(calls)
    overlay.begin_tx()
    outcome = compile_contract("lazy", SOURCE).invoke(
        method,
        [],
        sender=Sender("org1", "client", "c1"),
        block=BlockInfo(5, 1_700_000_000_000),
        tx=TxInfo(TX_ID),
        state=ContractStateAdapter(overlay, "lazy"),
        calls=calls,
        private=source if with_private else None,
    )
    return outcome, source


def test_an_invocation_that_never_uses_ctx_private_opens_nothing() -> None:
    outcome, source = run("plain")
    assert (outcome.status, outcome.value) == ("ok", "org1")
    assert source.opened == []


def test_private_data_is_opened_once_for_the_running_contract_and_its_tx() -> None:
    outcome, source = run("reads_twice")
    assert outcome.status == "ok", outcome.message
    assert outcome.value == (None, None, TX_ID)  # no such record, no such grant
    assert source.opened == [("lazy", TX_ID)]


def test_without_a_source_ctx_private_is_not_available() -> None:
    outcome, source = run("reads_twice", with_private=False)
    assert outcome.status == "fault"
    assert "private data is not available in this call" in outcome.message
    assert source.opened == []
