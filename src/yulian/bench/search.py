"""Introduction: random programs from a grammar of operations and adversarial operands.

The cases of ``bench.adversarial`` are written by hand against each charge; these search the
space between them: each program repeats one to three operations, drawn from per-type tables
(and int/Decimal mixes), on operands drawn from pools of the largest and most awkward values a
contract can hold, sometimes inside a comprehension. Same seed, same programs, so a program
that ``yulian.bench.worstcase --search`` flags can be run again.
"""

from __future__ import annotations

import random

from yulian.bench.adversarial import BIG, DEC_28, DEC_MAX, DEC_MIN, DENSE, Case

OPERANDS: dict[str, list[str]] = {
    "int": [BIG, DENSE, "-(" + BIG + ")", "7", "2 ** 64", "2 ** 61 - 1"],
    "dec": [DEC_MAX, DEC_MIN, DEC_28, "Decimal(3)"],
    "str": [
        "'a' * 5000",
        "'\\u4e2d' * 5000",
        "'\\U0001f600' * 3000",
        "'a' * 2000 + 'b' + 'a' * 2000",
        "'ab' * 3000",
        "'x'",
    ],
    "bytes": ["b'a' * 5000", "b'\\xff' * 3000", "b'ab' * 2000"],
    "list": [
        f"[{BIG}] * 500",
        f"[{DEC_28}] * 500",
        "['a' * 50] * 500",
        "list(range(1000))",
        "[[1, [2, [3]]]] * 200",
    ],
    "dict": ["{'k' + str(i): i for i in range(500)}", "{'a': [1, 2], 'b': {'c': 'd'}}"],
}
OPERATIONS: dict[str, list[str]] = {
    "int": [
        "A + B",
        "A * B",
        "A // B",
        "A % B",
        "A == B",
        "A < B",
        "-A",
        "~A",
        "abs(A)",
        "str(A)",
        "hex(A)",
        "A >> 7",
        "A & B",
        "A ^ B",
        "Decimal(A)",
        "divmod(A, B)",
    ],
    "dec": [
        "A + B",
        "A * B",
        "A // B",
        "A == B",
        "A < B",
        "str(A)",
        "int(A)",
        "A.quantize(B)",
        "A ** 3",
    ],
    "str": [
        "A + B",
        "A == B",
        "A < B",
        "B in A",
        "A.find(B)",
        "A.rfind(B)",
        "A.count(B)",
        "A.split(B)",
        "A.rsplit(B)",
        "A.replace(B, A)",
        "A.strip(B)",
        "A.rstrip(B)",
        "A.upper()",
        "A.encode()",
        "A.rpartition(B)",
        "A.lstrip(B)",
        "A[1:]",
        "f'{A}{B}'",
        "A.join([B, B])",
    ],
    "bytes": [
        "A + B",
        "A == B",
        "B in A",
        "A.find(B)",
        "A.rfind(B)",
        "A.rsplit(B)",
        "A.hex()",
        "A.decode('utf-8', 'replace')",
    ],
    "list": [
        "A == B",
        "A < B",
        "sorted(A)",
        "max(A)",
        "str(A)",
        "A + B",
        "A[1:]",
        "A.index(A[-1])",
        "A.count(A[0])",
    ],
    "dict": ["A == B", "str(A)", "A.copy()", "list(A.items())", "A.get('k7')"],
}
MIXED: list[tuple[str, str, str]] = [  # (type of A, type of B, operation)
    ("int", "dec", "A == B"),
    ("int", "dec", "A < B"),
    ("int", "dec", "A + B"),
    ("dec", "int", "A * B"),
    ("dec", "list", "A in B"),
    ("int", "list", "A in B"),
    ("int", "list", "B.count(A)"),
]


def random_programs(count: int, seed: int) -> list[Case]:
    """``count`` programs, each repeating one to three random operations on random operands
    of the pools above: same seed, same programs."""
    rng = random.Random(seed)
    kinds = sorted(OPERATIONS)
    out = []
    for index in range(count):
        setup: list[str] = []
        body: list[str] = []
        for slot in range(rng.randint(1, 3)):
            if rng.random() < 0.25:
                ka, kb, op = rng.choice(MIXED)
            else:
                ka = kb = rng.choice(kinds)
                op = rng.choice(OPERATIONS[ka])
            a, b = f"a{slot}", f"b{slot}"
            setup += [f"{a} = {rng.choice(OPERANDS[ka])}", f"{b} = {rng.choice(OPERANDS[kb])}"]
            expression = op.replace("A", a).replace("B", b)
            if rng.random() < 0.3:
                expression = f"[{expression} for i in range(50)]"
            body.append(expression)
        out.append(
            Case(
                "random",
                f"seed {seed} #{index}: {'; '.join(body)}",
                tuple(setup),
                tuple(body),
                "any",
            )
        )
    return out
