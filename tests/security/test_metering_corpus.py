"""Issue 16: an adversarial corpus against the cost model — every case bounded, deterministic.

The corpus is ``yulian.bench.adversarial``: for every operation a contract can perform, the
inputs that make it slowest or hungriest for its charge (the benchmark
``yulian.bench.worstcase`` times the same cases). Here, without timing anything:

- every case ends as it says (out of steps, refused at run time, refused at deploy), with
  ``steps <= step_limit``, and identically when run again and under another hash seed;
- no case holds more memory than the bound ``docs/contracts.md`` states, per step spent;
- for each class the issue names, the charge covers the work by the sizes that drive it:
  backward searches and ``strip`` by haystack x needle, conversions between binary and decimal
  by bits squared, dict keys that could collide refused wherever a key enters a dict, and big
  values charged by size, inside comprehensions too;
- random programs from the corpus's grammar end within their budget, identically, within the
  memory bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import yulian
from yulian.bench.adversarial import CASES, FAULT, OUT_OF_STEPS, REJECTED, Case
from yulian.bench.search import random_programs
from yulian.bench.worstcase import invoke, traced_peak
from yulian.contracts import (
    ContractRejected,
    Outcome,
    compile_contract,
)
from yulian.contracts.costs import (
    CONVERSION_FREE_BITS,
    SEARCH_UNITS_PER_STEP,
    conversion_steps,
)

STEP_LIMIT = 20_000
# docs/contracts.md: at most 128 MiB at the default 1,000,000 steps, i.e. 134 bytes a step, on
# top of what any invocation allocates to start (its namespace, the compiled module's frames)
BYTES_PER_STEP_BOUND = 128 * 2**20 / 1_000_000
START_BYTES = 2 * 2**20


def run(source: str, step_limit: int = STEP_LIMIT) -> Outcome:
    return invoke(compile_contract("corpus", source), step_limit)


def outcome_of(case: Case, step_limit: int = STEP_LIMIT) -> Outcome | str:
    try:
        return run(case.source(), step_limit)
    except ContractRejected as e:
        return f"rejected: {e.reason}"


def traced(source: str, step_limit: int) -> tuple[int, Outcome]:
    return traced_peak(compile_contract("corpus", source), step_limit)


# --- the corpus as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_ends_as_it_says_and_again(case: Case) -> None:
    first = outcome_of(case)
    if case.status == REJECTED:
        assert isinstance(first, str) and first.startswith("rejected"), first
        return
    assert isinstance(first, Outcome), first
    assert first.status == case.status, first
    assert first.steps <= STEP_LIMIT
    if case.status == OUT_OF_STEPS:
        assert first.steps == STEP_LIMIT
    assert first.value is None and first.events == ()
    assert outcome_of(case) == first


MEMORY_CASES = [c for c in CASES if c.operation in ("keep", "comprehension", "display", "zip()")]


@pytest.mark.parametrize("case", MEMORY_CASES, ids=[c.name for c in MEMORY_CASES])
def test_no_case_holds_more_memory_than_its_steps_pay_for(case: Case) -> None:
    peak, outcome = traced(case.source(), STEP_LIMIT)
    assert outcome.status == case.status
    assert peak <= START_BYTES + BYTES_PER_STEP_BOUND * outcome.steps, (peak, outcome.steps)


def test_random_programs_end_within_their_budget_and_memory() -> None:
    for case in random_programs(60, seed=16):
        first = outcome_of(case, 10_000)
        assert isinstance(first, Outcome), first
        assert first.status in ("out_of_steps", "fault"), (case.variant, first)
        assert first.steps <= 10_000
        assert outcome_of(case, 10_000) == first
        peak, _ = traced(case.source(), 10_000)
        assert peak <= START_BYTES + BYTES_PER_STEP_BOUND * 10_000, (case.variant, peak)


HASHSEED_SCRIPT = """
import hashlib
from yulian.bench.adversarial import CASES
from yulian.bench.search import random_programs
from yulian.contracts import BlockInfo, ContractRejected, MemoryState, Sender, TxInfo
from yulian.contracts import compile_contract
from yulian.types.encoding import encode, to_canonical
parts = []
for case in [*CASES, *random_programs(40, seed=7)]:
    try:
        o = compile_contract("corpus", case.source()).invoke(
            "run", [], sender=Sender("org1", "client", "c0ffee"),
            block=BlockInfo(7, 1_700_000_000_000), tx=TxInfo("ab" * 32),
            state=MemoryState(), step_limit=3000)
        parts.append((o.status, o.message, o.steps))
    except ContractRejected as e:
        parts.append(("rejected", e.reason, 0))
