"""Introduction: contracts chosen against the cost model — one per charged operation and input.

``CASES`` holds, for every operation a contract can perform (operators, builtins, the methods
of str / bytes / list / dict / Decimal / int, guards, host calls: state, scans, composite keys,
calls to another contract), the inputs that make it
slowest or hungriest for the steps it is charged: backward searches with a needle that almost
matches everywhere, int/Decimal conversions at the largest int, comprehensions building fresh
objects, and so on. Each case is a contract whose ``run(ctx)`` sets its inputs up and then
repeats the operation until the step budget runs out, so its CPU time and memory divided by
its steps is the cost of one step of that operation. ``bench.search`` writes more of them
from a grammar of operations and adversarial operands, to search the space beyond the cases
written by hand.

Used by ``yulian.bench.worstcase`` (which times them) and by ``tests/security`` (which checks
that each ends as its case says, identically every time, within the memory bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from yulian.contracts.builtins import DECIMAL_CONTEXT

OUT_OF_STEPS = "out_of_steps"
FAULT = "fault"  # refused at run time on its inputs
REJECTED = "rejected"  # refused at deploy time


@dataclass(frozen=True)
class Case:
    """A contract that repeats one operation on adversarial inputs until out of steps."""

    operation: str  # the charged operation, e.g. "str.rfind"
    variant: str  # the inputs, e.g. "needle a*k+b+a*k in a*n"
    setup: tuple[str, ...]  # statements run once, before the loop
    body: tuple[str, ...]  # the loop body
    status: str = OUT_OF_STEPS  # how it ends: out of steps, refused on its inputs, or at deploy
    helpers: str = ""  # module-level helper functions the body calls

    @property
    def name(self) -> str:
        return f"{self.operation} [{self.variant}]"

    def source(self, *, setup_only: bool = False) -> str:
        """The contract; with ``setup_only`` the same set-up followed by a return, so that its
        cost can be told apart from the loop's."""
        lines = ["def run(ctx):", *(f"    {s}" for s in self.setup)]
        if setup_only:
            lines.append("    return None")
        else:
            lines += ["    while True:", *(f"        {s}" for s in self.body)]
        return "\n".join(lines) + "\n" + self.helpers


def _case(
    operation: str,
    variant: str,
    setup: str | tuple[str, ...],
    body: str | tuple[str, ...],
    status: str = OUT_OF_STEPS,
    helpers: str = "",
) -> Case:
    setup_lines = (setup,) if isinstance(setup, str) else setup
    body_lines = (body,) if isinstance(body, str) else body
    return Case(operation, variant, setup_lines, body_lines, status, helpers)


BIG = "2 ** 2040 + 12345"  # the largest ints a contract can hold, give or take
DENSE = "3 ** 1280"  # as many set bits as ones
DEC_MAX = "Decimal('9.999999999999999999999999999E999')"
DEC_MIN = "Decimal('1E-999')"
DEC_28 = "Decimal('1.234567890123456789012345678')"
TEXTS = {  # one char of each width CPython stores: 1, 2 and 4 bytes
    "ascii": "'a'",
    "ucs2": "'\\u4e2d'",
    "ucs4": "'\\U0001f600'",
}


