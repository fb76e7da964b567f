"""Introduction: the value model as the sandbox walks it — type sets, sizes and text.

Invariants:
- Every int a contract can hold has at most ``MAX_INT_BITS`` bits (one more after ``~``), so
  its decimal text stays under 640 digits, CPython's smallest ``int_max_str_digits``; every
  digit string parsed is shorter than that too: no outcome depends on how a node configured
  that limit.
- Every container walked here is at most ``MAX_NESTING`` deep, and every operation that makes
  CPython recurse over a container (``==``, ``<``, ``in``, ``repr``, sorting) walks it here
  first, so no C-level recursion can approach the interpreter's recursion limit.
"""

from __future__ import annotations

from decimal import Decimal
from types import GeneratorType, MappingProxyType
from typing import Any

from yulian.contracts.aborts import AccessDenied, InvalidValue, LimitExceeded, ResourceExhausted
from yulian.contracts.costs import (
    BITS_PER_STEP,
    BYTES_PER_STEP,
    CONVERSION_FREE_BITS,
    CONVERSION_TABLE,
    MAX_INT_BITS,
    MAX_NESTING,
    MAX_TEXT_INT_BITS,
    WALK_ITEMS_PER_STEP,
    conversion_steps,
)
from yulian.contracts.meter import Meter

INT_TYPES = (int, bool)
NUMBER_TYPES = frozenset({int, bool, Decimal})
TEXT_TYPES = frozenset({str, bytes})
# Dict keys: types whose hash a contract cannot steer (str and bytes hash with the process's
# secret key; bool and None are three values). An int's hash is the int itself, so int keys
# chosen to share one probe sequence would make every insert and lookup scan them all.
KEY_TYPES = frozenset({str, bytes, bool, type(None)})
KEY_TYPES_TEXT = "str, bytes, bool or None"
# Lookups: any hashable scalar (an int or Decimal equal to True finds the key True); a lookup
# cannot place keys, so it cannot build a probe sequence to scan.
LOOKUP_TYPES = KEY_TYPES | {int, Decimal}
SEQUENCE_TYPES = frozenset({list, tuple})
MAPPING_TYPES = frozenset({dict, MappingProxyType})
CONTAINER_TYPES = SEQUENCE_TYPES | MAPPING_TYPES
LEAF_TYPES = frozenset({int, bool, Decimal, type(None), range})
_REVERSIBLE_SAMPLES: tuple[Any, ...] = ([], (), "", b"", range(0), {})
ITERATOR_TYPES: frozenset[type] = frozenset(
    {enumerate, GeneratorType} | {type(reversed(sample)) for sample in _REVERSIBLE_SAMPLES}
)
SIZED_TYPES = frozenset({list, tuple, str, bytes, dict, MappingProxyType, range})
ITERABLE_TYPES = SIZED_TYPES | ITERATOR_TYPES
REVERSIBLE_TYPES = frozenset({list, tuple, str, bytes, range, dict})
# Items walked between intermediate charges, so a list that shares its sub-lists many times
# over cannot make a walk exponential before the budget notices.
WALK_CHARGE_EVERY = 1024
FREE = 1 << CONVERSION_FREE_BITS  # ints strictly inside +-FREE convert in constant time


def measure(meter: Meter, value: Any, *, text: bool = False) -> tuple[int, int]:
    """Charge for walking ``value`` as CPython would (as a tree) and bound its depth; return
    ``(conversions, decimals)``: what converting its big ints to decimal would cost (comparing
    one with a Decimal converts it; so does writing it as text) and how many Decimals it holds.

    With ``text=True`` the value is about to be turned into text: any leaf whose ``repr`` is
    not deterministic (host objects, functions, iterators) is refused.
    """
    kind = type(value)
    if kind is int:
        return (conversion_steps(value.bit_length()) if not -FREE < value < FREE else 0), 0
    if kind is Decimal:
        return 0, 1
    if kind in LEAF_TYPES:
        return 0, 0
    if kind in TEXT_TYPES:
        meter.charge(len(value) // BYTES_PER_STEP)
        return 0, 0
    # Parallel stacks, not a stack of (node, depth) tuples: a walk allocates nothing per node,
    # so it never wakes the garbage collector over the host's whole heap.
    nodes: list[Any] = [value]
    depths: list[int] = [1]
    items = 0
    chars = 0
    conversions = 0
    decimals = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        kind = type(node)
        if kind in SEQUENCE_TYPES or kind in MAPPING_TYPES:
            if depth > MAX_NESTING:
                raise LimitExceeded(f"containers nested deeper than {MAX_NESTING}")
            items += 1 + len(node)
            if kind in MAPPING_TYPES:
                for key in node:
                    if type(key) in TEXT_TYPES:
                        chars += len(key)
                children = node.values()
            else:
                children = node
            for child in children:
                child_kind = type(child)
                if child_kind in TEXT_TYPES:
                    chars += len(child)
                elif child_kind is int:
                    if not -FREE < child < FREE:
                        conversions += CONVERSION_TABLE[child.bit_length() >> 7]
                        items += 1  # a big int takes a while to compare, too
                elif child_kind is Decimal:
                    decimals += 1
                elif child_kind not in LEAF_TYPES:
                    nodes.append(child)
                    depths.append(depth + 1)
        elif kind not in LEAF_TYPES and text:
            raise AccessDenied("this value cannot be converted to text")
        if items >= WALK_CHARGE_EVERY or chars >= WALK_CHARGE_EVERY * BYTES_PER_STEP:
            meter.charge(items // WALK_ITEMS_PER_STEP + chars // BYTES_PER_STEP)
            items %= WALK_ITEMS_PER_STEP
            chars %= BYTES_PER_STEP
    meter.charge(items // WALK_ITEMS_PER_STEP + chars // BYTES_PER_STEP)
    return conversions, decimals


def mixed_steps(a: tuple[int, int], b: tuple[int, int]) -> int:
    """What comparing two measured values pairwise (``==``, ``<``) may convert: each big int
    at most once, and only if a Decimal is there to meet it."""
    if (a[1] or b[1]) and (a[0] or b[0]):
        return a[0] + b[0]
    return 0


def check_key(key: Any) -> Any:
    """A key about to enter a dict: one of ``KEY_TYPES``."""
    if type(key) not in KEY_TYPES:
        raise InvalidValue(f"dict keys must be {KEY_TYPES_TEXT}")
    return key


def check_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
    return value


def is_wide(text: Any) -> bool:
    """Whether a str may take more than a byte per char (bytes never do)."""
    return type(text) is str and not text.isascii()


def to_text(meter: Meter, value: Any) -> str:
    """``str(value)`` for the value model, deterministic and bounded."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        bits = value.bit_length()
        if bits > MAX_TEXT_INT_BITS:
            raise ResourceExhausted(f"integer larger than {MAX_TEXT_INT_BITS} bits to convert")
        meter.charge(conversion_steps(bits) + bits // BITS_PER_STEP)
        return str(value)
    if kind is bool or value is None or kind is Decimal or kind is range:
        return str(value)
    if kind is bytes:
        meter.charge_chars(4 * len(value))
        return repr(value)  # repr, never str(): -b / -bb must not change the outcome
    before = meter.used
    meter.charge(measure(meter, value, text=True)[0])  # repr converts every big int
    meter.charge(meter.used - before)  # and writes at least what the walk read
    out = repr(value)
    meter.charge_chars(len(out), is_wide(out))
    return out


def range_len(r: range) -> int:
    if r.step > 0:
        return max(0, (r.stop - r.start + r.step - 1) // r.step)
    return max(0, (r.start - r.stop - r.step - 1) // -r.step)
