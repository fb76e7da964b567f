"""S6: every pinned seed of ``src/yulian/sim/regressions.txt`` runs in CI.

Pinned seeds pass; a ``known:`` line (an open bug in a file the simulator does not own) must
still fail, and is reported as fixed (a failure here) once it passes, so the list is updated
together with the fix.
"""

from __future__ import annotations

import pytest

from yulian.sim.__main__ import Pinned, load_regressions
from yulian.sim.cluster import run_seed

PINNED = load_regressions()


def _id(p: Pinned) -> str:
    return f"line{p.line}-seed{p.seed}" + ("-known" if p.known else "")


def test_the_list_is_not_empty() -> None:
    assert sum(1 for p in PINNED if not p.known) >= 10


@pytest.mark.parametrize("pinned", PINNED, ids=_id)
def test_pinned_seed(pinned: Pinned) -> None:
    result = run_seed(pinned.config, pinned.seed)
    if pinned.known:
        assert not result.ok, (
            f"regressions.txt line {pinned.line} ({pinned.why or 'known bug'}) no longer fails: "
            f"the bug is fixed; move the line to the passing part"
        )
    else:
        assert result.ok, f"{result.violations[0]}\n  replay: {result.replay_command()}"
