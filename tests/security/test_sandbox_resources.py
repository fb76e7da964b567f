"""K2: resource attacks end in a deterministic receipt within the step budget.

Each attack must end with the stated status (``out_of_steps`` unless a different status is
the honest one, e.g. a host value too large is a ``fault``), report ``steps <= step_limit``
(``== step_limit`` when out of steps), and give an identical ``Outcome`` when run again.
No timing assertions: the budget is the bound. The host keeps serving afterwards.
"""

from __future__ import annotations

import pytest

from yulian.contracts import BlockInfo, MemoryState, Outcome, Sender, TxInfo, compile_contract
from yulian.contracts.costs import MAX_CALL_DEPTH, MAX_CONTAINER_LEN, MAX_INT_BITS, MAX_STR_LEN
from yulian.contracts.host import (
    MAX_EVENT_BYTES,
    MAX_EVENT_TOTAL_BYTES,
    MAX_EVENTS,
    MAX_KEY_BYTES,
    MAX_RETURN_BYTES,
    MAX_VALUE_BYTES,
)

STEP_LIMIT = 500_000


def body(*lines: str) -> str:
    return "def attack(ctx):\n" + "".join(f"    {line}\n" for line in lines)


# Shared sub-lists: tiny in memory, exponential as a tree. 28 levels stay under MAX_NESTING so
# the budget, not the depth rule, must stop the walk; WIDE stays under the encoding depth.
DAG = ("a = [0]", "b = [0]", "for i in range(28):", "    a = [a, a]", "    b = [b, b]")
WIDE = ("a = [0]", "for i in range(12):", "    a = [a, a, a, a]")
SHALLOW_WIDE = ("a = [0]", "for i in range(8):", "    a = [a, a, a, a]")  # 65,536 leaves
MIB_STR = "s = 'a' * 1_000_000"

