"""The mempool reaps within a block's limits — count and bytes — in arrival order, and knows when
its pending txs fill a block."""

from __future__ import annotations

import pytest

from yulian.execution.executor import ExecTx, SenderInfo
from yulian.mempool.admission import AdmissionError
from yulian.mempool.pool import Mempool
from yulian.types.block import BLOCK_OVERHEAD_BYTES, block_tx_bytes
from yulian.types.tx import SignedTx, Tx


def tx(i: int, size: int, *, expires_at: int = 100) -> ExecTx:
    body = Tx("c", "contract", "m", (), b"cert", i, expires_at)
    envelope = bytes([i % 256]) * size
    return ExecTx(
        b"id-%d" % i, SignedTx(b"body", b"sig", body), SenderInfo("o", "client", "", {}), envelope
    )


def pool_of(sizes: list[int]) -> Mempool:
    pool = Mempool(100)
    for i, size in enumerate(sizes):
        pool.add(tx(i, size))
    return pool


def room(*sizes: int) -> int:
    """The max_bytes of a block that holds exactly txs of ``sizes``."""
    return BLOCK_OVERHEAD_BYTES + sum(block_tx_bytes(s) for s in sizes)


@pytest.mark.parametrize(
    ("sizes", "max_txs", "max_bytes", "reaped"),
    [
        ([100] * 5, 3, 1 << 20, [0, 1, 2]),
        ([100] * 5, 10, room(100, 100), [0, 1]),
        ([100] * 5, 10, room(100, 100) - 1, [0]),
        ([100, 60_000, 100], 10, room(100, 100), [0]),  # the large one ends it: no overtaking
        ([60_000, 100], 10, room(100), []),
        ([], 10, 1 << 20, []),
    ],
)
def test_reap_takes_txs_in_order_within_both_limits(
    sizes: list[int], max_txs: int, max_bytes: int, reaped: list[int]
) -> None:
    pool = pool_of(sizes)
    got = pool.reap(1, max_txs=max_txs, max_bytes=max_bytes)
    assert [t.signed.tx.nonce for t in got] == reaped
    assert len(pool) == len(sizes)  # reaping takes nothing out


def test_reap_drops_expired_txs_first() -> None:
    pool = Mempool(10)
    pool.add(tx(0, 100, expires_at=4))
    pool.add(tx(1, 100, expires_at=5))
    assert [t.signed.tx.nonce for t in pool.reap(5, max_txs=10, max_bytes=1 << 20)] == [1]
    assert len(pool) == 1 and pool.lookup(tx(0, 100).data()) is None


def test_a_full_block_waits_by_count_or_by_bytes() -> None:
    pool = pool_of([1000] * 3)
    assert pool.fills_block(3, 1 << 20)
    assert not pool.fills_block(4, 1 << 20)
    assert pool.fills_block(10, room(1000, 1000, 1000))
    assert not pool.fills_block(10, room(1000, 1000, 1000) + 1)
    pool.remove([b"id-0"])
    assert not pool.fills_block(10, room(1000, 1000, 1000))
    assert pool.fills_block(10, room(1000, 1000))


def test_a_full_pool_refuses_and_a_duplicate_is_named() -> None:
    pool = Mempool(1)
    pool.add(tx(0, 10))
    with pytest.raises(AdmissionError) as e:
        pool.add(tx(0, 10))
    assert e.value.code == "duplicate_tx"
    with pytest.raises(AdmissionError) as e:
        pool.add(tx(1, 10))
    assert e.value.code == "mempool_full"
