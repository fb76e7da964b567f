"""The ledger's maintenance operations on both backends: the state sum, reading versions,
installing a snapshot and pruning below a floor (``ledger/maintenance.py``).

Every test runs against LMDB and PostgreSQL (a real server). The chain is small and made of
opaque bytes, as the ledger sees it; a plain model (the versions each key got) says what every
read must answer, and ``check_integrity`` must pass after every operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ledger_backends import BACKENDS, LedgerTarget, make_target

from yulian.ledger import (
    BlockCommit,
    EventCursor,
    EventRecord,
    InvalidInput,
    Ledger,
    LedgerError,
    Pruned,
)
from yulian.ledger.maintenance import SnapshotBase, Version, version_order, versions_to_drop

HEAD = 12
WINDOW = 3  # the history window of every key in these tests
KEEP = 4  # a kept height (as a block that changed the consortium config would be)
Writes = dict[bytes, bytes | None]


def writes_at(height: int) -> Writes:
    """``hot`` at every height, ``odd`` at odd heights, ``gone`` deleted at 6, ``late`` at 11."""
    writes: Writes = {b"hot": b"hot-%d" % height}
    if height % 2:
        writes[b"odd"] = b"odd-%d" % height
    if height in (2, 6):
        writes[b"gone"] = b"gone-2" if height == 2 else None
    if height == 11:
        writes[b"late"] = b"late"
    return writes


def block_at(height: int) -> BlockCommit:
    tx_ids = (b"tx-%d-a" % height, b"tx-%d-b" % height)
    events = (EventRecord(1, 0, "c", "e", b"k%d" % height, b"p"),)
    return BlockCommit(
        height=height,
        block_hash=b"hash-%d" % height,
        block=b"block-%d" % height,
        commit=b"commit-%d" % height,
        tx_ids=tx_ids,
        receipts=tuple(b"receipt-" + t for t in tx_ids),
        writes=tuple(sorted(writes_at(height).items())),
        state_root=b"root-%d" % height,
        events=events,
        state_sum=b"sum-%d" % height,
    )


def model_versions(head: int = HEAD) -> list[Version]:
    versions = [(k, h, v) for h in range(1, head + 1) for k, v in writes_at(h).items()]
    return sorted(versions, key=version_order)


def model_value(key: bytes, height: int) -> bytes | None:
    found = [v for k, h, v in model_versions() if k == key and h <= height]
    return found[-1] if found else None


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerTarget:
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    return make_target(request.param, tmp_path, server)


@pytest.fixture
def chain(target: LedgerTarget) -> Iterator[Ledger]:
    ledger = target.open()
    for height in range(1, HEAD + 1):
        ledger.commit_block(block_at(height))
    yield ledger
    ledger.close()


@pytest.fixture
def other(target: LedgerTarget, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """A second, empty ledger of the same backend."""
    server = request.getfixturevalue("pg_server") if target.backend == "postgres" else None
    ledger = make_target(target.backend, tmp_path / "other", server).open()
    yield ledger
    ledger.close()


# ---------------------------------------------------------------------------------------------
# The state sum and reading versions
# ---------------------------------------------------------------------------------------------


def test_the_head_keeps_its_state_sum(target: LedgerTarget, chain: Ledger) -> None:
    assert chain.state_sum() == b"sum-%d" % HEAD
    assert chain.floor() == 1
    chain.close()
    reopened = target.open(readonly=True)
    assert reopened.state_sum() == b"sum-%d" % HEAD
    reopened.close()


def test_an_empty_ledger_has_no_state_sum(other: Ledger) -> None:
    assert other.state_sum() is None
    assert other.floor() == 1


def test_a_state_sum_over_its_limit_is_refused(chain: Ledger) -> None:
    big = BlockCommit(**{**block_at(HEAD + 1).__dict__, "state_sum": b"x" * 4097})
    with pytest.raises(InvalidInput, match="state_sum"):
        chain.commit_block(big)
    assert chain.height() == HEAD


def test_read_versions_gives_one_snapshot_in_version_order(chain: Ledger) -> None:
    with chain.read_versions() as reader:  # type: ignore[attr-defined]
        assert (reader.height, reader.block_hash) == (HEAD, b"hash-%d" % HEAD)
        assert (reader.state_root, reader.state_sum) == (b"root-%d" % HEAD, b"sum-%d" % HEAD)
        first = next(reader.versions())
        chain.commit_block(block_at(HEAD + 1))  # a commit while reading is not seen
        assert [first, *list(reader.versions())[1:]] == model_versions()
    assert chain.height() == HEAD + 1


# ---------------------------------------------------------------------------------------------
# Installing a snapshot
# ---------------------------------------------------------------------------------------------


def snapshot_of(head: int = HEAD) -> tuple[SnapshotBase, list[Version]]:
    """The snapshot at ``head``: its block, the kept block, the replay window of the two
    blocks below it, and each key's newest ``WINDOW`` versions."""
    block = BlockCommit(**{**block_at(head).__dict__, "writes": ()})
    kept = BlockCommit(**{**block_at(KEEP).__dict__, "writes": ()})
    recent = tuple((h, block_at(h).tx_ids) for h in (head - 2, head - 1))
    by_key: dict[bytes, list[Version]] = {}
    for v in model_versions(head):
        by_key.setdefault(v[0], []).append(v)
    versions = sorted((v for vs in by_key.values() for v in vs[-WINDOW:]), key=version_order)
    return SnapshotBase(block, (kept,), recent), versions


