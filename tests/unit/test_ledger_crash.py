"""Crash consistency of the ledger (RELIABILITY.md C1 for the storage layer), on each backend.

A writer subprocess commits deterministic blocks (``ledger_crash_writer.make_block``) with
``sync=True`` and is killed — by SIGKILL at random moments, or by a failpoint at a named step of
the commit path. The reopened ledger must be at a block boundary h: every block 1..h present with
its commit, receipts, tx index and events, state equal to the replay of the writes of 1..h
computed here from the seed, and nothing of block h+1 visible. Both backends: LMDB, and
PostgreSQL (a real server; the writer is the client that dies, the server rolls back).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from tests.ledger_backends import BACKENDS, LedgerTarget, make_target

from yulian.ledger import BlockCommit, EventCursor, Ledger
from yulian.ledger import failpoints as fp

WRITER_PATH = Path(__file__).with_name("ledger_crash_writer.py")
SEED = 20240917
KILLS = 15
MAX_KILL_DELAY_S = 0.3
EXIT_TIMEOUT_S = 30.0
#: Small initial map so that the writer also grows the map (set_mapsize) while being killed.
WRITER_MAP_BYTES = 256 * 1024
#: How long the read-only process watches the writer.
READER_WATCH_S = 1.5
#: Far more blocks than a writer commits before it is killed.
UNREACHED_HEIGHT = 1_000_000


def load_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ledger_crash_writer", WRITER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


writer = load_writer()


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerTarget:
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    return make_target(request.param, tmp_path, server)


def start_writer(
    target: LedgerTarget, max_height: int, failpoint_specs: str | None = None
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != fp.ENV_VAR}
    if failpoint_specs is not None:
        env[fp.ENV_VAR] = failpoint_specs
    args = (WRITER_PATH, target.to_json(), SEED, max_height, WRITER_MAP_BYTES)
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_ready(proc: subprocess.Popen[str]) -> int:
    """Block until the writer has opened the ledger; return the height it found."""
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()  # EOF ("") if the writer died while starting
    assert line.startswith("ready "), f"writer failed to start: {proc.stderr.read()}"
    return int(line.split()[1])


def finish(proc: subprocess.Popen[str], expected_status: int) -> None:
    """Wait for the writer to end; assert its exit status (-9: killed by SIGKILL)."""
    try:
        _, stderr = proc.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == expected_status, f"writer exit {proc.returncode}: {stderr}"


@pytest.fixture
def blocks() -> dict[int, BlockCommit]:
    """Expected blocks by height, generated here from the seed (memoised across reopens)."""
    return {}


def expected_block(cache: dict[int, BlockCommit], height: int) -> BlockCommit:
    if height not in cache:
        cache[height] = writer.make_block(SEED, height)
    return cache[height]


def check_ledger_matches_seed(ledger: Ledger, cache: dict[int, BlockCommit]) -> int:
    """Assert the ledger holds exactly blocks 1..h of the seed; return h."""
    h = ledger.height()
    state: dict[bytes, bytes] = {}
    versions: dict[bytes, list[tuple[int, bytes | None]]] = {}
    for height in range(1, h + 1):
        c = expected_block(cache, height)
        assert ledger.block(height) == c.block, f"block {height}"
        assert ledger.commit(height) == c.commit
        assert ledger.block_hash(height) == c.block_hash
        assert ledger.block_height(c.block_hash) == height
        assert ledger.state_root(height) == c.state_root
        assert ledger.receipts(height) == list(c.receipts)
        assert ledger.tx_ids(height) == list(c.tx_ids)
        page = ledger.events(EventCursor.before(height), limit=1000)
        assert [
            (e.cursor.tx_index, e.cursor.event_index, e.tx_id, e.contract, e.key, e.payload)
            for e in page.events
            if e.cursor.height == height
        ] == [
            (r.tx_index, r.event_index, c.tx_ids[r.tx_index], r.contract, r.key, r.payload)
            for r in c.events
        ], f"events of block {height}"
        for index, tx_id in enumerate(c.tx_ids):
            assert ledger.tx_location(tx_id) == (height, index)
        for key, value in c.writes:
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
            versions.setdefault(key, []).append((height, value))
    assert ledger.state_root() == (expected_block(cache, h).state_root if h else None)
    assert read_all_state(ledger) == state
    for key, history in versions.items():
        assert ledger.history(key, limit=1000) == history[::-1], f"history of {key!r}"
    check_nothing_of(ledger, expected_block(cache, h + 1))
    ledger.check_integrity()
    return h


def check_nothing_of(ledger: Ledger, c: BlockCommit) -> None:
    """No record of the uncommitted block ``c`` is visible."""
    assert ledger.block(c.height) is None
    assert ledger.commit(c.height) is None
    assert ledger.block_height(c.block_hash) is None
    assert ledger.receipts(c.height) is None
    assert ledger.tx_ids(c.height) is None
    assert ledger.events(EventCursor.before(c.height)).events == []
    assert not any(ledger.has_tx(tx_id) for tx_id in c.tx_ids)
    for key, _ in c.writes:
        newest = ledger.history(key, limit=1)
        assert not newest or newest[0][0] < c.height


def read_all_state(ledger: Ledger) -> dict[bytes, bytes]:
    result: dict[bytes, bytes] = {}
    start_after: bytes | None = None
    while page := ledger.scan_prefix(b"", limit=97, start_after=start_after):
        result.update(page)
        start_after = page[-1][0]
    return result


def open_and_check(target: LedgerTarget, cache: dict[int, BlockCommit]) -> int:
    ledger = target.open()
    try:
        return check_ledger_matches_seed(ledger, cache)
    finally:
        ledger.close()


def test_sigkill_at_random_moments_leaves_a_block_boundary(
    target: LedgerTarget, blocks: dict[int, BlockCommit]
) -> None:
    rng = random.Random(SEED)
    heights = [0]
    for _ in range(KILLS):
        proc = start_writer(target, UNREACHED_HEIGHT)
        assert wait_ready(proc) == heights[-1], "the writer must resume from the checked head"
        time.sleep(rng.uniform(0, MAX_KILL_DELAY_S))
        proc.send_signal(signal.SIGKILL)
        finish(proc, -signal.SIGKILL)
        heights.append(open_and_check(target, blocks))
        assert heights[-1] >= heights[-2], f"height went back: {heights}"
    advanced = sum(1 for a, b in itertools.pairwise(heights) if b > a)
    assert advanced >= KILLS // 2, f"writer made too little progress to test anything: {heights}"


def test_read_only_process_beside_a_writer_sees_block_boundaries(
    target: LedgerTarget, blocks: dict[int, BlockCommit]
) -> None:
    """A second process (e.g. ``yulian query``) reads while the writer commits and (LMDB) grows
    the map (MapResizedError is adopted); every head it sees is complete; then the writer is
    killed."""
    proc = start_writer(target, UNREACHED_HEIGHT)
    try:
        wait_ready(proc)
        reader = target.open(readonly=True, map_size=64 * 1024)  # small: must adopt
        seen: list[int] = []
        deadline = time.monotonic() + READER_WATCH_S
        try:
            while time.monotonic() < deadline:
                h = reader.height()
                seen.append(h)
                if h:
                    c = expected_block(blocks, h)
                    assert reader.block(h) == c.block
                    assert reader.receipts(h) == list(c.receipts)
                    key, value = c.writes[-1]
                    assert reader.get_at(key, h) == value
        finally:
            reader.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        finish(proc, -signal.SIGKILL)
    assert seen == sorted(seen), "heights seen by a reader went back"
    assert len(set(seen)) >= 10, f"writer made too little progress: {sorted(set(seen))[-3:]}"
    assert open_and_check(target, blocks) >= seen[-1]


@pytest.mark.parametrize(
    ("name", "durable"),
    [
        (fp.COMMIT_BEFORE_WRITE, False),
        (fp.COMMIT_AFTER_BLOCK, False),
        (fp.COMMIT_AFTER_STATE, False),
        (fp.COMMIT_AFTER_WRITE, True),
    ],
)
def test_failpoint_on_block_k_leaves_height(
    target: LedgerTarget, blocks: dict[int, BlockCommit], name: str, durable: bool
) -> None:
    k = 3
    proc = start_writer(target, UNREACHED_HEIGHT, failpoint_specs=f"{name}@{k}")
    wait_ready(proc)
    finish(proc, -signal.SIGKILL)  # the failpoint killed the writer
    assert open_and_check(target, blocks) == (k if durable else k - 1)
    # The ledger keeps working after the crash: a clean writer continues from there.
    proc = start_writer(target, k + 2)
    assert wait_ready(proc) == (k if durable else k - 1)
    finish(proc, 0)
    assert open_and_check(target, blocks) == k + 2


def test_failpoint_without_count_fires_on_first_commit(
    target: LedgerTarget, blocks: dict[int, BlockCommit]
) -> None:
    proc = start_writer(target, UNREACHED_HEIGHT, failpoint_specs=fp.COMMIT_AFTER_WRITE)
    wait_ready(proc)
    finish(proc, -signal.SIGKILL)
    assert open_and_check(target, blocks) == 1


def test_unrelated_failpoint_does_not_fire(
    target: LedgerTarget, blocks: dict[int, BlockCommit]
) -> None:
    proc = start_writer(target, 4, failpoint_specs="consensus.somewhere_else,commit.nope@1")
    wait_ready(proc)
    finish(proc, 0)
    assert open_and_check(target, blocks) == 4


def test_parse_failpoint_specs() -> None:
    assert fp.parse_specs("") == {}
    assert fp.parse_specs(" a , b@3 ,") == {"a": 1, "b": 3}
    for bad in ("a@0", "a@x", "@2", "a@-1", "a b"):
        with pytest.raises(ValueError):
            fp.parse_specs(bad)


def test_configure_replaces_enabled_set() -> None:
    before = fp.enabled()
    try:
        fp.configure(["test.never_reached@2", "other"])
        assert fp.enabled() == {"test.never_reached": 2, "other": 1}
        fp.failpoint("test.never_reached")  # first hit of a crash-on-second: must return
        fp.failpoint("not.enabled")
        fp.configure(())
        assert fp.enabled() == {}
        fp.failpoint("other")  # disabled: must return
    finally:
        fp.configure(",".join(f"{n}@{c}" for n, c in before.items()))
