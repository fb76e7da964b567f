"""Introduction: the Tendermint consensus core — ``step(config, state, event) -> (state, effects)``.

This is Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT consensus"
(arXiv:1807.04938) as a pure function over plain data, laid out like CometBFT's
``consensus/state.go``: one handler per ``upon`` rule, its entry condition stated at the top in
the paper's vocabulary, its docstring citing the paper's line numbers. Nothing here touches a
socket, a file, the clock or randomness: the node shell and the simulator hand in events and
perform the returned effects, in order.

The contract with the shell:
- Start: ``initial_state(config, h)``, then ``StartHeight(h)``.
- ``ProposeBlock``: sign the proposal (through safety rules), broadcast it and feed it back as
  ``ProposalReceived(valid=True)``. ``CastVote``: ask safety rules to sign (it may refuse),
  broadcast, feed the signed vote back as ``VoteReceived``. The core never counts its own vote
  before it comes back, so a refused signature is never counted.
- Every incoming proposal and vote is signature-checked by the shell first; ``valid`` on a
  proposal says that the block re-executed to the roots it claims.
- ``ScheduleTimeout``: deliver ``TimeoutFired`` after ``duration_ms``; stale ones are ignored.
- ``Decide``: commit the block with its certificate, then start the next height with a fresh
  ``initial_state`` (the core ignores everything for a decided height).
- Delivery: like the paper, the core assumes that a message between correct processes
  eventually arrives (gossip). It keeps no outbox, so the shell re-sends what the node has
  signed for the current height (until it decides) and holds messages for ``h + 1`` (bounded)
  until ``StartHeight(h + 1)``; messages fed before ``StartHeight`` are logged and used.

Invariants:
- Pure and deterministic: the same events give the same states and effects; nothing depends on
  set or dict iteration order (rounds and voters are always sorted before use).
- Safety comes from the lock (lines 22–33): a process that precommitted ``v`` in round ``r``
  prevotes another value only on a proof of lock (2f+1 prevotes) from a round ``>= r``.
- Bounded: messages for other heights, for rounds more than ``MAX_ROUND_AHEAD`` ahead, or from
  non-validators change nothing; a vote counts once per validator and block hash (an
  equivocator's conflicting vote is evidence *and* counts for its hash); one proposal per round.
- States are values: ``step`` returns a new state and never mutates the one it was given (vote
  sets are copied before a vote is added), so a caller may keep old states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum

from yulian.consensus.proposer import proposer
from yulian.consensus.votes import ValidatorSet
from yulian.consensus.voteset import AddStatus, VoteSet
from yulian.types.commit import PRECOMMIT, PREVOTE, CommitCertificate, CommitSignature
from yulian.types.consensus import MAX_ROUND, Proposal, Vote

MAX_ROUND_AHEAD = 100  # rounds: messages further ahead of the current round are ignored
MAX_RULE_FIRINGS = 64  # per event; the rules settle in a handful, more means a bug
NIL = b""  # the block hash of a vote for nil

TIMEOUT_PROPOSE = "propose"
TIMEOUT_PREVOTE = "prevote"
TIMEOUT_PRECOMMIT = "precommit"
TIMEOUT_KINDS = (TIMEOUT_PROPOSE, TIMEOUT_PREVOTE, TIMEOUT_PRECOMMIT)


class Step(IntEnum):
    NEW = 0  # initial_state: StartHeight not yet received
    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3


@dataclass(frozen=True)
class ConsensusConfig:
    chain_id: str
    me: str | None  # this node's validator name; None = non-voting full node
    validators: ValidatorSet
    timeout_propose_ms: int = 1000
    timeout_prevote_ms: int = 500
    timeout_precommit_ms: int = 500
    timeout_delta_ms: int = 250  # added per round: timeout(r) = base + r * delta

    def __post_init__(self) -> None:
        assert self.validators.validators, "a validator set is never empty"
        assert min(self.timeout_propose_ms, self.timeout_prevote_ms, self.timeout_precommit_ms) > 0
        assert self.timeout_delta_ms >= 0

    def timeout_ms(self, kind: str, round_: int) -> int:
        """The timeout of ``kind`` in ``round_``: grows linearly so rounds eventually last long
        enough for any (unknown) message delay — the paper's partial-synchrony assumption."""
        base = {
            TIMEOUT_PROPOSE: self.timeout_propose_ms,
            TIMEOUT_PREVOTE: self.timeout_prevote_ms,
            TIMEOUT_PRECOMMIT: self.timeout_precommit_ms,
        }[kind]
        return base + round_ * self.timeout_delta_ms

    def is_voter(self) -> bool:
        return self.me is not None and self.validators.by_name(self.me) is not None


