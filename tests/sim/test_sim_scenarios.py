"""The targeted scenarios with correct code: no false alarms.

``lockloss`` crashes the two locked nodes right after their precommit, losing everything their
WAL had not synced: the replica syncs its WAL before it signs, so their locks survive the crash
and nothing forks (before that fix, every seed forked; see ``regressions.txt``).
"""

from __future__ import annotations

import pytest

from yulian.sim.cluster import SimConfig, run_seed


@pytest.mark.parametrize("scenario", ["lock", "lockloss", "amnesia", "split"])
def test_targeted_scenarios_are_clean_with_correct_code(scenario: str) -> None:
    config = SimConfig(validators=4, heights=3, scenario=scenario)
    for seed in range(6):
        result = run_seed(config, seed)
        assert result.ok, f"{result.violations[0]}\n  replay: {result.replay_command()}"
        assert min(result.heights.values()) >= 3
