"""Introduction: what the API answers when something asked for is not in this node's ledger any
more — it was archived and pruned, or the node started from a snapshot above it.

The answer is a problem document (HTTP 410 Gone) with a stable code, and members that say
where the data is: ``archived`` names the archive file and its heights (``archive``, ``first``,
``last``) from the ledger's archive index; ``not_held`` names this node's ``floor`` (a node
that holds the whole chain, or an archive, has it). Both carry ``height`` and ``floor``.
"""

from __future__ import annotations

from yulian.api.port import NotHeld
from yulian.api.problems import Problem

__all__ = ["not_held_problem"]


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
