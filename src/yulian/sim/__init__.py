"""Introduction: ``yulian.sim`` — the real replicas under a seeded network, clock and disk.

The simulator runs N ``yulian.node.replica.Replica`` objects — consensus core, safety rules,
WAL, execution, admission: the code the node runs — with every source of non-determinism
replaced by a seeded one (TigerBeetle's VOPR, FoundationDB's simulation, indy-plenum's
``test/simulation``), and checks invariants on what the replicas commit (RELIABILITY.md S1–S6).

One file per noun:

- ``clock.py`` — ``SimClock`` (integer ms, the event heap ordered by ``(time, sequence)``) and
  ``NodeClock`` (a node's offset and drift);
- ``network.py`` — ``SimNetwork``: loss, duplication, delay, reordering, partitions;
- ``disk.py`` — ``SimDisk`` (a ``DurableFile`` that loses or tears unsynced writes at a crash)
  and ``CrashPoints`` (crash at the k-th durable operation, inside a step);
- ``memledger.py`` — ``MemLedger``: the ``Ledger`` protocol in memory, atomic and durable;
- ``testnet.py`` — the cached testnet (keys, certificates, the genesis with small block limits);
- ``config.py`` — ``SimConfig``, ``RunResult``, the replay command;
- ``events.py`` — what the event heap holds, and ``SimNode``;
- ``cluster.py`` — ``Cluster`` (the event loop and the node shell's duties), ``run_seed``;
- ``workload.py`` — the clients: small txs, txs near ``max_tx_bytes``, bursts past the block
  limits; ``coverage.py`` — what a run exercised;
- ``invariants.py`` — ``Checker``: agreement, validity (against the validator set of each
  height, from the committed config), equal validator sets, state roots, no acknowledged tx
  lost, monotonic heights, liveness after a heal;
- ``byzantine.py`` — equivocating proposer, double votes, re-signed votes, wiped restarts,
  twins; lying, withholding, slow and oversized sync peers;
- ``scenarios.py`` — the random ``chaos`` campaign, ``governance`` (chaos while the
  validator set changes) and the targeted scenarios (``lock``, ``lockloss``, ``amnesia``,
  ``split``, ``fork``, ``catchup``);
- ``governance.py`` — the seeded plan of validator-set changes and the admins who carry it
  out with real ``consortium`` txs;
- ``planted.py`` — the planted bugs (S5): broken subclasses of the real parts;
- ``__main__.py`` — the campaign CLI; ``regressions.txt`` — the pinned seeds (S6).

Use::

    from yulian.sim import SimConfig, run_seed
    result = run_seed(SimConfig(validators=4, heights=20), seed=7)
    assert result.ok, result.violations
    print(result.trace_hash, result.replay_command())
"""

from yulian.sim.cluster import (
    BYZANTINE_MODES,
    FAULTS,
    Cluster,
    RunResult,
    SimConfig,
    load_testnet,
    run_seed,
)
from yulian.sim.invariants import SAFETY, Checker, Violation

__all__ = [
    "BYZANTINE_MODES",
    "FAULTS",
    "SAFETY",
    "Checker",
    "Cluster",
    "RunResult",
    "SimConfig",
    "Violation",
    "load_testnet",
    "run_seed",
]
