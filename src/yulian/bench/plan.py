"""Introduction: the load plan of a run — phases (``Segment``) that the load driver runs.

A phase ends after ``duration`` seconds or ``count`` txs and loads the network in one of three
ways: **open loop** (tx k due at ``t_phase + k / rate``), **closed loop** (``clients`` clients,
each waits for its tx's commit) or **stress** (submit while fewer txs are in flight than the
window ``max(STRESS_MIN_WINDOW, STRESS_WINDOW_S × commit rate)``). ``plan`` turns the options
into phases and a one-line description; ``spike`` and ``stability`` are planned around the
sustainable rate S that ``steady_rate`` reads off a stress probe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from yulian.bench.observations import RunRecord
from yulian.bench.options import DEFAULT_TXS, PRESIGN_CAP, BenchOptions

STRESS_MIN_WINDOW = 500
STRESS_WINDOW_S = 1.0
SPIKE_FACTOR = 2.0
SPIKE_BEFORE_S = 10.0
SPIKE_AFTER_S = 60.0
SPIKE_BASE_FRACTION = 0.5  # before and after the spike: half the sustainable rate
STABILITY_FRACTION = 0.2
DEFAULT_STABILITY_S = 60.0


@dataclass(frozen=True)
class Segment:
    """One phase of the load plan; it ends after ``duration`` s or ``count`` txs."""

    name: str
    mode: str  # "open" | "closed" | "stress"
    rate: float | None = None
    clients: int | None = None
    duration: float | None = None
    count: int | None = None

    def budget(self, presign_rate: float) -> int:
        """How many txs to pre-sign for this phase."""
        if self.count is not None:
            return self.count
        assert self.duration is not None
        if self.mode == "open":
            assert self.rate is not None
            return math.ceil(self.rate * self.duration) + 1
        return min(PRESIGN_CAP, max(200, math.ceil(presign_rate * self.duration)))


def steady_rate(record: RunRecord) -> float:
    """The sustainable rate a stress probe found: commits per second over the second half of
    the probe (steady state), else its commit TPS."""
    if record.phases:
        p = record.phases[0]
        lo, hi = p.start + (p.end - p.start) / 2, p.end
        n = sum(1 for c in record.committed if not math.isnan(c) and lo <= c < hi)
        if n and hi > lo:
            return n / (hi - lo)
    done = [c for c in record.committed if not math.isnan(c)]
    return len(done) / max(done) if done else 0.0


def plan(opts: BenchOptions, sustainable: float | None) -> tuple[list[Segment], str]:
    """The load plan of a run and its one-line description."""
    if opts.test == "spike":
        assert sustainable is not None
        base, peak = SPIKE_BASE_FRACTION * sustainable, SPIKE_FACTOR * sustainable
        return (
            [
                Segment("before", "open", rate=base, duration=SPIKE_BEFORE_S),
                Segment("spike", "open", rate=peak, duration=opts.spike_s),
                Segment("after", "open", rate=base, duration=SPIKE_AFTER_S),
            ],
            f"open loop {base:,.0f} tx/s for {SPIKE_BEFORE_S:.0f} s → {peak:,.0f} tx/s "
            f"(2 × S) for {opts.spike_s:.0f} s → {base:,.0f} tx/s for {SPIKE_AFTER_S:.0f} s",
        )
    if opts.test == "stability":
        assert sustainable is not None
        r = STABILITY_FRACTION * sustainable
        d = opts.duration or DEFAULT_STABILITY_S
        return (
            [Segment("steady", "open", rate=r, duration=d)],
            f"open loop {r:,.1f} tx/s (20 % of S) for {d:.0f} s",
        )
    count = opts.txs if opts.txs is not None else (None if opts.duration else DEFAULT_TXS)
    span = f"{count:,} txs" if count is not None else ""
    if opts.duration is not None:
        span = (span + ", " if span else "") + f"{opts.duration:.0f} s"
    if opts.rate is not None:
        return (
            [Segment("load", "open", rate=opts.rate, duration=opts.duration, count=count)],
            f"open loop {opts.rate:,.0f} tx/s, {span}",
        )
    if opts.clients is not None:
        return (
            [Segment("load", "closed", clients=opts.clients, duration=opts.duration, count=count)],
            f"closed loop, {opts.clients} clients, {span}",
        )
    return (
        [Segment("load", "stress", duration=opts.duration, count=count)],
        f"stress: in flight ≤ max({STRESS_MIN_WINDOW}, {STRESS_WINDOW_S:.0f} s × commit rate), "
        f"{span}",
    )
