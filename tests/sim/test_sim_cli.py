"""The campaign CLI: summary table, replay commands for failing seeds, exit status."""

from __future__ import annotations

import subprocess
import sys


def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yulian.sim", *args], capture_output=True, text=True, timeout=300
    )


def test_clean_campaign_prints_seeds_trace_hashes_and_a_summary() -> None:
    out = _sim("--validators", "4", "--seeds", "2", "--heights", "3", "--jobs", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("trace ") == 2 and "seed      1" in out.stdout
    for row in (
        "seeds run",
        "seeds with violations",
        "lowest honest height",
        "simulated time",
        "wall time",
    ):
        assert row in out.stdout


def test_failing_seed_prints_its_replay_command_and_exits_non_zero() -> None:
    out = _sim(
        "--validators", "4", "--seeds", "1", "--heights", "3", "--planted", "quorum_2f", "--quiet"
    )
    assert out.returncode == 1
    assert (
        "replay: python -m yulian.sim --validators 4 --heights 3 --start-seed 0 --seeds 1 "
        "--planted quorum_2f" in out.stdout
    )


def test_regressions_command() -> None:
    out = _sim("--regressions", "--quiet", "--jobs", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "seeds with violations  0" in out.stdout
