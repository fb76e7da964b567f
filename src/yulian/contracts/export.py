"""Introduction: values crossing the host boundary — checked, charged, made canonical.

Every value that leaves a contract (state values, event payloads, the return value) and every
argument that enters one goes through ``export_value``: one iterative walk checks it against
the encoding model and the limits, charges the meter as it goes, and only then do
``to_canonical`` / ``encode`` touch it, so a value that shares sub-lists cannot make either of
them exponential or recursive. A small value in the model skips that walk (it would neither
refuse nor charge anything) and is put in canonical form by a bounded fast path instead.
"""

from __future__ import annotations

from typing import Any

from yulian.contracts.aborts import InvalidValue, LimitExceeded
from yulian.contracts.costs import BYTES_PER_STEP, ITEMS_PER_STEP
from yulian.contracts.meter import Meter
from yulian.types.encoding import (
    DEFAULT_LIMITS,
    INT_MAX,
    INT_MIN,
    encode_canonical,
    to_canonical,
    to_plain,
)

MAX_ARGS_BYTES = 1 << 20
MAX_VALUE_DEPTH = DEFAULT_LIMITS.max_depth
EXPORT_CHARGE_EVERY = 1024  # size walked between two charges of the exact walk
FAST_EXPORT_NODES = 1024  # nodes the fast path visits at most


class _NotSimple(Exception):
    """The value needs the exact walk: it may be refused, charged or cut short there."""


def _fast_canonical(node: Any, depth: int, sequence: type, budget: int) -> tuple[Any, int]:
    """``(canonical form, budget left)`` of a list, tuple or dict that is plainly in the model.

    Refuses nothing and charges nothing: anything unusual (a type outside the model, a big int,
    a non-str key, a deep or large value) raises ``_NotSimple``. Children are counted against
    ``budget`` before they are visited, so the work is bounded even for shared sub-lists.
    """
    if depth >= MAX_VALUE_DEPTH:
        raise _NotSimple
    budget -= len(node)
    if budget < 0:
        raise _NotSimple
    if type(node) is dict:
        out: dict[str, Any] = {}
        for key in sorted(node):  # str order is UTF-8 order (a lone surrogate fails in encode)
            if type(key) is not str:
                raise _NotSimple
            value = node[key]
            kind = type(value)
            if kind is list or kind is tuple or kind is dict:
                value, budget = _fast_canonical(value, depth + 1, sequence, budget)
            elif kind is int:
                if not INT_MIN <= value <= INT_MAX:
                    raise _NotSimple
            elif not (kind is str or kind is bytes or kind is bool or value is None):
                raise _NotSimple
            out[key] = value
        return out, budget
    items = []
    for value in node:
        kind = type(value)
        if kind is list or kind is tuple or kind is dict:
            value, budget = _fast_canonical(value, depth + 1, sequence, budget)
        elif kind is int:
            if not INT_MIN <= value <= INT_MAX:
                raise _NotSimple
        elif not (kind is str or kind is bytes or kind is bool or value is None):
            raise _NotSimple
        items.append(value)
    return (items if sequence is list else tuple(items)), budget


def _walk(value: Any, max_bytes: int, meter: Meter | None) -> None:
    """The exact walk: its refusals and its charges, in its order, are consensus rules."""
    nodes: list[Any] = [value]  # parallel stacks: no allocation per node (see measure)
    depths: list[int] = [0]
    size = 0
    charged = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        if depth > MAX_VALUE_DEPTH:
            raise InvalidValue(f"value nested deeper than {MAX_VALUE_DEPTH}")
        kind = type(node)
        size += 1
        if kind is str or kind is bytes:
            size += len(node)
        elif kind is int:
            if not INT_MIN <= node <= INT_MAX:
                raise InvalidValue("integer outside the 64-bit range")
        elif kind is list or kind is tuple:
            nodes.extend(node)
            depths.extend([depth + 1] * len(node))
        elif kind is dict:
            for key, child in node.items():
                if type(key) is not str:
                    raise InvalidValue("map keys must be strings")
                size += len(key)
                nodes.append(child)
                depths.append(depth + 1)
        elif kind is not bool and node is not None:
            raise InvalidValue("only None, bool, int, str, bytes, lists and maps are encodable")
        if size > max_bytes:
            raise LimitExceeded(f"value larger than {max_bytes} bytes")
        if meter is not None and size - charged >= EXPORT_CHARGE_EVERY:
            meter.charge((size - charged) // ITEMS_PER_STEP)
            charged = size


def export_value(
    value: Any, max_bytes: int, meter: Meter | None = None, *, sequence: type = tuple
) -> tuple[Any, bytes]:
    """Check ``value`` against the encoding model and return ``(canonical, encoded)``; with
    ``sequence=list`` the canonical form has lists for tuples (a fresh plain copy).

    The exact walk (``_walk``) is iterative, charges ``meter`` as it goes, and stops as soon as
    the value is certainly larger than ``max_bytes``. It is skipped when the fast path shows it
    would neither refuse nor charge: every node of the model encodes to at least the size the
    walk counts for it, so an encoding of at most ``max_bytes`` (and, with a meter, under
    ``EXPORT_CHARGE_EVERY`` bytes) means a walk that never reached the limit or a charge.
    """
    kind = type(value)
    data: bytes | None
    try:
        if kind is list or kind is tuple or kind is dict:
            canonical = _fast_canonical(value, 0, sequence, FAST_EXPORT_NODES)[0]
        elif (
            kind is str
            or kind is bytes
            or kind is bool
            or value is None
            or (kind is int and INT_MIN <= value <= INT_MAX)
        ):
            canonical = value
        else:
            raise _NotSimple
        data = encode_canonical(canonical)
    except (_NotSimple, TypeError, ValueError):  # a refusal, a lone surrogate: the exact path
        canonical, data = None, None
    # without a meter, the walk could only refuse a value over max_bytes
    if (
        data is None
        or len(data) > max_bytes
        or (meter is not None and len(data) >= EXPORT_CHARGE_EVERY)
    ):
        _walk(value, max_bytes, meter)
        if data is None:
            try:
                canonical = to_canonical(value)
                data = encode_canonical(canonical)  # the walk checked what encode would
            except ValueError as e:  # lone surrogates in a str
                raise InvalidValue("value is not encodable") from e
            if sequence is list:
                canonical = to_plain(canonical)
    if len(data) > max_bytes:
        raise LimitExceeded(f"value larger than {max_bytes} bytes")
    if meter is not None:
        meter.charge(1 + len(data) // BYTES_PER_STEP)
    return canonical, data


def import_args(args: tuple[Any, ...] | list[Any]) -> list[Any]:
    """The invocation arguments as the contract sees them: plain, canonically ordered copies."""
    total = 0
    out = []
    for arg in args:
        plain, data = export_value(arg, MAX_ARGS_BYTES, sequence=list)
        total += len(data)
        if total > MAX_ARGS_BYTES:
            raise LimitExceeded(f"arguments larger than {MAX_ARGS_BYTES} bytes")
        out.append(plain)
    return out