# --- events (inputs) -------------------------------------------------------------------------
@dataclass(frozen=True)
class StartHeight:
    height: int


@dataclass(frozen=True)
class ProposalReceived:
    proposal: Proposal
    valid: bool  # the block re-executed to the roots it claims


@dataclass(frozen=True)
class VoteReceived:
    vote: Vote


@dataclass(frozen=True)
class TimeoutFired:
    kind: str
    height: int
    round: int


Event = StartHeight | ProposalReceived | VoteReceived | TimeoutFired


# --- effects (outputs, performed in order) ---------------------------------------------------
@dataclass(frozen=True)
class ProposeBlock:
    height: int
    round: int
    pol_round: int
    block: bytes | None  # None: build a new block; else re-propose validValue
    block_hash: bytes | None


@dataclass(frozen=True)
class CastVote:
    type: int
    height: int
    round: int
    block_hash: bytes  # NIL = b"" for nil


@dataclass(frozen=True)
class ScheduleTimeout:
    kind: str
    height: int
    round: int
    duration_ms: int


@dataclass(frozen=True)
class Decide:
    height: int
    round: int
    block: bytes
    block_hash: bytes
    certificate: CommitCertificate


@dataclass(frozen=True)
class ReportEquivocation:
    first: Vote
    second: Vote


Effect = ProposeBlock | CastVote | ScheduleTimeout | Decide | ReportEquivocation


# --- state -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProposalRecord:
    proposal: Proposal
    valid: bool


@dataclass(frozen=True)
class ConsensusState:
    """``h_p, round_p, step_p, lockedValue_p/lockedRound_p, validValue_p/validRound_p`` and the
    message log of the height. Values are identified by block hash (``id(v)``)."""

    height: int
    round: int = 0
    step: Step = Step.NEW
    locked_round: int = -1
    locked_hash: bytes | None = None
    valid_round: int = -1
    valid_block: bytes | None = None
    valid_hash: bytes | None = None
    proposals: Mapping[int, ProposalRecord] = field(default_factory=dict)
    votes: Mapping[tuple[int, int], VoteSet] = field(default_factory=dict)  # (round, type)
    prevote_wait_round: int = -1  # last round in which line 34 fired
    valid_update_round: int = -1  # last round in which line 36 fired
    precommit_wait_round: int = -1  # last round in which line 47 fired
    decided: bool = False

    def vote_set(self, round_: int, type_: int) -> VoteSet | None:
        return self.votes.get((round_, type_))


def initial_state(config: ConsensusConfig, height: int) -> ConsensusState:
    """The state of ``height`` before ``StartHeight(height)``: nothing locked, no messages."""
    assert height >= 1, height
    return ConsensusState(height=height)


# --- the step function -----------------------------------------------------------------------
Result = tuple[ConsensusState, list[Effect]]


def step(config: ConsensusConfig, state: ConsensusState, event: Event) -> Result:
    """Apply ``event``; return the next state and the effects the shell must perform, in order."""
    if isinstance(event, StartHeight):
        return _on_start_height(config, state, event)
    if isinstance(event, ProposalReceived):
        return _on_proposal(config, state, event)
    if isinstance(event, VoteReceived):
        return _on_vote(config, state, event)
    if isinstance(event, TimeoutFired):
        return _on_timeout(config, state, event)
    raise TypeError(f"not a consensus event: {type(event).__name__}")


def _on_start_height(config: ConsensusConfig, s: ConsensusState, event: StartHeight) -> Result:
    """Line 10: ``upon start do StartRound(0)``."""
    if event.height != s.height:
        raise ValueError(f"StartHeight({event.height}) sent to the state of height {s.height}")
    if s.step is not Step.NEW or s.decided:
        return s, []
    s, effects = _start_round(config, s, 0)
    return _apply_rules(config, s, effects)


def _on_proposal(config: ConsensusConfig, s: ConsensusState, event: ProposalReceived) -> Result:
    """Log the first proposal of a round from ``proposer(h_p, round)``, then run the rules.

    A later, different proposal for the same round (an equivocating proposer) replaces the
    first only when its block holds 2f+1 prevotes or precommits of that round, so a process
    that saw the other proposal first can still lock on (line 36) or decide (line 49) the block
    the others agreed on. Anything else from an equivocating proposer is ignored.
    """
    p = event.proposal
    if not _accepts(s, p.height, p.round) or p.block_hash == NIL:
        return s, []
    if p.proposer != proposer(config.validators, p.height, p.round):
        return s, []
    kept = s.proposals.get(p.round)
    if kept is not None and not _replaces(s, kept.proposal, p):
        return s, []
    s = replace(s, proposals={**s.proposals, p.round: ProposalRecord(p, event.valid)})
    return _apply_rules(config, s, [])


