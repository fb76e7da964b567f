"""The encoding module's fast paths against the code they replaced: the same value, the same
refusal (type and message) for every input, model types or not."""

from __future__ import annotations

from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.types.encoding import (
    DEFAULT_LIMITS,
    INT_MAX,
    INT_MIN,
    DecodeError,
    Limits,
    decode,
    decode_plain,
    encode,
    to_canonical,
    to_plain,
)
from yulian.types.receipt import Event, Receipt


def reference_check(value: Any, depth: int, limits: Limits | None) -> None:
    """``_check_value`` as first written."""
    max_depth = limits.max_depth if limits else DEFAULT_LIMITS.max_depth
    if depth > max_depth:
        raise ValueError(f"nesting deeper than {max_depth}")
    if value is None or isinstance(value, bool | str | bytes):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError("integer out of 64-bit range")
        return
    if isinstance(value, tuple | list):
        for item in value:
            reference_check(item, depth + 1, limits)
        return
    if isinstance(value, dict):
        previous: bytes | None = None
        for key in value:
            if not isinstance(key, str):
                raise ValueError("map keys must be strings")
            key_bytes = key.encode("utf-8")
            if previous is not None and key_bytes <= previous:
                raise ValueError("map keys must be unique and in ascending order")
            previous = key_bytes
            reference_check(value[key], depth + 1, limits)
        return
    raise ValueError(f"type {type(value).__name__} is not encodable")


def reference_plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [reference_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: reference_plain(v) for k, v in value.items()}
    return value


def reference_canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: reference_canonical(value[k]) for k in sorted(value, key=lambda k: k.encode("utf-8"))
        }
    if isinstance(value, list | tuple):
        return tuple(reference_canonical(v) for v in value)
    return value


def reference_encode(value: Any) -> bytes:
    reference_check(value, 0, None)
    return msgpack.packb(value, use_bin_type=True)


def reference_decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=False,
            strict_map_key=True,
            max_str_len=limits.max_str,
            max_bin_len=limits.max_bin,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
            max_ext_len=0,
        )
    except Exception as e:
        raise DecodeError(f"malformed msgpack: {type(e).__name__}: {e}") from None
    try:
        reference_check(value, 0, limits)
    except ValueError as e:
        raise DecodeError(str(e)) from None
    if msgpack.packb(value, use_bin_type=True) != data:
        raise DecodeError("non-canonical encoding")
    return value


class Text(str):
    pass


class Number(int):
    pass


class Mapping(dict):  # type: ignore[type-arg]
    pass


def result(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        value = fn(*args)
    except Exception as e:
        return ("raised", type(e).__name__, str(e))
    return ("ok", repr(value), value)


texts = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["\ud800", "é", "\U0001f600", "Z", "a", "b"]),
    st.sampled_from(["a", "é"]).map(Text),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT_MIN, INT_MAX),
    st.sampled_from([INT_MIN - 1, INT_MAX + 1, 1.5, Number(3), frozenset()]),
    texts,
    st.binary(max_size=6),
)
keys = st.one_of(texts, st.binary(max_size=2), st.integers(0, 2))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(texts, inner, max_size=5),
        st.dictionaries(texts, inner, max_size=5).map(lambda d: dict(sorted(d.items()))),
        st.dictionaries(texts, inner, max_size=3).map(Mapping),
        st.dictionaries(
            st.one_of(texts, st.binary(max_size=2), st.integers(0, 2)), inner, max_size=3
        ),
    ),
    max_leaves=30,
)


def nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


@settings(max_examples=800, deadline=None)
@given(values)
def test_encode_and_to_canonical_match_the_reference(value: Any) -> None:
    assert result(encode, value) == result(reference_encode, value)
    assert result(to_canonical, value) == result(reference_canonical, value)
    assert result(to_plain, value) == result(reference_plain, value)


def test_depth_limits_match_the_reference() -> None:
    limits = Limits(max_depth=3)
    for depth in (2, 3, 4, 16, 17):
        for leaf in ("x", 1, INT_MAX + 1, {"b": 1, "a": 2}, 1.5):
            value = nested(depth, leaf)
            assert result(encode, value) == result(reference_encode, value)
            if leaf == INT_MAX + 1:
                continue
            data = msgpack.packb(value, use_bin_type=True)
            assert result(decode, data, limits) == result(reference_decode, data, limits)
            expected = result(lambda d: reference_plain(reference_decode(d)), data)
            assert result(decode_plain, data) == expected


@settings(max_examples=800, deadline=None)
@given(values)
def test_decode_plain_matches_to_plain_of_decode(value: Any) -> None:
    try:
        data = msgpack.packb(value, use_bin_type=True)
    except (TypeError, ValueError, OverflowError):
        return
    assert result(decode, data) == result(reference_decode, data)
    expected = result(lambda d: reference_plain(reference_decode(d)), data)
    assert result(decode_plain, data) == expected


@settings(max_examples=500, deadline=None)
@given(values, st.lists(st.tuples(texts, texts, values), max_size=3))
def test_receipt_encode_matches_encoding_its_canonical_value(value: Any, events: Any) -> None:
    def receipt() -> Receipt:
        return Receipt(b"\x01" * 32, "ok", "", 7, value, tuple(Event(*e) for e in events))

    assert result(lambda: receipt().encode()) == result(lambda: encode(receipt().to_value()))
