"""Introduction: who proposes at ``(height, round)`` — a stateless rotation weighted by power.

Every node must name the same proposer for every ``(height, round)`` from nothing but the
validator set, so the choice is a pure function with no stored priorities.

The schedule. Divide every power by the powers' greatest common divisor, giving weights ``w``
with total ``P``. Lay the validators out in a list ``L`` of length ``P``: heaviest first (ties in
genesis order), each repeated ``w`` times. The schedule is a cycle of ``P`` slots: ``L`` is dealt
into the even slots ``0, 2, 4, ...`` first, then into the odd slots ``1, 3, 5, ...``. The proposer
of ``(height, round)`` owns slot ``(height + round) mod P``. Computing it needs ``O(n log n)``
integer work and no table, whatever the powers.

Invariants (tested):
- Proportional: in any ``P`` consecutive slots each validator proposes exactly ``w`` times, so
  over heights at a fixed round, and over ``(height, round)`` slots, shares follow power.
- Rotation: the next round (and the next height) is a different validator whenever the current
  one holds at most half of the total power. A validator with more than half the power must
  repeat somewhere in any proportional schedule; such a validator is needed for every quorum
  anyway, so its repeats cost no liveness.
"""

from __future__ import annotations

import math

from yulian.consensus.votes import ValidatorSet


def proposer(validators: ValidatorSet, height: int, round_: int) -> str:
    """The name of the validator that proposes at ``(height, round_)``."""
    assert validators.validators, "a validator set is never empty"
    assert height >= 0 and round_ >= 0, (height, round_)
    ordered, total = _weighted_order(validators)
    slot = (height + round_) % total
    index = _list_index(slot, total)
    for name, weight in ordered:
        if index < weight:
            return name
        index -= weight
    raise AssertionError("the slot index lies within the total weight")


def _weighted_order(validators: ValidatorSet) -> tuple[list[tuple[str, int]], int]:
    """``(name, weight)`` heaviest first (ties in genesis order), and the total weight."""
    powers = [v.power for v in validators.validators]
    assert all(p > 0 for p in powers), "voting power is positive"
    divisor = math.gcd(*powers)
    indexed = [(v.name, v.power // divisor, i) for i, v in enumerate(validators.validators)]
    indexed.sort(key=lambda item: (-item[1], item[2]))
    ordered = [(name, weight) for name, weight, _ in indexed]
    return ordered, sum(weight for _, weight in ordered)


def _list_index(slot: int, total: int) -> int:
    """The position in ``L`` dealt to ``slot``: even slots take ``L``'s first half."""
    even_slots = (total + 1) // 2
    return slot // 2 if slot % 2 == 0 else even_slots + slot // 2
