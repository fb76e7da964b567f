"""Introduction: contract values in JSON, losslessly.

Contract values are msgpack values; JSON lacks bytes, so bytes become ``{"$bytes": "<hex>"}``
and everything else maps directly. ``from_json`` is the exact inverse on values produced by
``to_json``, so a client can pass bytes arguments through the JSON API too.
"""

from __future__ import annotations

from typing import Any


def to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            return bytes.fromhex(value["$bytes"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, float):
        raise ValueError("floats are not contract values; use integers or decimal strings")
    return value
