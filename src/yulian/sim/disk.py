"""Introduction: the simulated disk — a ``DurableFile`` that forgets what was not synced.

``SimDisk`` keeps two images of one file: what the process sees (every write so far) and what
survives a power loss (the image as of the last ``sync`` or ``replace``), plus the list of writes
since then. ``crash(rng)`` turns the file into what a crash leaves: a seeded prefix of those
unsynced writes survives, and the first write that does not fully survive may be *torn* (a prefix
of its bytes). ``replace`` is atomic and durable, as the protocol in ``consensus/durable.py``
promises; nothing synced is ever lost.

``CrashPoints`` counts a node's durable operations (disk writes and syncs, ledger commits) and
can be armed to raise ``SimCrash`` at the k-th one, before or after it takes effect. The
exception unwinds the replica in the middle of handling an input, so nothing it would have sent
leaves the node: the crash happens *between* two effects of one step, which is where recovery
bugs live (Jepsen's Tendermint analysis).

Invariant: after ``crash``, ``read()`` returns ``durable + a prefix of the unsynced writes
(applied in order)``, where the last applied append may be cut short.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


class SimCrash(BaseException):
    """Raised by an armed crash point; a ``BaseException`` so no ``except Exception`` eats it."""

    def __init__(self, node: str, operation: str, index: int) -> None:
        super().__init__(f"{node} crashed at durable operation #{index} ({operation})")
        self.node = node
        self.operation = operation
        self.index = index


@dataclass
class CrashPoints:
    """The durable operations of one node, numbered; optionally one armed crash."""

    node: str
    count: int = 0
    armed_at: int | None = None  # crash when the operation with this number happens
    after: bool = False  # crash after the operation took effect (else before)

    def arm(self, operations_from_now: int, *, after: bool) -> None:
        assert operations_from_now >= 1, operations_from_now
        self.armed_at = self.count + operations_from_now
        self.after = after

    def disarm(self) -> None:
        self.armed_at = None

    def before(self, operation: str) -> None:
        self.count += 1
        if self.armed_at == self.count and not self.after:
            self.armed_at = None
            raise SimCrash(self.node, operation, self.count)

    def done(self, operation: str) -> None:
        if self.armed_at == self.count and self.after:
            self.armed_at = None
            raise SimCrash(self.node, operation + " (after)", self.count)


class SimDisk:
    """One durable file of a simulated node (its safety data, or its consensus WAL)."""

    def __init__(self, name: str, points: CrashPoints | None = None) -> None:
        self.name = name
        self.points = points
        self._data = bytearray()
        # The durable image is ``_data[:_durable_len]`` (a sync costs no copy, however large
        # the file), or ``_durable_copy`` once an unsynced truncate cut into that prefix.
        self._durable_len = 0
        self._durable_copy: bytes | None = None
        self._unsynced: list[tuple[str, bytes | int]] = []  # ("append", data) | ("truncate", n)
        self.syncs = 0
        self.torn_writes = 0
        self.lost_writes = 0

    # --- DurableFile ------------------------------------------------------------------------
    def read(self) -> bytes:
        return bytes(self._data)

    def append(self, data: bytes) -> None:
        self._before("append")
        self._data += data
        self._unsynced.append(("append", bytes(data)))
        self._done("append")

    def replace(self, data: bytes) -> None:
        self._before("replace")
        self._set(bytes(data))
        self._done("replace")

    def truncate(self, size: int) -> None:
        assert size >= 0, f"truncate to {size} bytes"
        self._before("truncate")
        if size < self._durable_len and self._durable_copy is None:
            self._durable_copy = bytes(self._data[: self._durable_len])
        del self._data[size:]
        self._unsynced.append(("truncate", size))
        self._done("truncate")

    def sync(self) -> None:
        self._before("sync")
        self._durable_len = len(self._data)
        self._durable_copy = None
        self._unsynced = []
        self.syncs += 1
        self._done("sync")

    def _durable(self) -> bytes:
        if self._durable_copy is not None:
            return self._durable_copy
        return bytes(self._data[: self._durable_len])

    # --- faults -----------------------------------------------------------------------------
    def crash(self, rng: random.Random, *, keep_unsynced: float = 0.5, tear: float = 0.5) -> None:
        """Power loss: keep the durable image plus a seeded prefix of the unsynced writes.

        Each unsynced write survives with probability ``keep_unsynced`` given that the ones
        before it did; the first lost append is torn (a strict, non-empty prefix of it
        survives) with probability ``tear``. The number of draws depends only on the file."""
        image = bytearray(self._durable())
        kept = 0
        for op, arg in self._unsynced:
            if rng.random() >= keep_unsynced:
                break
            kept += 1
            _apply(image, op, arg)
        lost = self._unsynced[kept:]
        if lost and lost[0][0] == "append" and rng.random() < tear:
            data = lost[0][1]
            assert isinstance(data, bytes)
            if len(data) > 1:
                image += data[: rng.randint(1, len(data) - 1)]
                self.torn_writes += 1
        self.lost_writes += len(lost)
        self._set(bytes(image))

    def lose_unsynced(self) -> None:
        """Power loss that keeps exactly the durable image (the worst case for recovery)."""
        self.lost_writes += len(self._unsynced)
        self._set(self._durable())

    def wipe(self) -> None:
        """The file is deleted (an operator's mistake, or a Byzantine validator)."""
        self._set(b"")

    def durable_bytes(self) -> int:
        return len(self._durable())

    def unsynced_writes(self) -> int:
        return len(self._unsynced)

    def _set(self, image: bytes) -> None:
        self._data = bytearray(image)
        self._durable_len = len(image)
        self._durable_copy = None
        self._unsynced = []

    def _before(self, operation: str) -> None:
        if self.points is not None:
            self.points.before(f"{self.name}.{operation}")

    def _done(self, operation: str) -> None:
        if self.points is not None:
            self.points.done(f"{self.name}.{operation}")


def _apply(image: bytearray, op: str, arg: bytes | int) -> None:
    if op == "append":
        assert isinstance(arg, bytes)
        image += arg
    else:
        assert isinstance(arg, int)
        del image[arg:]
