"""The PostgreSQL ledger rides through a database restart (issue 15, decision 0096).

Every test runs against its own real PostgreSQL server (restarting the shared one would drop
other tests' sessions): the server is restarted, the writer's backend is terminated between and
inside commits (at the ledger's failpoints), the answer to a COMMIT is lost on the way back (a
proxy on the socket), the server stays down longer than ``reconnect_s``, another writer takes
the lock meanwhile. Afterwards the ledger must equal an LMDB ledger fed the same blocks —
head, hashes, records, tx index, state, history: no block lost, none written twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from tests.pgproxy import PgProxy
from tests.pgserver import PgServer
from tests.unit.test_ledger_store import make_commit
from tests.unit.test_storage_config import NODE

from yulian.ledger import (
    BlockCommit,
    InvalidStorageConfig,
    Ledger,
    LedgerClosed,
    LedgerError,
    LmdbLedger,
    PostgresLedger,
    StorageConfig,
    failpoints,
    open_ledger,
)
from yulian.ledger.postgres.ledger import DOWN_READ_WAIT_S, READ_WAIT_S
from yulian.ledger.postgres.writer import lock_key
from yulian.ledger.store import MAX_SCAN_LIMIT
from yulian.ledger.validate import LedgerUnavailable
from yulian.node.config import ConfigError, load_config, save_config

KEYS = [b"k0", b"k1", b"k2"]


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with PgServer() as own:
        yield own


@pytest.fixture
def schema(server: PgServer) -> Iterator[str]:
    name = server.fresh_schema()
    yield name
    if not server.started:
        server.resume()


def block(height: int) -> BlockCommit:
    """Block ``height``: two txs, one rolling key overwritten every third block, one new key."""
    return make_commit(
        height,
        {KEYS[height % 3]: b"v%d" % height, b"h%d" % height: b"x"},
        (b"tx-%d-a" % height, b"tx-%d-b" % height),
    )


def open_pg(
    server: PgServer, schema: str, *, lock_wait_s: float = 10.0, reconnect_s: float = 60.0
) -> PostgresLedger:
    return PostgresLedger(
        server.dsn(), schema=schema, lock_wait_s=lock_wait_s, reconnect_s=reconnect_s
    )


def assert_same_as_lmdb(ledger: Ledger, tmp_path: Path, heights: range) -> None:
    """``ledger`` holds exactly blocks ``heights`` — as an LMDB ledger fed them once does."""
    reference = LmdbLedger(tmp_path / "reference")
    try:
        for h in heights:
            reference.commit_block(block(h))
        top = heights[-1]
        assert ledger.height() == reference.height() == top
        assert ledger.state_root() == reference.state_root()
        for h in range(1, top + 2):
            assert ledger.block_hash(h) == reference.block_hash(h), h
            assert ledger.block(h) == reference.block(h), h
            assert ledger.commit(h) == reference.commit(h), h
            assert ledger.receipts(h) == reference.receipts(h), h
            for tx_id in block(h).tx_ids:
                assert ledger.tx_location(tx_id) == reference.tx_location(tx_id), tx_id
        assert ledger.scan_prefix(b"", MAX_SCAN_LIMIT) == reference.scan_prefix(b"", MAX_SCAN_LIMIT)
        for key in KEYS:
            assert ledger.history(key, limit=100) == reference.history(key, limit=100), key
        ledger.check_integrity()
    finally:
        reference.close()


def writer_pid(server: PgServer, schema: str) -> int:
    """The server process of the session holding ``schema``'s writer lock."""
    unsigned = lock_key(schema) & 0xFFFF_FFFF_FFFF_FFFF
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objsubid = 1 AND classid = %s::bigint::oid AND objid = %s::bigint::oid",
            (unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchone()
    assert row is not None, "nobody holds the writer lock"
    return int(row[0])


def on_failpoint(
    monkeypatch: pytest.MonkeyPatch, name: str, hit: int, action: Callable[[], object]
) -> list[str]:
    """Run ``action`` (instead of a crash) on the ``hit``-th pass of failpoint ``name``."""
    passes: list[str] = []

    def hook(reached: str) -> None:
        passes.append(reached)
        if reached == name and passes.count(name) == hit:
            action()

    monkeypatch.setattr(failpoints, "failpoint", hook)
    return passes


# ---------------------------------------------------------------------------------------------
# A restarted server
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_commits_and_reads_go_on_after_a_server_restart(
    server: PgServer, schema: str, tmp_path: Path, mode: str
) -> None:
    """``fast`` is an operator's restart; ``immediate`` a crash (the server recovers its WAL)."""
    with open_pg(server, schema) as ledger:
        for h in range(1, 4):
            ledger.commit_block(block(h))
        assert ledger.height() == 3  # a reader is pooled now: it dies with the restart
        server.restart(mode)
        assert ledger.height() == 3  # the pool dropped the dead reader and connected anew
        for h in range(4, 7):
            ledger.commit_block(block(h))
        assert ledger.reconnects == 1
        assert_same_as_lmdb(ledger, tmp_path, range(1, 7))


def test_the_writer_takes_its_lock_again_after_a_restart(server: PgServer, schema: str) -> None:
    with open_pg(server, schema) as ledger:
        ledger.commit_block(block(1))
        server.restart()
        ledger.commit_block(block(2))
        writer_pid(server, schema)  # the new session holds the lock ...
        with pytest.raises(LedgerError, match="open for writing elsewhere"):
            open_pg(server, schema, lock_wait_s=0.2)  # ... so a second writer is refused
        ledger.commit_block(block(3))
        assert ledger.height() == 3


# ---------------------------------------------------------------------------------------------
# The writer's backend terminated between and inside commits
# ---------------------------------------------------------------------------------------------


def test_a_writer_terminated_between_commits_reconnects(
    server: PgServer, schema: str, tmp_path: Path
) -> None:
    with open_pg(server, schema) as ledger:
        ledger.commit_block(block(1))
        ledger.commit_block(block(2))
        old = writer_pid(server, schema)
        assert server.terminate(old)
        ledger.commit_block(block(3))
        assert writer_pid(server, schema) != old
        ledger.commit_block(block(4))
        assert ledger.reconnects == 1
        assert_same_as_lmdb(ledger, tmp_path, range(1, 5))


@pytest.mark.parametrize("point", failpoints.COMMIT_FAILPOINTS)
def test_a_writer_terminated_at_each_failpoint_commits_every_block_once(
    server: PgServer, schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """Terminated at the failpoint's pass in block 3, inside its transaction for
    ``after_block`` / ``after_state``: that block is rolled back and written again."""
    with open_pg(server, schema) as ledger:
        passes = on_failpoint(
            monkeypatch, point, 3, lambda: server.terminate(writer_pid(server, schema))
        )
        for h in range(1, 7):
            ledger.commit_block(block(h))
        assert passes.count(point) >= 6  # the hook ran on every block (and on the retry)
        assert ledger.reconnects == 1
        assert_same_as_lmdb(ledger, tmp_path, range(1, 7))


def test_a_commit_whose_answer_was_lost_is_found_committed_not_written_twice(
    server: PgServer, schema: str, tmp_path: Path
) -> None:
    proxy = PgProxy(server)
    try:
        with PostgresLedger(proxy.dsn(), schema=schema) as ledger:
            ledger.commit_block(block(1))
            proxy.lose_next_commit_answer()
            ledger.commit_block(block(2))  # committed on the server; its answer never came
            assert proxy.answers_lost == 1
            assert ledger.reconnects == 1
            ledger.commit_block(block(3))
            assert_same_as_lmdb(ledger, tmp_path, range(1, 4))
    finally:
        proxy.close()


def test_a_lost_answer_while_the_old_session_lives_on_ends_that_session_first(
    server: PgServer, schema: str, tmp_path: Path
) -> None:
    """The server never noticed the client left (a silent partition): the old session still
    holds the writer lock. It is this writer's own, so the writer ends it and goes on."""
    proxy = PgProxy(server)
    try:
        with PostgresLedger(proxy.dsn(), schema=schema, lock_wait_s=2.0) as ledger:
            ledger.commit_block(block(1))
            old = writer_pid(server, schema)
            proxy.lose_next_commit_answer(keep_server_side=True)
            ledger.commit_block(block(2))
            assert proxy.answers_lost == 1
            assert writer_pid(server, schema) != old
            with psycopg.connect(server.dsn(), autocommit=True) as conn:
                row = conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (old,))
                assert row.fetchone() is None, "the stale session is still there"
            assert_same_as_lmdb(ledger, tmp_path, range(1, 3))
    finally:
        proxy.close()


# ---------------------------------------------------------------------------------------------
# Down for longer than reconnect_s; another writer meanwhile
# ---------------------------------------------------------------------------------------------


def test_down_longer_than_reconnect_s_fails_clearly_and_writes_nothing(
    server: PgServer, schema: str, tmp_path: Path
) -> None:
    with open_pg(server, schema, reconnect_s=1.0) as ledger:
        ledger.commit_block(block(1))
        ledger.commit_block(block(2))
        server.halt()
        started = time.monotonic()
        with pytest.raises(LedgerUnavailable, match=r"unreachable for 1 s \(reconnect_s\)"):
            ledger.commit_block(block(3))
        assert time.monotonic() - started >= 1.0  # it kept trying for reconnect_s
        started = time.monotonic()
        with pytest.raises(LedgerUnavailable):
            ledger.height()
        assert time.monotonic() - started < READ_WAIT_S / 2  # told soon, not after READ_WAIT_S
        server.resume()
        deadline = time.monotonic() + 30
        while True:  # the readers come back on their own
            try:
                assert ledger.height() == 2
                break
            except LedgerUnavailable:
                assert time.monotonic() < deadline, "the readers never came back"
                time.sleep(DOWN_READ_WAIT_S / 4)
        assert ledger.block(3) is None and ledger.tx_location(block(3).tx_ids[0]) is None
        ledger.commit_block(block(3))  # and the writer
        assert_same_as_lmdb(ledger, tmp_path, range(1, 4))


def test_a_read_while_the_server_is_down_fails_soon_with_a_clear_error(
    server: PgServer, schema: str
) -> None:
    with open_pg(server, schema, reconnect_s=0) as ledger:
        ledger.commit_block(block(1))
        assert ledger.get(b"h1") == b"x"
        server.halt()
        started = time.monotonic()
        with pytest.raises(LedgerUnavailable, match="PostgreSQL"):
            ledger.get(b"h1")
        assert time.monotonic() - started < READ_WAIT_S / 2
        with pytest.raises(LedgerUnavailable):  # reconnect_s = 0: no retry at all
            ledger.commit_block(block(2))
        server.resume()


def test_a_writer_whose_lock_another_took_meanwhile_refuses_for_good(
    server: PgServer, schema: str, tmp_path: Path
) -> None:
    first = open_pg(server, schema, lock_wait_s=0.5)
    try:
        first.commit_block(block(1))
        server.terminate(writer_pid(server, schema))
        second = open_pg(server, schema)  # the lock is free: a new writer takes it
        try:
            for _attempt in range(2):
                with pytest.raises(LedgerClosed, match="never two writers"):
                    first.commit_block(block(2))
            second.commit_block(block(2))
            assert first.height() == 2  # it still reads
            assert_same_as_lmdb(second, tmp_path, range(1, 3))
        finally:
            second.close()
    finally:
        first.close()


# ---------------------------------------------------------------------------------------------
# The setting
# ---------------------------------------------------------------------------------------------


def test_reconnect_s_reaches_the_ledger(server: PgServer, schema: str) -> None:
    config = StorageConfig("postgres", dsn=server.dsn(), schema=schema, reconnect_s=0.5)
    ledger = open_ledger(config)
    try:
        assert isinstance(ledger, PostgresLedger)
        ledger.commit_block(block(1))
        server.halt()
        started = time.monotonic()
        with pytest.raises(LedgerUnavailable, match=r"0\.5 s"):
            ledger.commit_block(block(2))
        assert time.monotonic() - started < 30
    finally:
        if not server.started:
            server.resume()
        ledger.close()


@pytest.mark.parametrize("value", [-1, 3601, True, "60", float("nan")])
def test_a_wrong_reconnect_s_is_refused(value: object) -> None:
    config = StorageConfig("postgres", dsn="dbname=x", reconnect_s=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidStorageConfig, match="reconnect_s"):
        config.check()


def test_reconnect_s_is_read_from_the_node_config_and_written_back(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        NODE + '[storage]\nbackend = "postgres"\ndsn = "dbname=x"\nreconnect_s = 15\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.storage.reconnect_s == 15
    save_config(config, tmp_path / "copy.toml")
    assert load_config(tmp_path / "copy.toml") == config
    path.write_text(NODE + '[storage]\nbackend = "postgres"\ndsn = "x"\nreconnect_s = -2\n')
    with pytest.raises(ConfigError, match=r"\[storage\].*reconnect_s"):
        load_config(path)


def test_reconnect_s_is_postgres_only() -> None:
    with pytest.raises(InvalidStorageConfig, match="reconnect_s is for backend 'postgres'"):
        StorageConfig("lmdb", reconnect_s=5).check()
