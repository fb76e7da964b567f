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
``FULL`` (``--full``): more txs per point, longer load points and 1M keys. Also
runnable as ``python -m yulian.bench.scale``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from yulian.bench import report
from yulian.bench.machine import describe, signature_ceiling
from yulian.bench.runner import (
    BenchSession,
    RichProgress,
    Segment,
    auto_verify_workers,
    sigterm_as_exit,
    steady_rate,
)
from yulian.bench.workloads import make_workload

CURVES = ("validators", "load", "state")
LOAD_FRACTIONS = (0.1, 0.5, 0.9, 1.0)


@dataclass(frozen=True)
class ScaleSizes:
    validator_counts: tuple[int, ...] = (1, 4, 7, 10)
    txs_per_point: int = 2000  # stress points (validators, state)
    validators: int = 4  # the network of the load and state curves
    probe_s: float = 10.0
    load_point_s: float = 15.0
    state_keys: tuple[int, ...] = (10_000, 200_000)
    max_block_txs: int | None = None
    block_interval_ms: int | None = None
    batch: int = 1  # txs per request
    verify_workers: int | None = None  # None: auto_verify_workers(validators) per network


DEFAULTS = ScaleSizes()
FULL = ScaleSizes(
    txs_per_point=20_000, probe_s=20.0, load_point_s=60.0, state_keys=(10_000, 1_000_000)
)


def _summary(record: report.RunRecord) -> dict[str, Any]:
    ceiling = signature_ceiling(record.validators, seconds=0.3)
    s = report.summarise(record, ceiling=ceiling.to_dict())
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
    base: Path,
    name: str,
    validators: int,
    workload: str,
    sizes: ScaleSizes,
    progress: Any,
    accounts: int = 10_000,
) -> BenchSession:
    return BenchSession(
        base / name,
        validators,
        make_workload(workload, accounts=accounts, tag=f"scale-{name}"),
        block_interval_ms=sizes.block_interval_ms,
        max_block_txs=sizes.max_block_txs,
        progress=progress,
        batch=sizes.batch,
        verify_workers=(
            sizes.verify_workers
            if sizes.verify_workers is not None
            else auto_verify_workers(validators)
        ),
    )


def curve_validators(
    base: Path, workload: str, sizes: ScaleSizes, progress: Any
) -> list[dict[str, Any]]:
    points = []
    for n in sizes.validator_counts:
        session = _session(base, f"validators-{n}", n, workload, sizes, progress)
        with session:
            record = session.load(
                [Segment("stress", "stress", count=sizes.txs_per_point)], f"{n} validators", 5000
            )
        session.fill_receipts()
        points.append(_point(_summary(record), validators=n))
    return points


def curve_load(base: Path, workload: str, sizes: ScaleSizes, progress: Any) -> dict[str, Any]:
    session = _session(base, "load", sizes.validators, workload, sizes, progress)
    points = []
    with session:
        probe = session.load([Segment("probe", "stress", duration=sizes.probe_s)], "probe", 5000)
        sustainable = max(1.0, steady_rate(probe))
        records = []
        for f in LOAD_FRACTIONS:
            r = f * sustainable
            records.append(
                (
                    f,
                    r,
                    session.load(
                        [Segment(f"{f:.0%}", "open", rate=r, duration=sizes.load_point_s)],
                        f"{f:.0%} of S",
                        5000,
                    ),
                )
            )
    session.fill_receipts()
    for f, r, record in records:
        points.append(_point(_summary(record), fraction=f, offered_tps=round(r, 1)))
    return {"sustainable_tps": sustainable, "validators": sizes.validators, "points": points}


def curve_state(base: Path, sizes: ScaleSizes, progress: Any) -> list[dict[str, Any]]:
    points = []
    for keys in sizes.state_keys:
        session = _session(
            base, f"state-{keys}", sizes.validators, "transfer", sizes, progress, keys
        )
        with session:
            record = session.load(
                [Segment("stress", "stress", count=sizes.txs_per_point)], f"{keys:,} keys", 5000
            )
        session.fill_receipts()
        points.append(_point(_summary(record), state_keys=keys, setup_s=round(session.setup_s, 1)))
    return points


