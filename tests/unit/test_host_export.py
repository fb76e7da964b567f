"""``export_value`` against a straightforward reference: one exact walk, then ``to_canonical`` and
``encode``. The fast path for small values must give the same result, the same refusal and the
same charges for every value, valid or not, under every set of limits a value is exported with
(the state's, a receipt's return value's and event payload's, or any other)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.contracts.aborts import ContractAbort, InvalidValue, LimitExceeded
from yulian.contracts.costs import BYTES_PER_STEP, EXPORT_NODES_PER_STEP
from yulian.contracts.export import MAX_VALUE_DEPTH, ExportLimits, export_value, import_args
from yulian.contracts.host import EVENT_LIMITS, RETURN_LIMITS, STATE_LIMITS
from yulian.contracts.meter import Meter
from yulian.types.encoding import INT_MAX, INT_MIN, encode_canonical, to_canonical, to_plain


def reference_export(value: Any, limits: ExportLimits, meter: Meter | None) -> tuple[Any, ...]:
    """The export as first written: walk (refusals, charges), canonical form, encoding."""
    nodes: list[Any] = [value]
    depths: list[int] = [0]
    size = 0
    count = 0
    charged = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        if depth > limits.max_depth:
            raise InvalidValue(f"value nested deeper than {limits.max_depth}")
        kind = type(node)
        size += 1
        count += 1
        if kind is str or kind is bytes:
            size += len(node)
        elif kind is int:
            if not INT_MIN <= node <= INT_MAX:
                raise InvalidValue("integer outside the 64-bit range")
        elif kind is list or kind is tuple:
            if len(node) > limits.max_items:
                raise LimitExceeded(f"a list of more than {limits.max_items} items")
            nodes.extend(node)
            depths.extend([depth + 1] * len(node))
        elif kind is dict:
            if len(node) > limits.max_items:
                raise LimitExceeded(f"a map of more than {limits.max_items} items")
            for key, child in node.items():
                if type(key) is not str:
                    raise InvalidValue("map keys must be strings")
                size += len(key)
                nodes.append(child)
                depths.append(depth + 1)
        elif kind is not bool and node is not None:
            raise InvalidValue("only None, bool, int, str, bytes, lists and maps are encodable")
        if size > limits.max_bytes:
            raise LimitExceeded(f"value larger than {limits.max_bytes} bytes")
        if meter is not None and count % 1024 == 0:
            meter.charge(1024 // EXPORT_NODES_PER_STEP)
            charged += 1024 // EXPORT_NODES_PER_STEP
    try:
        canonical = to_canonical(value)
        data = encode_canonical(canonical)
    except ValueError as e:
        raise InvalidValue("value is not encodable") from e
    if len(data) > limits.max_bytes:
        raise LimitExceeded(f"value larger than {limits.max_bytes} bytes")
    if meter is not None:
        meter.charge(1 + len(data) // BYTES_PER_STEP + count // EXPORT_NODES_PER_STEP - charged)
    return canonical, data, count


def outcome(export: Any, value: Any, limits: ExportLimits, limit: int | None) -> tuple[Any, ...]:
    meter = None if limit is None else Meter(limit)
    try:
        result = export(value, limits, meter)[:3]  # (canonical, encoded, nodes)
    except ContractAbort as e:
        return ("raised", type(e).__name__, str(e), meter and meter.used)
    return ("ok", result, meter and meter.used)


texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "é", "\U0001f600", "Z", "a" * 700, "b" * 1100]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(INT_MIN, INT_MAX),
    st.sampled_from([INT_MIN - 1, INT_MAX + 1, 1.5]),
    texts,
    st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(texts, inner, max_size=6),
        st.dictionaries(st.one_of(texts, st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=40,
)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


LIMITS = st.one_of(
    st.sampled_from([STATE_LIMITS, RETURN_LIMITS, EVENT_LIMITS]),
    st.builds(
        ExportLimits,
        st.sampled_from([16, 900, 1024, 4096, 64 * 1024]),
        st.integers(0, MAX_VALUE_DEPTH),
        st.sampled_from([1024, 1025, 4096]),
    ),
)


@settings(max_examples=600, deadline=None)
@given(values, LIMITS, st.sampled_from([None, 1, 50, 300, 10**6]))
def test_export_matches_the_reference(value: Any, limits: ExportLimits, limit: int | None) -> None:
    assert outcome(export_value, value, limits, limit) == outcome(
        reference_export, value, limits, limit
    )


def test_export_matches_the_reference_at_the_edges() -> None:
    shared = [0]
    for _ in range(12):
        shared = [shared, shared, shared, shared]  # 4**12 leaves as a tree
    cases: list[Any] = [
        nested(MAX_VALUE_DEPTH),
        nested(MAX_VALUE_DEPTH + 1),
        nested(RETURN_LIMITS.max_depth),
        nested(RETURN_LIMITS.max_depth + 1),
        nested(EVENT_LIMITS.max_depth + 1),
        [nested(MAX_VALUE_DEPTH), INT_MAX + 1],
        [INT_MAX + 1, nested(MAX_VALUE_DEPTH + 1)],
        shared,
        list(range(5000)),
        [None] * RETURN_LIMITS.max_items,
        [None] * (RETURN_LIMITS.max_items + 1),
        {str(i): 0 for i in range(RETURN_LIMITS.max_items + 1)},
        [[0] * 1023],
        [[0] * 1024],
        {"k": "x" * 1010},
        {"k": "x" * 1030},
        ["x" * 500, "y" * 600],
        {"b": 1, "a": {"\ud800": 1}},
        {"é": 1, "z": 2, "\U0001f600": 3, "\u00ff": 4},
        ["ok", object()],
    ]
    for value in cases:
        for limits in (
            STATE_LIMITS,
            RETURN_LIMITS,
            EVENT_LIMITS,
            ExportLimits(1000, MAX_VALUE_DEPTH, 1 << 16),
        ):
            for limit in (None, 5, 10**6):
                expected = outcome(reference_export, value, limits, limit)
                assert outcome(export_value, value, limits, limit) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=4))
def test_import_args_are_plain_canonical_copies(args: list[Any]) -> None:
    args_limits = ExportLimits(1 << 20, MAX_VALUE_DEPTH, 1 << 16)
    try:
        expected: Any = [to_plain(reference_export(arg, args_limits, None)[0]) for arg in args]
    except ContractAbort as e:
        expected = type(e).__name__
    try:
        got: Any = import_args(args)
    except ContractAbort as e:
        got = type(e).__name__
    assert got == expected
    if isinstance(got, list):
        assert repr(got) == repr(expected)  # lists, not tuples; key order canonical


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, MAX_VALUE_DEPTH))
def test_a_shallow_export_is_no_deeper_than_asked(value: Any, shallow_depth: int) -> None:
    """``shallow`` (the host reuses the export of a value put as the return value only then)
    never claims a value deeper than ``shallow_depth``, and never changes the result."""
    try:
        canonical, data, nodes, shallow = export_value(
            value, STATE_LIMITS, shallow_depth=shallow_depth
        )
    except ContractAbort:
        return
    assert (canonical, data, nodes) == export_value(value, STATE_LIMITS)[:3]
    if shallow:
        narrow = ExportLimits(STATE_LIMITS.max_bytes, shallow_depth, STATE_LIMITS.max_items)
        assert export_value(value, narrow)[1] == data  # not refused as too deep
