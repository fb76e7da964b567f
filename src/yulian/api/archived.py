"""Introduction: what the API answers when something asked for is not in this node's ledger any
more — it was archived and pruned, or the node started from a snapshot above it.

The answer is a problem document (HTTP 410 Gone) with a stable code, and members that say
where the data is: ``archived`` names the archive file and its heights (``archive``, ``first``,
``last``) from the ledger's archive index; ``not_held`` names this node's ``floor`` (a node
that holds the whole chain, or an archive, has it). Both carry ``height`` and ``floor``.

Every read route answers so, never a 500 and never a silently short answer: the block and tx
routes ask ``NodePort.not_held`` before they say "unknown", and a read that reaches below the
floor inside the ledger (events, a past state) raises the ledger's ``Pruned``, which the app
turns into the same problem (``pruned_problem``). Lists that end at the floor say so
(``gone_ranges``), and the event stream closes with ``CLOSE_NOT_HELD`` (``stream.py``).
"""

from __future__ import annotations

from yulian.api.port import NodePort, NotHeld
from yulian.api.problems import Problem
from yulian.ledger import Pruned

__all__ = ["floor_of", "gone_ranges", "not_held_problem", "pruned_problem"]

#: Archive files a list names at most where it ends at the floor (the rest: ask for them).
MAX_GONE_RANGES = 32


def not_held_problem(gone: NotHeld, what: str) -> Problem:
    """The problem for ``what`` at ``gone.height``, which the node no longer holds."""
    if gone.archive is not None:
        return Problem(
            "archived",
            410,
            f"{what} at height {gone.height} is archived in {gone.archive} (heights "
            f"{gone.first}..{gone.last}); this node holds the blocks from height {gone.floor}",
            extra={
                "height": gone.height,
                "floor": gone.floor,
                "archive": gone.archive,
                "first": gone.first,
                "last": gone.last,
            },
        )
    return Problem(
        "not_held",
        410,
        f"{what} at height {gone.height} is below this node's floor {gone.floor} (it was "
        "pruned, or the node started from a snapshot): ask a node that holds it, or its archive",
        extra={"height": gone.height, "floor": gone.floor},
    )


def pruned_problem(port: NodePort, error: Pruned) -> Problem:
    """The problem for a ledger read that reached below the floor. Events live in the blocks'
    receipts, so an archived block's events are in its archive; a past state is in no archive
    file (it is recomputed by replaying the archived blocks), so it is ``not_held``."""
    height = max(1, error.height)
    if str(error).startswith("state"):
        return not_held_problem(NotHeld(height, error.floor), "the state")
    gone = port.not_held(height)
    return not_held_problem(gone or NotHeld(height, error.floor), "the events")


def floor_of(port: NodePort) -> int:
    """The lowest height from which this node holds every block (1: it holds the chain)."""
    gone = port.not_held(1)
    return gone.floor if gone is not None else 1


def gone_ranges(port: NodePort, below: int) -> list[dict[str, object]]:
    """Where the blocks under height ``below`` are, newest first: each archive file with its
    heights, and the heights that are in none (``archive`` null). Archives are written in
    height order from the lowest block not archived yet (``ledger/archive.py``), so the walk
    goes up from height 1, a file at a time, to the first height in none; at most
    ``MAX_GONE_RANGES`` files are named (the rest: ask ``/v1/blocks/{height}``)."""
    out: list[dict[str, object]] = []
    height = 1
    for _ in range(4 * MAX_GONE_RANGES):  # a block the pruning kept costs a step
        if height >= below or len(out) >= MAX_GONE_RANGES:
            break
        gone = port.not_held(height)
        if gone is None:  # a block the pruning kept below the floor: step over it
            height += 1
        elif gone.archive is None or gone.first is None or gone.last is None:
            out.append({"first": height, "last": below - 1, "archive": None})
            break
        else:
            out.append({"first": gone.first, "last": gone.last, "archive": gone.archive})
            height = gone.last + 1
    return out[::-1]
