"""Introduction: one ``yulian bench`` run — a real network on loopback, loaded through the API.

1. measures the signature ceiling of this machine (``machine.signature_ceiling``);
2. starts a bench network and commits the workload's set-up txs (``session``, ``network``);
3. for ``spike`` and ``stability`` without ``--rate``: a short stress probe measures the
   sustainable rate S (``plan.steady_rate``);
4. pre-signs the txs of the load plan (``plan.plan``) and runs it (``driver``);
5. checks that every node has the same block hash and state root at a common height, stops
   the network, reads the receipts, and summarises (``figures``) — the report that
   ``--json`` writes and ``report`` prints.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from yulian.bench import figures
from yulian.bench.driver import ProgressFn
from yulian.bench.machine import describe, signature_ceiling
from yulian.bench.observations import RunRecord
from yulian.bench.options import BenchOptions
from yulian.bench.plan import Segment, plan, steady_rate
from yulian.bench.session import BenchSession
from yulian.bench.subscribers import attach
from yulian.bench.workloads import make_workload


def submission_text(batch: int) -> str:
    return (
        "1 tx per request (POST /v1/txs)"
        if batch == 1
        else (f"{batch} txs per request (POST /v1/txs/batch)")
    )


def run_bench(
    opts: BenchOptions, progress: ProgressFn | None = None
) -> tuple[dict[str, Any], RunRecord]:
    """One ``yulian bench`` run; returns the report (the ``--json`` document) and the record."""
    opts.check()
    machine = describe()
    ceiling = signature_ceiling(opts.validators, opts.suite)
    presign_rate = max(1000.0, min(ceiling.tps, 5000.0))
    workload = make_workload(
        opts.workload,
        accounts=opts.accounts,
        batches=opts.batches,
        seed=opts.seed,
        tag=f"{os.getpid()}-{time.time_ns()}",
        orgs=max(2, opts.validators),
    )
    with contextlib.ExitStack() as stack:
        if opts.keep is not None:
            base = Path(opts.keep)
            base.mkdir(parents=True, exist_ok=True)
        else:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yulian-bench-")))
        session = BenchSession(base / "network", workload, opts, progress)
        probe: dict[str, Any] | None = None
        with session:
            sustainable: float | None = None
            if opts.test in ("spike", "stability"):
                if opts.rate is not None:
                    sustainable = opts.rate
                    probe = {"rate": sustainable, "source": "given with --rate"}
                else:
                    rec = session.load(
                        [Segment("probe", "stress", duration=opts.probe_s)], "probe", presign_rate
                    )
                    sustainable = max(1.0, steady_rate(rec))
                    probe = {
                        "rate": sustainable,
                        "source": f"{opts.probe_s:.0f} s stress probe",
                        "probe_txs": sum(1 for c in rec.committed if not math.isnan(c)),
                    }
            segments, load_text = plan(opts, sustainable)
            label = f"{opts.workload}, {opts.validators} validators, {opts.test or 'run'}"
            urls = session.net.urls
            with attach(urls, opts.subscribers, opts.stalled_subscribers, base) as subscribers:
                record = session.load(segments, label, presign_rate)
            convergence = session.convergence()
        session.fill_receipts()
        summary = figures.summarise(
            record,
            ceiling=ceiling.to_dict(),
            machine=machine,
            test=opts.test,
            extra={
                **opts.recorded(),  # the options the table marks ``record`` (batch, suite, ...)
                "network_text": session.net.description(),
                "load_text": load_text + "; " + submission_text(opts.batch),
                "verify_workers": session.net.verify_workers,
                "convergence": convergence,
                "probe": probe,
                "setup_s": round(session.setup_s, 2),
                "state_keys": workload.state_keys(),
                "kept": str(base) if opts.keep is not None else None,
                "subscribers_report": subscribers.report,
            },
        )
        summary["verdict"]["checks"]["nodes_agree"] = bool(convergence["agree"])
        summary["verdict"]["passed"] = all(summary["verdict"]["checks"].values())
    return summary, record