def _replaces(s: ConsensusState, kept: Proposal, new: Proposal) -> bool:
    if new.block_hash == kept.block_hash:
        return False
    sets = (s.vote_set(new.round, PREVOTE), s.vote_set(new.round, PRECOMMIT))
    return any(vs is not None and vs.has_two_thirds_for(new.block_hash) for vs in sets)


def _on_vote(config: ConsensusConfig, s: ConsensusState, event: VoteReceived) -> Result:
    """Log a vote (once per validator); a conflicting one becomes evidence, never power."""
    vote = event.vote
    if not _accepts(s, vote.height, vote.round) or vote.type not in (PREVOTE, PRECOMMIT):
        return s, []
    kept = s.vote_set(vote.round, vote.type)
    votes = kept.copy() if kept else VoteSet(config.validators, s.height, vote.round, vote.type)
    result = votes.add(vote)
    if result.status is AddStatus.CONFLICTING:
        assert result.conflict is not None
        report = ReportEquivocation(first=result.conflict[0], second=result.conflict[1])
        s = replace(s, votes={**s.votes, (vote.round, vote.type): votes})
        return _apply_rules(config, s, [report])
    if not result.added:
        return s, []
    s = replace(s, votes={**s.votes, (vote.round, vote.type): votes})
    return _apply_rules(config, s, [])


def _on_timeout(config: ConsensusConfig, s: ConsensusState, event: TimeoutFired) -> Result:
    """Lines 57–67: OnTimeoutPropose / OnTimeoutPrevote / OnTimeoutPrecommit.

    Each acts only if ``height = h_p ∧ round = round_p`` (and, for propose and prevote, the
    step is still the one the timeout guards); otherwise the timeout is stale.
    """
    if event.kind not in TIMEOUT_KINDS:
        raise ValueError(f"unknown timeout kind {event.kind!r}")
    if s.decided or s.step is Step.NEW or (event.height, event.round) != (s.height, s.round):
        return s, []
    if event.kind == TIMEOUT_PROPOSE and s.step is Step.PROPOSE:  # lines 57–60
        effects = _cast(config, s, PREVOTE, NIL)
        s = replace(s, step=Step.PREVOTE)
    elif event.kind == TIMEOUT_PREVOTE and s.step is Step.PREVOTE:  # lines 61–64
        effects = _cast(config, s, PRECOMMIT, NIL)
        s = replace(s, step=Step.PRECOMMIT)
    elif event.kind == TIMEOUT_PRECOMMIT:  # lines 65–67
        s, effects = _start_round(config, s, s.round + 1)
    else:
        return s, []
    return _apply_rules(config, s, effects)


def _accepts(s: ConsensusState, height: int, round_: int) -> bool:
    """A message this height can still use: not decided, same height, round not too far."""
    return not s.decided and height == s.height and 0 <= round_ <= s.round + MAX_ROUND_AHEAD


# --- StartRound and the upon rules -----------------------------------------------------------
def _start_round(config: ConsensusConfig, s: ConsensusState, round_: int) -> Result:
    """Lines 11–21: ``StartRound(round)``.

    ``round_p ← round; step_p ← propose``; the proposer proposes ``validValue_p`` with
    ``validRound_p`` if it has one, else a new value. Unlike line 21 the propose timeout is
    scheduled for the proposer too (as CometBFT does), so a proposer whose shell fails to
    build or sign the block still moves on.
    """
    assert round_ > s.round or (round_ == 0 and s.step is Step.NEW), (round_, s.round)
    assert round_ < MAX_ROUND, round_
    s = replace(s, round=round_, step=Step.PROPOSE)
    effects: list[Effect] = []
    if config.is_voter() and proposer(config.validators, s.height, round_) == config.me:
        if s.valid_block is not None:
            effects.append(
                ProposeBlock(s.height, round_, s.valid_round, s.valid_block, s.valid_hash)
            )
        else:
            effects.append(ProposeBlock(s.height, round_, -1, None, None))
    duration_ms = config.timeout_ms(TIMEOUT_PROPOSE, round_)
    effects.append(ScheduleTimeout(TIMEOUT_PROPOSE, s.height, round_, duration_ms))
    return s, effects


