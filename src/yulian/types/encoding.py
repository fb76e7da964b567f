"""Introduction: canonical msgpack encoding with explicit limits.

Everything Yulian hashes or signs is encoded here. The invariant: for any bytes ``b`` that
``decode`` accepts, ``encode(decode(b)) == b``. A value has exactly one encoding, so the hash of
the bytes we received is the hash of the value.

Allowed values: ``None``, ``bool``, ``int`` (64-bit range), ``str`` (UTF-8), ``bytes``, tuples /
lists (decoded as tuples) and maps with ``str`` keys in strictly ascending UTF-8 order. Floats,
extension types and non-string map keys are rejected: they have no place in signed data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

Value = Any  # None | bool | int | str | bytes | tuple[Value, ...] | dict[str, Value]


class DecodeError(ValueError):
    """Bytes that are not a canonical, in-limits encoding of an allowed value."""


class EncodeError(ValueError):
    """A value whose encoding its own decoder would refuse (over a size, count or nesting
    limit): it is never sent, logged or stored, so no peer and no restart meets it."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one decode; every field is a hard limit, never a hint."""

    max_bytes: int = 1 << 20
    max_depth: int = 16
    max_items: int = 1 << 16  # per array / map
    max_str: int = 1 << 16
    max_bin: int = 1 << 20


DEFAULT_LIMITS = Limits()

INT_MIN = -(1 << 63)
INT_MAX = (1 << 64) - 1

# ``msgpack.packb`` builds its Packer from keyword arguments, which costs several times what
# packing a small value does; a Packer of our own per call is as safe (none is ever shared).
_Packer = msgpack.Packer


def encode(value: Value) -> bytes:
    """Encode ``value`` canonically; raises ``ValueError`` for values outside the model."""
    _check_value(value, depth=0, limits=None)
    return _Packer(use_bin_type=True).pack(value)


def encode_canonical(value: Value) -> bytes:
    """Encode a value the caller has already walked and put in canonical form (its types,
    integer range and depth checked, every map built by ``to_canonical``): the same bytes as
    ``encode`` without walking the value a second time. For hot paths only."""
    return _Packer(use_bin_type=True).pack(value)


def encode_within(value: Value, limits: Limits, what: str) -> bytes:
    """``encode(value)``, refused with ``EncodeError`` (naming ``what`` and the limit) unless
    ``decode(result, limits)`` would accept it: the total size, every array's and map's item
    count, every string's UTF-8 and byte string's length, and the nesting depth. Structures that
    are written to the WAL, the network or the store are encoded through this, so a node never
    produces bytes that it, or a peer, must refuse."""
    _check_limits(value, limits, what)
    data = _Packer(use_bin_type=True).pack(value)
    if len(data) > limits.max_bytes:
        raise EncodeError(f"{what}: {len(data)} bytes exceed the limit of {limits.max_bytes}")
    return data


def bin_size(length: int) -> int:
    """The size of the canonical encoding of a byte string of ``length`` bytes."""
    if length < 1 << 8:
        return 2 + length
    if length < 1 << 16:
        return 3 + length
    return 5 + length


def array_header_size(count: int) -> int:
    """The size of the header of a canonically encoded array of ``count`` items."""
    if count < 16:
        return 1
    if count < 1 << 16:
        return 3
    return 5


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Value:
    """Decode ``data`` strictly: in limits, an allowed value, and canonical."""
    return _decode(data, limits, use_list=False)


