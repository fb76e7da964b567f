"""Introduction: compile a contract once; invoke its methods deterministically.

``compile_contract`` runs the dialect checker, inserts the block charges, then runs
RestrictedPython's transformer (whose guards ``guards`` provides) and the metering
transform, and compiles the result.
``CompiledContract.invoke`` executes the module in fresh globals (so nothing a call mutates
survives it; a module whose level binds nothing mutable is loaded once per environment and
kept), calls one public method with ``ctx`` and the arguments, and turns whatever the
contract does into an ``Outcome``. ``sandbox_guards`` installs the host settings an invocation
runs under once for many invocations (the executor: once per block).

Invariants:
- ``invoke`` never raises for anything the contract does; it raises only when the host fails
  (the ``ContractState`` raised, or bad host inputs such as a non-positive step limit).
- The outcome depends only on the code, the arguments, ``sender``/``block``/``tx`` and the
  state: not on the clock, hash seed, CPython version (messages carry exception type names
  only), warning filters, decimal context or ``int_max_str_digits`` of the host.
- ``steps <= step_limit``, and ``== step_limit`` when out of steps whatever the cause (the
  call depth or a memory cap end the invocation as if the budget were spent).
- Writes reach the state, and events the outcome, only when the status is ``ok``.
"""

from __future__ import annotations

import ast
import decimal
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer

from yulian.contracts.aborts import OutOfSteps, SandboxFault
from yulian.contracts.builtins import DECIMAL_CONTEXT
from yulian.contracts.calls import ContractCalls, PrivateSource, TxFrame
from yulian.contracts.compiler.dialect import ContractRejected, check_contract
from yulian.contracts.compiler.instrument import (
    CHARGE,
    charge_blocks,
    instrument,
    module_load_steps,
)
from yulian.contracts.costs import DEFAULT_STEP_LIMIT
from yulian.contracts.export import import_args
from yulian.contracts.guards import Environment
from yulian.contracts.host import (
    HOST_ATTRIBUTES,
    BlockInfo,
    Context,
    ContractState,
    Host,
    HostFailure,
    Revert,
    Sender,
    TxInfo,
)
from yulian.contracts.meter import Meter

# Python frames guaranteed free below ``invoke``: MAX_CALL_DEPTH levels of contract calls take
# at most a few frames each, and every walk over values is iterative.
RECURSION_HEADROOM = 1000
GUARD_FRAMES = 16  # frames allowed between ``sandbox_guards`` and the invocations inside it
MAX_POOLED_ENVIRONMENTS = 8  # per compiled contract
MAX_NAME_IN_MESSAGE = 64

OK = "ok"
REVERTED = "reverted"
OUT_OF_STEPS = "out_of_steps"
FAULT = "fault"
UNKNOWN_METHOD = "unknown_method"
BAD_ARGS = "bad_args"


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" | "reverted" | "out_of_steps" | "fault" | "unknown_method" | "bad_args"
    message: str  # "" when ok; deterministic text otherwise
    value: Any  # canonical return value (to_canonical applied) or None
    # (contract, name, canonical payload) in order, a callee's under its own name; empty
    # unless ok (a system contract's: (name, payload), all its own)
    events: tuple[tuple[Any, ...], ...]
    steps: int


def _failure(status: str, message: str, steps: int = 0) -> Outcome:
    return Outcome(status, message, None, (), steps)


def _ensure_recursion_headroom(extra: int = 0) -> None:
    depth = extra
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    if sys.getrecursionlimit() < depth + RECURSION_HEADROOM:
        sys.setrecursionlimit(depth + RECURSION_HEADROOM)


_guards = threading.local()


