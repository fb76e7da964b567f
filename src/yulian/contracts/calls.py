"""Introduction: calls between contracts — ``ctx.call`` and ``ctx.try_call``.

A contract calls a public method of another user contract with ``ctx.call(contract, method,
args)``. The callee runs in the same transaction: on what is left of the caller's one step
budget and call depth, under the same sender, block and tx, with ``ctx.caller`` naming the
calling contract (None when a transaction called it directly). Its writes go to its own key
space only, the private records it writes (``ctx.private``) name it as their writing contract,
and its events join the transaction's, under its own name.

What crosses between the two is plain data only: the arguments are checked and copied like a
transaction's (``import_args``), the return value is exported by the callee and copied again
for the caller, so no host object, function or frame passes, and neither can reach the other's
state or ``ctx``.

A failed callee (``reverted``, ``fault``, an unknown method, bad arguments, an unknown or
system contract, a refusal below) changes nothing: its writes — its private records and its
own callees' writes included — are rolled back (``ContractCalls.rollback_call``) and its events
dropped. ``ctx.call`` then ends the caller too: ``reverted`` with the message
``contract.method: message`` when the callee reverted, otherwise ``fault`` (``CallFailed:
contract.method: status: message``).
``ctx.try_call`` instead answers ``{"ok": False, "status": ..., "message": ...}`` and lets the
caller go on (``{"ok": True, "value": ...}`` on success). Running out of steps, or into a hard
cap, is never caught: the budget is shared, so nothing would be left to go on with.

Refused: system contracts (their methods act with an admin's authority: a contract must not
wield it for the signer), re-entry (a contract that is already running in the transaction:
its buffered writes are not yet visible to a second invocation), calls nested deeper than
``MAX_CONTRACT_CALL_DEPTH`` contracts, and more than ``MAX_CALLED_CONTRACTS`` distinct callees
in one transaction (each may need compiling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from yulian.contracts.aborts import InvalidValue, SandboxFault
from yulian.contracts.costs import MAX_CALLED_CONTRACTS, MAX_CONTRACT_CALL_DEPTH
from yulian.contracts.meter import Meter

if TYPE_CHECKING:
    from yulian.contracts.host import BlockInfo, ContractState, Sender, TxInfo
    from yulian.contracts.private import PrivateData

MAX_CONTRACT_NAME_BYTES = 64

# Opens the private data (``ctx.private``) of the contract named first in the transaction of
# ``frame``; the host calls it only when an invocation first uses ``ctx.private``.
PrivateSource = Callable[[str, "TxFrame"], "PrivateData"]


class CallFailed(SandboxFault):
    """``ctx.call``'s callee failed other than by a revert; the caller ends as a fault."""


class Invocable(Protocol):
    """A compiled user contract, as a caller runs it (``runtime.CompiledContract``)."""

    def invoke_nested(
        self,
        method: str,
        args: list[Any],
        frame: TxFrame,
        meter: Meter,
        state: ContractState,
        private: PrivateSource | None = None,
    ) -> Any: ...  # an Outcome


@dataclass(frozen=True)
class Callee:
    """A contract a call reached, its own key space, and where its own ``ctx.private`` comes
    from (records it writes name it, not its caller, as ``via``)."""

    name: str
    contract: Invocable
    state: ContractState
    private: PrivateSource | None = None


class ContractCalls(Protocol):
    """What the execution layer provides for calls: the callees, and a journal per call."""

    def resolve(self, name: str, frame: TxFrame) -> Callee | str:
        """The user contract ``name`` with its state and private data in ``frame``'s
        transaction, or why it cannot be called."""
        ...

    def begin_call(self) -> None: ...

    def commit_call(self) -> None: ...

    def rollback_call(self) -> None: ...


class TxFrame:
    """What every invocation of one transaction shares: who and when, the contracts running
    (outermost first), those called so far, and the events emitted.

    One is made per transaction: a plain class with slots, which costs a fraction of a
    dataclass's ``__init__`` on the per-tx path."""

    __slots__ = (
        "block",
        "called",
        "calls",
        "event_bytes",
        "events",
        "read_only",
        "running",
        "sender",
        "tx",
    )

    def __init__(
        self,
        sender: Sender,
        block: BlockInfo,
        tx: TxInfo,
        read_only: bool,
        calls: ContractCalls | None,
    ) -> None:
        self.sender = sender
        self.block = block
        self.tx = tx
        self.read_only = read_only
        self.calls = calls
        self.running: list[str] = []
        self.called: set[str] = set()  # membership only: never iterated
        self.events: list[tuple[str, str, Any]] = []  # (contract, name, payload)
        self.event_bytes = 0


def check_name(name: Any) -> str:
    if (
        type(name) is not str
        or not 0 < len(name) <= MAX_CONTRACT_NAME_BYTES
        or len(name.encode("utf-8", "replace")) > MAX_CONTRACT_NAME_BYTES
        or "\x00" in name
    ):
        raise InvalidValue(f"a contract name is a str of 1..{MAX_CONTRACT_NAME_BYTES} bytes")
    return name


def refusal(frame: TxFrame, name: str) -> str | None:
    """Why a call to ``name`` is refused before anything runs, or None."""
    if frame.calls is None:
        return "calls between contracts are not available here"
    if len(frame.running) >= MAX_CONTRACT_CALL_DEPTH:
        return f"contract calls nested deeper than {MAX_CONTRACT_CALL_DEPTH}"
    if name in frame.running:
        return f"{name} is already running in this transaction (no re-entry)"
    if name not in frame.called and len(frame.called) >= MAX_CALLED_CONTRACTS:
        return f"calls reach more than {MAX_CALLED_CONTRACTS} contracts"
    return None
