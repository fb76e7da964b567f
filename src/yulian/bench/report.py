"""Introduction: a bench run's report as the reader gets it — one table, a JSON file, a plot.

``rows`` lays the summary of ``figures.summarise`` out as (metric, value) rows, ``render``
prints them as one table (rich), ``write_json`` keeps the summary (the fields are listed in
``docs/benchmarks.md``), ``plot`` draws throughput and latency over time (matplotlib, Agg
backend, no display needed). ``fmt`` is the one number format of the bench's tables.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_json(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def fmt(x: float | None, unit: str = "", digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:,.{digits}f}{unit}"


def rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The table of one run as (metric, value) rows."""
    txs, lat, blocks = summary["txs"], summary["latency_ms"], summary["blocks"]
    ceiling = summary.get("ceiling") or {}
    out = [
        ("network", summary.get("network_text", f"{summary['validators']} validators")),
        ("workload / test", f"{summary['workload']} / {summary['test'] or 'run'}"),
        ("load", summary.get("load_text", "")),
        (
            "txs submitted / accepted / committed",
            f"{txs['submitted']:,} / {txs['accepted']:,} / {txs['committed']:,}",
        ),
        ("duplicates / lost", f"{txs['duplicates']} / {txs['lost']}"),
    ]
    if txs["rejected"]:
        out.append(("rejected", ", ".join(f"{k} {v}" for k, v in txs["rejected"].items())))
    if txs["failed_receipts"]:
        out.append(
            ("failed receipts", ", ".join(f"{k} {v}" for k, v in txs["failed_receipts"].items()))
        )
    out += [
        ("success rate", f"{summary['success_rate'] * 100:.2f} %"),
        ("receive TPS", fmt(summary["receive_tps"], " tx/s")),
        ("commit TPS", fmt(summary["commit_tps"], " tx/s")),
        (
            "  of the signature ceiling",
            f"{fmt((summary['ceiling_fraction'] or 0) * 100, ' %', 1)} of "
            f"{fmt(ceiling.get('ceiling_tps'), ' tx/s')} "
            f"({ceiling.get('cores')} cores × {fmt(ceiling.get('verify_per_s'))} verify/s "
            f"/ {ceiling.get('validators')} validators)"
            if ceiling
            else "—",
        ),
        (
            "latency median / p99 / max",
            f"{fmt(lat['median'])} / {fmt(lat['p99'])} / {fmt(lat['max'])} ms",
        ),
        (
            "block interval mean / median",
            f"{fmt(blocks['interval_ms_mean'])} / {fmt(blocks['interval_ms_median'])} ms",
        ),
        (
            "txs per block mean / max",
            f"{fmt(blocks['txs_per_block_mean'], '', 1)} / {fmt(blocks['txs_per_block_max'])}"
            f" ({blocks['count']} blocks)",
        ),
        (
            "CPU per committed tx per node",
            " ".join(
                fmt(c * 1e6 if c is not None else None, " µs")
                for c in summary["cpu_s_per_tx_per_node"]
            )
            + f"  (mean {fmt(summary['cpu_us_per_tx_per_node_mean'], ' µs')})",
        ),
        (
            "peak RSS per node",
            " ".join(fmt(r, "") for r in summary["peak_rss_mib_per_node"]) + " MiB",
        ),
        ("bench client CPU", f"{summary['client_cpu_s']:.1f} s"),
        ("wall (first submit → last commit)", f"{summary['wall_s']:.1f} s"),
    ]
    conv = summary.get("convergence")
    if conv:
        out.append(
            (
                "nodes agree",
                f"{'yes' if conv['agree'] else 'NO'}: height {conv['height']}, hash "
                f"{(conv.get('hash') or '')[:16]}…, "
                f"state root {(conv.get('state_root') or '')[:16]}…"
                + ("" if conv.get("same_height") else f" (heights {conv.get('heights')})"),
            )
        )
    if summary.get("probe"):
        p = summary["probe"]
        out.append(
            ("sustainable rate", f"{fmt(p['rate'], ' tx/s')} ({p['source']})"),
        )
    st = summary.get("stability")
    if st:
        f, la = st["first_tenth_latency_ms"], st["last_tenth_latency_ms"]
        out.append(
            (
                "latency p50/p99 first → last tenth",
                f"{fmt(f['median'])}/{fmt(f['p99'])} → {fmt(la['median'])}/{fmt(la['p99'])} ms",
            )
        )
        out.append(
            (
                "memory growth per node, first → last tenth",
                "heap (anonymous) "
                + " ".join(f"{g:+.1f}" for g in st["anon_growth_mib"])
                + " MiB; RSS incl. LMDB map "
                + " ".join(f"{g:+.1f}" for g in st["rss_growth_mib"])
                + f" MiB (over {st['duration_s']:.0f} s)",
            )
        )
    sp = summary.get("spike")
    if sp:
        for name, ph in sp["phases"].items():
            out.append(
                (
                    f"  {name}",
                    f"{fmt(ph['offered_tps'], ' tx/s offered')}, {ph['submitted']:,} txs, "
                    f"success {ph['success_rate'] * 100:.1f} %, p99 "
                    f"{fmt(ph['latency_ms']['p99'])} ms",
                )
            )
        out.append(("recovery after the spike", fmt(sp["recovery_s"], " s", 1)))
    if summary.get("stalled"):
        out.append(("STALLED", "txs in flight and none committed for 30 s: see the node logs"))
    if summary.get("crashed"):
        out.append(("CRASHED", ", ".join(summary["crashed"])))
    v = summary["verdict"]
    out.append(
        (
            "verdict",
            ("PASS" if v["passed"] else "FAIL")
            + "  ("
            + ", ".join(f"{k} {'✓' if ok else '✗'}" for k, ok in v["checks"].items())
            + ")",
        )
    )
    m = summary.get("machine") or {}
    if m:
        out.append(
            (
                "machine",
                f"{m.get('cores')} cores, {m.get('cpu_model')}, {m.get('memory_gib')} GiB, "
                f"Python {m.get('python')}, load avg {m.get('load_average_1m')} at start",
            )
        )
    return out


