"""Introduction: step metering, the abort exceptions, and the guarded operations.

Contract code is charged only by the calls this module makes it perform, never by bytecode
counting or tracing, so a step means the same thing on every CPython version:

- one step at every function entry (``_enter_``) and every ``while`` iteration; one step per
  item that a ``for`` loop, a comprehension or an unpacking pulls (charged by the iteration
  guard in ``safe_builtins``);
- every block (function body, loop body, branch, comprehension item) also pays for its
  straight-line size when it starts: one step per ``NODES_PER_STEP`` syntax nodes, counted on
  the contract's own (normalised) tree by ``charge_blocks``, so a long body cannot run
  thousands of operations for one step;
- operations whose cost grows with their operands (``+ - * ** << % |``, comparisons, f-string
  formatting, text conversion) are rewritten by ``instrument`` into helper calls that work out
  the size of the result *before* computing it, charge in proportion, and refuse results past
  the hard caps below.

Invariants:
- ``Meter.used <= Meter.limit`` always; going over raises ``OutOfSteps`` instead.
- Every int a contract can hold has at most ``MAX_INT_BITS`` bits (one more after ``~``), so
  its decimal text stays under 640 digits, CPython's smallest ``int_max_str_digits``; every
  digit string parsed is shorter than that too: no outcome depends on how a node configured
  that limit.
- Every container walked here is at most ``MAX_NESTING`` deep, and every operation that makes
  CPython recurse over a container (``==``, ``<``, ``in``, ``repr``, sorting) walks it here
  first, so no C-level recursion can approach the interpreter's recursion limit.
- The abort exceptions derive from ``BaseException``: no ``except Exception`` in host code can
  swallow them, and contract code has no ``try`` at all.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NoReturn

# --- limits ---------------------------------------------------------------------------------

DEFAULT_STEP_LIMIT = 1_000_000
MAX_CALL_DEPTH = 64
CALL_STEPS = 1  # per function entry
LOOP_STEPS = 1  # per while iteration / per item pulled by an iteration
NODES_PER_STEP = 8  # straight-line syntax nodes of a block paid by one step
BYTES_PER_STEP = 32  # text and bytes created, scanned or compared
ITEMS_PER_STEP = 4  # container items created, scanned or compared
BITS_PER_STEP = 256  # integer arithmetic
MAX_INT_BITS = 2048
MAX_TEXT_INT_BITS = 2100  # <= 633 decimal digits, below the smallest int_max_str_digits (640)
MAX_STR_LEN = 1 << 20  # characters of one str / bytes of one bytes
MAX_CONTAINER_LEN = 1 << 18  # items of one list / tuple / dict built in bulk
MAX_NESTING = 32  # container depth for comparison, sorting and text conversion
MAX_FORMAT_WIDTH = 999  # width and precision in an f-string format spec (3 digits)

# --- aborts ---------------------------------------------------------------------------------


class ContractAbort(BaseException):
    """Ends an invocation. Never caught by contract code (which has no ``try``)."""


class OutOfSteps(ContractAbort):
    """The step budget is spent."""


class CallDepthExceeded(OutOfSteps):
    """Calls nested deeper than ``MAX_CALL_DEPTH``; reported as out of steps."""


class ResourceExhausted(OutOfSteps):
    """A result past a hard memory cap (int bits, text or container length): no step budget
    can buy it, so it is reported as out of steps."""


class SandboxFault(ContractAbort):
    """A deterministic refusal by the sandbox; its message is part of the receipt."""


class LimitExceeded(SandboxFault):
    """A rule of the sandbox's boundary: nesting depth, format width, host value sizes."""


class AccessDenied(SandboxFault):
    """An attribute, item, iteration or conversion outside the allowlist."""


class InvalidValue(SandboxFault):
    """A value the host cannot accept (not encodable, bad key, bad type)."""


class ForbiddenOperation(SandboxFault):
    """An operation the dialect forbids that only shows at run time (floats, %-formatting)."""


# --- the meter ------------------------------------------------------------------------------


