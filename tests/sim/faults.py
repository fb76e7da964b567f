"""The shared body of the CI fault campaigns (one test file per campaign, so xdist runs them
apart)."""

from __future__ import annotations

from yulian.sim.cluster import RunResult, SimConfig, run_seed


def assert_seeds_clean(config: SimConfig, first: int, count: int) -> list[RunResult]:
    """Run ``count`` seeds from ``first``: every one reaches the target height, 0 violations.
    Returns the results, for campaign-specific counts."""
    failures = []
    results = []
    for seed in range(first, first + count):
        result = run_seed(config, seed)
        results.append(result)
        if not result.ok:
            failures.append(f"{result.violations[0]}\n  replay: {result.replay_command()}")
        assert min(result.heights.values()) >= config.heights or not result.ok
    assert not failures, "\n".join(failures)
    return results
