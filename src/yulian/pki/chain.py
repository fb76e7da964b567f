"""Introduction: which chain a network directory describes, and whether a node serves it.

A chain is named by its ``chain_id`` and pinned by its genesis hash (the suite hash of the
canonical genesis bytes, as the node computes it). Two local networks share the default chain
id, so only the hash tells them apart. Every operator command that talks to a node compares
the node's ``/v1/health`` answer with the directory it was pointed at before trusting it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from yulian.crypto.suite import SuiteError, get_suite
from yulian.pki.files import PkiError
from yulian.pki.layout import load_genesis, network_root
from yulian.types.genesis import Genesis


@dataclass(frozen=True)
class ChainIdentity:
    chain_id: str
    genesis_hash: str  # lowercase hex

    @classmethod
    def of(cls, genesis: Genesis) -> ChainIdentity:
        try:
            suite = get_suite(genesis.suite)
        except SuiteError as e:
            raise PkiError(str(e)) from None
        return cls(genesis.chain_id, suite.hash(genesis.encode()).hex())

    @classmethod
    def load(cls, network_dir: str | os.PathLike[str]) -> ChainIdentity:
        return cls.of(load_genesis(network_root(network_dir)))

    def short(self) -> str:
        return f"chain {self.chain_id!r}, genesis {self.genesis_hash[:16]}"

    def mismatch(self, health: Mapping[str, object], node: str | None = None) -> str | None:
        """Why the node that answered ``health`` is not this chain's node ``node`` (any node
        when ``None``); ``None`` when it is."""
        chain_id, genesis_hash = health.get("chain_id"), health.get("genesis_hash")
        if not isinstance(chain_id, str) or not isinstance(genesis_hash, str):
            return "it does not say which chain it serves (not a Yulian node of this version)"
        if (chain_id, genesis_hash) != (self.chain_id, self.genesis_hash):
            return (
                f"it serves chain {chain_id!r} (genesis {genesis_hash[:16]}), another network "
                f"than this one ({self.short()})"
            )
        if node is not None and health.get("node") != node:
            return f"it is node {health.get('node')!r} of this chain, not {node!r}"
        return None
