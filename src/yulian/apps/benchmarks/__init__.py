"""Introduction: the contracts of ``yulian bench``'s workloads, shipped as package data.

``transfer.py`` (balances, read-modify-write), ``trace.py`` (溯源: append to a batch's history)
and ``noop.py`` (does nothing) are sources in the contract dialect of ``docs/contracts.md``; a
bench network's genesis installs them beside ``evidence`` and the reference ``finance``
contract, governed by ``FINANCE_ISSUER`` (org1), which is also its founding issuer, so the
finance workload's set-up needs no grant (``genesis_contracts``).
"""

from __future__ import annotations

from importlib import resources

from yulian.apps.evidence import CONTRACT_NAME as EVIDENCE
from yulian.apps.evidence import contract_source as evidence_source
from yulian.apps.finance import FINANCE
from yulian.apps.finance import contract_source as finance_source

TRANSFER = "transfer"
TRACE = "trace"
NOOP = "noop"
NAMES = (TRANSFER, TRACE, NOOP)
FINANCE_ISSUER = "org1"


def source(name: str) -> str:
    """The source of the bench contract ``name`` (``transfer``, ``trace`` or ``noop``)."""
    if name not in NAMES:
        raise ValueError(f"no bench contract {name!r}; known: {', '.join(NAMES)}")
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")


def finance_contract() -> tuple[str, str]:
    """``(name, source)`` of the finance contract as a bench genesis installs it: org1
    governs and issues from the start."""
    return FINANCE, finance_source(FINANCE, (FINANCE_ISSUER,), {"issuer": [FINANCE_ISSUER]})


def genesis_contracts() -> list[tuple[str, str]]:
    """``evidence``, every bench contract and ``finance``, as ``init_network(contracts=...)``
    takes them."""
    return [
        (EVIDENCE, evidence_source()),
        *((name, source(name)) for name in NAMES),
        finance_contract(),
    ]
