"""The PostgreSQL backup procedure of ``docs/storage.md`` (**Backups**), run as written: a
``pg_dump --schema --format=custom`` of a live ledger, the schema lost, ``pg_restore`` — and
the restored ledger is the ledger at the dump's block boundary, passes ``check_integrity``, and
takes the blocks committed since (as a node catching up from its peers would commit them).

A real server (``pg_server``) and Debian's own ``pg_dump``/``pg_restore``; nothing mocked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.ledger_backends import make_target
from tests.pgserver import PgServer, find_bin_dir
from tests.unit.test_ledger_maintenance import HEAD, block_at, model_value

from yulian.ledger import Ledger


def tool(name: str, *args: str) -> None:
    subprocess.run([str(find_bin_dir() / name), *args], check=True, capture_output=True)


def fingerprint(ledger: Ledger, head: int) -> list[object]:
    return [
        ledger.height(),
        ledger.state_sum(),
        [ledger.block_hash(h) for h in range(1, head + 1)],
        [ledger.receipts(h) for h in range(1, head + 1)],
        ledger.get(b"hot"),
        ledger.history(b"odd", 100),
    ]


def test_dump_lose_restore_then_catch_up(pg_server: PgServer, tmp_path: Path) -> None:
    target = make_target("postgres", tmp_path, pg_server)
    dump = tmp_path / "ledger.dump"
    behind = HEAD - 4
    ledger = target.open()
    try:
        for height in range(1, behind + 1):
            ledger.commit_block(block_at(height))
        # the dump runs beside the open writer, as a hot backup does
        tool("pg_dump", "-d", pg_server.dsn(), f"--schema={target.schema}", "-Fc", "-f", str(dump))
        at_dump = fingerprint(ledger, behind)
        for height in range(behind + 1, HEAD + 1):  # committed after the backup
            ledger.commit_block(block_at(height))
    finally:
        ledger.close()

    pg_server.drop_schema(target.schema)  # the disk is lost
    tool("pg_restore", "-d", pg_server.dsn(), str(dump))

    restored = target.open()
    try:
        assert fingerprint(restored, behind) == at_dump, "the dump is one block boundary"
        restored.check_integrity()
        for height in range(behind + 1, HEAD + 1):  # catching up
            restored.commit_block(block_at(height))
        assert restored.height() == HEAD and restored.state_sum() == b"sum-%d" % HEAD
        assert restored.get(b"late") == model_value(b"late", HEAD)
        restored.check_integrity()
    finally:
        restored.close()
        pg_server.drop_schema(target.schema)