@contextmanager
def sandbox_guards() -> Iterator[None]:
    """The host settings every invocation runs under: ``DECIMAL_CONTEXT``, warnings ignored
    (a ``-W error`` or ``-bb`` node must not fail what others accept) and recursion headroom.

    ``invoke`` installs them itself; a caller running many invocations (a block) installs them
    once around all of them instead, which is cheaper and changes no outcome: no invocation can
    read or change these settings, and Decimal results do not depend on the context's flags.
    """
    if getattr(_guards, "active", False):
        yield
        return
    _ensure_recursion_headroom(GUARD_FRAMES)
    with decimal.localcontext(DECIMAL_CONTEXT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _guards.active = True
        try:
            yield
        finally:
            _guards.active = False


def _policy(private_names: frozenset[str]) -> type[RestrictingNodeTransformer]:
    """RestrictedPython's transformer, followed by the metering transform.

    RestrictedPython bans every name with a leading underscore; it is lifted for exactly
    the private module functions (``_helper``), which passed the dialect's stricter naming
    rule, and the block charges ``charge_blocks`` inserted (``_charge_``, which contract code
    cannot write).
    """

    class ContractPolicy(RestrictingNodeTransformer):
        def check_name(
            self, node: Any, name: str | None, allow_magic_methods: bool = False
        ) -> None:
            if name in private_names:
                return
            super().check_name(node, name, allow_magic_methods)

        def visit_Module(self, node: ast.Module) -> Any:
            super().visit_Module(node)
            return instrument(node)

    return ContractPolicy


def compile_contract(name: str, source: str) -> CompiledContract:
    """Check and compile ``source``; raise ``ContractRejected`` with the line on refusal."""
    if type(name) is not str or not name:
        raise ContractRejected("contract name must be a non-empty str")
    _ensure_recursion_headroom()  # the parser and compiler recurse over the tree too
    checked = check_contract(source, f"<contract {name}>")
    load_steps = module_load_steps(checked.tree)
    charge_blocks(checked.tree)
    allowed_names = checked.private_names | {CHARGE}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = compile_restricted_exec(
                checked.tree, filename=f"<contract {name}>", policy=_policy(allowed_names)
            )
    except SyntaxError as e:  # e.g. 'break' outside a loop, found by the compiler
        raise ContractRejected(f"syntax error: {e.msg}", e.lineno) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ContractRejected(f"cannot compile: {type(e).__name__}") from None
    if result.errors or result.code is None:
        raise ContractRejected("; ".join(result.errors) or "cannot compile")
    reuse = _module_is_immutable(checked.tree)
    return CompiledContract(name, result.code, checked.methods, load_steps, reuse_module=reuse)


def _module_is_immutable(module: ast.Module) -> bool:
    """True when no call can change what the module level binds: no list or dict among its
    constants or its functions' defaults (the dialect allows only literals there, and no
    ``global``). One loaded module can then serve every invocation, unobservably."""
    for stmt in module.body:
        if isinstance(stmt, ast.Assign):
            parts: list[ast.expr] = [stmt.value]
        elif isinstance(stmt, ast.FunctionDef):
            parts = list(stmt.args.defaults)
        else:
            continue
        for part in parts:
            if any(isinstance(node, ast.List | ast.Dict) for node in ast.walk(part)):
                return False
    return True


class CompiledContract:
    """A checked, instrumented module; immutable and safe to share between invocations."""

    __slots__ = (
        "_arity",
        "_code",
        "_environments",
        "_load_steps",
        "_reuse_module",
        "methods",
        "name",
    )

    def __init__(
        self,
        name: str,
        code: CodeType,
        arity: Mapping[str, tuple[int, int]],
        load_steps: int = 0,
        *,
        reuse_module: bool = False,
    ) -> None:
        self.name = name
        self._code = code
        self._arity = dict(arity)
        self._load_steps = load_steps  # charged for every invocation, as if the module ran
        # the module level is immutable: each environment loads it once and keeps it
        self._reuse_module = reuse_module
        self.methods: tuple[str, ...] = tuple(sorted(arity))
        # environments of finished invocations, reused (a nested or concurrent invocation
        # takes another one, so no two running invocations ever share one)
        self._environments: list[Environment] = []

    def __repr__(self) -> str:
        return f"CompiledContract({self.name!r}, methods={self.methods})"

    def invoke(
        self,
        method: str,
        args: tuple[Any, ...] | list[Any],
        *,
        sender: Sender,
        block: BlockInfo,
        tx: TxInfo,
        state: ContractState,
        read_only: bool = False,
        step_limit: int = DEFAULT_STEP_LIMIT,
        calls: ContractCalls | None = None,
        private: PrivateSource | None = None,
    ) -> Outcome:
        """Run ``method(ctx, *args)`` as a transaction's call; ``calls`` lets it call other
        contracts, ``private`` opens its ``ctx.private`` (when first used). See the module
        docstring for the guarantees."""
        frame = TxFrame(sender, block, tx, read_only, calls)
        env = self._environments.pop() if self._environments else self._new_environment()
        env.reset(step_limit)
        try:
            if getattr(_guards, "active", False):
                return self._invoke(env, method, args, frame, state, None, private)
            with sandbox_guards():
                return self._invoke(env, method, args, frame, state, None, private)
        finally:
            if len(self._environments) < MAX_POOLED_ENVIRONMENTS:
                self._environments.append(env)

    def invoke_nested(
        self,
        method: str,
        args: list[Any],
        frame: TxFrame,
        meter: Meter,
        state: ContractState,
        private: PrivateSource | None = None,
    ) -> Outcome:
        """Run ``method`` for the contract whose ``meter`` is given (``ctx.call``): on what is
        left of its budget and call depth, in its transaction (``frame``), with ``args``
        already imported, on its own ``state`` and ``private`` data. The caller pays
        ``Outcome.steps``. Running out of steps or a host failure is raised, not returned: it
        ends the whole transaction."""
        env = self._environments.pop() if self._environments else self._new_environment()
        env.reset(meter.limit - meter.used)
        env.meter.budget = meter.budget
        env.meter.depth = meter.depth
        caller = frame.running[-1]
        try:
            return self._invoke(env, method, args, frame, state, caller, private)
        finally:
            if len(self._environments) < MAX_POOLED_ENVIRONMENTS:
                self._environments.append(env)

    @staticmethod
    def _new_environment() -> Environment:
        return Environment(Meter(DEFAULT_STEP_LIMIT), HOST_ATTRIBUTES)

    def _invoke(
        self,
        env: Environment,
        method: str,
        args: tuple[Any, ...] | list[Any],
        frame: TxFrame,
        state: ContractState,
        caller: str | None,
        private: PrivateSource | None = None,
    ) -> Outcome:
        """One invocation; ``caller`` is None for a transaction's (whose ``args`` are imported
        here) and the calling contract's name for a call (whose are imported already)."""
        meter = env.meter
        if type(method) is not str or method not in self._arity:
            shown = ascii(method)[:MAX_NAME_IN_MESSAGE] if type(method) is str else "(not a str)"
            return _failure(UNKNOWN_METHOD, f"unknown method {shown}")
        if type(args) not in (tuple, list):
            return _failure(BAD_ARGS, "arguments must be a list")
        low, high = self._arity[method]
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            return _failure(BAD_ARGS, f"{method} takes {expected} arguments, got {len(args)}")
        if caller is None:
            try:
                plain_args = import_args(args, meter)
            except OutOfSteps as e:
                return _failure(OUT_OF_STEPS, str(e), meter.limit)
            except SandboxFault as e:
                return _failure(BAD_ARGS, f"arguments: {e}")
        else:
            plain_args = list(args)
        host = Host(meter, state, frame, self.name, private)
        ctx = Context(host, caller)
        frame.running.append(self.name)
        try:
            value = self._run(env, method, host, ctx, plain_args)
        except HostFailure as e:
            if caller is not None:
                raise
            raise e.original from e
        except OutOfSteps as e:  # also call depth and memory caps: the whole budget is spent
            if caller is not None:
                raise
            return _failure(OUT_OF_STEPS, str(e), meter.limit)
        except Revert as e:
            return _failure(REVERTED, str(e), meter.used)
        except SandboxFault as e:
            return _failure(FAULT, f"{type(e).__name__}: {e}", meter.used)
        except Exception as e:  # anything the contract's own code raised: the type is enough
            return _failure(FAULT, type(e).__name__, meter.used)
        finally:
            frame.running.pop()
        try:
            host.flush()
        except Exception as e:
            if caller is not None:  # through the caller's code, which must not catch it
                raise HostFailure(e) from e
            raise
        events = tuple(frame.events) if caller is None else ()
        return Outcome(OK, "", value, events, meter.used)

    def _run(self, env: Environment, method: str, host: Host, ctx: Context, args: list[Any]) -> Any:
        """Load the module (in fresh globals, unless ``env`` keeps it loaded), call ``method``,
        export what it returned."""
        env.meter.charge(self._load_steps)
        if self._reuse_module:
            namespace = env.module
            if namespace is None:
                namespace = env.namespace()
                exec(self._code, namespace)
                env.module = namespace
            return host.export_result(namespace[method](ctx, *args))
        namespace = env.namespace()
        try:
            exec(self._code, namespace)
            return host.export_result(namespace[method](ctx, *args))
        finally:
            # the module's functions and its globals refer to each other: break the cycle now
            # (nothing runs contract code after this) instead of leaving it to the collector
            namespace.clear()
