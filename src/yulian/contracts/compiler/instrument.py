"""Introduction: compile-time instrumentation — where a contract is charged, decided once.

Two passes over a contract's tree, both at deploy time:

- ``charge_blocks`` (on the tree the dialect defines, before RestrictedPython): every block
  (function body, loop body, branch, comprehension item) pays for its straight-line size when
  it starts — one step per ``NODES_PER_STEP`` syntax units begun (``costs.NODE_UNITS``) — so a
  long body cannot run thousands of operations for one step. A ``while`` iteration also pays
  ``LOOP_STEPS``.
- ``instrument`` (on RestrictedPython's output): every function body is wrapped in call-depth
  tracking (``_enter_`` / ``_leave_``, one step per entry), and the operators whose cost grows
  with their operands are rewritten into calls of the guarded operators (``operators``).

Steps are counted from the contract's own syntax tree, never from bytecode, so the count does
not depend on the CPython version. The helper names emitted here all end in ``_``, which
contract code can never write (see ``dialect``); ``guards.helper_table`` binds them.
"""

from __future__ import annotations

import ast
from typing import NoReturn

from yulian.contracts.costs import (
    CHAINED_COMPARE_UNITS,
    LOOP_STEPS,
    NODE_UNITS,
    NODES_PER_STEP,
    TEXT_CONSTANT_CHARS_PER_UNIT,
)

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
    ast.FloorDiv: "_floordiv_",
    ast.RShift: "_rshift_",
    ast.BitAnd: "_bitand_",
    ast.BitXor: "_bitxor_",
}
UNARY_HELPERS: dict[type[ast.unaryop], str] = {ast.USub: "_neg_", ast.Invert: "_invert_"}
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


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _fail(node: ast.AST, what: str) -> NoReturn:
    raise ValueError(f"line {getattr(node, 'lineno', '?')}: cannot instrument {what}")


def static_size(node: ast.AST, *, top_level: bool = False) -> int:
    """Syntax units evaluated when ``node`` runs once: one per expression or statement, more
    for the nodes of ``NODE_UNITS`` (what they allocate or call behind one node), for each
    comparison of a chain after the first, and for the constant text of an f-string.

    Bodies that pay for themselves are not counted: loop and branch bodies, function bodies,
    and the per-item parts of a comprehension (only its first iterable runs once). The
    constant text of an f-string counts by its total length, so the count does not depend on
    how a Python version splits it. A ``def`` at module level (``top_level``) counts one unit:
    the module is loaded once per invocation at most, and its functions are bounded by the
    source.
    """
    count = 0
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.expr | ast.stmt):
            count += NODE_UNITS.get(type(current).__name__, 1)
        if isinstance(current, ast.For | ast.While | ast.If):
            children: list[ast.AST] = (
                [current.target, current.iter] if isinstance(current, ast.For) else [current.test]
            )
        elif isinstance(current, ast.FunctionDef):
            if top_level and current is node:
                count -= NODE_UNITS["FunctionDef"] - 1
            children = [*current.args.defaults]
        elif isinstance(current, ast.ListComp | ast.DictComp):
            children = [current.generators[0].iter]
        elif isinstance(current, ast.JoinedStr):
            children = []
            for value in current.values:
                if isinstance(value, ast.Constant):
                    count += len(str(value.value)) // TEXT_CONSTANT_CHARS_PER_UNIT
                else:
                    children.append(value)
        else:
            if isinstance(current, ast.Compare):
                count += CHAINED_COMPARE_UNITS * (len(current.ops) - 1)
            children = list(ast.iter_child_nodes(current))
        stack.extend(children)
    return count


def block_steps(units: int) -> int:
    """A block of ``units`` pays a step per ``NODES_PER_STEP`` begun: a short block in a loop
    costs a step per turn, whatever it holds."""
    return -(-units // NODES_PER_STEP)


def _charge_statement(steps: int) -> ast.Expr:
    return ast.Expr(_call(CHARGE, ast.Constant(steps)))


class _BlockCharges(ast.NodeTransformer):
    """Puts ``_charge_(n)`` at the start of every block whose straight-line size needs it."""

    @staticmethod
    def charge(body: list[ast.stmt], extra_nodes: int = 0, base: int = 0) -> None:
        nodes = sum(static_size(stmt) for stmt in body) + extra_nodes
        steps = base + block_steps(nodes)
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
            steps = block_steps(sum(static_size(part) for part in parts))
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
    return block_steps(sum(static_size(stmt, top_level=True) for stmt in module.body))


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

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        helper = UNARY_HELPERS.get(type(node.op))
        if helper is None or isinstance(node.operand, ast.Constant):  # -1 is folded: no work
            return node
        return ast.copy_location(_call(helper, node.operand), node)

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
