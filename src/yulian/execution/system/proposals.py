"""Introduction: proposals and approvals — the voting machinery of the system contracts.

A proposal names a change (``kind`` and ``args``) under a policy ``scope``. The proposing
organisation approves it at once; other organisations' admins approve it by id; each
organisation counts once, and only the sender's own organisation can ever be counted, so an
admin of A can never approve for B. When the approvals satisfy the scope's policy among the
*current* organisations, the owning contract applies the change in the same tx. A proposal
expires ``proposal_ttl_blocks`` after it was made; a decided or expired one never changes again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from yulian.contracts import ContractState
from yulian.execution.system.base import Call, SystemRevert
from yulian.types.encoding import DecodeError, Value, decode, encode, to_canonical

MAX_OPEN_PROPOSALS = 256
OPEN = "open"
APPLIED = "applied"
FAILED = "failed"
EXPIRED = "expired"


@dataclass(frozen=True)
class ProposalRecord:
    id: int
    scope: str
    kind: str
    args: tuple[Value, ...]
    proposer_org: str
    proposer_id: str
    created: int
    expires: int
    approvals: tuple[str, ...]  # organisation names, sorted
    status: str
    note: str = ""

    def to_value(self) -> tuple[Value, ...]:
        return (
            self.id,
            self.scope,
            self.kind,
            self.args,
            self.proposer_org,
            self.proposer_id,
            self.created,
            self.expires,
            self.approvals,
            self.status,
            self.note,
        )

    @classmethod
    def from_value(cls, value: Any) -> ProposalRecord:
        (pid, scope, kind, args, org, proposer, created, expires, approvals, status, note) = value
        return cls(
            int(pid),
            str(scope),
            str(kind),
            tuple(args),
            str(org),
            str(proposer),
            int(created),
            int(expires),
            tuple(str(a) for a in approvals),
            str(status),
            str(note),
        )

    def view(self, height: int) -> dict[str, Value]:
        status = EXPIRED if self.status == OPEN and height > self.expires else self.status
        return {
            "id": self.id,
            "scope": self.scope,
            "kind": self.kind,
            "args": to_canonical(_printable(self.args)),
            "proposer": self.proposer_org,
            "created": self.created,
            "expires": self.expires,
            "approvals": list(self.approvals),
            "status": status,
            "note": self.note,
        }


class ProposalBook:
    """Proposals stored in one contract's state: ``proposal/<id>``, ``next_id``, ``open``."""

    def __init__(self, state: ContractState) -> None:
        self._state = state

    def get(self, pid: int) -> ProposalRecord:
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise SystemRevert("a proposal id is a positive integer")
        data = self._state.get(_key(pid))
        if data is None:
            raise SystemRevert(f"no proposal {pid}")
        return ProposalRecord.from_value(decode(data))

    def open_ids(self) -> list[int]:
        data = self._state.get("open")
        return [int(i) for i in decode(data)] if data is not None else []

    def create(
        self, call: Call, *, scope: str, kind: str, args: tuple[Value, ...], ttl_blocks: int
    ) -> ProposalRecord:
        call.require_admin()
        open_ids = [i for i in self.open_ids() if self.get(i).expires >= call.block.height]
        if len(open_ids) >= MAX_OPEN_PROPOSALS:
            raise SystemRevert(f"{MAX_OPEN_PROPOSALS} proposals are open; decide some first")
        data = self._state.get("next_id")
        pid = int(decode(data)) if data is not None else 1
        self._state.put("next_id", encode(pid + 1))
        record = ProposalRecord(
            id=pid,
            scope=scope,
            kind=kind,
            args=tuple(to_canonical(a) for a in args),
            proposer_org=call.sender.org,
            proposer_id=call.sender.id,
            created=call.block.height,
            expires=call.block.height + ttl_blocks,
            approvals=(call.sender.org,),
            status=OPEN,
        )
        self._state.put("open", encode(tuple([*open_ids, pid])))
        self.save(record)
        call.emit("proposed", {"id": pid, "kind": kind, "scope": scope, "org": call.sender.org})
        return record

    def approve(self, call: Call, pid: int) -> ProposalRecord:
        call.require_admin()
        record = self.get(pid)
        if record.status != OPEN:
            raise SystemRevert(f"proposal {pid} is {record.status}")
        if call.block.height > record.expires:
            raise SystemRevert(f"proposal {pid} expired at height {record.expires}")
        if call.sender.org in record.approvals:
            raise SystemRevert(f"{call.sender.org} already approved proposal {pid}")
        record = replace(record, approvals=tuple(sorted({*record.approvals, call.sender.org})))
        self.save(record)
        call.emit("approved", {"id": pid, "org": call.sender.org})
        return record

    def decide(self, call: Call, record: ProposalRecord, status: str, note: str = "") -> None:
        record = replace(record, status=status, note=note[:256])
        self.save(record)
        self._state.put("open", encode(tuple(i for i in self.open_ids() if i != record.id)))
        call.emit(status, {"id": record.id, "kind": record.kind, "note": record.note})

    def save(self, record: ProposalRecord) -> None:
        self._state.put(_key(record.id), encode(record.to_value()))


def _key(pid: int) -> str:
    return f"proposal/{pid:012d}"


def _printable(value: Any) -> Any:
    """Proposal args for a reader: long byte strings (certificates, code) as a short hex."""
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 64 else f"<{len(value)} bytes>"
    if isinstance(value, tuple | list):
        return [_printable(v) for v in value]
    return value


def decode_record(data: bytes) -> ProposalRecord:
    try:
        return ProposalRecord.from_value(decode(data))
    except (DecodeError, TypeError, ValueError) as e:
        raise SystemRevert(f"corrupt proposal record: {e}") from None