Rule = Callable[[ConsensusConfig, ConsensusState], Result | None]


def _upon_decision(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 49–54: ``upon ⟨PROPOSAL, h_p, r, v, ∗⟩ from proposer(h_p, r) AND 2f+1
    ⟨PRECOMMIT, h_p, r, id(v)⟩ while decision_p[h_p] = nil``: if ``valid(v)``, decide ``v``.

    Any round ``r``, not only ``round_p``. The certificate holds exactly the precommits for
    ``id(v)`` in ``r``, sorted by validator; the next height is the shell's ``StartHeight``.
    """
    rounds = sorted(r for (r, type_) in s.votes if type_ == PRECOMMIT)
    for r in rounds:
        record = s.proposals.get(r)
        if record is None or not record.valid:
            continue
        v = record.proposal.block_hash
        precommits = s.votes[(r, PRECOMMIT)]
        if not precommits.has_two_thirds_for(v):
            continue
        signatures = tuple(
            CommitSignature(x.validator, x.signature) for x in precommits.votes_for(v)
        )
        certificate = CommitCertificate(s.height, r, v, signatures)
        decide = Decide(s.height, r, record.proposal.block, v, certificate)
        return replace(s, decided=True), [decide]
    return None


def _upon_round_skip(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 55–56: ``upon f+1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p do
    StartRound(round)``.

    Senders are counted once each, by voting power, over the round's proposal, prevotes and
    precommits; with several such rounds we go to the highest.
    """
    later = {r for (r, _) in s.votes if r > s.round} | {r for r in s.proposals if r > s.round}
    total_power = config.validators.total_power
    for r in sorted(later, reverse=True):
        if 3 * _senders_power(config, s, r) > total_power:
            return _start_round(config, s, r)
    return None


def _senders_power(config: ConsensusConfig, s: ConsensusState, round_: int) -> int:
    senders: set[str] = set()
    for type_ in (PREVOTE, PRECOMMIT):
        votes = s.vote_set(round_, type_)
        if votes is not None:
            senders.update(votes.voters())
    record = s.proposals.get(round_)
    if record is not None:
        senders.add(record.proposal.proposer)
    power_of = {v.name: v.power for v in config.validators.validators}
    return sum(power_of.get(name, 0) for name in sorted(senders))


def _upon_proposal(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 22–27: ``upon ⟨PROPOSAL, h_p, round_p, v, −1⟩ from proposer(h_p, round_p) while
    step_p = propose``: prevote ``id(v)`` if ``valid(v) ∧ (lockedRound_p = −1 ∨
    lockedValue_p = v)``, else nil; ``step_p ← prevote``."""
    record = s.proposals.get(s.round)
    if s.step is not Step.PROPOSE or record is None or record.proposal.pol_round != -1:
        return None
    v = record.proposal.block_hash
    unlocked = s.locked_round == -1 or s.locked_hash == v
    choice = v if record.valid and unlocked else NIL
    return replace(s, step=Step.PREVOTE), _cast(config, s, PREVOTE, choice)


def _upon_proposal_with_pol(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 28–33: ``upon ⟨PROPOSAL, h_p, round_p, v, vr⟩ from proposer(h_p, round_p) AND
    2f+1 ⟨PREVOTE, h_p, vr, id(v)⟩ while step_p = propose ∧ (vr ≥ 0 ∧ vr < round_p)``:
    prevote ``id(v)`` if ``valid(v) ∧ (lockedRound_p ≤ vr ∨ lockedValue_p = v)``, else nil;
    ``step_p ← prevote``. The proof of lock from ``vr`` is what releases an older lock."""
    record = s.proposals.get(s.round)
    if s.step is not Step.PROPOSE or record is None:
        return None
    v, vr = record.proposal.block_hash, record.proposal.pol_round
    if not 0 <= vr < s.round:
        return None
    pol = s.vote_set(vr, PREVOTE)
    if pol is None or not pol.has_two_thirds_for(v):
        return None
    unlocked = s.locked_round <= vr or s.locked_hash == v
    choice = v if record.valid and unlocked else NIL
    return replace(s, step=Step.PREVOTE), _cast(config, s, PREVOTE, choice)


def _upon_prevote_quorum_for_proposal(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 36–43: ``upon ⟨PROPOSAL, h_p, round_p, v, ∗⟩ from proposer(h_p, round_p) AND
    2f+1 ⟨PREVOTE, h_p, round_p, id(v)⟩ while valid(v) ∧ step_p ≥ prevote for the first
    time``: if ``step_p = prevote``, lock ``v`` in ``round_p``, precommit ``id(v)``,
    ``step_p ← precommit``; in any case ``validValue_p ← v, validRound_p ← round_p``."""
    record = s.proposals.get(s.round)
    if s.step < Step.PREVOTE or s.valid_update_round == s.round:
        return None
    if record is None or not record.valid:
        return None
    v = record.proposal.block_hash
    prevotes = s.vote_set(s.round, PREVOTE)
    if prevotes is None or not prevotes.has_two_thirds_for(v):
        return None
    effects: list[Effect] = []
    if s.step is Step.PREVOTE:
        effects = _cast(config, s, PRECOMMIT, v)
        s = replace(s, locked_hash=v, locked_round=s.round, step=Step.PRECOMMIT)
    s = replace(
        s,
        valid_block=record.proposal.block,
        valid_hash=v,
        valid_round=s.round,
        valid_update_round=s.round,
    )
    return s, effects


def _upon_prevote_quorum_nil(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 44–46: ``upon 2f+1 ⟨PREVOTE, h_p, round_p, nil⟩ while step_p = prevote``:
    precommit nil, ``step_p ← precommit``."""
    prevotes = s.vote_set(s.round, PREVOTE)
    if s.step is not Step.PREVOTE or prevotes is None or not prevotes.has_two_thirds_for(NIL):
        return None
    return replace(s, step=Step.PRECOMMIT), _cast(config, s, PRECOMMIT, NIL)


def _upon_prevote_quorum_any(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 34–35: ``upon 2f+1 ⟨PREVOTE, h_p, round_p, ∗⟩ while step_p = prevote for the
    first time``: schedule ``OnTimeoutPrevote(h_p, round_p)``."""
    prevotes = s.vote_set(s.round, PREVOTE)
    if s.step is not Step.PREVOTE or s.prevote_wait_round == s.round:
        return None
    if prevotes is None or not prevotes.has_two_thirds_any():
        return None
    duration_ms = config.timeout_ms(TIMEOUT_PREVOTE, s.round)
    timeout = ScheduleTimeout(TIMEOUT_PREVOTE, s.height, s.round, duration_ms)
    return replace(s, prevote_wait_round=s.round), [timeout]


def _upon_precommit_quorum_any(config: ConsensusConfig, s: ConsensusState) -> Result | None:
    """Lines 47–48: ``upon 2f+1 ⟨PRECOMMIT, h_p, round_p, ∗⟩ for the first time``: schedule
    ``OnTimeoutPrecommit(h_p, round_p)`` (in any step)."""
    precommits = s.vote_set(s.round, PRECOMMIT)
    if s.precommit_wait_round == s.round:
        return None
    if precommits is None or not precommits.has_two_thirds_any():
        return None
    duration_ms = config.timeout_ms(TIMEOUT_PRECOMMIT, s.round)
    timeout = ScheduleTimeout(TIMEOUT_PRECOMMIT, s.height, s.round, duration_ms)
    return replace(s, precommit_wait_round=s.round), [timeout]


# Tried in this order until none fires: deciding first, then catching up to a later round,
# then the current round's rules, where progress (a vote) beats scheduling a timeout.
RULES: tuple[Rule, ...] = (
    _upon_decision,
    _upon_round_skip,
    _upon_proposal,
    _upon_proposal_with_pol,
    _upon_prevote_quorum_for_proposal,
    _upon_prevote_quorum_nil,
    _upon_prevote_quorum_any,
    _upon_precommit_quorum_any,
)


def _apply_rules(config: ConsensusConfig, s: ConsensusState, effects: list[Effect]) -> Result:
    """Fire enabled rules one at a time until none is enabled (rules are atomic in the paper).

    Every firing changes the state so that the same rule is disabled (a step, a round, a
    "first time" marker or the decision), hence this terminates.
    """
    if s.step is Step.NEW:
        return s, effects
    for _ in range(MAX_RULE_FIRINGS):
        if s.decided:
            return s, effects
        for rule in RULES:
            fired = rule(config, s)
            if fired is not None:
                s, more = fired
                effects.extend(more)
                break
        else:
            return s, effects
    raise AssertionError(f"consensus rules did not settle within {MAX_RULE_FIRINGS} firings")


def _cast(
    config: ConsensusConfig, s: ConsensusState, type_: int, block_hash: bytes
) -> list[Effect]:
    """``broadcast ⟨type, h_p, round_p, block_hash⟩`` — only a validator votes."""
    if not config.is_voter():
        return []
    return [CastVote(type_, s.height, s.round, block_hash)]
