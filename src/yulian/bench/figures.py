"""Introduction: the figures of a bench run, computed from its raw observations.

``summarise`` turns a ``RunRecord`` into the report — a plain dict, the same that ``--json``
writes (the fields are listed in ``docs/benchmarks.md``) — with the verdict of the test;
``report`` prints and draws it.

Definitions (BENCHMARK.md): times are seconds on the client's monotonic clock from the first
submit (t = 0). **receive TPS** = txs accepted by the API / (last acceptance − t0);
**commit TPS** = bench txs in committed blocks / (last commit seen − t0); **latency** = commit
seen by the client − submit (open loop: the *scheduled* submit time, so a client that falls
behind cannot hide queueing); percentiles are nearest-rank; **success** = committed exactly once
with receipt status ``ok``, over all txs submitted.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from yulian.bench.observations import ACCEPTED, RunRecord

REPORT_KIND = "yulian-bench/v1"
MIB = 2**20
# verdicts (BENCHMARK.md; the stability thresholds are ours, stated in docs/benchmarks.md)
STRESS_MIN_SUCCESS = 0.95
SPIKE_MIN_SUCCESS = 0.75
STABILITY_MIN_SUCCESS = 0.99
STABILITY_MAX_P99_DRIFT = 0.5  # last tenth's p99 at most 50 % (or 100 ms) above the first's
STABILITY_P99_SLACK_MS = 100.0
STABILITY_MAX_RSS_GROWTH = 0.10  # last tenth's RSS at most 10 % (or 20 MiB) above the first's
STABILITY_RSS_SLACK_MIB = 20.0
RECOVERY_P99_FACTOR = 2.0  # spike: recovered once p99 is back under 2 × before (+ 500 ms)
RECOVERY_P99_SLACK_MS = 500.0

# --- small statistics -------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 1]) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def fraction(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _finite(x: float) -> bool:
    return not math.isnan(x)


def _ms(x: float) -> float | None:
    return None if math.isnan(x) else round(x * 1000, 1)


def latency_stats(latencies: Sequence[float]) -> dict[str, float | None]:
    """Median, p99, max and mean in milliseconds (None when there is no sample)."""
    if not latencies:
        return {"median": None, "p99": None, "max": None, "mean": None, "samples": 0}
    return {
        "median": _ms(percentile(latencies, 0.5)),
        "p99": _ms(percentile(latencies, 0.99)),
        "max": _ms(max(latencies)),
        "mean": _ms(sum(latencies) / len(latencies)),
        "samples": len(latencies),
    }


# --- the summary ------------------------------------------------------------------------


def latencies_of(record: RunRecord, lo: float = -math.inf, hi: float = math.inf) -> list[float]:
    """Latencies (s) of committed txs whose submit time is in ``[lo, hi)``."""
    return [
        c - s
        for s, c in zip(record.sent, record.committed, strict=True)
        if _finite(c) and _finite(s) and lo <= s < hi
    ]


def summarise(
    record: RunRecord,
    *,
    ceiling: dict[str, Any] | None = None,
    machine: dict[str, Any] | None = None,
    test: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    submitted = sum(1 for s in record.sent if _finite(s))
    accepted = sum(1 for st in record.status if st in ACCEPTED)
    committed_times = [c for c in record.committed if _finite(c)]
    committed = len(committed_times)
    ok = sum(1 for r in record.receipt if r == "ok")
    failed_receipts = Counter(r for r in record.receipt if r is not None and r != "ok")
    lost = sum(
        1
        for st, c in zip(record.status, record.committed, strict=True)
        if st in ACCEPTED and not _finite(c)
    )
    accept_times = [s for s, st in zip(record.sent, record.status, strict=True) if st in ACCEPTED]
    last_accept = max(accept_times, default=0.0)  # submit time of the last accepted tx
    last_commit = max(committed_times, default=0.0)
    commit_tps = rate(committed, last_commit)
    blocks = [b for b in record.blocks if b.bench_txs > 0]
    in_range = (
        [b for b in record.blocks if blocks[0].height <= b.height <= blocks[-1].height]
        if blocks
        else []
    )
    intervals = [b.time_ms - a.time_ms for a, b in itertools.pairwise(in_range)]
    cpu_per_tx = [c / committed if committed else None for c in record.node_cpu_s]
    ceiling_tps = float(ceiling["ceiling_tps"]) if ceiling else 0.0
    summary: dict[str, Any] = {
        "kind": REPORT_KIND,
        "label": record.label,
        "test": test,
        "workload": record.workload,
        "validators": record.validators,
        "phases": [
            {
                "name": p.name,
                "mode": p.mode,
                "start_s": round(p.start, 3),
                "end_s": round(p.end, 3),
                "rate": p.rate,
                "clients": p.clients,
            }
            for p in record.phases
        ],
        "txs": {
            "submitted": submitted,
            "accepted": accepted,
            "rejected": dict(sorted(record.rejects.items())),
            "committed": committed,
            "duplicates": record.duplicates,
            "lost": lost,
            "ok": ok,
            "failed_receipts": dict(sorted(failed_receipts.items())),
            "presigned_exhausted": record.exhausted,
        },
        "stalled": record.stalled,
        "success_rate": fraction(ok, submitted),
        "receive_tps": rate(accepted, last_accept),
        "commit_tps": commit_tps,
        "send_commit_ratio": fraction(rate(accepted, last_accept), commit_tps),
        "latency_ms": latency_stats(latencies_of(record)),
        "wall_s": round(last_commit, 3),
        "max_send_lag_ms": round(record.max_send_lag_s * 1000, 1),
        "blocks": {
            "count": len(in_range),
            "with_bench_txs": len(blocks),
            "interval_ms_mean": (sum(intervals) / len(intervals)) if intervals else None,
            "interval_ms_median": percentile(intervals, 0.5) if intervals else None,
            "txs_per_block_mean": (
                sum(b.tx_count for b in in_range) / len(in_range) if in_range else None
            ),
            "txs_per_block_max": max((b.tx_count for b in in_range), default=None),
        },
        "nodes": record.node_names,
        "cpu_s_per_tx_per_node": cpu_per_tx,
        "cpu_us_per_tx_per_node_mean": (
            sum(c for c in cpu_per_tx if c is not None) / len(cpu_per_tx) * 1e6
            if cpu_per_tx and committed
            else None
        ),
        "cpu_s_per_node": [round(c, 3) for c in record.node_cpu_s],
        "peak_rss_mib_per_node": [round(r / MIB, 1) for r in record.node_peak_rss],
        "client_cpu_s": round(record.client_cpu_s, 3),
        "crashed": record.crashed,
        "ceiling": ceiling,
        "ceiling_fraction": fraction(commit_tps, ceiling_tps) if ceiling_tps else None,
        "machine": machine,
        "timeseries": timeseries(record),
    }
    if test == "stability":
        summary["stability"] = stability_stats(record)
    if test == "spike":
        summary["spike"] = spike_stats(record)
    summary["verdict"] = verdict(summary, test)
    if extra:
        summary.update(extra)
    return summary


def timeseries(record: RunRecord, bucket_s: float = 1.0) -> list[dict[str, Any]]:
    """Per ``bucket_s``: txs submitted, committed, and latency of the txs committed in it."""
    horizon = max(
        [*(c for c in record.committed if _finite(c)), *(s for s in record.sent if _finite(s))],
        default=0.0,
    )
    buckets = int(horizon // bucket_s) + 1 if horizon > 0 else 0
    sub = [0] * buckets
    com = [0] * buckets
    lat: list[list[float]] = [[] for _ in range(buckets)]
    for s, c in zip(record.sent, record.committed, strict=True):
        if _finite(s) and s >= 0:
            sub[min(buckets - 1, int(s // bucket_s))] += 1
        if _finite(c) and c >= 0:
            k = min(buckets - 1, int(c // bucket_s))
            com[k] += 1
            if _finite(s):
                lat[k].append(c - s)

    def by_bucket(samples: list[tuple[float, list[int]]]) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for t, values in samples:
            if t >= 0:
                out.setdefault(int(t // bucket_s), [round(v / MIB, 1) for v in values])
        return out

    rss, anon = by_bucket(record.rss_samples), by_bucket(record.anon_samples)
    return [
        {
            "t": round(k * bucket_s, 3),
            "submitted_tps": sub[k] / bucket_s,
            "committed_tps": com[k] / bucket_s,
            "latency_p50_ms": _ms(percentile(lat[k], 0.5)) if lat[k] else None,
            "latency_p99_ms": _ms(percentile(lat[k], 0.99)) if lat[k] else None,
            "rss_mib": rss.get(k),
            "anon_mib": anon.get(k),
        }
        for k in range(buckets)
    ]


def _load_span(record: RunRecord) -> tuple[float, float]:
    if record.phases:
        return record.phases[0].start, record.phases[-1].end
    sent = [s for s in record.sent if _finite(s)]
    return (min(sent), max(sent)) if sent else (0.0, 0.0)


def stability_stats(record: RunRecord) -> dict[str, Any]:
    """Latency and RSS of the first tenth of the load period against its last tenth."""
    start, end = _load_span(record)
    tenth = (end - start) / 10
    first = latencies_of(record, start, start + tenth)
    last = latencies_of(record, end - tenth, end + 1e-9)

    def mean_mib(samples: list[tuple[float, list[int]]], lo: float, hi: float) -> list[float]:
        rows = [v for t, v in samples if lo <= t <= hi]
        if not rows:
            return []
        return [sum(r[i] for r in rows) / len(rows) / MIB for i in range(len(rows[0]))]

    def growth(samples: list[tuple[float, list[int]]]) -> tuple[list[float], list[float]]:
        first = mean_mib(samples, start, start + tenth)
        last = mean_mib(samples, end - tenth, end)
        return first, [b - a for a, b in zip(first, last, strict=False)]

    rss_first, rss_growth = growth(record.rss_samples)
    anon_first, anon_growth = growth(record.anon_samples)
    f, last_stats = latency_stats(first), latency_stats(last)
    p99_first, p99_last = f["p99"], last_stats["p99"]
    drift = (
        fraction(p99_last - p99_first, p99_first)
        if p99_first is not None and p99_last is not None
        else None
    )
    return {
        "first_tenth_latency_ms": f,
        "last_tenth_latency_ms": last_stats,
        "p99_drift": drift,
        "rss_first_tenth_mib": [round(x, 1) for x in rss_first],
        "rss_growth_mib": [round(x, 1) for x in rss_growth],
        "anon_first_tenth_mib": [round(x, 1) for x in anon_first],
        "anon_growth_mib": [round(x, 1) for x in anon_growth],
        "duration_s": round(end - start, 1),
    }


def spike_stats(record: RunRecord) -> dict[str, Any]:
    """Per phase (before / spike / after): offered rate, success, latency; and the recovery
    time: from the spike's end to the first 1-s bucket (by submit time) from which on every
    bucket's p99 is back under ``2 × p99 before + 500 ms``."""
    phases = {p.name: p for p in record.phases}
    out: dict[str, Any] = {"phases": {}}
    for p in record.phases:
        idx = [i for i, s in enumerate(record.sent) if _finite(s) and p.start <= s < p.end]
        ok = sum(1 for i in idx if record.receipt and record.receipt[i] == "ok")
        out["phases"][p.name] = {
            "offered_tps": p.rate,
            "submitted": len(idx),
            "success_rate": fraction(ok, len(idx)),
            "latency_ms": latency_stats(latencies_of(record, p.start, p.end)),
        }
    before, spike, after = phases.get("before"), phases.get("spike"), phases.get("after")
    recovery_s = None
    if before and spike and after:
        base = out["phases"]["before"]["latency_ms"]["p99"] or 0.0
        limit = max(RECOVERY_P99_FACTOR * base, base + RECOVERY_P99_SLACK_MS) / 1000
        ends = [spike.end + k for k in range(int(after.end - spike.end) + 1)]
        good_from = None
        for lo in ends:
            lats = latencies_of(record, lo, lo + 1)
            lost_here = any(
                _finite(s) and lo <= s < lo + 1 and st in ACCEPTED and not _finite(c)
                for s, st, c in zip(record.sent, record.status, record.committed, strict=True)
            )
            bad = (lats and percentile(lats, 0.99) > limit) or lost_here
            if bad:
                good_from = None
            elif good_from is None and lats:
                good_from = lo
        recovery_s = None if good_from is None else round(good_from - spike.end, 1)
    out["recovery_s"] = recovery_s
    out["recovered"] = recovery_s is not None
    return out


