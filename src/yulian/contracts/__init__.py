"""Introduction: the deterministic, metered Python smart-contract sandbox.

``compile_contract(name, source)`` checks a contract against the dialect (``dialect``),
compiles it with RestrictedPython guards (``safe_builtins``) and step charges (``metering``);
``CompiledContract.invoke`` runs one method with the host API (``host``) and returns an
``Outcome``. This package imports no sockets, asyncio, storage or clock.
"""

from yulian.contracts.dialect import ContractRejected
from yulian.contracts.host import BlockInfo, ContractState, MemoryState, Sender, TxInfo
from yulian.contracts.metering import DEFAULT_STEP_LIMIT, MAX_CALL_DEPTH
from yulian.contracts.runtime import CompiledContract, Outcome, compile_contract, sandbox_guards

__all__ = [
    "DEFAULT_STEP_LIMIT",
    "MAX_CALL_DEPTH",
    "BlockInfo",
    "CompiledContract",
    "ContractRejected",
    "ContractState",
    "MemoryState",
    "Outcome",
    "Sender",
    "TxInfo",
    "compile_contract",
    "sandbox_guards",
]
