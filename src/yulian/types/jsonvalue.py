"""Introduction: contract values in JSON, losslessly.

Contract values are msgpack values; JSON lacks bytes, so bytes become ``{"$bytes": "<hex>"}``
and everything else maps directly. ``from_json`` is the exact inverse on values produced by
``to_json``, so a client can pass bytes arguments through the JSON API too.

Both the node's API and the SDK speak this mapping, so it lives here, below both.
``from_json`` reads input from anyone: it refuses (``ValueError``) nesting deeper than any
contract value may be (``MAX_JSON_DEPTH``) before recursing that far.
"""

from __future__ import annotations

from typing import Any

from yulian.types.encoding import DEFAULT_LIMITS

#: Deepest JSON accepted as a contract value: the canonical encoding's own nesting limit.
MAX_JSON_DEPTH = DEFAULT_LIMITS.max_depth


def to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(value: Any, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The contract value of a parsed JSON document; ``ValueError`` names what is refused."""
    return _from_json(value, 0, max_depth)


def _from_json(value: Any, depth: int, max_depth: int) -> Any:
    if isinstance(value, dict | list) and depth >= max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    if isinstance(value, dict):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            return bytes.fromhex(value["$bytes"])
        return {k: _from_json(v, depth + 1, max_depth) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v, depth + 1, max_depth) for v in value]
    if isinstance(value, float):
        raise ValueError(
            "floats (and JSON integers beyond 64 bits, which parse as floats) are not contract "
            "values; use integers or decimal strings"
        )
    return value