def verdict(summary: dict[str, Any], test: str | None) -> dict[str, Any]:
    """The pass/fail criteria of the test (BENCHMARK.md), with the measured values."""
    txs = summary["txs"]
    exactly_once = txs["duplicates"] == 0 and txs["lost"] == 0
    checks: dict[str, bool] = {
        "exactly_once": exactly_once,
        "no_crash": not summary["crashed"],
        "no_stall": not summary.get("stalled", False),
    }
    if test == "stress":
        checks["success>=95%"] = summary["success_rate"] >= STRESS_MIN_SUCCESS
    elif test == "spike":
        checks["success>=75%"] = summary["success_rate"] >= SPIKE_MIN_SUCCESS
        checks["recovered"] = bool(summary.get("spike", {}).get("recovered"))
    elif test == "stability":
        st = summary.get("stability", {})
        checks["success>=99%"] = summary["success_rate"] >= STABILITY_MIN_SUCCESS
        first = st.get("first_tenth_latency_ms", {}).get("p99")
        last = st.get("last_tenth_latency_ms", {}).get("p99")
        checks["latency_flat"] = (
            first is not None
            and last is not None
            and last <= max(first * (1 + STABILITY_MAX_P99_DRIFT), first + STABILITY_P99_SLACK_MS)
        )
        # the heap (anonymous memory); the file-backed part is mostly LMDB's map of the
        # ledger, which grows with the chain by design
        growth = st.get("anon_growth_mib", [])
        before = st.get("anon_first_tenth_mib", [])
        checks["memory_flat"] = bool(growth) and all(
            g <= max(b * STABILITY_MAX_RSS_GROWTH, STABILITY_RSS_SLACK_MIB)
            for g, b in zip(growth, before, strict=False)
        )
    return {"checks": checks, "passed": all(checks.values())}
