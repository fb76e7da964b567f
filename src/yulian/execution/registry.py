"""Introduction: which contract code a name resolves to, compiled once per code hash.

The code of a contract is data on chain: the ``lifecycle`` system contract records the active
version of each name and its code (``lifecycle.read_active``), so every node compiles the same
bytes. Resolution reads the state the tx runs on (the block's overlay), so a contract deployed
earlier in the same block is callable by the txs after it. Compiled modules are cached by code
hash, never by name, so an upgrade can never run stale code. System contracts resolve first;
no deployment can shadow them. A test network may also pre-install contracts in its genesis.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from yulian.contracts import CompiledContract, compile_contract
from yulian.crypto.suite import Suite
from yulian.execution.overlay import StateView
from yulian.execution.system.lifecycle import code_key, read_active

MAX_COMPILED = 256

# compiled modules, shared by every registry of the process (a simulated cluster runs dozens of
# replicas; a restarted replica would otherwise compile the same code again): keyed by name and
# code hash, both of which the compiled module depends on, and never mutated by a call
_COMPILED: OrderedDict[tuple[str, bytes], CompiledContract] = OrderedDict()


class ContractRegistry:
    def __init__(
        self,
        suite: Suite,
        genesis_contracts: Sequence[tuple[str, str]] = (),
        system: Mapping[str, Any] | None = None,
    ) -> None:
        self._suite = suite
        self._genesis = {
            name: (suite.hash(source.encode("utf-8")), source) for name, source in genesis_contracts
        }
        self._system = dict(system or {})

    def system_names(self) -> list[str]:
        return sorted(self._system)

    def genesis_names(self) -> list[str]:
        return sorted(self._genesis)

    def resolve(self, name: str, view: StateView) -> Any:
        """The contract called ``name`` in ``view`` (system contracts first), or ``None``."""
        system = self._system.get(name)
        if system is not None:
            return system
        active = read_active(view, name)
        if active is not None:
            code_hash = active[1]
            compiled = _COMPILED.get((name, code_hash))
            if compiled is not None:
                return compiled
            source = view.get(code_key(code_hash))
            if source is None:  # cannot happen: the code is stored before it is active
                return None
            return self._compile(name, code_hash, source.decode("utf-8"))
        genesis = self._genesis.get(name)
        if genesis is None:
            return None
        compiled = _COMPILED.get((name, genesis[0]))
        return compiled if compiled is not None else self._compile(name, *genesis)

    @staticmethod
    def _compile(name: str, code_hash: bytes, source: str) -> CompiledContract:
        compiled = compile_contract(name, source)
        _COMPILED[(name, code_hash)] = compiled
        while len(_COMPILED) > MAX_COMPILED:
            _COMPILED.popitem(last=False)
        return compiled
