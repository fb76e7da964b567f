"""S2: a seed replays bit for bit — same trace hash in this process and in another one (with a
different ``PYTHONHASHSEED``); different seeds give different traces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yulian.sim.cluster import SimConfig, run_seed

CONFIGS = {
    "n4-faults": SimConfig(validators=4, heights=8),
    "n7-faults": SimConfig(validators=7, heights=5),
    "n4-byzantine": SimConfig(validators=4, heights=8, byzantine=1),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_same_seed_same_trace_hash(name: str) -> None:
    config = CONFIGS[name]
    first, second = run_seed(config, 42), run_seed(config, 42)
    assert first.trace_hash == second.trace_hash
    assert (first.heights, first.sim_ms, first.events, first.messages, first.crashes) == (
        second.heights,
        second.sim_ms,
        second.events,
        second.messages,
        second.crashes,
    )


def test_different_seeds_different_trace_hashes() -> None:
    config = CONFIGS["n4-faults"]
    hashes = {run_seed(config, seed).trace_hash for seed in range(8)}
    assert len(hashes) == 8


def test_schedule_hash_is_the_same_on_another_testnet(tmp_path: Path) -> None:
    """Another machine makes other keys: the trace hash differs, the schedule does not."""
    config = CONFIGS["n4-faults"]
    here = run_seed(config, 3)
    code = (
        "from yulian.sim.cluster import SimConfig, run_seed\n"
        "r = run_seed(SimConfig(validators=4, heights=8), 3)\n"
        "print(r.trace_hash, r.schedule_hash)\n"
    )
    env = {**os.environ, "YULIAN_SIM_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    trace_hash, schedule_hash = out.stdout.split()
    assert schedule_hash == here.schedule_hash
    assert trace_hash != here.trace_hash


def test_replay_in_another_process_with_another_hash_seed() -> None:
    config = CONFIGS["n4-byzantine"]
    expected = run_seed(config, 7).trace_hash
    code = (
        "from yulian.sim.cluster import SimConfig, run_seed\n"
        "print(run_seed(SimConfig(validators=4, heights=8, byzantine=1), 7).trace_hash)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == expected