def _search_cases() -> list[Case]:
    """Text searches on a haystack of one repeated char and a needle that matches it almost
    everywhere: the inputs on which CPython's search loops compare the most."""
    out = []
    sizes = ((2400, 1000), (2400, 99), (20_000, 99), (29_000, 60), (100_000, 1000), (200_000, 5))
    for n, m in sizes:
        k = m // 2
        near = f"'a' * {k} + 'b' + 'a' * {m - k - 1}"
        base = (f"s = 'a' * {n}", f"p = {near}")
        for method in ("find", "rfind", "count", "split", "rsplit", "partition", "rpartition"):
            out.append(_case(f"str.{method}", f"{m} in {n}", base, f"s.{method}(p)"))
        out += [
            _case("str.replace", f"{m} in {n}", base, "s.replace(p, 'x')"),
            _case("in (str)", f"{m} in {n}", base, "p in s"),
            _case("str.index", f"{m} at the end of {n}", (*base, "s = s + p"), "s.index(p)"),
            _case("str.rindex", f"{m} at the start of {n}", (*base, "s = p + s"), "s.rindex(p)"),
            _case(
                "bytes.rfind",
                f"{m} in {n}",
                ("s = b'a' * " + str(n), f"p = ({near}).encode()"),
                "s.rfind(p)",
            ),
            _case(
                "bytes.find",
                f"{m} in {n}",
                ("s = b'a' * " + str(n), f"p = ({near}).encode()"),
                "s.find(p)",
            ),
        ]
    for method in ("strip", "lstrip", "rstrip"):
        for n, k in ((50_000, 40), (5000, 500), (1000, 60), (200, 2000)):
            chars = f"''.join([chr(0x4e00 + i) for i in range({k})])"
            setup = (f"c = {chars}", f"s = c[-1] * {n}")
            out.append(_case(f"str.{method}", f"{k} chars, {n} to strip", setup, f"s.{method}(c)"))
        setup = ("c = bytes(range(256)) * 4", "s = b'\\xff' * 5000")
        out.append(_case(f"bytes.{method}", "1024 chars, 5000 to strip", setup, f"s.{method}(c)"))
    return out


def _text_cases() -> list[Case]:
    out = []
    for width, char in TEXTS.items():
        for n in (31, 4000, 50_000):
            s = f"s = {char} * {n}"
            out += [
                _case("str.upper", f"{width} {n}", s, "s.upper()"),
                _case(
                    "str.split",
                    f"{width} {n}, items",
                    f"s = ({char} + ',') * {n // 2}",
                    "s.split(',')",
                ),
                _case(
                    "str.splitlines",
                    f"{width} {n}",
                    f"s = ({char} + '\\n') * {n // 2}",
                    "s.splitlines()",
                ),
                _case("str.encode", f"{width} {n}", s, "s.encode()"),
                _case("str +", f"{width} {n}", (s, "t = s"), "s + t"),
                _case("str *", f"{width} {n}", s, "s * 2"),
                _case("str ==", f"{width} {n}", (s, f"t = {char} * {n}"), "s == t"),
                _case("str <", f"{width} {n}", (s, f"t = {char} * {n}"), "s < t"),
                _case("str slice", f"{width} {n}", s, "s[1:]"),
                _case("str.join", f"{width} {n}", (s, "parts = [s, s]"), "''.join(parts)"),
                _case(
                    "str.replace", f"{width} {n}, every char", s, f"s.replace({char}, {char} * 2)"
                ),
                _case("f-string", f"{width} {n}", s, "f'{s}{s}'"),
                _case("str()", f"list of {width} text", (s, "x = [s, s, s]"), "str(x)"),
            ]
    out += [
        _case("str.upper", "ß expands", "s = '\\u00df' * 100000", "s.upper()"),
        _case("str.title", "ﬃ expands", "s = '\\ufb03' * 100000", "s.title()"),
        _case("str.zfill", "999", "s = '1'", "s.zfill(999)"),
        _case("f-string", "width 999", "s = 'x'", "f'{s:>999}'"),
        _case("f-string", "Decimal 1E999 as :f", f"d = {DEC_MAX}", "f'{d:f}'"),
        _case("bytes.hex", "100000", "b = b'\\xff' * 100000", "b.hex()"),
        _case(
            "bytes.decode", "utf-8 4-byte chars", "b = '\\U0001f600'.encode() * 50000", "b.decode()"
        ),
        _case("bytes()", "from range", "r = range(256)", "bytes(r)"),
        _case("str()", "bytes 100000", "b = b'\\x00' * 100000", "str(b)"),
    ]
    return out


