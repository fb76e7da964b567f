"""Introduction: which contract code a name resolves to, compiled once per code hash.

The code of a contract is data on chain (installed at genesis for now, by the lifecycle
contract later), so every node compiles the same bytes; compiled modules are cached by the
hash of their source, never by name, so an upgrade can never run stale code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yulian.contracts import CompiledContract, compile_contract
from yulian.crypto.suite import Suite

SystemContract = Any  # an object with ``invoke`` like ``CompiledContract`` (execution/system.py)


class ContractRegistry:
    def __init__(
        self,
        suite: Suite,
        genesis_contracts: Sequence[tuple[str, str]],
        system: Mapping[str, SystemContract] | None = None,
    ) -> None:
        self._suite = suite
        self._sources = {name: source for name, source in genesis_contracts}
        self._system = dict(system or {})
        self._compiled: dict[bytes, CompiledContract] = {}

    def names(self) -> list[str]:
        return sorted({*self._sources, *self._system})

    def source(self, name: str) -> str | None:
        return self._sources.get(name)

    def resolve(self, name: str) -> Any:
        """The contract called ``name`` (system contracts first), or ``None``."""
        system = self._system.get(name)
        if system is not None:
            return system
        source = self._sources.get(name)
        if source is None:
            return None
        code_hash = self._suite.hash(source.encode("utf-8"))
        compiled = self._compiled.get(code_hash)
        if compiled is None:
            compiled = compile_contract(name, source)
            self._compiled[code_hash] = compiled
        return compiled
