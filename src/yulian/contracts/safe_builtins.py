"""Introduction: the deterministic builtins and the RestrictedPython guards.

A contract's globals hold only what ``Environment.namespace`` puts there: a short list of
builtins (``BUILTIN_NAMES``), ``Decimal``, and the guard functions RestrictedPython's
transformer calls (``_getattr_``, ``_getitem_``, ``_write_``, ``_getiter_``,
``_unpack_sequence_``, ``_iter_unpack_sequence_``, ``_inplacevar_``) plus the metering helpers.

Invariants:
- Attribute access is an allowlist per exact type (``METHODS``, plus the host's own table);
  anything else, on anything else, is a deterministic ``AccessDenied``. Methods come back
  wrapped so that their cost is charged and their output bounded before it is returned.
- Everything that consumes an iterable (loops, comprehensions, unpacking, ``list()``,
  ``sorted()``, ``sum()``, ``str.join``, ``list.extend``...) goes through ``getiter_`` or
  ``materialize``: one charge per item, so no C loop runs unmetered.
- Every in-place change to a list or dict goes through a guard here, which counts it on the
  meter first (``Meter.mutations``), so the host can tell that a value it exported is unchanged.
- Dict keys are scalars (str, int, bool, bytes, None) at every place a key can enter a dict,
  so hashing never recurses into a nested tuple and dict order is insertion order only.
- No float is reachable: no ``float``, no true division, no negative ``**`` on ints, no float
  presentation types for ints, no ``Decimal.__float__``.
- ``Decimal`` runs in ``DECIMAL_CONTEXT`` (installed per invocation by the runtime): 28 digits,
  exponents within +-999, half-even rounding, and traps for invalid operations, division by
  zero, overflow and floats. ``Decimal()`` rounds its input into that context and refuses
  NaN and infinities.

Case mapping and character classes (``str.upper``, ``str.isdigit``...) follow the Unicode
database of the CPython in use, so the consortium pins the CPython version; ``int()`` and
``Decimal()`` accept ASCII digits only, so number parsing does not depend on it.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial, wraps
from types import MappingProxyType
from typing import Any

from yulian.contracts.metering import (
    BYTES_PER_STEP,
    CONTAINER_TYPES,
    ITEMS_PER_STEP,
    KEY_TYPES,
    MAPPING_TYPES,
    MAX_CONTAINER_LEN,
    NUMBER_TYPES,
    SEQUENCE_TYPES,
    TEXT_TYPES,
    AccessDenied,
    ForbiddenOperation,
    GuardedOps,
    InvalidValue,
    Meter,
    ResourceExhausted,
    check_int,
    helper_table,
    measure,
    range_len,
    to_text,
)

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
MAX_INT_TEXT_CHARS = 600  # int('...'): under CPython's smallest int_max_str_digits (640)
MAX_DECIMAL_TEXT_CHARS = 1000
MAX_DECIMAL_INT_DIGITS = 600  # int(Decimal): at most ~2000 bits
CODECS = frozenset({"utf-8", "utf8", "ascii"})
CODEC_ERRORS = frozenset({"strict", "replace", "ignore"})

_REVERSIBLE_SAMPLES: tuple[Any, ...] = ([], (), "", b"", range(0), {})
ITERATOR_TYPES: frozenset[type] = frozenset(
    {enumerate, zip} | {type(reversed(sample)) for sample in _REVERSIBLE_SAMPLES}
)
SIZED_TYPES = frozenset({list, tuple, str, bytes, dict, MappingProxyType, range})
ITERABLE_TYPES = SIZED_TYPES | ITERATOR_TYPES
REVERSIBLE_TYPES = frozenset({list, tuple, str, bytes, range, dict})

BUILTIN_NAMES = frozenset(
    {
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
    }
)

_MISSING: Any = object()
_INPLACE: dict[str, str] = {
    "+=": "add",
    "-=": "sub",
    "*=": "mul",
    "**=": "pow",
    "<<=": "lshift",
    "%=": "mod",
    "|=": "bitor",
}
_INPLACE_NATIVE: dict[str, Callable[[Any, Any], Any]] = {
    "//=": operator.floordiv,
    ">>=": operator.rshift,
    "&=": operator.and_,
    "^=": operator.xor,
}


def _check_codec(encoding: Any, errors: Any) -> None:
    if encoding not in CODECS or errors not in CODEC_ERRORS:
        raise AccessDenied("only the utf-8 and ascii codecs are available")


def _mutating(method: Callable[..., Any]) -> Callable[..., Any]:
    """An ``Environment`` method that changes a container in place: it counts the change on
    the meter first (see ``Meter.mutations``)."""

    @wraps(method)
    def counted(env: Environment, *args: Any, **kwargs: Any) -> Any:
        env.meter.mutations += 1
        return method(env, *args, **kwargs)

    return counted


class _ItemWriter:
    """What ``_write_(obj)`` returns: item assignment and deletion, checked and charged."""

    __slots__ = ("_env", "_target")

    def __init__(self, env: Environment, target: list[Any] | dict[Any, Any]) -> None:
        self._env = env
        self._target = target

    def __setitem__(self, key: Any, value: Any) -> None:
        target, meter = self._target, self._env.meter
        meter.mutations += 1
        if type(target) is dict:
            if type(key) not in KEY_TYPES:
                raise InvalidValue("dict keys must be str, int, bytes, bool or None")
            if key not in target and len(target) >= MAX_CONTAINER_LEN:
                raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")
            meter.charge(1)
            target[key] = value
        elif type(key) is slice:
            items = self._env.materialize(value)
            removed = len(range(len(target))[key])
            meter.charge_items(len(target) + len(items))
            if len(target) - removed + len(items) > MAX_CONTAINER_LEN:
                raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")
            target[key] = items
        else:
            meter.charge(1)
            target[key] = value

    def __delitem__(self, key: Any) -> None:
        target, meter = self._target, self._env.meter
        meter.mutations += 1
        if type(target) is dict and not GuardedOps.lookup_key(key):
            raise KeyError("absent key")
        meter.charge(1 + len(target) // ITEMS_PER_STEP)
        del target[key]


class Environment:
    """Builtins and guards of one invocation, all charging the same ``Meter``."""

    def __init__(self, meter: Meter, host_attributes: Mapping[type, frozenset[str]]) -> None:
        self.meter = meter
        self.ops = GuardedOps(meter)
        self.host_attributes = host_attributes
        # exact type -> attribute -> its factory, or None for a host attribute read as it is;
        # the value-model types come last, so their method tables win over a host table
        self.attributes: dict[type, dict[str, MethodFactory | None]] = {
            kind: dict.fromkeys(names) for kind, names in host_attributes.items()
        }
        self.attributes.update({kind: dict(table) for kind, table in METHODS.items()})
        self.type_tokens: dict[Any, type] = {}
        self.inplace: dict[str, Callable[[Any, Any], Any]] = {
            op: getattr(self.ops, name) for op, name in _INPLACE.items()
        }
        self.inplace.update(_INPLACE_NATIVE)
        self._builtins: dict[str, Any] | None = None
        # the loaded module of the contract this environment serves, kept by the runtime when
        # nothing its module level binds can change
        self.module: dict[str, Any] | None = None

    def reset(self, step_limit: int) -> None:
        """Ready this environment for another invocation: a fresh budget and call depth.

        Everything else an environment holds is bound once and never changed by a contract
        (the builtins are out of a contract's reach: no dunder names), so a runtime may keep
        environments for reuse instead of binding ~60 guards per call."""
        if step_limit <= 0:
            raise ValueError("step limit must be positive")
        self.meter.limit = step_limit
        self.meter.used = 0
        self.meter.depth = 0

    def namespace(self) -> dict[str, Any]:
        """Fresh globals for one execution of a contract module (the builtins are bound once
        per environment)."""
        if self._builtins is None:
            self._builtins = self._bind_builtins()
        return {"__builtins__": self._builtins, "__name__": "contract"}

    def _bind_builtins(self) -> dict[str, Any]:
        types: dict[str, tuple[Any, type]] = {
            "bool": (bool, bool),
            "bytes": (self.bytes_, bytes),
            "dict": (self.dict_, dict),
            "int": (self.int_, int),
            "list": (self.list_, list),
            "str": (self.str_, str),
            "tuple": (self.tuple_, tuple),
            "Decimal": (self.decimal_, Decimal),
        }
        self.type_tokens = {token: real for token, real in types.values()}
        builtins: dict[str, Any] = {name: token for name, (token, _) in types.items()}
        builtins.update(
            abs=abs,
            all=self.all_,
            any=self.any_,
            chr=chr,
            divmod=divmod,
            enumerate=self.enumerate_,
            hex=hex,
            isinstance=self.isinstance_,
            len=len,
            max=partial(self.extreme, max),
            min=partial(self.extreme, min),
            ord=ord,
            range=self.range_,
            reversed=self.reversed_,
            sorted=self.sorted_,
            sum=self.sum_,
            zip=self.zip_,
        )
        assert set(builtins) == BUILTIN_NAMES
        builtins.update(
            _getattr_=self.getattr_,
            _getitem_=self.getitem_,
            _write_=self.write_,
            _getiter_=self.getiter_,
            _unpack_sequence_=self.unpack_sequence_,
            _iter_unpack_sequence_=self.iter_unpack_sequence_,
            _inplacevar_=self.inplacevar_,
        )
        builtins.update(helper_table(self.ops))
        return builtins

    # --- RestrictedPython guards ----------------------------------------------------------

    def getattr_(self, obj: Any, name: str) -> Any:
        table = self.attributes.get(type(obj))
        if table is not None:
            factory = table.get(name, _MISSING)
            if factory is None:
                return getattr(obj, name)
            if factory is not _MISSING:
                return factory(self, obj)
        raise AccessDenied(f"attribute {name!r} is not allowed here")

    def getitem_(self, obj: Any, key: Any) -> Any:
        kind = type(obj)
        if kind in MAPPING_TYPES:
            if not GuardedOps.lookup_key(key):
                raise KeyError("absent key")
            return obj[key]
        if kind in SEQUENCE_TYPES or kind in TEXT_TYPES:
            if type(key) is slice:
                n = len(range(len(obj))[key])
                per_step = BYTES_PER_STEP if kind in TEXT_TYPES else ITEMS_PER_STEP
                self.meter.charge(1 + n // per_step)
            return obj[key]
        if kind is range:
            return obj[key]
        raise AccessDenied("this value cannot be subscripted")

    def write_(self, obj: Any) -> _ItemWriter:
        if type(obj) is list or type(obj) is dict:
            return _ItemWriter(self, obj)
        raise AccessDenied("this value cannot be modified")

    def getiter_(self, obj: Any) -> Any:
        if type(obj) not in ITERABLE_TYPES:
            raise AccessDenied("this value cannot be iterated")
        return self._charged(obj)

    def _charged(self, iterable: Any) -> Any:
        tick = self.meter.tick
        for item in iterable:
            tick()
            yield item

    def unpack_sequence_(self, it: Any, spec: Mapping[str, Any], _getiter: Any = None) -> Any:
        kind = type(it)
        want = spec["min_len"]  # the dialect forbids starred targets: exactly this many
        if kind in SIZED_TYPES:
            have = range_len(it) if kind is range else len(it)
            if have != want:
                raise ValueError("wrong number of values to unpack")
        items = self.materialize(it)
        if len(items) != want:
            raise ValueError("wrong number of values to unpack")
        for index, child in spec["childs"]:
            items[index] = self.unpack_sequence_(items[index], child)
        return items

    def iter_unpack_sequence_(self, it: Any, spec: Mapping[str, Any], _getiter: Any = None) -> Any:
        for item in self.getiter_(it):
            yield self.unpack_sequence_(item, spec)

    def inplacevar_(self, op: str, x: Any, y: Any) -> Any:
        if op == "+=" and type(x) is list:
            self.list_extend(x, y)
            return x
        if op == "*=" and type(x) is list:
            self.meter.mutations += 1
            x[:] = self.ops.mul(x, y)
            return x
        if op == "|=" and type(x) is dict:
            self.dict_update(x, y)
            return x
        operation = self.inplace.get(op)
        if operation is None:
            raise ForbiddenOperation(f"operator {op} is not allowed")
        return operation(x, y)

    # --- iteration helpers --------------------------------------------------------------------

    def materialize(self, it: Any) -> list[Any]:
        """``list(it)``, charged per item before (sized) or while (iterators) building it."""
        kind = type(it)
        if kind in SIZED_TYPES:
            self.meter.charge_items(range_len(it) if kind is range else len(it))
            return list(it)
        if kind not in ITERATOR_TYPES:
            raise AccessDenied("this value cannot be iterated")
        out: list[Any] = []
        for item in it:
            out.append(item)
            if len(out) % ITEMS_PER_STEP == 0:
                self.meter.charge(1)
                if len(out) > MAX_CONTAINER_LEN:
                    raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")
        self.meter.charge(1)
        return out

    def _check_iterable(self, it: Any) -> Any:
        if type(it) not in ITERABLE_TYPES:
            raise AccessDenied("this value cannot be iterated")
        return it

    def _sort(self, items: list[Any], key: Any, reverse: Any) -> list[Any]:
        keys = items if key is None else [key(item) for item in items]
        before = self.meter.used
        for k in keys:
            if type(k) in CONTAINER_TYPES or type(k) in TEXT_TYPES:
                measure(self.meter, k)
        passes = max(1, len(keys).bit_length())
        self.meter.charge((self.meter.used - before) * (passes - 1))
        self.meter.charge(1 + len(keys) * passes // ITEMS_PER_STEP)
        if key is None:
            return sorted(items, reverse=bool(reverse))
        order = sorted(range(len(keys)), key=keys.__getitem__, reverse=bool(reverse))
        return [items[i] for i in order]

    # --- builtins -------------------------------------------------------------------------

    def all_(self, iterable: Any) -> bool:
        return all(self.getiter_(iterable))

    def any_(self, iterable: Any) -> bool:
        return any(self.getiter_(iterable))

    def bytes_(self, source: Any = b"", encoding: Any = None, errors: Any = "strict") -> bytes:
        kind = type(source)
        if encoding is not None:
            if kind is not str:
                raise TypeError("encoding without a string argument")
            return self.str_encode(source, encoding, errors)
        if kind is bytes:
            return source
        if kind is int or kind is bool:
            if source < 0:
                raise ValueError("negative count")
            self.meter.charge_chars(source)
            return bytes(source)
        if kind is str:
            raise TypeError("string argument without an encoding")
        return bytes(self.materialize(source))

    def decimal_(self, value: Any = "0") -> Decimal:
        kind = type(value)
        if kind is str:
            if len(value) > MAX_DECIMAL_TEXT_CHARS:
                raise ResourceExhausted(f"Decimal text longer than {MAX_DECIMAL_TEXT_CHARS}")
            if not value.isascii():
                raise InvalidValue("Decimal() takes ASCII digits only")
        elif kind not in NUMBER_TYPES:
            raise InvalidValue("Decimal() takes a str, an int or a Decimal")
        result = decimal.getcontext().create_decimal(value)
        if not result.is_finite():
            raise InvalidValue("Decimal values must be finite")
        return result

    def dict_(self, source: Any = None, /, **kwargs: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        if source is not None:
            self.dict_update(out, source)
        if kwargs:
            self.dict_update(out, kwargs)
        return out

    def enumerate_(self, iterable: Any, start: Any = 0) -> Any:
        return enumerate(self._check_iterable(iterable), start)

    def extreme(self, pick: Any, *args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        """``max`` / ``min``: the first extreme item, as the builtins define it."""
        if not args:
            raise TypeError("expected at least one argument")
        items = self.materialize(args[0]) if len(args) == 1 else list(args)
        if not items:
            if default is _MISSING:
                raise ValueError("empty sequence")
            return default
        keys = items if key is None else [key(item) for item in items]
        for k in keys:
            if type(k) in CONTAINER_TYPES or type(k) in TEXT_TYPES:
                measure(self.meter, k)
        self.meter.charge(1 + len(keys) // ITEMS_PER_STEP)
        return items[pick(range(len(keys)), key=keys.__getitem__)]

    def int_(self, value: Any = 0, base: Any = None) -> int:
        kind = type(value)
        if base is None:
            if kind is int or kind is bool:
                return int(value)
            if kind is Decimal:
                if value.adjusted() >= MAX_DECIMAL_INT_DIGITS:
                    raise ResourceExhausted(
                        f"Decimal with more than {MAX_DECIMAL_INT_DIGITS} digits"
                    )
                return int(value)
            base = 10
        if kind not in TEXT_TYPES:
            raise TypeError("int() with a base needs a str or bytes")
        if len(value) > MAX_INT_TEXT_CHARS:
            raise ResourceExhausted(f"integer text longer than {MAX_INT_TEXT_CHARS}")
        if not value.isascii():
            raise ValueError("int() takes ASCII digits only")
        return check_int(int(value, base))

    def isinstance_(self, obj: Any, spec: Any) -> bool:
        if type(spec) is tuple:
            real = tuple(self._real_type(s) for s in spec)
            return isinstance(obj, real)
        return isinstance(obj, self._real_type(spec))

    def _real_type(self, token: Any) -> type:
        try:
            return self.type_tokens[token]
        except (KeyError, TypeError):
            raise TypeError(
                "isinstance() takes int, str, bytes, bool, list, tuple, dict, Decimal"
            ) from None

    def list_(self, iterable: Any = ()) -> list[Any]:
        return self.materialize(iterable)

    def range_(self, *args: Any) -> range:
        if not all(type(a) is int or type(a) is bool for a in args):
            raise TypeError("range() takes integers")
        return range(*args)

    def reversed_(self, seq: Any) -> Any:
        if type(seq) not in REVERSIBLE_TYPES:
            raise AccessDenied("this value cannot be reversed")
        return reversed(seq)

    def sorted_(self, iterable: Any, *, key: Any = None, reverse: Any = False) -> list[Any]:
        return self._sort(self.materialize(iterable), key, reverse)

    def str_(self, value: Any = "", encoding: Any = None, errors: Any = "strict") -> str:
        if encoding is not None:
            if type(value) is not bytes:
                raise TypeError("decoding needs bytes")
            return self.bytes_decode(value, encoding, errors)
        return to_text(self.meter, value)

    def sum_(self, iterable: Any, start: Any = 0) -> Any:
        items = self.materialize(iterable)
        if type(start) not in NUMBER_TYPES or not all(type(i) in NUMBER_TYPES for i in items):
            raise TypeError("sum() adds numbers only")
        total = sum(items, start)
        return check_int(total) if type(total) is int else total

    def tuple_(self, iterable: Any = ()) -> tuple[Any, ...]:
        return tuple(self.materialize(iterable))

    def zip_(self, *iterables: Any, strict: Any = False) -> Any:
        return zip(*(self._check_iterable(it) for it in iterables), strict=bool(strict))

    # --- str and bytes methods -----------------------------------------------------------------

    def charge_text_call(self, obj: Any, args: tuple[Any, ...]) -> None:
        size = len(obj)
        for arg in args:
            if type(arg) in TEXT_TYPES:
                size += len(arg)
            elif type(arg) in CONTAINER_TYPES:
                measure(self.meter, arg)
        self.meter.charge(1 + size // BYTES_PER_STEP)

    def check_output(self, result: Any) -> Any:
        kind = type(result)
        if kind in TEXT_TYPES:
            self.meter.charge_chars(len(result))
        elif kind is list or kind is tuple:
            self.meter.charge_items(len(result))
        return result

    def text_join(self, sep: Any, iterable: Any) -> Any:
        items = self.materialize(iterable)
        kind = type(sep)
        size = len(sep) * max(len(items) - 1, 0)
        for item in items:
            if type(item) is not kind:
                raise TypeError("join() needs items of the separator's type")
            size += len(item)
        self.meter.charge_chars(size)
        return sep.join(items)

    def text_replace(self, text: Any, old: Any, new: Any, count: Any = -1) -> Any:
        if type(old) is not type(text) or type(new) is not type(text) or type(count) is not int:
            raise TypeError("replace() needs two strings of the same type and an int")
        self.meter.charge(1 + len(text) // BYTES_PER_STEP)
        hits = text.count(old)
        if count >= 0:
            hits = min(hits, count)
        self.meter.charge_chars(len(text) + hits * (len(new) - len(old)))
        return text.replace(old, new, count)

    def text_zfill(self, text: Any, width: Any) -> Any:
        if type(width) is not int:
            raise TypeError("zfill() needs an int")
        self.meter.charge_chars(max(len(text), width))
        return text.zfill(width)

    def str_encode(self, text: str, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
        _check_codec(encoding, errors)
        self.meter.charge(1 + len(text) // BYTES_PER_STEP)
        return self.check_output(text.encode(encoding, errors))

    def bytes_decode(self, data: bytes, encoding: Any = "utf-8", errors: Any = "strict") -> str:
        _check_codec(encoding, errors)
        self.meter.charge(1 + len(data) // BYTES_PER_STEP)
        return self.check_output(data.decode(encoding, errors))

    # --- list methods ---------------------------------------------------------------------

    def _grow(self, target: list[Any] | dict[Any, Any], extra: int) -> None:
        if len(target) + extra > MAX_CONTAINER_LEN:
            raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")

    @_mutating
    def list_append(self, target: list[Any], item: Any) -> None:
        self._grow(target, 1)
        self.meter.charge(1)
        target.append(item)

    @_mutating
    def list_extend(self, target: list[Any], iterable: Any) -> None:
        items = self.materialize(iterable)
        self._grow(target, len(items))
        target.extend(items)

    @_mutating
    def list_insert(self, target: list[Any], index: Any, item: Any) -> None:
        self._grow(target, 1)
        self.meter.charge(1 + len(target) // ITEMS_PER_STEP)
        target.insert(index, item)

    @_mutating
    def list_pop(self, target: list[Any], *index: Any) -> Any:
        self.meter.charge(1 + len(target) // ITEMS_PER_STEP)
        return target.pop(*index)

    def seq_index(self, target: Any, item: Any, *bounds: Any) -> int:
        self.ops.charge_scan(item, len(target))
        return target.index(item, *bounds)

    def seq_count(self, target: Any, item: Any) -> int:
        self.ops.charge_scan(item, len(target))
        return target.count(item)

    @_mutating
    def list_remove(self, target: list[Any], item: Any) -> None:
        self.ops.charge_scan(item, len(target))
        target.remove(item)

    @_mutating
    def list_reverse(self, target: list[Any]) -> None:
        self.meter.charge(1 + len(target) // ITEMS_PER_STEP)
        target.reverse()

    @_mutating
    def list_sort(self, target: list[Any], *, reverse: Any = False) -> None:
        target[:] = self._sort(list(target), None, reverse)

    def list_copy(self, target: list[Any]) -> list[Any]:
        self.meter.charge_items(len(target))
        return target.copy()

    @_mutating
    def container_clear(self, target: list[Any] | dict[Any, Any]) -> None:
        self.meter.charge(1 + len(target) // ITEMS_PER_STEP)
        target.clear()

    # --- dict methods ---------------------------------------------------------------------

    def dict_get(self, target: Any, key: Any, default: Any = None) -> Any:
        if not GuardedOps.lookup_key(key):
            return default
        return target.get(key, default)

    def dict_keys(self, target: Any) -> list[Any]:
        self.meter.charge_items(len(target))
        return list(target.keys())

    def dict_values(self, target: Any) -> list[Any]:
        self.meter.charge_items(len(target))
        return list(target.values())

    def dict_items(self, target: Any) -> list[tuple[Any, Any]]:
        self.meter.charge_items(2 * len(target))
        return list(target.items())

    def dict_copy(self, target: Any) -> dict[Any, Any]:
        self.meter.charge_items(len(target))
        return dict(target)

    @_mutating
    def dict_pop(self, target: dict[Any, Any], key: Any, *default: Any) -> Any:
        if not GuardedOps.lookup_key(key):
            if default:
                return default[0]
            raise KeyError("absent key")
        return target.pop(key, *default)

    @_mutating
    def dict_popitem(self, target: dict[Any, Any]) -> tuple[Any, Any]:
        return target.popitem()

    @_mutating
    def dict_setdefault(self, target: dict[Any, Any], key: Any, default: Any = None) -> Any:
        if type(key) not in KEY_TYPES:
            raise InvalidValue("dict keys must be str, int, bytes, bool or None")
        if key not in target:
            self._grow(target, 1)
        self.meter.charge(1)
        return target.setdefault(key, default)

    @_mutating
    def dict_update(self, target: dict[Any, Any], source: Any = (), /, **kwargs: Any) -> None:
        if kwargs:
            self.dict_update(target, kwargs)
        if type(source) in MAPPING_TYPES:  # keys of every dict a contract holds are scalars
            self.meter.charge_items(len(source))
            self._grow(target, len(source))
            target.update(source)
            return
        for pair in self.materialize(source):
            if type(pair) not in SEQUENCE_TYPES or len(pair) != 2:
                raise ValueError("dict update needs pairs")
            key, value = pair
            if type(key) not in KEY_TYPES:
                raise InvalidValue("dict keys must be str, int, bytes, bool or None")
            if key not in target:
                self._grow(target, 1)
            target[key] = value


MethodFactory = Callable[[Environment, Any], Any]


def _linear(name: str) -> MethodFactory:
    """A str/bytes method whose work is linear in its inputs and whose output is bounded by
    a small multiple of them: charged by input size, output checked against the caps."""

    def bind(env: Environment, obj: Any) -> Callable[..., Any]:
        method = getattr(obj, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            env.charge_text_call(obj, args + tuple(kwargs.values()))
            return env.check_output(method(*args, **kwargs))

        return call

    return bind


def _bound(function: Callable[..., Any]) -> MethodFactory:
    """A method implemented by ``Environment``: ``function(env, obj, *args)``."""
    return lambda env, obj: partial(function, env, obj)


def _native(name: str) -> MethodFactory:
    """A method with constant cost (Decimal arithmetic in the fixed context)."""
    return lambda env, obj: getattr(obj, name)


_TEXT_LINEAR = [
    "count",
    "endswith",
    "find",
    "index",
    "isalnum",
    "isalpha",
    "isascii",
    "isdigit",
    "islower",
    "isspace",
    "isupper",
    "lower",
    "lstrip",
    "partition",
    "removeprefix",
    "removesuffix",
    "rfind",
    "rindex",
    "rpartition",
    "rsplit",
    "rstrip",
    "split",
    "splitlines",
    "startswith",
    "strip",
    "upper",
]
_STR_ONLY_LINEAR = [
    "capitalize",
    "isdecimal",
    "isidentifier",
    "isnumeric",
    "istitle",
    "swapcase",
    "title",
]
_DECIMAL_METHODS = [
    "adjusted",
    "compare",
    "copy_abs",
    "copy_negate",
    "copy_sign",
    "is_signed",
    "is_zero",
    "max",
    "min",
    "normalize",
    "quantize",
    "scaleb",
    "to_eng_string",
    "to_integral_value",
]
_TEXT_SPECIAL: dict[str, MethodFactory] = {
    "join": _bound(Environment.text_join),
    "replace": _bound(Environment.text_replace),
}
_READ_MAPPING: dict[str, MethodFactory] = {
    "copy": _bound(Environment.dict_copy),
    "get": _bound(Environment.dict_get),
    "items": _bound(Environment.dict_items),
    "keys": _bound(Environment.dict_keys),
    "values": _bound(Environment.dict_values),
}

METHODS: dict[type, dict[str, MethodFactory]] = {
    str: {
        **{name: _linear(name) for name in _TEXT_LINEAR + _STR_ONLY_LINEAR},
        **_TEXT_SPECIAL,
        "encode": _bound(Environment.str_encode),
        "zfill": _bound(Environment.text_zfill),
    },
    bytes: {
        **{name: _linear(name) for name in [*_TEXT_LINEAR, "hex"]},
        **_TEXT_SPECIAL,
        "decode": _bound(Environment.bytes_decode),
    },
    list: {
        "append": _bound(Environment.list_append),
        "clear": _bound(Environment.container_clear),
        "copy": _bound(Environment.list_copy),
        "count": _bound(Environment.seq_count),
        "extend": _bound(Environment.list_extend),
        "index": _bound(Environment.seq_index),
        "insert": _bound(Environment.list_insert),
        "pop": _bound(Environment.list_pop),
        "remove": _bound(Environment.list_remove),
        "reverse": _bound(Environment.list_reverse),
        "sort": _bound(Environment.list_sort),
    },
    tuple: {
        "count": _bound(Environment.seq_count),
        "index": _bound(Environment.seq_index),
    },
    dict: {
        **_READ_MAPPING,
        "clear": _bound(Environment.container_clear),
        "pop": _bound(Environment.dict_pop),
        "popitem": _bound(Environment.dict_popitem),
        "setdefault": _bound(Environment.dict_setdefault),
        "update": _bound(Environment.dict_update),
    },
    MappingProxyType: dict(_READ_MAPPING),
    Decimal: {name: _native(name) for name in _DECIMAL_METHODS},
}
METHOD_NAMES = frozenset(name for table in METHODS.values() for name in table)