def _decimal_status(value: str, expression: str) -> str:
    """How a Decimal case ends: refused (``fault``) where the fixed context traps its result
    (overflow, a quotient past 28 digits), which Python's own ``decimal`` tells."""
    names = {"Decimal": Decimal}
    try:
        with localcontext(DECIMAL_CONTEXT):
            names.update(d=eval(value, names), e=eval(DEC_28, names))  # our own literals
            eval(expression, names)
    except ArithmeticError:
        return FAULT
    return OUT_OF_STEPS


def _number_cases() -> list[Case]:
    ints = {"big": BIG, "dense": DENSE, "small": "12345"}
    out = []
    for label, value in ints.items():
        setup = (f"n = {value}", "m = n // 3 + 1")
        for op in ("+", "-", "*", "//", "%", "&", "|", "^", ">>", "<<", "==", "<"):
            rhs = "m" if op not in (">>", "<<") else "3"
            if op == "*":
                setup_op = (f"n = {value}", "m = 2 ** 1000 + 7") if label != "small" else setup
                out.append(_case(f"int {op}", label, setup_op, "n * m"))
                continue
            out.append(_case(f"int {op}", label, setup, f"n {op} {rhs}"))
        out += [
            _case("int unary -", label, setup, "-n"),
            _case("int unary ~", label, setup, "~n"),
            _case("abs()", label, setup, "abs(-n)"),
            _case("divmod()", label, setup, "divmod(n, m)"),
            _case("hex()", label, setup, "hex(n)"),
            _case("str()", f"int {label}", setup, "str(n)"),
            _case("f-string", f"int {label} with ,", setup, "f'{n:,}'"),
            _case("int ** ", f"{label} base", "n = 3", "n ** 1290"),
            _case("int == Decimal", label, (f"n = {value}", "d = Decimal(7)"), "n == d"),
            _case("int < Decimal", label, (f"n = {value}", "d = Decimal(7)"), "n < d"),
            _case("int + Decimal", label, (f"n = {value}", "d = Decimal(7)"), "d + n"),
            _case("int // Decimal", label, (f"n = {value}", f"d = {DEC_MAX}"), "n // d"),
            _case("Decimal()", f"int {label}", f"n = {value}", "Decimal(n)"),
            _case(
                "max()", f"int {label} and Decimal", (f"n = {value}", "d = Decimal(7)"), "max(n, d)"
            ),
        ]
    decimals = {"max": DEC_MAX, "min": DEC_MIN, "28 digits": DEC_28}
    for label, value in decimals.items():
        setup = (f"d = {value}", f"e = {DEC_28}")
        expressions = {
            "Decimal +": "d + e",
            "Decimal -": "d - e",
            "Decimal *": "d * e",
            "Decimal //": "e // d",
            "Decimal %": "e % d",
            "Decimal ==": "d == e",
            "Decimal <": "d < e",
            "Decimal.quantize": "e.quantize(Decimal('1E-26'))",
            "Decimal **": "e ** 9999",
            "Decimal.to_eng_string": "d.to_eng_string()",
            "str()": "str(d)",
            "int()": "int(e)",
        }
        for operation, expression in expressions.items():
            status = _decimal_status(value, expression)
            out.append(_case(operation, f"Decimal {label}", setup, expression, status))
    out += [
        _case(
            "int()",
            "Decimal 600 digits",
            "d = Decimal('9.999999999999999999999999999E599')",
            "int(d)",
        ),
        _case("int()", "str 600 digits", "s = '7' * 600", "int(s)"),
        _case("int()", "str 600 digits base 16", "s = 'f' * 500", "int(s, 16)"),
        _case("int()", "bytes 600 digits", "s = b'7' * 600", "int(s)"),
        _case("Decimal()", "str 1000 digits", "s = '7' * 1000", "Decimal(s)"),
        _case(
            "Decimal **",
            "near 1, 40-bit exponent",
            "e = Decimal('1.000000000000000000000000001')",
            "e ** 999999999999",
        ),
        _case(
            "range()",
            "big bounds",
            f"n = {BIG}",
            ("for i in range(n, n + 1000):", "    pass"),
            FAULT,
        ),
        _case(
            "enumerate()",
            "big start",
            f"n = {BIG}",
            ("for i, v in enumerate([1, 2, 3], n):", "    pass"),
            FAULT,
        ),
        _case("sum()", "big ints and a Decimal", f"x = [Decimal(1)] + [{BIG}] * 1000", "sum(x)"),
    ]
    return out


