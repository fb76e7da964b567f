"""Where a test's ledger lives, for both backends: ``LedgerTarget.open()`` opens (and reopens)
the same ledger, in an LMDB directory or in a PostgreSQL schema of the test server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests.pgserver import PgServer
from yulian.ledger import Ledger, PostgresLedger, StorageConfig, open_ledger

BACKENDS = ("lmdb", "postgres")


@dataclass(frozen=True)
class LedgerTarget:
    backend: str
    path: Path  # the LMDB directory (unused by PostgreSQL)
    dsn: str = ""
    schema: str = ""

    def config(self) -> StorageConfig:
        if self.backend == "lmdb":
            return StorageConfig(backend="lmdb", path=self.path)
        return StorageConfig(backend="postgres", dsn=self.dsn, schema=self.schema)

    def open(
        self,
        *,
        sync: bool = True,
        readonly: bool = False,
        map_size: int | None = None,
        lock_wait_s: float | None = None,
    ) -> Ledger:
        """Open the ledger; ``map_size`` applies to LMDB only, ``lock_wait_s`` (how long to
        wait for another writer) to PostgreSQL only."""
        if self.backend == "postgres" and lock_wait_s is not None:
            return PostgresLedger(
                self.dsn, schema=self.schema, sync=sync, readonly=readonly, lock_wait_s=lock_wait_s
            )
        extra = {} if map_size is None or self.backend != "lmdb" else {"map_size": map_size}
        return open_ledger(self.config(), sync=sync, readonly=readonly, **extra)

    def to_json(self) -> str:
        """For a subprocess (the crash writer): ``from_json`` gives the same target back."""
        return json.dumps([self.backend, str(self.path), self.dsn, self.schema])

    @classmethod
    def from_json(cls, text: str) -> LedgerTarget:
        backend, path, dsn, schema = json.loads(text)
        return cls(backend, Path(path), dsn, schema)


def make_target(backend: str, tmp_path: Path, server: PgServer | None) -> LedgerTarget:
    if backend == "lmdb":
        return LedgerTarget("lmdb", tmp_path / "ledger")
    assert server is not None
    return LedgerTarget("postgres", tmp_path / "unused", server.dsn(), server.fresh_schema())
