"""Introduction: governance under faults — org admins change the validator set mid-run.

The ``governance`` scenario (``scenarios.Governance``: the ``chaos`` campaign plus a plan of
validator-set changes) runs N genesis validators and ``spares`` member nodes whose keys no
genesis set holds (``load_testnet(n, spares)``). A spare runs a real ``Replica`` with its own
safety file and WAL: a follower (it checks and commits every block, it votes for nothing)
until the committed config puts its key in the set of a height, a validator from then on.

``GovernanceDriver`` carries out a seeded plan through the organisations' admins, as real
signed txs of the ``consortium`` system contract, each submitted to a random live node's
mempool (admission as the API does it, then gossip), while the faults run:

1. ``add_validator`` of every spare (power 1 or 2);
2. sometimes ``set_power`` of a validator of the set (up to 3);
3. sometimes ``remove_validator`` of a genesis validator and, later, ``add_validator`` of it
   again (same key and organisation) — while it is out the spare's vote is part of every
   quorum;
4. ``remove_validator`` of every spare (it goes back to following).

A round that ends ``ROUND_HEIGHTS`` or more below the target height is followed by another
one from the set it left (so a 100-height campaign adds and removes the spare a few times, and
the spare comes back with the safety state of its earlier term).

A step starts once the chain is a seeded 0..2 blocks (the first: 1..2) past the height at
which the previous change came into force. The admin of a seeded organisation proposes; once
the proposal is committed, admins of the other organisations approve (in a seeded order, all
at once) until the scope's policy is met (``MAJORITY`` of the organisations), sometimes with
one approval more than needed, which must revert. A tx is lost with a crashed node's mempool
or a dropped gossip message, so every pending tx is re-submitted — the *same* signed
envelope, which replay protection makes idempotent — every ``RESUBMIT_MS`` until it is
committed. The driver reads only committed state (the most advanced honest ledger; honest
ledgers agree, which the checker checks) and checks what governance promises — a failure is
a ``GOVERNANCE`` violation:

- the proposal is committed with an ``ok`` receipt naming it open (the policy is never met
  by the proposer alone here);
- exactly one approval applies it; approvals after it revert, none before it does;
- the config committed by the applying block H schedules exactly the planned set for
  ``H + VALIDATOR_SET_DELAY`` and leaves ``H + 1`` with the set in force before.

The checker (``invariants.py``) verifies every block's certificate and header against the set
of its height as the committed config defines it, and counts who signed: a spare's
signatures show that it really became a validator (``RunResult.spare_signed``).

Planted bugs (``--planted``, S5-style controls, ``planted.py``): off-by-one errors in when a
change takes effect — ``early_validator_set`` (a replica runs height h with the set of h + 1)
and ``late_validator_set`` (with the set of h - 1); the checker must report a violation as
soon as a planned change comes into force.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from yulian.consensus.consortium_view import ConsortiumView
from yulian.execution.system.consortium import CONFIG_KEY, CONSORTIUM_CONTRACT, KIND_SCOPES
from yulian.sdk.wallet import Wallet
from yulian.sim.invariants import GOVERNANCE
from yulian.types.consortium import VALIDATOR_SET_DELAY, ConsortiumConfig, policy_met
from yulian.types.encoding import DecodeError, Value
from yulian.types.genesis import Validator
from yulian.types.receipt import Receipt

if TYPE_CHECKING:
    from yulian.ledger.store import Ledger
    from yulian.sim.cluster import Cluster

POLL_MS = 1_000  # the driver looks at the committed state this often
RESUBMIT_MS = 4_000  # a tx not committed this long after its last submission is sent again
TX_TTL_BLOCKS = 1_000
MAX_WAIT_BLOCKS = 2
ROUND_HEIGHTS = 25  # a round ending this far below the target height is followed by another
EXTRA_APPROVAL = 0.25  # chance that one organisation more than needed approves
SET_POWER = 0.5  # chance of a set_power step
ROTATE = 0.3  # chance of removing a genesis validator and adding it back


# --- the plan --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    kind: str  # a consortium proposal kind
    args: tuple[Value, ...]
    wait: int  # blocks after the previous change came into force
    proposer: int  # index of the proposing organisation's admin
    approvers: tuple[int, ...]  # the other organisations, in the order they approve
    extra: bool  # one approval more than the policy needs
    expected: tuple[Validator, ...]  # the validator set once the change is in force

    def describe(self) -> str:
        shown = [a for a in self.args if not isinstance(a, bytes)]
        return f"{self.kind}({', '.join(str(a) for a in shown)})"


def draw_plan(
    rng: random.Random,
    start: Sequence[Validator],
    spares: Sequence[Validator],
    orgs: int,
    byzantine: frozenset[str] = frozenset(),
) -> tuple[Step, ...]:
    """One seeded round of changes from the set ``start`` (the genesis set, or the set a
    round left: the genesis validators, powers maybe raised). Byzantine validators (at most
    f of the genesis set) keep at most f of every set: only honest validators change power
    (never below the genesis power, 1) or rotate out and back in, so the faulty share of a
    set never exceeds the genesis one."""
    steps: list[Step] = []
    current = list(start)

    def tolerated(validators: Sequence[Validator]) -> bool:
        faulty = sum(v.power for v in validators if v.name in byzantine)
        return 3 * faulty < sum(v.power for v in validators)

    def step(kind: str, args: Sequence[Value]) -> None:
        proposer = rng.randrange(orgs)
        others = [i for i in range(orgs) if i != proposer]
        rng.shuffle(others)
        steps.append(
            Step(
                kind,
                tuple(args),
                rng.randint(1 if not steps else 0, MAX_WAIT_BLOCKS),
                proposer,
                tuple(others),
                rng.random() < EXTRA_APPROVAL,
                tuple(current),
            )
        )

    def add(v: Validator) -> None:
        current.append(v)
        step("add_validator", [v.name, v.org, v.public_key, v.power, v.address])

    def remove(name: str) -> None:
        current[:] = [v for v in current if v.name != name]
        step("remove_validator", [name])

    for spare in spares:
        add(replace(spare, power=rng.choice((1, 1, 2))))
    if rng.random() < SET_POWER:
        target = rng.choice([v for v in current if v.name not in byzantine])
        power = rng.randint(target.power, 3)
        current[:] = [replace(v, power=power) if v.name == target.name else v for v in current]
        step("set_power", [target.name, power])
    if rng.random() < ROTATE:
        rotated = rng.choice([v for v in start if v.name not in byzantine])
        remove(rotated.name)
        add(replace(rotated, power=1))
    for spare in spares:
        remove(spare.name)
    assert all(tolerated(s.expected) for s in steps), "more than f faulty in a set"
    return tuple(steps)


# --- carrying it out -------------------------------------------------------------------------
@dataclass
class Pending:
    """One signed governance tx, re-submitted until it is committed."""

    what: str
    envelope: bytes
    tx_id: bytes
    sent_ms: int | None = None  # last accepted submission
    location: tuple[int, int] | None = None  # (height, index) once committed


@dataclass
class GovernanceDriver:
    plan: tuple[Step, ...]
    rng: random.Random
    index: int = 0  # the step in progress
    start_height: int = 0  # its proposal is made once the chain reaches this height
    propose: Pending | None = None
    proposal_id: int | None = None
    approvals: list[Pending] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)  # the applying height of each step
    stopped: bool = False
    seen_height: int = 0

    @classmethod
    def for_cluster(cls, c: Cluster) -> GovernanceDriver:
        driver = cls((), random.Random(f"yulian-sim/{c.seed}/governance"))
        driver._next_round(c, c.genesis.validators)
        driver.start_height = driver.plan[0].wait
        return driver

    def _next_round(self, c: Cluster, start: Sequence[Validator]) -> None:
        """Draw the next round of the plan (a long run has one every ``ROUND_HEIGHTS``)."""
        spares = c.net_info.spares[: c.config.spares]
        byzantine = frozenset(n.name for n in c.nodes.values() if not n.honest)
        steps = draw_plan(self.rng, start, spares, len(c.net_info.admins), byzantine)
        for i, step in enumerate(steps, len(self.plan)):
            c.trace("gov-plan", i, step.describe(), step.wait, step.proposer, step.extra)
        self.plan += steps

    # --- views ----------------------------------------------------------------------------
    def done(self, c: Cluster) -> bool:
        """Every step applied, and every honest node past the height the last one took
        effect."""
        if self.stopped or self.index < len(self.plan):
            return self.stopped
        last = self.applied[-1] if self.applied else 0
        return min(c.honest_heights().values()) >= last + VALIDATOR_SET_DELAY

    # --- the poll -------------------------------------------------------------------------
    def start(self, c: Cluster) -> None:
        c.at(c.clock.now_ms + POLL_MS, "gov", lambda: self.poll(c))

    def on_commit(self, c: Cluster) -> None:
        """A block was committed: look at it right after the current event (the admins watch
        the chain), once per new height."""
        height = c.reference_ledger().height()
        if height > self.seen_height and not self.stopped and self.index < len(self.plan):
            self.seen_height = height
            c.at(c.clock.now_ms, "gov-commit", lambda: self.advance(c))

    def poll(self, c: Cluster) -> None:
        """Periodic: advance the plan and re-submit what is still pending."""
        if self.stopped or self.index >= len(self.plan):
            return
        self.advance(c)
        ledger = c.reference_ledger()
        if not self.stopped:
            for pending in [self.propose, *self.approvals]:
                if pending is not None and pending.location is None:
                    self._resubmit(c, ledger, pending)
            self.start(c)

    def advance(self, c: Cluster) -> None:
        if self.stopped or self.index >= len(self.plan):
            return
        ledger = c.reference_ledger()
        step = self.plan[self.index]
        if self.propose is None:
            if ledger.height() >= self.start_height:
                self.propose = self._sign(c, ledger, step.proposer, "propose", step.kind, step)
        elif self.proposal_id is None:
            self._on_proposal(c, ledger, step)
        else:
            self._on_approvals(c, ledger, step)

    def _on_proposal(self, c: Cluster, ledger: Ledger, step: Step) -> None:
        assert self.propose is not None
        receipt = self._receipt(ledger, self.propose)
        if receipt is None:
            return
        value = receipt.value
        if not receipt.ok or not isinstance(value, dict) or value.get("status") != "open":
            self._fail(c, f"{step.describe()}: the proposal's receipt is {_show(receipt)}")
            return
        self.proposal_id = int(value["id"])
        config = read_committed_config(ledger, c)
        scope = KIND_SCOPES[step.kind]
        orgs = config.org_names()
        approving = {c.net_info.admins[step.proposer].org}
        chosen: list[int] = []
        for i in step.approvers:
            if policy_met(config.policy(scope), approving, orgs):
                break
            chosen.append(i)
            approving.add(c.net_info.admins[i].org)
        extra = [i for i in step.approvers if i not in chosen][:1] if step.extra else []
        for i in chosen + extra:
            self.approvals.append(self._sign(c, ledger, i, "approve", self.proposal_id, step))

    def _on_approvals(self, c: Cluster, ledger: Ledger, step: Step) -> None:
        receipts = []
        for pending in self.approvals:
            receipt = self._receipt(ledger, pending)
            if receipt is None:
                return  # all approvals committed first
            assert pending.location is not None
            receipts.append((pending.location, receipt))
        receipts.sort(key=lambda item: item[0])
        applying = [
            loc
            for loc, r in receipts
            if r.ok and isinstance(r.value, dict) and r.value.get("status") == "applied"
        ]
        if len(applying) != 1:
            shown = "; ".join(_show(r) for _, r in receipts)
            self._fail(c, f"{step.describe()}: {len(applying)} approvals applied it: {shown}")
            return
        for loc, r in receipts:
            if r.ok != (loc <= applying[0]):
                self._fail(c, f"{step.describe()}: approval at {loc} is {_show(r)}")
                return
        height = applying[0][0]
        self._check_config(c, ledger, step, height)
        if self.stopped:
            return
        self.applied.append(height)
        c.governance.append(
            f"{step.describe()} applied at {height}, in force from {height + VALIDATOR_SET_DELAY}"
        )
        c.trace("gov-applied", self.index, step.kind, height)
        self.index += 1
        self.propose, self.proposal_id, self.approvals = None, None, []
        if self.index == len(self.plan) and ledger.height() + ROUND_HEIGHTS <= c.config.heights:
            self._next_round(c, step.expected)
        if self.index < len(self.plan):
            self.start_height = height + VALIDATOR_SET_DELAY + self.plan[self.index].wait

    def _check_config(self, c: Cluster, ledger: Ledger, step: Step, height: int) -> None:
        """The config written at ``height`` schedules the planned set from height + 2, and
        height + 1 keeps the set in force before."""
        data = ledger.get_at(CONFIG_KEY, height)
        before = self.plan[self.index - 1].expected if self.index else c.genesis.validators
        try:
            config = ConsortiumConfig.decode(data) if data is not None else None
        except DecodeError as e:
            self._fail(c, f"{step.describe()}: the config committed at {height}: {e}")
            return
        if config is None:
            self._fail(c, f"{step.describe()}: applied at {height} but no config was committed")
            return
        effective = height + VALIDATOR_SET_DELAY
        view = ConsortiumView.of(config, effective, c.suite, encoded=data)
        before_view = view.for_height(effective - 1)
        if view.validator_list != step.expected:
            got = _names(view.validator_list)
            self._fail(c, f"{step.describe()}: set at {effective} is [{got}]")
        elif before_view.validator_list != before:
            got = _names(before_view.validator_list)
            self._fail(c, f"{step.describe()}: set at {effective - 1} changed early: [{got}]")

    # --- txs ------------------------------------------------------------------------------
    def _sign(
        self, c: Cluster, ledger: Ledger, org: int, method: str, arg: Value, step: Step
    ) -> Pending:
        admin: Wallet = c.net_info.admins[org]
        args: list[Value] = [step.kind, list(step.args)] if method == "propose" else [arg]
        tx = admin.sign_tx(
            c.chain_id,
            CONSORTIUM_CONTRACT,
            method,
            args,
            expires_at=ledger.height() + TX_TTL_BLOCKS,
            nonce=self.rng.getrandbits(62),
        )
        pending = Pending(f"{method}:{admin.org}", tx.encode(), c.suite.hash(tx.body))
        c.trace("gov", self.index, step.kind, pending.what)
        self._resubmit(c, ledger, pending)
        return pending

    def _resubmit(self, c: Cluster, ledger: Ledger, pending: Pending) -> None:
        now = c.clock.now_ms
        if pending.sent_ms is not None and now - pending.sent_ms < RESUBMIT_MS:
            return
        if ledger.tx_location(pending.tx_id) is not None:
            return
        up = c.up_nodes()
        if not up:
            return
        node = c.nodes[self.rng.choice(up)]
        if c.submit_to(node, pending.envelope, f"gov-tx:{pending.what}"):
            pending.sent_ms = now

    def _receipt(self, ledger: Ledger, pending: Pending) -> Receipt | None:
        location = ledger.tx_location(pending.tx_id)
        if location is None:
            return None
        pending.location = location
        data = ledger.receipt(*location)
        assert data is not None, "a committed tx has a receipt"
        return Receipt.decode(data)

    def _fail(self, c: Cluster, detail: str) -> None:
        self.stopped = True
        c.checker.fail(GOVERNANCE, c.clock.now_ms, detail)


def read_committed_config(ledger: Ledger, c: Cluster) -> ConsortiumConfig:
    data = ledger.get(CONFIG_KEY)
    return ConsortiumConfig.decode(data) if data else ConsortiumConfig.from_genesis(c.genesis)


def _names(validators: Sequence[Validator]) -> str:
    return ", ".join(f"{v.name}:{v.power}" for v in validators)


def _show(r: Receipt) -> str:
    return f"{r.status} {r.message!r} {r.value!r}"[:300]


__all__ = [
    "GovernanceDriver",
    "Step",
    "draw_plan",
]
