"""Introduction: the scale curves as the reader gets them — a table and a panel per curve.

``render`` prints one table per curve in the result of ``scale.run_curves`` (rich);
``plot`` draws one panel per curve (matplotlib, Agg): commit TPS with p99 on a second axis
against validators and against keys of state, p50 and p99 against offered load.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yulian.bench.options import SCALE_CURVES
from yulian.bench.report import fmt, pyplot, save_png

STRESS_COLUMNS = ("p50 / p99 ms", "CPU µs/tx/node", "peak RSS MiB", "ok")


def _ok(p: dict[str, Any]) -> str:
    if p["stalled"]:
        return "STALLED"
    return f"{p['success_rate'] * 100:.1f} %" + ("" if p["exactly_once"] else " (dup/lost!)")


def _stress_cells(p: dict[str, Any]) -> tuple[str, ...]:
    """The cells of ``STRESS_COLUMNS`` for a stress point."""
    return (
        f"{fmt(p['latency_p50_ms'])} / {fmt(p['latency_p99_ms'])}",
        fmt(p["cpu_us_per_tx_per_node"]),
        fmt(p["peak_rss_mib_max"]),
        _ok(p),
    )


def _table(title: str, caption: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Any:
    from rich.table import Table

    t = Table(title=title, caption=caption)
    for col in columns:
        t.add_column(col, justify="right")
    for row in rows:
        t.add_row(*row)
    return t


def render(result: dict[str, Any], console: Any = None) -> None:
    from rich.console import Console

    console = console or Console()
    m = result["machine"]
    caption = f"{m['cores']} cores, {m['cpu_model']}, Python {m['python']}"
    if "validators" in result:
        rows = [
            (
                str(p["validators"]),
                fmt(p["commit_tps"]),
                f"{fmt((p['ceiling_fraction'] or 0) * 100, digits=1)} % of {fmt(p['ceiling_tps'])}",
                *_stress_cells(p),
            )
            for p in result["validators"]
        ]
        columns = ("validators", "commit TPS", "of ceiling", *STRESS_COLUMNS)
        title = f"scale: validators ({result['workload']}, stress)"
        console.print(_table(title, caption, columns, rows))
    if "load" in result:
        lo = result["load"]
        rows = [
            (
                f"{p['fraction']:.0%}",
                fmt(p["offered_tps"]),
                fmt(p["commit_tps"]),
                fmt(p["latency_p50_ms"]),
                fmt(p["latency_p99_ms"]),
                fmt(p["latency_max_ms"]),
                _ok(p),
            )
            for p in lo["points"]
        ]
        columns = ("offered", "offered TPS", "commit TPS", "p50 ms", "p99 ms", "max ms", "ok")
        title = (
            f"scale: latency against offered load ({lo['validators']} validators, "
            f"S = {fmt(lo['sustainable_tps'])} tx/s)"
        )
        console.print(_table(title, caption, columns, rows))
    if "state" in result:
        rows = [
            (
                f"{p['state_keys']:,}",
                fmt(p["setup_s"], digits=1),
                fmt(p["commit_tps"]),
                *_stress_cells(p),
            )
            for p in result["state"]
        ]
        columns = ("keys", "set-up s", "commit TPS", *STRESS_COLUMNS)
        console.print(_table("scale: state size (transfer, stress)", caption, columns, rows))


def _tps_and_p99(ax: Any, pts: list[dict[str, Any]], x: list[int], y_label: str) -> None:
    """Commit TPS against ``x`` on ``ax``, p99 latency on a second axis."""
    (a,) = ax.plot(x, [p["commit_tps"] for p in pts], "o-", label="commit TPS")
    ax.set_ylabel(y_label)
    ax2 = ax.twinx()
    (b,) = ax2.plot(
        x, [p["latency_p99_ms"] or math.nan for p in pts], "s--", color="C1", label="p99"
    )
    ax2.set_ylabel("p99 latency (ms)")
    ax.legend(handles=[a, b], fontsize=8)


def plot(result: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    panels = [c for c in SCALE_CURVES if c in result]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, curve in zip(axes[0], panels, strict=True):
        if curve == "validators":
            pts = result["validators"]
            _tps_and_p99(ax, pts, [p["validators"] for p in pts], "commit tx/s")
            ax.set_xlabel("validators")
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
            _tps_and_p99(ax, pts, [p["state_keys"] for p in pts], "commit tx/s (transfer)")
            ax.set_xscale("log")
            ax.set_xlabel("keys of state")
            ax.set_title("commit TPS and p99 vs state size", fontsize=9)
        ax.grid(alpha=0.3)
    m = result["machine"]
    fig.suptitle(f"yulian bench --scale — {m['cores']} cores, {m['cpu_model']}", fontsize=10)
    save_png(fig, path)
