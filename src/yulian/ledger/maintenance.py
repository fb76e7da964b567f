"""What tools do to a ledger besides committing blocks: read its versions for a snapshot,
install a snapshot into an empty ledger, and prune what lies below a floor.

Introduction
------------
These operations are not on the commit path, so they live beside the ``Ledger`` protocol
rather than in it (the simulator's in-memory ledger does not need them). LMDB and PostgreSQL
implement them with the same meaning and the same checks, which are here:

* **Versions** are the rows of the key history ``(key, height, value or None)``, in *version
  order*: by key length, then key bytes, then height. That is the LMDB history table's order and
  the order of a snapshot's stream, so a receiver can refuse a repeated or misplaced version.
* ``read_versions()`` opens one read snapshot of the ledger: the head it is at (height, hash,
  root, sum) and every held version, in version order.
* ``install_snapshot(base, versions)`` writes, into an **empty** ledger and in one atomic
  write, the snapshot's block and the blocks it keeps below it, the tx ids of its replay window,
  and the versions (the current state being each key's newest version); the head becomes the
  snapshot's height and so does the floor.
* ``prune(below, keep_heights, window)`` raises the floor to ``below`` first (one small write:
  from then on reads below it are refused, so a reader never sees half a pruning), then
  deletes, in bounded writes, the records of every block below it except ``keep_heights``
  (the tx index stays: it is small, keeps replay protection whole and says where an archived
  tx is), and every version that neither execution nor a read from the floor up can need
  (``versions_to_drop``). A crash in between leaves extra records below the floor; running
  ``prune`` again removes them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from yulian.ledger.store import BlockCommit, check_block_commit
from yulian.ledger.validate import (
    MAX_HASH_BYTES,
    MAX_KEY_BYTES,
    MAX_RECORD_BYTES,
    MAX_STATE_SUM_BYTES,
    InvalidInput,
    check_height,
    check_key,
    check_tx_ids,
)

__all__ = [
    "PRUNE_BATCH",
    "LedgerMaintenance",
    "PruneReport",
    "SnapshotBase",
    "Version",
    "VersionReader",
    "check_snapshot_base",
    "check_version",
    "version_order",
    "versions_to_drop",
]

#: A version: ``(key, height, value or None for a delete)``.
Version = tuple[bytes, int, "bytes | None"]
#: Records deleted per write transaction while pruning (bounds each write).
PRUNE_BATCH = 10_000


def version_order(version: Version) -> tuple[int, bytes, int]:
    """The sort key of version order: key length, key bytes, height."""
    key, height, _ = version
    return (len(key), key, height)


@dataclass(frozen=True)
class SnapshotBase:
    """Everything of a snapshot but its versions.

    ``block`` is the snapshot's own block (its ``state_sum`` that of the snapshot, ``writes``
    empty); ``kept`` are blocks below it the ledger keeps whole (ascending; the ones that
    changed the consortium config, so that proofs can name them); ``recent_txs`` are
    ``(height, tx ids)`` of the blocks below it whose txs may still be replayed (their ids
    must stay known; their blocks are not held).
    """

    block: BlockCommit
    kept: tuple[BlockCommit, ...] = ()
    recent_txs: tuple[tuple[int, tuple[bytes, ...]], ...] = ()

    @property
    def height(self) -> int:
        return self.block.height


@dataclass(frozen=True)
class PruneReport:
    floor: int
    blocks_dropped: int
    versions_dropped: int


class VersionReader(Protocol):
    """One read snapshot of a ledger (``LedgerMaintenance.read_versions``)."""

    height: int
    block_hash: bytes
    state_root: bytes
    state_sum: bytes

    def versions(self) -> Iterator[Version]:
        """Every held version, in version order."""
        ...


class LedgerMaintenance(Protocol):
    """The maintenance operations of the LMDB and PostgreSQL ledgers (module docstring)."""

    def read_versions(self) -> AbstractContextManager[VersionReader]: ...

    def install_snapshot(self, base: SnapshotBase, versions: Iterable[Version]) -> None: ...

    def prune(
        self, below: int, keep_heights: Collection[int], window: Callable[[bytes], int]
    ) -> PruneReport: ...


def check_snapshot_base(base: SnapshotBase) -> None:
    """Check every record of ``base`` (``InvalidInput``): the blocks as ``commit_block`` would,
    kept blocks ascending below the snapshot, the window's heights ascending below it."""
    if not isinstance(base, SnapshotBase):
        raise InvalidInput(f"expected SnapshotBase, got {type(base).__name__}")
    check_block_commit(base.block)
    if base.block.writes:
        raise InvalidInput("a snapshot's block carries no writes (its state is the versions)")
    if not 1 <= len(base.block.state_sum) <= MAX_STATE_SUM_BYTES:
        raise InvalidInput("a snapshot's block needs its state sum")
    previous = 0
    for kept in base.kept:
        check_block_commit(kept)
        if kept.writes or not previous < kept.height < base.height:
            raise InvalidInput(f"kept block {kept.height}: out of order or carries writes")
        previous = kept.height
    previous = 0
    kept_heights = {kept.height for kept in base.kept}
    for height, tx_ids in base.recent_txs:
        check_height(height, allow_zero=False)
        check_tx_ids(tx_ids)
        if not previous < height < base.height or height in kept_heights:
            raise InvalidInput(f"replay window height {height} out of order or kept")
        previous = height


