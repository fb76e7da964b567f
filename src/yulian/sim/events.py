"""Introduction: what the simulator's event heap holds, and the simulated node.

Every event is a frozen value ordered by ``(time, sequence)`` in ``SimClock``: a message
delivery, a replica's timer, a periodic tick, a client submission, a scenario's action (which a
heal may cancel) and a liveness deadline. ``SimNode`` is one node's durable parts (its safety
file, WAL and ledger survive its crashes), its clock, and the replica running on them while it
is up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yulian.crypto.suite import PrivateKey
from yulian.node.replica import Replica, Timer
from yulian.sim.clock import NodeClock
from yulian.sim.disk import CrashPoints, SimDisk
from yulian.sim.invariants import LivenessWindow
from yulian.sim.memledger import MemLedger

if TYPE_CHECKING:
    from yulian.sim.byzantine import Behaviour


@dataclass(frozen=True, slots=True)
class Deliver:
    src: str
    dst: str
    kind: str
    data: bytes
    digest: str


@dataclass(frozen=True, slots=True)
class Fire:
    node: str
    incarnation: int
    timer: Timer


@dataclass(frozen=True, slots=True)
class Tick:
    node: str
    incarnation: int


@dataclass(frozen=True, slots=True)
class ClientTx:
    pass


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    run: Callable[[], None]
    epoch: int | None = None  # only while the cluster's fault epoch still has this value


@dataclass(frozen=True, slots=True)
class Deadline:
    window: LivenessWindow


Event = Deliver | Fire | Tick | ClientTx | Action | Deadline


@dataclass
class SimNode:
    id: str  # unique in the cluster (a twin is "<name>#twin")
    name: str  # the validator name it signs as
    key: PrivateKey
    cert: bytes
    clock: NodeClock
    points: CrashPoints
    safety_disk: SimDisk
    wal_disk: SimDisk
    ledger: MemLedger
    honest: bool = True
    behaviour: Behaviour | None = None
    replica: Replica | None = None
    incarnation: int = 0
    crash_after_vote: str | None = None  # crash mode to apply right after its next vote
    down_since_ms: int | None = None
    crashes: int = 0

    @property
    def up(self) -> bool:
        return self.replica is not None


__all__ = ["Action", "ClientTx", "Deadline", "Deliver", "Event", "Fire", "SimNode", "Tick"]
