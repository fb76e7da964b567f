"""Introduction: the durable file — the only way consensus code touches a disk.

``safety.py`` and ``wal.py`` receive a ``DurableFile`` instead of a path, so the simulator can hand
them a fake disk that loses unsynced writes, tears them, or crashes between two calls, while the
node hands them an ``OsFile``.

The contract every implementation keeps:

- ``read()`` returns the whole current content (``b""`` for a missing file): what this process
  has written so far, synced or not.
- ``append`` and ``truncate`` are durable only after the next ``sync()``; a crash before it may
  lose them, or keep a prefix of an append.
- ``replace(data)`` is atomic and durable when it returns: after a crash the file holds either
  the old content or ``data``, never a mix (write temp, fsync, rename, fsync the directory).

``MemoryFile`` is a small in-memory implementation for unit tests: ``crash()`` returns what a
power loss would leave (the content as of the last ``sync``/``replace``).
"""

from __future__ import annotations

import os
from typing import Protocol


class DurableFile(Protocol):
    def read(self) -> bytes:
        """The whole content; ``b""`` if the file does not exist."""
        ...

    def append(self, data: bytes) -> None:
        """Append ``data`` at the end (durable after ``sync``)."""
        ...

    def replace(self, data: bytes) -> None:
        """Atomically and durably replace the whole content with ``data``."""
        ...

    def truncate(self, size: int) -> None:
        """Cut the content to ``size`` bytes (durable after ``sync``)."""
        ...

    def sync(self) -> None:
        """Make every earlier ``append``/``truncate`` durable (fsync)."""
        ...


class OsFile:
    """A ``DurableFile`` on the operating system's file system, at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = None
        self._dir_sync_pending = False

    def read(self) -> bytes:
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def append(self, data: bytes) -> None:
        fd = self._open()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def replace(self, data: bytes) -> None:
        self.close()
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        self._sync_dir()

    def truncate(self, size: int) -> None:
        assert size >= 0, f"truncate to {size} bytes"
        os.ftruncate(self._open(), size)

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
        if self._dir_sync_pending:
            self._sync_dir()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            existed = os.path.exists(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._dir_sync_pending = not existed
        return self._fd

    def _sync_dir(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._dir_sync_pending = False


class MemoryFile:
    """An in-memory ``DurableFile``; ``durable`` is what survives a power loss."""

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytearray(data)
        self.durable = bytes(data)

    def read(self) -> bytes:
        return bytes(self._data)

    def append(self, data: bytes) -> None:
        self._data += data

    def replace(self, data: bytes) -> None:
        self._data = bytearray(data)
        self.durable = bytes(data)

    def truncate(self, size: int) -> None:
        assert size >= 0, f"truncate to {size} bytes"
        del self._data[size:]

    def sync(self) -> None:
        self.durable = bytes(self._data)

    def crash(self) -> MemoryFile:
        """A new file holding only what was durable: the state after a power loss."""
        return MemoryFile(self.durable)
