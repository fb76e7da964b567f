"""Introduction: a cluster of real replicas on a seeded network, clock and disk.

``Cluster(config, seed).run()`` builds N ``Replica`` objects (the node's real state machine:
consensus core, safety rules, WAL, execution, admission) over ``SimDisk`` files and
``MemLedger`` ledgers, and drives them from one ``SimClock`` event queue: message deliveries
(through ``SimNetwork``: loss, duplication, delay, reordering, partitions), the timers the
replicas ask for, periodic ticks (re-sending under loss), client transactions, and the faults a
scenario schedules (crash-restart, crash points inside a step, clock drift, Byzantine nodes). The
``Checker`` sees every commit; the run stops at the first violation, when every honest node has
reached the target height after a final heal, or when a budget (simulated time, events) runs out.

Determinism (S2): after the cached testnet is loaded, every choice comes from
``random.Random`` streams derived from the seed, events are ordered by ``(time, sequence)``,
and nothing iterates over a set or an unordered dict. Every delivery, timer firing, tick,
crash, restart and commit is appended to the trace; ``trace_hash`` is the SHA-256 of it, so
two runs of one seed on one testnet print the same hash. The keys differ between machines
(the testnet is made with real randomness), and so do message digests; ``schedule_hash``
leaves them out, and in practice matches across machines (nothing the simulator or the
replica decides depends on a digest's value, except orderings of hash ties).

With ``spares``, the cluster also runs member nodes whose keys are in no genesis validator
set: real replicas that follow the chain until governance (``scenarios.Governance``) adds them
to the set, and sign from the height the committed config says.

The node shell's duties that the replica leaves to its caller are done here as in
``node/node.py``: gossip a client tx after ``submit``, perform ``Outputs`` (broadcast, send,
arm timers), call ``on_tick`` periodically, and on restart build a new ``Replica`` over the
durable parts and ``start()`` it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import time
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from yulian.consensus.consortium_view import ConsortiumView
from yulian.consensus.evidence import EQUIVOCATION_PREFIX, MISBEHAVIOUR_CONTRACT
from yulian.consensus.safety import CorruptSafetyData
from yulian.consensus.wal import WAL, WALCorrupted
from yulian.execution.overlay import state_key
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import BadMessage, Message, decode_message, gossip_messages
from yulian.node.replica import Outputs, Replica, ReplicaConfig
from yulian.sim.clock import NodeClock, SimClock
from yulian.sim.config import (
    BYZANTINE_MODES,
    FAULTS,
    RunResult,
    SimConfig,
    replay_command,
    with_changes,
)
from yulian.sim.coverage import Coverage
from yulian.sim.disk import CrashPoints, SimCrash, SimDisk
from yulian.sim.events import Action, ClientTx, Deadline, Deliver, Event, Fire, SimNode, Tick
from yulian.sim.invariants import REPLICA_ERROR, STALLED, START_REFUSED, Checker, LivenessWindow
from yulian.sim.memledger import MemLedger
from yulian.sim.network import SimNetwork
from yulian.sim.planted import replica_class, safety_class
from yulian.sim.testnet import SimTestnet, load_testnet
from yulian.sim.workload import Workload
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import EncodeError

if TYPE_CHECKING:
    from yulian.sim.scenarios import Scenario

log = logging.getLogger("yulian.sim")

LIVENESS_TIMEOUTS = 10  # S3: all honest nodes commit within 10 base timeouts of the heal
MAX_VIOLATIONS = 8
TWIN_SUFFIX = "#twin"
DROP_BACKOFF_MS = 5_000  # a dropped peer is refused this long (net.peers.DROP_BACKOFF_S)


class Cluster:
    def __init__(
        self,
        config: SimConfig,
        seed: int,
        scenario: Scenario | None = None,
        *,
        keep_trace: bool = False,
    ) -> None:
        from yulian.sim.byzantine import make_behaviours
        from yulian.sim.scenarios import make_scenario

        self.config = config
        self.seed = seed
        self.net_info = load_testnet(config.validators, config.spares)
        genesis = self.net_info.genesis
        self.genesis = genesis
        self.suite = self.net_info.suite
        self.chain_id = genesis.chain_id
        self.genesis_view = ConsortiumView.of(ConsortiumConfig.from_genesis(genesis), 1, self.suite)
        self.validator_set = self.genesis_view.validators
        self.start_ms = genesis.time_ms + 1_000
        self.clock: SimClock[Event] = SimClock(self.start_ms)
        self.rng = random.Random(f"yulian-sim/{seed}/faults")
        self.client_rng = random.Random(f"yulian-sim/{seed}/clients")
        self.disk_rng = random.Random(f"yulian-sim/{seed}/disks")
        self.byz_rng = random.Random(f"yulian-sim/{seed}/byzantine")
        self._trace = hashlib.sha256()
        self._schedule = hashlib.sha256()
        self.trace_lines: list[str] | None = [] if keep_trace else None
        self.scenario = scenario if scenario is not None else make_scenario(config.scenario)
        self.workload = Workload(config.workload, genesis.chain_id, genesis.params)
        self.coverage = Coverage()
        self.nodes: dict[str, SimNode] = {}
        chosen = self.scenario.choose_byzantine(self)
        byzantine = set(chosen) if chosen is not None else self._pick_byzantine()
        for name in self.net_info.names:
            self._add_node(name, name, honest=name not in byzantine)
        self.spares = tuple(v.name for v in self.net_info.spares[: config.spares])
        for name in self.spares:
            self._add_node(name, name, honest=True)  # a follower until governance adds it
        self.net = SimNetwork(random.Random(f"yulian-sim/{seed}/network"), list(self.nodes))
        self.net.now_ms = self.start_ms
        modes = self.scenario.byzantine_modes or config.byzantine_modes
        for name in sorted(byzantine):
            for behaviour in make_behaviours(self, self.nodes[name], modes):
                behaviour.attach(self)
        self.net.nodes = tuple(self.nodes)
        honest = frozenset(n.id for n in self.nodes.values() if n.honest)
        self.checker = Checker(
            self.suite, self.chain_id, self.genesis_view, honest, origin_ms=self.start_ms
        )
        self.epoch = 0  # fault epoch: bumped by every heal, cancels pending chaos actions
        self.in_chaos = False
        self.finished = False
        self.notes: list[str] = []
        self.txs_submitted = 0
        self.governance: list[str] = []  # what the governance scenario applied, in order
        self._encoded: dict[Message, tuple[bytes, str]] = {}
        self._decoded: dict[bytes, Message] = {}

    # --- construction -----------------------------------------------------------------------
    def _pick_byzantine(self) -> set[str]:
        names = list(self.net_info.names)
        self.byz_rng.shuffle(names)
        return set(names[: self.config.byzantine])

    def _add_node(
        self, node_id: str, name: str, *, honest: bool, clock: NodeClock | None = None
    ) -> SimNode:
        points = CrashPoints(node_id)
        node = SimNode(
            id=node_id,
            name=name,
            key=self.net_info.keys[name],
            cert=self.net_info.certs[name],
            clock=clock or NodeClock(self.start_ms),
            points=points,
            safety_disk=SimDisk("safety", points),
            wal_disk=SimDisk("wal", points),
            ledger=MemLedger(points),
            honest=honest,
        )
        self.nodes[node_id] = node
        return node

    def add_twin(self, of: SimNode) -> SimNode:
        """A second instance of a Byzantine validator: same key, own disks and ledger."""
        assert not of.honest
        twin = self._add_node(
            of.id + TWIN_SUFFIX,
            of.name,
            honest=False,
            clock=NodeClock(self.start_ms, offset_ms=3 + self.byz_rng.randint(0, 40)),
        )
        return twin

    def replica_config(self, node: SimNode) -> ReplicaConfig:
        c = self.config
        return ReplicaConfig(
            name=node.name,
            node_cert=node.cert,
            block_interval_ms=c.block_interval_ms,
            empty_block_interval_ms=c.empty_block_interval_ms,
            timeout_propose_ms=c.timeout_propose_ms,
            timeout_prevote_ms=c.timeout_prevote_ms,
            timeout_precommit_ms=c.timeout_precommit_ms,
            timeout_delta_ms=c.timeout_delta_ms,
            sync_reply_bytes=c.sync_reply_bytes,
            sync_timeout_ms=c.sync_timeout_ms,
        )

    def _build_replica(self, node: SimNode) -> Replica:
        """The node's real replica over its surviving durable parts (as ``node.Node`` does);
        an honest node's carries the run's planted bug, if any (``planted.py``)."""
        bugs = self.config.planted if node.honest else frozenset()
        wal = WAL(node.wal_disk)
        safety = safety_class(bugs)(
            self.suite, node.key, self.chain_id, node.name, node.safety_disk
        )
        factory = replica_class(bugs)
        return factory(
            self.genesis, self.suite, node.ledger, safety, wal, self.replica_config(node)
        )

    # --- the run ----------------------------------------------------------------------------
    def run(self) -> RunResult:
        wall = time.perf_counter()
        with quiet_logs():
            self._run()
        return self._result(time.perf_counter() - wall)

    def _run(self) -> None:
        self.scenario.setup(self)
        for node in self.nodes.values():
            self._trace_line(
                "node", node.id, node.honest, node.clock.offset_ms, node.clock.drift_ppm
            )
        for node_id in sorted(self.nodes):
            if self.nodes[node_id].replica is None and self.nodes[node_id].down_since_ms is None:
                self.restart(self.nodes[node_id], first=True)
        self.clock.schedule(
            self.start_ms + self.client_rng.randint(0, self.config.tx_interval_ms), ClientTx()
        )
        budget_ms = self.start_ms + self.config.sim_budget_ms
        budget_events = self.config.event_budget
        while not self.finished and not self.checker.violations:
            popped = self.clock.pop()
            if popped is None:
                self.checker.fail(STALLED, self.clock.now_ms, "the event queue ran empty")
                break
            now, event = popped
            self.net.now_ms = now
            if now > budget_ms or self.clock.events_popped > budget_events:
                self.checker.fail(
                    STALLED,
                    now,
                    f"budget exhausted ({self.clock.events_popped} "
                    f"events, {now - self.start_ms} ms) with honest heights "
                    f"{self.honest_heights()}; target {self.config.heights}",
                )
                break
            self._dispatch(event)
        if not self.checker.safety_violated:
            self.checker.final({n.id: n.ledger for n in self.nodes.values()}, self.clock.now_ms)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Deliver):
            self._on_deliver(event)
        elif isinstance(event, Fire):
            node = self.nodes[event.node]
            if node.replica is not None and node.incarnation == event.incarnation:
                t = event.timer
                self._trace_line("timer", node.id, t.kind, t.height, t.round)
                self._call(node, lambda r, now: r.on_timer(t, now))
        elif isinstance(event, Tick):
            node = self.nodes[event.node]
            if node.replica is not None and node.incarnation == event.incarnation:
                self._trace_line("tick", node.id)
                self._call(node, lambda r, now: r.on_tick(now))
                self._schedule_tick(node)
        elif isinstance(event, ClientTx):
            self._client_tx()
        elif isinstance(event, Action):
            if event.epoch is None or event.epoch == self.epoch:
                self._trace_line("action", event.label)
                event.run()
        elif isinstance(event, Deadline):
            self.checker.deadline(event.window, self.honest_heights(), self.clock.now_ms)
            self.scenario.after_deadline(self, event.window)

    def _on_deliver(self, event: Deliver) -> None:
        node = self.nodes[event.dst]
        if node.replica is None or not self.net.arrives(event.src, event.dst):
            self._trace_line("lost", event.src, event.dst, event.kind, payload=event.digest)
            return
        msg = self._decoded.get(event.data)
        if msg is None:
            if len(self._decoded) > 50_000:
                self._decoded.clear()
            msg = self._decoded[event.data] = decode_message(event.data)
        sender = self.nodes[event.src].name
        self._trace_line("deliver", event.src, event.dst, event.kind, payload=event.digest)
        self._call(node, lambda r, now: r.on_message(sender, msg, now), via=event.kind)

    # --- calling a replica and performing its outputs --------------------------------------
    def local_now(self, node: SimNode) -> int:
        return node.clock.local(self.clock.now_ms)

    def _call(
        self, node: SimNode, step: Callable[[Replica, int], Outputs], *, via: str = ""
    ) -> None:
        replica = node.replica
        assert replica is not None
        try:
            out = step(replica, self.local_now(node))
        except SimCrash as crash:
            self.crash(node, "power", reason=str(crash))
            self.scenario.after_crash(self, node)
            return
        except Exception as e:  # a replica must never raise on any input: that is a bug
            self.checker.fail(
                REPLICA_ERROR,
                self.clock.now_ms,
                f"{node.id} raised {type(e).__name__}: {e}\n{traceback.format_exc(limit=-6)}",
            )
            return
        if node.honest:
            self.coverage.on_commit(node.ledger, out, replica.params, via)
        self.perform(node, out)

    def perform(self, node: SimNode, out: Outputs) -> None:
        """Do what the replica asked, in the shell's order: report commits, send, arm timers."""
        now = self.clock.now_ms
        for c in out.committed:
            self._trace_line("commit", node.id, c.height, payload=c.block_hash.hex())
            self.checker.on_commit(node.id, node.ledger, c.height, c.block_hash, c.tx_ids, now)
        if out.committed:
            self.checker.progress(self.honest_heights(), now)
            for c in out.committed:
                self.scenario.after_commit(self, node, c.height)
        outgoing: list[tuple[str | None, Message]] = [(None, m) for m in out.broadcast]
        for peer, m in out.send:
            outgoing.extend((i, m) for i in self.ids_of(peer) if i != node.id)
        if node.behaviour is not None and node.replica is not None:
            outgoing = node.behaviour.outgoing(self, node, outgoing)
        voted = False
        for dst, m in outgoing:
            voted = voted or m.kind == "vote"
            targets = [i for i in self.nodes if i != node.id] if dst is None else [dst]
            self.send(node.id, targets, m)
        for t in out.timers:
            self.clock.schedule(node.clock.to_global(t.due_ms), Fire(node.id, node.incarnation, t))
        for peer, reason in out.drop:
            self._trace_line("drop", node.id, peer)
            for other in self.ids_of(peer):
                self.net.ban(node.id, other, now + DROP_BACKOFF_MS)
            if node.honest and all(self.nodes[i].honest for i in self.ids_of(peer)):
                self.note(f"{node.id} dropped honest peer {peer}: {reason}")
        self.scenario.after_output(self, node, out)
        if voted and node.crash_after_vote is not None and node.replica is not None:
            mode, node.crash_after_vote = node.crash_after_vote, None
            self.crash(node, mode, reason="right after a vote")
            self.scenario.after_crash(self, node)

    def send(self, src: str, targets: list[str], m: Message) -> None:
        """``m`` from ``src`` to ``targets``, through the seeded network. A message the network
        refuses (over a limit: ``PeerManager`` would log and drop it) is dropped; from an
        honest node it is a violation — nothing a node builds may be refused."""
        cached = self._encoded.get(m)
        if cached is None:
            if len(self._encoded) > 50_000:
                self._encoded.clear()
            try:
                data = m.encode()
            except (BadMessage, EncodeError) as e:
                if self.nodes[src].honest:
                    self.checker.fail(
                        REPLICA_ERROR, self.clock.now_ms, f"{src} built an unsendable {m.kind}: {e}"
                    )
                self._trace_line("unsendable", src, m.kind)
                return
            cached = self._encoded[m] = (data, hashlib.blake2b(data, digest_size=8).hexdigest())
        data, digest = cached
        now = self.clock.now_ms
        for dst in targets:
            for delay in self.net.fate(src, dst, m.kind, m.payload):
                self.clock.schedule(now + delay, Deliver(src, dst, m.kind, data, digest))

    def ids_of(self, name: str) -> list[str]:
        """The instances that answer to validator ``name`` (two for a twin)."""
        return [i for i, n in self.nodes.items() if n.name == name]

    def _schedule_tick(self, node: SimNode, first: bool = False) -> None:
        local = self.local_now(node)
        period = self.config.tick_ms
        due = local + (self.rng.randint(1, period) if first else period)
        self.clock.schedule(node.clock.to_global(due), Tick(node.id, node.incarnation))

    # --- faults -----------------------------------------------------------------------------
    def crash(self, node: SimNode, mode: str, *, reason: str = "") -> None:
        """Drop the replica; apply the crash to its files (the ledger keeps what it committed).

        ``mode``: ``power`` (a seeded prefix of unsynced writes survives, maybe torn),
        ``lose`` (exactly the synced image), ``wipe`` (safety file and WAL deleted — a
        Byzantine fault), ``wipe_wal`` (the WAL deleted, the safety file as a power cut left
        it)."""
        if node.replica is None:
            return
        if node.honest:
            self.coverage.sync_skips += node.replica.sync.syncer.skipped
        node.replica = None
        node.incarnation += 1
        node.crashes += 1
        node.points.disarm()
        node.crash_after_vote = None
        node.down_since_ms = self.clock.now_ms
        for disk in (node.safety_disk, node.wal_disk):
            if mode == "power":
                disk.crash(self.disk_rng)
            elif mode == "lose" or (mode == "wipe_wal" and disk is node.safety_disk):
                disk.lose_unsynced()
            else:
                assert mode in ("wipe", "wipe_wal"), mode
                disk.wipe()
        self._trace_line("crash", node.id, mode, reason)

    def restart(self, node: SimNode, *, first: bool = False) -> None:
        if node.replica is not None:
            return
        try:
            replica = self._build_replica(node)
        except (WALCorrupted, CorruptSafetyData) as e:
            self.checker.fail(
                START_REFUSED,
                self.clock.now_ms,
                f"{node.id} refused to start after a crash: {type(e).__name__}: {e}",
            )
            return
        node.replica = replica
        node.down_since_ms = None
        self._trace_line("start" if first else "restart", node.id, replica.tip.height)
        if not first:
            self.checker.on_restart(node.id, node.ledger, self.clock.now_ms)
        self._call(node, lambda r, now: r.start(now))
        if node.replica is replica:
            self._schedule_tick(node, first=True)

    def at(self, due_ms: int, label: str, run: Callable[[], None], *, chaos: bool = False) -> None:
        """Schedule a scenario action; with ``chaos`` it is cancelled by the next heal."""
        self.clock.schedule(due_ms, Action(label, run, self.epoch if chaos else None))

    def heal(self, *, static: bool = False) -> LivenessWindow:
        """End the faults: links back to calm, crashed honest nodes restarted (Byzantine ones
        too, unless their behaviour keeps them down); open an S3 liveness window."""
        self.epoch += 1
        self.in_chaos = False
        self.net.heal()
        if static:
            self.net._static.clear()
        self.net.filters.clear()
        for node_id in sorted(self.nodes):
            node = self.nodes[node_id]
            node.points.disarm()
            node.crash_after_vote = None
            if node.replica is None:
                self.restart(node)
        now = self.clock.now_ms
        window = self.checker.open_window(
            now, now + LIVENESS_TIMEOUTS * self.config.base_timeout_ms
        )
        self.clock.schedule(window.deadline_ms, Deadline(window))
        self._trace_line("heal", window.baseline)
        return window

    # --- clients ----------------------------------------------------------------------------
    def _client_tx(self) -> None:
        now = self.clock.now_ms
        self.clock.schedule(
            now + self.client_rng.randint(1, 2 * self.config.tx_interval_ms), ClientTx()
        )
        up = [n for n in sorted(self.nodes) if self.nodes[n].replica is not None]
        expires_at = max(self.honest_heights().values()) + 200
        submission = self.workload.next(self.client_rng, self.net_info.wallets, expires_at)
        target = self.client_rng.choice(up) if up else None
        if target is None:
            return
        node = self.nodes[target]
        admitted = [e for e in submission.envelopes if self._admit(node, e, submission.label)]
        self.txs_submitted += len(admitted)
        if admitted:
            self.perform(node, Outputs(broadcast=gossip_messages(admitted)))

    def _admit(self, node: SimNode, envelope: bytes, label: str) -> bool:
        replica = node.replica
        assert replica is not None
        try:
            replica.submit(envelope, self.local_now(node))
        except AdmissionError as e:
            self._trace_line("tx-refused", node.id, e.code)
            return False
        digest = hashlib.blake2b(envelope, digest_size=8).hexdigest()
        self._trace_line(label, node.id, payload=digest)
        return True

    def submit_to(self, node: SimNode, envelope: bytes, label: str) -> bool:
        """A client's tx into ``node``'s mempool (admission as the API does), then gossiped."""
        if not self._admit(node, envelope, label):
            return False
        self.perform(node, Outputs(broadcast=[Message("txs", (envelope,))]))
        return True

    # --- views ------------------------------------------------------------------------------
    def honest_heights(self) -> dict[str, int]:
        return {i: self.checker.heights.get(i, 0) for i in sorted(self.checker.honest)}

    def target_reached(self) -> bool:
        """Every honest node reached the target height, and the scenario's plan is done."""
        return min(self.honest_heights().values()) >= self.config.heights and self.scenario.done(
            self
        )

    def reference_ledger(self) -> MemLedger:
        """The ledger of the most advanced honest node (all honest ledgers agree: checked)."""
        honest = [n for n in sorted(self.nodes) if self.nodes[n].honest]
        return max((self.nodes[n].ledger for n in honest), key=lambda ledger: ledger.height())

    def up_nodes(self) -> list[str]:
        return [n for n in sorted(self.nodes) if self.nodes[n].replica is not None]

    def trace(self, *parts: object, payload: str = "") -> None:
        self._trace_line(*parts, payload=payload)

    def note(self, text: str) -> None:
        if len(self.notes) < 50:
            self.notes.append(f"t={self.clock.now_ms - self.start_ms}: {text}")

    def _trace_line(self, *parts: object, payload: str = "") -> None:
        """Append one line to the trace. ``payload`` is what depends on the testnet's keys
        (message and block digests): it enters ``trace_hash`` but not ``schedule_hash``."""
        line = "|".join(str(p) for p in (self.clock.now_ms - self.start_ms, *parts))
        self._schedule.update(line.encode() + b"\n")
        if payload:
            line = f"{line}|{payload}"
        self._trace.update(line.encode() + b"\n")
        if self.trace_lines is not None:
            self.trace_lines.append(line)

    def _result(self, wall_s: float) -> RunResult:
        honest = [n for n in self.nodes.values() if n.honest]
        for n in honest:
            if n.replica is not None:
                self.coverage.sync_skips += n.replica.sync.syncer.skipped
        evidence = {n.id: len(n.replica.pending_evidence) if n.replica else 0 for n in honest}
        top = max(honest, key=lambda n: n.ledger.height())
        prefix = state_key(MISBEHAVIOUR_CONTRACT, EQUIVOCATION_PREFIX)
        committed = len(top.ledger.scan_prefix(prefix, 10_000))
        return RunResult(
            seed=self.seed,
            config=self.config,
            violations=tuple(self.checker.violations[:MAX_VIOLATIONS]),
            trace_hash=self._trace.hexdigest(),
            schedule_hash=self._schedule.hexdigest(),
            testnet=self.net_info.fingerprint,
            heights=self.honest_heights(),
            sim_ms=self.clock.now_ms - self.start_ms,
            events=self.clock.events_popped,
            wall_s=wall_s,
            txs_submitted=self.txs_submitted,
            txs_acked=len(self.checker.acked),
            crashes=sum(n.crashes for n in self.nodes.values()),
            messages=self.net.sent,
            dropped=self.net.dropped,
            evidence_pending=evidence,
            evidence_committed=committed,
            notes=tuple(self.notes),
            signatures=self.checker.signature_counts(),
            spares=self.spares,
            governance=tuple(self.governance),
            coverage=self.coverage,
        )


# --- running ------------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Replicas log every refused vote and bad peer; under faults that is noise, and costly."""
    logger = logging.getLogger("yulian")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def run_seed(config: SimConfig, seed: int) -> RunResult:
    return Cluster(config, seed).run()


def run_job(job: tuple[SimConfig, int]) -> RunResult:
    """``run_seed`` for a process pool (a module-level function pickles by name)."""
    return run_seed(*job)


__all__ = [
    "BYZANTINE_MODES",
    "FAULTS",
    "Cluster",
    "RunResult",
    "SimConfig",
    "SimNode",
    "SimTestnet",
    "load_testnet",
    "replay_command",
    "run_job",
    "run_seed",
    "with_changes",
]
