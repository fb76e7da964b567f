"""Introduction: the ``finance`` bench workload — a receivable transfer (供应链金融), pre-signed.

Every tx is ``finance.transfer(part, to_org, "0.01")`` of the reference finance contract
(``yulian.apps.finance``): the signer's organisation cuts one cent off one of the notes it
holds and passes it to another organisation. That reads and writes the held part and its note
(the part counter) and writes a new part: three state writes, Decimal arithmetic, the holder
and maturity checks — the finance application's hot path.

The set-up issues ``notes_per_holder`` notes of ``NOTE_FACE`` to every organisation that signs
txs (the first one, ``org1``, is the issuer: ``FOUNDING_ROLES`` names it, so no grant tx is
needed and the set-up's signer, org1's client, is allowed to issue). Transfers are independent
of their order: cutting a cent off a part leaves the part under the same id with the same
holder, so any interleaving of pre-signed txs succeeds while a note's face lasts
(``NOTE_FACE`` / 0.01 transfers). A tx of signer ``i % len(holders)`` uses that holder's own
notes, matching ``workloads.presign``'s round-robin of one client per organisation.

A ``workloads.BenchWorkload`` (``name``, ``contract``, ``call``, ``setup_calls``,
``state_keys``), registered in ``workloads.WORKLOADS`` as ``finance``: ``make_workload("finance",
orgs=N)`` makes it with holders ``org1`` .. ``orgN``, the organisations of a bench network.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from yulian.apps.benchmarks import FINANCE_ISSUER, finance_contract
from yulian.apps.finance import FINANCE

NAME = "finance"
NOTE_FACE = "1000000000.00"  # 10^11 one-cent transfers per note
NOTE_MATURITY_MS = 4_102_444_800_000  # 2100-01-01: the bench never reaches it
TRANSFER_AMOUNT = "0.01"
DEFAULT_NOTES_PER_HOLDER = 8
ISSUER = FINANCE_ISSUER

Call = tuple[str, list[object]]


def genesis_contract() -> tuple[str, str]:
    """``(name, source)`` of the finance contract as a bench genesis installs it: org1
    governs and issues from the start (``yulian.apps.benchmarks.genesis_contracts``)."""
    return finance_contract()


def note_id(holder: str, k: int) -> str:
    return f"bench-{holder}-{k}"


@dataclass(frozen=True)
class FinanceWorkload:
    """Receivable transfers between ``holders`` (the organisations of the signing wallets,
    in ``presign``'s order)."""

    holders: tuple[str, ...] = ("org1", "org2")
    notes_per_holder: int = DEFAULT_NOTES_PER_HOLDER
    seed: int = 1
    name: str = NAME
    contract: str = FINANCE

    def __post_init__(self) -> None:
        if len(self.holders) < 2 or len(set(self.holders)) != len(self.holders):
            raise ValueError("the finance workload needs at least 2 distinct holders")
        if self.notes_per_holder < 1:
            raise ValueError("the finance workload needs at least 1 note per holder")

    def call(self, i: int) -> Call:
        """Tx ``i``: the ``i % len(holders)``-th holder passes a cent of one of its notes to
        another holder (deterministic in ``seed`` and ``i``)."""
        rng = random.Random(self.seed * 1_000_003 + i)
        n = len(self.holders)
        holder = self.holders[i % n]
        receiver = self.holders[(i % n + 1 + rng.randrange(n - 1)) % n]
        part = note_id(holder, rng.randrange(self.notes_per_holder))
        return "transfer", [part, receiver, TRANSFER_AMOUNT]

    def setup_calls(self) -> list[Call]:
        """The notes, issued by org1 (the set-up's signer) to every holder."""
        return [
            ("issue", [note_id(h, k), h, NOTE_FACE, "CNY", NOTE_MATURITY_MS, ""])
            for h in self.holders
            for k in range(self.notes_per_holder)
        ]

    def state_keys(self) -> int:
        """Keys the set-up creates: a note and its first part each."""
        return 2 * len(self.holders) * self.notes_per_holder


def make_finance_workload(
    holders: Sequence[str], *, notes_per_holder: int = DEFAULT_NOTES_PER_HOLDER, seed: int = 1
) -> FinanceWorkload:
    return FinanceWorkload(tuple(holders), notes_per_holder, seed)
