"""Introduction: the contract dialect, an AST allowlist checked at deploy time.

A contract is the source of one Python module. Only the node types, names and attribute names
accepted here may appear; anything else is rejected (``ContractRejected``) with its line.
The rest of the sandbox relies on these invariants:

- No identifier or attribute starts with ``_``, except module-level private functions named
  like ``_helper`` (one leading underscore, lowercase, never ending in ``_``). Contract code
  therefore cannot reach dunders, nor rebind RestrictedPython's guards (``_getattr_``...) or
  the metering helpers, all of which end in ``_``.
- Identifiers are ASCII, so NFKC normalisation cannot turn ``ｆ`` into ``f`` behind our back.
- No ``import``, ``try``, ``raise``, ``assert``, ``with``, ``class``, ``lambda``, ``global``,
  ``nonlocal``, ``yield``, ``async``/``await``, ``match``, generator expressions or set
  displays. A contract fails through ``ctx.require`` or an uncaught error; nothing it does
  can catch an abort. (No lambda: metering and call depth are tracked per ``def``; pass a
  named function as ``key=``.)
- Module level holds only ``def`` and literal constants, and defaults are literals, so
  loading a module runs no unmetered computation.
- No float or complex literals, no true division ``/``, no ``@``, no ``%`` on a string
  literal, no ``str.format``; ``is`` only against ``None``/``True``/``False`` (identity of
  anything else is an interpreter detail).
- Names read must be builtins of ``builtins`` or bound somewhere in the module;
  builtins cannot be rebound; reserved names (``eval``, ``type``, ``id``...) can be neither.
- The tree is at most ``MAX_AST_DEPTH`` deep, so every later recursive pass is bounded.

Public methods are module-level functions whose name does not start with ``_`` and whose
first parameter is ``ctx``; other module-level functions are helpers and cannot be invoked.
Annotations are checked like any expression, then dropped (never evaluated).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn

from yulian.contracts.builtins import BUILTIN_NAMES, DENIED_NAMES
from yulian.contracts.costs import MAX_INT_BITS
from yulian.contracts.host import HOST_ATTRIBUTES
from yulian.contracts.methods import METHOD_NAMES
from yulian.contracts.values import KEY_TYPES, KEY_TYPES_TEXT

MAX_SOURCE_BYTES = 256 * 1024
MAX_AST_DEPTH = 100
MAX_AST_NODES = 100_000
MAX_NUMBER_LITERAL_CHARS = 600  # parsing stays under CPython's smallest int_max_str_digits
PRIVATE_NAME = re.compile(r"_[a-z][a-z0-9]*(?:_[a-z0-9]+)*", re.ASCII)
RESERVED_PRIVATE_PREFIXES = ("_tmp", "_print")  # RestrictedPython's own temporaries
CONTEXT_PARAM = "ctx"
ALLOWED_ATTRIBUTES = METHOD_NAMES | frozenset().union(*HOST_ATTRIBUTES.values())
ALLOWED_UNARY = (ast.Not, ast.USub, ast.UAdd, ast.Invert)
IDENTITY_CONSTANTS = (None, True, False)


class ContractRejected(Exception):
    """The source is not in the dialect; ``reason`` names the line."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.line = line
        self.reason = reason if line is None else f"line {line}: {reason}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class CheckedContract:
    """A source that passed the checks, normalised for RestrictedPython."""

    tree: ast.Module
    methods: Mapping[str, tuple[int, int]]  # public method -> (min, max) arguments after ctx
    private_names: frozenset[str]


def check_contract(source: str, filename: str = "<contract>") -> CheckedContract:
    """Parse and check ``source``; raise ``ContractRejected`` for anything outside the dialect."""
    if type(source) is not str:
        raise ContractRejected("contract source must be a str")
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise ContractRejected(f"source larger than {MAX_SOURCE_BYTES} bytes")
    _check_tokens(source)
    tree = _parse(source, filename)
    _check_shape(tree)
    checker = _Checker()
    checker.check_module(tree)
    _Normaliser().visit(tree)
    ast.fix_missing_locations(tree)
    return CheckedContract(tree, dict(checker.methods), frozenset(checker.private))