# (id, expected status, expected message prefix, source)
ATTACKS: list[tuple[str, str, str, str]] = [
    # --- loops ---
    ("while_true", "out_of_steps", "step limit", body("while True:", "    pass")),
    ("while_continue", "out_of_steps", "step limit", body("while 1:", "    continue")),
    ("for_range", "out_of_steps", "step limit", body("for i in range(10**12):", "    pass")),
    (
        "nested_for",
        "out_of_steps",
        "step limit",
        body("for i in range(10**6):", "    for j in range(10**6):", "        pass"),
    ),
    ("comprehension", "out_of_steps", "step limit", body("return len([i for i in range(10**12)])")),
    (
        "dict_comprehension",
        "out_of_steps",
        "step limit",
        body("return len({str(i): i for i in range(10**12)})"),
    ),
    ("list_append_loop", "out_of_steps", "", body("x = []", "while True:", "    x.append(1)")),
    ("iterate_growing_list", "out_of_steps", "", body("x = [1]", "for i in x:", "    x.append(i)")),
    # --- recursion ---
    (
        "recursion",
        "out_of_steps",
        "call depth",
        "def attack(ctx):\n    return f(0)\ndef f(n):\n    return f(n + 1)\n",
    ),
    (
        "recursion_with_ctx",
        "out_of_steps",
        "call depth",
        "def attack(ctx, n=0):\n    return attack(ctx, n + 1)\n",
    ),
    (
        "mutual_recursion",
        "out_of_steps",
        "call depth",
        "def attack(ctx):\n    return f(1)\n"
        "def f(n):\n    return g(n)\n"
        "def g(n):\n    return f(n)\n",
    ),
    (
        "nested_def_recursion",
        "out_of_steps",
        "call depth",
        body("def g(n):", "    return g(n + 1)", "return g(0)"),
    ),
    (
        "recursion_through_sorted",
        "out_of_steps",
        "call depth",
        "def attack(ctx):\n    return k(1)\ndef k(x):\n    return sorted([x, x], key=k)\n",
    ),
    (
        "recursion_through_max",
        "out_of_steps",
        "call depth",
        "def attack(ctx):\n    return k(1)\ndef k(x):\n    return max([x, x], key=k)\n",
    ),
    (
        "wide_recursion",
        "out_of_steps",
        "step limit",
        "def attack(ctx):\n    return f(20)\n"
        "def f(n):\n    if n == 0:\n        return 1\n    return f(n - 1) + f(n - 1)\n",
    ),
    # --- huge integers ---
    ("pow_tower", "out_of_steps", "", body("return 10 ** 10 ** 10")),
    ("pow_2_2_40", "out_of_steps", "", body("return 2 ** (2 ** 40)")),
    ("pow_just_over", "out_of_steps", "integer larger", body(f"return 2 ** {MAX_INT_BITS + 8}")),
    ("lshift", "out_of_steps", "", body("return 1 << 10**10")),
    (
        "square_loop",
        "out_of_steps",
        "integer larger",
        body("x = 3", "while True:", "    x = x * x"),
    ),
    ("inplace_pow", "out_of_steps", "integer larger", body("x = 7", "while True:", "    x **= 3")),
    (
        "doubling_int",
        "out_of_steps",
        "integer larger",
        body("x = 1", "while True:", "    x = x + x"),
    ),
    (
        "subtract_growth",
        "out_of_steps",
        "integer larger",
        body("x = 1", "while True:", "    x = x - (-x)"),
    ),
    (
        "sum_overflow",
        "out_of_steps",
        "integer larger",
        body(f"x = 2 ** {MAX_INT_BITS - 1}", "return sum([x, x, x, x])"),
    ),
    ("int_from_long_text", "out_of_steps", "integer text", body("return int('1' * 10**6)")),
    ("int_from_decimal", "out_of_steps", "Decimal with more", body("return int(Decimal('9E998'))")),
    # --- huge strings, bytes, lists ---
    ("str_repeat", "out_of_steps", "step limit", body("return 'a' * 10**10")),
    ("str_repeat_reversed", "out_of_steps", "step limit", body("return 10**10 * 'a'")),
    ("bytes_repeat", "out_of_steps", "step limit", body("return b'a' * 10**10")),
    ("list_repeat", "out_of_steps", "step limit", body("return [0] * 10**10")),
    ("tuple_repeat", "out_of_steps", "step limit", body("return (0,) * 10**10")),
    ("str_over_cap", "out_of_steps", "string longer", body(f"return len('a' * {MAX_STR_LEN + 1})")),
    ("list_doubling", "out_of_steps", "", body("x = [1]", "while True:", "    x = x + x")),
    ("str_doubling", "out_of_steps", "", body("x = 'ab'", "while True:", "    x = x + x")),
    ("list_imul", "out_of_steps", "", body("x = [1]", "while True:", "    x *= 2")),
    ("list_iadd", "out_of_steps", "", body("x = [1]", "while True:", "    x += x")),
    ("list_extend_self", "out_of_steps", "", body("x = [1]", "while True:", "    x.extend(x)")),
    ("slice_assign_self", "out_of_steps", "", body("x = [1]", "while True:", "    x[:0] = x")),
    ("join_huge", "out_of_steps", "", body("x = 'a' * 1000", "return len(x.join([x] * 100000))")),
    (
        "join_doubling",
        "out_of_steps",
        "",
        body("x = 'ab'", "while True:", "    x = x.join([x, x])"),
    ),
    ("replace_huge", "out_of_steps", "", body("x = 'a' * 100000", "return len(x.replace('a', x))")),
    ("replace_empty", "out_of_steps", "", body("x = 'a' * 100000", "return len(x.replace('', x))")),
    ("zfill_huge", "out_of_steps", "", body("return len('1'.zfill(10**9))")),
    ("bytes_count", "out_of_steps", "step limit", body("return len(bytes(10**9))")),
    ("bytes_from_range", "out_of_steps", "step limit", body("return len(bytes(range(10**12)))")),
    ("list_of_range", "out_of_steps", "step limit", body("return len(list(range(10**12)))")),
    ("tuple_of_range", "out_of_steps", "step limit", body("return len(tuple(range(10**12)))")),
    ("sorted_range", "out_of_steps", "step limit", body("return sorted(range(10**12))")),
    ("sum_range", "out_of_steps", "step limit", body("return sum(range(10**12))")),
    ("max_range", "out_of_steps", "step limit", body("return max(range(10**12))")),
    ("all_range", "out_of_steps", "step limit", body("return all(range(1, 10**12))")),
    ("any_range", "out_of_steps", "step limit", body("return any([0] * 10**9)")),
    ("zip_ranges", "out_of_steps", "", body("return len(list(zip(range(10**12), range(10**12))))")),
    ("enumerate_range", "out_of_steps", "", body("return len(dict(enumerate(range(10**12))))")),
    (
        "str_of_range",
        "out_of_steps",
        "step limit",
        body("return ''.join([str(i) for i in range(10**12)])"),
    ),
    ("in_range_scan", "out_of_steps", "step limit", body("return 'x' in range(10**12)")),
    (
        "dict_growth",
        "out_of_steps",
        "",
        body("d = {}", "i = 0", "while True:", "    d[str(i)] = i", "    i += 1"),
    ),
    (
        "dict_update_growth",
        "out_of_steps",
        "",
        body(
            "d = {}",
            "i = 0",
            "while True:",
            "    d.update({str(i): i, str(-i - 1): i})",
            "    i += 1",
        ),
    ),
    (
        "setdefault_growth",
        "out_of_steps",
        "",
        body("d = {}", "i = 0", "while True:", "    d.setdefault(str(i), 0)", "    i += 1"),
    ),
    (
        "list_over_cap",
        "out_of_steps",
        "container longer",
        body(f"return len([0] * {MAX_CONTAINER_LEN + 1})"),
    ),
    # --- long straight-line code pays for its length ---
    (
        "long_loop_body",
        "out_of_steps",
        "step limit",
        body("x = 0", "while True:", *["    x = (x + 1) % 7"] * 3000),
    ),
    (
        "long_function_in_loop",
        "out_of_steps",
        "step limit",
        body("while True:", "    long(1)") + "def long(x):\n" + "    x = (x + 1) % 7\n" * 3000,
    ),
    (
        "wide_comprehension_item",
        "out_of_steps",
        "step limit",
        body("x = 1", "return len([(" + ", ".join(["x"] * 5000) + ") for i in range(10**9)])"),
    ),
    # --- unmetered C work on big operands must be charged ---
    ("lower_in_loop", "out_of_steps", "step limit", body(MIB_STR, "while True:", "    s.lower()")),
    (
        "count_in_loop",
        "out_of_steps",
        "step limit",
        body(MIB_STR, "while True:", "    s.count('b')"),
    ),
    (
        "compare_in_loop",
        "out_of_steps",
        "step limit",
        body(MIB_STR, "t = 'a' * 1_000_000", "while True:", "    s == t"),
    ),
    ("in_in_loop", "out_of_steps", "step limit", body(MIB_STR, "while True:", "    'b' in s")),
    ("slice_in_loop", "out_of_steps", "step limit", body(MIB_STR, "while True:", "    s[1:]")),
    (
        "list_scan_in_loop",
        "out_of_steps",
        "step limit",
        body("x = [0] * 200000", "while True:", "    5 in x"),
    ),
    (
        "copy_in_loop",
        "out_of_steps",
        "step limit",
        body("x = [0] * 200000", "while True:", "    x.copy()"),
    ),
    ("dag_eq", "out_of_steps", "step limit", body(*DAG, "return a == b")),
    ("dag_str", "out_of_steps", "step limit", body(*DAG, "return len(str(a))")),
    ("dag_fstring", "out_of_steps", "step limit", body(*DAG, "return f'{a}'")),
    ("dag_in", "out_of_steps", "step limit", body(*DAG, "return a in [b]")),
    ("dag_sorted", "out_of_steps", "step limit", body(*DAG, "return sorted([a, b])")),
    ("dag_put", "fault", "LimitExceeded", body(*WIDE, "ctx.state.put('k', a)")),
    ("dag_emit", "fault", "LimitExceeded", body(*SHALLOW_WIDE, "ctx.emit('e', a)")),
    ("dag_return", "fault", "LimitExceeded", body(*SHALLOW_WIDE, "return a")),
    ("dag_args_nesting", "fault", "InvalidValue", body(*DAG, "ctx.state.put('k', a)")),
    (
        "deep_nesting",
        "fault",
        "LimitExceeded",
        body("a = []", "for i in range(100000):", "    a = [a]", "return str(a)"),
    ),
    # --- host limits: keys, values, events ---
    ("huge_key", "fault", "LimitExceeded", body(f"ctx.state.put('k' * {MAX_KEY_BYTES + 1}, 1)")),
    ("huge_value", "fault", "LimitExceeded", body(f"ctx.state.put('k', 'x' * {MAX_VALUE_BYTES})")),
    (
        "many_writes",
        "out_of_steps",
        "step limit",
        body(
            f"v = 'x' * {MAX_VALUE_BYTES - 16}",
            "i = 0",
            "while True:",
            "    ctx.state.put(str(i), v)",
            "    i += 1",
        ),
    ),
    ("many_reads", "out_of_steps", "step limit", body("while True:", "    ctx.state.get('k')")),
    ("huge_event", "fault", "LimitExceeded", body(f"ctx.emit('e', 'x' * {MAX_EVENT_BYTES})")),
    (
        "too_many_events",
        "fault",
        "LimitExceeded",
        body(f"for i in range({MAX_EVENTS + 1}):", "    ctx.emit('e', i)"),
    ),
    (
        "event_bytes_total",
        "fault",
        "LimitExceeded",
        body(
            f"for i in range({MAX_EVENT_TOTAL_BYTES // (MAX_EVENT_BYTES // 2) + 1}):",
            f"    ctx.emit('e', 'x' * {MAX_EVENT_BYTES // 2})",
        ),
    ),
    ("huge_event_name", "fault", "InvalidValue", body("ctx.emit('e' * 1000, 1)")),
    ("huge_return", "fault", "LimitExceeded", body(f"return 'x' * {MAX_RETURN_BYTES}")),
    ("huge_revert_message", "reverted", "xxxx", body("ctx.require(False, 'x' * 1_000_000)")),
    # --- conversions ---
    ("str_of_huge_int", "out_of_steps", "", body("return str(10 ** 100000)")),
    (
        "fstring_of_huge_int",
        "out_of_steps",
        "",
        body("x = 1", "for i in range(3000):", "    x = x + x", "return f'{x}'"),
    ),
    ("decimal_overflow", "fault", "Overflow", body("return str(Decimal(10) ** 10**18)")),
    ("decimal_long_text", "out_of_steps", "Decimal text", body("return str(Decimal('1' * 10**6))")),
    ("unpack_huge_range", "fault", "ValueError", body("a, b = range(10**12)", "return a")),
]


