"""Introduction: the node's Prometheus metrics — fed where things already happen, never polled.

Every metric comes from one of three places, so that a scrape costs nothing on the commit path
and the commit path pays at most an increment:

* **the commit feed** (``observe_block``, one call per committed block): height, block
  interval, txs and bytes per block, commit latency (the block's own time to the moment it is
  durable here), rounds it took, committed txs;
* **the places that already count**: the node's admission verdicts for its clients
  (``observe_admission``), the consensus timers the node fires (``observe_timer``), the peers'
  status messages (``observe_message``: the highest head a peer announced, for the sync lag),
  and two timed durable writes (``instrument``: the ledger's one atomic write per block,
  LMDB's fsync included, and the consensus WAL's fsync before each vote);
* **values read at scrape time** from objects the node keeps in memory anyway: the round, the
  mempool size, the connected peers, the signatures admission verified, the commit feed's
  subscribers — no ledger read.

Names follow Prometheus conventions: a ``yulian_`` prefix, the unit last (``_seconds``,
``_bytes``), counters ending in ``_total``. Each node has its own registry (tests run several
nodes in one process); the process, platform and GC collectors are registered in it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from yulian.api.port import CommittedBlock
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import Message
from yulian.node.commit_feed import CommitFeed

if TYPE_CHECKING:
    from yulian.node.node import Node
    from yulian.node.replica import Timer

del GC_COLLECTOR  # the default registry's; each node registers its own

CONSENSUS_TIMERS = ("propose", "prevote", "precommit")
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
FSYNC_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
TXS_BUCKETS = (0, 1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)
BYTES_BUCKETS = tuple(float(1 << k) for k in range(10, 27, 2))  # 1 KiB .. 64 MiB


class NodeMetrics:
    """The metrics of one node, in their own registry (``registry``)."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.height = Gauge("yulian_chain_height", "height of the last committed block", registry=r)
        self.committed = Counter(
            "yulian_txs_committed_total", "txs in blocks this node committed", registry=r
        )
        self.interval = Histogram(
            "yulian_block_interval_seconds",
            "time between a block and the one before it (block times)",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.block_txs = Histogram(
            "yulian_block_txs", "txs per committed block", buckets=TXS_BUCKETS, registry=r
        )
        self.block_bytes = Histogram(
            "yulian_block_size_bytes",
            "encoded size of each committed block",
            buckets=BYTES_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            "yulian_commit_latency_seconds",
            "from a block's time (set by its proposer) until it is durable on this node",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.round_changes = Counter(
            "yulian_consensus_round_changes_total",
            "rounds past the first that heights needed before they committed",
            registry=r,
        )
        self.timeouts = Counter(
            "yulian_consensus_timeouts_total",
            "consensus timeouts fired on this node, by step",
            ["step"],
            registry=r,
        )
        self.ledger_write = Histogram(
            "yulian_ledger_commit_seconds",
            "the ledger's atomic durable write of one block (LMDB: fsync included)",
            buckets=FSYNC_BUCKETS,
            registry=r,
        )
        self.wal_fsync = Histogram(
            "yulian_wal_fsync_seconds",
            "fsync of the consensus WAL before a vote or proposal is signed",
            buckets=FSYNC_BUCKETS,
            registry=r,
        )
        self.admitted = Counter(
            "yulian_txs_admitted_total", "txs this node's API admitted to the mempool", registry=r
        )
        self.rejected = Counter(
            "yulian_txs_rejected_total",
            "txs this node's API refused, by problem code",
            ["code"],
            registry=r,
        )
        self._timeouts = {step: self.timeouts.labels(step) for step in CONSENSUS_TIMERS}
        self._rejected: dict[str, Any] = {}
        self._last_time_ms = node.tip.time_ms
        self.peer_heights: dict[str, int] = {}
        r.register(_NodeState(node, self.peer_heights))

    # --- fed by the commit feed -------------------------------------------------------------
    def observe_block(self, block: CommittedBlock) -> None:
        self.height.set(block.height)
        self.committed.inc(len(block.tx_ids))
        self.block_txs.observe(len(block.tx_ids))
        if block.size_bytes:
            self.block_bytes.observe(block.size_bytes)
        if block.round:
            self.round_changes.inc(block.round)
        if block.time_ms >= self._last_time_ms:
            self.interval.observe((block.time_ms - self._last_time_ms) / 1000)
        self._last_time_ms = block.time_ms
        self.latency.observe(max(0, time.time_ns() // 1_000_000 - block.time_ms) / 1000)

    # --- fed where the node already counts ---------------------------------------------------
    def observe_admission(self, verdicts: Sequence[object]) -> None:
        """The verdicts of one submission to the API: an id or an ``AdmissionError`` each."""
        refused = 0
        for verdict in verdicts:
            if isinstance(verdict, AdmissionError):
                refused += 1
                child = self._rejected.get(verdict.code)
                if child is None:
                    child = self._rejected[verdict.code] = self.rejected.labels(verdict.code)
                child.inc()
        if len(verdicts) > refused:
            self.admitted.inc(len(verdicts) - refused)

    def observe_timer(self, timer: Timer) -> None:
        child = self._timeouts.get(timer.kind)
        if child is not None:
            child.inc()

    def observe_message(self, peer: str, msg: Message) -> None:
        if msg.kind == "status" and msg.payload:
            height = msg.payload[0]
            if type(height) is int:
                self.peer_heights[peer] = height

    def instrument(self) -> None:
        """Time the node's two fsync points: the ledger's block write and the WAL's sync."""
        _time_method(self._node.ledger, "commit_block", self.ledger_write.observe)
        _time_method(self._node.replica.wal, "sync", self.wal_fsync.observe)


def _time_method(obj: object, name: str, observe: Callable[[float], None]) -> None:
    """Replace ``obj.name`` (on this instance only) by a timed call of the same method."""
    method = getattr(obj, name)
    clock = time.perf_counter

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return method(*args, **kwargs)
        finally:
            observe(clock() - started)

    setattr(obj, name, timed)


class _NodeState(Collector):
    """Values the node keeps in memory, read when Prometheus scrapes."""

    def __init__(self, node: Node, peer_heights: dict[str, int]) -> None:
        self._node = node
        self._peer_heights = peer_heights

    def collect(self) -> Iterator[Metric]:
        node, replica = self._node, self._node.replica
        connected = node.peers.connected() if node.peers is not None else []
        yield _gauge(
            "yulian_consensus_round", "the round of the height being decided", replica.round
        )
        yield _gauge("yulian_mempool_txs", "txs waiting in the mempool", len(node.mempool))
        yield _gauge("yulian_peers_connected", "peers with a live connection", len(connected))
        heights = [self._peer_heights.get(p, 0) for p in connected]
        lag = max(0, max(heights, default=0) - node.tip.height)
        yield _gauge(
            "yulian_sync_lag_blocks", "the highest head a connected peer announced, minus ours", lag
        )
        verified = CounterMetricFamily(
            "yulian_signature_verifications",
            "tx signatures this node verified (admission, or its verifier processes)",
        )
        verified.add_metric([], replica.admission.signatures_verified)
        yield verified
        reconnects = CounterMetricFamily(
            "yulian_ledger_reconnects",
            "times the ledger's writer re-established its database session (PostgreSQL; "
            "always 0 on LMDB)",
        )
        reconnects.add_metric([], getattr(node.ledger, "reconnects", 0))
        yield reconnects


class FeedState(Collector):
    """The commit feed's subscribers (the event stream's, the ``?wait=`` reader) and drops."""

    def __init__(self, feed: CommitFeed) -> None:
        self._feed = feed

    def collect(self) -> Iterator[Metric]:
        yield _gauge(
            "yulian_commit_feed_subscribers",
            "subscribers of the commit feed",
            self._feed.subscribers,
        )
        dropped = CounterMetricFamily(
            "yulian_commit_feed_dropped", "subscribers dropped for falling their queue behind"
        )
        dropped.add_metric([], self._feed.dropped_total)
        yield dropped


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
