"""Introduction: the builtins a contract may call, each metered and deterministic.

``BUILTIN_NAMES`` is the whole list; ``bind_builtins`` binds them to one invocation's
``Environment``. The type names (``int``, ``str``, ``dict``...) are bound to metered
constructors, which also stand for their type in ``isinstance``.

Invariants:
- No float is reachable: no ``float``, no true division, no negative ``**`` on ints, no float
  presentation types for ints, no ``Decimal.__float__``.
- ``Decimal`` runs in ``DECIMAL_CONTEXT`` (installed per invocation by the runtime): 28 digits,
  exponents within +-999, half-even rounding, and traps for invalid operations, division by
  zero, overflow and floats. ``Decimal()`` rounds its input into that context and refuses
  NaN and infinities.
- ``int()`` and ``Decimal()`` accept ASCII digits only, so number parsing does not depend on
  the Unicode database; case mapping and character classes (``str.upper``, ``str.isdigit``...)
  do, so the consortium pins the CPython version.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from yulian.contracts.aborts import AccessDenied, InvalidValue, LimitExceeded, ResourceExhausted
from yulian.contracts.costs import (
    BUILTIN_STEPS,
    BYTES_PER_STEP,
    DECIMAL_STEPS,
    DECIMAL_TO_INT_FACTOR,
    FRESH_OBJECT_STEPS,
    ITEMS_PER_STEP,
    MAX_DECIMAL_INT_DIGITS,
    MAX_DECIMAL_TEXT_CHARS,
    MAX_INT_TEXT_CHARS,
    MAX_RANGE_BITS,
    TYPE_CHECKS_PER_STEP,
    conversion_steps,
    int_steps,
)
from yulian.contracts.methods import bytes_decode, dict_update, str_encode
from yulian.contracts.values import (
    FREE,
    ITERABLE_TYPES,
    NUMBER_TYPES,
    REVERSIBLE_TYPES,
    TEXT_TYPES,
    to_text,
)

if TYPE_CHECKING:
    from yulian.contracts.guards import Environment

DECIMAL_CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999,
    Emax=999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.FloatOperation,
    ],
)
BUILTIN_NAMES = frozenset(
    [
        "Decimal",
        "abs",
        "all",
        "any",
        "bool",
        "bytes",
        "chr",
        "dict",
        "divmod",
        "enumerate",
        "hex",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "ord",
        "range",
        "reversed",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    ]
)
# Python's other builtins: reserved, so a contract can neither use nor bind them
DENIED_NAMES = frozenset(
    [
        "__import__",
        "ascii",
        "breakpoint",
        "builtins",
        "bytearray",
        "callable",
        "classmethod",
        "compile",
        "complex",
        "copyright",
        "credits",
        "delattr",
        "dir",
        "eval",
        "exec",
        "exit",
        "filter",
        "float",
        "format",
        "frozenset",
        "getattr",
        "globals",
        "hasattr",
        "hash",
        "help",
        "id",
        "input",
        "issubclass",
        "iter",
        "license",
        "locals",
        "map",
        "memoryview",
        "next",
        "object",
        "open",
        "pow",
        "print",
        "printed",
        "property",
        "quit",
        "repr",
        "round",
        "set",
        "setattr",
        "slice",
        "staticmethod",
        "super",
        "type",
        "vars",
    ]
)
_MISSING: Any = object()
BITS_PER_DIGIT = 4  # bits of an int per digit of its text, rounded up (log2 10 = 3.32)
MAX_ZIP_ITERABLES = 8  # zip makes a tuple of this many per item
RANGE_BOUND = 1 << MAX_RANGE_BITS


def check_iterable(it: Any) -> Any:
    if type(it) not in ITERABLE_TYPES:
        raise AccessDenied("this value cannot be iterated")
    return it


def all_(env: Environment, iterable: Any) -> bool:
    return all(env.getiter_(iterable))


def any_(env: Environment, iterable: Any) -> bool:
    return any(env.getiter_(iterable))


def bytes_(
    env: Environment, source: Any = b"", encoding: Any = None, errors: Any = "strict"
) -> bytes:
    kind = type(source)
    if encoding is not None:
        if kind is not str:
            raise TypeError("encoding without a string argument")
        return str_encode(env, source, encoding, errors)
    if kind is bytes:
        return source
    if kind is int or kind is bool:
        if source < 0:
            raise ValueError("negative count")
        env.meter.charge_chars(source)
        return bytes(source)
    if kind is str:
        raise TypeError("string argument without an encoding")
    return bytes(env.materialize(source))


def decimal_(env: Environment, value: Any = "0") -> Decimal:
    kind = type(value)
    if kind is str:
        if len(value) > MAX_DECIMAL_TEXT_CHARS:
            raise ResourceExhausted(f"Decimal text longer than {MAX_DECIMAL_TEXT_CHARS}")
        if not value.isascii():
            raise InvalidValue("Decimal() takes ASCII digits only")
    elif kind not in NUMBER_TYPES:
        raise InvalidValue("Decimal() takes a str, an int or a Decimal")
    if kind is str:
        env.meter.charge(len(value) // BYTES_PER_STEP)
    elif kind is int and not -FREE < value < FREE:
        env.meter.charge(conversion_steps(value.bit_length()))
    env.meter.charge(DECIMAL_STEPS)
    result = decimal.getcontext().create_decimal(value)
    if not result.is_finite():
        raise InvalidValue("Decimal values must be finite")
    return result


def dict_(env: Environment, source: Any = None, /, **kwargs: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    if source is not None:
        dict_update(env, out, source)
    if kwargs:
        dict_update(env, out, kwargs)
    return out


def enumerate_(iterable: Any, start: Any = 0) -> Any:
    _check_machine_int(start, "enumerate() start")
    return enumerate(check_iterable(iterable), start)


def extreme(
    env: Environment, pick: Any, *args: Any, key: Any = None, default: Any = _MISSING
) -> Any:
    """``max`` / ``min``: the first extreme item, as the builtins define it."""
    if not args:
        raise TypeError("expected at least one argument")
    items = env.materialize(args[0]) if len(args) == 1 else list(args)
    if not items:
        if default is _MISSING:
            raise ValueError("empty sequence")
        return default
    keys = items if key is None else [key(item) for item in items]
    env.charge_keys(keys, 1)
    env.meter.charge(BUILTIN_STEPS + len(keys) // ITEMS_PER_STEP)
    return items[pick(range(len(keys)), key=keys.__getitem__)]


def int_(env: Environment, value: Any = 0, base: Any = None) -> int:
    kind = type(value)
    if base is None:
        if kind is int or kind is bool:
            return int(value)
        if kind is Decimal:
            digits = value.adjusted() + 1
            if digits > MAX_DECIMAL_INT_DIGITS:
                raise ResourceExhausted(f"Decimal with more than {MAX_DECIMAL_INT_DIGITS} digits")
            env.meter.charge(DECIMAL_TO_INT_FACTOR * conversion_steps(digits * BITS_PER_DIGIT))
            return env.ops.int_result(int(value))
        base = 10
    if kind not in TEXT_TYPES:
        raise TypeError("int() with a base needs a str or bytes")
    if len(value) > MAX_INT_TEXT_CHARS:
        raise ResourceExhausted(f"integer text longer than {MAX_INT_TEXT_CHARS}")
    if not value.isascii():
        raise ValueError("int() takes ASCII digits only")
    env.meter.charge(conversion_steps(len(value) * BITS_PER_DIGIT))
    return env.ops.int_result(int(value, base))


def isinstance_(env: Environment, obj: Any, spec: Any) -> bool:
    if type(spec) is tuple:
        env.meter.charge(len(spec) // TYPE_CHECKS_PER_STEP)
        real = tuple(_real_type(env, s) for s in spec)
        return isinstance(obj, real)
    return isinstance(obj, _real_type(env, spec))


def _real_type(env: Environment, token: Any) -> type:
    try:
        return env.type_tokens[token]
    except (KeyError, TypeError):
        raise TypeError(
            "isinstance() takes int, str, bytes, bool, list, tuple, dict, Decimal"
        ) from None


def list_(env: Environment, iterable: Any = ()) -> list[Any]:
    return env.materialize(iterable)


def range_(*args: Any) -> range:
    for arg in args:
        _check_machine_int(arg, "range() bounds")
    return range(*args)


def reversed_(seq: Any) -> Any:
    if type(seq) not in REVERSIBLE_TYPES:
        raise AccessDenied("this value cannot be reversed")
    return reversed(seq)


def sorted_(env: Environment, iterable: Any, *, key: Any = None, reverse: Any = False) -> list[Any]:
    return env.sort_items(env.materialize(iterable), key, reverse)


def str_(env: Environment, value: Any = "", encoding: Any = None, errors: Any = "strict") -> str:
    if encoding is not None:
        if type(value) is not bytes:
            raise TypeError("decoding needs bytes")
        return bytes_decode(env, value, encoding, errors)
    return to_text(env.meter, value)


def sum_(env: Environment, iterable: Any, start: Any = 0) -> Any:
    """Each addition makes a number as big as its operands: big ints are charged by size,
    Decimals by count, and a big int added to a Decimal by its conversion."""
    items = env.materialize(iterable)
    sizes = conversions = decimals = 0
    for item in (start, *items):
        kind = type(item)
        if kind is int:
            if not -FREE < item < FREE:
                bits = item.bit_length()
                sizes += int_steps(bits)
                conversions += conversion_steps(bits)
        elif kind is Decimal:
            decimals += 1
        elif kind is not bool:
            raise TypeError("sum() adds numbers only")
    env.meter.charge(sizes + decimals * DECIMAL_STEPS + (conversions if decimals else 0))
    return env.ops.number(sum(items, start))


def tuple_(env: Environment, iterable: Any = ()) -> tuple[Any, ...]:
    return tuple(env.materialize(iterable))


def zip_(env: Environment, *iterables: Any, strict: Any = False) -> Any:
    """zip, charging for each tuple it makes (and for the fresh ints a range in it makes)."""
    if len(iterables) > MAX_ZIP_ITERABLES:
        raise LimitExceeded(f"zip() takes at most {MAX_ZIP_ITERABLES} iterables")
    source = zip(*(check_iterable(it) for it in iterables), strict=bool(strict))
    return env.metered(source, FRESH_OBJECT_STEPS * (1 + len(iterables) // 2))


def abs_(env: Environment, value: Any) -> Any:
    return env.ops.number(abs(value))


def divmod_(env: Environment, a: Any, b: Any) -> tuple[Any, Any]:
    env.ops.divide(a, b)
    quotient, remainder = divmod(a, b)
    return env.ops.number(quotient), env.ops.number(remainder)


def hex_(env: Environment, value: Any) -> str:
    if type(value) in (int, bool):
        env.meter.charge_chars(value.bit_length() // 4 + 3)
    return hex(value)


def _check_machine_int(value: Any, what: str) -> None:
    """``range`` and ``enumerate`` make an int per item: machine-size ones only."""
    if type(value) is not int and type(value) is not bool:
        raise TypeError(f"{what} must be integers")
    if not -RANGE_BOUND < value < RANGE_BOUND:
        raise LimitExceeded(f"{what} must be within +-2**{MAX_RANGE_BITS}")


def bind_builtins(env: Environment) -> tuple[dict[str, Any], dict[Any, type]]:
    """``BUILTIN_NAMES`` bound to ``env``, and the type tokens among them (token -> type)."""
    types: dict[str, tuple[Any, type]] = {
        "bool": (bool, bool),
        "bytes": (partial(bytes_, env), bytes),
        "dict": (partial(dict_, env), dict),
        "int": (partial(int_, env), int),
        "list": (partial(list_, env), list),
        "str": (partial(str_, env), str),
        "tuple": (partial(tuple_, env), tuple),
        "Decimal": (partial(decimal_, env), Decimal),
    }
    builtins: dict[str, Any] = {name: token for name, (token, _) in types.items()}
    builtins.update(
        abs=partial(abs_, env),
        all=partial(all_, env),
        any=partial(any_, env),
        chr=chr,
        divmod=partial(divmod_, env),
        enumerate=enumerate_,
        hex=partial(hex_, env),
        isinstance=partial(isinstance_, env),
        len=len,
        max=partial(extreme, env, max),
        min=partial(extreme, env, min),
        ord=ord,
        range=range_,
        reversed=reversed_,
        sorted=partial(sorted_, env),
        sum=partial(sum_, env),
        zip=partial(zip_, env),
    )
    assert set(builtins) == BUILTIN_NAMES
    return builtins, {token: real for token, real in types.values()}
