"""``oldest_in_window`` on every backend: the state root's reads of one block in one read.

``execution/roots.state_sum_after`` asks, for each key a block writes, for the version that
falls out of the key's full history window. The ledgers answer the whole block at once (one
LMDB read transaction, one SQL statement); the answer must be exactly what ``history`` gives
key by key — ``history(key, window)[window - 1]`` when the window is full, else None — for
keys with no versions, fewer, exactly ``window`` and more, deletes among them, keys that share
prefixes, and the first and last keys of the table. Bad arguments are refused by name.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.ledger_backends import BACKENDS, LedgerTarget, make_target

from yulian.contracts.host import MAX_HISTORY
from yulian.crypto.suite import get_suite
from yulian.execution.roots import EMPTY_STATE_SUM, WindowView, oldest_in_window, state_sum_after
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import (
    MAX_HISTORY_LIMIT,
    BlockCommit,
    InvalidInput,
    LmdbLedger,
    PostgresLedger,
)

Ledger = LmdbLedger | PostgresLedger  # the backends, each with the batched read


def _commit(height: int, writes: dict[bytes, bytes | None]) -> BlockCommit:
    return BlockCommit(
        height=height,
        block_hash=b"hash-%d" % height,
        block=b"block-%d" % height,
        commit=b"commit-%d" % height,
        tx_ids=(),
        receipts=(),
        writes=tuple(sorted(writes.items())),
        state_root=b"root-%d" % height,
    )


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    target: LedgerTarget = make_target(request.param, tmp_path, server)
    store = target.open(sync=False)
    assert isinstance(store, LmdbLedger | PostgresLedger)
    yield store
    store.close()


def _by_history(ledger: Ledger, windows: list[tuple[bytes, int]]) -> list[object]:
    out: list[object] = []
    for key, window in windows:
        versions = ledger.history(key, window)
        out.append(versions[-1] if len(versions) == window else None)
    return out


def test_the_oldest_version_of_a_full_window_and_none_otherwise(ledger: Ledger) -> None:
    # "a": 5 versions with a delete at 3; "b": 2; "k", "k\x00", "kk" share prefixes;
    # "\x00" and "\xff" are the table's first and last keys
    ledger.commit_block(_commit(1, {b"a": b"a1", b"k": b"k1", b"\x00": b"z1", b"\xff": b"f1"}))
    ledger.commit_block(_commit(2, {b"a": b"a2", b"b": b"b2", b"k\x00": b"n2"}))
    ledger.commit_block(_commit(3, {b"a": None, b"kk": b"kk3", b"\xff": None}))
    ledger.commit_block(_commit(4, {b"a": b"a4", b"b": None, b"k": b"k4"}))
    ledger.commit_block(_commit(5, {b"a": b"a5"}))
    assert isinstance(ledger, WindowView)
    windows = [
        (b"a", 1),
        (b"a", 3),
        (b"a", 5),
        (b"a", 6),
        (b"b", 2),
        (b"b", 3),
        (b"k", 2),
        (b"k", 3),
        (b"k\x00", 1),
        (b"kk", 1),
        (b"kk", 2),
        (b"\x00", 1),
        (b"\x00", 2),
        (b"\xff", 2),
        (b"never", 1),
        (b"never", MAX_HISTORY_LIMIT),
    ]
    expected = [
        (5, b"a5"),
        (3, None),
        (1, b"a1"),
        None,
        (2, b"b2"),
        None,
        (1, b"k1"),
        None,
        (2, b"n2"),
        (3, b"kk3"),
        None,
        (1, b"z1"),
        None,
        (1, b"f1"),
        None,
        None,
    ]
    assert ledger.oldest_in_window(windows) == expected
    assert _by_history(ledger, windows) == expected
    assert ledger.oldest_in_window([]) == []


def test_random_chains_answer_as_history_does(ledger: Ledger) -> None:
    rng = random.Random(15)
    keys = [b"k%d" % i for i in range(12)] + [b"k", b"k1\x00", b"\x01"]
    for height in range(1, 41):
        chosen = rng.sample(keys, rng.randint(1, 6))
        writes = {k: (None if rng.random() < 0.2 else b"v%d" % height) for k in chosen}
        ledger.commit_block(_commit(height, writes))
    windows = [(k, w) for k in keys for w in (1, 2, 3, 5, 8, 13, 64)]
    rng.shuffle(windows)
    assert ledger.oldest_in_window(windows) == _by_history(ledger, windows)
    # the helper the state root uses gives the batched answer for a ledger ...
    assert oldest_in_window(ledger, windows) == _by_history(ledger, windows)


@pytest.mark.parametrize(
    "windows",
    [
        "not a list",
        [(b"a",)],
        [[b"a", 1]],
        [(b"", 1)],
        [("a", 1)],
        [(b"x" * 501, 1)],
        [(b"a", 0)],
        [(b"a", MAX_HISTORY_LIMIT + 1)],
        [(b"a", True)],
        [(b"a", 1.0)],
    ],
)
def test_bad_windows_are_refused_by_name(ledger: Ledger, windows: object) -> None:
    with pytest.raises(InvalidInput):
        ledger.oldest_in_window(windows)  # type: ignore[arg-type]


class _HistoryOnly:
    """The ledger seen through ``history`` alone (a ``VersionView`` without the batched read)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return self._ledger.history(key, limit)


def test_the_state_sum_is_the_same_through_either_read(ledger: Ledger) -> None:
    """Windows fill and overflow (a hot key written in every block of 70, past MAX_HISTORY):
    the batched read and the per-key reads move the state sum identically, block by block."""
    suite = get_suite("standard")
    rng = random.Random(150)
    state_sum = EMPTY_STATE_SUM
    assert not isinstance(_HistoryOnly(ledger), WindowView)
    for height in range(1, MAX_HISTORY + 7):
        writes: dict[bytes, bytes | None] = {b"hot": b"h%d" % height, CONFIG_KEY: b"c%d" % height}
        writes.update({b"cold%d" % rng.randrange(8): rng.choice([None, b"x"]) for _ in range(3)})
        ordered = tuple(sorted(writes.items()))
        batched = state_sum_after(suite, state_sum, ledger, height, ordered)
        per_key = state_sum_after(suite, state_sum, _HistoryOnly(ledger), height, ordered)
        assert batched == per_key
        state_sum = batched
        ledger.commit_block(_commit(height, writes))
    assert len(ledger.history(b"hot", MAX_HISTORY + 1)) > MAX_HISTORY  # the window overflowed
