"""Introduction: the simulated network — seeded loss, duplication, delay, reordering, partitions.

``SimNetwork`` decides the fate of every message one node sends to another: dropped (with the
current drop probability, by a blocked link, or by a scenario's filter), delivered once, or
delivered twice (duplication); each copy gets its own delay, so messages overtake each other
(reordering). Long delays, up to ``2 x`` the base timeout, model a congested or slow link.

Links are directed. A *symmetric* partition blocks both directions between groups; an
*asymmetric* fault blocks one direction only (A hears B, B does not hear A). ``heal`` lifts the
faults of a chaos period; ``static`` blocks (the sides of a Twins scenario) stay, and so do
*bans*: a node that drops a peer (``Outputs.drop``) refuses it for a while, as ``PeerManager``
does.

Every random choice comes from the ``random.Random`` handed in (seeded by the cluster), never
from global randomness, so the same seed gives the same fates. A blocked link is checked when a
message is sent and again when it arrives (a partition that starts while a message is in flight
drops it).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_DROP = 0.30  # S1: message loss of at most 30 %
MAX_COPIES = 2


@dataclass(frozen=True)
class LinkFaults:
    """The message-level faults in force (a chaos period sets them, a heal resets them)."""

    drop: float = 0.0  # probability that a message is lost
    duplicate: float = 0.0  # probability that a delivered message arrives twice
    delay_min_ms: int = 1
    delay_max_ms: int = 20  # the ordinary spread: reordering among close messages
    slow: float = 0.0  # probability of a long delay instead
    slow_max_ms: int = 0  # the longest delay (the scenarios keep it <= 2 x base timeout)

    def __post_init__(self) -> None:
        assert 0.0 <= self.drop <= MAX_DROP, self.drop
        assert 0.0 <= self.duplicate <= 1.0 and 0.0 <= self.slow <= 1.0
        assert 0 <= self.delay_min_ms <= self.delay_max_ms
        assert self.slow == 0.0 or self.slow_max_ms >= self.delay_max_ms


CALM = LinkFaults()

# A scenario's targeted filter: (source id, destination id, message kind, payload) -> drop?
Filter = Callable[[str, str, str, object], bool]


class SimNetwork:
    def __init__(self, rng: random.Random, nodes: Iterable[str]) -> None:
        self.rng = rng
        self.nodes = tuple(nodes)
        self.faults = CALM
        self._blocked: set[tuple[str, str]] = set()  # chaos: lifted by heal()
        self._static: set[tuple[str, str]] = set()  # scenario structure: kept
        self._banned: dict[tuple[str, str], int] = {}  # a dropped peer: link -> until (ms)
        self.now_ms = 0  # kept current by the cluster, for bans
        self.filters: list[Filter] = []
        self.sent = 0
        self.dropped = 0
        self.duplicated = 0

    # --- topology ---------------------------------------------------------------------------
    def partition(self, groups: Iterable[Iterable[str]]) -> None:
        """Symmetric: block every link between nodes of different groups (both directions).
        Nodes in no group keep their links."""
        sets = [frozenset(g) for g in groups]
        for i, a in enumerate(sets):
            for b in sets[i + 1 :]:
                for x in sorted(a):
                    for y in sorted(b):
                        self._blocked.add((x, y))
                        self._blocked.add((y, x))

    def block(self, src: str, dst: str, *, static: bool = False) -> None:
        """Asymmetric: ``dst`` stops hearing ``src`` (not the other way round)."""
        (self._static if static else self._blocked).add((src, dst))

    def unblock(self, src: str, dst: str) -> None:
        self._blocked.discard((src, dst))
        self._static.discard((src, dst))

    def isolate(self, node: str, *, static: bool = False) -> None:
        for other in self.nodes:
            if other != node:
                self.block(node, other, static=static)
                self.block(other, node, static=static)

    def heal(self) -> None:
        """End a chaos period: every chaos block lifted, link faults back to calm."""
        self._blocked.clear()
        self.faults = CALM

    def ban(self, a: str, b: str, until_ms: int) -> None:
        """``a`` dropped ``b`` (the node shell's ``PeerManager.drop``): no traffic either way
        until ``until_ms``. A heal does not lift it (it is the nodes' decision, not a fault)."""
        for link in ((a, b), (b, a)):
            self._banned[link] = max(self._banned.get(link, 0), until_ms)

    def can_reach(self, src: str, dst: str) -> bool:
        if (src, dst) in self._blocked or (src, dst) in self._static:
            return False
        return self._banned.get((src, dst), 0) <= self.now_ms

    def blocked_links(self) -> int:
        return len(self._blocked) + len(self._static)

    # --- fates ------------------------------------------------------------------------------
    def fate(self, src: str, dst: str, kind: str, payload: object) -> list[int]:
        """The delays (ms) of the copies of one message from ``src`` to ``dst``; empty if lost.

        The number of random draws does not depend on the link state, so a partition does not
        shift the random stream of later, unrelated messages."""
        assert src != dst, src
        self.sent += 1
        f = self.faults
        lost = self.rng.random() < f.drop
        copies = 2 if self.rng.random() < f.duplicate else 1
        delays = [self._delay() for _ in range(copies)]
        if lost or not self.can_reach(src, dst) or self._filtered(src, dst, kind, payload):
            self.dropped += 1
            return []
        if copies > 1:
            self.duplicated += 1
        return delays

    def arrives(self, src: str, dst: str) -> bool:
        """Whether a message in flight still gets through (the link may have been cut)."""
        return self.can_reach(src, dst)

    def _delay(self) -> int:
        f = self.faults
        if f.slow and self.rng.random() < f.slow:
            return self.rng.randint(f.delay_max_ms, f.slow_max_ms)
        return self.rng.randint(f.delay_min_ms, f.delay_max_ms)

    def _filtered(self, src: str, dst: str, kind: str, payload: object) -> bool:
        return any(drop(src, dst, kind, payload) for drop in self.filters)
