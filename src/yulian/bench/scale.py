"""Introduction: the scale curves of BENCHMARK.md (``yulian bench --scale CURVE``).

* ``validators``: commit TPS and p99 latency of a stress run for 1, 4, 7 and 10 validators
  (one network per point, one process per validator), with the signature ceiling of each;
* ``load``: latency against offered load — one network, a stress probe finds the sustainable
  rate S, then open-loop runs at 10 %, 50 %, 90 % and 100 % of S;
* ``state``: the ``transfer`` workload with 10k and with a large number of accounts (keys of
  state) opened before the run. The accounts are opened through the chain itself: set-up txs
  of ``transfer.open_range`` (10,000 accounts each, committed one after another, untimed) — a
  fast path that needs no access to the nodes' storage and gives every node the same state
  by consensus. 1M keys take 100 such txs.

Defaults fit a 2-core machine in a few minutes (``DEFAULTS``); the full sizes are
``FULL`` (``--full``): more txs per point, longer load points and 1M keys. The networks are
shaped by the same options as a run (``--validators`` for the load and state curves,
``--suite``, ``--block-interval-ms``, ``--max-block-txs``, ``--batch``, ``--verify-workers``).
Also runnable as ``python -m yulian.bench.scale``; ``scale_report`` prints and draws them.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from yulian.bench import figures, report, scale_report, terminal
from yulian.bench.driver import ProgressFn
from yulian.bench.machine import describe, signature_ceiling
from yulian.bench.observations import RunRecord
from yulian.bench.options import SCALE_CURVES, BenchOptions, add_arguments
from yulian.bench.plan import Segment, steady_rate
from yulian.bench.session import BenchSession
from yulian.bench.workloads import WORKLOADS, make_workload

LOAD_FRACTIONS = (0.1, 0.5, 0.9, 1.0)
PRESIGN_RATE = 5000.0  # tx/s assumed when pre-signing a duration point


@dataclass(frozen=True)
class ScaleSizes:
    validator_counts: tuple[int, ...] = (1, 4, 7, 10)
    txs_per_point: int = 2000  # stress points (validators, state)
    probe_s: float = 10.0
    load_point_s: float = 15.0
    state_keys: tuple[int, ...] = (10_000, 200_000)


DEFAULTS = ScaleSizes()
FULL = ScaleSizes(
    txs_per_point=20_000, probe_s=20.0, load_point_s=60.0, state_keys=(10_000, 1_000_000)
)


def _summary(record: RunRecord, suite: str) -> dict[str, Any]:
    ceiling = signature_ceiling(record.validators, suite, seconds=0.3)
    s = figures.summarise(record, ceiling=ceiling.to_dict())
    s.pop("timeseries", None)
    return s


def _point(s: dict[str, Any], **keys: Any) -> dict[str, Any]:
    lat = s["latency_ms"]
    return {
        **keys,
        "commit_tps": s["commit_tps"],
        "receive_tps": s["receive_tps"],
        "success_rate": s["success_rate"],
        "latency_p50_ms": lat["median"],
        "latency_p99_ms": lat["p99"],
        "latency_max_ms": lat["max"],
        "ceiling_tps": (s.get("ceiling") or {}).get("ceiling_tps"),
        "ceiling_fraction": s["ceiling_fraction"],
        "cpu_us_per_tx_per_node": s["cpu_us_per_tx_per_node_mean"],
        "peak_rss_mib_max": max(s["peak_rss_mib_per_node"], default=None),
        "txs_per_block_mean": s["blocks"]["txs_per_block_mean"],
        "stalled": s["stalled"],
        "exactly_once": s["txs"]["duplicates"] == 0 and s["txs"]["lost"] == 0,
    }


def _session(
    base: Path, name: str, opts: BenchOptions, progress: ProgressFn | None
) -> BenchSession:
    workload = make_workload(
        opts.workload, accounts=opts.accounts, tag=f"scale-{name}", orgs=max(2, opts.validators)
    )
    return BenchSession(base / name, workload, opts, progress)


def _stress_point(
    base: Path, name: str, opts: BenchOptions, sizes: ScaleSizes, label: str, progress: Any
) -> tuple[RunRecord, BenchSession]:
    """One network, one stress run of ``sizes.txs_per_point`` txs, the receipts read."""
    session = _session(base, name, opts, progress)
    with session:
        record = session.load(
            [Segment("stress", "stress", count=sizes.txs_per_point)], label, PRESIGN_RATE
        )
    session.fill_receipts()
    return record, session


def curve_validators(
    base: Path, opts: BenchOptions, sizes: ScaleSizes, progress: Any
) -> list[dict[str, Any]]:
    points = []
    for n in sizes.validator_counts:
        at_n = replace(opts, validators=n)
        record, _ = _stress_point(base, f"validators-{n}", at_n, sizes, f"{n} validators", progress)
        points.append(_point(_summary(record, opts.suite), validators=n))
    return points


def curve_load(base: Path, opts: BenchOptions, sizes: ScaleSizes, progress: Any) -> dict[str, Any]:
    session = _session(base, "load", opts, progress)
    points = []
    with session:
        probe = session.load(
            [Segment("probe", "stress", duration=sizes.probe_s)], "probe", PRESIGN_RATE
        )
        sustainable = max(1.0, steady_rate(probe))
        records = []
        for f in LOAD_FRACTIONS:
            r = f * sustainable
            segment = Segment(f"{f:.0%}", "open", rate=r, duration=sizes.load_point_s)
            records.append((f, r, session.load([segment], f"{f:.0%} of S", PRESIGN_RATE)))
    session.fill_receipts()
    for f, r, record in records:
        points.append(_point(_summary(record, opts.suite), fraction=f, offered_tps=round(r, 1)))
    return {"sustainable_tps": sustainable, "validators": opts.validators, "points": points}


def curve_state(
    base: Path, opts: BenchOptions, sizes: ScaleSizes, progress: Any
) -> list[dict[str, Any]]:
    points = []
    for keys in sizes.state_keys:
        at_keys = replace(opts, workload="transfer", accounts=keys)
        record, session = _stress_point(
            base, f"state-{keys}", at_keys, sizes, f"{keys:,} keys", progress
        )
        s = _summary(record, opts.suite)
        points.append(_point(s, state_keys=keys, setup_s=round(session.setup_s, 1)))
    return points


def run_curves(
    curves: Sequence[str], opts: BenchOptions, sizes: ScaleSizes = DEFAULTS, progress: Any = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "yulian-bench-scale/v1",
        "machine": describe(),
        "workload": opts.workload,
        "sizes": {
            "validator_counts": list(sizes.validator_counts),
            "txs_per_point": sizes.txs_per_point,
            "validators": opts.validators,
            "probe_s": sizes.probe_s,
            "load_point_s": sizes.load_point_s,
            "state_keys": list(sizes.state_keys),
            "max_block_txs": opts.max_block_txs,
            "batch": opts.batch,
            "verify_workers": opts.verify_workers,
        },
    }
    with contextlib.ExitStack() as stack:
        if opts.keep is not None:
            base = opts.keep
            base.mkdir(parents=True, exist_ok=True)
        else:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yulian-scale-")))
        if "validators" in curves:
            out["validators"] = curve_validators(base, opts, sizes, progress)
        if "load" in curves:
            out["load"] = curve_load(base, opts, sizes, progress)
        if "state" in curves:
            out["state"] = curve_state(base, opts, sizes, progress)
    return out


def run_scale(opts: BenchOptions, sizes: ScaleSizes, console: Any = None) -> int:
    """The curves of ``opts.scale`` (``validators``, ``load``, ``state`` or ``all``): run,
    print, and write ``--json`` and ``--plot``."""
    curves = list(SCALE_CURVES) if opts.scale == "all" else [str(opts.scale)]
    if any(c not in SCALE_CURVES for c in curves):
        raise ValueError(f"--scale must be one of {', '.join(SCALE_CURVES)} or all")
    if opts.workload not in WORKLOADS:
        raise ValueError(f"unknown workload {opts.workload!r}")
    console = console or terminal.console()
    with contextlib.ExitStack() as stack:
        stack.enter_context(terminal.sigterm_as_exit())
        bar = stack.enter_context(terminal.progress_bar(opts.progress))
        result = run_curves(curves, opts, sizes, bar)
    scale_report.render(result, console)
    if opts.json_path is not None:
        report.write_json(result, opts.json_path)
        console.print(f"curves written to {opts.json_path}")
    if opts.plot_path is not None:
        scale_report.plot(result, opts.plot_path)
        console.print(f"plot written to {opts.plot_path}")
    return 0


def sizes_for(opts: BenchOptions) -> ScaleSizes:
    """The sizes ``--full``, ``--txs`` (per stress point) and ``--duration`` (per load point)
    ask for."""
    sizes = FULL if opts.full else DEFAULTS
    if opts.txs is not None:
        sizes = replace(sizes, txs_per_point=opts.txs)
    if opts.duration is not None:
        sizes = replace(sizes, load_point_s=opts.duration)
    return sizes


def run_for_options(opts: BenchOptions, console: Any) -> int:
    """``yulian bench --scale CURVE``."""
    return run_scale(opts, sizes_for(opts), console)


SCRIPT_OPTIONS = (
    "workload",
    "txs",
    "full",
    "max_block_txs",
    "batch",
    "verify_workers",
    "json_path",
    "plot_path",
    "keep",
    "progress",
)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m yulian.bench.scale CURVE``: the curve, finer sizes, and the run options
    of ``SCRIPT_OPTIONS`` (``--txs``: per stress point)."""
    p = argparse.ArgumentParser(
        prog="python -m yulian.bench.scale", description=__doc__.split("\n")[0]
    )
    p.add_argument("curve", choices=[*SCALE_CURVES, "all"])
    p.add_argument("--validator-counts", help="comma-separated, e.g. 1,4,7,10")
    p.add_argument("--load-seconds", type=float, help="seconds per offered-load point")
    p.add_argument("--state-keys", help="comma-separated, e.g. 10000,1000000")
    add_arguments(p, SCRIPT_OPTIONS)
    a = vars(p.parse_args(argv))
    counts, load_s, keys = a.pop("validator_counts"), a.pop("load_seconds"), a.pop("state_keys")
    opts = BenchOptions(scale=a.pop("curve"), duration=load_s, **a)
    sizes = sizes_for(opts)
    if counts:
        sizes = replace(sizes, validator_counts=tuple(int(x) for x in counts.split(",")))
    if keys:
        sizes = replace(sizes, state_keys=tuple(int(x) for x in keys.split(",")))
    return run_scale(opts, sizes)


if __name__ == "__main__":
    sys.exit(main())
