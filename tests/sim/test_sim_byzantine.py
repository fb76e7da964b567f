"""S4 and B1: Byzantine validators under faults.

With at most f Byzantine validators, in every mode (equivocating proposer, double votes,
re-signed votes, wiped restarts, twins), no invariant breaks: no fork, no lost tx, and every
honest node keeps committing after each heal. Every double vote ends up in the honest nodes'
``pending_evidence`` and, as a ``misbehaviour`` tx, in the committed state, naming the
validator. The control: with f + 1 Byzantine validators (twins across a partition of the honest
nodes) the checker reports a fork — proof that it can see one.
"""

from __future__ import annotations

import pytest

from yulian.consensus.evidence import EQUIVOCATION_PREFIX, MISBEHAVIOUR_CONTRACT
from yulian.execution.overlay import state_key
from yulian.sim.cluster import BYZANTINE_MODES, Cluster, SimConfig, run_seed
from yulian.sim.invariants import AGREEMENT

SIZES = {4: (1, 30), 7: (2, 10)}  # validators: (Byzantine = f, seeds per mode)


@pytest.mark.parametrize("validators", sorted(SIZES))
@pytest.mark.parametrize("mode", BYZANTINE_MODES)
def test_at_most_f_byzantine_no_violation(mode: str, validators: int) -> None:
    byzantine, seeds = SIZES[validators]
    config = SimConfig(
        validators=validators, heights=10, byzantine=byzantine, byzantine_modes=(mode,)
    )
    failures = []
    for seed in range(seeds):
        result = run_seed(config, seed)
        if not result.ok:
            failures.append(f"{result.violations[0]}\n  replay: {result.replay_command()}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("validators", sorted(SIZES))
def test_double_votes_become_evidence_naming_the_validator(validators: int) -> None:
    byzantine, _ = SIZES[validators]
    config = SimConfig(
        validators=validators,
        heights=6,
        byzantine=byzantine,
        byzantine_modes=("double_vote",),
        faults=frozenset(),
    )
    for seed in range(2):
        cluster = Cluster(config, seed)
        result = cluster.run()
        assert result.ok, result.violations
        guilty = {n.name for n in cluster.nodes.values() if not n.honest}
        for node in cluster.nodes.values():
            if not node.honest:
                continue
            assert node.replica is not None and node.replica.pending_evidence, node.id
            assert {e.first.validator for e in node.replica.pending_evidence} == guilty
            records = node.ledger.scan_prefix(
                state_key(MISBEHAVIOUR_CONTRACT, EQUIVOCATION_PREFIX), 10_000
            )
            named = {key.decode().rsplit("/", 1)[1] for key, _ in records}
            assert named == guilty, (node.id, named)


@pytest.mark.parametrize("validators", sorted(SIZES))
def test_control_f_plus_one_byzantine_forks(validators: int) -> None:
    config = SimConfig(validators=validators, heights=3, scenario="fork")
    for seed in range(3):
        result = run_seed(config, seed)
        assert [v.kind for v in result.violations] == [AGREEMENT], result.violations
        assert "fork at height" in result.violations[0].detail
