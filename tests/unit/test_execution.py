"""execute_block is pure and deterministic; failed txs roll back; check_block catches any
root mismatch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from yulian.crypto.membership import Membership
from yulian.crypto.suite import get_suite
from yulian.execution.blocks import BlockLimits, ChainTip, InvalidBlock, check_block, make_block
from yulian.execution.executor import BlockContext, ExecTx, execute_block
from yulian.execution.overlay import Overlay, state_key
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import EMPTY_STATE_SUM
from yulian.mempool.admission import Admission
from yulian.node.bootstrap import init_network
from yulian.sdk import Wallet
from yulian.types.encoding import decode
from yulian.types.genesis import Genesis

COUNTER = """
def bump(ctx, key, by):
    ctx.require(by > 0, "by must be positive")
    value = ctx.state.get(key, 0) + by
    ctx.state.put(key, value)
    ctx.emit("bumped", {"key": key, "value": value})
    return value

def bump_then_fail(ctx, key):
    ctx.state.put(key, 999)
    ctx.require(False, "no")
"""


class MemoryView:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Genesis, ContractRegistry, Wallet, Admission]:
    layout = init_network(
        tmp_path_factory.mktemp("net") / "n", orgs=2, contracts=[("counter", COUNTER)]
    )
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    registry = ContractRegistry(suite, genesis.contracts)
    wallet = Wallet.from_network(Path(layout.root), "org1", "client1")
    admission = Admission(
        suite,
        genesis.chain_id,
        genesis.params,
        Membership(suite, genesis.organisations),
        contract_exists=lambda n: n in registry.genesis_names(),
        is_known=lambda _: False,
    )
    return genesis, registry, wallet, admission


def admit(env: tuple, method: str, args: list[object], nonce: int) -> ExecTx:
    genesis, _, wallet, admission = env
    signed = wallet.sign_tx(genesis.chain_id, "counter", method, args, expires_at=100, nonce=nonce)
    return admission.admit(signed.encode(), next_height=1, now_ms=genesis.time_ms + 3_600_000)


def test_execute_block_applies_and_rolls_back(env: tuple) -> None:
    _genesis, registry, _, _ = env
    txs = [
        admit(env, "bump", ["a", 2], 1),
        admit(env, "bump_then_fail", ["a"], 2),
        admit(env, "bump", ["a", 3], 3),
        admit(env, "bump", ["b", 0], 4),
    ]
    result = execute_block(MemoryView(), BlockContext(1, 10, 100_000), txs, registry.resolve)
    assert [r.status for r in result.receipts] == ["ok", "reverted", "ok", "reverted"]
    assert result.receipts[2].value == 5
    assert result.receipts[1].events == () and result.receipts[1].value is None
    assert result.receipts[0].events[0].payload == {"key": "a", "value": 2}
    assert result.writes == ((state_key("counter", "a"), result.writes[0][1]),)
    assert decode(result.writes[0][1]) == 5


def test_execute_block_is_deterministic(env: tuple) -> None:
    _genesis, registry, _, _ = env
    txs = [admit(env, "bump", [f"k{i % 3}", i + 1], 10 + i) for i in range(20)]
    a = execute_block(MemoryView(), BlockContext(3, 99, 100_000), txs, registry.resolve)
    b = execute_block(MemoryView(), BlockContext(3, 99, 100_000), txs, registry.resolve)
    assert a == b
    assert [r.encode() for r in a.receipts] == [r.encode() for r in b.receipts]


def test_unknown_contract_and_method(env: tuple) -> None:
    _genesis, registry, _, _ = env
    tx = admit(env, "nope", [], 50)
    result = execute_block(MemoryView(), BlockContext(1, 1, 1000), [tx], registry.resolve)
    assert result.receipts[0].status == "unknown_method"
    result = execute_block(MemoryView(), BlockContext(1, 1, 1000), [tx], lambda _name, _view: None)
    assert result.receipts[0].status == "unknown_contract"


def test_make_block_then_check_block(env: tuple) -> None:
    genesis, registry, _, _ = env
    suite = get_suite(genesis.suite)
    tip = ChainTip(0, b"\x00" * 32, b"\x01" * 32, 5, EMPTY_STATE_SUM)
    txs = [admit(env, "bump", ["x", 1], 100), admit(env, "bump", ["x", 2], 101)]
    kwargs = dict(
        validators_hash=b"\x02" * 32,
        config_hash=b"\x03" * 32,
        txs=txs,
        resolve=registry.resolve,
        step_limit=100_000,
        limits=BlockLimits.of(genesis.params),
    )
    block, result = make_block(
        suite, genesis.chain_id, MemoryView(), tip, time_ms=6, proposer="v", **kwargs
    )  # type: ignore[arg-type]
    again = check_block(suite, genesis.chain_id, MemoryView(), tip, block, **kwargs)  # type: ignore[arg-type]
    assert again == result
    fields = ("state_root", "result_root", "tx_root", "prev_hash", "height", "chain_id")
    for field in (*fields, "config_hash"):
        value = getattr(block.header, field)
        bad_value = (
            value + 1
            if isinstance(value, int)
            else (value + "x" if isinstance(value, str) else bytes([value[0] ^ 1]) + value[1:])
        )
        bad = dataclasses.replace(
            block, header=dataclasses.replace(block.header, **{field: bad_value})
        )
        with pytest.raises(InvalidBlock, match=field):
            check_block(suite, genesis.chain_id, MemoryView(), tip, bad, **kwargs)  # type: ignore[arg-type]


def test_overlay_snapshot_and_history() -> None:
    view = MemoryView()
    view.data[b"k"] = b"base"
    overlay = Overlay(view, height=7)
    overlay.begin_tx()
    overlay.put(b"k", b"v1")
    assert overlay.get(b"k") == b"v1"
    overlay.rollback_tx()
    assert overlay.get(b"k") == b"base"
    overlay.begin_tx()
    overlay.delete(b"k")
    overlay.commit_tx()
    assert overlay.get(b"k") is None
    assert overlay.history(b"k", 5) == [(7, None)]
    assert overlay.writes() == ((b"k", None),)
