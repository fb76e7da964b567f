"""Introduction: what a replica relays of other validators' messages, on every tick.

The consensus core assumes that a message between correct processes eventually arrives; each
node re-sends its own proposal and votes of the height until it decides (``replica.on_tick``).
Once a node decides it moves on and stops re-sending them, so a message it sent that was lost
is lost for good — and if that node is Byzantine and withholds the block from sync too, the
others could wait for ever: some hold the block but miss a precommit, others hold the
precommits but never got the block. So every node also relays what it holds of the others
that can complete a decision elsewhere:

- the prevotes for its valid value (the proof of lock, lines 28–33 and 36 of the paper);
- the proposal of its valid round (the block others may lack);
- the precommits of a round that hold a quorum for a block (the commit others may lack).

All of it is derived from the core's state; nothing is relayed twice in one tick, and nothing
the node sent itself (``own``) is repeated.
"""

from __future__ import annotations

from collections.abc import Iterable

from yulian.consensus.core import NIL, ConsensusState
from yulian.net.messages import Message
from yulian.types.commit import PRECOMMIT, PREVOTE


def relays(state: ConsensusState, own: Iterable[Message]) -> list[Message]:
    """The messages of other validators to re-broadcast now (see the module docstring)."""
    out: dict[Message, None] = {}
    if state.valid_round >= 0 and state.valid_hash is not None:
        prevotes = state.vote_set(state.valid_round, PREVOTE)
        for vote in prevotes.votes_for(state.valid_hash) if prevotes is not None else ():
            out[Message("vote", vote.encode())] = None
        record = state.proposals.get(state.valid_round)
        if record is not None and record.proposal.block_hash == state.valid_hash:
            out[Message("proposal", record.proposal.encode())] = None
    for (_, type_), votes in sorted(state.votes.items()):
        if type_ != PRECOMMIT:
            continue
        decided = votes.two_thirds_majority()
        if decided is not None and decided != NIL:
            for vote in votes.votes_for(decided):
                out[Message("vote", vote.encode())] = None
    for message in own:
        out.pop(message, None)
    return list(out)