def _container_cases() -> list[Case]:
    out = []
    lists = {
        "big ints": f"[{BIG}] * 2000",
        "Decimals": f"[{DEC_28}] * 2000",
        "texts": "['a' * 100] * 2000",
        "nested": "[[[[1, 2], [3]], [4]]] * 500",
    }
    for label, value in lists.items():
        setup = (f"x = {value}", "y = list(x)", "z = x[0]")
        out += [
            _case("list ==", label, setup, "x == y"),
            _case("list <", label, setup, "x < y"),
            _case("in (list)", f"Decimal in {label}", setup, "Decimal(3) in x"),
            _case("in (list)", f"big int in {label}", setup, f"({BIG} + 1) in x"),
            _case("list.index", label, setup, "x.index(z)"),
            _case("list.count", f"Decimal in {label}", setup, "x.count(Decimal(3))"),
            _case("sorted()", label, setup, "sorted(x)"),
            _case("max()", label, setup, "max(x)"),
            _case("str()", f"list of {label}", setup, "str(x)"),
            _case("list.copy", label, setup, "x.copy()"),
            _case("list slice", label, setup, "x[1:]"),
            _case("list +", label, setup, "x + y"),
            _case("list *", label, setup, "x * 2"),
        ]
    out += [
        _case(
            "sorted()",
            "big ints and Decimals",
            f"x = [Decimal(i) if i % 2 else {BIG} - i for i in range(300)]",
            "sorted(x)",
        ),
        _case(
            "sorted()",
            "texts with a long common prefix",
            "x = ['a' * 1000 + str(i) for i in range(300)]",
            "sorted(x)",
        ),
        _case(
            "in (list)",
            "Decimal among big ints, mixed",
            f"x = [{BIG} - i for i in range(1000)]",
            "Decimal(1) in x",
        ),
        _case("list.sort", "reversed", "x = list(range(5000))", ("x.sort(reverse=True)",)),
        _case("list.insert", "at 0", "x = [0] * 20000", ("x.insert(0, 1)", "x.pop()")),
        _case("list.pop", "at 0", "x = [0] * 20000", ("x.pop(0)", "x.append(0)")),
        _case("list.remove", "last", "x = [0] * 20000 + [1]", ("x.remove(1)", "x.append(1)")),
        _case("list.extend", "self", "x = [0] * 1000", ("x.extend(x)", "x[1000:] = []")),
        _case("list.reverse", "20000", "x = [0] * 20000", "x.reverse()"),
        _case("list()", "range 20000", "r = range(200000, 220000)", "list(r)"),
        _case("tuple()", "range 20000", "r = range(200000, 220000)", "tuple(r)"),
        _case("zip()", "three ranges", "r = range(2000)", "list(zip(r, r, r))"),
        _case("zip()", "eight ranges", "r = range(2000)", "list(zip(r, r, r, r, r, r, r, r))"),
        _case("enumerate()", "list", "x = [0] * 2000", "list(enumerate(x))"),
        _case("isinstance()", "long type tuple", "t = (int,) * 1000", "isinstance('x', t)"),
        _case("dict()", "from pairs", "p = [('k' + str(i), i) for i in range(2000)]", "dict(p)"),
        _case(
            "dict.update",
            "2000",
            "d = {}",
            ("d.update({'k' + str(i): i for i in range(2000)})", "d.clear()"),
        ),
        _case("dict.copy", "5000", "d = {'k' + str(i): i for i in range(5000)}", "d.copy()"),
        _case("dict.items", "5000", "d = {'k' + str(i): i for i in range(5000)}", "d.items()"),
        _case(
            "dict ==",
            "5000 text keys",
            ("d = {'k' + str(i): i for i in range(5000)}", "e = d.copy()"),
            "d == e",
        ),
        _case("dict []", "text key 100000", ("k = 'k' * 100000", "d = {k: 1}"), "d[k]"),
        _case(
            "in (dict)",
            "fresh text key 100000",
            ("d = {'a': 1}", "k = 'k' * 100000"),
            "(k + 'x') in d",
        ),
        _case(
            "dict setitem",
            "int keys that collide",
            ("d = {}", "k = 2 ** 61 - 1"),
            ("d[k] = 1", "d[2 * k] = 1"),
            FAULT,
        ),
        _case(
            "dict display",
            "int keys that collide",
            (),
            "d = {2305843009213693951: 1, 4611686018427387902: 2}",
            REJECTED,
        ),
        _case(
            "dict get",
            "Decimal key among text keys",
            "d = {'k' + str(i): i for i in range(5000)}",
            "d.get(Decimal(5))",
        ),
    ]
    return out


