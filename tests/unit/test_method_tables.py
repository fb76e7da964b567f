"""The method tables and the guards against the export cache (issue 11, item 5).

The host reuses what it exported of the value last put while ``Meter.mutations`` has not moved
(``Host.export_result``): correct only if every in-place change of a list or dict is counted.
These tests enumerate ``METHODS`` (every type, every name) and every guard that writes, call
each on a fresh value, and fail for any call that changed its value without counting it. A
method added to a table without a sample call here fails ``test_every_method_has_a_sample``.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from yulian.contracts.guards import Environment
from yulian.contracts.host import HOST_ATTRIBUTES
from yulian.contracts.meter import Meter
from yulian.contracts.methods import METHOD_NAMES, METHODS


def fresh(kind: type) -> Any:
    """A value of ``kind`` on which every method of its table has something to change."""
    samples: dict[type, Any] = {
        str: "Hello, World 12",
        bytes: b"Hello, World 12",
        list: [3, 1, 2, 1],
        tuple: (3, 1, 2, 1),
        dict: {"b": 2, "a": 1, "c": 3},
        MappingProxyType: MappingProxyType({"b": 2, "a": 1}),
        Decimal: Decimal("-12.50"),
    }
    return samples[kind]


# (type, method) -> the arguments of one call; chosen so that a mutating method mutates
SAMPLE_ARGS: dict[tuple[type, str], tuple[Any, ...]] = {
    **{(str, name): () for name in METHODS[str]},
    **{(bytes, name): () for name in METHODS[bytes]},
    (str, "count"): ("l",),
    (str, "endswith"): ("12",),
    (str, "find"): ("o",),
    (str, "index"): ("o",),
    (str, "join"): (["a", "b"],),
    (str, "partition"): (",",),
    (str, "removeprefix"): ("He",),
    (str, "removesuffix"): ("12",),
    (str, "replace"): ("l", "L"),
    (str, "rfind"): ("o",),
    (str, "rindex"): ("o",),
    (str, "rpartition"): (",",),
    (str, "startswith"): ("He",),
    (str, "zfill"): (20,),
    (str, "encode"): ("utf-8",),
    (bytes, "count"): (b"l",),
    (bytes, "endswith"): (b"12",),
    (bytes, "find"): (b"o",),
    (bytes, "index"): (b"o",),
    (bytes, "join"): ([b"a", b"b"],),
    (bytes, "partition"): (b",",),
    (bytes, "removeprefix"): (b"He",),
    (bytes, "removesuffix"): (b"12",),
    (bytes, "replace"): (b"l", b"L"),
    (bytes, "rfind"): (b"o",),
    (bytes, "rindex"): (b"o",),
    (bytes, "rpartition"): (b",",),
    (bytes, "startswith"): (b"He",),
    (bytes, "decode"): ("utf-8",),
    (list, "append"): (4,),
    (list, "clear"): (),
    (list, "copy"): (),
    (list, "count"): (1,),
    (list, "extend"): ([5, 6],),
    (list, "index"): (2,),
    (list, "insert"): (0, 9),
    (list, "pop"): (),
    (list, "remove"): (1,),
    (list, "reverse"): (),
    (list, "sort"): (),
    (tuple, "count"): (1,),
    (tuple, "index"): (2,),
    (dict, "clear"): (),
    (dict, "copy"): (),
    (dict, "get"): ("a",),
    (dict, "items"): (),
    (dict, "keys"): (),
    (dict, "pop"): ("a",),
    (dict, "popitem"): (),
    (dict, "setdefault"): ("z", 0),
    (dict, "update"): ({"d": 4},),
    (dict, "values"): (),
    (MappingProxyType, "copy"): (),
    (MappingProxyType, "get"): ("a",),
    (MappingProxyType, "items"): (),
    (MappingProxyType, "keys"): (),
    (MappingProxyType, "values"): (),
    **{(Decimal, name): () for name in METHODS[Decimal]},
    (Decimal, "compare"): (Decimal(3),),
    (Decimal, "copy_sign"): (Decimal(1),),
    (Decimal, "max"): (Decimal(3),),
    (Decimal, "min"): (Decimal(3),),
    (Decimal, "quantize"): (Decimal("0.1"),),
    (Decimal, "scaleb"): (2,),
}
MUTATING = {(list, n) for n in METHODS[list]} - {(list, "copy"), (list, "count"), (list, "index")}
MUTATING |= {(dict, n) for n in ("clear", "pop", "popitem", "setdefault", "update")}


def environment() -> Environment:
    env = Environment(Meter(10**6), HOST_ATTRIBUTES)
    env.namespace()  # binds the builtins, as an invocation does
    return env


def snapshot(value: Any) -> str:
    return repr(value)  # order-sensitive for dicts too


def test_every_method_has_a_sample() -> None:
    every = {(kind, name) for kind, table in METHODS.items() for name in table}
    assert set(SAMPLE_ARGS) == every
    assert {name for _, name in every} == METHOD_NAMES


@pytest.mark.parametrize(
    ("kind", "name"), sorted(SAMPLE_ARGS, key=lambda k: (k[0].__name__, k[1])), ids=str
)
def test_a_method_that_changes_its_value_counts_the_change(kind: type, name: str) -> None:
    env = environment()
    value = fresh(kind)
    before = snapshot(value)
    counted = env.meter.mutations
    env.getattr_(value, name)(*SAMPLE_ARGS[kind, name])
    changed = snapshot(value) != before
    assert changed == ((kind, name) in MUTATING), "the sample must show what the method does"
    if changed:
        assert env.meter.mutations > counted, f"{kind.__name__}.{name} changed its value uncounted"


# every other way contract code changes a list or dict in place: a guard of ``guards``
GUARD_CHANGES: list[tuple[str, Any, Any]] = [
    ("setitem", [1, 2, 3], lambda env, v: env.write_(v).__setitem__(0, 9)),
    ("setitem slice", [1, 2, 3], lambda env, v: env.write_(v).__setitem__(slice(1, None), [0])),
    ("delitem", [1, 2, 3], lambda env, v: env.write_(v).__delitem__(0)),
    ("dict setitem", {"a": 1}, lambda env, v: env.write_(v).__setitem__("b", 2)),
    ("dict delitem", {"a": 1}, lambda env, v: env.write_(v).__delitem__("a")),
    ("list +=", [1], lambda env, v: env.inplacevar_("+=", v, [2])),
    ("list *=", [1], lambda env, v: env.inplacevar_("*=", v, 3)),
    ("dict |=", {"a": 1}, lambda env, v: env.inplacevar_("|=", v, {"b": 2})),
]


@pytest.mark.parametrize(
    ("what", "value", "change"), GUARD_CHANGES, ids=[g[0] for g in GUARD_CHANGES]
)
def test_a_guard_that_changes_a_value_counts_the_change(what: str, value: Any, change: Any) -> None:
    env = environment()
    before = snapshot(value)
    counted = env.meter.mutations
    change(env, value)
    assert snapshot(value) != before, what
    assert env.meter.mutations > counted, what
