"""Introduction: ``yulian contract check FILE`` — the dialect checker's verdict, with advice.

``check_source`` runs exactly what the lifecycle runs before a deployment vote
(``compile_contract``: the dialect checker, RestrictedPython, the metering transform) and the
lifecycle's size limit, so a file that passes here is one the consortium can vote on. A refusal
comes back as a ``Problem`` at its line, whose message is the checker's own, followed by what to
write instead: the checker stops at the first problem and says what is wrong; this module
(wrapping it, not changing it) adds the how-to-fix. Beyond the checker, a few warnings catch
what compiles but is probably not meant: a public-looking function that no transaction can
call, a contract with no methods, module constants that make every call reload the module.

Format: ``file:line: error: message — instead: advice`` (``line`` 0 when the problem has none).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from yulian.contracts import ContractRejected, compile_contract
from yulian.contracts.builtins import BUILTIN_NAMES
from yulian.contracts.compiler.dialect import ALLOWED_ATTRIBUTES, CONTEXT_PARAM
from yulian.execution.system.lifecycle import MAX_CODE_BYTES

ERROR = "error"
WARNING = "warning"
_LINE_PREFIX = re.compile(r"line (\d+): ")
_QUOTED = re.compile(r"'([^']*)'")

_NO_IO = "contracts have no I/O and no dynamic code: the host API (ctx) is all they reach"
_REQUIRE = 'check with ctx.require(condition, "what went wrong"): a failed require reverts the tx'
# builtins the dialect refuses, and what a contract writes instead
_NAME_ADVICE = {
    "print": 'record it with ctx.emit("name", {...}), or return it',
    "float": "write Decimal('1.25') for fractional amounts, or an int of the smallest unit",
    "complex": "use Decimal",
    "set": "use a dict with True values (ordered by insertion) or a sorted list",
    "frozenset": "use a tuple or a sorted list",
    "getattr": "access the attribute by name (obj.name), or keep the data in a dict",
    "setattr": "keep the data in a dict and assign d[key] = value",
    "hasattr": "keep the data in a dict and test key in d",
    "delattr": "keep the data in a dict and del d[key]",
    "type": "test the kind with isinstance(x, str)",
    "round": "quantize a Decimal: Decimal(x).quantize(Decimal('0.01'))",
    "pow": "write x ** y",
    "repr": "use str(x) or an f-string",
    "ascii": "use str(x) or an f-string",
    "format": 'use an f-string: f"{amount} {currency}"',
    "map": "use a list comprehension: [f(x) for x in xs]",
    "filter": "use a list comprehension: [x for x in xs if ok(x)]",
    "iter": "loop with for",
    "next": "loop with for, or index the list",
    "hash": "build a key of your own (for example from ctx.tx.id)",
    "id": "build a key of your own (for example from ctx.tx.id)",
    "slice": "write x[start:stop]",
    "bytearray": "use bytes",
    "memoryview": "use bytes",
    "callable": "call only functions you defined",
    "issubclass": "use isinstance",
    "object": "use dicts for records and functions for behaviour",
    "super": "use dicts for records and functions for behaviour",
    "property": "use dicts for records and functions for behaviour",
    "classmethod": "use dicts for records and functions for behaviour",
    "staticmethod": "use dicts for records and functions for behaviour",
    "locals": "name the values explicitly",
    "globals": "name the values explicitly",
    "vars": "name the values explicitly",
    "dir": "name the values explicitly",
}
# attributes people reach for, and where the host API keeps them
_ATTRIBUTE_ADVICE = {
    "now": "the block's time is ctx.block.time (ms); never the node's clock",
    "time": "the block's time is ctx.block.time (ms); never the node's clock",
    "timestamp": "the block's time is ctx.block.time (ms); never the node's clock",
    "number": "the block's height is ctx.block.height",
    "origin": "the signer is ctx.sender (.org, .role, .id, .attributes)",
    "msg": "the signer is ctx.sender (.org, .role, .id, .attributes)",
    "log": 'record it with ctx.emit("name", {...})',
    "random": "derive values from ctx.tx.id or the arguments; contracts have no randomness",
    "set": "store with ctx.state.put(key, value)",
    "keys": "list keys in order with ctx.state.scan(prefix), a page at a time",
}
# the module-level statements the checker refuses as "not a function or constant"
_STATEMENT_ADVICE = {
    ast.Import: "delete the import; Decimal is a builtin and ctx is the host API",
    ast.ImportFrom: "delete the import; Decimal is a builtin and ctx is the host API",
    ast.ClassDef: "keep records in dicts and behaviour in module-level functions",
}
# (fragment of the checker's message, what to write instead), first match wins
_MESSAGE_ADVICE = [
    ("import is not allowed", "delete the import; Decimal is a builtin and ctx is the host API"),
    ("try/except", _REQUIRE),
    ("raise is not allowed", _REQUIRE),
    ("assert is not allowed", _REQUIRE),
    ("classes are not allowed", "keep records in dicts and behaviour in module-level functions"),
    ("with is not allowed", "call the functions directly; there is nothing to open or close"),
    ("async is not allowed", "write an ordinary def; a contract call runs to its end at once"),
    ("await is not allowed", "write an ordinary def; a contract call runs to its end at once"),
    ("yield is not allowed", "build and return a list"),
    ("global is not allowed", "keep lasting data in ctx.state; pass values in and return them"),
    ("nonlocal is not allowed", "return the new value from the inner function"),
    ("match is not allowed", "use if / elif / else"),
    ("lambda is not allowed", "define def _key(item): ... and pass it: sorted(xs, key=_key)"),
    ("sets are not allowed", _NAME_ADVICE["set"]),
    ("star unpacking", "index the list, or pass the items one by one"),
    ("*args calls", "pass the arguments one by one"),
    ("**kwargs calls", "pass keyword arguments one by one"),
    ("** in dict displays", "copy, then update: d = dict(a); d.update(b)"),
    ("only plain positional parameters", "take one list or dict parameter instead"),
    ("decorators are not allowed", "call the wrapping function explicitly"),
    ("true division", "use // on ints; for money multiply by a Decimal rate and quantize"),
    ("float and complex literals", _NAME_ADVICE["float"]),
    ("%-formatting", 'use an f-string: f"{name}: {value}"'),
    ("str.format", 'use an f-string: f"{name}: {value}"'),
    ("invalid private function name", "name helpers _lower_case (not ending in _, not _tmp*)"),
    ("names starting with '_'", "drop the leading _; only module-level helpers are _named"),
    ("attributes starting with '_'", "use the public attributes of ctx and of values"),
    ("module level may only define", "move the statement into a function; keep literals here"),
    ("only literal constants", "use a literal (number, string, tuple) and compute in a function"),
    ("defined twice", "rename one of them"),
    ("cannot be rebound", "choose another name for the variable"),
    ("is a reserved name", "choose another name"),
    ("'is' compares only", "compare values with =="),
    ("attributes cannot be assigned", "ctx and its parts are read-only; keep data in dicts"),
    ("augmented assignment only", "assign in two steps: n = d[k] + 1, then d[k] = n"),
    ("':=' inside a comprehension", "compute the value before the comprehension"),
    ("only the !s conversion", "drop !r / !a; write {str(x)} or {x}"),
    ("format specs must be constant", "put the width or precision in the f-string literally"),
    ("identifiers must be ASCII", "name variables in ASCII; strings may hold any text"),
    ("ctx cannot have a default", "make ctx the first parameter, with no default"),
    ("syntax error", "fix the Python syntax at or just before this line"),
    ("source larger than", "split the contract, or move data out of the code into state"),
]


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 1-based; 0 when the problem has no line
    message: str
    advice: str = ""
    severity: str = ERROR

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.severity}: {self.message}"
        return f"{text} — instead: {self.advice}" if self.advice else text


def check_file(path: str | Path) -> list[Problem]:
    """The problems of the contract in ``path`` (empty when it is ready to propose)."""
    file = Path(path)
    try:
        source = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        return [Problem(str(path), 0, f"not UTF-8 (byte {e.start})", "save the file as UTF-8")]
    except OSError as e:
        return [Problem(str(path), 0, f"cannot read: {e.strerror}")]
    return check_source(source, str(path), name=_contract_name(file))


def check_source(source: str, path: str = "<contract>", *, name: str = "contract") -> list[Problem]:
    """The problems of ``source``: the first error the checker finds, or the warnings."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_CODE_BYTES:
        return [
            Problem(
                path,
                0,
                f"{size} bytes: the lifecycle takes at most {MAX_CODE_BYTES}",
                "split the contract, or move data out of the code into state",
            )
        ]
    try:
        compile_contract(name, source)
    except ContractRejected as e:
        return [_problem(path, e, source)]
    return _warnings(path, source)


