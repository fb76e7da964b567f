"""Introduction: typed field readers for positional msgpack arrays.

Every decoder of a Yulian type reads its array through these helpers so that a wrong type,
a wrong length or an out-of-range number becomes a ``DecodeError`` naming the field.
"""

from __future__ import annotations

from typing import Any

from yulian.types.encoding import DecodeError, Value


def expect_array(value: Value, name: str, length: int) -> tuple[Any, ...]:
    if not isinstance(value, tuple):
        raise DecodeError(f"{name}: expected an array")
    if len(value) != length:
        raise DecodeError(f"{name}: expected {length} fields, got {len(value)}")
    return value


def expect_list(value: Value, name: str, max_items: int) -> tuple[Any, ...]:
    if not isinstance(value, tuple):
        raise DecodeError(f"{name}: expected an array")
    if len(value) > max_items:
        raise DecodeError(f"{name}: {len(value)} items exceed the limit of {max_items}")
    return value


def expect_int(value: Value, name: str, low: int = 0, high: int = (1 << 63) - 1) -> int:
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
        raise DecodeError(f"{name}: expected an integer")
    if not low <= value <= high:
        raise DecodeError(f"{name}: {value} outside [{low}, {high}]")
    return value


def expect_str(value: Value, name: str, max_len: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"{name}: expected a string")
    size = len(value) if value.isascii() else len(value.encode("utf-8"))
    if size > max_len:
        raise DecodeError(f"{name}: longer than {max_len} bytes")
    if not value and not allow_empty:
        raise DecodeError(f"{name}: must not be empty")
    return value


def expect_bytes(value: Value, name: str, max_len: int, *, exact: int | None = None) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError(f"{name}: expected bytes")
    if exact is not None and len(value) != exact:
        raise DecodeError(f"{name}: expected {exact} bytes, got {len(value)}")
    if len(value) > max_len:
        raise DecodeError(f"{name}: longer than {max_len} bytes")
    return value


def expect_version(value: Value, name: str, version: int) -> int:
    got = expect_int(value, name)
    if got != version:
        raise DecodeError(f"{name}: unsupported version {got}, expected {version}")
    return got
