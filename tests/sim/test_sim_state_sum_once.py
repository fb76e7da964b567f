"""The state root's sum is computed once per block per node: the proposer keeps what it built
for the commit, a validator keeps what it checked, and neither computes it again when the
block is decided. Four replicas under the simulator with no faults (every height decided in
its first round): the calls to ``state_sum_after`` are the blocks each node committed, plus
at most the one block each may have checked above its final height — not twice as many."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from yulian.crypto.suite import Suite
from yulian.execution import blocks
from yulian.execution.roots import VersionView
from yulian.sim.cluster import run_seed
from yulian.sim.config import SimConfig


def test_one_state_sum_per_block_per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = blocks.state_sum_after

    def counted(
        suite: Suite,
        state_sum: bytes,
        view: VersionView,
        height: int,
        writes: Sequence[tuple[bytes, bytes | None]],
    ) -> bytes:
        calls.append(height)
        return real(suite, state_sum, view, height, writes)

    monkeypatch.setattr(blocks, "state_sum_after", counted)
    result = run_seed(SimConfig(validators=4, heights=8, faults=frozenset()), 3)
    assert result.ok, result.violations
    committed = sum(result.heights.values())
    assert committed >= 4 * 8
    assert committed <= len(calls) <= committed + len(result.heights), (committed, len(calls))
