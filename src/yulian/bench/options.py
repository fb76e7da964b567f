"""Introduction: the options of ``yulian bench``, declared once.

``BenchOptions`` is the option table: a field whose annotation carries an ``Entry`` is one
command-line option, and the entry says everything the front ends need — its help, its flag
when that is not ``--field-name``, its choices, whether the ``--json`` report echoes it, and
for a *mode* (``--micro``, ``--scale``) which function runs instead of a network run.
From the table come the typer parameters of ``yulian bench`` (``typer_parameters``), the
argument parser of ``python -m yulian.bench`` and of the scale script (``add_arguments``),
the flags handed on to a mode's own ``main(argv)`` (``to_argv``), the check of every choice
(``check_choices``) and the report's echo of the options (``recorded``); an option added here
appears in all of them. Fields without an entry are knobs that only code sets (tests, the
scale curves).

A bool option that is on by default is turned off with ``--no-NAME``. The ``yulian`` command
builds its parameters from this module when it starts, so it imports only light modules.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from yulian.bench.workloads import WORKLOADS
from yulian.node.config import MAX_VERIFY_WORKERS

TESTS = ("stress", "spike", "stability")
SUITES = ("standard", "gm")
STORAGES = ("lmdb", "postgres")  # postgres: one throwaway server, a schema per node
SCALE_CURVES = ("validators", "load", "state")
DEFAULT_TXS = 2000  # a run without --txs and --duration submits this many
PRESIGN_CAP = 300_000  # the most txs one run signs ahead of time
MAX_VALIDATORS = 64
MAX_CLIENTS = 4096
MAX_DURATION_S = 7 * 86400
MAX_SUBSCRIBERS = 256  # the node's own limit on event-stream connections


@dataclass(frozen=True)
class Entry:
    """How one field of ``BenchOptions`` appears on the command line (in its annotation)."""

    help: str
    flag: str | None = None  # None: ``--`` + the field name with ``-`` for ``_``
    choices: tuple[str, ...] = ()
    record: bool = False  # the ``--json`` report has a field of this name with its value
    runs: str | None = None  # a mode: ``"module:function"`` that runs when the option is given
    forwards: tuple[str, ...] | None = None  # the mode's function is ``main(argv)``: these options


@dataclass
class BenchOptions:
    """Everything one ``yulian bench`` invocation was asked to do: the option table."""

    validators: Annotated[int, Entry("validator processes")] = 4
    workload: Annotated[
        str, Entry("the workload (all: with --micro)", choices=(*WORKLOADS, "all"))
    ] = "evidence"
    txs: Annotated[int | None, Entry(f"txs to submit (default {DEFAULT_TXS})")] = None
    duration: Annotated[float | None, Entry("seconds of load")] = None
    rate: Annotated[float | None, Entry("open loop: offered tx/s")] = None
    clients: Annotated[int | None, Entry("closed loop: clients")] = None
    test: Annotated[str | None, Entry("the test", choices=TESTS)] = None
    suite: Annotated[str, Entry("crypto suite", choices=SUITES, record=True)] = "standard"
    storage: Annotated[str, Entry("the nodes' ledger backend", choices=STORAGES, record=True)] = (
        "lmdb"
    )
    json_path: Annotated[Path | None, Entry("write the report as JSON", flag="--json")] = None
    plot_path: Annotated[Path | None, Entry("write a PNG over time", flag="--plot")] = None
    micro: Annotated[
        bool, Entry("per-node micro-benchmarks only", runs="yulian.bench.command:run_micro")
    ] = False
    scale: Annotated[
        str | None,
        Entry(
            "scale curves",
            choices=(*SCALE_CURVES, "all"),
            runs="yulian.bench.scale:run_for_options",
        ),
    ] = None
    worst_case: Annotated[
        bool,
        Entry(
            "contract metering: worst-case ns and bytes per step over adversarial programs",
            runs="yulian.bench.worstcase:main",
            forwards=("json_path",),
        ),
    ] = False
    full: Annotated[bool, Entry("--scale: the full sizes (1M keys, ...)")] = False
    keep: Annotated[Path | None, Entry("keep the network (and node logs) under DIR")] = None
    accounts: Annotated[int, Entry("transfer: accounts (keys)")] = 10_000
    block_interval_ms: Annotated[int | None, Entry("genesis: block interval")] = None
    max_block_txs: Annotated[int | None, Entry("genesis: most txs per block")] = None
    progress: Annotated[bool, Entry("a progress bar on a terminal")] = True
    batch: Annotated[
        int, Entry("txs per request (more than 1: POST /v1/txs/batch)", record=True)
    ] = 1
    verify_workers: Annotated[
        int | None,
        Entry(
            "signature-checking processes per node (default: 1 with 2 cores per validator, else 0)"
        ),
    ] = None
    subscribers: Annotated[
        int,
        Entry("event-stream subscribers following every event during the load", record=True),
    ] = 0
    stalled_subscribers: Annotated[
        int, Entry("event-stream subscribers that never read, during the load", record=True)
    ] = 0
    batches: int = 1_000  # trace: product batches
    seed: int = 1
    probe_s: float = 10.0  # spike and stability without --rate: the stress probe's length
    spike_s: float = 30.0

    def check_choices(self) -> None:
        """Refuse a value outside its option's choices (every mode)."""
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            if opt.entry.choices and value is not None and value not in opt.entry.choices:
                raise ValueError(f"{opt.flag} must be one of {', '.join(opt.entry.choices)}")

    def check(self) -> None:
        """Refuse what a network run cannot do, with one clear message (``ValueError``)."""
        from yulian.api.app import MAX_BATCH_TXS  # the API server's module: only when run

        self.check_choices()
        if not 1 <= self.validators <= MAX_VALIDATORS:
            raise ValueError(f"--validators must be 1..{MAX_VALIDATORS}")
        if self.workload == "all":
            raise ValueError("--workload all is for --micro; a run has one workload")
        if self.rate is not None and self.clients is not None:
            raise ValueError("give --rate (open loop) or --clients (closed loop), not both")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("--rate must be positive")
        if self.clients is not None and not 1 <= self.clients <= MAX_CLIENTS:
            raise ValueError(f"--clients must be 1..{MAX_CLIENTS}")
        if self.txs is not None and not 1 <= self.txs <= PRESIGN_CAP:
            raise ValueError(f"--txs must be 1..{PRESIGN_CAP}")
        if self.duration is not None and not 0 < self.duration <= MAX_DURATION_S:
            raise ValueError("--duration must be positive (seconds)")
        if not 1 <= self.batch <= MAX_BATCH_TXS:
            raise ValueError(f"--batch must be 1..{MAX_BATCH_TXS}")
        if self.verify_workers is not None and not 0 <= self.verify_workers <= MAX_VERIFY_WORKERS:
            raise ValueError(f"--verify-workers must be 0..{MAX_VERIFY_WORKERS}")
        for flag, count in (
            ("--subscribers", self.subscribers),
            ("--stalled-subscribers", self.stalled_subscribers),
        ):
            if not 0 <= count <= MAX_SUBSCRIBERS:
                raise ValueError(f"{flag} must be 0..{MAX_SUBSCRIBERS}")
        if self.test == "stress" and (self.rate is not None or self.clients is not None):
            raise ValueError("--test stress sets its own load; leave out --rate/--clients")
        if self.test in ("spike", "stability") and self.clients is not None:
            raise ValueError(f"--test {self.test} is open loop; give --rate S, not --clients")

    def mode(self) -> Option | None:
        """The mode option given (``--micro``, ``--scale``, ...), None for a network run."""
        given = [opt for opt in OPTIONS if opt.entry.runs and getattr(self, opt.name)]
        if len(given) > 1:
            raise ValueError(f"give one of {', '.join(opt.flag for opt in given)}, not several")
        return given[0] if given else None

    def recorded(self) -> dict[str, Any]:
        """The options the ``--json`` report echoes, by field name."""
        return {opt.name: getattr(self, opt.name) for opt in OPTIONS if opt.entry.record}

    def to_argv(self, names: Sequence[str]) -> list[str]:
        """The options ``names`` that differ from their defaults, as command-line flags."""
        argv: list[str] = []
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            if opt.name not in names or value == opt.default:
                continue
            if opt.kind is bool:
                argv.append(opt.flag if value else opt.negative_flag)
            else:
                argv += [opt.flag, str(value)]
        return argv


