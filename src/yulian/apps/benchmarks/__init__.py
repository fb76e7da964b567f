"""Introduction: the contracts of ``yulian bench``'s workloads, shipped as package data.

``transfer.py`` (balances, read-modify-write), ``trace.py`` (溯源: append to a batch's history)
and ``noop.py`` (does nothing) are sources in the contract dialect of ``docs/contracts.md``; a
bench network's genesis installs them beside ``evidence`` (``genesis_contracts``).
"""

from __future__ import annotations

from importlib import resources

from yulian.apps.evidence import CONTRACT_NAME as EVIDENCE
from yulian.apps.evidence import contract_source as evidence_source

TRANSFER = "transfer"
TRACE = "trace"
NOOP = "noop"
NAMES = (TRANSFER, TRACE, NOOP)


def source(name: str) -> str:
    """The source of the bench contract ``name`` (``transfer``, ``trace`` or ``noop``)."""
    if name not in NAMES:
        raise ValueError(f"no bench contract {name!r}; known: {', '.join(NAMES)}")
    return resources.files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")


def genesis_contracts() -> list[tuple[str, str]]:
    """``evidence`` plus every bench contract, as ``init_network(contracts=...)`` takes them."""
    return [(EVIDENCE, evidence_source()), *((name, source(name)) for name in NAMES)]
