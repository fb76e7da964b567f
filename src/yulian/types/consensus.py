"""Introduction: consensus messages — signed votes and proposals.

A ``Vote`` is a validator's prevote or precommit for ``(height, round, block_hash)``
(``block_hash == b""`` is a vote for nil), signed over ``vote_sign_bytes``. A ``Proposal``
carries the proposer's block for ``(height, round)`` with its proof-of-lock round
(``pol_round``, -1 when none), signed over ``proposal_sign_bytes``. Sign bytes are
domain-separated by kind and ``chain_id``, so no signature is valid as another message or on
another chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from yulian.types.block import MAX_BLOCK_BYTES
from yulian.types.commit import PRECOMMIT, PREVOTE, vote_sign_bytes
from yulian.types.encoding import DecodeError, Limits, Value, decode, encode, encode_within
from yulian.types.fields import expect_array, expect_bytes, expect_int, expect_str, expect_version

PROPOSAL_DOMAIN = "yulian/proposal/v1"
MESSAGE_VERSION = 1
MAX_ROUND = 1 << 31
MAX_VALIDATOR_NAME = 128
VOTE_LIMITS = Limits(max_bytes=1024, max_depth=2, max_items=16, max_str=256, max_bin=256)
# a proposal carries a whole encoded block as one byte string, so its bin limit is the block's;
# its other fields take well under 4 KiB
MAX_PROPOSAL_BYTES = MAX_BLOCK_BYTES + 4096
PROPOSAL_LIMITS = Limits(
    max_bytes=MAX_PROPOSAL_BYTES,
    max_depth=2,
    max_items=16,
    max_str=256,
    max_bin=MAX_BLOCK_BYTES,
)


def proposal_sign_bytes(
    chain_id: str, height: int, round_: int, pol_round: int, block_hash: bytes
) -> bytes:
    return encode((PROPOSAL_DOMAIN, chain_id, height, round_, pol_round, block_hash))


@dataclass(frozen=True)
class Vote:
    type: int  # PREVOTE or PRECOMMIT
    height: int
    round: int
    block_hash: bytes  # b"" for nil
    validator: str
    signature: bytes

    @property
    def is_nil(self) -> bool:
        return self.block_hash == b""

    def sign_bytes(self, chain_id: str) -> bytes:
        return vote_sign_bytes(chain_id, self.type, self.height, self.round, self.block_hash)

    def to_value(self) -> tuple[Value, ...]:
        return (
            MESSAGE_VERSION,
            self.type,
            self.height,
            self.round,
            self.block_hash,
            self.validator,
            self.signature,
        )

    def encode(self) -> bytes:
        return encode_within(self.to_value(), VOTE_LIMITS, "vote")

    @classmethod
    def from_value(cls, value: Value) -> Vote:
        f = expect_array(value, "vote", 7)
        expect_version(f[0], "vote.version", MESSAGE_VERSION)
        vote_type = expect_int(f[1], "vote.type")
        if vote_type not in (PREVOTE, PRECOMMIT):
            raise DecodeError(f"vote.type: unknown vote type {vote_type}")
        return cls(
            type=vote_type,
            height=expect_int(f[2], "vote.height", 1),
            round=expect_int(f[3], "vote.round", 0, MAX_ROUND),
            block_hash=expect_bytes(f[4], "vote.block_hash", 64),
            validator=expect_str(f[5], "vote.validator", MAX_VALIDATOR_NAME),
            signature=expect_bytes(f[6], "vote.signature", 128),
        )

    @classmethod
    def decode(cls, data: bytes) -> Vote:
        return cls.from_value(decode(data, VOTE_LIMITS))


@dataclass(frozen=True)
class Proposal:
    height: int
    round: int
    pol_round: int  # -1 when the proposer has no proof-of-lock for this block
    block: bytes  # the encoded Block
    block_hash: bytes
    proposer: str
    signature: bytes

    def sign_bytes(self, chain_id: str) -> bytes:
        return proposal_sign_bytes(
            chain_id, self.height, self.round, self.pol_round, self.block_hash
        )

    def to_value(self) -> tuple[Value, ...]:
        return (
            MESSAGE_VERSION,
            self.height,
            self.round,
            self.pol_round,
            self.block,
            self.block_hash,
            self.proposer,
            self.signature,
        )

    def encode(self) -> bytes:
        return encode_within(self.to_value(), PROPOSAL_LIMITS, "proposal")

    @classmethod
    def from_value(cls, value: Value) -> Proposal:
        f = expect_array(value, "proposal", 8)
        expect_version(f[0], "proposal.version", MESSAGE_VERSION)
        return cls(
            height=expect_int(f[1], "proposal.height", 1),
            round=expect_int(f[2], "proposal.round", 0, MAX_ROUND),
            pol_round=expect_int(f[3], "proposal.pol_round", -1, MAX_ROUND),
            block=expect_bytes(f[4], "proposal.block", MAX_BLOCK_BYTES),
            block_hash=expect_bytes(f[5], "proposal.block_hash", 64),
            proposer=expect_str(f[6], "proposal.proposer", MAX_VALIDATOR_NAME),
            signature=expect_bytes(f[7], "proposal.signature", 128),
        )

    @classmethod
    def decode(cls, data: bytes) -> Proposal:
        return cls.from_value(decode(data, PROPOSAL_LIMITS))
