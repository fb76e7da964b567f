"""Introduction: values crossing the host boundary — checked, charged, made canonical.

Every value that leaves a contract (state values, event payloads, the return value) and every
argument that enters one goes through ``export_value``: one iterative walk checks it against
the encoding model and the limits, charges the meter as it goes, and only then do
``to_canonical`` / ``encode`` touch it, so a value that shares sub-lists cannot make either of
them exponential or recursive. A small value in the model skips that walk (it would neither
refuse nor charge anything) and is put in canonical form by a bounded fast path instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yulian.contracts.aborts import InvalidValue, LimitExceeded
from yulian.contracts.costs import BYTES_PER_STEP, EXPORT_NODES_PER_STEP
from yulian.contracts.meter import Meter
from yulian.types.encoding import (
    DEFAULT_LIMITS,
    INT_MAX,
    INT_MIN,
    encode_canonical,
    to_canonical,
    to_plain,
)

EXPORT_CHARGE_EVERY = 1024  # nodes walked between two charges of the exact walk
FAST_EXPORT_NODES = 1024  # nodes the fast path visits at most
MAX_ARGS_BYTES = 1 << 20
MAX_VALUE_DEPTH = DEFAULT_LIMITS.max_depth


@dataclass(frozen=True)
class ExportLimits:
    """What a value may be where it goes: the limits its decoder will enforce there."""

    max_bytes: int  # encoded
    max_depth: int  # the value itself is at depth 0
    max_items: int  # per list or map

    def __post_init__(self) -> None:
        if self.max_items < FAST_EXPORT_NODES:  # the fast path counts on it
            raise ValueError(f"max_items below {FAST_EXPORT_NODES}")


ARGS_LIMITS = ExportLimits(MAX_ARGS_BYTES, MAX_VALUE_DEPTH, DEFAULT_LIMITS.max_items)


class _NotSimple(Exception):
    """The value needs the exact walk: it may be refused, charged or cut short there."""


def _fast_canonical(
    node: Any, depth: int, max_depth: int, sequence: type, budget: int
) -> tuple[Any, int]:
    """``(canonical form, budget left)`` of a list, tuple or dict that is plainly in the model.

    Refuses nothing and charges nothing: anything unusual (a type outside the model, a big int,
    a non-str key, a deep or large value) raises ``_NotSimple``. Children are counted against
    ``budget`` before they are visited, so the work is bounded even for shared sub-lists.
    """
    if depth >= max_depth:
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
                value, budget = _fast_canonical(value, depth + 1, max_depth, sequence, budget)
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
            value, budget = _fast_canonical(value, depth + 1, max_depth, sequence, budget)
        elif kind is int:
            if not INT_MIN <= value <= INT_MAX:
                raise _NotSimple
        elif not (kind is str or kind is bytes or kind is bool or value is None):
            raise _NotSimple
        items.append(value)
    return (items if sequence is list else tuple(items)), budget


def _walk(value: Any, limits: ExportLimits, meter: Meter | None) -> tuple[int, int]:
    """The exact walk: its refusals and its charges, in its order, are consensus rules.
    Returns ``(nodes, steps charged)``; charges every ``EXPORT_CHARGE_EVERY`` nodes, so that
    a value sharing sub-lists cannot make the walk long before the budget notices."""
    max_bytes, max_depth, max_items = limits.max_bytes, limits.max_depth, limits.max_items
    nodes: list[Any] = [value]  # parallel stacks: no allocation per node (see measure)
    depths: list[int] = [0]
    size = 0
    count = 0
    charged = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        if depth > max_depth:
            raise InvalidValue(f"value nested deeper than {max_depth}")
        kind = type(node)
        size += 1
        count += 1
        if kind is str or kind is bytes:
            size += len(node)
        elif kind is int:
            if not INT_MIN <= node <= INT_MAX:
                raise InvalidValue("integer outside the 64-bit range")
        elif kind is list or kind is tuple:
            if len(node) > max_items:
                raise LimitExceeded(f"a list of more than {max_items} items")
            nodes.extend(node)
            depths.extend([depth + 1] * len(node))
        elif kind is dict:
            if len(node) > max_items:
                raise LimitExceeded(f"a map of more than {max_items} items")
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
        if meter is not None and count % EXPORT_CHARGE_EVERY == 0:
            meter.charge(EXPORT_CHARGE_EVERY // EXPORT_NODES_PER_STEP)
            charged += EXPORT_CHARGE_EVERY // EXPORT_NODES_PER_STEP
    return count, charged


def export_value(
    value: Any,
    limits: ExportLimits,
    meter: Meter | None = None,
    *,
    sequence: type = tuple,
    shallow_depth: int | None = None,
) -> tuple[Any, bytes, int, bool]:
    """Check ``value`` against the encoding model and ``limits`` — exactly what its decoder
    will accept — and return ``(canonical, encoded, nodes, shallow)``; with ``sequence=list``
    the canonical form has lists for tuples (a fresh plain copy). ``meter`` pays
    ``1 + encoded // BYTES_PER_STEP + nodes // EXPORT_NODES_PER_STEP`` in all. ``shallow``
    says that the fast path took the value and found it at most ``shallow_depth`` deep (the
    fast path then only looks that deep: a deeper value takes the exact walk).

    The exact walk (``_walk``) is iterative, charges ``meter`` as it goes, and stops as soon as
    the value is certainly larger than ``max_bytes``. It is skipped when the fast path shows it
    would not refuse: the fast path visits at most ``FAST_EXPORT_NODES`` nodes (fewer items
    than any list may hold, and fewer than one intermediate charge) above ``max_depth``, and
    every node of the model encodes to at least the size the walk counts for it, so an
    encoding of at most ``max_bytes`` means a walk that reached no limit. The total charge is
    the same on either path.
    """
    max_bytes = limits.max_bytes
    fast_depth = limits.max_depth
    if shallow_depth is not None and shallow_depth < fast_depth:
        fast_depth = shallow_depth
    kind = type(value)
    data: bytes | None
    count = 1
    try:
        if kind is list or kind is tuple or kind is dict:
            canonical, left = _fast_canonical(value, 0, fast_depth, sequence, FAST_EXPORT_NODES)
            count += FAST_EXPORT_NODES - left
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
    charged = 0
    shallow = data is not None
    if data is None or len(data) > max_bytes:
        count, charged = _walk(value, limits, meter)
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
        meter.charge(1 + len(data) // BYTES_PER_STEP + count // EXPORT_NODES_PER_STEP - charged)
    return canonical, data, count, shallow


def count_nodes(value: Any) -> int:
    """The nodes of a decoded value, as ``export_value`` counts them (what decoding made)."""
    kind = type(value)
    if kind is not list and kind is not dict:
        return 1
    count = 1
    stack = [value]
    while stack:
        node = stack.pop()
        children = node.values() if type(node) is dict else node
        count += len(node)
        for child in children:
            if type(child) is list or type(child) is dict:
                stack.append(child)
    return count


def import_args(args: tuple[Any, ...] | list[Any], meter: Meter | None = None) -> list[Any]:
    """The invocation arguments as the contract sees them: plain, canonically ordered copies,
    paid for like any export."""
    total = 0
    nodes = 0
    out = []
    for arg in args:
        plain, data, count, _ = export_value(arg, ARGS_LIMITS, sequence=list)
        total += len(data)
        nodes += count
        if total > MAX_ARGS_BYTES:
            raise LimitExceeded(f"arguments larger than {MAX_ARGS_BYTES} bytes")
        out.append(plain)
    if meter is not None:  # once for all: bounded by the tx's own size
        meter.charge(total // BYTES_PER_STEP + nodes // EXPORT_NODES_PER_STEP)
    return out
