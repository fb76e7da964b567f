"""Vote sets: one counted vote per validator, quorum edges, conflicts, and the simulator's
planted broken counting (``yulian.sim.planted``)."""

from __future__ import annotations

import pytest

from yulian.consensus.votes import ValidatorSet
from yulian.consensus.voteset import MAX_CONFLICTS_PER_VALIDATOR, AddStatus, VoteSet
from yulian.sim.planted import CountTwiceVoteSet, Quorum2fVoteSet, with_vote_sets
from yulian.types.commit import PRECOMMIT, PREVOTE
from yulian.types.consensus import Vote
from yulian.types.genesis import Validator

H, R = 5, 2
A, B = b"\xaa" * 32, b"\xbb" * 32
NIL = b""


def make_set(powers: list[int]) -> ValidatorSet:
    return ValidatorSet(
        tuple(Validator(f"v{i}", f"org{i}", bytes([i]) * 32, p) for i, p in enumerate(powers))
    )


def vote(i: int, block_hash: bytes, *, type_: int = PREVOTE, h: int = H, r: int = R) -> Vote:
    return Vote(type_, h, r, block_hash, f"v{i}", b"sig-" + bytes([i]) + block_hash)


def filled(powers: list[int], hashes: dict[int, bytes]) -> VoteSet:
    vs = VoteSet(make_set(powers), H, R, PREVOTE)
    for i, block_hash in hashes.items():
        assert vs.add(vote(i, block_hash)).status is AddStatus.ADDED
    return vs


@pytest.mark.parametrize(
    ("powers", "for_a", "has_quorum"),
    [
        ([1], [0], True),
        ([1, 1, 1, 1], [0, 1], False),
        ([1, 1, 1, 1], [0, 1, 2], True),
        ([1] * 7, [0, 1, 2, 3], False),
        ([1] * 7, [0, 1, 2, 3, 4], True),
        ([10, 1, 1, 1], [1, 2, 3], False),
        ([10, 1, 1, 1], [0], True),  # 10 of 13 > 2/3
        ([3, 3, 3, 1], [0, 1], False),  # 6 of 10
        ([3, 3, 3, 1], [0, 1, 3], True),  # 7 of 10
        ([2, 2, 2], [0, 1], False),  # exactly 2/3 is not a quorum
    ],
)
def test_quorum_edges(powers: list[int], for_a: list[int], has_quorum: bool) -> None:
    vs = filled(powers, dict.fromkeys(for_a, A))
    assert vs.two_thirds_majority() == (A if has_quorum else None)
    assert vs.has_two_thirds_for(A) is has_quorum
    assert vs.has_two_thirds_any() is has_quorum
    assert vs.power_for(A) == sum(powers[i] for i in for_a)


@pytest.mark.parametrize(
    ("powers", "voters", "expected"),
    [
        ([1, 1, 1, 1], [0], False),
        ([1, 1, 1, 1], [0, 1], True),
        ([1] * 7, [0, 1], False),
        ([1] * 7, [0, 1, 2], True),
        ([1, 1, 1, 3], [0], False),
        ([1, 1, 1, 3], [3], True),
    ],
)
def test_one_third_edges(powers: list[int], voters: list[int], expected: bool) -> None:
    vs = filled(powers, {i: (A if i % 2 else B) for i in voters})
    assert vs.has_one_third_any() is expected


def test_split_votes_have_two_thirds_any_but_no_majority() -> None:
    vs = filled([1, 1, 1, 1], {0: A, 1: B, 2: NIL})
    assert vs.has_two_thirds_any()
    assert vs.two_thirds_majority() is None
    assert vs.total_power() == 3
    assert (vs.power_for(A), vs.power_for(B), vs.power_for(NIL)) == (1, 1, 1)


def test_nil_majority() -> None:
    vs = filled([1, 1, 1, 1], {0: NIL, 1: NIL, 2: NIL, 3: A})
    assert vs.two_thirds_majority() == NIL
    assert vs.has_two_thirds_for(NIL)
    assert not vs.has_two_thirds_for(A)


def test_duplicate_is_ignored() -> None:
    vs = filled([1, 1, 1, 1], {0: A, 1: A})
    assert vs.add(vote(0, A)).status is AddStatus.DUPLICATE
    assert vs.power_for(A) == 2 and vs.total_power() == 2
    assert vs.two_thirds_majority() is None


def test_conflicting_vote_is_evidence_and_counts_once_for_its_hash() -> None:
    """An equivocator's second vote is returned for evidence and counted for *its* hash (as
    the paper counts messages), once; "any" quorums still count each validator once."""
    vs = filled([1, 1, 1, 1], {0: A, 1: A})
    result = vs.add(vote(0, B))
    assert result.status is AddStatus.CONFLICTING
    assert result.conflict == (vote(0, A), vote(0, B))
    assert vs.power_for(B) == 1 and vs.power_for(A) == 2 and vs.total_power() == 2
    assert vs.votes_for(B) == (vote(0, B),)
    again = vs.add(vote(0, B))
    assert again.status is AddStatus.CONFLICTING
    assert vs.power_for(B) == 1  # never twice
    nil_conflict = vs.add(vote(1, NIL))
    assert nil_conflict.status is AddStatus.CONFLICTING
    assert nil_conflict.conflict == (vote(1, A), vote(1, NIL))
    assert vs.power_for(NIL) == 1 and vs.total_power() == 2


