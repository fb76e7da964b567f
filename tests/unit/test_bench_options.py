"""``yulian bench``'s option table: every front end reads the same options from it.

The typer command (``yulian bench``), the argparse parser (``python -m yulian.bench``), the
flags handed to a mode's ``main(argv)`` and the report's echo of the options are derived from
``BenchOptions``; these tests parse the same command line through each front end and compare,
and check the refusals of bad options before any network starts.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from yulian.bench import scale
from yulian.bench.command import run_mode, typer_command
from yulian.bench.options import OPTIONS, BenchOptions, Entry, Option, parse_args
from yulian.cli.main import app


def every_option_changed() -> BenchOptions:
    """Options in which every entry of the table differs from its default (modes off)."""
    return BenchOptions(
        validators=7,
        workload="transfer",
        txs=123,
        duration=4.5,
        rate=50.0,
        clients=3,
        test="spike",
        suite="gm",
        storage="postgres",
        json_path=Path("out/r.json"),
        plot_path=Path("out/r.png"),
        micro=False,
        scale=None,
        full=True,
        keep=Path("kept"),
        accounts=500,
        block_interval_ms=150,
        max_block_txs=300,
        progress=False,
        batch=25,
        verify_workers=2,
        subscribers=10,
        stalled_subscribers=1,
    )


def bench_click_command() -> click.Command:
    one = typer.Typer()
    one.command(name="bench")(typer_command())
    return typer.main.get_command(one)


def test_the_table_lists_every_option_once_with_its_flag() -> None:
    flags = [opt.flag for opt in OPTIONS]
    assert len(flags) == len(set(flags)) == 24
    assert {"--json", "--plot", "--block-interval-ms", "--verify-workers"} <= set(flags)
    # the knobs that only code sets are not options
    assert not {"batches", "seed", "probe_s", "spike_s"} & {opt.name for opt in OPTIONS}
    command = bench_click_command()
    typer_flags = {f for p in command.params for f in p.opts}
    assert set(flags) <= typer_flags
    assert "--no-progress" in {f for p in command.params for f in p.secondary_opts}


def test_typer_argparse_and_to_argv_read_the_same_options() -> None:
    opts = every_option_changed()
    argv = opts.to_argv([opt.name for opt in OPTIONS])
    # every option differs from its default, so every one but the three modes is on the line
    assert len([a for a in argv if a.startswith("--")]) == len(OPTIONS) - 3
    assert parse_args(argv) == opts
    ctx = bench_click_command().make_context("bench", list(argv))
    assert BenchOptions(**ctx.params) == opts
    assert parse_args([]) == BenchOptions()


def test_the_report_echoes_the_options_marked_record() -> None:
    assert BenchOptions(batch=7, suite="gm", subscribers=3).recorded() == {
        "suite": "gm",
        "storage": "lmdb",
        "batch": 7,
        "subscribers": 3,
        "stalled_subscribers": 0,
    }


def test_modes_and_choices() -> None:
    assert BenchOptions().mode() is None
    micro = BenchOptions(micro=True).mode()
    assert micro is not None and micro.flag == "--micro"
    scale_mode = BenchOptions(scale="load").mode()
    assert scale_mode is not None and scale_mode.entry.runs == "yulian.bench.scale:run_for_options"
    with pytest.raises(ValueError, match="--micro, --scale"):
        BenchOptions(micro=True, scale="load").mode()
    with pytest.raises(ValueError, match="--suite must be one of standard, gm"):
        BenchOptions(suite="rsa").check_choices()
    with pytest.raises(ValueError, match="--test must be one of"):
        BenchOptions(test="soak").check()
    BenchOptions(workload="all", micro=True).check_choices()
    with pytest.raises(ValueError, match="--workload all is for --micro"):
        BenchOptions(workload="all").check()
    with pytest.raises(ValueError, match=r"--batch must be 1\.\.1000"):
        BenchOptions(batch=1001).check()


def test_a_mode_with_forwards_gets_its_options_as_flags() -> None:
    """A mode whose module has ``main(argv)`` (``--worst-case`` will be one) receives the
    options its entry forwards, as flags; here the target is the table's own parser."""
    entry = Entry("a mode", runs="yulian.bench.options:parse_args", forwards=("txs", "progress"))
    mode = Option("probe_mode", bool, False, entry)
    received = run_mode(mode, BenchOptions(txs=9, progress=False, validators=2), console=None)
    assert received == BenchOptions(txs=9, progress=False)  # validators is not forwarded


def test_scale_sizes_follow_the_run_options() -> None:
    sizes = scale.sizes_for(BenchOptions(scale="all", full=True, txs=500, duration=3.0))
    assert sizes == scale.ScaleSizes(
        txs_per_point=500, probe_s=20.0, load_point_s=3.0, state_keys=(10_000, 1_000_000)
    )
    assert scale.sizes_for(BenchOptions(scale="load")) == scale.DEFAULTS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--validators", "0"], "--validators must be 1..64"),
        (["--test", "soak"], "--test must be one of stress, spike, stability"),
        (["--rate", "5", "--clients", "2"], "not both"),
        (["--micro", "--scale", "all"], "give one of --micro, --scale"),
        (["--scale", "load", "--workload", "all"], "unknown workload 'all'"),
    ],
)
def test_bad_options_exit_2_before_any_network(argv: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["bench", "--no-progress", *argv])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
