"""Which storage a node's ledger lives in, and the one factory that opens it.

Introduction
------------
``StorageConfig`` is the ``[storage]`` section of a node's configuration: the embedded LMDB
backend (the default: a directory, ``<data_dir>/ledger`` unless ``path`` says otherwise) or
PostgreSQL (a connection string and a schema). ``open_ledger`` turns it, or a bare directory
path, into a ``Ledger``. Both backends keep the same interface and invariant (``store.py``), so
nothing above this module knows which one it has.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from yulian.ledger.lmdb import DEFAULT_MAP_BYTES, LmdbLedger
from yulian.ledger.postgres import (
    DEFAULT_RECONNECT_S,
    DEFAULT_SCHEMA,
    MAX_RECONNECT_S,
    PostgresLedger,
    check_schema,
)
from yulian.ledger.store import Ledger
from yulian.ledger.validate import InvalidInput

__all__ = ["BACKENDS", "InvalidStorageConfig", "StorageConfig", "open_ledger"]

BACKENDS = ("lmdb", "postgres")
#: The LMDB directory's name inside a node's data directory.
LMDB_DIR_NAME = "ledger"


class InvalidStorageConfig(InvalidInput):
    """A ``[storage]`` section that names no usable backend; says which field is wrong."""


@dataclass(frozen=True)
class StorageConfig:
    backend: str = "lmdb"
    path: Path | None = None  # LMDB: the ledger directory (None: <data_dir>/ledger)
    dsn: str | None = None  # PostgreSQL: a libpq connection string or URI
    schema: str = DEFAULT_SCHEMA  # PostgreSQL: the schema holding this node's ledger
    #: PostgreSQL: how long the writer keeps reconnecting after the server went away (restart,
    #: failover) before a commit fails; 0 fails at once.
    reconnect_s: float = DEFAULT_RECONNECT_S

    def check(self) -> StorageConfig:
        """Return self if consistent; raise ``InvalidStorageConfig`` naming the field."""
        if self.backend not in BACKENDS:
            raise InvalidStorageConfig(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend == "postgres":
            if not isinstance(self.dsn, str) or not self.dsn:
                raise InvalidStorageConfig("backend 'postgres' needs a dsn (connection string)")
            try:
                check_schema(self.schema)
            except InvalidInput as exc:
                raise InvalidStorageConfig(str(exc)) from None
            if self.path is not None:
                raise InvalidStorageConfig("path is for backend 'lmdb'; postgres uses dsn")
            if (
                type(self.reconnect_s) not in (int, float)
                or not 0 <= self.reconnect_s <= MAX_RECONNECT_S
            ):
                raise InvalidStorageConfig(
                    f"reconnect_s must be a number of seconds in 0..{MAX_RECONNECT_S:g}, "
                    f"got {self.reconnect_s!r}"
                )
        elif self.dsn is not None:
            raise InvalidStorageConfig("dsn is for backend 'postgres'; lmdb uses path")
        elif self.reconnect_s != DEFAULT_RECONNECT_S:
            raise InvalidStorageConfig("reconnect_s is for backend 'postgres'")
        return self

    def lmdb_path(self, data_dir: str | os.PathLike[str] | None) -> Path:
        if self.path is not None:
            return self.path
        if data_dir is None:
            raise InvalidStorageConfig("an LMDB ledger needs a path or the node's data_dir")
        return Path(data_dir) / LMDB_DIR_NAME


def open_ledger(
    where: str | os.PathLike[str] | StorageConfig,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    map_size: int = DEFAULT_MAP_BYTES,
    sync: bool = True,
    readonly: bool = False,
) -> Ledger:
    """Open (creating if missing, unless ``readonly``) the ledger ``where`` names: an LMDB
    directory path, or a ``StorageConfig`` (an LMDB one without a path lives in
    ``data_dir/ledger``).

    ``sync=True`` makes every commit durable before it returns (LMDB: fsync; PostgreSQL:
    ``synchronous_commit``). ``sync=False`` keeps atomicity and survives a killed process, but
    an OS or server crash may lose the last commits: only for tests and tools. ``map_size``
    (LMDB) is address space, not disk (it doubles on demand). ``readonly`` opens an existing
    ledger for reading, e.g. beside a running node.
    """
    if not isinstance(where, StorageConfig):
        return LmdbLedger(Path(where), map_size=map_size, sync=sync, readonly=readonly)
    config = where.check()
    if config.backend == "postgres":
        assert config.dsn is not None
        return PostgresLedger(
            config.dsn,
            schema=config.schema,
            sync=sync,
            readonly=readonly,
            reconnect_s=float(config.reconnect_s),
        )
    return LmdbLedger(config.lmdb_path(data_dir), map_size=map_size, sync=sync, readonly=readonly)