_MAKE_CLOSURE = "def _make(i):\n    def g():\n        return i\n    return g\n"
_RECURSE = "def _down(n):\n    if n == 0:\n        return 0\n    return _down(n - 1) + 1\n"


def _structure_cases() -> list[Case]:
    """Operations whose cost is in the interpreter rather than in an operand: calls, closures,
    attribute and item access, displays and comprehensions building fresh objects."""
    return [
        _case("loop", "while pass", (), "pass"),
        _case("loop", "for over range", (), ("for i in range(1000000):", "    pass")),
        _case("comprehension", "fresh dicts", (), "x = [{'a': i} for i in range(100000)]"),
        _case(
            "comprehension",
            "fresh 8-tuples of big ints",
            f"n = {BIG}",
            "x = [(-n, -n, -n, -n, -n, -n, -n, -n) for i in range(100000)]",
        ),
        _case("comprehension", "fresh lists", (), "x = [[i] for i in range(100000)]"),
        _case("comprehension", "bound methods", "y = []", "x = [y.append for i in range(100000)]"),
        _case(
            "comprehension",
            "closures",
            (),
            "x = [_make(i) for i in range(100000)]",
            helpers=_MAKE_CLOSURE,
        ),
        _case(
            "comprehension",
            "dict of fresh ints",
            (),
            "x = {str(i): i * 1000003 for i in range(100000)}",
        ),
        _case("display", "dict of 5", "i = 1", "x = {'a': i, 'b': i, 'c': i, 'd': i, 'e': i}"),
        _case("display", "tuple of 30", "i = 1", "x = (" + ", ".join(["i"] * 30) + ")"),
        _case("call", "recursion 60 deep", (), "_down(60)", helpers=_RECURSE),
        _case("call", "builtin len", "x = [1]", "len(x)"),
        _case("attribute", "method fetch", "x = []", "x.append"),
        _case("attribute", "ctx chain", (), "ctx.block.height"),
        _case("subscript", "list index", "x = [1, 2, 3]", "x[1]"),
        _case("subscript", "dict item", "x = {'a': 1}", "x['a']"),
        _case("setitem", "list", "x = [1, 2, 3]", "x[1] = 5"),
        _case("unpacking", "3 names", "t = (1, 2, 3)", "a, b, c = t"),
        _case("unpacking", "nested", "t = ((1, 2), (3, 4))", "(a, b), (c, d) = t"),
        _case("chained compare", "3 ints", "a = 1", "0 < a < 2 < 3"),
        _case("boolean", "and/or", "a = 1", "a and a or a"),
    ]