def render(summary: dict[str, Any], console: Any = None, title: str | None = None) -> None:
    """Print the summary as one table (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=title or f"yulian bench — {summary['label']}", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    for key, value in rows(summary):
        table.add_row(key, value)
    console.print(table)


def plot(summaries: Sequence[dict[str, Any]], path: Path) -> None:
    """Throughput (submitted and committed tx/s) and latency (p50, p99) per second, one column
    of two panels per summary, to a PNG at ``path``."""
    plt = pyplot()
    n = max(1, len(summaries))
    fig, axes = plt.subplots(2, n, figsize=(7 * n, 6.5), squeeze=False, sharex="col")
    for col, s in enumerate(summaries):
        ts = s["timeseries"]
        t = [row["t"] for row in ts]
        top, bottom = axes[0][col], axes[1][col]
        top.plot(t, [row["submitted_tps"] for row in ts], label="submitted", lw=1)
        top.plot(t, [row["committed_tps"] for row in ts], label="committed", lw=1.5)
        top.set_ylabel("tx/s")
        top.set_title(
            f"{s['label']}: commit {s['commit_tps']:,.0f} tx/s, "
            f"success {s['success_rate'] * 100:.1f} %",
            fontsize=9,
        )
        for p in s.get("phases", []):
            top.axvline(p["end_s"], color="grey", lw=0.5, ls=":")
        top.legend(loc="upper right", fontsize=8)
        top.grid(alpha=0.3)

        def series(key: str, rows: list[dict[str, Any]] = ts) -> list[float]:
            return [r[key] if r[key] is not None else math.nan for r in rows]

        bottom.plot(t, series("latency_p50_ms"), label="p50", lw=1)
        bottom.plot(t, series("latency_p99_ms"), label="p99", lw=1)
        bottom.set_ylabel("latency (ms), by commit second")
        bottom.set_xlabel("seconds since the first submit")
        bottom.legend(loc="upper right", fontsize=8)
        bottom.grid(alpha=0.3)
    m = summaries[0].get("machine") or {} if summaries else {}
    fig.suptitle(
        f"yulian bench — {m.get('cores', '?')} cores, {m.get('cpu_model', '?')}, "
        f"Python {m.get('python', '?')}",
        fontsize=10,
    )
    save_png(fig, path)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed), loaded only for a plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: Path) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
