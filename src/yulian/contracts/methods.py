"""Introduction: the methods a contract may call on its values, and what each one costs.

``METHODS`` is the allowlist: per exact type (str, bytes, list, tuple, dict, the read-only
mapping of ``ctx.sender.attributes``, Decimal), the method names and a factory that binds one
to a value. ``Environment.getattr_`` hands out only these; the dialect refuses any other
attribute name at deploy time (``METHOD_NAMES``).

Invariants:
- Every method's cost is charged before it runs, by the sizes that drive its algorithm, and
  its output is bounded (``check_output``) before it is returned.
- Every method that changes a list or dict in place counts the change on the meter first
  (``Meter.mutations``, by ``_mutating``): the host reuses a value's export only while no
  container changed (``tests/unit/test_method_tables.py`` enumerates the tables to hold this).
- Dict keys are scalars (str, int, bool, bytes, None) wherever a method can add one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial, wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from yulian.contracts.aborts import AccessDenied, InvalidValue, ResourceExhausted
from yulian.contracts.costs import BYTES_PER_STEP, ITEMS_PER_STEP, MAX_CONTAINER_LEN
from yulian.contracts.operators import GuardedOps
from yulian.contracts.values import (
    CONTAINER_TYPES,
    KEY_TYPES,
    MAPPING_TYPES,
    SEQUENCE_TYPES,
    TEXT_TYPES,
    measure,
)

if TYPE_CHECKING:
    from yulian.contracts.guards import Environment

CODECS = frozenset({"utf-8", "utf8", "ascii"})
CODEC_ERRORS = frozenset({"strict", "replace", "ignore"})


def _check_codec(encoding: Any, errors: Any) -> None:
    if encoding not in CODECS or errors not in CODEC_ERRORS:
        raise AccessDenied("only the utf-8 and ascii codecs are available")


def _mutating(method: Callable[..., Any]) -> Callable[..., Any]:
    """A method that changes a container in place: it counts the change on the meter first
    (see ``Meter.mutations``)."""

    @wraps(method)
    def counted(env: Environment, *args: Any, **kwargs: Any) -> Any:
        env.meter.mutations += 1
        return method(env, *args, **kwargs)

    return counted


def check_growth(target: list[Any] | dict[Any, Any], extra: int) -> None:
    if len(target) + extra > MAX_CONTAINER_LEN:
        raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")


def charge_text_call(env: Environment, obj: Any, args: tuple[Any, ...]) -> None:
    size = len(obj)
    for arg in args:
        if type(arg) in TEXT_TYPES:
            size += len(arg)
        elif type(arg) in CONTAINER_TYPES:
            measure(env.meter, arg)
    env.meter.charge(1 + size // BYTES_PER_STEP)


def check_output(env: Environment, result: Any) -> Any:
    kind = type(result)
    if kind in TEXT_TYPES:
        env.meter.charge_chars(len(result))
    elif kind is list or kind is tuple:
        env.meter.charge_items(len(result))
    return result


def text_join(env: Environment, sep: Any, iterable: Any) -> Any:
    items = env.materialize(iterable)
    kind = type(sep)
    size = len(sep) * max(len(items) - 1, 0)
    for item in items:
        if type(item) is not kind:
            raise TypeError("join() needs items of the separator's type")
        size += len(item)
    env.meter.charge_chars(size)
    return sep.join(items)


def text_replace(env: Environment, text: Any, old: Any, new: Any, count: Any = -1) -> Any:
    if type(old) is not type(text) or type(new) is not type(text) or type(count) is not int:
        raise TypeError("replace() needs two strings of the same type and an int")
    env.meter.charge(1 + len(text) // BYTES_PER_STEP)
    hits = text.count(old)
    if count >= 0:
        hits = min(hits, count)
    env.meter.charge_chars(len(text) + hits * (len(new) - len(old)))
    return text.replace(old, new, count)


def text_zfill(env: Environment, text: Any, width: Any) -> Any:
    if type(width) is not int:
        raise TypeError("zfill() needs an int")
    env.meter.charge_chars(max(len(text), width))
    return text.zfill(width)


def str_encode(
    env: Environment, text: str, encoding: Any = "utf-8", errors: Any = "strict"
) -> bytes:
    _check_codec(encoding, errors)
    env.meter.charge(1 + len(text) // BYTES_PER_STEP)
    return check_output(env, text.encode(encoding, errors))


def bytes_decode(
    env: Environment, data: bytes, encoding: Any = "utf-8", errors: Any = "strict"
) -> str:
    _check_codec(encoding, errors)
    env.meter.charge(1 + len(data) // BYTES_PER_STEP)
    return check_output(env, data.decode(encoding, errors))


@_mutating
def list_append(env: Environment, target: list[Any], item: Any) -> None:
    check_growth(target, 1)
    env.meter.charge(1)
    target.append(item)


@_mutating
def list_extend(env: Environment, target: list[Any], iterable: Any) -> None:
    items = env.materialize(iterable)
    check_growth(target, len(items))
    target.extend(items)


@_mutating
def list_insert(env: Environment, target: list[Any], index: Any, item: Any) -> None:
    check_growth(target, 1)
    env.meter.charge(1 + len(target) // ITEMS_PER_STEP)
    target.insert(index, item)


@_mutating
def list_pop(env: Environment, target: list[Any], *index: Any) -> Any:
    env.meter.charge(1 + len(target) // ITEMS_PER_STEP)
    return target.pop(*index)


def seq_index(env: Environment, target: Any, item: Any, *bounds: Any) -> int:
    env.ops.charge_scan(item, len(target))
    return target.index(item, *bounds)


def seq_count(env: Environment, target: Any, item: Any) -> int:
    env.ops.charge_scan(item, len(target))
    return target.count(item)


@_mutating
def list_remove(env: Environment, target: list[Any], item: Any) -> None:
    env.ops.charge_scan(item, len(target))
    target.remove(item)


@_mutating
def list_reverse(env: Environment, target: list[Any]) -> None:
    env.meter.charge(1 + len(target) // ITEMS_PER_STEP)
    target.reverse()


@_mutating
def list_sort(env: Environment, target: list[Any], *, reverse: Any = False) -> None:
    target[:] = env.sort_items(list(target), None, reverse)


def list_copy(env: Environment, target: list[Any]) -> list[Any]:
    env.meter.charge_items(len(target))
    return target.copy()


@_mutating
def container_clear(env: Environment, target: list[Any] | dict[Any, Any]) -> None:
    env.meter.charge(1 + len(target) // ITEMS_PER_STEP)
    target.clear()


def dict_get(env: Environment, target: Any, key: Any, default: Any = None) -> Any:
    if not GuardedOps.lookup_key(key):
        return default
    return target.get(key, default)


def dict_keys(env: Environment, target: Any) -> list[Any]:
    env.meter.charge_items(len(target))
    return list(target.keys())


def dict_values(env: Environment, target: Any) -> list[Any]:
    env.meter.charge_items(len(target))
    return list(target.values())


def dict_items(env: Environment, target: Any) -> list[tuple[Any, Any]]:
    env.meter.charge_items(2 * len(target))
    return list(target.items())


def dict_copy(env: Environment, target: Any) -> dict[Any, Any]:
    env.meter.charge_items(len(target))
    return dict(target)


@_mutating
def dict_pop(env: Environment, target: dict[Any, Any], key: Any, *default: Any) -> Any:
    if not GuardedOps.lookup_key(key):
        if default:
            return default[0]
        raise KeyError("absent key")
    return target.pop(key, *default)


@_mutating
def dict_popitem(env: Environment, target: dict[Any, Any]) -> tuple[Any, Any]:
    return target.popitem()


@_mutating
def dict_setdefault(env: Environment, target: dict[Any, Any], key: Any, default: Any = None) -> Any:
    if type(key) not in KEY_TYPES:
        raise InvalidValue("dict keys must be str, int, bytes, bool or None")
    if key not in target:
        check_growth(target, 1)
    env.meter.charge(1)
    return target.setdefault(key, default)


@_mutating
def dict_update(
    env: Environment, target: dict[Any, Any], source: Any = (), /, **kwargs: Any
) -> None:
    if kwargs:
        dict_update(env, target, kwargs)
    if type(source) in MAPPING_TYPES:  # keys of every dict a contract holds are scalars
        env.meter.charge_items(len(source))
        check_growth(target, len(source))
        target.update(source)
        return
    for pair in env.materialize(source):
        if type(pair) not in SEQUENCE_TYPES or len(pair) != 2:
            raise ValueError("dict update needs pairs")
        key, value = pair
        if type(key) not in KEY_TYPES:
            raise InvalidValue("dict keys must be str, int, bytes, bool or None")
        if key not in target:
            check_growth(target, 1)
        target[key] = value


MethodFactory = Callable[["Environment", Any], Any]


def _linear(name: str) -> MethodFactory:
    """A str/bytes method whose work is linear in its inputs and whose output is bounded by
    a small multiple of them: charged by input size, output checked against the caps."""

    def bind(env: Environment, obj: Any) -> Callable[..., Any]:
        method = getattr(obj, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            charge_text_call(env, obj, args + tuple(kwargs.values()))
            return check_output(env, method(*args, **kwargs))

        return call

    return bind


def _bound(function: Callable[..., Any]) -> MethodFactory:
    """A method implemented here: ``function(env, obj, *args)``."""
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
    "join": _bound(text_join),
    "replace": _bound(text_replace),
}
_READ_MAPPING: dict[str, MethodFactory] = {
    "copy": _bound(dict_copy),
    "get": _bound(dict_get),
    "items": _bound(dict_items),
    "keys": _bound(dict_keys),
    "values": _bound(dict_values),
}

METHODS: dict[type, dict[str, MethodFactory]] = {
    str: {
        **{name: _linear(name) for name in _TEXT_LINEAR + _STR_ONLY_LINEAR},
        **_TEXT_SPECIAL,
        "encode": _bound(str_encode),
        "zfill": _bound(text_zfill),
    },
    bytes: {
        **{name: _linear(name) for name in [*_TEXT_LINEAR, "hex"]},
        **_TEXT_SPECIAL,
        "decode": _bound(bytes_decode),
    },
    list: {
        "append": _bound(list_append),
        "clear": _bound(container_clear),
        "copy": _bound(list_copy),
        "count": _bound(seq_count),
        "extend": _bound(list_extend),
        "index": _bound(seq_index),
        "insert": _bound(list_insert),
        "pop": _bound(list_pop),
        "remove": _bound(list_remove),
        "reverse": _bound(list_reverse),
        "sort": _bound(list_sort),
    },
    tuple: {
        "count": _bound(seq_count),
        "index": _bound(seq_index),
    },
    dict: {
        **_READ_MAPPING,
        "clear": _bound(container_clear),
        "pop": _bound(dict_pop),
        "popitem": _bound(dict_popitem),
        "setdefault": _bound(dict_setdefault),
        "update": _bound(dict_update),
    },
    MappingProxyType: dict(_READ_MAPPING),
    Decimal: {name: _native(name) for name in _DECIMAL_METHODS},
}
METHOD_NAMES = frozenset(name for table in METHODS.values() for name in table)
