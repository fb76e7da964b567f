"""Introduction: the ``yulian bench`` command — options in, a mode or a network run, exit code out.

``run_command`` takes the parsed ``BenchOptions``: a mode option (``--micro``, ``--scale``)
runs the function its table entry names, otherwise one network run (``runner.run_bench``)
prints its table and writes ``--json`` and ``--plot``. The exit code is 0 on a passing
verdict, 1 on a failing one, 2 on a bad option. ``typer_command`` is the ``yulian bench``
sub-command and ``main`` is ``python -m yulian.bench``, both built from the option table.
The network run's modules load only when a run starts, so the ``yulian`` command starts fast.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from yulian.bench import report, terminal
from yulian.bench.options import BenchOptions, Option, parse_args, typer_parameters
from yulian.bench.workloads import WORKLOADS


def run_command(opts: BenchOptions) -> int:
    """What ``yulian bench`` does with its options; returns the exit code."""
    from rich.console import Console

    console = terminal.console()
    try:
        opts.check_choices()
        mode = opts.mode()
        if mode is not None:
            return run_mode(mode, opts, console)
        opts.check()
    except ValueError as e:
        Console(stderr=True).print(f"[bold red]error:[/] {e}", highlight=False)
        return 2
    from yulian.bench.runner import run_bench

    with contextlib.ExitStack() as stack:
        stack.enter_context(terminal.sigterm_as_exit())
        bar = stack.enter_context(terminal.progress_bar(opts.progress))
        summary, _ = run_bench(opts, bar)
    report.render(summary, console)
    if opts.json_path is not None:
        report.write_json(summary, opts.json_path)
        console.print(f"report written to {opts.json_path}")
    if opts.plot_path is not None:
        report.plot([summary], opts.plot_path)
        console.print(f"plot written to {opts.plot_path}")
    return 0 if summary["verdict"]["passed"] else 1


def run_mode(mode: Option, opts: BenchOptions, console: Any) -> int:
    """Run the function a mode's entry names: ``function(opts, console)``, or with
    ``forwards`` a ``main(argv)`` given those options as flags."""
    assert mode.entry.runs is not None
    module, _, name = mode.entry.runs.partition(":")
    function: Callable[..., int] = getattr(importlib.import_module(module), name)
    if mode.entry.forwards is not None:
        return function(opts.to_argv(mode.entry.forwards))
    return function(opts, console)


def run_micro(opts: BenchOptions, console: Any) -> int:
    """``--micro``: the per-node micro-benchmarks of ``--workload`` (``all``: every one)."""
    from yulian.bench import micro

    results = micro.run_micro(
        workloads=[opts.workload] if opts.workload != "all" else list(WORKLOADS),
        txs=opts.txs or micro.DEFAULT_TXS,
    )
    micro.render(results, console)
    if opts.json_path is not None:
        report.write_json(results, opts.json_path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m yulian.bench`` / ``bench/yulian_bench.py``: the options of ``yulian bench``."""
    return run_command(parse_args(argv))


def typer_command() -> Callable[..., None]:
    """The ``yulian bench`` sub-command: a typer callback whose parameters are the table's."""
    import typer

    def bench(**values: Any) -> None:
        """Benchmark a real network on loopback; one table (docs/benchmarks.md)."""
        raise typer.Exit(run_command(BenchOptions(**values)))

    params = typer_parameters()
    bench.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    bench.__annotations__ = {p.name: p.annotation for p in params}
    return bench
