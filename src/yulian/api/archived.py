"""Introduction: what the API answers when something asked for is not in this node's ledger any
more — it was archived and pruned, or the node started from a snapshot above it.

The answer is a problem document (HTTP 410 Gone) with a stable code, and members that say
where the data is: ``archived`` names the archive file and its heights (``archive``, ``first``,
``last``) from the ledger's archive index; ``not_held`` names this node's ``floor`` (a node
that holds the whole chain, or an archive, has it). Both carry ``height`` and ``floor``.
"""

from __future__ import annotations

from yulian.api.problems import Problem
from yulian.ledger import Ledger
from yulian.ledger.archive import archived_at

__all__ = ["not_held"]


def not_held(ledger: Ledger, height: int, what: str) -> Problem:
    """The problem for ``what`` at ``height``, which the ledger no longer holds."""
    floor = ledger.floor()
    entry = archived_at(ledger, height)
    if entry is not None:
        return Problem(
            "archived",
            410,
            f"{what} at height {height} is archived in {entry.name} (heights {entry.first}.."
            f"{entry.last}); this node holds the blocks from height {floor}",
            extra={
                "height": height,
                "floor": floor,
                "archive": entry.name,
                "first": entry.first,
                "last": entry.last,
            },
        )
    return Problem(
        "not_held",
        410,
        f"{what} at height {height} is below this node's floor {floor} (it was pruned, or the "
        "node started from a snapshot): ask a node that holds it, or its archive",
        extra={"height": height, "floor": floor},
    )
