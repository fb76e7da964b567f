"""Introduction: planted bugs — broken replicas that prove the simulator catches what it must.

RELIABILITY S5: each planted bug, switched on for the honest replicas of one run, must make the
checker report a violation. They live here and only here: as subclasses of the real parts
(``Replica``, ``VoteSet``, ``SafetyRules``) that the simulator builds instead of the real ones,
so the consensus core, the vote sets and the safety rules carry no switch and no global.

- ``skip_lock_check``: the replica steps the core as if it held no lock whenever that decides
  a prevote (lines 23 and 29 of the paper), and keeps its lock otherwise;
- ``quorum_2f``: vote sets accept ``2f`` power (``f = (T - 1) // 3``) as a quorum;
- ``count_vote_twice``: vote sets count an identical re-signed vote's power again;
- ``no_persist_last_vote``: the safety rules return a vote without persisting it first;
- ``early_validator_set`` / ``late_validator_set``: the replica runs height h with the
  validator set of h + 1 / h - 1 (a governance change one block early or late).

The vote-set bugs work by giving the replica's consensus state vote sets of a broken class
after every step (a copy keeps its class, so every later vote is counted the broken way); a
set the core makes during a step holds one vote, which neither bug changes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from yulian.consensus import core
from yulian.consensus.core import ConsensusConfig, ConsensusState
from yulian.consensus.safety import SafetyData, SafetyRules
from yulian.consensus.voteset import AddResult, AddStatus, VoteSet
from yulian.node.replica import Replica
from yulian.types.consensus import Vote

__all__ = [
    "PLANTED_BUGS",
    "REPLICA_BUGS",
    "replica_class",
    "safety_class",
    "skip_lock_check_step",
]


# --- vote counting ------------------------------------------------------------------------------
class Quorum2fVoteSet(VoteSet):
    def _is_quorum(self, power: int) -> bool:
        return power >= max(1, 2 * ((self._set_power - 1) // 3))


class CountTwiceVoteSet(VoteSet):
    def add(self, vote: Vote) -> AddResult:
        kept = self._votes.get(vote.validator)
        same_set = (vote.height, vote.round, vote.type) == (self.height, self.round, self.type)
        if kept is None or kept.block_hash != vote.block_hash or not same_set:
            return super().add(vote)
        self._count(vote.block_hash, self._power_of.get(vote.validator, 0))  # the bug
        return AddResult(AddStatus.ADDED)


def with_vote_sets(state: ConsensusState, cls: type[VoteSet]) -> ConsensusState:
    """``state`` whose vote sets are of class ``cls`` (same votes, same counts)."""
    if all(type(v) is cls for v in state.votes.values()):
        return state
    votes = {}
    for key, vs in state.votes.items():
        broken = cls.__new__(cls)
        broken.__dict__.update(vs.__dict__)
        votes[key] = broken
    return dataclasses.replace(state, votes=votes)


class _BrokenCounting(Replica):
    vote_set_class: type[VoteSet] = VoteSet

    def _consensus_step(self, event: core.Event) -> core.Result:
        self.state = with_vote_sets(self.state, self.vote_set_class)
        state, effects = super()._consensus_step(event)
        return with_vote_sets(state, self.vote_set_class), effects


class _Quorum2f(_BrokenCounting):
    vote_set_class = Quorum2fVoteSet


class _CountVoteTwice(_BrokenCounting):
    vote_set_class = CountTwiceVoteSet


# --- the lock -----------------------------------------------------------------------------------
def skip_lock_check_step(
    config: ConsensusConfig, state: ConsensusState, event: core.Event
) -> core.Result:
    """``core.step`` deciding prevotes as if unlocked; a lock taken in the step is kept, an
    older one restored."""
    unlocked = dataclasses.replace(state, locked_round=-1, locked_hash=None)
    after, effects = core.step(config, unlocked, event)
    if after.locked_round == -1:
        after = dataclasses.replace(
            after, locked_round=state.locked_round, locked_hash=state.locked_hash
        )
    return after, effects


class _SkipLockCheck(Replica):
    def _consensus_step(self, event: core.Event) -> core.Result:
        return skip_lock_check_step(self.consensus_config, self.state, event)


# --- the safety rules ---------------------------------------------------------------------------
class ForgetfulSafetyRules(SafetyRules):
    """Returns votes without persisting them first (proposals are still persisted)."""

    _voting = False

    def sign_vote(self, *args: Any, **kwargs: Any) -> Vote:
        self._voting = True
        try:
            return super().sign_vote(*args, **kwargs)
        finally:
            self._voting = False

    def _persist(self, data: SafetyData) -> None:
        if not self._voting:
            super()._persist(data)


# --- governance ---------------------------------------------------------------------------------
class _EarlyValidatorSet(Replica):
    def _configure_height(self, height: int) -> None:
        super()._configure_height(height + 1)


class _LateValidatorSet(Replica):
    def _configure_height(self, height: int) -> None:
        super()._configure_height(max(1, height - 1))


_REPLICAS: dict[str, type[Replica]] = {
    "skip_lock_check": _SkipLockCheck,
    "quorum_2f": _Quorum2f,
    "count_vote_twice": _CountVoteTwice,
    "early_validator_set": _EarlyValidatorSet,
    "late_validator_set": _LateValidatorSet,
}
REPLICA_BUGS = frozenset(_REPLICAS)  # one replica class each: at most one per run
PLANTED_BUGS = REPLICA_BUGS | {"no_persist_last_vote"}


def replica_class(bugs: frozenset[str]) -> type[Replica]:
    """The replica to build: the real one, or the one with the planted bug (at most one)."""
    chosen = sorted(bugs & frozenset(_REPLICAS))
    assert bugs <= PLANTED_BUGS and len(chosen) <= 1, sorted(bugs)
    return _REPLICAS[chosen[0]] if chosen else Replica


def safety_class(bugs: frozenset[str]) -> type[SafetyRules]:
    """The safety rules to build: the real ones, or the forgetful ones."""
    assert bugs <= PLANTED_BUGS, sorted(bugs)
    return ForgetfulSafetyRules if "no_persist_last_vote" in bugs else SafetyRules
