"""Introduction: a copy-on-write state overlay with per-transaction snapshot and rollback.

The block overlay sits on a read-only view of the committed state. Each transaction runs in a
nested journal: ``begin_tx`` opens it, ``commit_tx`` folds it into the block's writes and
``rollback_tx`` drops it, so a failed transaction changes no state (the shape of
execution-specs' ``begin_transaction`` / ``rollback_transaction``).
"""

from __future__ import annotations

from typing import Protocol

MAX_KEY_BYTES = 480  # below LMDB's 511-byte key limit, with room for the contract prefix
_TOMBSTONE = None


class StateView(Protocol):
    """Read-only committed state (the ledger, or a snapshot of it)."""

    def get(self, key: bytes) -> bytes | None: ...

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]: ...


def state_key(contract: str, key: str) -> bytes:
    """The ledger key of ``key`` in ``contract``'s namespace; names never contain NUL."""
    return contract.encode("utf-8") + b"\x00" + key.encode("utf-8")


class Overlay:
    def __init__(self, base: StateView, height: int) -> None:
        self._base = base
        self._height = height
        self._block: dict[bytes, bytes | None] = {}
        self._tx: dict[bytes, bytes | None] | None = None

    def begin_tx(self) -> None:
        assert self._tx is None, "transactions do not nest"
        self._tx = {}

    def commit_tx(self) -> None:
        assert self._tx is not None
        self._block.update(self._tx)
        self._tx = None

    def rollback_tx(self) -> None:
        assert self._tx is not None
        self._tx = None

    def get(self, key: bytes) -> bytes | None:
        tx = self._tx
        if tx is not None and key in tx:
            return tx[key]
        if key in self._block:
            return self._block[key]
        return self._base.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        assert self._tx is not None, "writes happen inside a transaction"
        self._tx[key] = value

    def delete(self, key: bytes) -> None:
        assert self._tx is not None, "writes happen inside a transaction"
        self._tx[key] = _TOMBSTONE

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        """Committed versions, newest first, with this block's pending version on top."""
        pending: list[tuple[int, bytes | None]] = []
        if self._tx is not None and key in self._tx:
            pending = [(self._height, self._tx[key])]
        elif key in self._block:
            pending = [(self._height, self._block[key])]
        if limit <= len(pending):
            return pending[:limit]
        return pending + self._base.history(key, limit - len(pending))

    def writes(self) -> tuple[tuple[bytes, bytes | None], ...]:
        """The block's write set, sorted by key (the canonical order for the state root)."""
        assert self._tx is None, "no transaction is open"
        return tuple(sorted(self._block.items()))


class ContractStateAdapter:
    """The overlay as one contract sees it: str keys inside the contract's own namespace."""

    __slots__ = ("_overlay", "_prefix")

    def __init__(self, overlay: Overlay, contract: str) -> None:
        self._overlay = overlay
        self._prefix = state_key(contract, "")  # every key of the contract starts with it

    def get(self, key: str) -> bytes | None:
        return self._overlay.get(self._prefix + key.encode("utf-8"))

    def put(self, key: str, value: bytes) -> None:
        self._overlay.put(self._prefix + key.encode("utf-8"), value)

    def delete(self, key: str) -> None:
        self._overlay.delete(self._prefix + key.encode("utf-8"))

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return self._overlay.history(self._prefix + key.encode("utf-8"), limit)