_FSTRING_PREFIX = re.compile(r"[rRbBuU]*[fF][rRbBuU]*['\"]")
_FSTRING_FIELD = re.compile(r"\{[^{}]*\}")


def _check_tokens(source: str) -> None:
    """Token rules the AST cannot see: ASCII identifiers, bounded number literals.

    Before Python 3.12 an f-string is a single STRING token, so the expressions inside its
    braces are checked here as text: they must be ASCII too.
    """
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME and not token.string.isascii():
                raise ContractRejected("identifiers must be ASCII", token.start[0])
            if token.type == tokenize.STRING and _FSTRING_PREFIX.match(token.string):
                text = token.string.replace("{{", "").replace("}}", "")
                if not all(field.isascii() for field in _FSTRING_FIELD.findall(text)):
                    raise ContractRejected("f-string expressions must be ASCII", token.start[0])
            if token.type == tokenize.NUMBER and len(token.string) > MAX_NUMBER_LITERAL_CHARS:
                raise ContractRejected("number literal too long", token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass  # the parser reports it with a better message


def _parse(source: str, filename: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a -W error node must not reject what others accept
            return ast.parse(source, filename=filename, mode="exec")
    except SyntaxError as e:
        raise ContractRejected(f"syntax error: {e.msg}", e.lineno) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ContractRejected(f"cannot parse: {type(e).__name__}") from None


def _check_shape(tree: ast.Module) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_AST_DEPTH:
            raise ContractRejected(f"nested deeper than {MAX_AST_DEPTH}", _line(node))
        if count > MAX_AST_NODES:
            raise ContractRejected(f"more than {MAX_AST_NODES} syntax nodes")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _line(node: ast.AST) -> int | None:
    line = getattr(node, "lineno", None)
    return line if isinstance(line, int) else None


def _is_identity_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and any(node.value is c for c in IDENTITY_CONSTANTS)


_STATEMENT_ADVICE: dict[type, str] = {
    ast.Import: "import is not allowed; the host API is ctx",
    ast.ImportFrom: "import is not allowed; the host API is ctx",
    ast.Try: "try/except is not allowed; use ctx.require",
    ast.Raise: "raise is not allowed; use ctx.require",
    ast.Assert: "assert is not allowed; use ctx.require",
    ast.ClassDef: "classes are not allowed",
    ast.With: "with is not allowed",
    ast.AsyncWith: "async is not allowed",
    ast.AsyncFor: "async is not allowed",
    ast.AsyncFunctionDef: "async is not allowed",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.Match: "match is not allowed",
}
if hasattr(ast, "TryStar"):
    _STATEMENT_ADVICE[ast.TryStar] = "try/except* is not allowed; use ctx.require"
_EXPRESSION_ADVICE: dict[type, str] = {
    ast.Lambda: "lambda is not allowed; define a function",
    ast.GeneratorExp: "generator expressions are not allowed; use a list comprehension",
    ast.SetComp: "sets are not allowed (their order is not deterministic)",
    ast.Set: "sets are not allowed (their order is not deterministic)",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Starred: "star unpacking is not allowed",
}


class _Checker:
    """One pass over the tree; rejects at the first node outside the dialect."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.loads: list[tuple[str, int | None]] = []
        self.private: set[str] = set()
        self.methods: dict[str, tuple[int, int]] = {}
        self.comprehension_depth = 0

    @staticmethod
    def reject(node: ast.AST, reason: str) -> NoReturn:
        raise ContractRejected(reason, _line(node))

    # --- module level -------------------------------------------------------------------------

    def check_module(self, tree: ast.Module) -> None:
        top_names: set[str] = set()
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("_"):
                if not PRIVATE_NAME.fullmatch(stmt.name) or stmt.name.startswith(
                    RESERVED_PRIVATE_PREFIXES
                ):
                    self.reject(stmt, f"invalid private function name {stmt.name!r}")
                self.private.add(stmt.name)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                self.module_function(stmt, top_names)
            elif isinstance(stmt, ast.Assign):
                if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                    self.reject(stmt, "module constants are assigned to a single name")
                name = stmt.targets[0].id
                self.bind(stmt, name)
                if name in top_names:
                    self.reject(stmt, f"{name!r} is defined twice")
                top_names.add(name)
                self.literal(stmt.value)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                if not isinstance(stmt.value.value, str):
                    self.reject(stmt, "module level may only define functions and constants")
            else:
                self.reject(stmt, "module level may only define functions and constants")
        for name, line in self.loads:
            if name not in self.bound and name not in BUILTIN_NAMES and name not in self.private:
                raise ContractRejected(f"name {name!r} is not defined", line)

    def module_function(self, node: ast.FunctionDef, top_names: set[str]) -> None:
        if node.name in top_names:
            self.reject(node, f"{node.name!r} is defined twice")
        top_names.add(node.name)
        if node.name not in self.private:
            self.bind(node, node.name)
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        if not node.name.startswith("_") and params and params[0] == CONTEXT_PARAM:
            defaults = len(node.args.defaults)
            if defaults >= len(params):
                self.reject(node, "ctx cannot have a default")
            self.methods[node.name] = (len(params) - 1 - defaults, len(params) - 1)
        self.function(node)

    # --- functions and statements -------------------------------------------------------

    def function(self, node: ast.FunctionDef) -> None:
        if node.decorator_list:
            self.reject(node, "decorators are not allowed")
        if getattr(node, "type_params", None):
            self.reject(node, "type parameters are not allowed")
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs:
            self.reject(node, "only plain positional parameters are allowed (no *, **, kw-only)")
        for arg in (*args.posonlyargs, *args.args):
            self.bind(node, arg.arg)
            if arg.annotation is not None:
                self.expr(arg.annotation)
        for default in args.defaults:
            self.literal(default)
        if node.returns is not None:
            self.expr(node.returns)
        self.block(node.body)

    def block(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef):
            self.bind(node, node.name)
            self.function(node)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expr(node.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self.target(target)
            self.expr(node.value)
        elif isinstance(node, ast.AugAssign):
            self.binop_allowed(node, node.op, node.target)
            if isinstance(node.target, ast.Name):
                self.bind(node, node.target.id)
            elif isinstance(node.target, ast.Subscript) and _simple_subscript(node.target):
                self.expr(node.target)
            else:
                self.reject(node, "augmented assignment only to a name or name[name_or_literal]")
            self.expr(node.value)
        elif isinstance(node, ast.AnnAssign):
            if not isinstance(node.target, ast.Name) or node.value is None:
                self.reject(node, "annotated assignment needs a name and a value")
            self.bind(node, node.target.id)
            self.expr(node.annotation)
            self.expr(node.value)
        elif isinstance(node, ast.For):
            self.loop_target(node.target)
            self.expr(node.iter)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.While | ast.If):
            self.expr(node.test)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.Pass | ast.Break | ast.Continue):
            pass
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.bind(target, target.id)
                elif isinstance(target, ast.Subscript):
                    self.expr(target.value)
                    self.expr(target.slice)
                else:
                    self.reject(target, "del only of names and items")
        else:
            advice = _STATEMENT_ADVICE.get(type(node), f"{type(node).__name__} is not allowed")
            self.reject(node, advice)

    def target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            self.bind(node, node.id)
        elif isinstance(node, ast.Subscript):
            self.expr(node.value)
            self.expr(node.slice)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.target(element)
        elif isinstance(node, ast.Attribute):
            self.reject(node, "attributes cannot be assigned")
        else:
            self.reject(node, f"cannot assign to {type(node).__name__}")

    def loop_target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            self.bind(node, node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.loop_target(element)
        else:
            self.reject(node, "loop variables must be names or tuples of names")

    # --- names ----------------------------------------------------------------------------

    def bind(self, node: ast.AST, name: str) -> None:
        if name == "_":
            return
        if name.startswith("_"):
            self.reject(node, f"names starting with '_' are not allowed: {name!r}")
        if name in BUILTIN_NAMES:
            self.reject(node, f"the builtin {name!r} cannot be rebound")
        if name in DENIED_NAMES:
            self.reject(node, f"{name!r} is a reserved name")
        self.bound.add(name)

    def load(self, node: ast.AST, name: str) -> None:
        if name == "_" or name in self.private:
            return
        if name.startswith("_"):
            self.reject(node, f"names starting with '_' are not allowed: {name!r}")
        if name in DENIED_NAMES:
            self.reject(node, f"{name!r} is not available in contracts")
        self.loads.append((name, _line(node)))

    # --- expressions ----------------------------------------------------------------------

    def literal(self, node: ast.expr) -> None:
        """Constants, tuples/lists/dicts of constants: what module level and defaults allow."""
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            if not (isinstance(node.operand, ast.Constant) and type(node.operand.value) is int):
                self.reject(node, "only literal constants are allowed here")
            self.constant(node.operand)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.literal(element)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None or not isinstance(key, ast.Constant):
                    self.reject(node, "dict literal keys must be constants")
                self.constant(key)
                self.dict_key(key)
                self.literal(value)
        else:
            self.reject(node, "only literal constants are allowed here")

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if value is None or type(value) in (bool, str, bytes):
            return
        if type(value) is int:
            if value.bit_length() > MAX_INT_BITS:
                self.reject(node, f"integer literal larger than {MAX_INT_BITS} bits")
            return
        if type(value) in (float, complex):
            self.reject(node, "float and complex literals are not allowed; use Decimal('...')")
        self.reject(node, f"{type(value).__name__} literals are not allowed")

    def dict_key(self, node: ast.Constant) -> None:
        """A constant dict key: a type whose hash a contract cannot steer (``KEY_TYPES``)."""
        if type(node.value) not in KEY_TYPES:
            self.reject(node, f"dict keys must be {KEY_TYPES_TEXT}")

    def binop_allowed(self, node: ast.AST, op: ast.operator, left: ast.expr) -> None:
        if isinstance(op, ast.Div):
            self.reject(node, "true division '/' is not allowed; use '//'")
        if isinstance(op, ast.MatMult):
            self.reject(node, "'@' is not allowed")
        if isinstance(op, ast.Mod) and (
            isinstance(left, ast.JoinedStr)
            or (isinstance(left, ast.Constant) and type(left.value) in (str, bytes))
        ):
            self.reject(node, "%-formatting is not allowed; use an f-string")

    def expr(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self.load(node, node.id)
            else:
                self.bind(node, node.id)
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.ctx, ast.Load):
                self.reject(node, "attributes cannot be assigned or deleted")
            if node.attr.startswith("_"):
                self.reject(node, f"attributes starting with '_' are not allowed: {node.attr!r}")
            if node.attr in ("format", "format_map"):
                self.reject(node, "str.format is not allowed; use an f-string")
            if node.attr not in ALLOWED_ATTRIBUTES:
                self.reject(node, f"attribute {node.attr!r} is not allowed")
            self.expr(node.value)
        elif isinstance(node, ast.Subscript):
            self.expr(node.value)
            self.expr(node.slice)
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self.expr(part)
        elif isinstance(node, ast.BinOp):
            self.binop_allowed(node, node.op, node.left)
            self.expr(node.left)
            self.expr(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ALLOWED_UNARY):
                self.reject(node, "unary operator not allowed")
            self.expr(node.operand)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self.expr(value)
        elif isinstance(node, ast.Compare):
            if any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops) and not (
                len(node.ops) == 1
                and (_is_identity_constant(node.left) or _is_identity_constant(node.comparators[0]))
            ):
                self.reject(node, "'is' compares only with None, True or False")
            self.expr(node.left)
            for comparator in node.comparators:
                self.expr(comparator)
        elif isinstance(node, ast.IfExp):
            self.expr(node.test)
            self.expr(node.body)
            self.expr(node.orelse)
        elif isinstance(node, ast.Call):
            self.expr(node.func)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    self.reject(node, "*args calls are not allowed")
                self.expr(arg)
            for keyword in node.keywords:
                if keyword.arg is None:
                    self.reject(node, "**kwargs calls are not allowed")
                if keyword.arg.startswith("_"):
                    self.reject(node, f"keyword arguments starting with '_': {keyword.arg!r}")
                self.expr(keyword.value)
        elif isinstance(node, ast.List | ast.Tuple):
            for element in node.elts:
                self.expr(element)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    self.reject(node, "** in dict displays is not allowed; use dict.update")
                if isinstance(key, ast.Constant):
                    self.dict_key(key)
                self.expr(key)
                self.expr(value)
        elif isinstance(node, ast.ListComp | ast.DictComp):
            self.comprehension(node)
        elif isinstance(node, ast.NamedExpr):
            if self.comprehension_depth:
                self.reject(node, "':=' inside a comprehension is not allowed")
            if not isinstance(node.target, ast.Name):
                self.reject(node, "':=' assigns to a name only")
            self.bind(node, node.target.id)
            self.expr(node.value)
        elif isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    self.formatted(value)
                elif not (isinstance(value, ast.Constant) and type(value.value) is str):
                    self.reject(node, "unexpected f-string part")
        else:
            advice = _EXPRESSION_ADVICE.get(type(node), f"{type(node).__name__} is not allowed")
            self.reject(node, advice)

    def formatted(self, node: ast.FormattedValue) -> None:
        if node.conversion not in (-1, ord("s")):
            self.reject(node, "only the !s conversion is allowed in f-strings")
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) and type(p.value) is str for p in parts):
                self.reject(node, "f-string format specs must be constant")
        self.expr(node.value)

    def comprehension(self, node: ast.ListComp | ast.DictComp) -> None:
        self.comprehension_depth += 1
        for generator in node.generators:
            if generator.is_async:
                self.reject(node, "async comprehensions are not allowed")
            self.loop_target(generator.target)
            self.expr(generator.iter)
            for condition in generator.ifs:
                self.expr(condition)
        if isinstance(node, ast.ListComp):
            self.expr(node.elt)
        else:
            self.expr(node.key)
            self.expr(node.value)
        self.comprehension_depth -= 1


def _simple_subscript(node: ast.Subscript) -> bool:
    return isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name | ast.Constant)


class _Normaliser(ast.NodeTransformer):
    """Rewrites what RestrictedPython would refuse but the dialect allows.

    - annotations are dropped (they are never evaluated);
    - ``x: T = v`` becomes ``x = v``;
    - ``d[k] op= v`` becomes ``d[k] = d[k] op v`` (``d`` and ``k`` are names or literals, so
      evaluating them twice is unobservable).
    """

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        for arg in (*node.args.posonlyargs, *node.args.args):
            arg.annotation = None
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.Assign:
        assert node.value is not None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        target = node.target
        if not isinstance(target, ast.Subscript):
            return node
        assert isinstance(target.value, ast.Name)
        load = ast.Subscript(
            value=ast.Name(id=target.value.id, ctx=ast.Load()),
            slice=_copy_simple(target.slice),
            ctx=ast.Load(),
        )
        store = ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Store())
        value = ast.BinOp(left=load, op=node.op, right=node.value)
        return ast.copy_location(ast.Assign(targets=[store], value=value), node)


def _copy_simple(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Name):
        return ast.Name(id=node.id, ctx=ast.Load())
    assert isinstance(node, ast.Constant)
    return ast.Constant(value=node.value)