def format_problems(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def _problem(path: str, rejected: ContractRejected, source: str) -> Problem:
    message = rejected.reason
    line = rejected.line or 0
    prefix = _LINE_PREFIX.match(message)
    if prefix:
        message = message[prefix.end() :]
        line = line or int(prefix.group(1))
    advice = ""
    if message.startswith("module level may only define"):
        advice = _STATEMENT_ADVICE.get(type(_statement_at(source, line)), "")
    return Problem(path, line, message, advice or advise(message))


def _statement_at(source: str, line: int) -> ast.stmt | None:
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):
        return None
    return next((stmt for stmt in body if stmt.lineno == line), None)


def advise(message: str) -> str:
    """What to write instead of what ``message`` (a checker refusal) names, or ""."""
    quoted = _QUOTED.findall(message)
    if quoted and ("not available in contracts" in message or "reserved name" in message):
        if quoted[0] in _NAME_ADVICE:
            return _NAME_ADVICE[quoted[0]]
        if quoted[0] in ("open", "input", "exec", "eval", "compile", "__import__", "breakpoint"):
            return _NO_IO
    if quoted and message.startswith("attribute "):
        if quoted[0] in _ATTRIBUTE_ADVICE:
            return _ATTRIBUTE_ADVICE[quoted[0]]
        return _closest(quoted[0], sorted(ALLOWED_ATTRIBUTES), "method or attribute")
    if quoted and message.startswith("name ") and message.endswith("is not defined"):
        if quoted[0] == CONTEXT_PARAM:
            return "pass ctx to the helper as its first parameter"
        hint = _closest(quoted[0], sorted(BUILTIN_NAMES), "builtin")
        return hint or "define it first: a module constant, a parameter or a local"
    for fragment, advice in _MESSAGE_ADVICE:
        if fragment in message:
            return advice
    return ""