def run_curves(
    curves: Sequence[str],
    *,
    workload: str = "evidence",
    sizes: ScaleSizes = DEFAULTS,
    progress: Any = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "yulian-bench-scale/v1",
        "machine": describe(),
        "workload": workload,
        "sizes": {
            "validator_counts": list(sizes.validator_counts),
            "txs_per_point": sizes.txs_per_point,
            "validators": sizes.validators,
            "probe_s": sizes.probe_s,
            "load_point_s": sizes.load_point_s,
            "state_keys": list(sizes.state_keys),
            "max_block_txs": sizes.max_block_txs,
            "batch": sizes.batch,
            "verify_workers": sizes.verify_workers,
        },
    }
    with contextlib.ExitStack() as stack:
        if keep is not None:
            base = keep
            base.mkdir(parents=True, exist_ok=True)
        else:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yulian-scale-")))
        if "validators" in curves:
            out["validators"] = curve_validators(base, workload, sizes, progress)
        if "load" in curves:
            out["load"] = curve_load(base, workload, sizes, progress)
        if "state" in curves:
            out["state"] = curve_state(base, sizes, progress)
    return out


def _f(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:,.{digits}f}"


def render(result: dict[str, Any], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    m = result["machine"]
    caption = f"{m['cores']} cores, {m['cpu_model']}, Python {m['python']}"
    if "validators" in result:
        t = Table(title=f"scale: validators ({result['workload']}, stress)", caption=caption)
        for col in (
            "validators",
            "commit TPS",
            "of ceiling",
            "p50 / p99 ms",
            "CPU µs/tx/node",
            "peak RSS MiB",
            "ok",
        ):
            t.add_column(col, justify="right")
        for p in result["validators"]:
            t.add_row(
                str(p["validators"]),
                _f(p["commit_tps"]),
                f"{_f((p['ceiling_fraction'] or 0) * 100, 1)} % of {_f(p['ceiling_tps'])}",
                f"{_f(p['latency_p50_ms'])} / {_f(p['latency_p99_ms'])}",
                _f(p["cpu_us_per_tx_per_node"]),
                _f(p["peak_rss_mib_max"]),
                _ok(p),
            )
        console.print(t)
    if "load" in result:
        lo = result["load"]
        t = Table(
            title=f"scale: latency against offered load ({lo['validators']} validators, "
            f"S = {_f(lo['sustainable_tps'])} tx/s)",
            caption=caption,
        )
        for col in ("offered", "offered TPS", "commit TPS", "p50 ms", "p99 ms", "max ms", "ok"):
            t.add_column(col, justify="right")
        for p in lo["points"]:
            t.add_row(
                f"{p['fraction']:.0%}",
                _f(p["offered_tps"]),
                _f(p["commit_tps"]),
                _f(p["latency_p50_ms"]),
                _f(p["latency_p99_ms"]),
                _f(p["latency_max_ms"]),
                _ok(p),
            )
        console.print(t)
    if "state" in result:
        t = Table(title="scale: state size (transfer, stress)", caption=caption)
        for col in (
            "keys",
            "set-up s",
            "commit TPS",
            "p50 / p99 ms",
            "CPU µs/tx/node",
            "peak RSS MiB",
            "ok",
        ):
            t.add_column(col, justify="right")
        for p in result["state"]:
            t.add_row(
                f"{p['state_keys']:,}",
                _f(p["setup_s"], 1),
                _f(p["commit_tps"]),
                f"{_f(p['latency_p50_ms'])} / {_f(p['latency_p99_ms'])}",
                _f(p["cpu_us_per_tx_per_node"]),
                _f(p["peak_rss_mib_max"]),
                _ok(p),
            )
        console.print(t)


def _ok(p: dict[str, Any]) -> str:
    if p["stalled"]:
        return "STALLED"
    return f"{p['success_rate'] * 100:.1f} %" + ("" if p["exactly_once"] else " (dup/lost!)")


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [c for c in CURVES if c in result]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, curve in zip(axes[0], panels, strict=True):
        if curve == "validators":
            pts = result["validators"]
            x = [p["validators"] for p in pts]
            (a,) = ax.plot(x, [p["commit_tps"] for p in pts], "o-", label="commit TPS")
            ax.set_xlabel("validators")
            ax.set_ylabel("commit tx/s")
            ax2 = ax.twinx()
            (b,) = ax2.plot(
                x, [p["latency_p99_ms"] or math.nan for p in pts], "s--", color="C1", label="p99"
            )
            ax2.set_ylabel("p99 latency (ms)")
            ax.legend(handles=[a, b], fontsize=8)
            ax.set_title("commit TPS and p99 vs validators", fontsize=9)
        elif curve == "load":
            pts = result["load"]["points"]
            x = [p["offered_tps"] for p in pts]
            ax.plot(x, [p["latency_p50_ms"] or math.nan for p in pts], "o-", label="p50")
            ax.plot(x, [p["latency_p99_ms"] or math.nan for p in pts], "s-", label="p99")
            ax.set_xlabel("offered load (tx/s)")
            ax.set_ylabel("latency (ms)")
            ax.legend(fontsize=8)
            ax.set_title(
                f"latency vs offered load (S = {result['load']['sustainable_tps']:,.0f} tx/s)",
                fontsize=9,
            )
        else:
            pts = result["state"]
            x = [p["state_keys"] for p in pts]
            (a,) = ax.plot(x, [p["commit_tps"] for p in pts], "o-", label="commit TPS")
            ax.set_xscale("log")
            ax.set_xlabel("keys of state")
            ax.set_ylabel("commit tx/s (transfer)")
            ax2 = ax.twinx()
            (b,) = ax2.plot(
                x, [p["latency_p99_ms"] or math.nan for p in pts], "s--", color="C1", label="p99"
            )
            ax2.set_ylabel("p99 latency (ms)")
            ax.legend(handles=[a, b], fontsize=8)
            ax.set_title("commit TPS and p99 vs state size", fontsize=9)
        ax.grid(alpha=0.3)
    m = result["machine"]
    fig.suptitle(f"yulian bench --scale — {m['cores']} cores, {m['cpu_model']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_scale(
    curve: str,
    *,
    workload: str = "evidence",
    json_path: Path | None = None,
    plot_path: Path | None = None,
    progress: bool = True,
    console: Any = None,
    full: bool = False,
    sizes: ScaleSizes | None = None,
    keep: Path | None = None,
) -> int:
    """``yulian bench --scale CURVE`` (``validators``, ``load``, ``state`` or ``all``)."""
    from rich.console import Console

    curves = list(CURVES) if curve == "all" else [curve]
    if any(c not in CURVES for c in curves):
        raise ValueError(f"--scale must be one of {', '.join(CURVES)} or all")
    if workload not in ("evidence", "transfer", "transfer-hot", "trace", "noop"):
        raise ValueError(f"unknown workload {workload!r}")
    chosen = sizes or (FULL if full else DEFAULTS)
    console = console or (Console() if sys.stdout.isatty() else Console(width=120))
    with contextlib.ExitStack() as stack:
        stack.enter_context(sigterm_as_exit())
        bar = stack.enter_context(RichProgress()) if progress and sys.stderr.isatty() else None
        result = run_curves(curves, workload=workload, sizes=chosen, progress=bar, keep=keep)
    render(result, console)
    if json_path is not None:
        report.write_json(result, json_path)
        console.print(f"curves written to {json_path}")
    if plot_path is not None:
        plot(result, plot_path)
        console.print(f"plot written to {plot_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m yulian.bench.scale", description=__doc__.split("\n")[0]
    )
    p.add_argument("curve", choices=[*CURVES, "all"])
    p.add_argument("--workload", default="evidence")
    p.add_argument("--full", action="store_true", help="the full sizes (20k txs, 1M keys, ...)")
    p.add_argument("--validator-counts", help="comma-separated, e.g. 1,4,7,10")
    p.add_argument("--txs", type=int, help="txs per stress point")
    p.add_argument("--load-seconds", type=float, help="seconds per offered-load point")
    p.add_argument("--state-keys", help="comma-separated, e.g. 10000,1000000")
    p.add_argument("--max-block-txs", type=int)
    p.add_argument("--batch", type=int, default=1, help="txs per request")
    p.add_argument("--verify-workers", type=int, help="signature processes per node")
    p.add_argument("--json", dest="json_path", type=Path)
    p.add_argument("--plot", dest="plot_path", type=Path)
    p.add_argument("--keep", type=Path)
    p.add_argument("--no-progress", dest="progress", action="store_false")
    a = p.parse_args(argv)
    sizes = FULL if a.full else DEFAULTS
    if a.validator_counts:
        sizes = replace(
            sizes, validator_counts=tuple(int(x) for x in a.validator_counts.split(","))
        )
    if a.txs:
        sizes = replace(sizes, txs_per_point=a.txs)
    if a.load_seconds:
        sizes = replace(sizes, load_point_s=a.load_seconds)
    if a.state_keys:
        sizes = replace(sizes, state_keys=tuple(int(x) for x in a.state_keys.split(",")))
    if a.max_block_txs:
        sizes = replace(sizes, max_block_txs=a.max_block_txs)
    sizes = replace(sizes, batch=a.batch, verify_workers=a.verify_workers)
    return run_scale(
        a.curve,
        workload=a.workload,
        json_path=a.json_path,
        plot_path=a.plot_path,
        progress=a.progress,
        sizes=sizes,
        keep=a.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
