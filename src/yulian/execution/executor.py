"""Introduction: ``execute_block`` — the state transition, as a pure function.

``execute_block(view, block_ctx, txs, resolve)`` runs every transaction of a block in order on
an overlay of ``view`` and returns one receipt per transaction and the block's sorted write
set. It reads nothing but its arguments: no clock, no randomness, no environment, no iteration
over unordered sets, so every node computes identical receipts and writes for the same block.

A transaction that fails (revert, fault, out of steps, unknown contract or method) gets a
failure receipt and its writes are rolled back; it is still included, so its id is spent.
Every receipt can be committed and read back: one that would not encode or decode becomes a
``fault`` receipt with no writes, and every message is cut to what the decoder accepts.

A user contract may call other user contracts (``contracts.calls``): ``OverlayCalls`` resolves
them in the overlay, as the transaction itself was, and gives each call a journal of its own
and each callee a ``PrivateAccess`` of its own (``ctx.private`` in the callee's name), whose
writes land in that journal and roll back with it. Every invocation's ``PrivateAccess`` — the
transaction's own too — is opened when it first uses ``ctx.private`` (``open_private``): most
never do, and the per-tx path stays as cheap as before there were calls and private data.

The block's step budget: with ``BlockContext.max_block_steps``, a transaction runs only if the
steps of those before it plus a whole ``step_limit`` fit the budget — the rule of Ethereum's
block gas limit, with every tx's limit the chain's — so no block executes more than
``max_block_steps``; ``execute_block`` stops before the first tx that does not fit and returns
the receipts of those that ran (``execution.blocks`` makes and checks blocks by it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from yulian.contracts import BlockInfo, Sender, TxInfo, sandbox_guards
from yulian.contracts.calls import Callee, TxFrame
from yulian.execution.overlay import ContractStateAdapter, Overlay, StateView
from yulian.execution.private_access import PrivateAccess
from yulian.execution.system.lifecycle import LIFECYCLE_CONTRACT
from yulian.types.encoding import to_plain
from yulian.types.receipt import Event, Receipt, receipt_message, unreadable
from yulian.types.tx import SignedTx

# name, the state the call runs on -> a contract (a CompiledContract or a system contract)
ContractResolver = Callable[[str, StateView], Any]


# Who signed a transaction, as admission established it from the certificate: the runtime's own
# ``Sender``, handed to the contract as it is (the runtime copies what the contract can see).
SenderInfo = Sender


@dataclass(frozen=True)
class ExecTx:
    tx_id: bytes
    signed: SignedTx
    sender: SenderInfo
    envelope: bytes = b""  # the bytes admission checked (== signed.encode() for valid input)

    def data(self) -> bytes:
        """The encoded envelope, as it goes into a block."""
        return self.envelope or self.signed.encode()


@dataclass(frozen=True)
class BlockContext:
    height: int
    time_ms: int
    step_limit: int  # per transaction
    max_block_steps: int | None = None  # the block's budget (None: a query, or no budget)

    def fits(self, steps_so_far: int) -> bool:
        """Whether one more transaction may run after ``steps_so_far``: it may spend a whole
        ``step_limit``, and the block may not exceed ``max_block_steps``."""
        budget = self.max_block_steps
        return budget is None or steps_so_far + self.step_limit <= budget


@dataclass(frozen=True)
class BlockResult:
    receipts: tuple[Receipt, ...]
    writes: tuple[tuple[bytes, bytes | None], ...]
    state_sum: bytes = b""  # the state's LtHash after the block; blocks.py fills it in


def execute_block(
    view: StateView, block: BlockContext, txs: Sequence[ExecTx], resolve: ContractResolver
) -> BlockResult:
    overlay = Overlay(view, block.height)
    info = BlockInfo(height=block.height, time_ms=block.time_ms)
    resolved: dict[str, Any] = {}  # name -> contract, until a lifecycle tx may change it
    states: dict[str, ContractStateAdapter] = {}  # name -> its namespace of the overlay

    def resolve_in_block(name: str, state: StateView) -> Any:
        contract = resolved.get(name)
        if contract is None:
            contract = resolved[name] = resolve(name, state)
        return contract

    def state_of(name: str) -> ContractStateAdapter:
        adapter = states.get(name)
        if adapter is None:
            adapter = states[name] = ContractStateAdapter(overlay, name)
        return adapter

    calls = OverlayCalls(overlay, resolve_in_block, state_of)
    receipts = []
    steps = 0
    with sandbox_guards():  # once for the block, not once per invocation
        for tx in txs:
            if not block.fits(steps):
                break  # this tx and the rest do not fit the block's step budget
            receipt = apply_tx(overlay, block, info, tx, resolve_in_block, state_of, calls)
            receipts.append(receipt)
            steps += receipt.steps
            if tx.signed.tx.contract == LIFECYCLE_CONTRACT:
                resolved.clear()  # only the lifecycle changes what a name resolves to
    return BlockResult(receipts=tuple(receipts), writes=overlay.writes())


def apply_tx(
    overlay: Overlay,
    block: BlockContext,
    info: BlockInfo,
    tx: ExecTx,
    resolve: ContractResolver,
    state_of: Callable[[str], ContractStateAdapter],
    calls: OverlayCalls,
) -> Receipt:
    """One tx on ``overlay``; ``info`` is ``block`` as the runtime takes it, ``state_of`` gives
    a contract's namespace of the overlay, ``calls`` its calls to others (all made once per
    block)."""
    call = tx.signed.tx
    contract = resolve(call.contract, overlay)
    if contract is None:
        message = receipt_message(f"no contract named {call.contract!r}")
        return Receipt(tx.tx_id, "unknown_contract", message, 0, None, ())
    overlay.begin_tx()
    tx_info = TxInfo(id=tx.tx_id.hex())
    state = state_of(call.contract)
    system = getattr(contract, "is_system", False)
    if system:
        outcome = contract.invoke(
            call.method,
            to_plain(call.args),
            sender=tx.sender,
            block=info,
            tx=tx_info,
            state=state,
            view=overlay,
            step_limit=block.step_limit,
        )
    else:  # the runtime imports the args as fresh plain copies itself
        outcome = contract.invoke(
            call.method,
            call.args,
            sender=tx.sender,
            block=info,
            tx=tx_info,
            state=state,
            step_limit=block.step_limit,
            calls=calls,
            private=calls.open_private,
        )
    status, message = outcome.status, outcome.message
    if status == "ok":
        if system:  # a system contract's events are all its own: (name, payload)
            events = tuple([Event(call.contract, n, payload) for n, payload in outcome.events])
        else:
            events = tuple([Event(c, n, payload) for c, n, payload in outcome.events])
        receipt = Receipt(tx.tx_id, "ok", "", outcome.steps, outcome.value, events)
        # a user contract's receipt fits the decoder by construction (the runtime exports every
        # value under its limits and cuts every message); a system contract's is checked here,
        # once, before anything is committed
        problem = unreadable(receipt, decode=True) if system else None
        if problem is None:
            overlay.commit_tx()
            return receipt
        status, message = "fault", f"InvalidValue: {problem}"
    overlay.rollback_tx()
    return Receipt(tx.tx_id, status, receipt_message(message), outcome.steps, None, ())


def query_contract(
    view: StateView,
    block: BlockContext,
    contract_name: str,
    method: str,
    args: Sequence[object],
    resolve: ContractResolver,
    sender: SenderInfo,
) -> Receipt:
    """A read-only call on the committed state; any write attempt ends it as reverted."""
    overlay = Overlay(view, block.height)
    contract = resolve(contract_name, overlay)
    if contract is None:
        message = receipt_message(f"no contract named {contract_name!r}")
        return Receipt(b"", "unknown_contract", message, 0, None, ())
    overlay.begin_tx()
    caller = Sender(
        org=sender.org, role=sender.role, id=sender.id, attributes=dict(sender.attributes)
    )
    system = getattr(contract, "is_system", False)
    if system:
        extra: dict[str, Any] = {"view": overlay}
    else:
        calls = OverlayCalls(overlay, resolve, partial(ContractStateAdapter, overlay))
        extra = {"calls": calls, "private": calls.open_private}
    try:
        outcome = contract.invoke(
            method,
            tuple(args),
            sender=caller,
            block=BlockInfo(height=block.height, time_ms=block.time_ms),
            tx=TxInfo(id=""),
            state=ContractStateAdapter(overlay, contract_name),
            read_only=True,
            step_limit=block.step_limit,
            **extra,
        )
    finally:
        overlay.rollback_tx()
    receipt = Receipt(
        b"", outcome.status, receipt_message(outcome.message), outcome.steps, None, ()
    )
    if outcome.status == "ok":
        answer = Receipt(b"", "ok", "", outcome.steps, outcome.value, ())
        problem = unreadable(answer, decode=system)
        if problem is None:
            return answer
        receipt = Receipt(b"", "fault", receipt_message(f"InvalidValue: {problem}"), 0, None, ())
    return receipt


class OverlayCalls:
    """Calls between contracts within one transaction on ``overlay``: a callee is resolved in
    the overlay as the transaction's own contract was (deployed earlier in the block counts),
    only user contracts can be called, and each call gets a journal (``Overlay.begin_call``).

    It also opens every invocation's private data (``open_private``), the transaction's own
    and its callees', only when the invocation first uses ``ctx.private``."""

    __slots__ = ("_overlay", "_resolve", "_state_of", "open_private")

    def __init__(
        self,
        overlay: Overlay,
        resolve: ContractResolver,
        state_of: Callable[[str], ContractStateAdapter],
    ) -> None:
        self._overlay = overlay
        self._resolve = resolve
        self._state_of = state_of
        self.open_private = self._open_private  # bound once: handed to every invocation

    def resolve(self, name: str, frame: TxFrame) -> Callee | str:
        """The callee, with its own key space and its own private data (``open_private``: the
        records it writes name it as ``via``)."""
        overlay = self._overlay
        contract = self._resolve(name, overlay)
        if contract is None:
            return f"no contract named {name!r}"
        if getattr(contract, "is_system", False):
            return f"{name} is a system contract: contracts cannot call it"
        return Callee(name, contract, self._state_of(name), self.open_private)

    def _open_private(self, contract: str, frame: TxFrame) -> PrivateAccess:
        """A ``PrivateAccess`` for an invocation of ``contract`` in ``frame``'s transaction:
        its signer, block and tx."""
        block = frame.block
        return PrivateAccess(
            self._overlay,
            contract,
            frame.sender,
            height=block.height,
            time_ms=block.time_ms,
            tx_id=bytes.fromhex(frame.tx.id),
        )

    def begin_call(self) -> None:
        self._overlay.begin_call()

    def commit_call(self) -> None:
        self._overlay.commit_call()

    def rollback_call(self) -> None:
        self._overlay.rollback_call()