def test_install_then_continue(other: Ledger) -> None:
    base, versions = snapshot_of()
    other.install_snapshot(base, versions)  # type: ignore[attr-defined]
    assert (other.height(), other.floor()) == (HEAD, HEAD)
    assert other.state_sum() == b"sum-%d" % HEAD
    assert other.block(HEAD) == b"block-%d" % HEAD and other.block(KEEP) == b"block-%d" % KEEP
    assert other.block(HEAD - 1) is None and other.receipts(HEAD - 1) is None
    assert other.tx_location(b"tx-%d-b" % (HEAD - 1)) == (HEAD - 1, 1), "the window's txs"
    assert other.has_tx(b"tx-%d-a" % KEEP) and not other.has_tx(b"tx-1-a")
    assert other.receipt(KEEP, 0) == b"receipt-tx-%d-a" % KEEP
    assert other.get(b"hot") == b"hot-%d" % HEAD and other.get(b"gone") is None
    assert other.get_at(b"odd", HEAD) == b"odd-11"
    assert [h for h, _ in other.history(b"hot")] == [HEAD, HEAD - 1, HEAD - 2]
    with pytest.raises(Pruned):
        other.get_at(b"hot", HEAD - 1)
    with pytest.raises(Pruned):
        other.events()
    assert [e.cursor for e in other.events(EventCursor(HEAD, 0, 0)).events] == [(HEAD, 1, 0)]
    other.check_integrity()
    other.commit_block(block_at(HEAD + 1))
    assert other.get(b"hot") == b"hot-%d" % (HEAD + 1)
    other.check_integrity()


def test_install_is_refused_unless_the_ledger_is_empty(chain: Ledger) -> None:
    base, versions = snapshot_of()
    with pytest.raises(LedgerError, match="empty ledger"):
        chain.install_snapshot(base, versions)  # type: ignore[attr-defined]
    assert chain.height() == HEAD and chain.floor() == 1


