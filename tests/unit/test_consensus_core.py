"""The Tendermint core, driven purely through ``step``: scripted rounds and a tiny network.

Two drivers: ``Node`` scripts one process by hand (we forge the other validators' messages),
and ``Net`` wires several cores through a message pool the test controls — a miniature of the
simulator, with delivery order, crashes and timeouts in the test's hands.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.consensus.core import (
    MAX_ROUND_AHEAD,
    NIL,
    CastVote,
    ConsensusConfig,
    ConsensusState,
    Decide,
    Effect,
    Event,
    ProposalReceived,
    ProposeBlock,
    ReportEquivocation,
    Result,
    ScheduleTimeout,
    StartHeight,
    Step,
    TimeoutFired,
    VoteReceived,
    initial_state,
    step,
)
from yulian.consensus.proposer import proposer
from yulian.consensus.votes import ValidatorSet, verify_commit
from yulian.crypto.standard import STANDARD
from yulian.sim.planted import skip_lock_check_step
from yulian.types.commit import PRECOMMIT, PREVOTE, vote_sign_bytes
from yulian.types.consensus import Proposal, Vote
from yulian.types.genesis import Validator

CHAIN = "test-chain"
H = 1
NAMES = ("v0", "v1", "v2", "v3")


def block_of(label: str) -> tuple[bytes, bytes]:
    block = f"block:{label}".encode()
    return block, hashlib.sha256(block).digest()


BLOCK_V, V = block_of("v")
BLOCK_W, W = block_of("w")


def make_set(n: int = 4, keys: list | None = None) -> ValidatorSet:
    public = [k.public_key() for k in keys] if keys else [bytes([i]) * 32 for i in range(n)]
    return ValidatorSet(tuple(Validator(f"v{i}", f"org{i}", public[i], 1) for i in range(n)))


VS4 = make_set(4)


def fake_vote(type_: int, name: str, block_hash: bytes, *, r: int = 0, h: int = H) -> Vote:
    sig = hashlib.sha256(vote_sign_bytes(CHAIN, type_, h, r, block_hash) + name.encode()).digest()
    return Vote(type_, h, r, block_hash, name, sig)


def proposal(r: int, block: bytes = BLOCK_V, *, pol_round: int = -1, h: int = H) -> Proposal:
    block_hash = hashlib.sha256(block).digest()
    return Proposal(h, r, pol_round, block, block_hash, proposer(VS4, h, r), b"sig")


def not_proposer(rounds: Iterable[int], h: int = H) -> str:
    """A validator that proposes in none of ``rounds`` at height ``h``."""
    busy = {proposer(VS4, h, r) for r in rounds}
    return next(n for n in NAMES if n not in busy)


# --- driver 1: one scripted node -------------------------------------------------------------
class Node:
    def __init__(self, me: str | None, vs: ValidatorSet = VS4, h: int = H) -> None:
        self.config = ConsensusConfig(CHAIN, me, vs)
        self.state = initial_state(self.config, h)
        self.step = step  # the simulator's planted-bug step in the control tests

    def feed(self, event: Event) -> list[Effect]:
        self.state, effects = self.step(self.config, self.state, event)
        return effects

    def start(self) -> list[Effect]:
        return self.feed(StartHeight(self.state.height))

    def votes(self, type_: int, block_hash: bytes, names: list[str], r: int = 0) -> list[Effect]:
        out: list[Effect] = []
        for name in names:
            out += self.feed(VoteReceived(fake_vote(type_, name, block_hash, r=r)))
        return out

    def timeout(self, kind: str, r: int) -> list[Effect]:
        return self.feed(TimeoutFired(kind, self.state.height, r))


def casts(effects: list[Effect]) -> list[CastVote]:
    return [e for e in effects if isinstance(e, CastVote)]


def others(me: str) -> list[str]:
    return [n for n in NAMES if n != me]


# --- driver 2: a tiny network ----------------------------------------------------------------
@dataclass
class Net:
    n: int = 4
    crashed: frozenset[str] = frozenset()
    observers: int = 0  # non-voting full nodes
    real_keys: bool = False
    invalid_proposers: frozenset[str] = frozenset()
    step: Callable[[ConsensusConfig, ConsensusState, Event], Result] = step
    vs: ValidatorSet = field(init=False)
    pool: list[tuple[str, Event]] = field(default_factory=list)
    timeouts: dict[str, list[ScheduleTimeout]] = field(default_factory=dict)
    decisions: dict[str, Decide] = field(default_factory=dict)
    evidence: list[ReportEquivocation] = field(default_factory=list)
    log: dict[str, list[Effect]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = [STANDARD.generate_key() for _ in range(self.n)] if self.real_keys else None
        self.vs = make_set(self.n, self.keys)
        nodes = [f"v{i}" for i in range(self.n)] + [f"full{i}" for i in range(self.observers)]
        self.alive = [name for name in nodes if name not in self.crashed]
        self.configs = {
            name: ConsensusConfig(CHAIN, None if name.startswith("full") else name, self.vs)
            for name in self.alive
        }
        self.states = {name: initial_state(self.configs[name], H) for name in self.alive}
        for name in self.alive:
            self.timeouts[name] = []
            self.log[name] = []

    def sign(self, name: str, message: bytes) -> bytes:
        if self.keys is None:
            return hashlib.sha256(message + name.encode()).digest()
        return self.keys[int(name[1:])].sign(message)

    def start_events(self) -> None:
        self.pool += [(name, StartHeight(H)) for name in self.alive]

    def feed(self, name: str, event: Event) -> None:
        self.states[name], effects = self.step(self.configs[name], self.states[name], event)
        self.log[name] += effects
        for effect in effects:
            self.perform(name, effect)

    def perform(self, name: str, e: Effect) -> None:
        if isinstance(e, ProposeBlock):
            block, block_hash = (e.block, e.block_hash)
            if block is None:
                block, block_hash = block_of(f"{e.height}/{e.round}/{name}")
            assert block_hash is not None
            p = Proposal(e.height, e.round, e.pol_round, block, block_hash, name, b"sig")
            self.broadcast(ProposalReceived(p, valid=name not in self.invalid_proposers))
        elif isinstance(e, CastVote):
            message = vote_sign_bytes(CHAIN, e.type, e.height, e.round, e.block_hash)
            vote = Vote(e.type, e.height, e.round, e.block_hash, name, self.sign(name, message))
            self.broadcast(VoteReceived(vote))
        elif isinstance(e, ScheduleTimeout):
            self.timeouts[name].append(e)
        elif isinstance(e, Decide):
            assert name not in self.decisions, f"{name} decided twice"
            self.decisions[name] = e
        else:
            self.evidence.append(e)

    def broadcast(self, event: Event) -> None:
        self.pool += [(name, event) for name in self.alive]

    def deliver_all(self) -> None:
        while self.pool:
            self.feed(*self.pool.pop(0))

    def fire_timeouts(self) -> None:
        """Fire every pending timeout, in the order scheduled; stale ones must be ignored."""
        self.fire(self.alive)

    def deliver(self, chosen: Callable[[str, Event], bool]) -> None:
        """Deliver the pooled messages ``chosen`` selects, including those they cause; the
        others stay in the pool."""
        while True:
            index = next((i for i, (to, e) in enumerate(self.pool) if chosen(to, e)), None)
            if index is None:
                return
            self.feed(*self.pool.pop(index))

    def drop(self, dropped: Callable[[str, Event], bool]) -> None:
        self.pool = [(to, e) for to, e in self.pool if not dropped(to, e)]

    def fire(self, names: Iterable[str]) -> None:
        for name in names:
            pending, self.timeouts[name] = self.timeouts[name], []
            for t in pending:
                self.feed(name, TimeoutFired(t.kind, t.height, t.round))

    def run(self, max_phases: int = 20, *, start: bool = True) -> None:
        if start:
            self.start_events()
        for _ in range(max_phases):
            self.deliver_all()
            if len(self.decisions) == len(self.alive):
                return
            self.fire_timeouts()
        raise AssertionError(f"no decision after {max_phases} phases: {self.decisions}")

    def decided_values(self) -> set[tuple[int, bytes]]:
        return {(d.round, d.block_hash) for d in self.decisions.values()}


# --- the happy path --------------------------------------------------------------------------
def test_happy_path_decides_with_a_certificate_that_verifies() -> None:
    net = Net(real_keys=True)
    net.run()
    assert len(net.decided_values()) == 1
    decide = net.decisions["v0"]
    assert (decide.height, decide.round) == (H, 0)
    assert decide.block == block_of(f"{H}/0/{proposer(net.vs, H, 0)}")[0]
    cert = decide.certificate
    assert [s.validator for s in cert.signatures] == sorted(s.validator for s in cert.signatures)
    assert len(cert.signatures) >= 3
    verify_commit(STANDARD, CHAIN, net.vs, cert, height=H, block_hash=decide.block_hash)
    assert all(t.kind != "precommit" for ts in net.timeouts.values() for t in ts)


def test_happy_path_scripted_for_one_node() -> None:
    me = not_proposer(range(1))
    node = Node(me)
    assert node.start() == [ScheduleTimeout("propose", H, 0, 1000)]
    assert node.feed(ProposalReceived(proposal(0), valid=True)) == [CastVote(PREVOTE, H, 0, V)]
    assert node.votes(PREVOTE, V, [me, *others(me)[:1]]) == []
    assert node.votes(PREVOTE, V, others(me)[1:2]) == [CastVote(PRECOMMIT, H, 0, V)]
    assert (node.state.locked_round, node.state.locked_hash) == (0, V)
    assert (node.state.valid_round, node.state.valid_hash) == (0, V)
    assert node.votes(PRECOMMIT, V, [me, *others(me)[:1]]) == []
    effects = node.votes(PRECOMMIT, V, others(me)[1:2])
    assert len(effects) == 1 and isinstance(effects[0], Decide)
    assert [s.validator for s in effects[0].certificate.signatures] == sorted([me, *others(me)[:2]])
    late = node.votes(PRECOMMIT, V, others(me)[2:])
    assert late == [] and node.state.decided


def test_one_validator_decides_in_a_single_pass_without_timeouts() -> None:
    vs = make_set(1)
    node = Node("v0", vs)
    effects = node.start()
    assert effects[0] == ProposeBlock(H, 0, -1, None, None)
    assert [e for e in effects if not isinstance(e, ScheduleTimeout)] == [effects[0]]
    p = Proposal(H, 0, -1, BLOCK_V, V, "v0", b"sig")
    assert node.feed(ProposalReceived(p, valid=True)) == [CastVote(PREVOTE, H, 0, V)]
    vote = VoteReceived(Vote(PREVOTE, H, 0, V, "v0", b"s1"))
    assert node.feed(vote) == [CastVote(PRECOMMIT, H, 0, V)]
    effects = node.feed(VoteReceived(Vote(PRECOMMIT, H, 0, V, "v0", b"s2")))
    assert len(effects) == 1 and isinstance(effects[0], Decide)
    assert effects[0].block == BLOCK_V and effects[0].certificate.signatures[0].signature == b"s2"


def test_non_voting_full_node_follows_and_decides_without_voting() -> None:
    net = Net(observers=1)
    net.run()
    assert net.decisions["full0"].block_hash == net.decisions["v0"].block_hash
    assert not [e for e in net.log["full0"] if isinstance(e, CastVote | ProposeBlock)]


# --- rounds that fail ------------------------------------------------------------------------
def test_silent_proposer_times_out_and_the_next_proposer_decides() -> None:
    silent = proposer(VS4, H, 0)
    net = Net(crashed=frozenset({silent}))
    net.run()
    assert net.decided_values() == {(1, block_of(f"{H}/1/{proposer(VS4, H, 1)}")[1])}
    assert proposer(VS4, H, 1) != silent
    for name in net.alive:  # each prevoted and precommitted nil in round 0
        round0 = [c for c in casts(net.log[name]) if c.round == 0]
        assert round0 == [CastVote(PREVOTE, H, 0, NIL), CastVote(PRECOMMIT, H, 0, NIL)]


def test_invalid_proposal_gets_a_nil_prevote() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    assert node.feed(ProposalReceived(proposal(0), valid=False)) == [CastVote(PREVOTE, H, 0, NIL)]


def test_invalid_proposer_round_is_skipped_by_the_network() -> None:
    net = Net(invalid_proposers=frozenset({proposer(VS4, H, 0)}))
    net.run()
    assert {r for r, _ in net.decided_values()} == {1}


def test_timeouts_grow_with_the_round() -> None:
    me = not_proposer(range(3))
    node = Node(me)
    scheduled: list[Effect] = [e for e in node.start() if isinstance(e, ScheduleTimeout)]
    for r in range(3):
        node.timeout("propose", r)  # prevote nil
        scheduled += node.votes(PREVOTE, NIL, [me], r=r)
        scheduled += node.votes(PREVOTE, V, others(me)[:2], r=r)
        scheduled += node.timeout("prevote", r)  # precommit nil
        scheduled += node.votes(PRECOMMIT, NIL, [me], r=r)
        scheduled += node.votes(PRECOMMIT, V, others(me)[:2], r=r)
        scheduled += node.timeout("precommit", r)
    durations = [
        (e.kind, e.round, e.duration_ms) for e in scheduled if isinstance(e, ScheduleTimeout)
    ]
    assert durations == [
        ("propose", 0, 1000),
        ("prevote", 0, 500),
        ("precommit", 0, 500),
        ("propose", 1, 1250),
        ("prevote", 1, 750),
        ("precommit", 1, 750),
        ("propose", 2, 1500),
        ("prevote", 2, 1000),
        ("precommit", 2, 1000),
        ("propose", 3, 1750),
    ]
    assert node.state.round == 3 and node.state.step is Step.PROPOSE


def test_stale_timeouts_are_ignored() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    node.feed(ProposalReceived(proposal(0), valid=True))
    before = node.state
    assert node.timeout("propose", 0) == []  # already prevoted
    assert node.timeout("prevote", 3) == [] and node.timeout("precommit", 1) == []
    assert node.state is before


# --- locking (paper lines 22–43) -------------------------------------------------------------
def lock_on_v_in_round_0(me: str) -> Node:
    """``me`` prevotes and precommits v in round 0 (locks it); the round then fails."""
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    assert node.votes(PREVOTE, V, [me, *others(me)[:2]]) == [CastVote(PRECOMMIT, H, 0, V)]
    node.votes(PRECOMMIT, V, [me])
    node.votes(PRECOMMIT, NIL, others(me)[:2])
    node.timeout("precommit", 0)
    assert (node.state.round, node.state.locked_round, node.state.locked_hash) == (1, 0, V)
    return node


def test_locked_validator_prevotes_nil_for_another_value_without_a_pol() -> None:
    node = lock_on_v_in_round_0(not_proposer(range(3)))
    effects = node.feed(ProposalReceived(proposal(1, BLOCK_W), valid=True))
    assert casts(effects) == [CastVote(PREVOTE, H, 1, NIL)]


def test_locked_validator_prevotes_its_locked_value_again() -> None:
    node = lock_on_v_in_round_0(not_proposer(range(3)))
    effects = node.feed(ProposalReceived(proposal(1, BLOCK_V), valid=True))
    assert casts(effects) == [CastVote(PREVOTE, H, 1, V)]


def test_planted_skip_lock_check_prevotes_against_the_lock() -> None:
    node = lock_on_v_in_round_0(not_proposer(range(3)))
    node.step = skip_lock_check_step
    effects = node.feed(ProposalReceived(proposal(1, BLOCK_W), valid=True))
    assert casts(effects) == [CastVote(PREVOTE, H, 1, W)]


def test_pol_from_a_later_round_unlocks_and_the_validator_relocks() -> None:
    me = not_proposer(range(3))
    node = lock_on_v_in_round_0(me)
    b, c, d = others(me)
    # Round 1: w is proposed; we are locked on v and prevote nil. Only two prevotes for w
    # reach us in time; we precommit nil on the prevote timeout and move to round 2.
    assert casts(node.feed(ProposalReceived(proposal(1, BLOCK_W), valid=True))) == [
        CastVote(PREVOTE, H, 1, NIL)
    ]
    node.votes(PREVOTE, NIL, [me], r=1)
    node.votes(PREVOTE, W, [b, c], r=1)
    assert casts(node.timeout("prevote", 1)) == [CastVote(PRECOMMIT, H, 1, NIL)]
    node.votes(PRECOMMIT, NIL, [me, b, c], r=1)
    node.timeout("precommit", 1)
    assert (node.state.round, node.state.locked_hash) == (2, V)
    # Round 2: w is re-proposed with pol_round 1. Without the proof of lock nothing happens...
    assert node.feed(ProposalReceived(proposal(2, BLOCK_W, pol_round=1), valid=True)) == []
    # ...d's late prevote completes 2f+1 prevotes for w in round 1: lockedRound 0 <= vr 1.
    assert casts(node.votes(PREVOTE, W, [d], r=1)) == [CastVote(PREVOTE, H, 2, W)]
    assert casts(node.votes(PREVOTE, W, [me, b, c], r=2)) == [CastVote(PRECOMMIT, H, 2, W)]
    assert (node.state.locked_round, node.state.locked_hash) == (2, W)


@pytest.mark.parametrize("bug", [False, True], ids=["correct", "planted-skip_lock_check"])
def test_the_lock_is_what_prevents_a_fork(bug: bool) -> None:
    """Honest nodes, adversarial delivery. Round 0: a, b, c prevote and precommit v (locking
    it); d never sees the proposal and precommits nil; only a gets the three precommits for v
    and decides. Round 1: d proposes a fresh w. Locked b and c prevote nil, so w gets no
    quorum and the network later decides v. With the lock check skipped they prevote w and
    b, c, d decide w: a fork."""
    net = Net(step=skip_lock_check_step if bug else step)
    d = proposer(net.vs, H, 1)
    a, b, c = (name for name in net.alive if name != d)
    net.start_events()
    net.deliver(lambda to, e: isinstance(e, StartHeight))
    net.drop(lambda to, e: to == d)  # the round-0 proposal reaches all but d
    net.deliver(lambda to, e: isinstance(e, ProposalReceived))
    net.fire([d])  # d: propose timeout, prevote nil
    net.deliver(lambda to, e: isinstance(e, VoteReceived) and e.vote.type == PREVOTE)
    net.fire([d])  # d: prevote timeout, precommit nil
    assert [c.block_hash for c in casts(net.log[d])] == [NIL, NIL]
    net.drop(lambda to, e: to != a and isinstance(e, VoteReceived) and e.vote.validator == a)
    net.deliver(lambda to, e: True)
    assert set(net.decisions) == {a}
    v = net.decisions[a].block_hash
    net.fire([b, c, d])  # precommit timeouts: round 1, d proposes w
    net.deliver(lambda to, e: True)
    if bug:
        assert {net.decisions[x].block_hash for x in (b, c, d)} != {v}
        assert len(net.decided_values()) == 2
    else:
        assert set(net.decisions) == {a}
        net.run(start=False)
        assert {d.block_hash for d in net.decisions.values()} == {v}


def test_pol_older_than_the_lock_does_not_unlock() -> None:
    me = not_proposer(range(3))
    node = Node(me)
    node.start()
    # Round 0: 2f+1 prevotes for w (we see them late); round 1: we lock on v.
    node.feed(ProposalReceived(proposal(0, BLOCK_W), valid=True))
    node.timeout("prevote", 0)
    node.votes(PRECOMMIT, NIL, list(NAMES[:3]))
    node.timeout("precommit", 0)
    node.feed(ProposalReceived(proposal(1, BLOCK_V), valid=True))
    node.votes(PREVOTE, V, [me, *others(me)[:2]], r=1)
    assert (node.state.locked_round, node.state.locked_hash) == (1, V)
    node.votes(PRECOMMIT, NIL, others(me), r=1)
    node.timeout("precommit", 1)
    # Round 2: w with pol_round 0 < lockedRound 1 — prevote nil.
    node.votes(PREVOTE, W, list(NAMES[:3]), r=0)
    effects = node.feed(ProposalReceived(proposal(2, BLOCK_W, pol_round=0), valid=True))
    assert casts(effects) == [CastVote(PREVOTE, H, 2, NIL)]


def test_proposer_reproposes_valid_value_with_its_pol_round() -> None:
    me = proposer(VS4, H, 1)
    assert me != proposer(VS4, H, 0)
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    node.votes(PREVOTE, V, [n for n in NAMES if n != me][:3])  # we see a POL for v
    assert (node.state.valid_round, node.state.valid_hash) == (0, V)
    node.votes(PRECOMMIT, NIL, others(me))
    effects = node.timeout("precommit", 0)
    assert effects[0] == ProposeBlock(H, 1, 0, BLOCK_V, V)


def test_valid_value_updates_after_precommitting_nil_without_a_second_precommit() -> None:
    """Line 36 with step_p = precommit: validValue/validRound change; no lock, no vote."""
    me = not_proposer(range(1))
    node = Node(me)
    node.start()
    node.timeout("propose", 0)
    node.votes(PREVOTE, NIL, [me])
    node.votes(PREVOTE, V, others(me)[:2])
    assert casts(node.timeout("prevote", 0)) == [CastVote(PRECOMMIT, H, 0, NIL)]
    node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    assert node.state.valid_hash is None  # 2 of 4 prevotes for v
    assert node.votes(PREVOTE, V, others(me)[2:]) == []  # 3 of 4: a POL for v
    assert (node.state.valid_round, node.state.valid_hash, node.state.valid_block) == (
        0,
        V,
        BLOCK_V,
    )
    assert (node.state.locked_round, node.state.locked_hash) == (-1, None)


def test_conflicting_vote_is_reported_and_counts_for_its_hash() -> None:
    """The equivocator's second prevote (for v) is evidence and counts for v: with it, two
    honest prevotes for v make the 2f+1 of a proof of lock (the paper counts messages)."""
    me = not_proposer(range(1))
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    node.votes(PREVOTE, V, [me])
    node.votes(PREVOTE, W, others(me)[:1])
    effects = node.feed(VoteReceived(fake_vote(PREVOTE, others(me)[0], V)))
    assert ReportEquivocation in [type(e) for e in effects]
    assert node.state.step is Step.PREVOTE
    assert casts(node.votes(PREVOTE, V, others(me)[1:2])) == [CastVote(PRECOMMIT, H, 0, V)]
    assert node.state.locked_hash == V


# --- round skipping, decisions in old rounds -------------------------------------------------
def test_round_skip_on_f_plus_one_messages_from_a_higher_round() -> None:
    me = not_proposer((0, 3))
    node = Node(me)
    node.start()
    b, c, _ = others(me)
    assert node.votes(PREVOTE, V, [b], r=3) == []  # 1 of 4 is not f+1
    assert node.state.round == 0
    effects = node.votes(PRECOMMIT, NIL, [c], r=3)  # b and c: 2 of 4 > 1/3
    assert node.state.round == 3 and node.state.step is Step.PROPOSE
    assert effects == [ScheduleTimeout("propose", H, 3, 1000 + 3 * 250)]


def test_round_skip_needs_strictly_more_than_a_third() -> None:
    vs3 = make_set(3)
    me = next(n for n in ("v0", "v1", "v2") if n not in {proposer(vs3, H, 0), proposer(vs3, H, 2)})
    node = Node(me, vs3)
    node.start()
    b, c = (n for n in ("v0", "v1", "v2") if n != me)
    node.votes(PREVOTE, V, [b], r=2)  # exactly 1/3
    assert node.state.round == 0
    node.votes(PREVOTE, V, [c], r=2)
    assert node.state.round == 2


def test_round_skip_counts_a_sender_once() -> None:
    me = not_proposer((0, 2))
    node = Node(me)
    node.start()
    b = others(me)[0]
    node.votes(PREVOTE, V, [b], r=2)
    node.votes(PRECOMMIT, V, [b], r=2)
    assert node.state.round == 0


def test_decides_on_precommits_of_an_earlier_round() -> None:
    me = not_proposer(range(2))
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    node.votes(PREVOTE, NIL, others(me)[:2], r=1)  # f+1 in round 1: skip there
    assert node.state.round == 1
    decided = node.votes(PRECOMMIT, V, others(me), r=0)  # late round-0 precommits
    assert len(decided) == 1 and isinstance(decided[0], Decide)
    assert (decided[0].round, decided[0].block) == (0, BLOCK_V)


def test_no_decision_for_a_block_the_node_found_invalid() -> None:
    me = not_proposer(range(1))
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0), valid=False))
    assert not any(isinstance(e, Decide) for e in node.votes(PRECOMMIT, V, others(me)))
    assert not node.state.decided


def test_equivocating_proposer_second_proposal_used_only_when_a_quorum_backs_it() -> None:
    me = not_proposer(range(1))
    node = Node(me)
    node.start()
    node.feed(ProposalReceived(proposal(0, BLOCK_W), valid=True))
    before = node.state
    assert node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True)) == []
    assert node.state is before  # the first proposal of the round stays
    node.votes(PRECOMMIT, V, others(me))
    assert not node.state.decided  # we hold w, the others committed v
    effects = node.feed(ProposalReceived(proposal(0, BLOCK_V), valid=True))
    assert len(effects) == 1 and isinstance(effects[0], Decide) and effects[0].block_hash == V


# --- evidence and ignored messages -----------------------------------------------------------
def test_equivocation_is_reported_and_counted_once_per_hash() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    first, second = fake_vote(PREVOTE, "v1", V), fake_vote(PREVOTE, "v1", W)
    node.feed(VoteReceived(first))
    effects = node.feed(VoteReceived(second))
    assert effects == [ReportEquivocation(first=first, second=second)]
    prevotes = node.state.vote_set(0, PREVOTE)
    assert prevotes is not None and prevotes.power_for(W) == 1 and prevotes.power_for(V) == 1
    assert prevotes.total_power() == 1  # "2f+1 of any" counts the equivocator once


@pytest.mark.parametrize(
    "event",
    [
        VoteReceived(fake_vote(PREVOTE, "v1", V, h=H + 1)),
        VoteReceived(fake_vote(PREVOTE, "v1", V, h=H - 1 if H > 1 else H + 5)),
        VoteReceived(fake_vote(PREVOTE, "v1", V, r=MAX_ROUND_AHEAD + 1)),
        VoteReceived(Vote(PREVOTE, H, 0, V, "mallory", b"sig")),
        VoteReceived(Vote(7, H, 0, V, "v1", b"sig")),
        ProposalReceived(proposal(1, h=H + 1), valid=True),
        ProposalReceived(proposal(MAX_ROUND_AHEAD + 1), valid=True),
        ProposalReceived(
            Proposal(H, 0, -1, BLOCK_V, V, next(n for n in NAMES if n != proposer(VS4, H, 0)), b""),
            valid=True,
        ),
        ProposalReceived(Proposal(H, 0, -1, b"", NIL, proposer(VS4, H, 0), b""), valid=True),
    ],
    ids=[
        "next-height",
        "other-height",
        "too-far-round",
        "non-validator",
        "bad-type",
        "proposal-other-height",
        "proposal-too-far",
        "wrong-proposer",
        "nil-proposal",
    ],
)
def test_irrelevant_messages_change_nothing(event: Event) -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    before = node.state
    assert node.feed(event) == []
    assert node.state is before


def test_duplicate_vote_changes_nothing() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    node.feed(VoteReceived(fake_vote(PREVOTE, "v1", V)))
    before = node.state
    assert node.feed(VoteReceived(fake_vote(PREVOTE, "v1", V))) == []
    assert node.state is before


def test_round_exactly_max_ahead_is_accepted() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    node.feed(VoteReceived(fake_vote(PREVOTE, "v1", V, r=MAX_ROUND_AHEAD)))
    assert node.state.vote_set(MAX_ROUND_AHEAD, PREVOTE) is not None


def test_after_deciding_everything_for_the_height_is_ignored() -> None:
    net = Net()
    net.run()
    name = "v0"
    state = net.states[name]
    assert state.decided
    for event in (
        VoteReceived(fake_vote(PREVOTE, "v1", W, r=1)),
        ProposalReceived(proposal(1, BLOCK_W), valid=True),
        TimeoutFired("precommit", H, state.round),
        StartHeight(H),
    ):
        assert step(net.configs[name], state, event) == (state, [])


def test_messages_before_start_height_are_kept_and_used() -> None:
    me = not_proposer(range(1))
    node = Node(me)
    assert node.feed(ProposalReceived(proposal(0), valid=True)) == []
    assert node.votes(PREVOTE, V, others(me)) == []
    effects = node.start()
    assert casts(effects) == [CastVote(PREVOTE, H, 0, V), CastVote(PRECOMMIT, H, 0, V)]


def test_step_never_mutates_the_given_state() -> None:
    node = Node(not_proposer(range(1)))
    node.start()
    node.feed(VoteReceived(fake_vote(PREVOTE, "v1", V)))
    old: ConsensusState = node.state
    node.feed(VoteReceived(fake_vote(PREVOTE, "v2", V)))
    old_prevotes = old.vote_set(0, PREVOTE)
    assert old_prevotes is not None and old_prevotes.power_for(V) == 1
    assert old.votes is not node.state.votes


def test_shell_errors_are_loud() -> None:
    node = Node("v0")
    with pytest.raises(ValueError, match="StartHeight"):
        node.feed(StartHeight(H + 1))
    node.start()
    with pytest.raises(ValueError, match="timeout kind"):
        node.timeout("nap", 0)
    with pytest.raises(TypeError):
        node.feed("vote")  # type: ignore[arg-type]


# --- interleavings ---------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False))
def test_any_interleaving_of_a_happy_height_decides_one_value(rnd: random.Random) -> None:
    """Shuffled delivery with duplicates (StartHeight included): every node decides, once, the
    same block, with no timeout needed."""
    net = Net()
    net.start_events()
    duplicates_left = rnd.randrange(40)
    while net.pool:
        index = rnd.randrange(len(net.pool))
        recipient, event = net.pool[index]
        if duplicates_left and rnd.random() < 0.3:
            duplicates_left -= 1
        else:
            net.pool.pop(index)
        net.feed(recipient, event)
    assert set(net.decisions) == set(net.alive)
    assert len(net.decided_values()) == 1
    assert net.evidence == []
    assert not any(isinstance(e, TimeoutFired) for _, e in net.pool)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from([4, 7]))
def test_no_two_decisions_under_drops_duplicates_and_early_timeouts(
    rnd: random.Random, n: int
) -> None:
    """Agreement whatever the network and the timers do (honest nodes, no liveness claim):
    messages are dropped, duplicated and reordered; timeouts fire early and out of order."""
    net = Net(n=n)
    net.start_events()
    for _ in range(60 * n):
        pending = [(name, t) for name in net.alive for t in net.timeouts[name]]
        if not net.pool and not pending:
            break
        if pending and (not net.pool or rnd.random() < 0.15):
            name, t = pending[rnd.randrange(len(pending))]
            net.timeouts[name].remove(t)
            net.feed(name, TimeoutFired(t.kind, t.height, t.round))
            continue
        index = rnd.randrange(len(net.pool))
        recipient, event = net.pool[index]
        roll = rnd.random()
        if roll < 0.8:
            net.pool.pop(index)
        if roll < 0.2 and not isinstance(event, StartHeight):
            continue  # dropped
        net.feed(recipient, event)
    assert len(net.decided_values()) <= 1
