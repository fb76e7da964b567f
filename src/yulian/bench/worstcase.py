"""Introduction: the worst CPU time and memory one step can buy, per charged operation.

``python -m yulian.bench.worstcase`` (``main``) prints the table and the bound.

For every charged operation, each adversarial case of ``bench.adversarial`` (and, with
``--search``, random programs from its grammar) runs as a contract until its step budget is
spent; the CPU time of the invocation divided by its steps is what one step of that operation
costs on this machine, and the peak memory it traced divided by its steps what one step can
keep. The table shows, per operation, the worst input found, its nanoseconds per step, the
ratio to the median operation, and the worst bytes per step. Below it: the bound these
figures give at the default step limit — no transaction takes more CPU time or memory than
the worst operation repeated for the whole budget — and whether it is within ``--max-ms`` /
``--max-mib`` (the bound ``docs/contracts.md`` states).

CPU time is the best of ``--repeat`` runs (the machine's other load only ever adds to it);
memory is measured in a separate run under ``tracemalloc``. Cases that end early by design
(refused inputs: a ``fault``) are listed with their status, not ranked.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from yulian.bench.adversarial import CASES, FAULT, REJECTED, Case
from yulian.bench.machine import describe
from yulian.bench.search import random_programs
from yulian.bench.world import fresh_world
from yulian.contracts import (
    DEFAULT_STEP_LIMIT,
    BlockInfo,
    CompiledContract,
    ContractRejected,
    Outcome,
    Sender,
    TxInfo,
    compile_contract,
)
from yulian.execution.executor import OverlayCalls
from yulian.execution.overlay import ContractStateAdapter

DEFAULT_STEPS = 100_000  # budget of one timed run
DEFAULT_REPEAT = 3
DEFAULT_SEARCH = 60
MEMORY_STEPS_FRACTION = 4  # the memory run spends a quarter of the timed budget
RANKED_FRACTION = 0.5  # a case is ranked when it ran at least half its budget
DEFAULT_MAX_MS = 500
DEFAULT_MAX_MIB = 128


@dataclass(frozen=True)
class Measurement:
    operation: str
    variant: str
    status: str
    message: str
    steps: int
    ns_per_step: float
    bytes_per_step: float

    @property
    def ranked(self) -> bool:
        return self.status not in (FAULT, REJECTED)


World = tuple[ContractStateAdapter, OverlayCalls]


def invoke(contract: CompiledContract, step_limit: int, world: World | None = None) -> Outcome:
    """One case's invocation, in ``world`` (``bench.world``; a fresh one if not given)."""
    state, calls = world if world is not None else fresh_world()
    return contract.invoke(
        "run",
        [],
        sender=Sender("org1", "client", "c0ffee"),
        block=BlockInfo(7, 1_700_000_000_000),
        tx=TxInfo("ab" * 32),
        state=state,
        step_limit=step_limit,
        calls=calls,
    )


def _timed(contract: CompiledContract, steps: int, repeat: int) -> tuple[float, Outcome]:
    """The least CPU time of ``repeat`` invocations (the machine's other load only adds)."""
    best = float("inf")
    outcome = None
    for _ in range(max(1, repeat)):
        world = fresh_world()
        gc.collect()
        started = time.process_time()
        outcome = invoke(contract, steps, world)
        best = min(best, time.process_time() - started)
    assert outcome is not None
    return best, outcome


def traced_peak(contract: CompiledContract, steps: int) -> tuple[int, Outcome]:
    """Peak memory traced during one invocation, above what was live before it."""
    world = fresh_world()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        outcome = invoke(contract, steps, world)
        return tracemalloc.get_traced_memory()[1] - base, outcome
    finally:
        tracemalloc.stop()