def _keep_cases() -> list[Case]:
    """Results kept in a list until the budget runs out: the memory one step can hold."""
    made = {
        "big int": (f"n = {BIG}", "-n"),
        "dense int": (f"n = {DENSE}", "n + 1"),
        "Decimal": (f"d = {DEC_28}", "d + d"),
        "wide text": ("s = '\\U0001f600' * 64", "s + s"),
        "split items": ("s = '\\u4e2d,' * 64", "s.split(',')"),
        "words": ("s = 'ab ' * 64", "s.split()"),
        "lines": ("s = '\\u4e2d\\n' * 64", "s.splitlines()"),
        "dict": ("i = 1", "{'a': i}"),
        "list": ("i = 1", "[i, i]"),
        "tuple": ("i = 1", "(i, i)"),
        "pairs": ("d = {'a': 1, 'b': 2}", "d.items()"),
        "range list": ("r = range(100000, 100064)", "list(r)"),
        "zip list": ("r = range(1000, 1064)", "list(zip(r, r, r, r, r, r, r, r))"),
        "text of int": (f"n = {BIG}", "str(n)"),
        "hex of int": (f"n = {BIG}", "hex(n)"),
        "int of text": ("s = '7' * 600", "int(s)"),
        "slice": ("s = '\\u4e2d' * 1000", "s[1:]"),
        "f-string": ("s = '\\u4e2d' * 100", "f'{s}{s}'"),
        "upper": ("s = '\\ufb03' * 100", "s.upper()"),
        "bound method": ("y = []", "y.append"),
        "closure": ((), "_make(1)"),
        "scan page": ((), "ctx.state.scan('o/', 16)"),
        "call's value": ("v = [1, 2, 3, 4]", "ctx.call('callee', 'echo', [v])"),
        "composite key": ("p = 'abcdefgh'", "ctx.key(p, p, p)"),
    }
    out = []
    for label, (setup, expression) in made.items():
        setup_lines = (setup,) if isinstance(setup, str) else tuple(setup)
        out.append(
            _case(
                "keep",
                label,
                (*setup_lines, "kept = []"),
                f"kept.append({expression})",
                helpers=_MAKE_CLOSURE,
            )
        )
        out.append(
            _case(
                "keep",
                f"{label} (comprehension)",
                setup_lines,
                f"kept = [{expression} for i in range(100000)]",
                helpers=_MAKE_CLOSURE,
            )
        )
    return out


def _host_cases() -> list[Case]:
    return [
        _case("ctx.state.get", "absent", (), "ctx.state.get('k')"),
        _case(
            "ctx.state.get", "64 KiB value", "ctx.state.put('k', 'x' * 65000)", "ctx.state.get('k')"
        ),
        _case("ctx.state.put", "small", (), "ctx.state.put('k', 1)"),
        _case("ctx.state.put", "1000 keys", "i = 0", ("ctx.state.put(str(i), i)", "i += 1")),
        _case("ctx.state.put", "64 KiB value", "v = 'x' * 65000", "ctx.state.put('k', v)"),
        _case("ctx.state.put", "wide list", "v = list(range(1000, 7000))", "ctx.state.put('k', v)"),
        _case("ctx.state.history", "64", (), "ctx.state.history('k', 64)"),
        _case("ctx.state.has", "256-byte key", "k = 'k' * 256", "ctx.state.has(k)"),
        _case("ctx.emit", "16 KiB", "p = 'x' * 16000", ("ctx.emit('e', p)",), FAULT),
        _case("ctx.require", "passing, 512-char message", "m = 'x' * 512", "ctx.require(True, m)"),
    ]


# the state a scan case runs on is bench.world's: committed s/..., big/...; o/... written and
# half of s/ deleted and of big/ overwritten by an earlier tx of the block. Every scan case
# scans once in its set-up, so that the block's index of written keys is built there.
_INDEXED = "ctx.state.scan('zz', 1)"
_PARTS = ", ".join(["p"] * 32)