def test_two_quorums_need_more_than_a_third_of_equivocators() -> None:
    """Safety of counting conflicting votes: with one equivocator of four, A and B can never
    both reach a quorum (that would need two honest validators to double-vote)."""
    vs = filled([1, 1, 1, 1], {0: A, 1: A, 2: B})
    vs.add(vote(3, A))  # the equivocator
    vs.add(vote(3, B))
    assert vs.two_thirds_majority() == A
    assert vs.power_for(B) == 2 and not vs.has_two_thirds_for(B)


def test_unknown_validator() -> None:
    vs = filled([1, 1, 1, 1], {})
    stranger = Vote(PREVOTE, H, R, A, "mallory", b"sig")
    assert vs.add(stranger).status is AddStatus.UNKNOWN_VALIDATOR
    assert vs.total_power() == 0 and vs.voters() == ()


@pytest.mark.parametrize(
    "wrong",
    [vote(0, A, h=H + 1), vote(0, A, r=R + 1), vote(0, A, r=R - 1), vote(0, A, type_=PRECOMMIT)],
)
def test_wrong_height_round_or_type(wrong: Vote) -> None:
    vs = filled([1, 1, 1, 1], {})
    assert vs.add(wrong).status is AddStatus.WRONG_HEIGHT_ROUND_TYPE
    assert vs.total_power() == 0


def test_votes_for_is_sorted_by_validator_whatever_the_arrival_order() -> None:
    vs = VoteSet(make_set([1] * 5), H, R, PREVOTE)
    for i in (3, 0, 4, 1):
        vs.add(vote(i, A))
    vs.add(vote(2, B))
    assert [v.validator for v in vs.votes_for(A)] == ["v0", "v1", "v3", "v4"]
    assert vs.voters() == ("v0", "v1", "v2", "v3", "v4")


def test_copy_is_independent() -> None:
    vs = filled([1, 1, 1, 1], {0: A})
    other = vs.copy()
    other.add(vote(1, A))
    assert vs.power_for(A) == 1 and other.power_for(A) == 2
    assert vs != other
    vs.add(vote(1, A))
    assert vs == other


def test_the_quorum_is_the_validator_sets() -> None:
    """Vote sets and commit certificates use one threshold: ``ValidatorSet.quorum()``."""
    for powers in ([1], [1, 1, 1, 1], [1] * 7, [3, 1, 1, 1], [5, 5, 1]):
        vs = VoteSet(make_set(powers), H, R, PREVOTE)
        added = 0
        for i, power in enumerate(powers):
            assert vs.has_two_thirds_for(A) == (added >= make_set(powers).quorum())
            vs.add(vote(i, A))
            added += power
        assert vs.has_two_thirds_for(A)


def test_a_copy_keeps_its_class() -> None:
    broken = with_vote_sets_of(filled([1, 1, 1, 1], {0: A}), Quorum2fVoteSet)
    assert type(broken.copy()) is Quorum2fVoteSet
    assert type(filled([1, 1, 1, 1], {0: A}).copy()) is VoteSet


def with_vote_sets_of(vs: VoteSet, cls: type[VoteSet]) -> VoteSet:
    broken = cls.__new__(cls)
    broken.__dict__.update(vs.__dict__)
    return broken


def test_planted_quorum_2f_accepts_two_of_four() -> None:
    vs = filled([1, 1, 1, 1], {0: A, 1: A})
    assert vs.two_thirds_majority() is None
    broken = with_vote_sets_of(vs, Quorum2fVoteSet)
    assert broken.two_thirds_majority() == A
    seven = filled([1] * 7, {0: A, 1: A, 2: A, 3: A})
    assert seven.two_thirds_majority() is None
    assert with_vote_sets_of(seven, Quorum2fVoteSet).two_thirds_majority() == A
    assert vs.two_thirds_majority() is None  # the real set is untouched


def test_planted_count_vote_twice_counts_a_duplicate() -> None:
    vs = with_vote_sets_of(filled([1, 1, 1, 1], {0: A, 1: A}), CountTwiceVoteSet)
    assert vs.add(vote(1, A)).status is AddStatus.ADDED
    assert vs.power_for(A) == 3
    assert vs.two_thirds_majority() == A  # two validators, "three" votes
    assert len(vs.votes_for(A)) == 2  # a certificate from them still has two signatures
    real = filled([1, 1, 1, 1], {0: A, 1: A})
    assert real.add(vote(1, A)).status is AddStatus.DUPLICATE and real.power_for(A) == 2


def test_a_states_vote_sets_are_swapped_with_the_same_counts() -> None:
    from yulian.consensus.core import ConsensusState

    state = ConsensusState(height=H, votes={(R, PREVOTE): filled([1, 1, 1, 1], {0: A, 1: B})})
    broken = with_vote_sets(state, CountTwiceVoteSet)
    (vs,) = broken.votes.values()
    assert type(vs) is CountTwiceVoteSet and vs.power_for(A) == vs.power_for(B) == 1
    assert with_vote_sets(broken, CountTwiceVoteSet) is broken


def test_an_equivocators_conflicting_votes_are_bounded() -> None:
    """A Byzantine validator may sign any number of hashes: each conflict is reported, but at
    most MAX_CONFLICTS_PER_VALIDATOR of them count (and are kept) per set."""
    vs = filled([1, 1, 1, 1], {0: A})
    hashes = [bytes([i]) * 32 for i in range(1, MAX_CONFLICTS_PER_VALIDATOR + 5)]
    for h in hashes:
        result = vs.add(vote(0, h))
        assert result.status is AddStatus.CONFLICTING and result.conflict is not None
    counted = [h for h in hashes if vs.power_for(h) == 1]
    assert counted == hashes[:MAX_CONFLICTS_PER_VALIDATOR]
    assert vs.power_for(A) == 1 and vs.total_power() == 1
