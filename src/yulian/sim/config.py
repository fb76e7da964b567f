"""Introduction: what one simulated run is asked to do, and what it reports.

``SimConfig`` names the size, the target height, the faults, the Byzantine validators and their
modes, the scenario, the client workload and any planted bug; ``RunResult`` carries the
violations, the trace and schedule hashes (S2) and the run's counts; ``replay_command`` is the
command line that replays a seed bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from yulian.sim.coverage import Coverage
from yulian.sim.invariants import Violation
from yulian.sim.planted import PLANTED_BUGS

FAULTS = (
    "drop",
    "duplicate",
    "reorder",
    "delay",
    "partition",
    "asymmetric",
    "crash",
    "crashpoint",
    "drift",
    "lag",
)
# consensus attacks, then sync attacks (sync_*: the node's block-sync replies and status)
BYZANTINE_MODES = (
    "double_vote",
    "equivocate",
    "resign",
    "sync_lie",
    "sync_oversize",
    "sync_slow",
    "sync_withhold",
    "twins",
    "wipe",
)  # sorted
# small: one small tx at a time; large: txs near max_tx_bytes and bursts that fill blocks to
# max_block_bytes and max_block_txs; mixed: both, drawn per tx
WORKLOADS = ("small", "large", "mixed")
GOVERNANCE_HEIGHTS = 60  # the governance plan may take this many heights beyond the target


@dataclass(frozen=True)
class SimConfig:
    validators: int = 4
    heights: int = 20  # every honest node reaches this height (CI: 10-20; campaigns: >= 100)
    faults: frozenset[str] = frozenset(FAULTS)
    byzantine: int = 0  # Byzantine validators (<= f for the safety runs; f + 1 for the control)
    byzantine_modes: tuple[str, ...] = BYZANTINE_MODES  # each Byzantine node draws from these
    scenario: str = "chaos"
    workload: str = "small"  # the clients' txs (WORKLOADS)
    planted: frozenset[str] = frozenset()  # planted bugs of the honest replicas (planted.py)
    spares: int = 0  # member nodes outside the genesis validator set (followers until added)
    tick_ms: int = 500  # as the node shell (node.TICK_INTERVAL_S)
    tx_interval_ms: int = 600  # mean gap between client transactions
    timeout_propose_ms: int = 3000  # the base timeout
    timeout_prevote_ms: int = 1000
    timeout_precommit_ms: int = 1000
    timeout_delta_ms: int = 500
    block_interval_ms: int = 200
    empty_block_interval_ms: int = 1000
    sync_reply_bytes: int = 200 * 1024  # a block of the testnet's max_block_bytes comes alone
    sync_timeout_ms: int = 4_000
    max_sim_ms: int = 0  # 0: derived from the heights
    max_events: int = 0  # 0: derived from the heights and the size

    def __post_init__(self) -> None:
        assert 1 <= self.validators <= 64 and self.heights >= 1
        assert set(self.faults) <= set(FAULTS), sorted(set(self.faults) - set(FAULTS))
        assert set(self.byzantine_modes) <= set(BYZANTINE_MODES) and self.byzantine_modes
        object.__setattr__(self, "byzantine_modes", tuple(sorted(set(self.byzantine_modes))))
        assert 0 <= self.byzantine < self.validators
        assert 0 <= self.spares <= 8
        assert self.planted <= PLANTED_BUGS, sorted(self.planted - PLANTED_BUGS)
        assert self.workload in WORKLOADS, self.workload
        assert self.scenario != "governance" or self.spares >= 1, "governance needs a spare"

    @property
    def f(self) -> int:
        return (self.validators - 1) // 3

    @property
    def base_timeout_ms(self) -> int:
        return self.timeout_propose_ms

    @property
    def budget_heights(self) -> int:
        """The heights a run may take: the target, and for governance the plan's length."""
        return self.heights + (GOVERNANCE_HEIGHTS if self.scenario == "governance" else 0)

    @property
    def sim_budget_ms(self) -> int:
        return self.max_sim_ms or 120_000 + self.budget_heights * 20_000

    @property
    def event_budget(self) -> int:
        nodes = self.validators + self.spares
        return self.max_events or 50_000 + self.budget_heights * 600 * nodes**2


@dataclass(frozen=True)
class RunResult:
    seed: int
    config: SimConfig
    violations: tuple[Violation, ...]
    trace_hash: str  # every event with its message and block digests (this machine's testnet)
    schedule_hash: str  # the same events without the digests: comparable across testnets
    testnet: str
    heights: dict[str, int]  # honest nodes
    sim_ms: int
    events: int
    wall_s: float
    txs_submitted: int
    txs_acked: int
    crashes: int
    messages: int
    dropped: int
    evidence_pending: dict[str, int]  # honest node -> equivocations it has seen
    evidence_committed: int  # equivocation records in the state of the most advanced honest node
    notes: tuple[str, ...]
    signatures: dict[str, int] = dataclasses.field(default_factory=dict)  # heights signed
    spares: tuple[str, ...] = ()
    governance: tuple[str, ...] = ()  # the validator-set changes applied, in order
    coverage: Coverage = dataclasses.field(default_factory=Coverage)  # what the run exercised

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def spare_signed(self) -> int:
        """Heights at which an honest node's commit certificate carries a spare's signature."""
        return sum(self.signatures.get(name, 0) for name in self.spares)

    def replay_command(self) -> str:
        return replay_command(self.config, self.seed)


def replay_command(config: SimConfig, seed: int) -> str:
    parts = [
        "python -m yulian.sim",
        f"--validators {config.validators}",
        f"--heights {config.heights}",
        f"--start-seed {seed}",
        "--seeds 1",
    ]
    if config.scenario == "governance" and config.spares == 1:
        parts.append("--governance")
    elif config.scenario != "chaos":
        parts.append(f"--scenario {config.scenario}")
    if config.spares and not (config.scenario == "governance" and config.spares == 1):
        parts.append(f"--spares {config.spares}")
    if set(config.faults) != set(FAULTS):
        parts.append(f"--faults {','.join(sorted(config.faults)) or 'none'}")
    if config.byzantine:
        parts.append(f"--byzantine {config.byzantine}")
        if set(config.byzantine_modes) != set(BYZANTINE_MODES):
            parts.append(f"--byzantine-modes {','.join(config.byzantine_modes)}")
    if config.workload != "small":
        parts.append(f"--workload {config.workload}")
    if config.planted:
        parts.append(f"--planted {','.join(sorted(config.planted))}")
    return " ".join(parts)


def with_changes(config: SimConfig, **changes: object) -> SimConfig:
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


__all__ = [
    "BYZANTINE_MODES",
    "FAULTS",
    "GOVERNANCE_HEIGHTS",
    "WORKLOADS",
    "RunResult",
    "SimConfig",
    "replay_command",
    "with_changes",
]
