"""Introduction: the guarded operators — what ``instrument`` calls in place of ``+``, ``==``...

Operations whose cost grows with their operands (``+ - * ** << % |``, comparisons, f-string
formatting) work out the size of the result *before* computing it, charge in proportion, and
refuse results past the hard caps of ``costs``. One ``GuardedOps`` serves one invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from yulian.contracts.aborts import (
    AccessDenied,
    ForbiddenOperation,
    InvalidValue,
    ResourceExhausted,
)
from yulian.contracts.costs import BITS_PER_STEP, BYTES_PER_STEP, ITEMS_PER_STEP, MAX_INT_BITS
from yulian.contracts.formatting import format_value
from yulian.contracts.meter import Meter
from yulian.contracts.values import (
    CONTAINER_TYPES,
    INT_TYPES,
    KEY_TYPES,
    LOOKUP_TYPES,
    MAPPING_TYPES,
    SEQUENCE_TYPES,
    TEXT_TYPES,
    check_int,
    measure,
    range_len,
)


def _pow_bits_floor(base: int, exponent: int) -> int:
    """A lower bound on the bit length of ``base ** exponent`` (0 <= exponent)."""
    bits = abs(base).bit_length()
    if bits <= 1:
        return bits
    return (bits - 1) * exponent + 1


class GuardedOps:
    """The helpers ``instrument`` calls in place of operators; one instance per invocation."""

    __slots__ = ("compare_ops", "meter")

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.compare_ops: dict[str, Callable[[Any, Any], bool]] = {
            "eq": self.eq,
            "ne": self.ne,
            "lt": self.lt,
            "le": self.le,
            "gt": self.gt,
            "ge": self.ge,
            "in": self.contains,
            "notin": self.not_contains,
        }

    # arithmetic

    def add(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka is int and kb is int:
            return check_int(a + b)
        if ka is kb and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(ka, len(a) + len(b))
            return a + b
        return self._number(a + b)

    def sub(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            return check_int(a - b)
        return self._number(a - b)

    def mul(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
            self.meter.charge((a.bit_length() + b.bit_length()) // BITS_PER_STEP)
            return check_int(a * b)
        if ka in INT_TYPES and (kb in TEXT_TYPES or kb in SEQUENCE_TYPES):
            a, b, ka, kb = b, a, kb, ka
        if kb in INT_TYPES and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(ka, len(a) * max(b, 0))
            return a * b
        return self._number(a * b)

    def pow(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            if b < 0:
                raise ForbiddenOperation("negative integer exponent (the result is a float)")
            bits = _pow_bits_floor(a, b)
            self.meter.charge(1 + bits // BITS_PER_STEP)
            if bits > MAX_INT_BITS:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
            return check_int(a**b)
        if ka is Decimal or kb is Decimal:
            exponent = b
            if kb is Decimal:
                if b != b.to_integral_value():
                    raise ForbiddenOperation("Decimal powers need an integral exponent")
                exponent = int(b)
            if type(exponent) not in INT_TYPES or exponent.bit_length() > 64:
                raise ForbiddenOperation("Decimal powers need an integral exponent")
            return a**b
        return a**b  # raises TypeError for everything else in the value model

    def lshift(self, a: Any, b: Any) -> Any:
        if type(a) in INT_TYPES and type(b) in INT_TYPES and b > 0 and a:
            bits = a.bit_length() + b
            self.meter.charge(1 + bits // BITS_PER_STEP)
            if bits > MAX_INT_BITS:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if type(a) in TEXT_TYPES:
            raise ForbiddenOperation("%-formatting is not allowed; use an f-string")
        return a % b

    def bitor(self, a: Any, b: Any) -> Any:
        if type(a) in MAPPING_TYPES and type(b) in MAPPING_TYPES:
            self.meter.charge_items(len(a) + len(b))
        return a | b

    def _charge_result(self, kind: type, n: int) -> None:
        if kind in TEXT_TYPES:
            self.meter.charge_chars(n)
        else:
            self.meter.charge_items(n)

    @staticmethod
    def _number(result: Any) -> Any:
        if type(result) is int:
            check_int(result)
        return result

    # comparisons

    def eq(self, a: Any, b: Any) -> bool:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            if len(a) != len(b):
                return False
            self.meter.charge(len(a) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            measure(self.meter, a)
            measure(self.meter, b)
        return bool(a == b)

    def ne(self, a: Any, b: Any) -> bool:
        return not self.eq(a, b)

    def _order(self, a: Any, b: Any) -> None:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            self.meter.charge(min(len(a), len(b)) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            measure(self.meter, a)
            measure(self.meter, b)

    def lt(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a < b
        self._order(a, b)
        return bool(a < b)

    def le(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a <= b
        self._order(a, b)
        return bool(a <= b)

    def gt(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a > b
        self._order(a, b)
        return bool(a > b)

    def ge(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a >= b
        self._order(a, b)
        return bool(a >= b)

    def contains(self, needle: Any, haystack: Any) -> bool:
        """``needle in haystack``, charged for the scan it performs."""
        kind = type(haystack)
        if kind in TEXT_TYPES:
            scanned = len(haystack) + (len(needle) if type(needle) is kind else 0)
            self.meter.charge(scanned // BYTES_PER_STEP)
            return needle in haystack
        if kind in MAPPING_TYPES:
            return self.lookup_key(needle) and needle in haystack
        if kind in SEQUENCE_TYPES:
            self.charge_scan(needle, len(haystack))
            return needle in haystack
        if kind is range:
            if type(needle) not in INT_TYPES:
                self.meter.charge(1 + range_len(haystack) // ITEMS_PER_STEP)
            return needle in haystack
        raise AccessDenied("'in' is not supported on this value")

    def not_contains(self, needle: Any, haystack: Any) -> bool:
        return not self.contains(needle, haystack)

    def charge_scan(self, needle: Any, count: int) -> None:
        """Charge for comparing ``needle`` against ``count`` items (``in``, ``index``...)."""
        kind = type(needle)
        if kind in CONTAINER_TYPES:
            before = self.meter.used
            measure(self.meter, needle)
            per_item = 1 + (self.meter.used - before)
        elif kind in TEXT_TYPES:
            per_item = 1 + len(needle) // BYTES_PER_STEP
        else:
            per_item = 1
        self.meter.charge(1 + count * per_item // ITEMS_PER_STEP)

    @staticmethod
    def lookup_key(key: Any) -> bool:
        """True if ``key`` may be hashed for a lookup; False if it cannot be a key at all.

        Only scalar keys are ever stored, so a tuple is simply absent (and never hashed: a
        deeply nested tuple would overflow the C stack in ``hash``).
        """
        kind = type(key)
        if kind in LOOKUP_TYPES:
            return True
        if kind is tuple:
            return False
        raise TypeError(f"unhashable type: '{kind.__name__}'")

    def chain(self, left: Any, ops: tuple[str, ...], *rights: Callable[[], Any]) -> bool:
        """``a < b < c``: each right operand is a thunk, evaluated only when still needed."""
        compare = self.compare_ops
        for op, thunk in zip(ops, rights, strict=True):
            right = thunk()
            if not compare[op](left, right):
                return False
            left = right
        return True

    # displays and f-strings

    @staticmethod
    def key(key: Any) -> Any:
        """A key in a dict display or comprehension: scalars only."""
        if type(key) not in KEY_TYPES:
            raise InvalidValue("dict keys must be str, int, bytes, bool or None")
        return key

    def fmt(self, value: Any, spec: str, conversion: str) -> str:
        return format_value(self.meter, value, spec, conversion)
