"""Network messages: round trips, every kind's malformed payloads, limits, fuzzing."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.net.messages import (
    KINDS,
    MAX_CHUNK_INDEX,
    MAX_COMMIT_BYTES,
    MAX_EVIDENCE_BYTES,
    MAX_GET_BLOCKS,
    MAX_GOSSIP_BYTES,
    MAX_GOSSIP_TXS,
    MAX_PRIVATE_BYTES,
    MAX_PROPOSAL_BYTES,
    MAX_ROUND,
    MAX_SNAPSHOT_PART_BYTES,
    MAX_SYNC_REPLY_BYTES,
    MAX_VOTE_BYTES,
    PROTOCOL_VERSION,
    BadMessage,
    Message,
    decode_message,
    encode_message,
    gossip_messages,
)
from yulian.types.block import MAX_BLOCK_BYTES
from yulian.types.encoding import DecodeError, encode
from yulian.types.tx import MAX_TX_BYTES

VALID = [
    Message("hello", ()),
    Message("txs", (b"tx1", b"tx2" * 100)),
    Message("txs", tuple(b"t%d" % i for i in range(MAX_GOSSIP_TXS))),
    Message("txs", (b"x" * MAX_TX_BYTES,)),
    Message("proposal", b"\x93proposal"),
    Message("vote", b"v" * MAX_VOTE_BYTES),
    Message("status", (0, 0)),
    Message("status", ((1 << 63) - 1, MAX_ROUND)),
    Message("get_blocks", (1, 1, 1)),
    Message("get_blocks", (12345, MAX_GET_BLOCKS, MAX_SYNC_REPLY_BYTES)),
    Message("blocks", ()),
    Message("blocks", ((b"block1", b"commit1"), (b"block2", b"commit2"))),
    Message("evidence", b"e" * MAX_EVIDENCE_BYTES),
    Message("private", b"p" * MAX_PRIVATE_BYTES),
    Message("get_snapshot", ()),
    Message("snapshot", (0, b"")),
    Message("snapshot", (120, b"d" * 32)),
    Message("get_manifest", (120,)),
    Message("manifest", (120, b"m" * 1000)),
    Message("get_chunk", (120, "state", 0)),
    Message("get_chunk", (120, "blocks", MAX_CHUNK_INDEX - 1)),
    Message("chunk", (120, "blocks", 3, b"c" * 5000)),
]

INVALID: list[tuple[str, object]] = [
    # txs
    ("txs", ()),
    ("txs", b"tx"),
    ("txs", (b"",)),
    ("txs", ("tx",)),
    ("txs", (1,)),
    ("txs", ((b"tx",),)),
    ("txs", (b"x" * (MAX_TX_BYTES + 1),)),
    ("txs", tuple(b"t" for _ in range(MAX_GOSSIP_TXS + 1))),
    ("txs", tuple(b"x" * MAX_TX_BYTES for _ in range(MAX_GOSSIP_BYTES // MAX_TX_BYTES + 1))),
    # proposal
    ("proposal", b""),
    ("proposal", "p"),
    ("proposal", (b"p",)),
    ("proposal", None),
    # vote
    ("vote", b""),
    ("vote", b"v" * (MAX_VOTE_BYTES + 1)),
    ("vote", 7),
    # status
    ("status", ()),
    ("status", (1,)),
    ("status", (1, 0, 0)),
    ("status", (-1, 0)),
    ("status", (1, -1)),
    ("status", (1, MAX_ROUND + 1)),
    ("status", (True, 0)),
    ("status", (b"1", 0)),
    ("status", 1),
    # get_blocks
    ("get_blocks", (0, 1, 1)),
    ("get_blocks", (1, 0, 1)),
    ("get_blocks", (1, MAX_GET_BLOCKS + 1, 1)),
    ("get_blocks", (1, 1, 0)),
    ("get_blocks", (1, 1, MAX_SYNC_REPLY_BYTES + 1)),
    ("get_blocks", (1,)),
    ("get_blocks", (1, 2)),
    ("get_blocks", (1, 2, 3, 4)),
    ("get_blocks", ("1", 2, 3)),
    ("get_blocks", (1, False, 3)),
    # blocks
    ("blocks", b"blocks"),
    ("blocks", (b"block",)),
    ("blocks", ((b"block",),)),
    ("blocks", ((b"block", b"commit", b"extra"),)),
    ("blocks", ((b"", b"commit"),)),
    ("blocks", ((b"block", b""),)),
    ("blocks", (("block", b"commit"),)),
    ("blocks", ((b"block", b"c" * (MAX_COMMIT_BYTES + 1)),)),
    ("blocks", tuple((b"b", b"c") for _ in range(MAX_GET_BLOCKS + 1))),
    # evidence
    ("evidence", b""),
    ("evidence", b"e" * (MAX_EVIDENCE_BYTES + 1)),
    ("evidence", (b"e",)),
    # private
    ("private", b""),
    ("private", b"p" * (MAX_PRIVATE_BYTES + 1)),
    ("private", (b"p",)),
    # state sync
    ("get_snapshot", (1,)),
    ("snapshot", (-1, b"")),
    ("snapshot", (1, b"d" * 65)),
    ("snapshot", (1, "d")),
    ("get_manifest", (0,)),
    ("get_manifest", ()),
    ("manifest", (1, b"")),
    ("manifest", (1, b"m" * (MAX_SNAPSHOT_PART_BYTES + 1))),
    ("get_chunk", (1, "other", 0)),
    ("get_chunk", (1, "state", -1)),
    ("get_chunk", (1, "state", MAX_CHUNK_INDEX)),
    ("get_chunk", (0, "state", 0)),
    ("chunk", (1, "state", 0)),
    ("chunk", (1, "state", 0, b"")),
    ("chunk", (1, b"state", 0, b"c")),
    # hello
    ("hello", (1,)),
    ("hello", b""),
    # unknown kinds
    ("ping", ()),
    ("", ()),
    ("TXS", (b"tx",)),
]


@pytest.mark.parametrize("msg", VALID, ids=lambda m: m.kind)
def test_round_trip(msg: Message) -> None:
    data = encode_message(msg)
    back = decode_message(data)
    assert back == msg
    assert encode_message(back) == data
    assert msg.encode() == data


def test_every_kind_has_a_valid_and_an_invalid_case() -> None:
    assert {m.kind for m in VALID} == set(KINDS)
    assert {k for k, _ in INVALID} >= set(KINDS)


def test_lists_are_normalised_to_tuples() -> None:
    msg = Message("blocks", [[b"b", b"c"]])
    assert msg.payload == ((b"b", b"c"),)
    assert decode_message(encode_message(msg)) == msg


def test_encoding_is_version_kind_payload() -> None:
    assert encode_message(Message("status", (5, 2))) == encode((PROTOCOL_VERSION, "status", (5, 2)))


@pytest.mark.parametrize(("kind", "payload"), INVALID, ids=lambda v: repr(v)[:40])
def test_malformed_payload_rejected(kind: str, payload: object) -> None:
    with pytest.raises(BadMessage):
        encode_message(Message(kind, payload))
    with pytest.raises(BadMessage):
        decode_message(encode((PROTOCOL_VERSION, kind, payload)))


def test_large_payloads_at_their_limits() -> None:
    big = Message("blocks", ((b"b" * MAX_BLOCK_BYTES, b"c" * MAX_COMMIT_BYTES),))
    assert decode_message(encode_message(big)) == big
    proposal = Message("proposal", b"p" * MAX_PROPOSAL_BYTES)
    assert decode_message(encode_message(proposal)) == proposal
    with pytest.raises(BadMessage):
        encode_message(Message("proposal", b"p" * (MAX_PROPOSAL_BYTES + 1)))
    with pytest.raises(BadMessage):
        encode_message(Message("blocks", ((b"b" * (MAX_BLOCK_BYTES + 1), b"c"),)))


@pytest.mark.parametrize(
    "value",
    [
        (2, "status", (1, 0)),  # unknown protocol version
        (0, "status", (1, 0)),
        (True, "status", (1, 0)),
        ("1", "status", (1, 0)),
        (1, "status"),  # too short
        (1, "status", (1, 0), b"extra"),  # too long
        (1, 5, (1, 0)),  # kind not a string
        (1, b"status", (1, 0)),
        {"kind": "status"},
        "status",
        None,
        (1, "status", {"height": 1}),
    ],
    ids=repr,
)
def test_bad_envelopes_rejected(value: object) -> None:
    with pytest.raises(BadMessage):
        decode_message(encode(value))


def test_non_canonical_and_undecodable_bytes_rejected() -> None:
    canonical = encode_message(Message("status", (5, 0)))
    # the same value with a non-minimal integer encoding
    non_canonical = b"\x93\x01\xa6status\x92\xcd\x00\x05\x00"
    assert msgpack.unpackb(non_canonical) == msgpack.unpackb(canonical)
    for data in (non_canonical, b"", b"\xc1", canonical + b"\x00", canonical[:-1]):
        with pytest.raises(BadMessage):
            decode_message(data)
    # floats have no place in messages
    with pytest.raises(BadMessage):
        decode_message(msgpack.packb([1, "status", [1.0, 0]]))


def test_bad_message_is_a_decode_error() -> None:
    assert issubclass(BadMessage, DecodeError)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        msg = decode_message(data)
    except BadMessage:
        return
    assert encode_message(msg) == data


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
    st.binary(max_size=16),
    st.sampled_from(KINDS),
    st.text(max_size=8),
)
_values = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(KINDS), _values, st.sampled_from([PROTOCOL_VERSION, PROTOCOL_VERSION + 1]))
def test_random_shaped_messages_raise_only_bad_message(kind: str, payload: object, v: int) -> None:
    data = encode((v, kind, payload))
    try:
        msg = decode_message(data)
    except BadMessage:
        return
    assert msg.kind == kind
    assert encode_message(msg) == data


@pytest.mark.parametrize(
    ("sizes", "messages"),
    [
        ([10, 20, 30], 1),
        ([MAX_TX_BYTES] * (MAX_GOSSIP_BYTES // MAX_TX_BYTES), 1),
        ([MAX_TX_BYTES] * (MAX_GOSSIP_BYTES // MAX_TX_BYTES + 1), 2),
        ([MAX_TX_BYTES] * 1000, 8),  # 1,000 txs of 64 KiB: more than one frame's worth
        ([1] * (MAX_GOSSIP_TXS * 2 + 1), 3),
        ([], 0),
    ],
)
def test_gossip_is_split_into_valid_messages(sizes: list[int], messages: int) -> None:
    """However many and however large the txs, every gossip message encodes and decodes, and
    together they carry every tx once, in order."""
    envelopes = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    out = gossip_messages(envelopes)
    assert len(out) == messages
    carried = [tx for msg in out for tx in decode_message(encode_message(msg)).payload]
    assert carried == envelopes
