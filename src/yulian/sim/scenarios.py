"""Introduction: fault schedules — random chaos, and targeted scenarios that must find bugs.

A scenario is a set of hooks the cluster calls (``setup``, ``after_commit``, ``after_output``,
``after_crash``, ``after_deadline``) and the actions it schedules. All randomness comes from
the cluster's seeded ``rng``.

``chaos`` (the campaign, S1/S3/S4): periods of random faults, each ended by a heal and an S3
liveness window. In a period: loss up to 30 %, duplication, reordering (a wide delay spread),
long delays up to 2 x the base timeout, symmetric partitions (a random split, or one node
isolated) and asymmetric ones (random one-way links), crash-restarts (power loss with a seeded
surviving prefix of unsynced writes, possibly torn; or loss of everything unsynced), crash
points inside a step (the k-th durable operation from now, before or after it takes effect),
crashes right after a vote, a node kept down for most of the period (``lag``: it catches up by
block sync after the heal), and clock drift on at most f nodes (offset and rate). The heal
restarts every crashed node and calms the network; within 10 base timeouts every honest node
must commit a new block. Periods repeat until every honest node reached the target height;
every run ends with a heal and a satisfied liveness window.

``governance``: ``chaos`` on N genesis validators plus ``spares`` member nodes that start as
followers, while the organisations' admins carry out a seeded plan of validator-set changes
(add the spares, maybe change a power, maybe rotate a genesis validator out and back in,
remove the spares) as real ``consortium`` txs (``governance.py``). The run ends once the plan
is applied and in force everywhere and the target height is reached.

Targeted scenarios (each a few seconds of simulated time, N = 4, height 1):

- ``lock`` — the lock trap. Z = proposer(1, 1) never gets the round-0 proposal; the other
  three prevote it and lock; only the *decider* receives their precommits (its own precommit
  reaches nobody), decides X, and is isolated before anyone can sync X from it. Z times out
  into a nil prevote and precommit, which moves everyone to round 1 together. In round 1, Z
  proposes a fresh Y: the two locked nodes must prevote nil. With the planted
  ``skip_lock_check`` they prevote Y, and Z and they decide Y: a fork.
- ``lockloss`` — ``lock`` where the two locked nodes crash right after their precommit, losing
  what their WAL had not synced. A replica that does not sync its WAL before signing comes back
  without its lock and decides Y: a fork with crashes alone (the replica had this bug until the
  simulator found it; it now syncs first, as CometBFT's ``signVote`` does, and the lock
  survives the crash).
- ``amnesia`` — for ``no_persist_last_vote``. One Byzantine validator D = proposer(1, 0) runs as
  twins: D on side 1 {A, C, D}, its twin on side 2 {B, D'}. Side 1 prevotes and precommits D's
  X; A decides; C's incoming precommits are dropped so it does not. Right after C precommits it
  crashes and comes back with its WAL lost (the safety file as the crash left it), now on
  side 2, where B and D' prevoted D''s Y in round 0 and wait. The safety file is then all that
  stops C from prevoting Y in round 0: with it, side 2 stays below quorum until the heal, when
  everyone syncs X; without it (the planted bug), B, C and D' decide Y: a fork.
- ``split`` — the nodes split into two halves for 20 s (with many duplicated messages), then
  heal: any quorum rule that lets a half decide (``quorum_2f``) forks it.
- ``fork`` — the control (S4): f + 1 Byzantine validators as twins, the honest nodes split in two
  halves, each half with one twin of every Byzantine validator: each side holds a quorum of keys
  and decides its own block. The checker must report the fork.
- ``catchup`` — an honest node goes down at once and comes back 8 to 16 heights later (with
  ``--workload large``, full blocks): it must catch up by block sync, with the Byzantine
  validators (``--byzantine K``) acting as lying, withholding, slow or oversized sync peers,
  and pass the head within 10 base timeouts of its return.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from yulian.consensus.proposer import proposer
from yulian.node.replica import Outputs
from yulian.sim.clock import NodeClock
from yulian.sim.governance import GovernanceDriver
from yulian.sim.invariants import LivenessWindow
from yulian.sim.network import CALM, LinkFaults
from yulian.types.commit import PRECOMMIT
from yulian.types.consensus import Proposal, Vote

if TYPE_CHECKING:
    from yulian.sim.cluster import Cluster, SimNode

MAX_DOWN_EXTRA = 1  # chaos keeps at most f + 1 nodes down at once
LAG_CHANCE = 0.4  # a chaos period keeps one node down from early on until its heal
LAG_HEIGHTS = 16  # catchup: the victim misses between half this and this many heights
DRIFT_OFFSET_MS = 2_500
DRIFT_PPM = 3_000


class Scenario:
    name = ""
    byzantine_modes: tuple[str, ...] = ()  # empty: the config's

    def choose_byzantine(self, c: Cluster) -> list[str] | None:
        """Which validators are Byzantine; ``None``: a seeded choice of ``config.byzantine``."""
        return None

    def setup(self, c: Cluster) -> None: ...

    def after_commit(self, c: Cluster, node: SimNode, height: int) -> None:
        self._finish_when_done(c)

    def after_output(self, c: Cluster, node: SimNode, out: Outputs) -> None: ...

    def after_crash(self, c: Cluster, node: SimNode) -> None:
        delay = c.rng.randint(200, 2_000)
        c.at(c.clock.now_ms + delay, f"restart {node.id}", lambda: c.restart(node))

    def after_deadline(self, c: Cluster, window: LivenessWindow) -> None: ...

    def done(self, c: Cluster) -> bool:
        """Whatever the scenario must see through before the run may end (beyond the target
        height) is done."""
        return True

    def _finish_when_done(self, c: Cluster) -> None:
        if not c.in_chaos and not c.checker.pending_windows() and c.target_reached():
            c.finished = True


# --- the random campaign ---------------------------------------------------------------------
class Chaos(Scenario):
    name = "chaos"

    def __init__(self) -> None:
        self.window: LivenessWindow | None = None
        self.next_period_scheduled = False

    def setup(self, c: Cluster) -> None:
        if "drift" in c.config.faults:
            ids = sorted(c.nodes)
            c.rng.shuffle(ids)
            for node_id in ids[: c.rng.randint(0, c.config.f)]:
                node = c.nodes[node_id]
                node.clock = NodeClock(
                    c.start_ms,
                    offset_ms=node.clock.offset_ms
                    + c.rng.randint(-DRIFT_OFFSET_MS, DRIFT_OFFSET_MS),
                    drift_ppm=c.rng.randint(-DRIFT_PPM, DRIFT_PPM),
                )
        self._schedule_period(c, c.start_ms + c.rng.randint(0, 3_000))

    def _schedule_period(self, c: Cluster, due_ms: int) -> None:
        self.next_period_scheduled = True
        c.at(due_ms, "chaos", lambda: self._start_period(c))

    def _start_period(self, c: Cluster) -> None:
        self.next_period_scheduled = False
        rng, cfg, now = c.rng, c.config, c.clock.now_ms
        faults = cfg.faults
        c.in_chaos = True
        duration = rng.randint(3_000, 20_000)
        c.net.faults = LinkFaults(
            drop=rng.uniform(0.0, 0.3) if "drop" in faults else 0.0,
            duplicate=rng.uniform(0.0, 0.25) if "duplicate" in faults else 0.0,
            delay_min_ms=1,
            delay_max_ms=rng.randint(20, 500) if "reorder" in faults else 20,
            slow=rng.uniform(0.0, 0.15) if "delay" in faults else 0.0,
            slow_max_ms=2 * cfg.base_timeout_ms,
        )
        topology = [k for k in ("partition", "asymmetric") if k in faults]
        if topology:
            for _ in range(rng.randint(0, 3)):
                kind = rng.choice(topology)
                due = now + rng.randint(0, duration)
                if kind == "partition":
                    c.at(due, "partition", lambda: self._partition(c), chaos=True)
                else:
                    c.at(due, "asymmetric", lambda: self._asymmetric(c), chaos=True)
            if rng.random() < 0.3:
                c.at(now + rng.randint(0, duration), "mend", c.net._blocked.clear, chaos=True)
        if "crash" in faults:
            for _ in range(rng.randint(0, 3)):
                node_id = rng.choice(sorted(c.nodes))
                due = now + rng.randint(0, duration)
                how = rng.choice(("power", "power", "lose", "after_vote"))
                c.at(
                    due,
                    f"crash {node_id}",
                    functools.partial(self._crash, c, node_id, how),
                    chaos=True,
                )
        if "lag" in faults and rng.random() < LAG_CHANCE:
            node_id = rng.choice(sorted(c.nodes))
            due = now + rng.randint(0, duration // 4)
            c.at(due, f"lag {node_id}", functools.partial(self._lag, c, node_id), chaos=True)
        if "crashpoint" in faults:
            for _ in range(rng.randint(0, 2)):
                node_id = rng.choice(sorted(c.nodes))
                due = now + rng.randint(0, duration)
                ops, after = rng.randint(1, 12), rng.random() < 0.5
                c.at(
                    due,
                    f"arm {node_id}",
                    functools.partial(self._arm, c, node_id, ops, after),
                    chaos=True,
                )
        c.at(now + duration, "heal", lambda: self._heal(c), chaos=True)

    def _partition(self, c: Cluster) -> None:
        ids = sorted(c.nodes)
        c.rng.shuffle(ids)
        if c.rng.random() < 0.4:
            c.net.partition([ids[:1], ids[1:]])
        else:
            cut = c.rng.randint(1, len(ids) - 1)
            c.net.partition([ids[:cut], ids[cut:]])

    def _asymmetric(self, c: Cluster) -> None:
        ids = sorted(c.nodes)
        for _ in range(c.rng.randint(1, len(ids))):
            src, dst = c.rng.sample(ids, 2)
            c.net.block(src, dst)

    def _down(self, c: Cluster) -> int:
        return sum(1 for n in c.nodes.values() if n.replica is None)

    def _crash(self, c: Cluster, node_id: str, how: str) -> None:
        node = c.nodes[node_id]
        if node.replica is None or self._down(c) >= c.config.f + MAX_DOWN_EXTRA:
            return
        if how == "after_vote":
            node.crash_after_vote = c.rng.choice(("power", "lose"))
            return
        c.crash(node, how, reason="chaos")
        self.after_crash(c, node)

    def _lag(self, c: Cluster, node_id: str) -> None:
        """Down until the heal: the node misses the rest of the period's blocks and must catch
        up by block sync (from Byzantine peers too) once it is back."""
        node = c.nodes[node_id]
        if node.replica is None or self._down(c) >= c.config.f + MAX_DOWN_EXTRA:
            return
        c.crash(node, c.rng.choice(("power", "lose")), reason="lag")

    def _arm(self, c: Cluster, node_id: str, ops: int, after: bool) -> None:
        node = c.nodes[node_id]
        if node.replica is not None and self._down(c) < c.config.f + MAX_DOWN_EXTRA:
            node.points.arm(ops, after=after)

    def after_crash(self, c: Cluster, node: SimNode) -> None:
        delay = c.rng.randint(200, 8_000)
        c.at(
            c.clock.now_ms + delay, f"restart {node.id}", lambda: c.restart(node), chaos=c.in_chaos
        )

    def _heal(self, c: Cluster) -> None:
        self.window = c.heal()

    def after_commit(self, c: Cluster, node: SimNode, height: int) -> None:
        if c.in_chaos:
            if c.target_reached():
                self._heal(c)  # end the last period early; its liveness window still counts
            return
        w = self.window
        if w is None or w.satisfied_ms is None or self.next_period_scheduled:
            return
        if c.target_reached():
            self._finish_when_done(c)
        else:
            self._schedule_period(c, c.clock.now_ms + c.rng.randint(500, 4_000))


class Governance(Chaos):
    """``chaos`` while org admins add the spare validators, change powers, rotate a genesis
    validator out and in, and remove the spares again (``governance.py``); the run ends once
    the whole plan is applied and in force, and the target height is reached."""

    name = "governance"

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        self.driver = GovernanceDriver.for_cluster(c)
        self.driver.start(c)

    def after_commit(self, c: Cluster, node: SimNode, height: int) -> None:
        self.driver.on_commit(c)
        super().after_commit(c, node, height)

    def done(self, c: Cluster) -> bool:
        return self.driver.done(c)


# --- targeted scenarios ----------------------------------------------------------------------
def _vote(kind: str, payload: object) -> Vote | None:
    if kind != "vote" or not isinstance(payload, bytes):
        return None
    return Vote.decode(payload)


def _proposal(kind: str, payload: object) -> Proposal | None:
    if kind != "proposal" or not isinstance(payload, bytes):
        return None
    return Proposal.decode(payload)


def _broadcasts_precommit(out: Outputs, height: int, round_: int) -> bool:
    for m in out.broadcast:
        v = _vote(m.kind, m.payload)
        if v is not None and (v.type, v.height, v.round) == (PRECOMMIT, height, round_):
            return True
    return False


class Targeted(Scenario):
    """A short scenario at height 1 that ends with a heal and finishes at the target height."""

    heal_after_ms = 25_000

    def setup(self, c: Cluster) -> None:
        c.net.faults = CALM
        c.at(c.start_ms + self.heal_after_ms, "heal", functools.partial(self._heal, c))

    def _heal(self, c: Cluster) -> None:
        c.heal(static=True)


class LockTrap(Targeted):
    name = "lock"
    crash_lockers = False

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        vs = c.validator_set
        self.z = proposer(vs, 1, 1)
        lockers = [n for n in c.net_info.names if n != self.z]
        self.decider = c.rng.choice(lockers)
        self.others = {n for n in lockers if n != self.decider}
        self.crashed: set[str] = set()
        self.isolated = False
        c.net.filters.append(self._drop)

    def _drop(self, src: str, dst: str, kind: str, payload: object) -> bool:
        p = _proposal(kind, payload)
        if p is not None:
            return dst == self.z and (p.height, p.round) == (1, 0)
        v = _vote(kind, payload)
        return (
            v is not None
            and src == self.decider
            and (v.type, v.height, v.round) == (PRECOMMIT, 1, 0)
        )

    def after_commit(self, c: Cluster, node: SimNode, height: int) -> None:
        if node.id == self.decider and height == 1 and not self.isolated:
            self.isolated = True
            c.net.isolate(node.id, static=True)  # before its status lets anyone sync X
        super().after_commit(c, node, height)

    def after_output(self, c: Cluster, node: SimNode, out: Outputs) -> None:
        if (
            self.crash_lockers
            and node.id in self.others
            and node.id not in self.crashed
            and _broadcasts_precommit(out, 1, 0)
        ):
            self.crashed.add(node.id)
            c.crash(node, "lose", reason="locked, right after its precommit")
            c.at(c.clock.now_ms + 500, f"restart {node.id}", lambda: c.restart(node))


class LockLoss(LockTrap):
    name = "lockloss"
    crash_lockers = True


class Amnesia(Targeted):
    name = "amnesia"
    byzantine_modes = ("twins",)

    def choose_byzantine(self, c: Cluster) -> list[str] | None:
        return [proposer(c.validator_set, 1, 0)]

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        d = proposer(c.validator_set, 1, 0)
        self.d, self.d_twin = d, next(i for i in c.nodes if i != d and c.nodes[i].name == d)
        honest = [n for n in c.net_info.names if n != d]
        c.rng.shuffle(honest)
        self.a, self.b, self.c = honest[0], honest[1], honest[2]
        self.crashed = False
        side1, side2 = [self.a, self.c, self.d], [self.b, self.d_twin]
        for x in side1:
            for y in side2:
                c.net.block(x, y, static=True)
                c.net.block(y, x, static=True)
        c.net.filters.append(self._drop)

    def _drop(self, src: str, dst: str, kind: str, payload: object) -> bool:
        v = _vote(kind, payload)
        return (
            v is not None
            and dst == self.c
            and not self.crashed
            and (v.type, v.height, v.round) == (PRECOMMIT, 1, 0)
        )

    def after_output(self, c: Cluster, node: SimNode, out: Outputs) -> None:
        if node.id != self.c or self.crashed or not _broadcasts_precommit(out, 1, 0):
            return
        self.crashed = True
        c.crash(node, "wipe_wal", reason="right after its precommit")
        c.at(c.clock.now_ms + 300, f"move {node.id}", lambda: self._move(c, node))

    def _move(self, c: Cluster, node: SimNode) -> None:
        for other in (self.b, self.d_twin):
            c.net.unblock(node.id, other)
            c.net.unblock(other, node.id)
        for other in (self.a, self.d):
            c.net.block(node.id, other, static=True)
            c.net.block(other, node.id, static=True)
        c.restart(node)


class Split(Targeted):
    name = "split"
    heal_after_ms = 20_000

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        ids = sorted(c.nodes)
        c.rng.shuffle(ids)
        half = len(ids) // 2
        c.net.partition([ids[:half], ids[half:]])
        c.net.faults = LinkFaults(duplicate=0.5)


class ForkControl(Targeted):
    """S4's control: with f + 1 Byzantine validators a fork must be found."""

    name = "fork"
    byzantine_modes = ("twins",)
    heal_after_ms = 60_000

    def choose_byzantine(self, c: Cluster) -> list[str] | None:
        names = list(c.net_info.names)
        c.byz_rng.shuffle(names)
        return names[: c.config.f + 1]

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        honest = sorted(n.id for n in c.nodes.values() if n.honest)
        c.rng.shuffle(honest)
        half = len(honest) // 2
        twins = sorted(i for i in c.nodes if not c.nodes[i].honest and i != c.nodes[i].name)
        originals = sorted(c.nodes[i].name for i in twins)
        side1, side2 = honest[:half] + originals, honest[half:] + twins
        for x in side1:
            for y in side2:
                c.net.block(x, y, static=True)
                c.net.block(y, x, static=True)


