"""What a replica relays of others' messages on a tick (``node/relay.py``).

The situation the simulator found (pinned in ``regressions.txt``): a Byzantine validator
precommits, decides, and withholds both its precommit (lost to some nodes) and the block
(from sync). Two honest nodes hold the block and two precommits; the third holds the three
precommits but never got the block. Each relays what the others lack — the proposal of its
valid round, the precommits of a round with a quorum — and all of them decide.
"""

from __future__ import annotations

from yulian.consensus.core import ConsensusState, ProposalRecord, Step
from yulian.consensus.votes import ValidatorSet
from yulian.consensus.voteset import VoteSet
from yulian.net.messages import Message
from yulian.node.relay import relays
from yulian.types.commit import PRECOMMIT, PREVOTE
from yulian.types.consensus import Proposal, Vote
from yulian.types.genesis import Validator

H = 6
X = b"\x11" * 32
NAMES = ("a", "b", "c", "d")
VS = ValidatorSet(tuple(Validator(n, "org", n.encode() * 32, 1) for n in NAMES))
PROPOSAL = Proposal(H, 0, -1, b"block", X, "d", b"sig-d")


def vote(type_: int, name: str, block_hash: bytes, round_: int = 0) -> Vote:
    return Vote(type_, H, round_, block_hash, name, b"sig-" + name.encode())


def votes(type_: int, names: str, block_hash: bytes, round_: int = 0) -> VoteSet:
    vs = VoteSet(VS, H, round_, type_)
    for name in names:
        vs.add(vote(type_, name, block_hash, round_))
    return vs


def test_a_locked_node_relays_the_proof_of_lock_and_the_proposal() -> None:
    state = ConsensusState(
        height=H,
        step=Step.PRECOMMIT,
        locked_round=0,
        locked_hash=X,
        valid_round=0,
        valid_block=b"block",
        valid_hash=X,
        proposals={0: ProposalRecord(PROPOSAL, True)},
        votes={(0, PREVOTE): votes(PREVOTE, "abd", X), (0, PRECOMMIT): votes(PRECOMMIT, "ab", X)},
    )
    own = [Message("vote", vote(PREVOTE, "a", X).encode())]
    out = relays(state, own)
    assert Message("proposal", PROPOSAL.encode()) in out
    assert {Vote.decode(m.payload).validator for m in out if m.kind == "vote"} == {"b", "d"}
    assert len(out) == len(set(out))  # nothing twice


def test_a_node_with_a_commit_quorum_relays_the_precommits() -> None:
    state = ConsensusState(
        height=H,
        round=1,
        step=Step.PREVOTE,
        votes={
            (0, PRECOMMIT): votes(PRECOMMIT, "abd", X),
            (1, PREVOTE): votes(PREVOTE, "c", b"", 1),
            (1, PRECOMMIT): votes(PRECOMMIT, "abc", b"", 1),  # a nil quorum: nothing to relay
        },
    )
    out = relays(state, [])
    assert sorted(Vote.decode(m.payload).validator for m in out) == ["a", "b", "d"]
    assert all(Vote.decode(m.payload).block_hash == X for m in out)


def test_nothing_is_relayed_before_a_quorum() -> None:
    state = ConsensusState(
        height=H,
        votes={(0, PREVOTE): votes(PREVOTE, "ab", X), (0, PRECOMMIT): votes(PRECOMMIT, "ab", X)},
        proposals={0: ProposalRecord(PROPOSAL, True)},
    )
    assert relays(state, []) == []
