"""Introduction: the world an adversarial case runs in — a state to scan and a contract to call.

Every case of ``bench.adversarial`` runs through the execution layer's own parts, so that the
host calls it attacks do the work a node does: its state is a ``ContractStateAdapter`` on an
``Overlay`` of a committed state, and its calls go through ``OverlayCalls`` to ``callee``
(``CALLEE``). The committed state and an earlier transaction of the same block are laid out
against the scan's merge: committed keys ``s/00000``.. (the first half deleted by the earlier
tx, so a scan passes their tombstones), 64 values of 60,000 chars under ``big/`` (the first half
overwritten with small values by the earlier tx, so a scan reads what it shadows), and keys
``o/..`` only the earlier tx wrote.

The committed state is built once per process and never changes; it answers ordered scans by
bisection, as an index would (LMDB's cursor), so that a scan's cost here is the overlay's and
the host's, not a sort.
"""

from __future__ import annotations

import bisect
from typing import Any

from yulian.contracts import CompiledContract, compile_contract
from yulian.execution.executor import OverlayCalls
from yulian.execution.overlay import ContractStateAdapter, Overlay, state_key
from yulian.types.encoding import encode

NAMESPACE = "bench"  # the key space of the case's contract, whatever its name
CALLEE_NAME = "callee"
SMALL_KEYS = 4000
BIG_KEYS = 64
BIG_CHARS = 60_000
SMALL_VALUE = "v" * 16

CALLEE = """
def noop(ctx):
    return None

def echo(ctx, value):
    return value

def fail(ctx):
    ctx.require(False, "no")

def write_fail(ctx, n):
    for i in range(n):
        ctx.state.put("w" + str(i), i)
    ctx.emit("wrote", {"n": n})
    ctx.require(False, "no")

def emit(ctx, n):
    for i in range(n):
        ctx.emit("e", {"i": i})

def caller(ctx):
    return ctx.caller
"""


class SortedView:
    """An immutable committed state with ordered scans by bisection."""

    def __init__(self, data: dict[bytes, bytes]) -> None:
        self._data = data
        self._keys = sorted(data)

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return []

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        keys = self._keys
        if start_after is None:
            i = bisect.bisect_left(keys, prefix)
        else:
            i = bisect.bisect_right(keys, max(prefix, start_after))
        out: list[tuple[bytes, bytes]] = []
        while i < len(keys) and len(out) < limit and keys[i].startswith(prefix):
            out.append((keys[i], self._data[keys[i]]))
            i += 1
        return out


_COMMITTED: SortedView | None = None
_CALLEE: CompiledContract | None = None


def _key(name: str) -> bytes:
    return state_key(NAMESPACE, name)


def committed() -> SortedView:
    global _COMMITTED
    if _COMMITTED is None:
        data = {_key(f"s/{i:05}"): encode(SMALL_VALUE) for i in range(SMALL_KEYS)}
        data.update({_key(f"big/{i:03}"): encode("x" * BIG_CHARS) for i in range(BIG_KEYS)})
        _COMMITTED = SortedView(data)
    return _COMMITTED


def _earlier_tx(overlay: Overlay) -> None:
    """What an earlier transaction of the block wrote."""
    overlay.begin_tx()
    for i in range(SMALL_KEYS // 2):
        overlay.delete(_key(f"s/{i:05}"))
        overlay.put(_key(f"o/{i:05}"), encode(SMALL_VALUE))
    for i in range(BIG_KEYS // 2):
        overlay.put(_key(f"big/{i:03}"), encode(SMALL_VALUE))
    overlay.commit_tx()


def _resolve(name: str, view: Any) -> CompiledContract | None:
    global _CALLEE
    if name != CALLEE_NAME:
        return None
    if _CALLEE is None:
        _CALLEE = compile_contract(CALLEE_NAME, CALLEE)
    return _CALLEE


def fresh_world() -> tuple[ContractStateAdapter, OverlayCalls]:
    """The state and the calls of one case's invocation, in a transaction of its own."""
    overlay = Overlay(committed(), 2)
    _earlier_tx(overlay)
    overlay.begin_tx()

    def state_of(name: str) -> ContractStateAdapter:
        return ContractStateAdapter(overlay, name)

    return state_of(NAMESPACE), OverlayCalls(overlay, _resolve, state_of)
