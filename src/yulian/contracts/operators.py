"""Introduction: the guarded operators — what ``instrument`` calls in place of ``+``, ``==``...

Every binary operator, unary ``-`` and ``~``, every comparison and every f-string field of a
contract runs here. Each works out the cost of its operation from the operands *before*
computing it — the size of a text or container result, the bits of an int result, the
schoolbook product of a multiplication or division, the conversion of a big int that meets a
Decimal, the comparisons of a text search — charges it, and refuses results past the hard
caps of ``costs``. One ``GuardedOps`` serves one invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from yulian.contracts.aborts import AccessDenied, ForbiddenOperation, ResourceExhausted
from yulian.contracts.costs import (
    BITS_PER_STEP,
    BYTES_PER_STEP,
    CONVERSION_FREE_BITS,
    DECIMAL_STEPS,
    FREE_INT_BITS,
    ITEMS_PER_STEP,
    MAX_DECIMAL_EXPONENT_BITS,
    MAX_INT_BITS,
    conversion_steps,
    product_steps,
    search_steps,
)
from yulian.contracts.formatting import format_value
from yulian.contracts.meter import Meter
from yulian.contracts.values import (
    CONTAINER_TYPES,
    INT_TYPES,
    LOOKUP_TYPES,
    MAPPING_TYPES,
    SEQUENCE_TYPES,
    TEXT_TYPES,
    check_key,
    measure,
    mixed_steps,
    range_len,
)


def _pow_bits_floor(base: int, exponent: int) -> int:
    """A lower bound on the bit length of ``base ** exponent`` (0 <= exponent)."""
    bits = abs(base).bit_length()
    if bits <= 1:
        return bits
    return (bits - 1) * exponent + 1


def _too_big() -> ResourceExhausted:
    return ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")


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

    # results and conversions

    def int_result(self, result: int) -> int:
        """A fresh int: refused past ``MAX_INT_BITS``, charged by its size past a few words."""
        bits = result.bit_length()
        if bits > FREE_INT_BITS:
            if bits > MAX_INT_BITS:
                raise _too_big()
            self.meter.charge(bits // BITS_PER_STEP)
        return result

    def number(self, result: Any) -> Any:
        """A fresh number of any kind (an int, or a Decimal of a context operation)."""
        kind = type(result)
        if kind is int:
            return self.int_result(result)
        if kind is Decimal:
            self.meter.charge(DECIMAL_STEPS)
        return result

    def mixed(self, a: Any, b: Any) -> None:
        """Charge for the conversion an int undergoes when it meets a Decimal."""
        ka, kb = type(a), type(b)
        if ka is Decimal and kb in INT_TYPES:
            bits = b.bit_length()
        elif kb is Decimal and ka in INT_TYPES:
            bits = a.bit_length()
        else:
            return
        if bits > CONVERSION_FREE_BITS:
            self.meter.charge(conversion_steps(bits))

    def _charge_result(self, a: Any, b: Any, n: int) -> None:
        """A text or sequence result of ``n`` chars or items, made of ``a`` and ``b``."""
        kind = type(a)
        if kind is str:
            self.meter.charge_chars(n, not (a.isascii() and b.isascii()))
        elif kind is bytes:
            self.meter.charge_chars(n)
        else:
            self.meter.charge_items(n)

    # arithmetic

    def add(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka is int and kb is int:
            return self.int_result(a + b)
        if ka is kb and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(a, b, len(a) + len(b))
            return a + b
        self.mixed(a, b)
        return self.number(a + b)

    def sub(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            return self.int_result(a - b)
        self.mixed(a, b)
        return self.number(a - b)

    def mul(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            bits_a, bits_b = a.bit_length(), b.bit_length()
            if bits_a + bits_b > MAX_INT_BITS + 1:
                raise _too_big()
            if bits_a + bits_b > FREE_INT_BITS:
                self.meter.charge(product_steps(bits_a, bits_b))
            return self.int_result(a * b)
        if ka in INT_TYPES and (kb in TEXT_TYPES or kb in SEQUENCE_TYPES):
            a, b, ka, kb = b, a, kb, ka
        if kb in INT_TYPES and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(a, a, len(a) * max(b, 0))
            return a * b
        self.mixed(a, b)
        return self.number(a * b)

    def divide(self, a: Any, b: Any) -> None:
        """Charge for ``a // b`` or ``a % b`` (schoolbook: quotient size times divisor size)."""
        if type(a) in INT_TYPES and type(b) in INT_TYPES:
            bits_a, bits_b = a.bit_length(), b.bit_length()
            if bits_a > FREE_INT_BITS:  # a pass over the dividend, and the schoolbook product
                quotient = max(bits_a - bits_b, 0) + 1
                self.meter.charge(bits_a // BITS_PER_STEP + product_steps(quotient, bits_b))
        else:
            self.mixed(a, b)

    def floordiv(self, a: Any, b: Any) -> Any:
        self.divide(a, b)
        return self.number(a // b)

    def mod(self, a: Any, b: Any) -> Any:
        if type(a) in TEXT_TYPES:
            raise ForbiddenOperation("%-formatting is not allowed; use an f-string")
        self.divide(a, b)
        return self.number(a % b)

    def pow(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            if b < 0:
                raise ForbiddenOperation("negative integer exponent (the result is a float)")
            bits = _pow_bits_floor(a, b)
            if bits > MAX_INT_BITS:
                self.meter.charge(1 + MAX_INT_BITS // BITS_PER_STEP)
                raise _too_big()
            # squarings of a growing number: about a third of the last square's work
            self.meter.charge(1 + product_steps(bits, bits) // 3)
            return self.int_result(a**b)
        if ka is Decimal or kb is Decimal:
            exponent = b
            if kb is Decimal:
                if b != b.to_integral_value():
                    raise ForbiddenOperation("Decimal powers need an integral exponent")
                exponent = int(b)
            if type(exponent) not in INT_TYPES or exponent.bit_length() > MAX_DECIMAL_EXPONENT_BITS:
                raise ForbiddenOperation("Decimal powers need an integral exponent")
            self.mixed(a, b)
            self.meter.charge(exponent.bit_length())  # a square and a product per bit
            return self.number(a**b)
        return a**b  # raises TypeError for everything else in the value model

    def lshift(self, a: Any, b: Any) -> Any:
        if type(a) in INT_TYPES and type(b) in INT_TYPES and b > 0 and a:
            bits = a.bit_length() + b
            self.meter.charge(1 + bits // BITS_PER_STEP)
            if bits > MAX_INT_BITS:
                raise _too_big()
        return a << b

    def rshift(self, a: Any, b: Any) -> Any:
        return self.number(a >> b)

    def bitor(self, a: Any, b: Any) -> Any:
        if type(a) in MAPPING_TYPES and type(b) in MAPPING_TYPES:
            self.meter.charge_items(len(a) + len(b))
            return a | b
        return self.number(a | b)

    def bitand(self, a: Any, b: Any) -> Any:
        return self.number(a & b)

    def bitxor(self, a: Any, b: Any) -> Any:
        return self.number(a ^ b)

    def neg(self, a: Any) -> Any:
        return self.number(-a)

    def invert(self, a: Any) -> Any:
        return self.number(~a)

    # comparisons

    def _compare_containers(self, a: Any, b: Any) -> None:
        self.meter.charge(mixed_steps(measure(self.meter, a), measure(self.meter, b)))

    def eq(self, a: Any, b: Any) -> bool:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            if len(a) != len(b):
                return False
            if len(a) >= BYTES_PER_STEP:
                self.meter.charge(len(a) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            self._compare_containers(a, b)
        elif ka is not kb:
            self.mixed(a, b)
        return bool(a == b)

    def ne(self, a: Any, b: Any) -> bool:
        return not self.eq(a, b)

    def _order(self, a: Any, b: Any) -> None:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            if len(a) >= BYTES_PER_STEP and len(b) >= BYTES_PER_STEP:
                self.meter.charge(min(len(a), len(b)) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            self._compare_containers(a, b)
        elif ka is not kb:
            self.mixed(a, b)

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
        """``needle in haystack``, charged for the scan or search it performs."""
        kind = type(haystack)
        if kind in TEXT_TYPES:
            same = type(needle) is kind
            steps = search_steps(len(haystack), len(needle) if same else 0, backward=False)
            self.meter.charge(steps)
            return needle in haystack
        if kind in MAPPING_TYPES:
            return self.lookup_key(needle) and needle in haystack
        if kind in SEQUENCE_TYPES:
            self.charge_scan(needle, haystack)
            return needle in haystack
        if kind is range:
            if type(needle) not in INT_TYPES:
                self.meter.charge(1 + range_len(haystack) // ITEMS_PER_STEP)
            return needle in haystack
        raise AccessDenied("'in' is not supported on this value")

    def not_contains(self, needle: Any, haystack: Any) -> bool:
        return not self.contains(needle, haystack)

    def charge_scan(self, needle: Any, haystack: Any) -> None:
        """Charge for comparing ``needle`` with every item of ``haystack`` (``in``, ``index``,
        ``count``, ``remove``): the walk of the needle per item, and the conversions of big
        ints that meet Decimals on either side."""
        count = len(haystack)
        kind = type(needle)
        if kind in CONTAINER_TYPES:
            before = self.meter.used
            conversions, decimals = measure(self.meter, needle)
            per_item = 1 + (self.meter.used - before)
        elif kind in TEXT_TYPES:
            conversions, decimals = 0, 0
            per_item = 1 + len(needle) // BYTES_PER_STEP
        else:
            conversions, decimals = measure(self.meter, needle)
            per_item = 1
        self.meter.charge(1 + count * per_item // ITEMS_PER_STEP)
        if conversions or decimals:
            items_conversions, items_decimals = measure(self.meter, haystack)
            if decimals:
                self.meter.charge(items_conversions)
            if items_decimals:
                self.meter.charge(min(count, items_decimals) * conversions)

    def lookup_key(self, key: Any) -> bool:
        """True if ``key`` may be hashed for a lookup; False if it cannot be a key at all.

        Only scalar keys are ever stored, so a tuple is simply absent (and never hashed: a
        deeply nested tuple would overflow the C stack in ``hash``). A text key is charged by
        its length: an equal key of another object is compared char by char.
        """
        kind = type(key)
        if kind in LOOKUP_TYPES:
            if (kind is str or kind is bytes) and len(key) >= BYTES_PER_STEP:
                self.meter.charge(len(key) // BYTES_PER_STEP)
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

    def key(self, key: Any) -> Any:
        """A key in a dict display or comprehension: ``KEY_TYPES`` only, text by its length."""
        if type(check_key(key)) in TEXT_TYPES and len(key) >= BYTES_PER_STEP:
            self.meter.charge(len(key) // BYTES_PER_STEP)
        return key

    def fmt(self, value: Any, spec: str, conversion: str) -> str:
        return format_value(self.meter, value, spec, conversion)
