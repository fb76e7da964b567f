"""Introduction: simulated time — one event queue for the whole cluster, and per-node clocks.

``SimClock`` is the only source of time in a simulation: an integer millisecond counter and a
heap of pending events ordered by ``(due_ms, sequence number)``. The sequence number makes the
order of events due at the same millisecond the order in which they were scheduled, so a run is
a pure function of its seed (no ties broken by object identity or hash order).

``NodeClock`` is what one node reads: global time plus a fixed offset and a rate error in parts
per million (clock drift, applied to at most f nodes by the scenarios). Replicas receive their
local time and answer with local due times; ``to_global`` converts them back for the queue.

Invariants:
- time never goes back: ``pop`` returns events in non-decreasing ``due_ms`` order and
  ``now_ms`` is the due time of the last event popped;
- a local clock never goes back in global time (``|drift_ppm| <= 10 %``), and
  ``local(to_global(t)) >= t`` with ``to_global`` the earliest such global time.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

PPM = 1_000_000
MAX_DRIFT_PPM = 100_000  # 10 %: far beyond any real quartz; scenarios use much less

E = TypeVar("E")


@dataclass(frozen=True)
class NodeClock:
    """A node's view of time: ``local = g + offset_ms + (g - epoch_ms) * drift_ppm / 10**6``."""

    epoch_ms: int
    offset_ms: int = 0
    drift_ppm: int = 0

    def __post_init__(self) -> None:
        assert abs(self.drift_ppm) <= MAX_DRIFT_PPM, self.drift_ppm

    def local(self, global_ms: int) -> int:
        elapsed = global_ms - self.epoch_ms
        return global_ms + self.offset_ms + (elapsed * self.drift_ppm) // PPM

    def to_global(self, local_ms: int) -> int:
        """The earliest global time at which this clock reads at least ``local_ms``."""
        if self.drift_ppm == 0:
            return local_ms - self.offset_ms
        guess = self.epoch_ms + ((local_ms - self.offset_ms - self.epoch_ms) * PPM) // (
            PPM + self.drift_ppm
        )
        while self.local(guess) < local_ms:
            guess += 1
        while self.local(guess - 1) >= local_ms:
            guess -= 1
        assert self.local(guess) >= local_ms > self.local(guess - 1)
        return guess


class SimClock(Generic[E]):
    """Global simulated time and the event queue that drives everything."""

    def __init__(self, start_ms: int) -> None:
        self.now_ms = start_ms
        self._queue: list[tuple[int, int, E]] = []
        self._sequence = 0
        self.events_popped = 0

    def schedule(self, due_ms: int, event: E) -> None:
        """Queue ``event`` at ``due_ms`` (the past means now: time never goes back)."""
        self._sequence += 1
        heapq.heappush(self._queue, (max(due_ms, self.now_ms), self._sequence, event))

    def pop(self) -> tuple[int, E] | None:
        """The next event and its time, advancing ``now_ms``; ``None`` when the queue is empty."""
        if not self._queue:
            return None
        due_ms, _, event = heapq.heappop(self._queue)
        assert due_ms >= self.now_ms, (due_ms, self.now_ms)
        self.now_ms = due_ms
        self.events_popped += 1
        return due_ms, event

    def peek_ms(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def __len__(self) -> int:
        return len(self._queue)
