"""`python -m yulian.bench.join` runs on a small chain: both joins (replay, snapshot) end at the
source's head and state root (the tool asserts it) and the report names what it measured. The
chain's parameters are checked by the genesis like any other, so a new parameter rule cannot
break the tool unseen."""

from __future__ import annotations

from yulian.bench.join import measure


def test_both_joins_reach_the_source_head_on_a_small_chain() -> None:
    result = measure(400, 10, "lmdb", None)
    assert result["keys"] == 400 and result["keys_per_tx"] == 10
    assert result["blocks"] >= 1
