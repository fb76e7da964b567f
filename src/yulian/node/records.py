"""Introduction: the replica's WAL records — consensus inputs as the WAL keeps them.

A record is the canonical encoding of ``(kind, height, bytes)``: ``kind`` is ``"proposal"`` or
``"vote"`` and ``bytes`` the signed message exactly as received or signed, so a replay verifies
and steps the same bytes again. Records are encoded and decoded under the same limits
(``WAL_RECORD_LIMITS``, which hold the largest proposal any decoder accepts, and fit one WAL
frame), so every input the replica accepted can be logged and read back after a crash.
"""

from __future__ import annotations

from yulian.consensus.wal import MAX_RECORD_BYTES
from yulian.types.consensus import MAX_PROPOSAL_BYTES, Proposal, Vote
from yulian.types.encoding import DecodeError, Limits, decode, encode_within

WAL_PROPOSAL = "proposal"
WAL_VOTE = "vote"
WAL_RECORD_LIMITS = Limits(
    max_bytes=MAX_PROPOSAL_BYTES + 64,  # the bytes plus a kind, a height and three headers
    max_depth=1,
    max_items=3,
    max_str=16,
    max_bin=MAX_PROPOSAL_BYTES,
)
assert WAL_RECORD_LIMITS.max_bytes <= MAX_RECORD_BYTES, "every input fits one WAL frame"


def wal_record(kind: str, height: int, data: bytes) -> bytes:
    """The record of one consensus input; ``EncodeError`` if it exceeds the limits."""
    return encode_within((kind, height, data), WAL_RECORD_LIMITS, "WAL record")


def decode_wal_record(record: bytes) -> tuple[str, int, bytes]:
    """``wal_record``'s inverse; ``DecodeError`` for anything else."""
    value = decode(record, WAL_RECORD_LIMITS)
    if (
        not isinstance(value, tuple)
        or len(value) != 3
        or type(value[0]) is not str
        or type(value[1]) is not int
        or type(value[2]) is not bytes
    ):
        raise DecodeError("a WAL record is (kind, height, bytes)")
    return value[0], value[1], value[2]


def signer_of(kind: str, data: bytes) -> str | None:
    """Who signed the proposal or vote ``data`` (``None`` if it does not decode)."""
    try:
        return (
            Proposal.decode(data).proposer if kind == WAL_PROPOSAL else Vote.decode(data).validator
        )
    except DecodeError:
        return None