class Catchup(Targeted):
    """One honest node is down while the others commit, then catches up by block sync — with
    the config's Byzantine validators acting as sync peers (``sync_*`` modes by default)."""

    name = "catchup"
    byzantine_modes = ("sync_lie", "sync_oversize", "sync_slow", "sync_withhold")
    heal_after_ms = 600_000  # the heal is the victim's return (below)

    def setup(self, c: Cluster) -> None:
        super().setup(c)
        honest = sorted(n.id for n in c.nodes.values() if n.honest)
        self.victim = c.nodes[c.rng.choice(honest)]
        self.lag = c.rng.randint(LAG_HEIGHTS // 2, LAG_HEIGHTS)
        self.back = False
        c.at(c.start_ms + c.rng.randint(200, 1_500), "down", functools.partial(self._down, c))

    def _down(self, c: Cluster) -> None:
        self.down_at = self.victim.ledger.height()
        c.crash(self.victim, c.rng.choice(("power", "lose")), reason="catch-up victim")

    def after_crash(self, c: Cluster, node: SimNode) -> None:
        if node is not self.victim:
            super().after_crash(c, node)

    def after_commit(self, c: Cluster, node: SimNode, height: int) -> None:
        if not self.back and self.victim.replica is None and height >= self.down_at + self.lag:
            self.back = True
            c.heal(static=True)  # restarts the victim; it must pass the head within 10 timeouts
        super().after_commit(c, node, height)


SCENARIOS: dict[str, type[Scenario]] = {
    s.name: s for s in (Chaos, Governance, LockTrap, LockLoss, Amnesia, Split, ForkControl, Catchup)
}


def make_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    return SCENARIOS[name]()


__all__ = ["SCENARIOS", "Scenario", "make_scenario"]