class Meter:
    """Counts the steps and the call depth of one invocation, and the in-place changes to
    containers (``mutations``: the host may reuse what it exported of a value only while no
    container changed since)."""

    __slots__ = ("depth", "limit", "mutations", "used")

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("step limit must be positive")
        self.limit = limit
        self.used = 0
        self.depth = 0
        self.mutations = 0

    def charge(self, steps: int) -> None:
        used = self.used + steps
        if used > self.limit:
            self.used = self.limit
            raise OutOfSteps(f"step limit of {self.limit} exceeded")
        self.used = used

    def tick(self) -> None:
        """One item pulled by an iteration."""
        self.charge(LOOP_STEPS)

    def pay(self, steps: int) -> bool:
        """A block's charge; true, so that it can stand as a comprehension condition."""
        self.charge(steps)
        return True

    def enter(self) -> None:
        self.charge(CALL_STEPS)
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise CallDepthExceeded(f"call depth limit of {MAX_CALL_DEPTH} exceeded")

    def leave(self) -> None:
        self.depth -= 1

    def charge_chars(self, n: int) -> None:
        """Charge for creating a str/bytes of ``n`` units, then enforce the cap."""
        self.charge(1 + n // BYTES_PER_STEP)
        if n > MAX_STR_LEN:
            raise ResourceExhausted(f"string longer than {MAX_STR_LEN}")

    def charge_items(self, n: int) -> None:
        """Charge for creating a container of ``n`` items, then enforce the cap."""
        self.charge(1 + n // ITEMS_PER_STEP)
        if n > MAX_CONTAINER_LEN:
            raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")


# --- walking values -------------------------------------------------------------------------

INT_TYPES = (int, bool)
NUMBER_TYPES = frozenset({int, bool, Decimal})
TEXT_TYPES = frozenset({str, bytes})
KEY_TYPES = frozenset({str, int, bool, bytes, type(None)})
LOOKUP_TYPES = KEY_TYPES | {Decimal}  # hashable, deterministic, non-recursive
SEQUENCE_TYPES = frozenset({list, tuple})
MAPPING_TYPES = frozenset({dict, MappingProxyType})
CONTAINER_TYPES = SEQUENCE_TYPES | MAPPING_TYPES
LEAF_TYPES = frozenset({int, bool, Decimal, type(None), range})
# Items walked between intermediate charges, so a list that shares its sub-lists many times
# over cannot make a walk exponential before the budget notices.
WALK_CHARGE_EVERY = 1024


def measure(meter: Meter, value: Any, *, text: bool = False) -> None:
    """Charge for walking ``value`` as CPython would (as a tree) and bound its depth.

    With ``text=True`` the value is about to be turned into text: any leaf whose ``repr`` is
    not deterministic (host objects, functions, iterators) is refused.
    """
    kind = type(value)
    if kind in LEAF_TYPES:
        return
    if kind in TEXT_TYPES:
        meter.charge(len(value) // BYTES_PER_STEP)
        return
    # Parallel stacks, not a stack of (node, depth) tuples: a walk allocates nothing per node,
    # so it never wakes the garbage collector over the host's whole heap.
    nodes: list[Any] = [value]
    depths: list[int] = [1]
    items = 0
    chars = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        kind = type(node)
        if kind in SEQUENCE_TYPES or kind in MAPPING_TYPES:
            if depth > MAX_NESTING:
                raise LimitExceeded(f"containers nested deeper than {MAX_NESTING}")
            items += 1 + len(node)
            if kind in MAPPING_TYPES:
                for key in node:
                    if type(key) in TEXT_TYPES:
                        chars += len(key)
                children = node.values()
            else:
                children = node
            for child in children:
                child_kind = type(child)
                if child_kind in TEXT_TYPES:
                    chars += len(child)
                elif child_kind not in LEAF_TYPES:
                    nodes.append(child)
                    depths.append(depth + 1)
        elif kind not in LEAF_TYPES and text:
            raise AccessDenied("this value cannot be converted to text")
        if items >= WALK_CHARGE_EVERY or chars >= WALK_CHARGE_EVERY * BYTES_PER_STEP:
            meter.charge(items // ITEMS_PER_STEP + chars // BYTES_PER_STEP)
            items %= ITEMS_PER_STEP
            chars %= BYTES_PER_STEP
    meter.charge(items // ITEMS_PER_STEP + chars // BYTES_PER_STEP)


def check_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
    return value


def to_text(meter: Meter, value: Any) -> str:
    """``str(value)`` for the value model, deterministic and bounded."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        if value.bit_length() > MAX_TEXT_INT_BITS:
            raise ResourceExhausted(f"integer larger than {MAX_TEXT_INT_BITS} bits to convert")
        meter.charge(1 + value.bit_length() // BITS_PER_STEP)
        return str(value)
    if kind is bool or value is None or kind is Decimal or kind is range:
        return str(value)
    if kind is bytes:
        meter.charge_chars(4 * len(value))
        return repr(value)  # repr, never str(): -b / -bb must not change the outcome
    measure(meter, value, text=True)
    out = repr(value)
    meter.charge_chars(len(out))
    return out


# --- f-string formatting ----------------------------------------------------------------------

_FORMAT_SPEC = re.compile(
    r"(?:(?P<fill>[^{}])?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<alt>\#)?(?P<zero>0)?"
    r"(?P<width>\d+)?(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[a-zA-Z%])?",
    re.ASCII,
)
# Presentation types per value type. No 'n' (locale-dependent) and no float presentations for
# int (they go through float).
_FORMAT_TYPES: dict[type, str] = {
    str: "s",
    int: "bcdoxX",
    bool: "bcdoxX",
    Decimal: "eEfFgG%",
}


def format_value(meter: Meter, value: Any, spec: str, conversion: str) -> str:
    """One ``{value!conversion:spec}`` field of an f-string."""
    if conversion == "s" or not spec:
        text = to_text(meter, value)
        if not spec:
            return text
        value = text
    match = _FORMAT_SPEC.fullmatch(spec)
    kind = type(value)
    allowed = _FORMAT_TYPES.get(kind)
    if match is None or allowed is None:
        raise ForbiddenOperation(f"format spec {spec!r} is not allowed for this value")
    for group in ("width", "precision"):
        digits = match.group(group)
        if digits is not None and (len(digits) > 3 or int(digits) > MAX_FORMAT_WIDTH):
            raise LimitExceeded(f"format {group} larger than {MAX_FORMAT_WIDTH}")
    presentation = match.group("type")
    if presentation is not None and presentation not in allowed:
        raise ForbiddenOperation(f"format spec {spec!r} is not allowed for this value")
    if kind is str:
        meter.charge(len(value) // BYTES_PER_STEP)
    out = format(value, spec)
    meter.charge_chars(len(out))
    return out


# --- guarded operators ------------------------------------------------------------------------


def range_len(r: range) -> int:
    if r.step > 0:
        return max(0, (r.stop - r.start + r.step - 1) // r.step)
    return max(0, (r.start - r.stop - r.step - 1) // -r.step)


def _pow_bits_floor(base: int, exponent: int) -> int:
    """A lower bound on the bit length of ``base ** exponent`` (0 <= exponent)."""
    bits = abs(base).bit_length()
    if bits <= 1:
        return bits
    return (bits - 1) * exponent + 1


class GuardedOps:
    """The helpers ``instrument`` calls in place of operators; one instance per invocation."""

    __slots__ = ("compare_ops", "meter")

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.compare_ops: dict[str, Callable[[Any, Any], bool]] = {
            "eq": self.eq,
            "ne": self.ne,
            "lt": self.lt,
            "le": self.le,
            "gt": self.gt,
            "ge": self.ge,
            "in": self.contains,
            "notin": self.not_contains,
        }

    # arithmetic

    def add(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka is int and kb is int:
            return check_int(a + b)
        if ka is kb and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(ka, len(a) + len(b))
            return a + b
        return self._number(a + b)

    def sub(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            return check_int(a - b)
        return self._number(a - b)

    def mul(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
            self.meter.charge((a.bit_length() + b.bit_length()) // BITS_PER_STEP)
            return check_int(a * b)
        if ka in INT_TYPES and (kb in TEXT_TYPES or kb in SEQUENCE_TYPES):
            a, b, ka, kb = b, a, kb, ka
        if kb in INT_TYPES and (ka in TEXT_TYPES or ka in SEQUENCE_TYPES):
            self._charge_result(ka, len(a) * max(b, 0))
            return a * b
        return self._number(a * b)

    def pow(self, a: Any, b: Any) -> Any:
        ka, kb = type(a), type(b)
        if ka in INT_TYPES and kb in INT_TYPES:
            if b < 0:
                raise ForbiddenOperation("negative integer exponent (the result is a float)")
            bits = _pow_bits_floor(a, b)
            self.meter.charge(1 + bits // BITS_PER_STEP)
            if bits > MAX_INT_BITS:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
            return check_int(a**b)
        if ka is Decimal or kb is Decimal:
            exponent = b
            if kb is Decimal:
                if b != b.to_integral_value():
                    raise ForbiddenOperation("Decimal powers need an integral exponent")
                exponent = int(b)
            if type(exponent) not in INT_TYPES or exponent.bit_length() > 64:
                raise ForbiddenOperation("Decimal powers need an integral exponent")
            return a**b
        return a**b  # raises TypeError for everything else in the value model

    def lshift(self, a: Any, b: Any) -> Any:
        if type(a) in INT_TYPES and type(b) in INT_TYPES and b > 0 and a:
            bits = a.bit_length() + b
            self.meter.charge(1 + bits // BITS_PER_STEP)
            if bits > MAX_INT_BITS:
                raise ResourceExhausted(f"integer larger than {MAX_INT_BITS} bits")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if type(a) in TEXT_TYPES:
            raise ForbiddenOperation("%-formatting is not allowed; use an f-string")
        return a % b

    def bitor(self, a: Any, b: Any) -> Any:
        if type(a) in MAPPING_TYPES and type(b) in MAPPING_TYPES:
            self.meter.charge_items(len(a) + len(b))
        return a | b

    def _charge_result(self, kind: type, n: int) -> None:
        if kind in TEXT_TYPES:
            self.meter.charge_chars(n)
        else:
            self.meter.charge_items(n)

    @staticmethod
    def _number(result: Any) -> Any:
        if type(result) is int:
            check_int(result)
        return result

    # comparisons

    def eq(self, a: Any, b: Any) -> bool:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            if len(a) != len(b):
                return False
            self.meter.charge(len(a) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            measure(self.meter, a)
            measure(self.meter, b)
        return bool(a == b)

    def ne(self, a: Any, b: Any) -> bool:
        return not self.eq(a, b)

    def _order(self, a: Any, b: Any) -> None:
        ka, kb = type(a), type(b)
        if ka is kb and ka in TEXT_TYPES:
            self.meter.charge(min(len(a), len(b)) // BYTES_PER_STEP)
        elif ka in CONTAINER_TYPES and kb in CONTAINER_TYPES:
            measure(self.meter, a)
            measure(self.meter, b)

    def lt(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a < b
        self._order(a, b)
        return bool(a < b)

    def le(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a <= b
        self._order(a, b)
        return bool(a <= b)

    def gt(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a > b
        self._order(a, b)
        return bool(a > b)

    def ge(self, a: Any, b: Any) -> bool:
        if type(a) is int and type(b) is int:  # nothing to charge
            return a >= b
        self._order(a, b)
        return bool(a >= b)

    def contains(self, needle: Any, haystack: Any) -> bool:
        """``needle in haystack``, charged for the scan it performs."""
        kind = type(haystack)
        if kind in TEXT_TYPES:
            scanned = len(haystack) + (len(needle) if type(needle) is kind else 0)
            self.meter.charge(scanned // BYTES_PER_STEP)
            return needle in haystack
        if kind in MAPPING_TYPES:
            return self.lookup_key(needle) and needle in haystack
        if kind in SEQUENCE_TYPES:
            self.charge_scan(needle, len(haystack))
            return needle in haystack
        if kind is range:
            if type(needle) not in INT_TYPES:
                self.meter.charge(1 + range_len(haystack) // ITEMS_PER_STEP)
            return needle in haystack
        raise AccessDenied("'in' is not supported on this value")

    def not_contains(self, needle: Any, haystack: Any) -> bool:
        return not self.contains(needle, haystack)

    def charge_scan(self, needle: Any, count: int) -> None:
        """Charge for comparing ``needle`` against ``count`` items (``in``, ``index``...)."""
        kind = type(needle)
        if kind in CONTAINER_TYPES:
            before = self.meter.used
            measure(self.meter, needle)
            per_item = 1 + (self.meter.used - before)
        elif kind in TEXT_TYPES:
            per_item = 1 + len(needle) // BYTES_PER_STEP
        else:
            per_item = 1
        self.meter.charge(1 + count * per_item // ITEMS_PER_STEP)

    @staticmethod
    def lookup_key(key: Any) -> bool:
        """True if ``key`` may be hashed for a lookup; False if it cannot be a key at all.

        Only scalar keys are ever stored, so a tuple is simply absent (and never hashed: a
        deeply nested tuple would overflow the C stack in ``hash``).
        """
        kind = type(key)
        if kind in LOOKUP_TYPES:
            return True
        if kind is tuple:
            return False
        raise TypeError(f"unhashable type: '{kind.__name__}'")

    def chain(self, left: Any, ops: tuple[str, ...], *rights: Callable[[], Any]) -> bool:
        """``a < b < c``: each right operand is a thunk, evaluated only when still needed."""
        compare = self.compare_ops
        for op, thunk in zip(ops, rights, strict=True):
            right = thunk()
            if not compare[op](left, right):
                return False
            left = right
        return True

    # displays and f-strings

    @staticmethod
    def key(key: Any) -> Any:
        """A key in a dict display or comprehension: scalars only."""
        if type(key) not in KEY_TYPES:
            raise InvalidValue("dict keys must be str, int, bytes, bool or None")
        return key

    def fmt(self, value: Any, spec: str, conversion: str) -> str:
        return format_value(self.meter, value, spec, conversion)


# --- the AST transform ------------------------------------------------------------------------

CHARGE = "_charge_"
ENTER = "_enter_"
LEAVE = "_leave_"
CHAIN = "_chain_"
FORMAT = "_fmt_"
KEY = "_key_"
BINOP_HELPERS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Sub: "_sub_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.BitOr: "_bitor_",
}
COMPARE_CODES: dict[type[ast.cmpop], str] = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.In: "in",
    ast.NotIn: "notin",
}
COMPARE_HELPERS = {code: f"_{code}_" for code in COMPARE_CODES.values()}


def helper_table(ops: GuardedOps) -> dict[str, Any]:
    """The names ``instrument`` emits, bound to one invocation's meter."""
    table: dict[str, Any] = {
        CHARGE: ops.meter.pay,
        ENTER: ops.meter.enter,
        LEAVE: ops.meter.leave,
        CHAIN: ops.chain,
        FORMAT: ops.fmt,
        KEY: ops.key,
        "_add_": ops.add,
        "_sub_": ops.sub,
        "_mul_": ops.mul,
        "_pow_": ops.pow,
        "_lshift_": ops.lshift,
        "_mod_": ops.mod,
        "_bitor_": ops.bitor,
    }
    for code, name in COMPARE_HELPERS.items():
        table[name] = ops.compare_ops[code]
    return table


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _fail(node: ast.AST, what: str) -> NoReturn:
    raise ValueError(f"line {getattr(node, 'lineno', '?')}: cannot instrument {what}")


def static_size(node: ast.AST) -> int:
    """Syntax nodes (expressions and statements) evaluated when ``node`` runs once.

    Bodies that pay for themselves are not counted: loop and branch bodies, function bodies,
    and the per-item parts of a comprehension (only its first iterable runs once). Constant
    pieces of an f-string are not counted either, so the count does not depend on how a
    Python version splits them.
    """
    count = 0
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.expr | ast.stmt):
            count += 1
        if isinstance(current, ast.For | ast.While | ast.If):
            children: list[ast.AST] = (
                [current.target, current.iter] if isinstance(current, ast.For) else [current.test]
            )
        elif isinstance(current, ast.FunctionDef):
            children = [*current.args.defaults]
        elif isinstance(current, ast.ListComp | ast.DictComp):
            children = [current.generators[0].iter]
        elif isinstance(current, ast.JoinedStr):
            children = [v for v in current.values if not isinstance(v, ast.Constant)]
        else:
            children = list(ast.iter_child_nodes(current))
        stack.extend(children)
    return count


def _charge_statement(steps: int) -> ast.Expr:
    return ast.Expr(_call(CHARGE, ast.Constant(steps)))


class _BlockCharges(ast.NodeTransformer):
    """Puts ``_charge_(n)`` at the start of every block whose straight-line size needs it."""

    @staticmethod
    def charge(body: list[ast.stmt], extra_nodes: int = 0, base: int = 0) -> None:
        nodes = sum(static_size(stmt) for stmt in body) + extra_nodes
        steps = base + nodes // NODES_PER_STEP
        if body and steps:
            body.insert(0, _charge_statement(steps))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        self.charge(node.body)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        self.generic_visit(node)
        self.charge(node.body, extra_nodes=static_size(node.test), base=LOOP_STEPS)
        self.charge(node.orelse)
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        self.generic_visit(node)
        self.charge(node.body, extra_nodes=static_size(node.target))
        self.charge(node.orelse)
        return node

    def visit_If(self, node: ast.If) -> ast.If:
        self.generic_visit(node)
        self.charge(node.body)
        self.charge(node.orelse)
        return node

    def _comprehension(self, node: ast.ListComp | ast.DictComp, per_item: list[ast.expr]) -> None:
        generators = node.generators
        for index, generator in enumerate(generators):
            inner = [generators[index + 1].iter] if index + 1 < len(generators) else per_item
            parts = [generator.target, *generator.ifs, *inner]
            steps = sum(static_size(part) for part in parts) // NODES_PER_STEP
            if steps:
                generator.ifs.insert(0, _call(CHARGE, ast.Constant(steps)))

    def visit_ListComp(self, node: ast.ListComp) -> ast.ListComp:
        self.generic_visit(node)
        self._comprehension(node, [node.elt])
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.DictComp:
        self.generic_visit(node)
        self._comprehension(node, [node.key, node.value])
        return node


def module_load_steps(module: ast.Module) -> int:
    """What executing the module level costs: its definitions and literal constants."""
    return sum(static_size(stmt) for stmt in module.body) // NODES_PER_STEP


def charge_blocks(module: ast.Module) -> ast.Module:
    """Insert the block charges into a checked, normalised contract tree, in place.

    Runs before RestrictedPython, on the tree the dialect defines, so the charges do not
    depend on how RestrictedPython or a CPython version rewrites it afterwards.
    """
    _BlockCharges().visit(module)
    ast.fix_missing_locations(module)
    return module


class Instrumenter(ast.NodeTransformer):
    """Wraps function bodies in call-depth tracking and rewrites operators into helper calls.

    Runs on the tree RestrictedPython has already transformed, so the names it emits (all
    ``_x_``) are never checked against the rule that contract names cannot start with ``_``.
    """

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        enter = ast.Expr(_call(ENTER))
        leave = ast.Expr(_call(LEAVE))
        guarded = ast.Try(body=node.body, handlers=[], orelse=[], finalbody=[leave])
        node.body = [enter, guarded]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        helper = BINOP_HELPERS.get(type(node.op))
        if helper is None:
            return node
        return ast.copy_location(_call(helper, node.left, node.right), node)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        codes = [COMPARE_CODES.get(type(op)) for op in node.ops]
        if len(codes) == 1:
            code = codes[0]
            if code is None:  # `is` / `is not` against None, True, False: identity is exact
                return node
            return ast.copy_location(
                _call(COMPARE_HELPERS[code], node.left, node.comparators[0]), node
            )
        if None in codes:
            _fail(node, "a chained comparison with 'is'")
        no_args = ast.arguments(
            posonlyargs=[],
            args=[],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        )
        thunks = [ast.Lambda(args=no_args, body=right) for right in node.comparators]
        ops = ast.Tuple(elts=[ast.Constant(code) for code in codes], ctx=ast.Load())
        return ast.copy_location(_call(CHAIN, node.left, ops, *thunks), node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        self.generic_visit(node)
        spec = ""
        if node.format_spec is not None:
            parts = getattr(node.format_spec, "values", [])
            if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
                _fail(node, "a computed format spec")
            spec = "".join(p.value for p in parts)
        conversion = "s" if node.conversion == ord("s") else ""
        node.value = _call(FORMAT, node.value, ast.Constant(spec), ast.Constant(conversion))
        node.conversion = -1
        node.format_spec = None
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.Dict:
        self.generic_visit(node)
        node.keys = [
            k if k is None or isinstance(k, ast.Constant) else _call(KEY, k) for k in node.keys
        ]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.DictComp:
        self.generic_visit(node)
        node.key = _call(KEY, node.key)
        return node


def instrument(module: ast.Module) -> ast.Module:
    """Instrument ``module`` in place (RestrictedPython compiles the object it was given)."""
    Instrumenter().visit(module)
    ast.fix_missing_locations(module)
    return module
