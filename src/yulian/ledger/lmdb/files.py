"""The LMDB environment's files: the writer lock, the truncation check, and a hot copy.

Introduction
------------
One process writes a ledger: it holds an ``flock`` on ``writer.lock`` for its life (the kernel
releases it when the process dies, so a killed node never leaves a stale lock). A data file
shorter than LMDB's last used page was truncated and is refused before any page is touched. A
copy made inside a read transaction is one consistent snapshot of the environment, taken while
the writer goes on (LMDB's ``mdb_env_copy``): the backup of a running node.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import lmdb

from yulian.ledger.validate import CorruptLedger, LedgerError

__all__ = ["acquire_writer_lock", "check_data_file_length", "copy_environment"]


def acquire_writer_lock(lock_path: Path) -> int:
    """Hold an exclusive ``flock`` on ``lock_path``; return its descriptor."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LedgerError(f"ledger {lock_path.parent} is open for writing elsewhere") from None
    return fd


def check_data_file_length(env: lmdb.Environment, data_file: Path) -> None:
    """Refuse a data file shorter than LMDB's last used page: it was truncated."""
    page_bytes = env.stat()["psize"]
    needed = (env.info()["last_pgno"] + 1) * page_bytes
    actual = data_file.stat().st_size
    if actual < needed:
        raise CorruptLedger(f"{data_file} is {actual} bytes, its pages need {needed}: truncated")


def copy_environment(env: lmdb.Environment, directory: Path, txn: Any) -> None:
    """Copy the environment as ``txn`` sees it into ``directory`` (created; must be empty),
    compacted, and flush it to disk."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise LedgerError(f"backup directory {directory} is not empty")
    try:
        env.copy(str(directory), compact=True, txn=txn)
    except lmdb.Error as exc:
        raise LedgerError(f"cannot copy the ledger to {directory}: {exc}") from exc
    with (directory / "data.mdb").open("rb") as f:
        os.fsync(f.fileno())
