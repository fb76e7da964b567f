"""The fast paths of tx decoding accept only what the general ones accept and return what they
return: the envelope split (``_split_envelope``) against the general decoder, the one-expression
field check of ``Tx.from_value`` against the field readers. Everything else gets their errors."""

from __future__ import annotations

from collections.abc import Callable

import msgpack
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yulian.types.encoding import DecodeError, decode
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)
from yulian.types.tx import (
    MAX_SIGNATURE_BYTES,
    MAX_TX_BYTES,
    TX_LIMITS,
    TX_VERSION,
    SignedTx,
    Tx,
    _split_envelope,
)


def general(data: bytes) -> tuple[bytes, bytes]:
    """The envelope as the general decoder reads it (``SignedTx.decode`` before the fast path)."""
    envelope = expect_array(decode(data, TX_LIMITS), "envelope", 2)
    body = expect_bytes(envelope[0], "envelope.body", MAX_TX_BYTES)
    signature = expect_bytes(envelope[1], "envelope.signature", MAX_SIGNATURE_BYTES)
    return body, signature


def agrees(data: bytes) -> bool:
    fast = _split_envelope(data)
    if fast is None:
        return True  # the general path decides
    assert fast == general(data)
    return True


def pack(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def bin_header(tag: int, length: int) -> bytes:
    width = {0xC4: 1, 0xC5: 2, 0xC6: 4}[tag]
    return bytes([tag]) + length.to_bytes(width, "big")


LENGTHS = st.sampled_from([0, 1, 31, 64, 127, 128, 200, 255, 256, 257, 1000, 65_000, 65_530])


@settings(max_examples=300, deadline=None)
@given(body_len=LENGTHS, sig_len=st.sampled_from([0, 1, 64, 72, 127, 128, 129, 255, 256, 300]))
def test_canonical_envelopes_take_the_fast_path_exactly_when_valid(
    body_len: int, sig_len: int
) -> None:
    data = pack((b"b" * body_len, b"s" * sig_len))
    valid = len(data) <= MAX_TX_BYTES and sig_len <= MAX_SIGNATURE_BYTES
    assert (_split_envelope(data) is not None) == valid
    assert agrees(data)


@settings(max_examples=500, deadline=None)
@given(
    body_tag=st.sampled_from([0xC4, 0xC5, 0xC6]),
    sig_tag=st.sampled_from([0xC4, 0xC5, 0xC6]),
    body_len=LENGTHS,
    sig_len=st.integers(0, 300),
    head=st.sampled_from([b"\x92", b"\x93", b"\x91", b"\xdc\x00\x02", b"\x82"]),
    tail=st.sampled_from([b"", b"\x00", b"\xc0"]),
    cut=st.integers(0, 3),
)
def test_hand_built_envelopes_never_disagree(
    body_tag: int, sig_tag: int, body_len: int, sig_len: int, head: bytes, tail: bytes, cut: int
) -> None:
    assume(not (body_len > 0xFF and body_tag == 0xC4) and not (sig_len > 0xFF and sig_tag == 0xC4))
    data = (
        head
        + bin_header(body_tag, body_len)
        + b"b" * body_len
        + bin_header(sig_tag, sig_len)
        + b"s" * sig_len
        + tail
    )
    data = data[: len(data) - cut]
    assert agrees(data)
    canonical = data == pack((b"b" * body_len, b"s" * sig_len))
    if not canonical:  # non-minimal headers, wrong arity, trailing or missing bytes
        assert _split_envelope(data) is None


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_disagree(data: bytes) -> None:
    assert agrees(data)
    assert agrees(b"\x92\xc4" + data)


@pytest.mark.parametrize(
    "data",
    [
        b"\x92\xc4\x01",  # truncated
        b"\x92\xa1b\xc4\x00",  # a str body
        b"\x92\xc5\x00\x01b\xc4\x00",  # bin 16 for one byte
        pack((b"b", b"s" * 129)),  # signature over the limit
        bytearray(pack((b"b", b"s"))),  # not bytes: the general path converts it
    ],
)
def test_the_general_path_still_speaks_for_the_rest(data: bytes) -> None:
    assert _split_envelope(data) is None
    try:
        expected: object = general(bytes(data))
    except DecodeError as e:
        expected = str(e)
    try:
        got: object = SignedTx.decode(data)
    except DecodeError as e:
        got = str(e)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, str)  # a body of b"b" is no tx
        assert "tx" in got


def test_a_real_tx_round_trips_through_the_fast_path() -> None:
    tx = Tx("chain", "kv", "put", ("k", 1), b"cert", 7, 10)
    signed = SignedTx.create(tx, lambda data: b"\x01" * 64)
    data = signed.encode()
    assert _split_envelope(data) == (signed.body, signed.signature)
    decoded = SignedTx.decode(data)
    assert (decoded.body, decoded.signature, decoded.tx) == (signed.body, signed.signature, tx)


def reference_tx(value: object) -> Tx:
    """``Tx.from_value`` through the field readers alone (its code before the fast check)."""
    fields = expect_array(value, "tx", 8)
    expect_version(fields[0], "tx.version", TX_VERSION)
    return Tx(
        chain_id=expect_str(fields[1], "tx.chain_id", 64),
        contract=expect_str(fields[2], "tx.contract", 64),
        method=expect_str(fields[3], "tx.method", 64),
        args=expect_list(fields[4], "tx.args", 32),
        signer=expect_bytes(fields[5], "tx.signer", 4096),
        nonce=expect_int(fields[6], "tx.nonce", 0, (1 << 64) - 1),
        expires_at=expect_int(fields[7], "tx.expires_at"),
    )


def outcome(make: Callable[[], Tx]) -> object:
    try:
        return make()
    except DecodeError as e:
        return str(e)


VALID_TX = (TX_VERSION, "chain", "kv", "put", ("k", 1), b"cert", 7, 10)
EDGES: list[object] = [
    *[0, 1, 2, -1, True, False, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 1 << 64],
    *["", "a", "a" * 64, "a" * 65, "é" * 32, "é" * 33, "日本"],
    *[b"", b"c" * 4096, b"c" * 4097, (), ("x",) * 32, ("x",) * 33, None, [1]],
]


@pytest.mark.parametrize("position", range(8))
@pytest.mark.parametrize("edge", EDGES, ids=repr)
def test_tx_fields_get_the_verdict_of_the_field_readers(position: int, edge: object) -> None:
    value = (*VALID_TX[:position], edge, *VALID_TX[position + 1 :])
    assert outcome(lambda: Tx.from_value(value)) == outcome(lambda: reference_tx(value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(EDGES), min_size=8, max_size=8))
def test_tx_fields_of_any_mix_get_the_verdict_of_the_field_readers(fields: list[object]) -> None:
    value = tuple(fields)
    assert outcome(lambda: Tx.from_value(value)) == outcome(lambda: reference_tx(value))
