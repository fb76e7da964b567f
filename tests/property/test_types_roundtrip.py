"""D2: decode(encode(x)) == x for generated objects of every type; non-canonical bytes rejected."""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.types import (
    Block,
    CommitCertificate,
    CommitSignature,
    DecodeError,
    Event,
    Header,
    Receipt,
    SignedTx,
    Tx,
    decode,
    encode,
)
from yulian.types.encoding import to_canonical

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)
hashes = st.binary(min_size=32, max_size=32)
u63 = st.integers(min_value=0, max_value=(1 << 63) - 1)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(1 << 63), (1 << 64) - 1)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), children, max_size=4).map(to_canonical)
    ),
    max_leaves=12,
)

txs = st.builds(
    Tx,
    chain_id=names,
    contract=names,
    method=names,
    args=st.lists(values, max_size=5).map(tuple),
    signer=st.binary(max_size=600),
    nonce=st.integers(0, (1 << 64) - 1),
    expires_at=u63,
)
headers = st.builds(
    Header,
    chain_id=names,
    height=st.integers(1, (1 << 63) - 1),
    time_ms=u63,
    prev_hash=hashes,
    tx_count=st.just(0),
    tx_root=hashes,
    result_root=hashes,
    state_root=hashes,
    validators_hash=hashes,
    config_hash=hashes,
    proposer=names,
)
events = st.builds(Event, contract=names, name=names, payload=values)
receipts = st.builds(
    Receipt,
    tx_id=hashes,
    status=st.sampled_from(["ok", "reverted", "out_of_steps", "fault"]),
    message=st.text(max_size=50),
    steps=u63,
    value=values,
    events=st.lists(events, max_size=3).map(tuple),
)
commits = st.builds(
    CommitCertificate,
    height=st.integers(1, 1 << 40),
    round=st.integers(0, 100),
    block_hash=hashes,
    signatures=st.lists(
        st.builds(CommitSignature, validator=names, signature=st.binary(min_size=64, max_size=64)),
        max_size=7,
    ).map(tuple),
)


@given(values)
def test_value_round_trip(v: object) -> None:
    data = encode(v)
    assert decode(data) == v
    assert encode(decode(data)) == data


@given(txs, st.binary(min_size=64, max_size=64))
def test_signed_tx_round_trip(tx: Tx, sig: bytes) -> None:
    body = tx.encode()
    signed = SignedTx(body=body, signature=sig, tx=tx)
    again = SignedTx.decode(signed.encode())
    assert again == signed
    assert again.tx == Tx.from_value(decode(body))
    assert again.encode() == signed.encode()


@given(headers, st.lists(st.binary(min_size=1, max_size=100), max_size=5))
def test_block_round_trip(header: Header, txs_: list[bytes]) -> None:
    header = Header(**{**header.__dict__, "tx_count": len(txs_)})
    block = Block(header=header, txs=tuple(txs_))
    assert Block.decode(block.encode()) == block
    assert Header.decode(header.encode()) == header


@given(receipts)
def test_receipt_round_trip(r: Receipt) -> None:
    assert Receipt.decode(r.encode()) == r


@given(commits)
def test_commit_round_trip(c: CommitCertificate) -> None:
    assert CommitCertificate.decode(c.encode()) == c


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_decoders(data: bytes) -> None:
    for decoder in (
        decode,
        SignedTx.decode,
        Block.decode,
        Header.decode,
        Receipt.decode,
        CommitCertificate.decode,
    ):
        with contextlib.suppress(DecodeError):
            decoder(data)


NON_CANONICAL = [
    pytest.param(b"\xd0\x05", id="int8-for-small-positive"),
    pytest.param(b"\xcd\x00\x01", id="uint16-for-1"),
    pytest.param(b"\xd9\x01a", id="str8-for-short-string"),
    pytest.param(b"\xdc\x00\x01\x01", id="array16-for-one-item"),
    pytest.param(b"\x82\xa1b\x01\xa1a\x02", id="map-keys-out-of-order"),
    pytest.param(b"\x82\xa1a\x01\xa1a\x02", id="duplicate-map-key"),
    pytest.param(b"\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", id="float"),
    pytest.param(b"\xd4\x01\x00", id="ext-type"),
    pytest.param(b"\x81\x01\x02", id="int-map-key"),
    pytest.param(b"\x01\x02", id="trailing-bytes"),
    pytest.param(b"\x92\x01", id="truncated-array"),
    pytest.param(b"", id="empty"),
]


@pytest.mark.parametrize("data", NON_CANONICAL)
def test_non_canonical_or_foreign_bytes_rejected(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(data)


def test_deep_nesting_rejected() -> None:
    data = b"\x91" * 40 + b"\x01"
    with pytest.raises(DecodeError, match="nesting"):
        decode(data)


def test_oversized_rejected_before_parsing() -> None:
    from yulian.types.tx import MAX_TX_BYTES

    data = encode((b"x" * (MAX_TX_BYTES + 10), b"s"))
    with pytest.raises(DecodeError, match="exceeds"):
        SignedTx.decode(data)


def test_huge_declared_lengths_rejected() -> None:
    # an array header claiming 2**32-1 items, and a str claiming 2**32-1 bytes
    for data in (b"\xdd\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff"):
        with pytest.raises(DecodeError):
            decode(data)


def test_encode_refuses_floats_and_sets() -> None:
    for v in (1.5, {1, 2}, {"b": 1, "a": 2}):
        with pytest.raises(ValueError):
            encode(v)


def test_canonical_check_is_real() -> None:
    # msgpack itself accepts the non-canonical form; only our check refuses it
    assert msgpack.unpackb(b"\xcd\x00\x01") == 1


def test_a_proposal_carries_a_large_block() -> None:
    """A proposal of a block of 2,000 typical txs (over 1 MiB) decodes (regression: the block
    field was once limited like a single tx)."""
    from yulian.types.consensus import Proposal

    txs = tuple(b"t" * 600 for _ in range(2000))
    header = Header(
        "c", 1, 1, b"h" * 32, len(txs), b"r" * 32, b"r" * 32, b"r" * 32, b"v" * 32, "p", b"g" * 32
    )
    block = Block(header, txs).encode()
    assert len(block) > 1_000_000
    proposal = Proposal(1, 0, -1, block, b"h" * 32, "p", b"s" * 64)
    assert Proposal.decode(proposal.encode()) == proposal
    assert Block.decode(Proposal.decode(proposal.encode()).block).txs == txs
