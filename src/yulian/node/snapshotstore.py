"""Introduction: the snapshots a node keeps on disk, writes, serves and receives.

Layout under ``<data_dir>/snapshots``:

* ``<height>/`` — a complete snapshot (``ledger/snapshot.py``: ``manifest`` written last);
* ``writing-<height>/`` — one being written (renamed to ``<height>`` when complete; a leftover
  after a crash is removed at start);
* ``incoming/`` — the chunks state sync has checked so far (``node/statesync.py``), removed once
  installed.

A node writes a snapshot every ``[snapshots] interval`` blocks in a worker thread (the ledger's
read snapshot keeps it consistent while blocks go on committing) and keeps the newest
``keep``. Serving reads files; nothing served is ever a half-written snapshot.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from yulian.crypto.suite import Suite
from yulian.ledger import Ledger, LedgerError
from yulian.ledger.snapshot import (
    MANIFEST_FILE,
    Manifest,
    SnapshotError,
    chunk_path,
)
from yulian.node.snapshots import produce_snapshot
from yulian.types.genesis import Genesis

log = logging.getLogger("yulian.snapshots")

__all__ = ["SnapshotStore"]


class SnapshotStore:
    def __init__(self, root: Path, keep: int) -> None:
        self.root = root
        self.keep = keep
        self._lock = threading.Lock()
        self._writing = False
        root.mkdir(parents=True, exist_ok=True)
        for leftover in root.glob("writing-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        self._newest: tuple[int, bytes] | None = None  # (height, manifest digest)

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    def heights(self) -> list[int]:
        found = [
            int(p.name)
            for p in self.root.iterdir()
            if p.name.isdigit() and (p / MANIFEST_FILE).is_file()
        ]
        return sorted(found)

    def offer(self, suite: Suite) -> tuple[int, bytes]:
        """``(height, manifest digest)`` of the newest snapshot, ``(0, b"")`` if none."""
        with self._lock:
            if self._newest is None:
                heights = self.heights()
                if heights:
                    data = (self.root / str(heights[-1]) / MANIFEST_FILE).read_bytes()
                    self._newest = (heights[-1], suite.hash(data))
            return self._newest or (0, b"")

    def manifest(self, height: int) -> bytes | None:
        path = self.root / str(height) / MANIFEST_FILE
        return path.read_bytes() if path.is_file() else None

    def chunk(self, height: int, kind: str, index: int) -> bytes | None:
        try:
            path = chunk_path(self.root / str(height), kind, index)
        except SnapshotError:
            return None
        return path.read_bytes() if path.is_file() else None

    def begin_writing(self) -> bool:
        """Claim the one writer slot (a snapshot is never written twice at once)."""
        with self._lock:
            if self._writing:
                return False
            self._writing = True
            return True

    def write(self, ledger: Ledger, genesis: Genesis, suite: Suite) -> Manifest | None:
        """Write a snapshot of the ledger's head (call after ``begin_writing``; runs in a
        worker thread). Returns its manifest, or None when it could not be written."""
        tmp = self.root / f"writing-{threading.get_ident()}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            manifest = produce_snapshot(ledger, genesis, suite, tmp)
            final = self.root / str(manifest.height)
            if final.exists():
                shutil.rmtree(tmp)
                return manifest
            tmp.rename(final)
            with self._lock:
                self._newest = None
            self._remove_old()
            log.info("wrote the snapshot of height %d", manifest.height)
            return manifest
        except (LedgerError, OSError) as e:  # SnapshotError is a LedgerError (a pruned block)
            log.warning("no snapshot written: %s", e)
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        finally:
            with self._lock:
                self._writing = False

    def _remove_old(self) -> None:
        for height in self.heights()[: -self.keep]:
            shutil.rmtree(self.root / str(height), ignore_errors=True)

    def store_incoming(self, kind: str, index: int, data: bytes) -> None:
        self.incoming.mkdir(parents=True, exist_ok=True)
        chunk_path(self.incoming, kind, index).write_bytes(data)

    def reset_incoming(self) -> None:
        shutil.rmtree(self.incoming, ignore_errors=True)
