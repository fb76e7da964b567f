"""Introduction: the transactions of each ``yulian bench`` workload, generated and pre-signed.

A ``Workload`` turns a tx index into a contract call ``(method, args)``, deterministically from
a seed, and lists the set-up calls (untimed) that the state needs first:

=================  ==============================================================================
``evidence``       ``evidence.register(digest, title, {})`` — one new key per tx (存证)
``transfer``       ``transfer.transfer(src, dst, 1)`` between two accounts drawn uniformly from
                   ``accounts`` pre-opened accounts (read-modify-write of two keys)
``transfer-hot``   the same, but every ``dst`` is one of ``HOT_ACCOUNTS`` accounts (hot keys)
``trace``          ``trace.append(batch, event)`` on one of ``batches`` product batches (溯源)
``noop``           ``noop.noop()`` — the pipeline without contract work
``finance``        ``finance.transfer(part, org, "0.01")`` — a receivable's cent passed to another
                   organisation by the reference finance contract (供应链金融; ``finance_workload``)
=================  ==============================================================================

``BenchWorkload`` is what the session, the micro-benchmarks and ``presign`` need of a workload;
``Workload`` (above, but ``finance``) and ``finance_workload.FinanceWorkload`` both are one.

``presign`` signs a range of tx indices ahead of time with a round-robin of wallets (one
client per organisation), so no signing happens while the load runs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from yulian.sdk import Wallet

WORKLOADS = ("evidence", "transfer", "transfer-hot", "trace", "noop", "finance")
ACCOUNT_PREFIX = "a"
INITIAL_BALANCE = 1_000_000_000
HOT_ACCOUNTS = 8
SEED_CHUNK = 10_000  # accounts opened per set-up tx (``open_range``; at most 20,000)
DEFAULT_ACCOUNTS = 10_000
DEFAULT_BATCHES = 1_000

Call = tuple[str, list[Any]]


@dataclass(frozen=True)
class PreparedTx:
    """A pre-signed tx: its id (the suite hash of the signed body) and its envelope bytes."""

    tx_id: bytes
    envelope: bytes


class BenchWorkload(Protocol):
    """A workload as the bench runs it: tx ``i``'s call, the untimed set-up calls, and the
    number of state keys they create."""

    @property
    def name(self) -> str: ...

    @property
    def contract(self) -> str: ...

    def call(self, i: int) -> Call: ...

    def setup_calls(self) -> list[Call]: ...

    def state_keys(self) -> int: ...


@dataclass(frozen=True)
class Workload:
    name: str
    contract: str
    accounts: int = DEFAULT_ACCOUNTS  # transfer and transfer-hot
    batches: int = DEFAULT_BATCHES  # trace
    seed: int = 1
    tag: str = "run"  # makes evidence digests unique between runs on one network

    def call(self, i: int) -> Call:
        """The contract call of tx number ``i`` (deterministic in ``seed`` and ``i``)."""
        if self.name == "evidence":
            digest = hashlib.sha256(f"{self.tag}:{self.seed}:{i}".encode()).hexdigest()
            return "register", [digest, f"bench document {i}", {}]
        if self.name == "noop":
            return "noop", []
        rng = random.Random(self.seed * 1_000_003 + i)
        if self.name in ("transfer", "transfer-hot"):
            if self.name == "transfer-hot":
                dst = rng.randrange(min(HOT_ACCOUNTS, self.accounts))
            else:
                dst = rng.randrange(self.accounts)
            src = rng.randrange(self.accounts - 1)
            if src >= dst:
                src += 1  # uniform over every account but dst
            return "transfer", [account(src), account(dst), 1]
        if self.name == "trace":
            batch = rng.randrange(self.batches)
            event = {"step": i, "site": f"site-{rng.randrange(64)}", "temp_c": rng.randrange(40)}
            return "append", [f"batch-{batch}", event]
        raise ValueError(f"unknown workload {self.name!r}")

    def setup_calls(self) -> list[Call]:
        """Calls to commit (untimed) before the load: the accounts of the transfer workloads."""
        if self.name not in ("transfer", "transfer-hot"):
            return []
        return [
            (
                "open_range",
                [ACCOUNT_PREFIX, first, min(SEED_CHUNK, self.accounts - first), INITIAL_BALANCE],
            )
            for first in range(0, self.accounts, SEED_CHUNK)
        ]

    def state_keys(self) -> int:
        """Keys the set-up calls create."""
        return self.accounts if self.name in ("transfer", "transfer-hot") else 0


def account(k: int) -> str:
    return f"{ACCOUNT_PREFIX}{k}"


def make_workload(
    name: str,
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    batches: int = DEFAULT_BATCHES,
    seed: int = 1,
    tag: str = "run",
    orgs: int = 2,
) -> BenchWorkload:
    """The workload ``name``; ``orgs`` is the number of organisations whose clients sign its
    txs in turn (``org1`` .. ``orgN``, as a bench network has them): the finance workload's
    holders."""
    # the apps' contract names; imported here, not above, because the option table lists
    # WORKLOADS when the ``yulian`` command starts, and the apps load the SDK
    from yulian.apps.benchmarks import NOOP, TRACE, TRANSFER
    from yulian.apps.evidence import CONTRACT_NAME as EVIDENCE
    from yulian.bench.finance_workload import make_finance_workload

    if name == "finance":
        return make_finance_workload([f"org{k}" for k in range(1, orgs + 1)], seed=seed)

    contracts = {
        "evidence": EVIDENCE,
        "transfer": TRANSFER,
        "transfer-hot": TRANSFER,
        "trace": TRACE,
        "noop": NOOP,
    }
    if name not in contracts:
        raise ValueError(f"unknown workload {name!r}; choose one of {', '.join(WORKLOADS)}")
    if accounts < 2:
        raise ValueError("a transfer workload needs at least 2 accounts")
    if batches < 1:
        raise ValueError("a trace workload needs at least 1 batch")
    return Workload(name, contracts[name], accounts, batches, seed, tag)


def presign(
    workload: BenchWorkload,
    wallets: Sequence[Wallet],
    chain_id: str,
    start: int,
    count: int,
    *,
    expires_at: int,
) -> list[PreparedTx]:
    """Sign txs ``start .. start + count - 1`` of ``workload``, wallets in turn."""
    out = []
    for i in range(start, start + count):
        method, args = workload.call(i)
        wallet = wallets[i % len(wallets)]
        signed = wallet.sign_tx(chain_id, workload.contract, method, args, expires_at=expires_at)
        out.append(PreparedTx(wallet.suite.hash(signed.body), signed.encode()))
    return out


def sign_calls(
    wallet: Wallet,
    chain_id: str,
    contract: str,
    calls: Sequence[tuple[str, Sequence[Any]]],
    *,
    expires_at: int,
) -> list[PreparedTx]:
    """Sign explicit calls (the set-up calls) with one wallet."""
    out = []
    for method, args in calls:
        signed = wallet.sign_tx(chain_id, contract, method, args, expires_at=expires_at)
        out.append(PreparedTx(wallet.suite.hash(signed.body), signed.encode()))
    return out
