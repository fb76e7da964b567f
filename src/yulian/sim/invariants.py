"""Introduction: the invariant checker — what must hold in every simulated run (S1, S3, S4).

The checker watches every commit a replica reports and reads the replica's own ledger, so it
checks what is durable, not what the replica believes:

- *agreement*: no two honest nodes commit different block hashes at a height;
- *validity*: every committed block carries a commit certificate that verifies
  (``verify_commit``) for exactly that height and hash against the validator set *of that
  height* — derived, as the protocol defines it, from the consortium config committed in the
  node's own ledger after the block before (``validators_at(height)``, the revoked keys of that
  config) — its header hashes to that hash, and the header's ``validators_hash`` is the hash of
  that set;
- *validator sets*: the honest nodes derive the same validator set for every height (a
  governance change lands at the same height everywhere);
- *state roots*: equal at equal heights;
- *no acknowledged tx lost*: a tx whose commit any honest replica reported stays in the ledger
  of every honest node that reached that height, at that height — checked after every
  restart and at the end of the run;
- *monotonic heights*: a node's height never goes back, also across crash-restart;
- *liveness* (S3): after the faults heal with at least 2f+1 honest nodes up and connected,
  every honest node commits a block above the highest height known at the heal within the
  deadline (10 base timeouts);
- the run itself: a replica that refuses to start after a crash, or raises, is a violation;
  so is a governance step that does not apply as voted (``GOVERNANCE``, from the scenario).

The checker also counts, per validator, the heights at which some honest node's certificate
carries its signature (``signature_counts``): the evidence that a validator added by
governance really took part.

Byzantine nodes are outside every check: they may do anything. A violation carries the
simulated time and the numbers that show it; ``SAFETY`` lists the kinds that are forks or loss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from yulian.consensus.consortium_view import ConsortiumView, view_of_stored
from yulian.consensus.votes import InvalidCommit, ValidatorSet, verify_commit
from yulian.crypto.suite import Suite
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger.store import Ledger
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.encoding import DecodeError

AGREEMENT = "agreement"
VALIDITY = "validity"
STATE_ROOT = "state_root"
LOST_TX = "lost_tx"
HEIGHT_REGRESSION = "height_regression"
LIVENESS = "liveness"
STALLED = "stalled"
START_REFUSED = "start_refused"
REPLICA_ERROR = "replica_error"
VALIDATOR_SET = "validator_set"
GOVERNANCE = "governance"
SAFETY = frozenset({AGREEMENT, VALIDITY, STATE_ROOT, LOST_TX, HEIGHT_REGRESSION, VALIDATOR_SET})


@dataclass(frozen=True)
class Violation:
    kind: str
    time_ms: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at t={self.time_ms} ms: {self.detail}"


@dataclass
class LivenessWindow:
    opened_ms: int
    deadline_ms: int
    baseline: int  # the highest honest height at the heal; every honest node must pass it
    satisfied_ms: int | None = None


@dataclass
class Checker:
    suite: Suite
    chain_id: str
    genesis: ConsortiumView  # the genesis config: in force until a committed config changes it
    honest: frozenset[str]
    origin_ms: int = 0  # reported times are relative to the start of the run
    violations: list[Violation] = field(default_factory=list)
    canonical: dict[int, tuple[bytes, bytes, str]] = field(default_factory=dict)
    acked: dict[bytes, int] = field(default_factory=dict)  # tx id -> height
    heights: dict[str, int] = field(default_factory=dict)
    windows: list[LivenessWindow] = field(default_factory=list)
    sets: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # height -> (hash, node)
    signers: dict[int, set[str]] = field(default_factory=dict)  # height -> who signed a cert
    _verified: set[tuple[bytes, bytes, bytes]] = field(default_factory=set)
    _views: dict[bytes, ConsortiumView] = field(default_factory=dict)  # by config bytes

    # --- commits ----------------------------------------------------------------------------
    def on_commit(
        self,
        node: str,
        ledger: Ledger,
        height: int,
        block_hash: bytes,
        tx_ids: Iterable[bytes],
        now_ms: int,
    ) -> None:
        if node not in self.honest:
            return
        self._check_height(node, ledger.height(), now_ms)
        stored = ledger.block_hash(height)
        if stored != block_hash:
            self._fail(
                VALIDITY,
                now_ms,
                f"{node} reported block {block_hash.hex()[:16]} at "
                f"height {height} but its ledger holds {stored.hex()[:16] if stored else None}",
            )
            return
        root = ledger.state_root(height)
        assert root is not None, "a committed block has a state root"
        self._check_certificate(node, ledger, height, block_hash, now_ms)
        first = self.canonical.setdefault(height, (block_hash, root, node))
        if first[0] != block_hash:
            self._fail(
                AGREEMENT,
                now_ms,
                f"fork at height {height}: {first[2]} committed "
                f"{first[0].hex()[:16]}, {node} committed {block_hash.hex()[:16]}",
            )
        elif first[1] != root:
            self._fail(
                STATE_ROOT,
                now_ms,
                f"height {height}: {first[2]} has state root "
                f"{first[1].hex()[:16]}, {node} has {root.hex()[:16]}",
            )
        for tx_id in tx_ids:
            self.acked.setdefault(tx_id, height)

    def _check_certificate(
        self, node: str, ledger: Ledger, height: int, block_hash: bytes, now_ms: int
    ) -> None:
        cert_bytes, block_bytes = ledger.commit(height), ledger.block(height)
        if cert_bytes is None or block_bytes is None:
            self._fail(VALIDITY, now_ms, f"{node}: block or certificate {height} missing")
            return
        try:
            validators, set_hash = self.validators_of(ledger, height)
        except DecodeError as e:
            self._fail(VALIDITY, now_ms, f"{node}: consortium config before {height}: {e}")
            return
        first = self.sets.setdefault(height, (set_hash, node))
        if first[0] != set_hash:
            self._fail(
                VALIDATOR_SET,
                now_ms,
                f"height {height}: {first[1]}'s committed config gives validator set "
                f"{first[0].hex()[:16]}, {node}'s gives {set_hash.hex()[:16]} "
                f"({_names(validators)})",
            )
            return
        if (cert_bytes, block_hash, set_hash) in self._verified:
            return
        try:
            cert = CommitCertificate.decode(cert_bytes)
            verify_commit(
                self.suite,
                self.chain_id,
                validators,
                cert,
                height=height,
                block_hash=block_hash,
            )
            header = Block.decode(block_bytes).header
        except (DecodeError, InvalidCommit) as e:
            self._fail(VALIDITY, now_ms, f"{node}: block {height} (set {_names(validators)}): {e}")
            return
        if header.height != height or header.hash(self.suite.hash) != block_hash:
            self._fail(
                VALIDITY,
                now_ms,
                f"{node}: block {height}'s header does not hash to "
                f"{block_hash.hex()[:16]} at height {header.height}",
            )
            return
        if header.validators_hash != set_hash:
            self._fail(
                VALIDITY,
                now_ms,
                f"{node}: block {height}'s header names validator set "
                f"{header.validators_hash.hex()[:16]}; the committed config gives "
                f"{set_hash.hex()[:16]} ({_names(validators)})",
            )
            return
        self._verified.add((cert_bytes, block_hash, set_hash))
        self.signers.setdefault(height, set()).update(s.validator for s in cert.signatures)

    def validators_of(self, ledger: Ledger, height: int) -> tuple[ValidatorSet, bytes]:
        """The validator set of ``height`` and its hash, from the consortium config committed
        in ``ledger`` after block ``height - 1`` (the genesis set before any change); raises
        ``DecodeError`` for a config that does not decode."""
        data = ledger.get_at(CONFIG_KEY, height - 1) if height > 1 else None
        if data is None:
            view = self.genesis.for_height(height)
        else:
            known = self._views.get(data)
            if known is None:
                known = self._views[data] = view_of_stored(
                    data, self.genesis.config, height, self.suite
                )
            view = known.for_height(height)
        return view.validators, view.validators_hash

    def signature_counts(self) -> dict[str, int]:
        """Validator name -> heights at which an honest node's certificate carries its
        signature."""
        counts: dict[str, int] = {}
        for height in sorted(self.signers):
            for name in sorted(self.signers[height]):
                counts[name] = counts.get(name, 0) + 1
        return counts

    def _check_height(self, node: str, height: int, now_ms: int) -> None:
        last = self.heights.get(node, 0)
        if height < last:
            self._fail(
                HEIGHT_REGRESSION, now_ms, f"{node} went back from height {last} to {height}"
            )
        self.heights[node] = max(last, height)

    # --- restarts and the end of the run ----------------------------------------------------
    def on_restart(self, node: str, ledger: Ledger, now_ms: int) -> None:
        if node in self.honest:
            self._check_height(node, ledger.height(), now_ms)
            self._check_ledger(node, ledger, now_ms, full=False)

    def final(self, ledgers: dict[str, Ledger], now_ms: int) -> None:
        for node in sorted(ledgers):
            if node in self.honest:
                self._check_height(node, ledgers[node].height(), now_ms)
                self._check_ledger(node, ledgers[node], now_ms, full=True)

    def _check_ledger(self, node: str, ledger: Ledger, now_ms: int, *, full: bool) -> None:
        """Every acknowledged tx at or below this node's height is still there, at its height;
        with ``full``, every block hash and state root matches the canonical chain."""
        height = ledger.height()
        for tx_id, at in sorted(self.acked.items(), key=lambda item: (item[1], item[0])):
            if at > height:
                break
            location = ledger.tx_location(tx_id)
            if location is None or location[0] != at:
                self._fail(
                    LOST_TX,
                    now_ms,
                    f"{node} at height {height}: acknowledged tx "
                    f"{tx_id.hex()[:16]} of height {at} is at {location}",
                )
                return
        if not full:
            return
        for h in range(1, height + 1):
            known = self.canonical.get(h)
            block_hash, root = ledger.block_hash(h), ledger.state_root(h)
            if known is None:
                # committed before a crash interrupted its report: check it like a commit
                assert block_hash is not None
                self.on_commit(node, ledger, h, block_hash, (), now_ms)
            elif (block_hash, root) != known[:2]:
                self._fail(
                    AGREEMENT, now_ms, f"{node}'s ledger differs from {known[2]}'s at height {h}"
                )
                return

    # --- liveness (S3) ----------------------------------------------------------------------
    def open_window(self, now_ms: int, deadline_ms: int) -> LivenessWindow:
        baseline = max((self.heights.get(n, 0) for n in self.honest), default=0)
        window = LivenessWindow(now_ms, deadline_ms, baseline)
        self.windows.append(window)
        return window

    def progress(self, heights: dict[str, int], now_ms: int) -> None:
        """Mark open windows satisfied once every honest node is above their baseline."""
        low = min(heights[n] for n in self.honest)
        for w in self.windows:
            if w.satisfied_ms is None and low > w.baseline:
                w.satisfied_ms = now_ms

    def deadline(self, window: LivenessWindow, heights: dict[str, int], now_ms: int) -> None:
        if window.satisfied_ms is None:
            behind = sorted(n for n in self.honest if heights[n] <= window.baseline)
            opened, due = window.opened_ms - self.origin_ms, window.deadline_ms - self.origin_ms
            self._fail(
                LIVENESS,
                now_ms,
                f"healed at t={opened} ms with honest height "
                f"{window.baseline}; by the deadline t={due} ms "
                f"{behind} had not committed a new block (heights "
                f"{[heights[n] for n in behind]})",
            )

    def pending_windows(self) -> bool:
        return any(w.satisfied_ms is None for w in self.windows)

    # --- results ----------------------------------------------------------------------------
    def fail(self, kind: str, now_ms: int, detail: str) -> None:
        self._fail(kind, now_ms, detail)

    def _fail(self, kind: str, now_ms: int, detail: str) -> None:
        self.violations.append(Violation(kind, now_ms - self.origin_ms, detail))

    @property
    def safety_violated(self) -> bool:
        return any(v.kind in SAFETY for v in self.violations)


def _names(validators: ValidatorSet) -> str:
    return ", ".join(f"{v.name}:{v.power}" for v in validators.validators)
