"""Introduction: system contracts — native Python behind the same ``invoke`` interface.

System contracts are part of the protocol, not deployed code: they run natively (no sandbox,
a fixed step charge) and are resolved before user contracts, so no deployment can shadow them.

- ``misbehaviour``: committed evidence of a validator's double vote.
- ``consortium``: organisations, validators, policies, chain parameters and revocations,
  changed only by proposals the organisations' admins approve.
- ``lifecycle``: user contracts deployed and upgraded by the same kind of proposals.
- ``collections``, ``consent``, ``access``: private data collections (their salted digests),
  consent grants and the audit trail of reads, with read policies (decisions 0075–0079).

Besides their own state, system contracts read other namespaces through ``view`` (the
block's overlay): the misbehaviour contract needs the validator set of the evidence's height,
the lifecycle contract the policies.
"""

from typing import Any

from yulian.crypto.suite import Suite
from yulian.execution.system.access import AccessContract
from yulian.execution.system.base import SYSTEM_CALL_STEPS, SystemContract, SystemRevert
from yulian.execution.system.collections import CollectionsContract
from yulian.execution.system.consent import ConsentContract
from yulian.execution.system.consortium import ConsortiumContract, read_config
from yulian.execution.system.lifecycle import LifecycleContract
from yulian.execution.system.misbehaviour import MisbehaviourContract
from yulian.types.genesis import Genesis

SYSTEM_CONTRACT_NAMES = (
    "consortium",
    "lifecycle",
    "misbehaviour",
    "collections",
    "consent",
    "access",
)


def system_contracts(suite: Suite, genesis: Genesis) -> dict[str, Any]:
    """Every system contract of a chain, by name: what a contract registry resolves first."""
    return {
        ConsortiumContract.name: ConsortiumContract(suite, genesis),
        LifecycleContract.name: LifecycleContract(suite, genesis),
        MisbehaviourContract.name: MisbehaviourContract(suite, genesis),
        CollectionsContract.name: CollectionsContract(suite, genesis),
        ConsentContract.name: ConsentContract(),
        AccessContract.name: AccessContract(suite, genesis),
    }


__all__ = [
    "SYSTEM_CALL_STEPS",
    "SYSTEM_CONTRACT_NAMES",
    "AccessContract",
    "CollectionsContract",
    "ConsentContract",
    "ConsortiumContract",
    "LifecycleContract",
    "MisbehaviourContract",
    "SystemContract",
    "SystemRevert",
    "read_config",
    "system_contracts",
]
