"""Introduction: the messages nodes exchange, and their strict decoder.

A message is the canonical msgpack encoding (``yulian.types.encoding``) of the array
``[PROTOCOL_VERSION, kind, payload]``. The network layer checks the *shape* of every payload
and its limits; the node decodes and verifies the inner bytes (transactions, votes, proposals,
blocks, commit certificates) with the types' own decoders. Kinds and payloads:

=============  ============================================  ==================================
kind           payload                                       limits
=============  ============================================  ==================================
``hello``      ``[]``                                        transport only, never delivered
``txs``        ``[tx_envelope_bytes, ...]``                  1..``MAX_GOSSIP_TXS`` items, each
                                                             1..``MAX_TX_BYTES``, at most
                                                             ``MAX_GOSSIP_BYTES`` of txs
``proposal``   encoded ``Proposal`` bytes                    1..``MAX_PROPOSAL_BYTES``
``vote``       encoded ``Vote`` bytes                        1..``MAX_VOTE_BYTES``
``status``     ``[height, round]``                           ``0 <= height < 2**63``,
                                                             ``0 <= round <= MAX_ROUND``
``get_blocks`` ``[from_height, max_count, max_bytes]``       ``from_height >= 1``,
                                                             ``1 <= max_count <= MAX_GET_BLOCKS``,
                                                             ``1 <= max_bytes <=
                                                             MAX_SYNC_REPLY_BYTES``
``blocks``     ``[[block_bytes, commit_bytes], ...]``        0..``MAX_GET_BLOCKS`` pairs; block
                                                             1..``MAX_BLOCK_BYTES``, commit
                                                             1..``MAX_COMMIT_BYTES``
``evidence``   evidence bytes                                1..``MAX_EVIDENCE_BYTES``
``private``    an encoded private-data message               1..``MAX_PRIVATE_BYTES`` (its
               (``yulian.privacy.wire``)                     codec checks the inside)
=============  ============================================  ==================================

State sync (``node/statesync.py``) asks and answers with six more kinds: ``get_snapshot`` ``[]``
(which snapshot do you offer?) and ``snapshot`` ``[height, manifest digest]`` (``[0, b""]``:
none; digest at most ``MAX_DIGEST_BYTES``); ``get_manifest`` ``[height]`` and ``manifest``
``[height, bytes]``; ``get_chunk`` ``[height, "state" | "blocks", index]`` and ``chunk``
``[height, kind, index, bytes]`` — manifests and chunks at most ``MAX_SNAPSHOT_PART_BYTES``,
indexes below ``MAX_CHUNK_INDEX``.

Invariants: ``decode_message`` raises only ``BadMessage`` (a ``DecodeError``) for any input
bytes; for bytes it accepts, ``encode_message(decode_message(b)) == b``; ``encode_message``
refuses (``BadMessage``) to encode a message that ``decode_message`` would reject, so a node
never sends what its peers must drop. Payload arrays are tuples in a ``Message`` (lists are
converted), so ``decode_message(encode_message(m)) == m``.

Every message a node builds fits a frame: a proposal carries at most a block of
``MAX_BLOCK_BYTES``; a ``blocks`` reply holds at most ``max_bytes`` of pairs, or one pair
(``MAX_BLOCK_BYTES`` plus a certificate); ``gossip_messages`` splits txs into messages of at
most ``MAX_GOSSIP_TXS`` txs and ``MAX_GOSSIP_BYTES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from yulian.net.framing import MAX_FRAME_BYTES
from yulian.types.block import MAX_BLOCK_BYTES
from yulian.types.commit import COMMIT_LIMITS
from yulian.types.consensus import MAX_PROPOSAL_BYTES
from yulian.types.encoding import DecodeError, Limits, Value, decode, encode, to_canonical
from yulian.types.tx import MAX_TX_BYTES

__all__ = [
    "CHUNK_KINDS",
    "KINDS",
    "MAX_CHUNK_INDEX",
    "MAX_COMMIT_BYTES",
    "MAX_EVIDENCE_BYTES",
    "MAX_GET_BLOCKS",
    "MAX_GOSSIP_BYTES",
    "MAX_GOSSIP_TXS",
    "MAX_PRIVATE_BYTES",
    "MAX_PROPOSAL_BYTES",
    "MAX_ROUND",
    "MAX_SNAPSHOT_PART_BYTES",
    "MAX_SYNC_REPLY_BYTES",
    "MAX_VOTE_BYTES",
    "MESSAGE_LIMITS",
    "PROTOCOL_VERSION",
    "SNAPSHOT_KINDS",
    "BadMessage",
    "Message",
    "decode_message",
    "encode_message",
    "gossip_messages",
]

PROTOCOL_VERSION = 1

HELLO = "hello"
TXS = "txs"
PROPOSAL = "proposal"
VOTE = "vote"
STATUS = "status"
GET_BLOCKS = "get_blocks"
BLOCKS = "blocks"
EVIDENCE = "evidence"
GET_SNAPSHOT = "get_snapshot"
SNAPSHOT = "snapshot"
GET_MANIFEST = "get_manifest"
MANIFEST = "manifest"
GET_CHUNK = "get_chunk"
CHUNK = "chunk"
SNAPSHOT_KINDS = (GET_SNAPSHOT, SNAPSHOT, GET_MANIFEST, MANIFEST, GET_CHUNK, CHUNK)
PRIVATE = "private"
KINDS = (HELLO, TXS, PROPOSAL, VOTE, STATUS, GET_BLOCKS, BLOCKS, EVIDENCE, *SNAPSHOT_KINDS, PRIVATE)

MAX_GOSSIP_TXS = 1024  # per "txs" message
MAX_GOSSIP_BYTES = 8 * 1024 * 1024  # of tx envelopes per "txs" message
MAX_GET_BLOCKS = 64  # blocks per sync request / response
MAX_SYNC_REPLY_BYTES = 8 * 1024 * 1024  # the largest byte budget a sync request may ask for
MAX_VOTE_BYTES = 4096  # a vote is ~200 bytes; the consensus decoder holds the exact limit
MAX_COMMIT_BYTES = COMMIT_LIMITS.max_bytes
MAX_EVIDENCE_BYTES = 64 * 1024  # two conflicting votes plus context
MAX_PRIVATE_BYTES = 16 * 1024 * 1024  # private values between member nodes (decision 0081)
MAX_ROUND = 1 << 31
MAX_HEIGHT = (1 << 63) - 1
MAX_KIND_BYTES = 16
MAX_DIGEST_BYTES = 64
#: A snapshot manifest or chunk in one message (ledger/snapshot.py keeps below it).
MAX_SNAPSHOT_PART_BYTES = MAX_FRAME_BYTES - 4096
MAX_CHUNK_INDEX = 1 << 16
CHUNK_KINDS = ("state", "blocks")

MESSAGE_LIMITS = Limits(
    max_bytes=MAX_FRAME_BYTES,
    max_depth=3,  # message -> blocks payload -> pair -> bytes
    max_items=max(MAX_GOSSIP_TXS, MAX_GET_BLOCKS, 3),
    max_str=MAX_KIND_BYTES,
    max_bin=max(
        MAX_PROPOSAL_BYTES, MAX_BLOCK_BYTES, MAX_TX_BYTES, MAX_COMMIT_BYTES, MAX_SNAPSHOT_PART_BYTES
    ),
)


class BadMessage(DecodeError):
    """Bytes (or a message) that are not a valid, in-limits network message."""


@dataclass(frozen=True)
class Message:
    """One network message; ``payload`` arrays are tuples (lists are converted)."""

    kind: str
    payload: Value

    def __post_init__(self) -> None:
        if isinstance(self.payload, list | tuple):
            object.__setattr__(self, "payload", to_canonical(self.payload))

    def encode(self) -> bytes:
        return encode_message(self)


def gossip_messages(envelopes: Sequence[bytes]) -> list[Message]:
    """``txs`` messages carrying ``envelopes`` in order, each within ``MAX_GOSSIP_TXS`` txs and
    ``MAX_GOSSIP_BYTES``: however many large txs a node gossips, every message is valid."""
    out: list[Message] = []
    chunk: list[bytes] = []
    size = 0
    for envelope in envelopes:
        if chunk and (len(chunk) >= MAX_GOSSIP_TXS or size + len(envelope) > MAX_GOSSIP_BYTES):
            out.append(Message(TXS, tuple(chunk)))
            chunk, size = [], 0
        chunk.append(envelope)
        size += len(envelope)
    if chunk:
        out.append(Message(TXS, tuple(chunk)))
    return out


def encode_message(msg: Message) -> bytes:
    """The canonical bytes of ``msg``; raises ``BadMessage`` if it is not a valid message."""
    _check(msg.kind, msg.payload)
    data = encode((PROTOCOL_VERSION, msg.kind, msg.payload))
    if len(data) > MESSAGE_LIMITS.max_bytes:
        raise BadMessage(f"{msg.kind}: {len(data)} bytes exceed {MESSAGE_LIMITS.max_bytes}")
    return data


def decode_message(data: bytes) -> Message:
    """Decode and validate one message; raises ``BadMessage`` and nothing else."""
    try:
        value = decode(data, MESSAGE_LIMITS)
    except DecodeError as e:
        raise BadMessage(f"undecodable message: {e}") from None
    if not isinstance(value, tuple) or len(value) != 3:
        raise BadMessage("message: expected [version, kind, payload]")
    version, kind, payload = value
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise BadMessage(f"message: unsupported protocol version {version!r}")
    _check(kind, payload)
    return Message(kind, payload)


# --- payload shapes ---------------------------------------------------------------------


def _check(kind: Any, payload: Value) -> None:
    if not isinstance(kind, str) or kind not in _CHECKS:
        raise BadMessage(f"message: unknown kind {kind!r}")
    _CHECKS[kind](payload)


def _array(value: Value, what: str, low: int, high: int) -> tuple[Any, ...]:
    if not isinstance(value, tuple | list):
        raise BadMessage(f"{what}: expected an array")
    if not low <= len(value) <= high:
        raise BadMessage(f"{what}: {len(value)} items, expected {low}..{high}")
    return tuple(value)


def _bytes(value: Value, what: str, high: int) -> bytes:
    if not isinstance(value, bytes):
        raise BadMessage(f"{what}: expected bytes")
    if not 1 <= len(value) <= high:
        raise BadMessage(f"{what}: {len(value)} bytes, expected 1..{high}")
    return value


def _int(value: Value, what: str, low: int, high: int) -> int:
    if type(value) is not int:
        raise BadMessage(f"{what}: expected an integer")
    if not low <= value <= high:
        raise BadMessage(f"{what}: {value} outside [{low}, {high}]")
    return value


def _check_hello(payload: Value) -> None:
    _array(payload, "hello", 0, 0)


def _check_txs(payload: Value) -> None:
    total = 0
    for i, tx in enumerate(_array(payload, "txs", 1, MAX_GOSSIP_TXS)):
        total += len(_bytes(tx, f"txs[{i}]", MAX_TX_BYTES))
    if total > MAX_GOSSIP_BYTES:
        raise BadMessage(f"txs: {total} bytes of txs exceed {MAX_GOSSIP_BYTES}")


def _check_proposal(payload: Value) -> None:
    _bytes(payload, "proposal", MAX_PROPOSAL_BYTES)


def _check_vote(payload: Value) -> None:
    _bytes(payload, "vote", MAX_VOTE_BYTES)


def _check_status(payload: Value) -> None:
    height, round_ = _array(payload, "status", 2, 2)
    _int(height, "status.height", 0, MAX_HEIGHT)
    _int(round_, "status.round", 0, MAX_ROUND)


def _check_get_blocks(payload: Value) -> None:
    from_height, count, max_bytes = _array(payload, "get_blocks", 3, 3)
    _int(from_height, "get_blocks.from_height", 1, MAX_HEIGHT)
    _int(count, "get_blocks.max_count", 1, MAX_GET_BLOCKS)
    _int(max_bytes, "get_blocks.max_bytes", 1, MAX_SYNC_REPLY_BYTES)


def _check_blocks(payload: Value) -> None:
    for i, pair in enumerate(_array(payload, "blocks", 0, MAX_GET_BLOCKS)):
        block, commit = _array(pair, f"blocks[{i}]", 2, 2)
        _bytes(block, f"blocks[{i}].block", MAX_BLOCK_BYTES)
        _bytes(commit, f"blocks[{i}].commit", MAX_COMMIT_BYTES)


def _check_evidence(payload: Value) -> None:
    _bytes(payload, "evidence", MAX_EVIDENCE_BYTES)


def _check_private(payload: Value) -> None:
    _bytes(payload, "private", MAX_PRIVATE_BYTES)


def _check_get_snapshot(payload: Value) -> None:
    _array(payload, "get_snapshot", 0, 0)


def _check_snapshot(payload: Value) -> None:
    height, digest = _array(payload, "snapshot", 2, 2)
    _int(height, "snapshot.height", 0, MAX_HEIGHT)
    if not isinstance(digest, bytes) or len(digest) > MAX_DIGEST_BYTES:
        raise BadMessage(f"snapshot.digest: expected at most {MAX_DIGEST_BYTES} bytes")


def _check_get_manifest(payload: Value) -> None:
    (height,) = _array(payload, "get_manifest", 1, 1)
    _int(height, "get_manifest.height", 1, MAX_HEIGHT)


def _check_manifest(payload: Value) -> None:
    height, data = _array(payload, "manifest", 2, 2)
    _int(height, "manifest.height", 1, MAX_HEIGHT)
    _bytes(data, "manifest.data", MAX_SNAPSHOT_PART_BYTES)


def _chunk_id(values: tuple[Any, ...], what: str) -> None:
    height, kind, index = values
    _int(height, f"{what}.height", 1, MAX_HEIGHT)
    if kind not in CHUNK_KINDS:
        raise BadMessage(f"{what}.kind: expected one of {CHUNK_KINDS}")
    _int(index, f"{what}.index", 0, MAX_CHUNK_INDEX - 1)


def _check_get_chunk(payload: Value) -> None:
    _chunk_id(_array(payload, "get_chunk", 3, 3), "get_chunk")


def _check_chunk(payload: Value) -> None:
    values = _array(payload, "chunk", 4, 4)
    _chunk_id(values[:3], "chunk")
    _bytes(values[3], "chunk.data", MAX_SNAPSHOT_PART_BYTES)


_CHECKS = {
    HELLO: _check_hello,
    TXS: _check_txs,
    PROPOSAL: _check_proposal,
    VOTE: _check_vote,
    STATUS: _check_status,
    GET_BLOCKS: _check_get_blocks,
    BLOCKS: _check_blocks,
    EVIDENCE: _check_evidence,
    GET_SNAPSHOT: _check_get_snapshot,
    SNAPSHOT: _check_snapshot,
    GET_MANIFEST: _check_get_manifest,
    MANIFEST: _check_manifest,
    GET_CHUNK: _check_get_chunk,
    CHUNK: _check_chunk,
    PRIVATE: _check_private,
}
