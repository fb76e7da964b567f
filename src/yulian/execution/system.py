"""Introduction: system contracts — native Python behind the same ``invoke`` interface.

System contracts are part of the protocol, not deployed code: they run natively (no sandbox,
no metering beyond a fixed charge) and are resolved before user contracts, so no deployment can
shadow them. ``misbehaviour.report(evidence)`` verifies a double vote and records it under
``equivocation/<height>/<round>/<type>/<validator>``, naming the validator and its organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yulian.consensus.evidence import (
    MISBEHAVIOUR_CONTRACT,
    MISBEHAVIOUR_METHOD,
    InvalidEvidence,
    apply_misbehaviour,
)
from yulian.contracts import BlockInfo, ContractState, Outcome, Sender, TxInfo
from yulian.crypto.suite import Suite
from yulian.types.encoding import encode
from yulian.types.genesis import Validator

SYSTEM_CALL_STEPS = 1_000


class MisbehaviourContract:
    name = MISBEHAVIOUR_CONTRACT
    methods = (MISBEHAVIOUR_METHOD,)

    def __init__(self, suite: Suite, chain_id: str, validators: Sequence[Validator]) -> None:
        self._suite = suite
        self._chain_id = chain_id
        self._validators = tuple(validators)

    def invoke(
        self,
        method: str,
        args: tuple[Any, ...] | list[Any],
        *,
        sender: Sender,
        block: BlockInfo,
        tx: TxInfo,
        state: ContractState,
        read_only: bool = False,
        step_limit: int = 0,
    ) -> Outcome:
        steps = min(SYSTEM_CALL_STEPS, step_limit) if step_limit else SYSTEM_CALL_STEPS
        if method != MISBEHAVIOUR_METHOD:
            return Outcome("unknown_method", f"unknown method {method[:64]!r}", None, (), 0)
        if len(args) != 1 or not isinstance(args[0], bytes):
            return Outcome("bad_args", "report takes one argument: the evidence bytes", None, (), 0)
        try:
            key, record = apply_misbehaviour(args[0], self._suite, self._chain_id, self._validators)
        except InvalidEvidence as e:
            return Outcome("reverted", f"invalid evidence: {e}"[:512], None, (), steps)
        if read_only:
            return Outcome("reverted", "read-only call", None, (), steps)
        first_report = state.get(key) is None
        if first_report:
            state.put(key, encode(record))
        events = (("equivocation", record),) if first_report else ()
        return Outcome("ok", "", record, events, steps)
