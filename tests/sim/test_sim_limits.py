"""Issue 10 in the simulator's CI sample: large txs and blocks near every limit, Byzantine sync
peers, and the invariant that a replica never raises — and never builds a message the network
must refuse.

The full campaign (``docs/simulation.md``) runs the same configurations over 1,000 seeds and
more; here a sample of each, plus proof that the workloads reach what they target (a property
that never triggers proves nothing): blocks at the byte limit and at the count limit, blocks
committed through block sync, and penalties given to lying and silent sync peers.
"""

from __future__ import annotations

import pytest

from tests.sim.faults import assert_seeds_clean
from yulian.net.messages import Message
from yulian.node.replica import Outputs, Replica
from yulian.sim.cluster import Cluster, SimConfig, SimNode, run_seed
from yulian.sim.config import BYZANTINE_MODES
from yulian.sim.coverage import Coverage
from yulian.sim.invariants import REPLICA_ERROR
from yulian.sim.testnet import SIM_PARAMS
from yulian.types.tx import MAX_TX_BYTES

SYNC_MODES = tuple(m for m in BYZANTINE_MODES if m.startswith("sync_"))


def total(results: list) -> Coverage:  # type: ignore[type-arg]
    c = Coverage()
    for r in results:
        for field in ("blocks", "full_bytes", "full_count", "synced_blocks", "sync_lies"):
            setattr(c, field, getattr(c, field) + getattr(r.coverage, field))
        c.sync_skips += r.coverage.sync_skips
        c.largest_block = max(c.largest_block, r.coverage.largest_block)
    return c


@pytest.mark.parametrize("first", [0, 12])
def test_large_txs_reach_every_block_limit_under_faults(first: int) -> None:
    config = SimConfig(validators=4, heights=12, workload="large")
    covered = total(assert_seeds_clean(config, first, 12))
    assert covered.full_bytes >= 10 and covered.full_count >= 3, covered
    assert SIM_PARAMS.max_block_bytes * 0.9 < covered.largest_block <= SIM_PARAMS.max_block_bytes
    assert covered.synced_blocks > 0, covered


@pytest.mark.parametrize("mode", SYNC_MODES)
def test_a_byzantine_sync_peer_breaks_nothing(mode: str) -> None:
    config = SimConfig(
        validators=4, heights=10, byzantine=1, byzantine_modes=(mode,), workload="mixed"
    )
    assert_seeds_clean(config, 0, 10)


def test_a_node_catches_up_through_byzantine_sync_peers() -> None:
    """``catchup``: an honest node misses 8 to 16 heights of full blocks, comes back, and
    passes the head within 10 base timeouts although a validator lies, withholds, is slow or
    oversizes its replies — the liars dropped, the silent ones skipped."""
    config = SimConfig(validators=4, heights=20, byzantine=1, scenario="catchup", workload="large")
    covered = total(assert_seeds_clean(config, 0, 16))
    assert covered.synced_blocks >= 16 * 8, covered
    assert covered.full_bytes >= 16 * 4, covered
    assert covered.sync_lies >= 1 and covered.sync_skips >= 1, covered


def test_seven_validators_two_byzantine_sync_peers() -> None:
    config = SimConfig(
        validators=7, heights=8, byzantine=2, byzantine_modes=SYNC_MODES, workload="mixed"
    )
    assert_seeds_clean(config, 0, 4)


class _Oversending(Replica):
    """Broadcasts a gossip message no peer may receive (a tx over MAX_TX_BYTES)."""

    def on_tick(self, now_ms: int) -> Outputs:
        out = super().on_tick(now_ms)
        out.broadcast.append(Message("txs", (b"x" * (MAX_TX_BYTES + 1),)))
        return out


class _Raising(Replica):
    def on_tick(self, now_ms: int) -> Outputs:
        raise RuntimeError("a planted exception")


@pytest.mark.parametrize(
    ("replica", "fragment"),
    [(_Oversending, "built an unsendable txs"), (_Raising, "raised RuntimeError")],
)
def test_an_unsendable_message_or_an_exception_is_a_violation(
    replica: type[Replica], fragment: str
) -> None:
    class Broken(Cluster):
        def _build_replica(self, node: SimNode) -> Replica:
            real = super()._build_replica(node)
            real.__class__ = replica
            return real

    result = Broken(SimConfig(validators=4, heights=3, faults=frozenset()), 0).run()
    assert [v.kind for v in result.violations][:1] == [REPLICA_ERROR]
    assert fragment in result.violations[0].detail
    assert run_seed(SimConfig(validators=4, heights=3, faults=frozenset()), 0).ok


def test_an_oversized_reply_the_liar_already_broke_is_left_as_it_is() -> None:
    """A Byzantine node may combine modes: ``sync_lie`` runs first and may leave a block that
    does not decode; ``sync_oversize`` then has no height to serve from (the 1,000-seed
    campaign stopped on this simulator bug before it was handled)."""
    from yulian.sim.byzantine import SyncOversize

    broken = Message("blocks", ((b"\x93\x01", b"commit"),))
    assert SyncOversize(None)._more(None, broken) is broken  # type: ignore[arg-type]