print(hashlib.sha256(encode(to_canonical(parts))).hexdigest())
"""


def test_the_corpus_ends_identically_under_every_hash_seed() -> None:
    """Every node computes the same receipts: str and bytes hash with a per-process key, and
    no outcome may depend on it (K3 for the corpus)."""
    src = str(Path(yulian.__file__).resolve().parents[1])
    digests = set()
    for seed in ("0", "1", "random"):
        result = subprocess.run(
            [sys.executable, "-c", HASHSEED_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": src},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1, digests


# --- the classes of issue 16, charge by charge --------------------------------------------------


def steps_of(setup: str, operation: str) -> int:
    """The steps ``operation`` costs after ``setup``: one run with it, one without."""
    with_op = run(f"def run(ctx):\n    {setup}\n    {operation}\n    return None\n", 10**8)
    without = run(f"def run(ctx):\n    {setup}\n    return None\n", 10**8)
    assert with_op.status == without.status == "ok", (with_op, without)
    return with_op.steps - without.steps


@pytest.mark.parametrize(
    "method", ["rfind", "rindex", "rpartition", "rsplit", "strip", "lstrip", "rstrip"]
)
@pytest.mark.parametrize("kind", ["str", "bytes"])
def test_backward_searches_and_strip_pay_haystack_times_needle(method: str, kind: str) -> None:
    n, m = 20_000, 99
    quote = "b" if kind == "bytes" else ""
    near = f"{quote}'a' * 49 + {quote}'b' + {quote}'a' * 49"
    if method in ("strip", "lstrip", "rstrip"):
        setup = f"s = {quote}'a' * {n}; p = {quote}'b' * {m - 1} + {quote}'a'"
    elif method == "rindex":
        setup = f"s = {near} + {quote}'a' * {n}; p = {near}"
    else:
        setup = f"s = {quote}'a' * {n}; p = {near}"
    charged = steps_of(setup, f"s.{method}(p)")
    assert charged >= (n - m + 1) * m // SEARCH_UNITS_PER_STEP, charged


def test_forward_searches_pay_for_the_naive_loop_where_cpython_runs_it() -> None:
    # below 30,000 chars a needle under 100 chars is searched naively: haystack x needle
    naive = steps_of("s = 'a' * 29000; p = 'a' * 49 + 'b' + 'a' * 49", "s.find(p)")
    assert naive >= 29_000 * 99 // SEARCH_UNITS_PER_STEP
    # a long haystack is searched by the two-way algorithm: linear, and charged so
    linear = steps_of("s = 'a' * 200000; p = 'a' * 499 + 'b' + 'a' * 499", "s.find(p)")
    assert linear < 200_000 * 999 // SEARCH_UNITS_PER_STEP // 10


BIG = "2 ** 2040 + 12345"


@pytest.mark.parametrize(
    ("setup", "operation"),
    [
        (f"n = {BIG}", "str(n)"),
        (f"n = {BIG}", "f'{n:,}'"),
        (f"n = {BIG}", "Decimal(n)"),
        (f"n = {BIG}; d = Decimal(3)", "n == d"),
        (f"n = {BIG}; d = Decimal(3)", "n < d"),
        (f"n = {BIG}; d = Decimal(3)", "d + n"),
        (f"n = {BIG}; d = Decimal(3)", "d // n"),
        (f"n = {BIG}; d = Decimal(3)", "max(n, d)"),
        (f"n = {BIG}; d = Decimal(3)", "sum([d, n])"),
        (f"n = {BIG}; x = [Decimal(3)] * 10", "n in x"),
        (f"n = {BIG}; x = [Decimal(3)] * 10", "x.count(n)"),
        (f"x = [{BIG}] * 10", "Decimal(3) in x"),
        (f"x = [{BIG}] * 10; y = [Decimal(3)] * 10", "x == y"),
        ("s = '7' * 600", "int(s)"),
        ("d = Decimal('9.999999999999999999999999999E599')", "int(d)"),
    ],
)
def test_conversions_between_binary_and_decimal_pay_bits_squared(
    setup: str, operation: str
) -> None:
    charged = steps_of(setup, operation)
    assert charged >= conversion_steps(1990), charged
    assert conversion_steps(1990) > 50 * conversion_steps(CONVERSION_FREE_BITS)


@pytest.mark.parametrize(
    "source",
    [
        "    k = 2 ** 61 - 1\n    d = {k: 1}\n",
        "    d = {}\n    d[2 ** 61 - 1] = 1\n",
        "    d = {k: 1 for k in [2 ** 61 - 1, 2 * (2 ** 61 - 1)]}\n",
        "    d = {}\n    d.setdefault(2 ** 61 - 1, 1)\n",
        "    d = dict([(2 ** 61 - 1, 1)])\n",
        "    d = {}\n    d.update([(2 ** 61 - 1, 1)])\n",
        "    d = {'a': 1}\n    d |= dict([(Decimal(1), 1)])\n",
    ],
)
def test_keys_whose_hash_a_contract_controls_never_enter_a_dict(source: str) -> None:
    outcome = run(f"def run(ctx):\n{source}    return None\n")
    assert outcome.status == "fault" and "dict keys must be" in outcome.message, outcome


def test_int_keys_in_a_dict_display_are_refused_at_deploy() -> None:
    with pytest.raises(ContractRejected, match="dict keys must be"):
        compile_contract("keys", "def run(ctx):\n    return {2305843009213693951: 1}\n")
    with pytest.raises(ContractRejected, match="dict keys must be"):
        compile_contract("keys", "TABLE = {1: 'a'}\n\ndef run(ctx):\n    return 1\n")


def test_lookups_with_any_scalar_still_work() -> None:
    outcome = run(
        "def run(ctx):\n"
        "    d = {'a': 1, True: 2, None: 3, b'k': 4}\n"
        "    return [d.get(1), d.get(Decimal(1)), d.get(2 ** 61 - 1), 0 in d, d[None], d[b'k']]\n"
    )
    assert (outcome.status, outcome.value) == ("ok", (2, 2, None, False, 3, 4))


@pytest.mark.parametrize(
    ("made", "per_item_steps"),
    [
        ("-n", 8),  # a 2040-bit int is 7 steps of memory, plus the item
        ("n + n", 8),
        ("{'a': i}", 3),
        ("[i, i]", 2),
        ("s * 2", 64),  # 512 wide chars, 4 bytes each
        ("d + d", 2),
    ],
)
def test_values_made_in_a_comprehension_are_charged_by_size(made: str, per_item_steps: int) -> None:
    setup = f"n = {BIG}; s = '\\U0001f600' * 256; d = Decimal(1)"
    one = steps_of(setup, f"x = [{made} for i in range(10)]")
    two = steps_of(setup, f"x = [{made} for i in range(20)]")
    assert (two - one) >= 10 * per_item_steps, two - one


def test_a_comprehension_of_big_values_is_bounded_in_memory() -> None:
    """The case the issue met (~970 MiB in under 2 s): fresh big ints by the million."""
    source = (
        f"def run(ctx):\n    n = {BIG}\n    return len([(-n, -n, -n, -n) for i in range(10**9)])\n"
    )
    peak, outcome = traced(source, 200_000)
    assert outcome.status == "out_of_steps"
    assert peak <= START_BYTES + BYTES_PER_STEP_BOUND * 200_000


def test_the_corpus_covers_every_class_of_the_issue() -> None:
    operations = {c.operation for c in CASES}
    for needed in (
        "str.rfind",
        "str.rsplit",
        "str.rpartition",
        "str.rindex",
        "bytes.rfind",
        "str.strip",
        "bytes.strip",
        "dict setitem",
        "int == Decimal",
        "int()",
        "Decimal()",
        "in (list)",
        "keep",
        "comprehension",
    ):
        assert needed in operations, needed
    assert {c.status for c in CASES} == {OUT_OF_STEPS, FAULT, REJECTED}