def _closest(name: str, known: list[str], what: str) -> str:
    matches = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not matches:
        return ""
    return "did you mean " + " or ".join(f"the {what} {m!r}" for m in matches) + "?"


def _warnings(path: str, source: str) -> list[Problem]:
    """What compiles but is probably a mistake."""
    tree = ast.parse(source)
    out: list[Problem] = []
    methods = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and _uses_ctx_without_taking_it(stmt):
            out.append(
                Problem(
                    path,
                    stmt.lineno,
                    f"{stmt.name} reads ctx but does not take it: the call fails at run time",
                    f"make ctx the first parameter of {stmt.name} and pass it on",
                    WARNING,
                )
            )
        if isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("_"):
            params = [a.arg for a in (*stmt.args.posonlyargs, *stmt.args.args)]
            if params[:1] == [CONTEXT_PARAM]:
                methods += 1
            else:
                out.append(
                    Problem(
                        path,
                        stmt.lineno,
                        f"{stmt.name} is not callable by a transaction: its first parameter is "
                        "not ctx",
                        f"make ctx its first parameter, or name it _{stmt.name} if it is a helper",
                        WARNING,
                    )
                )
        if isinstance(stmt, ast.Assign) and any(
            isinstance(node, ast.List | ast.Dict) for node in ast.walk(stmt.value)
        ):
            names = ", ".join(t.id for t in stmt.targets if isinstance(t, ast.Name))
            out.append(
                Problem(
                    path,
                    stmt.lineno,
                    f"{names} holds a list or dict, so every call loads the module afresh",
                    "use a tuple (and tuples inside) for constants",
                    WARNING,
                )
            )
    if methods == 0:
        out.append(
            Problem(
                path,
                0,
                "no public methods: nothing can be called",
                "define def method(ctx, ...): at module level",
                WARNING,
            )
        )
    return out


def _uses_ctx_without_taking_it(function: ast.FunctionDef) -> bool:
    """Whether ``function`` (or a function nested in it) reads ``ctx`` that none of them
    binds: the checker accepts it (``ctx`` is bound elsewhere in the module), the call faults."""
    bound = {
        a.arg
        for node in ast.walk(function)
        if isinstance(node, ast.arguments)
        for a in (*node.posonlyargs, *node.args)
    }
    bound |= {
        n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    reads = any(
        isinstance(n, ast.Name) and n.id == CONTEXT_PARAM and isinstance(n.ctx, ast.Load)
        for n in ast.walk(function)
    )
    return reads and CONTEXT_PARAM not in bound


def _contract_name(file: Path) -> str:
    """A lifecycle-style name for messages: the file's stem, or its folder's for contract.py."""
    stem = file.parent.name if file.stem == "contract" and file.parent.name else file.stem
    name = re.sub(r"[^a-z0-9_]", "_", stem.lower()).lstrip("_0123456789")
    return name or "contract"