def run(source: str, step_limit: int = STEP_LIMIT) -> Outcome:
    contract = compile_contract("attack", source)
    return contract.invoke(
        "attack",
        [],
        sender=Sender("org1", "client", "c1"),
        block=BlockInfo(3, 1_000),
        tx=TxInfo("01"),
        state=MemoryState(),
        step_limit=step_limit,
    )


@pytest.mark.parametrize(
    ("status", "message", "source"), [pytest.param(s, m, src, id=i) for i, s, m, src in ATTACKS]
)
def test_attack_is_bounded_and_deterministic(status: str, message: str, source: str) -> None:
    outcome = run(source)
    assert outcome.status == status, outcome
    assert message in outcome.message, outcome
    assert outcome.steps <= STEP_LIMIT
    if status == "out_of_steps":
        assert outcome.steps == STEP_LIMIT
    assert outcome.value is None and outcome.events == ()
    assert run(source) == outcome


def test_call_depth_limit_is_exact() -> None:
    source = (
        "def attack(ctx, depth):\n    return down(depth)\n"
        "def down(n):\n    if n == 0:\n        return 0\n    return 1 + down(n - 1)\n"
    )
    contract = compile_contract("depth", source)

    def call(depth: int) -> Outcome:
        return contract.invoke(
            "attack",
            [depth],
            sender=Sender("o", "client", "c"),
            block=BlockInfo(1, 0),
            tx=TxInfo("00"),
            state=MemoryState(),
        )

    # attack itself is one level; down(n) adds n + 1 more.
    assert call(MAX_CALL_DEPTH - 2) == Outcome(
        "ok", "", MAX_CALL_DEPTH - 2, (), call(MAX_CALL_DEPTH - 2).steps
    )
    assert call(MAX_CALL_DEPTH - 1).status == "out_of_steps"


def test_small_budgets_are_respected() -> None:
    for limit in (1, 2, 10, 1000):
        outcome = run(body("while True:", "    pass"), step_limit=limit)
        assert (outcome.status, outcome.steps) == ("out_of_steps", limit)


def test_host_keeps_serving_after_attacks() -> None:
    for _, _, _, source in ATTACKS[:10]:
        run(source)
    outcome = run(body("ctx.state.put('k', 1)", "return ctx.state.get('k')"))
    assert (outcome.status, outcome.value) == ("ok", 1)
