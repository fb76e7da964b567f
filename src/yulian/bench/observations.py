"""Introduction: what one bench run observed, raw — the input of every figure.

``RunRecord`` holds per tx the send time, HTTP status, time its commit was seen, height and
receipt status; per block its header time and size (``BlockObs``); the load plan as run
(``Phase``); per node CPU seconds, RSS samples and peak RSS. Times are seconds on the client's
monotonic clock since the first submit (t = 0); NaN means never. The load driver fills it in,
``figures.summarise`` turns it into the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# HTTP statuses of an admitted tx; 409 duplicate_tx only follows a client retry of a dropped
# keep-alive connection, so the tx was admitted by the first attempt
ACCEPTED = (200, 202, 409)


@dataclass(frozen=True)
class BlockObs:
    height: int
    time_ms: int  # header time
    tx_count: int  # all txs of the block
    bench_txs: int  # txs of this run in it
    seen_at: float  # when the client saw it (s since t0)


@dataclass(frozen=True)
class Phase:
    name: str
    mode: str  # "open" | "closed" | "stress"
    start: float
    end: float
    rate: float | None = None  # open loop: offered tx/s
    clients: int | None = None  # closed loop


@dataclass
class RunRecord:
    """Raw observations of one run; times in seconds since the first submit (NaN = never)."""

    label: str
    workload: str
    validators: int
    sent: list[float]
    status: list[int]  # HTTP status of the submit (0 = not sent or connection failed)
    committed: list[float]
    heights: list[int]
    tx_ids: list[str] = field(default_factory=list)  # hex, same order as ``sent``
    receipt: list[str | None] = field(default_factory=list)  # receipt status when committed
    duplicates: int = 0  # a tx id seen in a second committed block
    rejects: dict[str, int] = field(default_factory=dict)  # problem code -> count
    blocks: list[BlockObs] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    node_names: list[str] = field(default_factory=list)
    node_cpu_s: list[float] = field(default_factory=list)
    node_peak_rss: list[int] = field(default_factory=list)
    rss_samples: list[tuple[float, list[int]]] = field(default_factory=list)
    anon_samples: list[tuple[float, list[int]]] = field(default_factory=list)  # RSS − file
    crashed: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    max_send_lag_s: float = 0.0
    exhausted: bool = False  # the pre-signed txs ran out before the planned end
    stalled: bool = False  # txs were in flight and none committed for a long time: stopped
