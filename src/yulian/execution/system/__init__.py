"""Introduction: system contracts — native Python behind the same ``invoke`` interface.

System contracts are part of the protocol, not deployed code: they run natively (no sandbox,
a fixed step charge) and are resolved before user contracts, so no deployment can shadow them.

- ``misbehaviour``: committed evidence of a validator's double vote.
- ``consortium``: organisations, validators, policies, chain parameters and revocations,
  changed only by proposals the organisations' admins approve.
- ``lifecycle``: user contracts deployed and upgraded by the same kind of proposals.

Besides their own state, system contracts read other namespaces through ``view`` (the
block's overlay): the misbehaviour contract needs the validator set of the evidence's height,
the lifecycle contract the policies.
"""

from yulian.execution.system.base import SYSTEM_CALL_STEPS, SystemContract, SystemRevert
from yulian.execution.system.consortium import ConsortiumContract, read_config
from yulian.execution.system.lifecycle import LifecycleContract
from yulian.execution.system.misbehaviour import MisbehaviourContract

SYSTEM_CONTRACT_NAMES = ("consortium", "lifecycle", "misbehaviour")

__all__ = [
    "SYSTEM_CALL_STEPS",
    "SYSTEM_CONTRACT_NAMES",
    "ConsortiumContract",
    "LifecycleContract",
    "MisbehaviourContract",
    "SystemContract",
    "SystemRevert",
    "read_config",
]
