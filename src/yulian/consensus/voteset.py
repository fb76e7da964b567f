"""Introduction: the votes of one ``(height, round, type)`` and the quorums they form.

A ``VoteSet`` counts each validator at most once *per block hash*: the first vote of a validator
is its vote; the same vote again is a duplicate (ignored); a different block hash from the same
validator is a conflict, returned as a pair for evidence, and also counted for that hash (as the
paper counts messages: "2f+1 ⟨PREVOTE, h, r, id(v)⟩" are messages from 2f+1 distinct senders).
Without that, an equivocator splits the honest nodes' views of a proof of lock (each counts
whichever vote arrived first) and the height can livelock. "2f+1 ⟨·, ∗⟩" still counts each
validator once. Signatures are not checked here:
the shell verifies each vote once, before the consensus core sees it.

Thresholds, over the set's total voting power ``T`` (Tendermint's ``n = 3f + 1`` generalised to
weights): a quorum ("2f+1") is power ``p`` with ``3p > 2T``; "f+1" is ``3p > T``. No two block
hashes can both reach a quorum, because each validator counts once.

Results never depend on arrival order: answers that range over hashes or voters are sorted.

Safety of counting both votes: two quorums for different hashes in one set would share more
than a third of the power, so at least one honest validator would have signed both.

Bounded: one vote per validator and at most ``MAX_CONFLICTS_PER_VALIDATOR`` conflicting ones
(a conflict beyond that is still reported, for evidence, and not counted — which can only cost
liveness under an attack of that size, never safety: a quorum counted from fewer votes still
intersects every other). The quorum threshold is ``ValidatorSet.quorum()``, the one definition
that commit certificates are verified against too. A copy keeps the class of the set it
copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from yulian.consensus.votes import ValidatorSet
from yulian.types.commit import PRECOMMIT, PREVOTE
from yulian.types.consensus import Vote

# an equivocator's conflicting votes counted per set: bounds the set (a Byzantine validator can
# sign any number of hashes); beyond it a conflict is still reported, never counted
MAX_CONFLICTS_PER_VALIDATOR = 8


class AddStatus(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    CONFLICTING = "conflicting"
    UNKNOWN_VALIDATOR = "unknown_validator"
    WRONG_HEIGHT_ROUND_TYPE = "wrong_height_round_type"


@dataclass(frozen=True)
class AddResult:
    status: AddStatus
    conflict: tuple[Vote, Vote] | None = None  # (the vote kept, the new one) when CONFLICTING

    @property
    def added(self) -> bool:
        return self.status is AddStatus.ADDED


class VoteSet:
    """Votes of one type for one ``(height, round)``; one counted vote per validator."""

    def __init__(self, validators: ValidatorSet, height: int, round_: int, type_: int) -> None:
        assert type_ in (PREVOTE, PRECOMMIT), type_
        assert height >= 1 and round_ >= 0, (height, round_)
        self.validators = validators
        self.height = height
        self.round = round_
        self.type = type_
        self._power_of = {v.name: v.power for v in validators.validators}
        self._set_power = validators.total_power
        self._quorum = validators.quorum()
        self._votes: dict[str, Vote] = {}
        self._conflicting: dict[tuple[str, bytes], Vote] = {}  # an equivocator's other votes
        self._conflicts_of: dict[str, int] = {}  # how many each equivocator has here
        self._power_by_hash: dict[bytes, int] = {}
        self._received_power = 0

    def copy(self) -> VoteSet:
        """An independent copy (the consensus core adds to copies, keeping old states intact)."""
        other = type(self).__new__(type(self))
        other.validators = self.validators
        other.height = self.height
        other.round = self.round
        other.type = self.type
        other._power_of = self._power_of  # never mutated after __init__
        other._set_power = self._set_power
        other._quorum = self._quorum
        other._votes = dict(self._votes)
        other._conflicting = dict(self._conflicting)
        other._conflicts_of = dict(self._conflicts_of)
        other._power_by_hash = dict(self._power_by_hash)
        other._received_power = self._received_power
        return other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VoteSet):
            return NotImplemented
        return (
            self.validators == other.validators
            and (self.height, self.round, self.type) == (other.height, other.round, other.type)
            and self._votes == other._votes
            and self._power_by_hash == other._power_by_hash
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"VoteSet(h={self.height}, r={self.round}, type={self.type}, "
            f"voters={list(self.voters())})"
        )

    # --- adding ------------------------------------------------------------------------------
    def add(self, vote: Vote) -> AddResult:
        """Count ``vote`` unless it is a duplicate, a conflict or not for this set."""
        if (vote.height, vote.round, vote.type) != (self.height, self.round, self.type):
            return AddResult(AddStatus.WRONG_HEIGHT_ROUND_TYPE)
        power = self._power_of.get(vote.validator)
        if power is None:
            return AddResult(AddStatus.UNKNOWN_VALIDATOR)
        kept = self._votes.get(vote.validator)
        if kept is not None and kept.block_hash != vote.block_hash:
            key = (vote.validator, vote.block_hash)
            others = self._conflicts_of.get(vote.validator, 0)
            if key not in self._conflicting and others < MAX_CONFLICTS_PER_VALIDATOR:
                self._conflicting[key] = vote
                self._conflicts_of[vote.validator] = others + 1
                self._power_by_hash[vote.block_hash] = (
                    self._power_by_hash.get(vote.block_hash, 0) + power
                )
            return AddResult(AddStatus.CONFLICTING, (kept, vote))
        if kept is not None:
            return AddResult(AddStatus.DUPLICATE)
        self._votes[vote.validator] = vote
        self._count(vote.block_hash, power)
        return AddResult(AddStatus.ADDED)

    def _count(self, block_hash: bytes, power: int) -> None:
        self._power_by_hash[block_hash] = self._power_by_hash.get(block_hash, 0) + power
        self._received_power += power

    # --- queries -----------------------------------------------------------------------------
    def power_for(self, block_hash: bytes) -> int:
        """Voting power of the votes for ``block_hash`` (``b""`` = nil)."""
        return self._power_by_hash.get(block_hash, 0)

    def total_power(self) -> int:
        """Voting power of all votes received (any block hash, nil included)."""
        return self._received_power

    def two_thirds_majority(self) -> bytes | None:
        """The block hash (``b""`` = nil) holding a quorum, or None."""
        for block_hash in sorted(self._power_by_hash):
            if self._is_quorum(self._power_by_hash[block_hash]):
                return block_hash
        return None

    def has_two_thirds_for(self, block_hash: bytes) -> bool:
        """Whether the votes for ``block_hash`` hold a quorum ("2f+1 ⟨·, id(v)⟩")."""
        return self._is_quorum(self.power_for(block_hash))

    def has_two_thirds_any(self) -> bool:
        """Whether the votes received, for anything, hold a quorum ("2f+1 ⟨·, ∗⟩")."""
        return self._is_quorum(self._received_power)

    def has_one_third_any(self) -> bool:
        """Whether the votes received hold more than a third ("f+1"), e.g. for round skipping."""
        return 3 * self._received_power > self._set_power

    def votes_for(self, block_hash: bytes) -> tuple[Vote, ...]:
        """The counted votes for ``block_hash``, sorted by validator name."""
        found = {name: v for name, v in self._votes.items() if v.block_hash == block_hash}
        for (name, h), v in self._conflicting.items():
            if h == block_hash:
                found[name] = v
        return tuple(found[name] for name in sorted(found))

    def voters(self) -> tuple[str, ...]:
        """Names of the validators with a counted vote, sorted."""
        return tuple(sorted(self._votes))

    def power_of(self, name: str) -> int:
        """Voting power of validator ``name`` in this set's validator set (0 if none)."""
        return self._power_of.get(name, 0)

    def _is_quorum(self, power: int) -> bool:
        return power >= self._quorum
