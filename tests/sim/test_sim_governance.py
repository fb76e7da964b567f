"""Governance under faults in CI: a validator-set change during faults keeps 0 violations.

200 seeds of the ``governance`` scenario, N = 4 genesis validators + 1 spare node whose key is
in no genesis set: all faults of the ``chaos`` campaign while the organisations' admins add the
spare (``consortium.propose`` + approvals as signed txs into live nodes' mempools), sometimes
change a power or rotate a genesis validator out and back in, and remove the spare again. The
checker verifies every certificate and header against the validator set of its height as the
committed config defines it; the spare must really have signed certificates in most runs (a
property that never triggers proves nothing). Controls: a replica that applies a change one
block early or late is caught. The long campaign is ``python -m yulian.sim --governance
--seeds 10000 --heights 20 --jobs 2`` (docs/simulation.md).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
from collections import Counter

import pytest

from tests.sim.faults import assert_seeds_clean
from yulian.sim.__main__ import config_from, parser
from yulian.sim.cluster import Cluster, SimConfig, run_seed
from yulian.sim.invariants import SAFETY, VALIDITY

CONFIG = SimConfig(validators=4, heights=10, scenario="governance", spares=1)
SEEDS = 200
CHUNK = 50
SPARE_SIGNED_SHARE = 0.8  # the spare signed a commit certificate in at least this share
MAX_CONTROL_SEEDS = 5


@pytest.mark.parametrize("first", range(0, SEEDS, CHUNK))
def test_validator_set_changes_under_faults_no_violations(first: int) -> None:
    results = assert_seeds_clean(CONFIG, first, CHUNK)
    signed = [r.spare_signed for r in results]
    assert sum(1 for n in signed if n) >= SPARE_SIGNED_SHARE * CHUNK, signed
    kinds = Counter(change.split("(")[0] for r in results for change in r.governance)
    assert kinds["add_validator"] >= CHUNK and kinds["remove_validator"] >= CHUNK, kinds
    assert kinds["set_power"] >= 1, kinds
    rotated = sum(1 for r in results if len(r.governance) >= 4)
    assert rotated >= 1, "no seed rotated a genesis validator out and back in"
    assert sum(r.crashes for r in results) >= CHUNK and sum(r.dropped for r in results) > 0


@pytest.mark.parametrize("bug", ["early_validator_set", "late_validator_set"])
def test_a_change_applied_a_block_off_is_caught(bug: str) -> None:
    config = dataclasses.replace(CONFIG, planted=frozenset({bug}))
    for seed in range(MAX_CONTROL_SEEDS):
        result = run_seed(config, seed)
        if any(v.kind in SAFETY for v in result.violations):
            break
    else:
        pytest.fail(f"planted bug {bug} not caught in {MAX_CONTROL_SEEDS} seeds")
    assert result.violations[0].kind == VALIDITY, result.violations
    assert seed == 0, f"{bug} caught only at seed {seed}"
    assert "--governance" in result.replay_command() and bug in result.replay_command()


def test_the_spare_starts_as_a_follower_and_signs_only_while_in_the_set() -> None:
    cluster = Cluster(CONFIG, 3)
    result = cluster.run()
    assert result.ok, result.violations
    spare = result.spares[0]
    assert spare not in {v.name for v in cluster.genesis.validators}
    applied = [int(g.split(" applied at ")[1].split(",")[0]) for g in result.governance]
    added, removed = applied[0] + 2, applied[-1] + 2  # VALIDATOR_SET_DELAY
    heights = [h for h, names in cluster.checker.signers.items() if spare in names]
    assert heights and added <= min(heights) and max(heights) < removed, (heights, applied)
    node = cluster.nodes[spare]
    assert node.replica is not None and not node.replica.is_validator  # removed again


def test_the_replay_command_names_the_governance_campaign() -> None:
    result = run_seed(CONFIG, 5)
    command = result.replay_command()
    assert "--governance" in command
    args = parser().parse_args(shlex.split(command.removeprefix("python -m yulian.sim")))
    assert config_from(args) == CONFIG and args.start_seed == 5


def test_a_governance_seed_replays_bit_for_bit_in_another_process() -> None:
    expected = run_seed(CONFIG, 11)
    assert run_seed(CONFIG, 11).trace_hash == expected.trace_hash
    code = (
        "from yulian.sim.cluster import SimConfig, run_seed\n"
        "c = SimConfig(validators=4, heights=10, scenario='governance', spares=1)\n"
        "print(run_seed(c, 11).trace_hash)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected.trace_hash


def test_the_cli_runs_the_governance_campaign_and_counts_the_spare() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "yulian.sim", "--governance", "--seeds", "2", "--heights", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    seeds = [line for line in out.stdout.splitlines() if line.startswith("seed ")]
    assert len(seeds) == 2 and all("spare signed" in line for line in seeds), out.stdout
    assert "a spare signed a commit certificate in 2 of 2 seeds" in out.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "yulian.sim", "--governance", "--spares", "0", "--seeds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and "--spares >= 1" in refused.stderr
