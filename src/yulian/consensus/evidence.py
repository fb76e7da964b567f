"""Introduction: equivocation evidence — a double vote becomes a transaction.

A validator equivocates when it signs two votes of the same type for the same ``(height,
round)`` with different block hashes (a vote for nil counts as a hash). Any node that sees both
votes wraps them in ``DuplicateVoteEvidence`` and submits it as a tx to the system contract
``misbehaviour`` (not ``evidence``: that name belongs to the 存证 application). The contract's
logic is ``apply_misbehaviour``: a plain function the execution layer calls natively, which
returns the state key and record to write; the record names the validator and its organisation.

Invariants:

- evidence verifies iff ``a.validator == b.validator``, ``(a.height, a.round, a.type) ==
  (b.height, b.round, b.type)``, ``a.block_hash != b.block_hash``, the validator is in the given
  set (the set of that height), and both signatures verify under its key on ``chain_id``.
- ``evidence_key`` names the *offence* ``(height, round, type, validator)``: it is the same for
  ``(a, b)`` and ``(b, a)``, and for any other pair proving the same double vote, so one
  offence is recorded once however many pairs are submitted; the record is a function of the
  key alone, so writing it twice is idempotent.
- the encoding is canonical (``encode(decode(b)) == b``) and bounded (``EVIDENCE_LIMITS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yulian.crypto.suite import Suite
from yulian.types.consensus import Vote
from yulian.types.encoding import DecodeError, Limits, Value, decode, encode
from yulian.types.fields import expect_array, expect_int, expect_version
from yulian.types.genesis import Validator
from yulian.types.tx import Tx

EVIDENCE_VERSION = 1
DUPLICATE_VOTE = 1  # the evidence kind; room for others (e.g. conflicting proposals)
MISBEHAVIOUR_CONTRACT = "misbehaviour"
MISBEHAVIOUR_METHOD = "report"
EQUIVOCATION_PREFIX = "equivocation/"
EVIDENCE_LIMITS = Limits(max_bytes=2048, max_depth=3, max_items=16, max_str=256, max_bin=256)


class InvalidEvidence(ValueError):
    """Evidence that does not prove an equivocation; the message names the failed condition."""


@dataclass(frozen=True)
class DuplicateVoteEvidence:
    first: Vote
    second: Vote

    @classmethod
    def of(cls, a: Vote, b: Vote) -> DuplicateVoteEvidence:
        """The evidence with its votes in canonical order (by encoded bytes), for submitters."""
        first, second = sorted((a, b), key=lambda v: v.encode())
        return cls(first, second)

    def to_value(self) -> tuple[Value, ...]:
        return (EVIDENCE_VERSION, DUPLICATE_VOTE, self.first.to_value(), self.second.to_value())

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def from_value(cls, value: Value) -> DuplicateVoteEvidence:
        f = expect_array(value, "evidence", 4)
        expect_version(f[0], "evidence.version", EVIDENCE_VERSION)
        kind = expect_int(f[1], "evidence.kind")
        if kind != DUPLICATE_VOTE:
            raise DecodeError(f"evidence.kind: unknown kind {kind}")
        return cls(Vote.from_value(f[2]), Vote.from_value(f[3]))

    @classmethod
    def decode(cls, data: bytes) -> DuplicateVoteEvidence:
        return cls.from_value(decode(data, EVIDENCE_LIMITS))


def verify_evidence(
    suite: Suite, chain_id: str, validators: Sequence[Validator], ev: DuplicateVoteEvidence
) -> Validator:
    """The guilty validator, or ``InvalidEvidence`` (conditions in the module docstring)."""
    a, b = ev.first, ev.second
    if a.validator != b.validator:
        raise InvalidEvidence(f"votes by different validators: {a.validator!r} != {b.validator!r}")
    if (a.height, a.round, a.type) != (b.height, b.round, b.type):
        raise InvalidEvidence(
            "votes for different (height, round, type): "
            f"({a.height}, {a.round}, {a.type}) != ({b.height}, {b.round}, {b.type})"
        )
    if a.block_hash == b.block_hash:
        raise InvalidEvidence(
            f"both votes are for the same block hash {a.block_hash.hex() or 'nil'}"
        )
    guilty = next((v for v in validators if v.name == a.validator), None)
    if guilty is None:
        raise InvalidEvidence(f"{a.validator!r} is not in the validator set")
    for label, vote in (("first", a), ("second", b)):
        if not suite.verify(guilty.public_key, vote.sign_bytes(chain_id), vote.signature):
            raise InvalidEvidence(f"the {label} vote's signature is not {guilty.name!r}'s")
    return guilty


def evidence_key(ev: DuplicateVoteEvidence) -> str:
    """``"<height>/<round>/<type>/<validator>"``: the offence, independent of the vote order."""
    v = ev.first
    return f"{v.height}/{v.round}/{v.type}/{v.validator}"


def apply_misbehaviour(
    ev_bytes: bytes, suite: Suite, chain_id: str, validators: Sequence[Validator]
) -> tuple[str, dict[str, Value]]:
    """The ``misbehaviour`` contract: verify ``ev_bytes``; return ``(state key, record)``.

    Raises ``InvalidEvidence`` for anything that is not canonical, verified evidence.
    """
    try:
        ev = DuplicateVoteEvidence.decode(ev_bytes)
    except DecodeError as e:
        raise InvalidEvidence(f"evidence does not decode: {e}") from None
    guilty = verify_evidence(suite, chain_id, validators, ev)
    record: dict[str, Value] = {
        "height": ev.first.height,
        "org": guilty.org,
        "round": ev.first.round,
        "type": ev.first.type,
        "validator": guilty.name,
    }
    return EQUIVOCATION_PREFIX + evidence_key(ev), record


def evidence_tx(
    chain_id: str, ev: DuplicateVoteEvidence, signer: bytes, nonce: int, expires_at: int
) -> Tx:
    """The unsigned tx that submits ``ev`` to ``misbehaviour.report`` (the node signs it)."""
    return Tx(
        chain_id=chain_id,
        contract=MISBEHAVIOUR_CONTRACT,
        method=MISBEHAVIOUR_METHOD,
        args=(ev.encode(),),
        signer=signer,
        nonce=nonce,
        expires_at=expires_at,
    )
