"""The node's verifier processes (``node/verifier.py``) with a real process pool: answers come
back in order for each caller, calls made in one loop turn ship together, and admission given
those answers skips exactly the signature checks the workers did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.unit.test_admission_batch import (
    NOW_MS,
    World,
    flip_signature,
    make_admission,
)
from tests.unit.test_admission_batch import world as world

from yulian.execution.executor import ExecTx
from yulian.mempool.preverify import preverify
from yulian.node.verifier import MIN_HANDOFF, Verifier


@pytest.fixture(scope="module")
def verifier(world: World) -> Iterator[Verifier]:
    v = Verifier(world.suite.name, workers=2)
    try:
        yield v
    finally:
        v.close()


def test_answers_in_order_per_caller_and_coalesced(verifier: Verifier, world: World) -> None:
    good = [world.alice.sign(n) for n in range(40)]
    bad = flip_signature(world.bob.sign(1))
    first = [good[0], bad, b"\x00garbage", *good[1:20]]
    second = [*good[20:], world.stranger.sign(7)]
    flushes = 0
    flush = verifier._flush

    def counting_flush() -> None:
        nonlocal flushes
        flushes += 1
        flush()

    verifier._flush = counting_flush  # type: ignore[method-assign]

    async def both() -> tuple[list[object], list[object]]:
        a, b = await asyncio.gather(verifier.verify(first), verifier.verify(second))
        return list(a), list(b)

    try:
        a, b = asyncio.run(both())
    finally:
        del verifier._flush
    assert flushes == 1  # two callers in one loop turn: one hand-off
    assert a == preverify(world.suite.name, first)
    assert b == preverify(world.suite.name, second)
    assert a[1] is None and a[2] is None and a[0] is not None
    # the stranger's signature is genuine: a worker only checks the signature, not membership
    assert b[-1] is not None


def test_admission_after_the_workers_checks_each_signature_once(
    verifier: Verifier, world: World
) -> None:
    admission, counting = make_admission(world)
    txs = [world.alice.sign(n) for n in range(100, 100 + MIN_HANDOFF)]
    stranger = world.stranger.sign(200)
    bad = flip_signature(world.bob.sign(201))
    datas = [*txs, stranger, bad]
    for pair in asyncio.run(verifier.verify(datas)):
        if pair is not None:
            admission.note_verified(*pair)
    verdicts = admission.admit_many(datas, next_height=1, now_ms=NOW_MS)
    assert all(type(v) is ExecTx for v in verdicts[:MIN_HANDOFF])
    assert getattr(verdicts[-2], "code", None) == "unknown_ca"  # membership is still checked
    assert getattr(verdicts[-1], "code", None) == "bad_signature"
    assert counting.verifies == 1  # only the tx the workers refused was verified here


def test_a_few_checks_stay_in_process(verifier: Verifier, world: World) -> None:
    """Fewer than ``MIN_HANDOFF`` checks in a turn are not worth a hand-off: no answers, so
    admission verifies them itself."""
    datas = [world.alice.sign(n) for n in range(300, 300 + MIN_HANDOFF - 1)]
    assert asyncio.run(verifier.verify(datas)) == [None] * len(datas)
    admission, counting = make_admission(world)
    verdicts = admission.admit_many(datas, next_height=1, now_ms=NOW_MS)
    assert all(type(v) is ExecTx for v in verdicts) and counting.verifies == len(datas)
