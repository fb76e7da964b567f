"""Introduction: the shape every system contract shares — method dispatch, roles, outcomes.

A subclass declares ``methods`` (name -> (handler, writes?)). ``invoke`` checks the method,
runs the handler with a ``Call`` and turns a ``SystemRevert`` into a reverted outcome; the
handler writes through ``Call.state`` only, so a reverted call changes nothing (the executor
rolls the tx back). Handlers are deterministic: they read only their arguments, the state and
the block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from yulian.contracts import BlockInfo, ContractState, Outcome, Sender, TxInfo
from yulian.execution.overlay import StateView
from yulian.types.encoding import Value, to_canonical

SYSTEM_CALL_STEPS = 1_000


class SystemRevert(Exception):
    """A refused system call; the message goes into the receipt."""


@dataclass
class Call:
    sender: Sender
    block: BlockInfo
    tx: TxInfo
    state: ContractState
    view: StateView
    read_only: bool
    events: list[tuple[str, Value]] = field(default_factory=list)

    def emit(self, name: str, payload: Value) -> None:
        self.events.append((name, to_canonical(payload)))

    def require_admin(self) -> None:
        if self.sender.role != "admin":
            raise SystemRevert(
                f"only an organisation admin may do this; the sender's role is {self.sender.role!r}"
            )


class SystemContract:
    is_system: ClassVar[bool] = True
    name: ClassVar[str] = ""
    # method -> writes state?  (read-only methods may be queried)
    methods: ClassVar[Mapping[str, bool]] = {}

    def invoke(
        self,
        method: str,
        args: tuple[Any, ...] | list[Any],
        *,
        sender: Sender,
        block: BlockInfo,
        tx: TxInfo,
        state: ContractState,
        view: StateView,
        read_only: bool = False,
        step_limit: int = 0,
    ) -> Outcome:
        steps = min(SYSTEM_CALL_STEPS, step_limit) if step_limit else SYSTEM_CALL_STEPS
        if method not in self.methods:
            return Outcome("unknown_method", f"unknown method {method[:64]!r}", None, (), 0)
        if read_only and self.methods[method]:
            return Outcome("reverted", "read-only call", None, (), steps)
        call = Call(sender, block, tx, state, view, read_only)
        handler: Callable[[Call, tuple[Any, ...]], Value] = getattr(self, "m_" + method)
        try:
            value = handler(call, tuple(args))
        except SystemRevert as e:
            return Outcome("reverted", str(e)[:512], None, (), steps)
        except (TypeError, ValueError) as e:
            return Outcome("bad_args", f"{method}: {e}"[:512], None, (), 0)
        return Outcome("ok", "", to_canonical(value), tuple(call.events), steps)
