"""The proposer rotation: deterministic, proportional to power, a new face each round."""

from __future__ import annotations

import itertools
import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.consensus.proposer import proposer
from yulian.consensus.votes import ValidatorSet
from yulian.types.genesis import Validator


def make_set(powers: list[int]) -> ValidatorSet:
    return ValidatorSet(
        tuple(Validator(f"v{i}", f"org{i}", bytes([i]) * 32, p) for i, p in enumerate(powers))
    )


def test_one_validator_always_proposes() -> None:
    vs = make_set([5])
    assert {proposer(vs, h, r) for h in range(1, 20) for r in range(5)} == {"v0"}


def test_equal_powers_rotate_over_heights_and_rounds() -> None:
    vs = make_set([1, 1, 1, 1])
    by_height = [proposer(vs, h, 0) for h in range(1, 9)]
    assert sorted(by_height[:4]) == ["v0", "v1", "v2", "v3"]
    assert by_height[4:] == by_height[:4]  # a cycle of 4 heights
    by_round = [proposer(vs, 7, r) for r in range(4)]
    assert sorted(by_round) == ["v0", "v1", "v2", "v3"]


def test_deterministic_and_independent_of_call_order() -> None:
    vs = make_set([3, 2, 1, 1])
    first = [proposer(vs, h, r) for h in range(30) for r in range(4)]
    again = [proposer(vs, h, r) for h in reversed(range(30)) for r in reversed(range(4))]
    assert first == list(reversed(again))


def test_share_of_slots_is_proportional_to_power() -> None:
    vs = make_set([3, 2, 1, 1])
    over_heights = Counter(proposer(vs, h, 2) for h in range(1, 1 + 7 * 100))
    assert over_heights == {"v0": 300, "v1": 200, "v2": 100, "v3": 100}
    over_slots = Counter(proposer(vs, h, r) for h in range(1, 1 + 7 * 20) for r in range(7))
    assert over_slots == {"v0": 60 * 7, "v1": 40 * 7, "v2": 20 * 7, "v3": 20 * 7}


def test_common_factor_of_powers_does_not_change_the_rotation() -> None:
    assert [proposer(make_set([2, 2, 2]), h, 0) for h in range(12)] == [
        proposer(make_set([1, 1, 1]), h, 0) for h in range(12)
    ]


def test_next_round_is_a_different_proposer_with_equal_powers() -> None:
    for n in range(2, 8):
        vs = make_set([1] * n)
        for h in range(1, 3 * n):
            for r in range(2 * n):
                assert proposer(vs, h, r + 1) != proposer(vs, h, r), (n, h, r)


def test_next_round_is_different_with_unequal_powers_up_to_half() -> None:
    for powers in ([3, 2, 1, 1], [2, 2, 1, 1], [5, 4, 3, 2, 1], [3, 1, 1, 1], [1, 1, 2]):
        vs = make_set(powers)
        for h in range(1, 40):
            assert proposer(vs, h, 1) != proposer(vs, h, 0), (powers, h)


def test_a_majority_validator_must_repeat() -> None:
    vs = make_set([10, 1, 1, 1])
    seq = [proposer(vs, h, 0) for h in range(13)]
    assert seq.count("v0") == 10
    assert any(a == b == "v0" for a, b in itertools.pairwise(seq))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=8))
def test_any_powers_exact_shares_and_rotation(powers: list[int]) -> None:
    vs = make_set(powers)
    divisor = math.gcd(*powers)
    total = sum(powers) // divisor
    cycle = [proposer(vs, h, 0) for h in range(total)]
    assert Counter(cycle) == {f"v{i}": p // divisor for i, p in enumerate(powers)}
    for k, name in enumerate(cycle):
        follower = proposer(vs, 0, k + 1)  # the next round of the same slot
        assert follower == cycle[(k + 1) % total]
        if len(powers) > 1 and 2 * powers[int(name[1:])] // divisor <= total:
            assert follower != name, (powers, k)