def _scan_cases() -> list[Case]:
    return [
        _case("ctx.state.scan", "no key", _INDEXED, "ctx.state.scan('q/', 1)"),
        _case("ctx.state.scan", "one committed key a page", _INDEXED, "ctx.state.scan('s/03', 1)"),
        _case("ctx.state.scan", "committed, 256 a page", _INDEXED, "ctx.state.scan('s/02', 256)"),
        _case("ctx.state.scan", "the block's writes, 256", _INDEXED, "ctx.state.scan('o/', 256)"),
        _case(
            "ctx.state.scan",
            "past 2,000 of the block's deletes",
            _INDEXED,
            "ctx.state.scan('s/', 1)",
        ),
        _case(
            "ctx.state.scan",
            "60,000-char values, shadowed",
            _INDEXED,
            "ctx.state.scan('big/', 64)",
        ),
        _case(
            "ctx.state.scan",
            "the invocation's own 1,000 writes",
            (_INDEXED, "for i in range(1000):", "    ctx.state.put('w/' + str(i), i)"),
            "ctx.state.scan('w/', 256)",
        ),
        _case(
            "ctx.state.scan",
            "past 1,000 deletes of its own and 2,000 of the block",
            (
                _INDEXED,
                "for i in range(2000, 3000):",
                "    ctx.state.delete('s/' + str(i).zfill(5))",
            ),
            "ctx.state.scan('s/', 1)",
        ),
        _case(
            "ctx.state.range", "committed, 256", _INDEXED, "ctx.state.range('s/02', 's/03', 256)"
        ),
        _case("ctx.key", "32 parts", "p = 'abcdefgh'", f"ctx.key({_PARTS})"),
        _case("ctx.key", "two of 100,000 wide chars", "p = '\\u4e2d' * 100000", "ctx.key(p, p)"),
        _case(
            "ctx.split_key",
            "32 parts",
            ("p = 'abcdefgh'", f"k = ctx.key({_PARTS})"),
            "ctx.split_key(k)",
        ),
        _case("ctx.split_key", "10,000 empty parts", "k = '\\x00' * 10000", "ctx.split_key(k)"),
    ]


def _call_cases() -> list[Case]:
    """Calls to ``bench.world``'s ``callee`` contract."""
    return [
        _case("ctx.call", "noop", (), "ctx.call('callee', 'noop', [])"),
        _case("ctx.call", "the callee reads ctx.caller", (), "ctx.call('callee', 'caller', [])"),
        _case(
            "ctx.call", "echo 60,000 chars", "s = 'x' * 60000", "ctx.call('callee', 'echo', [s])"
        ),
        _case(
            "ctx.call",
            "echo 4,000 ints",
            "v = list(range(1000, 5000))",
            "ctx.call('callee', 'echo', [v])",
        ),
        _case(
            "ctx.call",
            "echo 1,300 small lists",
            "v = [[1, 2]] * 1300",
            "ctx.call('callee', 'echo', [v])",
        ),
        _case("ctx.try_call", "the callee reverts", (), "ctx.try_call('callee', 'fail', [])"),
        _case(
            "ctx.try_call",
            "the callee writes 100 keys and an event, then reverts",
            (),
            "ctx.try_call('callee', 'write_fail', [100])",
        ),
        _case(
            "ctx.try_call",
            "the callee's events overflow and are dropped",
            "ctx.call('callee', 'emit', [60])",
            "ctx.try_call('callee', 'emit', [60])",
        ),
        _case("ctx.try_call", "an unknown contract", (), "ctx.try_call('nobody', 'x', [])"),
    ]


def all_cases() -> list[Case]:
    return [
        *_search_cases(),
        *_text_cases(),
        *_number_cases(),
        *_container_cases(),
        *_structure_cases(),
        *_keep_cases(),
        *_host_cases(),
        *_scan_cases(),
        *_call_cases(),
    ]


CASES: list[Case] = all_cases()