@dataclass(frozen=True)
class Option:
    """One row of the option table, as the front ends read it."""

    name: str
    annotation: Any  # the field's type without its entry, e.g. ``int | None``
    default: Any
    entry: Entry

    @property
    def flag(self) -> str:
        return self.entry.flag or "--" + self.name.replace("_", "-")

    @property
    def negative_flag(self) -> str:
        return "--no-" + self.flag.removeprefix("--")

    @property
    def kind(self) -> type:
        """The value's type without ``None``: what a command-line string converts to."""
        args = [a for a in typing.get_args(self.annotation) if a is not type(None)]
        if isinstance(self.annotation, types.UnionType) and len(args) == 1:
            return typing.cast(type, args[0])
        return typing.cast(type, self.annotation)

    @property
    def help_text(self) -> str:
        choices = "|".join(self.entry.choices)
        return f"{choices} — {self.entry.help}" if choices else self.entry.help


def _table() -> tuple[Option, ...]:
    hints = typing.get_type_hints(BenchOptions, include_extras=True)
    rows = []
    for f in dataclasses.fields(BenchOptions):
        if typing.get_origin(hints[f.name]) is Annotated:
            annotation, *extras = typing.get_args(hints[f.name])
            entries = [e for e in extras if isinstance(e, Entry)]
            if entries:
                rows.append(Option(f.name, annotation, f.default, entries[0]))
    return tuple(rows)


OPTIONS = _table()


def add_arguments(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Add the options (``names``, default all) to an argparse parser, ``dest`` = field name."""
    for opt in OPTIONS:
        if names is not None and opt.name not in names:
            continue
        if opt.kind is bool:
            action: Any = argparse.BooleanOptionalAction if opt.default else "store_true"
            parser.add_argument(
                opt.flag, dest=opt.name, action=action, default=opt.default, help=opt.help_text
            )
        else:
            parser.add_argument(
                opt.flag, dest=opt.name, type=opt.kind, default=opt.default, help=opt.help_text
            )


def parse_args(argv: Sequence[str] | None = None) -> BenchOptions:
    """``python -m yulian.bench`` — every option of the table."""
    parser = argparse.ArgumentParser(
        prog="yulian bench",
        description="Benchmark a real Yulian network on loopback (see docs/benchmarks.md).",
    )
    add_arguments(parser)
    return BenchOptions(**vars(parser.parse_args(argv)))


def typer_parameters() -> list[inspect.Parameter]:
    """The table as the keyword parameters of a typer command (its signature)."""
    import typer

    params = []
    for opt in OPTIONS:
        decl = opt.flag
        if opt.kind is bool and opt.default:
            decl = f"{opt.flag}/{opt.negative_flag}"
        params.append(
            inspect.Parameter(
                opt.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(opt.default, decl, help=opt.help_text),
                annotation=opt.annotation,
            )
        )
    return params
