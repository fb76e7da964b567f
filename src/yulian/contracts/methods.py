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
- Dict keys are ``values.KEY_TYPES`` wherever a method can add one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial, wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from yulian.contracts.aborts import AccessDenied, ResourceExhausted
from yulian.contracts.costs import (
    BYTES_PER_STEP,
    FRESH_OBJECT_STEPS,
    ITEMS_PER_STEP,
    MAX_CONTAINER_LEN,
    search_steps,
    text_units,
)
from yulian.contracts.values import (
    CONTAINER_TYPES,
    MAPPING_TYPES,
    SEQUENCE_TYPES,
    TEXT_TYPES,
    is_wide,
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
    """The linear part of a text method: its text and its arguments, by size."""
    size = text_units(len(obj), is_wide(obj))
    for arg in args:
        if type(arg) in TEXT_TYPES:
            size += text_units(len(arg), is_wide(arg))
        elif type(arg) in CONTAINER_TYPES:
            measure(env.meter, arg)
    env.meter.charge(1 + size // BYTES_PER_STEP)


def check_output(env: Environment, result: Any) -> Any:
    """Charge for what a method made: a text by its size, a list or tuple of texts by its
    items (each a fresh object) and their size."""
    kind = type(result)
    if kind in TEXT_TYPES:
        env.meter.charge_chars(len(result), is_wide(result))
    elif kind is list or kind is tuple:
        env.meter.charge_items(len(result))
        units = 0
        for item in result:
            if type(item) in TEXT_TYPES:
                units += text_units(len(item), is_wide(item))
        env.meter.charge(len(result) * FRESH_OBJECT_STEPS + units // BYTES_PER_STEP)
    return result


def _same_kind(obj: Any, value: Any) -> int:
    """The length of ``value`` when it is a needle of ``obj``'s type, else 0."""
    return len(value) if type(value) is type(obj) else 0


def _charge_items(env: Environment, items: int) -> None:
    """Charge, before a method runs, for the fresh items of the list it will return."""
    env.meter.charge(1 + items // ITEMS_PER_STEP + items * FRESH_OBJECT_STEPS)


def text_search(env: Environment, obj: Any, name: str, backward: bool, *args: Any) -> Any:
    """``find``, ``count``, ``index``, ``partition`` and their backward twins: charged by the
    comparisons of the search loop CPython runs for these sizes (``costs.search_steps``)."""
    needle = _same_kind(obj, args[0]) if args else 0
    env.meter.charge(1 + search_steps(len(obj), needle, backward))
    return check_output(env, getattr(obj, name)(*args))


def text_split(
    env: Environment, obj: Any, name: str, sep: Any = None, maxsplit: Any = -1
) -> list[Any]:
    """``split`` / ``rsplit``: the search, and every item of the result, charged first."""
    if type(maxsplit) is not int:
        raise TypeError("maxsplit must be an int")
    needle = _same_kind(obj, sep)
    if sep is None:  # runs of whitespace: at most one item per two chars
        items = len(obj) // 2 + 1
    elif needle:
        env.meter.charge(search_steps(len(obj), needle, backward=False))
        items = obj.count(sep) + 1
    else:
        items = 1
    if maxsplit >= 0:
        items = min(items, maxsplit + 1)
    env.meter.charge(1 + search_steps(len(obj), needle, backward=name == "rsplit"))
    _charge_items(env, items)
    return check_output(env, getattr(obj, name)(sep, maxsplit))


def text_splitlines(env: Environment, obj: Any, keepends: Any = False) -> list[Any]:
    """Up to one item per char (empty lines), a fresh one per two: charged first."""
    env.meter.charge(1 + len(obj) // BYTES_PER_STEP + len(obj) // ITEMS_PER_STEP)
    _charge_items(env, len(obj) // 2)
    return check_output(env, obj.splitlines(bool(keepends)))


def text_strip(env: Environment, obj: Any, name: str, chars: Any = None) -> Any:
    """``strip`` and its one-sided twins: each char stripped is looked up among ``chars``."""
    needle = _same_kind(obj, chars)
    env.meter.charge(1 + search_steps(len(obj), needle, backward=True))
    return check_output(env, getattr(obj, name)(chars))


def text_join(env: Environment, sep: Any, iterable: Any) -> Any:
    items = env.materialize(iterable)
    kind = type(sep)
    size = len(sep) * max(len(items) - 1, 0)
    wide = is_wide(sep)
    for item in items:
        if type(item) is not kind:
            raise TypeError("join() needs items of the separator's type")
        size += len(item)
        wide = wide or is_wide(item)
    env.meter.charge_chars(size, wide)
    return sep.join(items)


def text_replace(env: Environment, text: Any, old: Any, new: Any, count: Any = -1) -> Any:
    if type(old) is not type(text) or type(new) is not type(text) or type(count) is not int:
        raise TypeError("replace() needs two strings of the same type and an int")
    env.meter.charge(1 + search_steps(len(text), len(old), backward=False))
    hits = text.count(old)
    if count >= 0:
        hits = min(hits, count)
    size = len(text) + hits * (len(new) - len(old))
    env.meter.charge_chars(size, is_wide(text) or is_wide(new))
    return text.replace(old, new, count)


def text_zfill(env: Environment, text: Any, width: Any) -> Any:
    if type(width) is not int:
        raise TypeError("zfill() needs an int")
    env.meter.charge_chars(max(len(text), width), is_wide(text))
    return text.zfill(width)


def str_encode(
    env: Environment, text: str, encoding: Any = "utf-8", errors: Any = "strict"
) -> bytes:
    _check_codec(encoding, errors)
    env.meter.charge(1 + text_units(len(text), is_wide(text)) // BYTES_PER_STEP)
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
    env.ops.charge_scan(item, target)
    return target.index(item, *bounds)


def seq_count(env: Environment, target: Any, item: Any) -> int:
    env.ops.charge_scan(item, target)
    return target.count(item)


@_mutating
def list_remove(env: Environment, target: list[Any], item: Any) -> None:
    env.ops.charge_scan(item, target)
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
    if not env.ops.lookup_key(key):
        return default
    return target.get(key, default)


def dict_keys(env: Environment, target: Any) -> list[Any]:
    env.meter.charge_items(len(target))
    return list(target.keys())


def dict_values(env: Environment, target: Any) -> list[Any]:
    env.meter.charge_items(len(target))
    return list(target.values())


def dict_items(env: Environment, target: Any) -> list[tuple[Any, Any]]:
    _charge_items(env, len(target))  # a fresh pair per item
    return list(target.items())


def dict_copy(env: Environment, target: Any) -> dict[Any, Any]:
    env.meter.charge_items(len(target))
    return dict(target)


@_mutating
def dict_pop(env: Environment, target: dict[Any, Any], key: Any, *default: Any) -> Any:
    if not env.ops.lookup_key(key):
        if default:
            return default[0]
        raise KeyError("absent key")
    return target.pop(key, *default)


@_mutating
def dict_popitem(env: Environment, target: dict[Any, Any]) -> tuple[Any, Any]:
    return target.popitem()


@_mutating
def dict_setdefault(env: Environment, target: dict[Any, Any], key: Any, default: Any = None) -> Any:
    env.ops.key(key)
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
    pairs = env.materialize(source)
    env.meter.charge(len(pairs))  # each pair checked, unpacked and inserted in turn
    for pair in pairs:
        if type(pair) not in SEQUENCE_TYPES or len(pair) != 2:
            raise ValueError("dict update needs pairs")
        key, value = pair
        env.ops.key(key)
        if key not in target:
            check_growth(target, 1)
        target[key] = value


MethodFactory = Callable[["Environment", Any], Any]


def text_linear(env: Environment, obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """A str/bytes method whose work is linear in its inputs and whose output is bounded by
    a small multiple of them: charged by input size, output checked against the caps."""
    charge_text_call(env, obj, args + tuple(kwargs.values()))
    return check_output(env, getattr(obj, name)(*args, **kwargs))


def decimal_method(env: Environment, obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """A Decimal method: constant work in the fixed context, but an int argument is converted
    first and a Decimal result is a fresh object."""
    for arg in args:
        env.ops.mixed(obj, arg)
    return env.ops.number(getattr(obj, name)(*args, **kwargs))


def _bound(function: Callable[..., Any]) -> MethodFactory:
    """A method implemented here: ``function(env, obj, *args)``. The bound method handed to
    the contract is one small object (a ``partial``), whatever the method."""
    return lambda env, obj: partial(function, env, obj)


def _named(function: Callable[..., Any], name: str, *extra: Any) -> MethodFactory:
    """A method implemented here for several names: ``function(env, obj, name, *extra, ...)``."""
    return lambda env, obj: partial(function, env, obj, name, *extra)


_TEXT_LINEAR = [
    "endswith",
    "isalnum",
    "isalpha",
    "isascii",
    "isdigit",
    "islower",
    "isspace",
    "isupper",
    "lower",
    "removeprefix",
    "removesuffix",
    "startswith",
    "upper",
]
_TEXT_SEARCH = {
    "count": False,
    "find": False,
    "index": False,
    "partition": False,
    "rfind": True,
    "rindex": True,
    "rpartition": True,
}
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
    **{name: _named(text_search, name, backward) for name, backward in _TEXT_SEARCH.items()},
    **{name: _named(text_strip, name) for name in ("strip", "lstrip", "rstrip")},
    "split": _named(text_split, "split"),
    "rsplit": _named(text_split, "rsplit"),
    "splitlines": _bound(text_splitlines),
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
        **{name: _named(text_linear, name) for name in _TEXT_LINEAR + _STR_ONLY_LINEAR},
        **_TEXT_SPECIAL,
        "encode": _bound(str_encode),
        "zfill": _bound(text_zfill),
    },
    bytes: {
        **{name: _named(text_linear, name) for name in [*_TEXT_LINEAR, "hex"]},
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
    Decimal: {name: _named(decimal_method, name) for name in _DECIMAL_METHODS},
}
METHOD_NAMES = frozenset(name for table in METHODS.values() for name in table)
