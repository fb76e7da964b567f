"""Introduction: the ``lifecycle`` system contract — deploying and upgrading contracts by vote.

``propose(name, version, code)`` checks the code against the contract dialect (so nothing that
could never run is voted on), stores it under its hash and opens a proposal; organisation
admins ``approve(id)``; when the ``lifecycle`` policy is met the contract is active: ``active/
<name>`` names its version and code hash, and every node compiles the same bytes. An upgrade
is the same proposal for a name that is already active: the state of a contract lives under
its name, so the new code sees the old state. Names of system contracts are reserved.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from yulian.contracts import ContractRejected, compile_contract
from yulian.execution.overlay import StateView, state_key
from yulian.execution.system.base import Call, SystemRevert
from yulian.execution.system.consortium import VotingContract
from yulian.execution.system.proposals import APPLIED, FAILED, ProposalBook, ProposalRecord
from yulian.types.consortium import ConsortiumConfig, policy_met
from yulian.types.encoding import DecodeError, Value, decode, encode

LIFECYCLE_CONTRACT = "lifecycle"
RESERVED_NAMES = frozenset(
    {"consortium", "lifecycle", "misbehaviour", "collections", "consent", "access"}
)
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,47}")
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,31}")
MAX_CODE_BYTES = 48 * 1024


def active_key(name: str) -> bytes:
    return state_key(LIFECYCLE_CONTRACT, "active/" + name)


def code_key(code_hash: bytes) -> bytes:
    return state_key(LIFECYCLE_CONTRACT, "code/" + code_hash.hex())


def read_active(view: StateView, name: str) -> tuple[str, bytes, int] | None:
    """``(version, code_hash, height)`` of the active contract ``name``, or ``None``."""
    data = view.get(active_key(name))
    if data is None:
        return None
    version, code_hash, height = decode(data)
    return str(version), bytes(code_hash), int(height)


class LifecycleContract(VotingContract):
    name = LIFECYCLE_CONTRACT
    methods: ClassVar[dict[str, bool]] = {
        "propose": True,
        "approve": True,
        "proposal": False,
        "proposals": False,
        "contract": False,
        "contracts": False,
        "code": False,
    }

    def m_propose(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 3:
            raise SystemRevert("propose takes (name, version, code)")
        name, version, code = args
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise SystemRevert("a contract name is 1..48 of a-z, 0-9 and _, starting with a letter")
        if name in RESERVED_NAMES:
            raise SystemRevert(f"{name!r} is the name of a system contract")
        if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
            raise SystemRevert("a version is 1..32 of 0-9 A-Z a-z . _ + -")
        if not isinstance(code, str) or not code.strip():
            raise SystemRevert("code is the contract's Python source text")
        source = code.encode("utf-8")
        if len(source) > MAX_CODE_BYTES:
            raise SystemRevert(f"code is larger than {MAX_CODE_BYTES} bytes")
        config = self._member_config(call)
        active = read_active(call.view, name)
        if active is not None and active[0] == version:
            raise SystemRevert(f"{name} {version} is already active")
        try:
            compile_contract(name, code)
        except ContractRejected as e:
            raise SystemRevert(f"code rejected: {e}") from None
        code_hash = self._suite.hash(source)
        call.state.put("code/" + code_hash.hex(), source)
        book = ProposalBook(call.state)
        record = book.create(
            call,
            scope="lifecycle",
            kind="upgrade" if active is not None else "deploy",
            args=(name, version, code_hash),
            ttl_blocks=config.params.proposal_ttl_blocks,
        )
        return self._decide(call, book, record, config)

    def m_contract(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or not isinstance(args[0], str):
            raise SystemRevert("contract takes (name)")
        active = read_active(call.view, args[0])
        if active is None:
            raise SystemRevert(f"no active contract named {args[0]!r}")
        version, code_hash, height = active
        return {"name": args[0], "version": version, "code_hash": code_hash.hex(), "height": height}

    def m_contracts(self, call: Call, args: tuple[Any, ...]) -> Value:
        data = call.state.get("names")
        names = [str(n) for n in decode(data)] if data is not None else []
        out = []
        for name in names:
            active = read_active(call.view, name)
            if active is not None:
                version, code_hash, height = active
                out.append(
                    {
                        "name": name,
                        "version": version,
                        "code_hash": code_hash.hex(),
                        "height": height,
                    }
                )
        return out

    def m_code(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or not isinstance(args[0], str):
            raise SystemRevert("code takes (name)")
        active = read_active(call.view, args[0])
        if active is None:
            raise SystemRevert(f"no active contract named {args[0]!r}")
        source = call.view.get(code_key(active[1]))
        return source.decode("utf-8") if source is not None else None

    def _decide(
        self, call: Call, book: ProposalBook, record: ProposalRecord, config: ConsortiumConfig
    ) -> Value:
        pid = record.id
        if not policy_met(config.policy("lifecycle"), record.approvals, config.org_names()):
            return record.view(call.block.height)
        name, version, code_hash = record.args
        assert isinstance(name, str) and isinstance(version, str) and isinstance(code_hash, bytes)
        previous = read_active(call.view, name)
        if previous is not None and previous[0] == version:
            book.decide(call, record, FAILED, f"{name} {version} is already active")
            return book.get(pid).view(call.block.height)
        call.state.put("active/" + name, encode((version, code_hash, call.block.height)))
        data = call.state.get("names")
        try:
            names = [str(n) for n in decode(data)] if data is not None else []
        except DecodeError:
            names = []
        if name not in names:
            call.state.put("names", encode(tuple(sorted([*names, name]))))
        book.decide(call, record, APPLIED)
        call.emit(
            "upgraded" if previous is not None else "deployed",
            {"name": name, "version": version, "code_hash": code_hash.hex()},
        )
        return book.get(pid).view(call.block.height)


def active_names(view: StateView) -> list[str]:
    """The names of the contracts the lifecycle has ever activated."""
    data = view.get(state_key(LIFECYCLE_CONTRACT, "names"))
    return [str(n) for n in decode(data)] if data is not None else []
