"""Introduction: the ``misbehaviour`` system contract — equivocation committed on chain.

``report(evidence)`` verifies a double vote against the validator set of the evidence's height
and records it under ``equivocation/<height>/<round>/<type>/<validator>``, naming the validator
and its organisation. Reporting the same evidence again is a no-op (no second event).
"""

from __future__ import annotations

from typing import Any, ClassVar

from yulian.consensus.consortium_view import ConsortiumView
from yulian.consensus.evidence import (
    MISBEHAVIOUR_CONTRACT,
    DuplicateVoteEvidence,
    InvalidEvidence,
    apply_misbehaviour,
)
from yulian.crypto.suite import Suite
from yulian.execution.system.base import Call, SystemContract, SystemRevert
from yulian.execution.system.consortium import config_in_force
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError, Value, encode
from yulian.types.genesis import Genesis


class MisbehaviourContract(SystemContract):
    name = MISBEHAVIOUR_CONTRACT
    methods: ClassVar[dict[str, bool]] = {"report": True}

    def __init__(self, suite: Suite, genesis: Genesis) -> None:
        self._suite = suite
        self._chain_id = genesis.chain_id
        self._default = ConsortiumConfig.from_genesis(genesis)

    def m_report(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or not isinstance(args[0], bytes):
            raise TypeError("report takes one argument: the evidence bytes")
        try:
            height = DuplicateVoteEvidence.decode(args[0]).first.height
        except DecodeError as e:
            raise SystemRevert(f"invalid evidence: evidence does not decode: {e}") from None
        config = config_in_force(call.view, self._default, height)
        validators = ConsortiumView.of(config, height, self._suite).validator_list
        try:
            key, record = apply_misbehaviour(args[0], self._suite, self._chain_id, validators)
        except InvalidEvidence as e:
            raise SystemRevert(f"invalid evidence: {e}") from None
        if call.state.get(key) is None:
            call.state.put(key, encode(record))
            call.emit("equivocation", record)
        return record
