"""S5: every planted bug is caught by the simulator within a bounded number of seeds.

The planted bugs are subclasses of the real parts that only the simulator builds
(``yulian.sim.planted``): the consensus core, the vote sets and the safety rules have no switch.
``skip_lock_check`` is caught by the ``lock`` scenario, ``no_persist_last_vote`` by the
``amnesia`` scenario (one Byzantine validator as twins plus an honest node whose WAL is lost),
``quorum_2f`` by the ordinary random campaign (a certificate of 2f signatures fails
``verify_commit``; with partitions, the halves fork), ``count_vote_twice`` by the campaign with
one Byzantine validator that sends every vote twice with two valid signatures (the replica
drops byte-identical re-sends before the core sees them, so only a re-signed copy reaches the
vote set). The same configurations without the bug are clean.
"""

from __future__ import annotations

import dataclasses

import pytest

from yulian.consensus.core import step
from yulian.consensus.safety import SafetyRules
from yulian.node.replica import Replica
from yulian.sim.cluster import Cluster, SimConfig, run_seed
from yulian.sim.invariants import SAFETY
from yulian.sim.planted import PLANTED_BUGS, replica_class, safety_class

MAX_SEEDS = 10  # every bug must be caught within this many seeds
CASES = {
    "skip_lock_check": SimConfig(scenario="lock", heights=3),
    "no_persist_last_vote": SimConfig(scenario="amnesia", heights=3),
    "quorum_2f": SimConfig(heights=10),
    "count_vote_twice": SimConfig(heights=10, byzantine=1, byzantine_modes=("resign",)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_planted_bug_is_caught(name: str) -> None:
    config = dataclasses.replace(CASES[name], planted=frozenset({name}))
    for seed in range(MAX_SEEDS):
        result = run_seed(config, seed)
        if any(v.kind in SAFETY for v in result.violations):
            break
    else:
        pytest.fail(f"planted bug {name} not caught in {MAX_SEEDS} seeds")
    assert seed <= 2, f"{name} caught only at seed {seed}"
    assert f"--planted {name}" in result.replay_command()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_scenarios_without_the_bug_are_clean(name: str) -> None:
    config = CASES[name]
    for seed in range(3 if config.scenario == "chaos" else MAX_SEEDS):
        result = run_seed(config, seed)
        assert result.ok, f"{result.violations[0]}\n  replay: {result.replay_command()}"


def test_only_the_honest_replicas_of_a_planted_run_are_broken() -> None:
    """The bug is in the classes the cluster builds for that run, nowhere else: a run without
    it, even in the same process right after one with it, builds the real parts."""
    assert replica_class(frozenset()) is Replica and safety_class(frozenset()) is SafetyRules
    for name in sorted(PLANTED_BUGS):
        bugs = frozenset({name})
        assert replica_class(bugs) is not Replica or safety_class(bugs) is not SafetyRules
    broken = Cluster(dataclasses.replace(CASES["quorum_2f"], planted=frozenset({"quorum_2f"})), 0)
    broken.run()
    clean = Cluster(CASES["quorum_2f"], 0)
    clean.run()
    assert all(type(n.replica) is Replica for n in clean.nodes.values() if n.replica is not None)
    assert any(type(n.replica) is not Replica for n in broken.nodes.values() if n.replica)
    assert step.__module__ == "yulian.consensus.core"
