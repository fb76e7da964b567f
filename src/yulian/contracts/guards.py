"""Introduction: the guards RestrictedPython calls, and the environment of one invocation.

A contract's globals hold only what ``Environment.namespace`` puts there: the builtins
(``builtins.BUILTIN_NAMES``), the guard functions RestrictedPython's transformer calls
(``_getattr_``, ``_getitem_``, ``_write_``, ``_getiter_``, ``_unpack_sequence_``,
``_iter_unpack_sequence_``, ``_inplacevar_``) and the helpers ``compiler.instrument`` emits,
all charging the same ``Meter``.

Invariants:
- Attribute access is an allowlist per exact type (``methods.METHODS``, plus the host's own
  table); anything else, on anything else, is a deterministic ``AccessDenied``.
- Everything that consumes an iterable (loops, comprehensions, unpacking, ``list()``,
  ``sorted()``, ``sum()``, ``str.join``, ``list.extend``...) goes through ``getiter_`` or
  ``materialize``: one charge per item, so no C loop runs unmetered.
- Every in-place change to a list or dict goes through a guard here or a method of
  ``methods``, which counts it on the meter first (``Meter.mutations``).
- Dict keys are scalars (str, int, bool, bytes, None) at every place a key can enter a dict,
  so hashing never recurses into a nested tuple and dict order is insertion order only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from yulian.contracts.aborts import (
    AccessDenied,
    ForbiddenOperation,
    ResourceExhausted,
)
from yulian.contracts.builtins import bind_builtins
from yulian.contracts.compiler.instrument import (
    BINOP_HELPERS,
    CHAIN,
    CHARGE,
    COMPARE_HELPERS,
    ENTER,
    FORMAT,
    KEY,
    LEAVE,
    UNARY_HELPERS,
)
from yulian.contracts.costs import (
    BUILTIN_STEPS,
    BYTES_PER_STEP,
    CONVERSION_TABLE,
    FRESH_OBJECT_STEPS,
    ITEMS_PER_STEP,
    MAX_CONTAINER_LEN,
    METHOD_FETCH_STEPS,
    text_units,
)
from yulian.contracts.meter import Meter
from yulian.contracts.methods import METHODS, MethodFactory, dict_update, list_extend
from yulian.contracts.operators import GuardedOps
from yulian.contracts.values import (
    CONTAINER_TYPES,
    FREE,
    ITERABLE_TYPES,
    ITERATOR_TYPES,
    MAPPING_TYPES,
    SEQUENCE_TYPES,
    SIZED_TYPES,
    TEXT_TYPES,
    is_wide,
    measure,
    range_len,
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
    "//=": "floordiv",
    ">>=": "rshift",
    "&=": "bitand",
    "^=": "bitxor",
}


def helper_table(ops: GuardedOps) -> dict[str, Any]:
    """The names ``instrument`` emits, bound to one invocation's meter."""
    table: dict[str, Any] = {
        CHARGE: ops.meter.pay,
        ENTER: ops.meter.enter,
        LEAVE: ops.meter.leave,
        CHAIN: ops.chain,
        FORMAT: ops.fmt,
        KEY: ops.key,
    }
    for helper in (*BINOP_HELPERS.values(), *UNARY_HELPERS.values()):
        table[helper] = getattr(ops, helper.strip("_"))
    for code, name in COMPARE_HELPERS.items():
        table[name] = ops.compare_ops[code]
    return table


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
            self._env.ops.key(key)
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
        if type(target) is dict and not self._env.ops.lookup_key(key):
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
        self.meter.budget = step_limit
        self.meter.used = 0
        self.meter.depth = 0

    def namespace(self) -> dict[str, Any]:
        """Fresh globals for one execution of a contract module (the builtins are bound once
        per environment)."""
        if self._builtins is None:
            self._builtins = self._bind_builtins()
        return {"__builtins__": self._builtins, "__name__": "contract"}

    def _bind_builtins(self) -> dict[str, Any]:
        builtins, self.type_tokens = bind_builtins(self)
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
                self.meter.charge(METHOD_FETCH_STEPS)  # a bound method: a fresh object
                return factory(self, obj)
        raise AccessDenied(f"attribute {name!r} is not allowed here")

    def getitem_(self, obj: Any, key: Any) -> Any:
        kind = type(obj)
        if kind in MAPPING_TYPES:
            if not self.ops.lookup_key(key):
                raise KeyError("absent key")
            return obj[key]
        if kind in SEQUENCE_TYPES or kind in TEXT_TYPES:
            if type(key) is slice:
                n = len(range(len(obj))[key])
                if kind in TEXT_TYPES:
                    self.meter.charge(1 + text_units(n, is_wide(obj)) // BYTES_PER_STEP)
                else:
                    self.meter.charge(1 + n // ITEMS_PER_STEP)
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

    def metered(self, iterable: Any, steps: int) -> Iterator[Any]:
        """An iterator a builtin hands out (``zip``) that charges ``steps`` per item it makes;
        the only generators a contract can hold."""
        charge = self.meter.charge
        for item in iterable:
            charge(steps)
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
            list_extend(self, x, y)
            return x
        if op == "*=" and type(x) is list:
            self.meter.mutations += 1
            x[:] = self.ops.mul(x, y)
            return x
        if op == "|=" and type(x) is dict:
            dict_update(self, x, y)
            return x
        operation = self.inplace.get(op)
        if operation is None:
            raise ForbiddenOperation(f"operator {op} is not allowed")
        return operation(x, y)

    def charge_keys(self, keys: list[Any], passes: int) -> None:
        """Charge for comparing every key with others ``passes`` times (sorting, ``max``):
        walking texts and containers, and converting big ints that meet Decimals."""
        before = self.meter.used
        conversions = decimals = big = 0
        for k in keys:
            kind = type(k)
            if kind is int:
                if not -FREE < k < FREE:
                    conversions += CONVERSION_TABLE[k.bit_length() >> 7]
                    big += 1
            elif kind is Decimal:
                decimals += 1
            elif kind in CONTAINER_TYPES or kind in TEXT_TYPES:
                found = measure(self.meter, k)
                conversions += found[0]
                decimals += found[1]
        self.meter.charge((self.meter.used - before + big // ITEMS_PER_STEP) * (passes - 1))
        if conversions and decimals:
            self.meter.charge(conversions * passes)

    # --- consuming iterables --------------------------------------------------------------

    def materialize(self, it: Any) -> list[Any]:
        """``list(it)``, charged per item before (sized) or while (iterators) building it."""
        kind = type(it)
        if kind is range:  # every item a fresh int
            n = range_len(it)
            self.meter.charge_items(n)
            self.meter.charge(n * FRESH_OBJECT_STEPS // 2)
            return list(it)
        if kind in SIZED_TYPES:
            self.meter.charge_items(len(it))
            return list(it)
        if kind not in ITERATOR_TYPES:
            raise AccessDenied("this value cannot be iterated")
        # enumerate makes a fresh pair per item (zip's iterator charges for itself); a
        # reversed iterator makes nothing
        per_item = FRESH_OBJECT_STEPS if kind is enumerate else 0
        out: list[Any] = []
        for item in it:
            out.append(item)
            if len(out) % ITEMS_PER_STEP == 0:
                self.meter.charge(1 + ITEMS_PER_STEP * per_item)
                if len(out) > MAX_CONTAINER_LEN:
                    raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")
        self.meter.charge(1 + len(out) % ITEMS_PER_STEP * per_item)
        return out

    def sort_items(self, items: list[Any], key: Any, reverse: Any) -> list[Any]:
        keys = items if key is None else [key(item) for item in items]
        passes = max(1, len(keys).bit_length())  # comparisons per key, about
        self.charge_keys(keys, passes)
        self.meter.charge(BUILTIN_STEPS + len(keys) * passes // ITEMS_PER_STEP)
        if key is None:
            return sorted(items, reverse=bool(reverse))
        order = sorted(range(len(keys)), key=keys.__getitem__, reverse=bool(reverse))
        return [items[i] for i in order]