@pytest.mark.parametrize(
    "damage",
    ["unordered", "repeated", "above", "one-shot", "kept-above", "window-overlaps-kept"],
)
def test_a_malformed_snapshot_writes_nothing(other: Ledger, damage: str) -> None:
    base, versions = snapshot_of()
    kept = base.kept[0]
    arguments: tuple[SnapshotBase, object] = (base, versions)
    if damage == "unordered":
        arguments = (base, [versions[1], versions[0], *versions[2:]])
    elif damage == "repeated":
        arguments = (base, [versions[0], *versions])
    elif damage == "above":
        arguments = (base, [*versions, (b"zzzz", HEAD + 1, b"x")])
    elif damage == "one-shot":
        arguments = (base, iter(versions))
    elif damage == "kept-above":
        late = BlockCommit(**{**kept.__dict__, "height": HEAD + 3})
        arguments = (SnapshotBase(base.block, (late,), base.recent_txs), versions)
    else:
        overlap = ((KEEP, kept.tx_ids),)
        arguments = (SnapshotBase(base.block, base.kept, overlap), versions)
    with pytest.raises(InvalidInput):
        other.install_snapshot(*arguments)  # type: ignore[attr-defined]
    assert other.height() == 0 and other.block(KEEP) is None and other.get(b"hot") is None
    other.check_integrity()


# ---------------------------------------------------------------------------------------------
# Pruning
# ---------------------------------------------------------------------------------------------


def test_versions_to_drop_keeps_the_window_the_base_and_kept_heights() -> None:
    heights = [1, 2, 3, 4, 5, 6, 7, 8]
    # window 2 keeps 7, 8; below 6 keeps 6..8 and the base 5; KEEP keeps 2
    assert versions_to_drop(heights, 6, {2}, 2) == [1, 3, 4]
    assert versions_to_drop(heights, 6, set(), 10) == []
    assert versions_to_drop(heights, 1, set(), 1) == []
    assert versions_to_drop([3], 9, set(), 1) == []
    with pytest.raises(InvalidInput):
        versions_to_drop(heights, 6, set(), 0)


def test_prune_keeps_what_reads_from_the_floor_need(target: LedgerTarget, chain: Ledger) -> None:
    below = 8
    report = chain.prune(below, {KEEP}, lambda key: WINDOW)  # type: ignore[attr-defined]
    assert report.floor == below and report.blocks_dropped == below - 2
    assert chain.floor() == below
    for height in range(1, HEAD + 1):
        held = height >= below or height == KEEP
        assert (chain.block(height) is not None) == held, height
        assert (chain.receipts(height) is not None) == held, height
        assert chain.tx_location(b"tx-%d-a" % height) == (height, 0), "the tx index stays"
    for key in (b"hot", b"odd", b"gone", b"late"):
        for height in range(below, HEAD + 1):
            assert chain.get_at(key, height) == model_value(key, height), (key, height)
        with pytest.raises(Pruned):
            chain.get_at(key, below - 1)
    assert [h for h, _ in chain.history(b"hot")] == [12, 11, 10, 9, 8, 7, KEEP]
    assert [h for h, _ in chain.history(b"gone")] == [6, 2], "inside its window"
    with pytest.raises(Pruned):
        chain.events(EventCursor(below - 1, 0, 0))
    page = chain.events(EventCursor.before(below + 1))
    assert [e.cursor.height for e in page.events] == list(range(below + 1, HEAD + 1))
    from_floor = chain.events(EventCursor.before(below))  # the resume point a 410 names
    assert [e.cursor.height for e in from_floor.events] == list(range(below, HEAD + 1))
    chain.check_integrity()
    again = chain.prune(below, {KEEP}, lambda key: WINDOW)  # type: ignore[attr-defined]
    assert (again.blocks_dropped, again.versions_dropped) == (0, 0), "idempotent"
    chain.commit_block(block_at(HEAD + 1))
    chain.check_integrity()
    chain.close()
    reopened = target.open()
    assert reopened.floor() == below and reopened.height() == HEAD + 1
    reopened.check_integrity()
    reopened.close()


def test_prune_refuses_a_floor_outside_floor_to_head(chain: Ledger) -> None:
    for below in (0, HEAD + 1):
        with pytest.raises(InvalidInput):
            chain.prune(below, (), lambda key: WINDOW)  # type: ignore[attr-defined]
    chain.prune(5, (), lambda key: WINDOW)  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="floor 5"):
        chain.prune(4, (), lambda key: WINDOW)  # type: ignore[attr-defined]
    assert chain.floor() == 5