def decode_plain(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Value:
    """``to_plain(decode(data, limits))``: arrays come out as fresh lists, without a copy."""
    return _decode(data, limits, use_list=True)


_BYTES_LIKE = (bytes, bytearray, memoryview)


def _decode(data: bytes, limits: Limits, use_list: bool) -> Value:
    if not isinstance(data, _BYTES_LIKE):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise DecodeError(f"encoding of {len(data)} bytes exceeds the limit of {limits.max_bytes}")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=use_list,
            strict_map_key=True,
            max_str_len=limits.max_str,
            max_bin_len=limits.max_bin,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
            max_ext_len=0,
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
        raise DecodeError(f"malformed msgpack: {type(e).__name__}: {e}") from None
    except Exception as e:  # the C unpacker raises a few other types for hostile input
        raise DecodeError(f"malformed msgpack: {type(e).__name__}") from None
    try:
        _check_value(value, 0, limits)
    except ValueError as e:
        raise DecodeError(str(e)) from None
    if _Packer(use_bin_type=True).pack(value) != data:  # lists and tuples encode alike
        raise DecodeError("non-canonical encoding")
    return value


def _check_value(value: Value, depth: int, limits: Limits | None) -> None:
    """Refuse what is outside the model, raising ``ValueError`` for the first offending node in
    depth-first order. Values of the exact model types take the fast path (scalars are checked
    inline, without a call each); anything else takes ``_check_any``, which says the same."""
    max_depth = limits.max_depth if limits else DEFAULT_LIMITS.max_depth
    if depth > max_depth:
        raise ValueError(f"nesting deeper than {max_depth}")
    kind = type(value)
    if kind is tuple or kind is list:
        leaves_fit = depth < max_depth  # a scalar child is at depth + 1
        for item in value:
            t = type(item)
            if leaves_fit and (
                t is str
                or t is bytes
                or t is bool
                or item is None
                or (t is int and INT_MIN <= item <= INT_MAX)
            ):
                continue
            _check_value(item, depth + 1, limits)
        return
    if kind is dict:
        leaves_fit = depth < max_depth
        previous: str | None = None
        for key, item in value.items():
            if type(key) is not str:
                _check_any(value, depth, limits)  # a key outside the fast path: start over
                return
            if not key.isascii():
                key.encode("utf-8")  # a lone surrogate fails here; str order is UTF-8 order
            if previous is not None and key <= previous:
                raise ValueError("map keys must be unique and in ascending order")
            previous = key
            t = type(item)
            if leaves_fit and (
                t is str
                or t is bytes
                or t is bool
                or item is None
                or (t is int and INT_MIN <= item <= INT_MAX)
            ):
                continue
            _check_value(item, depth + 1, limits)
        return
    if kind is str or kind is bytes or kind is bool or value is None:
        return
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError("integer out of 64-bit range")
        return
    _check_any(value, depth, limits)


def _check_any(value: Value, depth: int, limits: Limits | None) -> None:
    """``_check_value`` for any value, subclasses of the model types included."""
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
            _check_any(item, depth + 1, limits)
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
            _check_any(value[key], depth + 1, limits)
        return
    raise ValueError(f"type {type(value).__name__} is not encodable")


def _check_limits(value: Value, limits: Limits, what: str) -> None:
    """Refuse (``EncodeError``) a value the decoder would refuse under ``limits``, walking it
    without recursion; also everything ``encode`` refuses (types, integer range)."""
    try:
        _check_value(value, 0, limits)
    except ValueError as e:
        raise EncodeError(f"{what}: {e}") from None
    stack: list[tuple[Value, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is bytes or kind is bytearray:
            if len(item) > limits.max_bin:
                raise EncodeError(
                    f"{what}: a byte string of {len(item)} bytes (limit {limits.max_bin})"
                )
        elif kind is str:
            size = len(item) if item.isascii() else len(item.encode("utf-8"))
            if size > limits.max_str:
                raise EncodeError(f"{what}: a string of {size} bytes (limit {limits.max_str})")
        elif isinstance(item, tuple | list | dict):
            if len(item) > limits.max_items:
                raise EncodeError(f"{what}: {len(item)} items (limit {limits.max_items})")
            children = item.items() if isinstance(item, dict) else ((None, v) for v in item)
            for key, child in children:
                if key is not None:
                    stack.append((key, depth + 1))
                stack.append((child, depth + 1))


_SCALAR_TYPES = frozenset({str, bytes, int, bool, type(None)})


def _utf8(key: str) -> bytes:
    return key.encode("utf-8")


def canonical_map(mapping: dict[str, Value]) -> dict[str, Value]:
    """Return ``mapping`` with keys in canonical (ascending UTF-8) order, recursively."""
    for key in mapping:
        if type(key) is not str or not key.isascii():
            order = sorted(mapping, key=_utf8)
            break
    else:
        order = sorted(mapping)  # ASCII str keys: str order is byte order
    out: dict[str, Value] = {}
    for key in order:
        value = mapping[key]
        out[key] = value if type(value) in _SCALAR_TYPES else to_canonical(value)
    return out


def to_canonical(value: Value) -> Value:
    """Convert JSON-like input (lists, unsorted dicts) into the canonical value model."""
    kind = type(value)
    if kind is dict:
        return canonical_map(value)
    if kind is tuple or kind is list:
        return tuple([v if type(v) in _SCALAR_TYPES else to_canonical(v) for v in value])
    if kind in _SCALAR_TYPES:
        return value
    if isinstance(value, dict):
        return canonical_map(value)
    if isinstance(value, list | tuple):
        return tuple(to_canonical(v) for v in value)
    return value


def to_plain(value: Value) -> Value:
    """Convert decoded tuples into lists, for contracts and JSON output."""
    kind = type(value)
    if kind is tuple or kind is list:
        return [v if type(v) in _SCALAR_TYPES else to_plain(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _SCALAR_TYPES else to_plain(v) for k, v in value.items()}
    if kind in _SCALAR_TYPES:
        return value
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value
