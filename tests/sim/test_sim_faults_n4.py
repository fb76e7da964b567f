"""S1/S3 in CI, N = 4: 200 seeded fault schedules, 0 violations.

Faults: loss up to 30 %, duplication, reordering, delays up to 2 x the base timeout, symmetric
and asymmetric partitions, crash-restart (including crash points inside a step and crashes
right after a vote) and clock drift on at most f nodes. CI runs 10 heights per seed; the full
campaign (RELIABILITY.md S1) is ``python -m yulian.sim --validators 4 --seeds 10000
--heights 100 --jobs 2``.
"""

from __future__ import annotations

import pytest

from tests.sim.faults import assert_seeds_clean
from yulian.sim.cluster import SimConfig

CONFIG = SimConfig(validators=4, heights=10)
SEEDS = 200
CHUNK = 50


@pytest.mark.parametrize("first", range(0, SEEDS, CHUNK))
def test_seeded_faults_n4_no_violations(first: int) -> None:
    assert_seeds_clean(CONFIG, first, CHUNK)
