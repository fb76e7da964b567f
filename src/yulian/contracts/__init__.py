"""Introduction: the deterministic, metered Python smart-contract sandbox.

Deploy time (``compiler``): ``compile_contract(name, source)`` checks a contract against the
dialect (``compiler.dialect``), decides where it pays (``compiler.instrument``) and compiles
it with RestrictedPython.

Run time: ``CompiledContract.invoke`` (``runtime``) runs one method in an ``Environment``
(``guards``: RestrictedPython's guards; ``builtins``; ``methods``: the method tables;
``operators``: the guarded operators) that charges one ``Meter`` (``meter``) by the rates of
the cost model (``costs``), with the host API (``host``) as ``ctx``, and returns an
``Outcome``. Values crossing the host boundary are checked by ``export``.

This package imports no sockets, asyncio, storage or clock.
"""

from yulian.contracts.compiler.dialect import ContractRejected
from yulian.contracts.costs import DEFAULT_STEP_LIMIT, MAX_CALL_DEPTH
from yulian.contracts.host import BlockInfo, ContractState, Sender, TxInfo
from yulian.contracts.memory_state import MemoryState
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
