"""Introduction: votes and commit certificates.

A precommit by a validator for ``(height, round, block_hash)`` signs ``vote_sign_bytes``; a
commit certificate is the set of precommits for one block hash whose voting power exceeds two
thirds of the validator set of that height. The one-validator node produces the same certificate
(one signature) that the BFT engine produces (many), so verification never special-cases ``n=1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from yulian.types.encoding import Limits, Value, decode, encode, encode_within
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)

VOTE_DOMAIN = "yulian/vote/v1"
COMMIT_VERSION = 1
PREVOTE = 1
PRECOMMIT = 2
MAX_VALIDATORS = 256
COMMIT_LIMITS = Limits(max_bytes=256 * 1024, max_depth=4, max_items=MAX_VALIDATORS)


def vote_sign_bytes(
    chain_id: str, vote_type: int, height: int, round_: int, block_hash: bytes
) -> bytes:
    """Domain-separated vote bytes; an empty ``block_hash`` is a vote for nil."""
    return encode((VOTE_DOMAIN, chain_id, vote_type, height, round_, block_hash))


@dataclass(frozen=True)
class CommitSignature:
    validator: str
    signature: bytes

    def to_value(self) -> tuple[Value, ...]:
        return (self.validator, self.signature)


@dataclass(frozen=True)
class CommitCertificate:
    height: int
    round: int
    block_hash: bytes
    signatures: tuple[CommitSignature, ...]

    def to_value(self) -> tuple[Value, ...]:
        return (
            COMMIT_VERSION,
            self.height,
            self.round,
            self.block_hash,
            tuple(s.to_value() for s in self.signatures),
        )

    def encode(self) -> bytes:
        return encode_within(self.to_value(), COMMIT_LIMITS, "commit certificate")

    @classmethod
    def from_value(cls, value: Value) -> CommitCertificate:
        f = expect_array(value, "commit", 5)
        expect_version(f[0], "commit.version", COMMIT_VERSION)
        sigs = []
        for item in expect_list(f[4], "commit.signatures", MAX_VALIDATORS):
            pair = expect_array(item, "commit.signature", 2)
            sigs.append(
                CommitSignature(
                    validator=expect_str(pair[0], "commit.signature.validator", 128),
                    signature=expect_bytes(pair[1], "commit.signature.signature", 128),
                )
            )
        return cls(
            height=expect_int(f[1], "commit.height", 1),
            round=expect_int(f[2], "commit.round", 0, 1 << 31),
            block_hash=expect_bytes(f[3], "commit.block_hash", 64),
            signatures=tuple(sigs),
        )

    @classmethod
    def decode(cls, data: bytes) -> CommitCertificate:
        return cls.from_value(decode(data, COMMIT_LIMITS))