def check_version(version: object, head: int) -> Version:
    """Return a well-formed version at a height in ``1..head`` (``InvalidInput`` otherwise)."""
    if type(version) is not tuple or len(version) != 3:
        raise InvalidInput("a version is a (key, height, value or None) tuple")
    key, height, value = version
    check_key(key, "version key", MAX_KEY_BYTES)
    check_height(height, allow_zero=False)
    if height > head:
        raise InvalidInput(f"version of {key.hex()[:80]} at {height}, above the snapshot {head}")
    if value is not None and (type(value) is not bytes or len(value) > MAX_RECORD_BYTES):
        raise InvalidInput(f"version value must be bytes of at most {MAX_RECORD_BYTES}")
    return key, height, value


def checked_versions(versions: Iterable[object], head: int) -> Iterator[Version]:
    """``versions`` checked one by one and required to be strictly in version order."""
    previous: tuple[int, bytes, int] | None = None
    for raw in versions:
        version = check_version(raw, head)
        order = version_order(version)
        if previous is not None and order <= previous:
            raise InvalidInput(f"versions not in version order at {version[0].hex()[:80]}")
        previous = order
        yield version


def versions_to_drop(
    heights: Sequence[int],
    below: int,
    keep_heights: Collection[int],
    window: int,
) -> list[int]:
    """Which of one key's versions (``heights``, ascending) pruning to ``below`` deletes.

    Kept: the newest ``window`` (execution reads them: they are part of the state), every one
    at or above ``below`` and the newest one below it (the value at the floor), and any at a
    ``keep_heights`` height. Everything else goes.
    """
    if window < 1:
        raise InvalidInput(f"a history window is at least 1, got {window}")
    cut = len(heights) - window  # versions before this index are outside the window
    base = max((i for i, h in enumerate(heights) if h < below), default=-1)
    if cut <= 0:
        return []
    return [
        h
        for i, h in enumerate(heights)
        if i < cut and i != base and h < below and h not in keep_heights
    ]


def check_prune(below: object, head: int, floor: int) -> int:
    """``below`` must lie in ``floor..head`` (the head block is never pruned)."""
    check_height(below, allow_zero=False)
    assert isinstance(below, int)
    if not floor <= below <= head:
        raise InvalidInput(f"prune below {below}: must lie in the floor {floor} .. head {head}")
    return below


def check_hash(value: bytes, what: str) -> bytes:
    return check_key(value, what, MAX_HASH_BYTES)
