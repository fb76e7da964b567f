"""Introduction: the world an adversarial case runs in — a state to scan and a contract to call.

Every case of ``bench.adversarial`` runs through the execution layer's own parts, so that the
host calls it attacks do the work a node does: its state is a ``ContractStateAdapter`` on an
``Overlay`` of a committed state, and its calls go through ``OverlayCalls`` to ``callee``
(``CALLEE``). The committed state and an earlier transaction of the same block are laid out
against the scan's merge: committed keys ``s/00000``.. (the first half deleted by the earlier
tx, so a scan passes their tombstones), 64 values of 60,000 chars under ``big/`` (the first half
overwritten with small values by the earlier tx, so a scan reads what it shadows), and keys
``o/..`` only the earlier tx wrote.

The committed state is a node's own: an LMDB ledger (in a temporary directory, written once
per process, removed at exit), so that what a scan costs here is what it costs a node.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from yulian.contracts import CompiledContract, compile_contract
from yulian.execution.executor import OverlayCalls
from yulian.execution.overlay import ContractStateAdapter, Overlay, StateView, state_key
from yulian.ledger import BlockCommit, open_ledger
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


_COMMITTED: StateView | None = None
_CALLEE: CompiledContract | None = None


def _key(name: str) -> bytes:
    return state_key(NAMESPACE, name)


def committed() -> StateView:
    """The committed state: an LMDB ledger at height 1, written on first use."""
    global _COMMITTED
    if _COMMITTED is None:
        data = {_key(f"s/{i:05}"): encode(SMALL_VALUE) for i in range(SMALL_KEYS)}
        data.update({_key(f"big/{i:03}"): encode("x" * BIG_CHARS) for i in range(BIG_KEYS)})
        directory = Path(tempfile.mkdtemp(prefix="yulian-bench-world-"))
        ledger = open_ledger(directory / "ledger", sync=False)
        writes = tuple(sorted(data.items()))
        ledger.commit_block(BlockCommit(1, b"\x01" * 32, b"-", b"-", (), (), writes, b"\x02" * 32))
        atexit.register(shutil.rmtree, directory, True)
        atexit.register(ledger.close)
        _COMMITTED = ledger
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