def measure_case(case: Case, steps: int, repeat: int) -> Measurement:
    """Time and trace ``case`` and its set-up alone; the difference is the loop's."""
    try:
        contract = compile_contract("worstcase", case.source())
        setup = compile_contract("worstcase", case.source(setup_only=True))
    except ContractRejected as e:
        return Measurement(case.operation, case.variant, REJECTED, e.reason[:80], 0, 0.0, 0.0)
    cpu, outcome = _timed(contract, steps, repeat)
    setup_cpu, setup_outcome = _timed(setup, steps, repeat)
    memory_steps = max(1000, steps // MEMORY_STEPS_FRACTION)
    peak, traced = traced_peak(contract, memory_steps)
    setup_peak, setup_traced = traced_peak(setup, memory_steps)
    loop_steps = outcome.steps - setup_outcome.steps
    traced_steps = traced.steps - setup_traced.steps
    return Measurement(
        case.operation,
        case.variant,
        outcome.status,
        outcome.message[:80],
        loop_steps,
        max(cpu - setup_cpu, 0.0) * 1e9 / max(loop_steps, 1),
        max(peak - setup_peak, 0) / max(traced_steps, 1),
    )


def measure_all(cases: Sequence[Case], steps: int, repeat: int) -> list[Measurement]:
    return [measure_case(case, steps, repeat) for case in cases]


def summarise(results: Sequence[Measurement], steps: int, step_limit: int) -> dict[str, Any]:
    """Per operation its worst variant; the median; the bound at ``step_limit``."""
    worst: dict[str, Measurement] = {}
    memory: dict[str, Measurement] = {}
    for m in results:
        if not m.ranked or m.steps < steps * RANKED_FRACTION:
            continue
        if m.operation not in worst or m.ns_per_step > worst[m.operation].ns_per_step:
            worst[m.operation] = m
        if m.operation not in memory or m.bytes_per_step > memory[m.operation].bytes_per_step:
            memory[m.operation] = m
    if not worst:
        raise ValueError("no case ran long enough to be ranked")
    median = statistics.median(m.ns_per_step for m in worst.values())
    slowest = max(worst.values(), key=lambda m: m.ns_per_step)
    hungriest = max(memory.values(), key=lambda m: m.bytes_per_step)
    rows = [
        {
            "operation": op,
            "variant": m.variant,
            "ns_per_step": m.ns_per_step,
            # a loop too short to time (3,000 steps under load) can measure 0 ns
            "ratio_to_median": m.ns_per_step / median if median > 0 else None,
            "bytes_per_step": memory[op].bytes_per_step,
            "memory_variant": memory[op].variant,
        }
        for op, m in sorted(worst.items(), key=lambda item: -item[1].ns_per_step)
    ]
    return {
        "rows": rows,
        "median_ns_per_step": median,
        "slowest": asdict(slowest),
        "hungriest": asdict(hungriest),
        "step_limit": step_limit,
        "bound_ms": slowest.ns_per_step * step_limit / 1e6,
        "bound_mib": hungriest.bytes_per_step * step_limit / 2**20,
        "refused": [asdict(m) for m in results if not m.ranked],
        "short": [asdict(m) for m in results if m.ranked and m.steps < steps * RANKED_FRACTION],
    }


def render(summary: dict[str, Any], console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    table = Table(title="yulian bench worstcase: the worst cost of one step, per operation")
    table.add_column("operation", style="bold")
    table.add_column("worst input found")
    table.add_column("ns / step", justify="right")
    table.add_column("× median", justify="right")
    table.add_column("bytes / step", justify="right")
    for row in summary["rows"]:
        table.add_row(
            escape(row["operation"]),
            escape(row["variant"][:60]),
            f"{row['ns_per_step']:,.0f}",
            "-" if row["ratio_to_median"] is None else f"{row['ratio_to_median']:.1f}",
            f"{row['bytes_per_step']:,.0f}",
        )
    m = summary["machine"]
    table.caption = (
        f"{m['cores']} cores, {m['cpu_model']}, Python {m['python']}, load {m['load_average_1m']}; "
        f"median {summary['median_ns_per_step']:,.0f} ns/step; CPU best of {summary['repeat']} "
        f"runs of {summary['steps']:,} steps"
    )
    console.print(table)
    slow, hungry = summary["slowest"], summary["hungriest"]
    console.print(
        f"bound at the default step limit ({summary['step_limit']:,} steps): "
        f"[bold]{summary['bound_ms']:,.0f} ms[/bold] CPU "
        f"({slow['operation']} [{slow['variant'][:60]}]), "
        f"[bold]{summary['bound_mib']:,.0f} MiB[/bold] "
        f"({hungry['operation']} [{hungry['variant'][:60]}])"
    )
    for m in summary["refused"]:
        console.print(escape(f"refused: {m['operation']} [{m['variant']}] -> {m['message']}"))
    for m in summary["short"]:
        console.print(
            escape(
                f"ended early: {m['operation']} [{m['variant']}] -> {m['status']}: {m['message']}"
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yulian.bench.worstcase", description=__doc__)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="budget of a timed run")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per case")
    parser.add_argument("--search", type=int, default=DEFAULT_SEARCH, help="random programs")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random programs")
    parser.add_argument("--only", default="", help="regex: run the matching cases only")
    parser.add_argument("--step-limit", type=int, default=DEFAULT_STEP_LIMIT)
    parser.add_argument("--max-ms", type=float, default=DEFAULT_MAX_MS)
    parser.add_argument("--max-mib", type=float, default=DEFAULT_MAX_MIB)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    cases = [*CASES, *random_programs(args.search, args.seed)]
    if args.only:
        pattern = re.compile(args.only)
        cases = [c for c in cases if pattern.search(c.name)]
    results = measure_all(cases, args.steps, args.repeat)
    summary = summarise(results, args.steps, args.step_limit)
    summary.update(machine=describe(), steps=args.steps, repeat=args.repeat, seed=args.seed)
    render(summary)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"kind": "yulian-bench-worstcase/v1", **summary}, f, indent=2)
    within = summary["bound_ms"] <= args.max_ms and summary["bound_mib"] <= args.max_mib
    print(f"within {args.max_ms:g} ms and {args.max_mib:g} MiB: {'yes' if within else 'NO'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
