"""K1: a corpus of sandbox-escape attempts, each contained.

Every case is either rejected at deploy time (``ContractRejected``) or, when it is valid
dialect, ends in the expected deterministic non-ok outcome; and in both cases nothing escaped:
no file appeared, the state and the sender's attributes are unchanged, the host's decimal
context is untouched, and no event or value came out.
"""

from __future__ import annotations

import decimal
import os
import subprocess
import sys
from pathlib import Path

import pytest

import yulian
from yulian.contracts import (
    BlockInfo,
    ContractRejected,
    MemoryState,
    Sender,
    TxInfo,
    compile_contract,
)
from yulian.contracts.builtins import DENIED_NAMES


def body(*lines: str) -> str:
    """A contract whose only method is ``attack(ctx)`` with these lines as its body."""
    return "def attack(ctx):\n" + "".join(f"    {line}\n" for line in lines)


DEEP_TUPLE = ("t = ()", "for i in range(50000):", "    t = (t,)")
DEEP_LIST = ("a = []", "b = []", "for i in range(50000):", "    a = [a]", "    b = [b]")
CYCLE = ("a = []", "a.append(a)")

# (id, expectation, source). Expectation: "rejected", or "<status>:<message prefix>".
CASES: list[tuple[str, str, str]] = [
    # --- dunder walks and introspection ---
    ("subclasses", "rejected", body("return ().__class__.__bases__[0].__subclasses__()")),
    ("ctx_dict", "rejected", body("return ctx.__dict__")),
    ("func_globals", "rejected", body("return attack.__globals__")),
    ("lambda_code", "rejected", body("return (lambda: 0).__code__")),
    ("code_consts", "rejected", body("return attack.__code__.co_consts")),
    ("builtins_name", "rejected", body("return __builtins__")),
    ("builtins_item", "rejected", body("return __builtins__['open']")),
    ("import_dunder", "rejected", body("return __import__('os')")),
    ("init_globals", "rejected", body("return ctx.__class__.__init__.__globals__")),
    ("str_mro", "rejected", body("return ''.__class__.__mro__")),
    ("int_space_class", "rejected", body("return 0 .__class__")),
    ("getattribute", "rejected", body("return ctx.__getattribute__('state')")),
    ("reduce_ex", "rejected", body("return ctx.__reduce_ex__(2)")),
    ("dunder_local", "rejected", body("__x = 1", "return 1")),
    ("dunder_in_fstring", "rejected", body("return f'{ctx.__class__}'")),
    ("ctx_host", "rejected", body("return ctx._host")),
    ("state_store", "rejected", body("return ctx.state._store")),
    ("state_host_state", "rejected", body("return ctx.state._host.state")),
    ("bound_self", "rejected", body("return ctx.state.get.__self__")),
    ("method_func", "rejected", body("return ctx.emit.__func__")),
    ("method_call", "rejected", body("return ctx.state.get.__call__")),
    ("closure", "rejected", body("def g():", "    return ctx", "return g.__closure__")),
    ("defaults", "rejected", body("return attack.__defaults__")),
    ("name_main", "rejected", "if __name__ == '__main__':\n    pass\n"),
    ("vars", "rejected", body("return vars(ctx)")),
    ("dir", "rejected", body("return dir(ctx)")),
    ("globals", "rejected", body("return globals()")),
    ("locals", "rejected", body("return locals()")),
    ("type_of", "rejected", body("return type(ctx)")),
    ("type_new", "rejected", body("return type('X', (), {})")),
    ("object", "rejected", body("return object()")),
    ("super", "rejected", body("return super()")),
    ("id", "rejected", body("return id(ctx)")),
    ("hash", "rejected", body("return hash('a')")),
    ("print", "rejected", body("print('x')")),
    ("printed", "rejected", body("return printed")),
    ("input", "rejected", body("return input()")),
    ("open_write", "rejected", body("open('pwned', 'w').write('x')")),
    ("eval", "rejected", body("return eval('1')")),
    ("exec", "rejected", body("exec('x = 1')")),
    ("compile", "rejected", body("return compile('1', 'f', 'eval')")),
    ("getattr_computed", "rejected", body("return getattr(ctx, '_' + 'host')")),
    ("setattr", "rejected", body("setattr(ctx, 'state', 1)")),
    ("delattr", "rejected", body("delattr(ctx, 'state')")),
    ("hasattr", "rejected", body("return hasattr(ctx, 'x')")),
    ("memoryview", "rejected", body("return memoryview(b'x')")),
    ("bytearray", "rejected", body("b = bytearray(10)", "return 1")),
    ("set_call", "rejected", body("return set([1])")),
    ("frozenset", "rejected", body("return frozenset()")),
    ("float_call", "rejected", body("return float('1.5')")),
    ("iter", "rejected", body("return iter([1])")),
    ("next", "rejected", body("return next([1])")),
    ("breakpoint", "rejected", body("breakpoint()")),
    ("format_builtin", "rejected", body("return format(1, 'x')")),
    ("repr_builtin", "rejected", body("return repr(ctx)")),
    ("callable", "rejected", body("return callable(ctx)")),
    ("issubclass", "rejected", body("return issubclass(bool, int)")),
    ("map", "rejected", body("return map(str, [1])")),
    ("pow_builtin", "rejected", body("return pow(2, 3, 5)")),
    ("slice_builtin", "rejected", body("return slice(1)")),
    # --- imports ---
    ("import_os", "rejected", "import os\n" + body("return 1")),
    ("from_import", "rejected", "from os import system\n" + body("return 1")),
    ("import_in_function", "rejected", body("import importlib", "return 1")),
    ("sys_modules", "rejected", body("import sys", "return sys.modules")),
    ("dunder_import_sys", "rejected", body("return __import__('sys').modules")),
    ("importlib_name", "rejected", body("return importlib.import_module('os')")),
    ("sys_getframe", "rejected", body("return sys._getframe()")),
    ("future", "rejected", "from __future__ import annotations\n" + body("return 1")),
    # --- frames, tracebacks, generators ---
    (
        "traceback_frame",
        "rejected",
        body("try:", "    1 // 0", "except Exception as e:", "    return e.__traceback__.tb_frame"),
    ),
    ("generator_frame", "rejected", "def g():\n    yield 1\n" + body("return g().gi_frame")),
    ("genexp_frame", "rejected", body("return (x for x in [1]).gi_frame")),
    ("gi_frame_name", "rejected", body("return ctx.require.gi_frame")),
    ("f_back", "rejected", body("return ctx.f_back")),
    ("async_def", "rejected", "async def attack(ctx):\n    return 1\n"),
    ("await", "rejected", "async def attack(ctx):\n    await ctx\n"),
    ("yield_from", "rejected", body("yield from [1]")),
    # --- str.format and formatting ---
    ("format_dunder", "rejected", body("return '{0.__class__}'.format(1)")),
    ("format_map", "rejected", body("return '{x.__globals__}'.format_map({'x': attack})")),
    ("format_on_var", "rejected", body("s = '{}'", "return s.format(ctx)")),
    ("percent_literal", "rejected", body("return '%s' % (ctx,)")),
    ("percent_bytes_literal", "rejected", body("return b'%s' % (b'x',)")),
    ("percent_var", "fault:ForbiddenOperation", body("s = '%s'", "return s % (ctx,)")),
    ("percent_bytes_var", "fault:ForbiddenOperation", body("s = b'%s'", "return s % (b'x',)")),
    ("fstring_repr", "rejected", body("return f'{ctx!r}'")),
    ("fstring_ascii", "rejected", body("return f'{ctx!a}'")),
    ("fstring_nested_spec", "rejected", body("w = 5", "return f'{1:{w}}'")),
    ("fstring_huge_width", "fault:LimitExceeded", body("return f'{1:>1000000000}'")),
    ("fstring_locale", "fault:ForbiddenOperation", body("return f'{1000:n}'")),
    ("fstring_host", "fault:AccessDenied", body("return f'{ctx.state}'")),
    # --- exceptions: AttributeError.obj, try/except*, raise ---
    (
        "attribute_error_obj",
        "rejected",
        body("try:", "    ctx.nope", "except AttributeError as e:", "    return e.obj"),
    ),
    ("try_finally", "rejected", body("try:", "    pass", "finally:", "    pass")),
    ("try_star", "rejected", body("try:", "    pass", "except* ValueError:", "    pass")),
    ("raise", "rejected", body("raise ValueError('x')")),
    ("assert", "rejected", body("assert False, 'x'")),
    ("with", "rejected", body("with ctx:", "    pass")),
    # --- guard-name shadowing ---
    ("posonly_getattr", "rejected", "def attack(_getattr_, /):\n    return 1\n"),
    ("param_getitem", "rejected", "def attack(ctx, _getitem_=1):\n    return 1\n"),
    ("assign_getattr", "rejected", body("_getattr_ = len", "return ctx.state")),
    ("module_write", "rejected", "_write_ = 1\n" + body("return 1")),
    ("comprehension_getiter", "rejected", body("return [1 for _getiter_ in [1]]")),
    ("walrus_inplacevar", "rejected", body("(_inplacevar_ := 1)", "return 1")),
    ("keyword_apply", "rejected", body("return sorted([1], _apply_=1)")),
    ("def_guard_name", "rejected", "def _getattr_(o, n):\n    return 1\n" + body("return 1")),
    ("def_dunder_private", "rejected", "def __helper(ctx):\n    return 1\n"),
    ("shadow_charge", "rejected", "_charge_ = 1\n" + body("return 1")),
    ("shadow_enter", "rejected", body("_enter_ = 1", "return 1")),
    ("global_charge", "rejected", body("global _charge_", "_charge_ = 1")),
    ("private_tmp_name", "rejected", "def _tmp0(x):\n    return x\n" + body("return 1")),
    ("rebind_private", "rejected", "def _h(x):\n    return x\n" + body("_h = 1", "return 1")),
    # --- classes, metaclasses, decorators ---
    ("class", "rejected", "class A:\n    pass\n"),
    ("metaclass", "rejected", "class A(metaclass=type):\n    pass\n"),
    ("class_in_function", "rejected", body("class A:", "    pass", "return 1")),
    (
        "decorator",
        "rejected",
        "def deco(f):\n    return f\n@deco\ndef attack(ctx):\n    return 1\n",
    ),
    ("staticmethod", "rejected", "@staticmethod\ndef attack(ctx):\n    return 1\n"),
    # --- floats and true division ---
    ("float_literal", "rejected", body("return 1.5")),
    ("exp_literal", "rejected", body("return 1e3")),
    ("complex_literal", "rejected", body("return 1j")),
    ("true_division", "rejected", body("return 1 / 2")),
    ("inplace_division", "rejected", body("x = 4", "x /= 2", "return x")),
    ("negative_power", "fault:ForbiddenOperation", body("return 2 ** -1")),
    ("float_presentation", "fault:ForbiddenOperation", body("return f'{10:f}'")),
    ("decimal_float", "rejected", body("return Decimal(1).__float__()")),
    ("ellipsis", "rejected", body("return ...")),
    # --- sets, hash order ---
    ("set_literal", "rejected", body("return {1, 2}")),
    ("set_comprehension", "rejected", body("return {x for x in [1]}")),
    ("generator_expression", "rejected", body("return sum(x for x in [1])")),
    # --- writes to ctx ---
    ("ctx_state_assign", "rejected", body("ctx.state = None")),
    ("sender_org_assign", "rejected", body("ctx.sender.org = 'x'")),
    ("block_height_assign", "rejected", body("ctx.block.height = 0")),
    ("del_ctx_state", "rejected", body("del ctx.state")),
    ("alias_attr_assign", "rejected", body("s = ctx.state", "s.put = 1")),
    ("attributes_setitem", "fault:AccessDenied", body("ctx.sender.attributes['role'] = 'admin'")),
    ("attributes_update", "fault:AccessDenied", body("ctx.sender.attributes.update({'x': 'y'})")),
    ("attributes_pop", "fault:AccessDenied", body("ctx.sender.attributes.pop('dept')")),
    (
        "attributes_setdefault",
        "fault:AccessDenied",
        body("ctx.sender.attributes.setdefault('x', 'y')"),
    ),
    ("attributes_clear", "fault:AccessDenied", body("ctx.sender.attributes.clear()")),
    ("attributes_delitem", "fault:AccessDenied", body("del ctx.sender.attributes['dept']")),
    (
        "attributes_inplace_or",
        "reverted:unchanged",
        body(
            "a = ctx.sender.attributes",
            "a |= {'role': 'admin'}",
            "ctx.require(ctx.sender.attributes.get('role') == 'admin', 'unchanged')",
        ),
    ),
    ("tx_id_setitem", "fault:AccessDenied", body("ctx.tx.id[0] = 'x'")),
    ("tuple_setitem", "fault:AccessDenied", body("t = (1,)", "t[0] = 2")),
    ("state_view_setitem", "fault:AccessDenied", body("ctx.state['k'] = 1")),
    # --- operators and names ---
    ("matmul", "rejected", body("return [1] @ [2]")),
    ("global", "rejected", "X = 1\n" + body("global X", "X = 2")),
    ("nonlocal", "rejected", body("x = 1", "def g():", "    nonlocal x", "    x = 2", "g()")),
    ("walrus_len", "rejected", body("(len := 1)", "return len")),
    ("walrus_decimal", "rejected", body("(Decimal := int)", "return 1")),
    ("walrus_in_comprehension", "rejected", body("return [y := 1 for x in [1]]")),
    ("is_literal", "rejected", body("return 1 is 1")),
    ("is_names", "rejected", body("a = 'x'", "return a is ctx.sender.org")),
    ("is_chain", "rejected", body("return None is None is None")),
    ("unknown_name", "rejected", body("return os")),
    ("reserved_local", "rejected", body("type = 'doc'", "return type")),
    ("star_call", "rejected", body("return max(*[1, 2])")),
    ("kwargs_call", "rejected", body("return dict(**{'a': 1})")),
    ("dict_splat", "rejected", body("return {**{'a': 1}}")),
    ("list_splat", "rejected", body("return [*[1]]")),
    ("star_assign", "rejected", body("a, *b = [1, 2, 3]", "return b")),
    ("lambda", "rejected", body("return sorted([2, 1], key=lambda x: x)")),
    ("match", "rejected", body("match ctx:", "    case _:", "        return 1")),
    ("varargs_def", "rejected", "def attack(ctx, *args):\n    return 1\n"),
    ("kwargs_def", "rejected", "def attack(ctx, **kw):\n    return 1\n"),
    # --- Decimal and its context ---
    ("reassign_decimal_module", "rejected", "Decimal = 5\n" + body("return 1")),
    ("reassign_decimal_local", "rejected", body("Decimal = int", "return 1")),
    ("decimal_getcontext", "rejected", body("return Decimal.getcontext()")),
    ("decimal_module", "rejected", body("decimal.getcontext().prec = 1")),
    ("import_decimal", "rejected", body("import decimal", "return 1")),
    (
        "decimal_context_kw",
        "fault:TypeError",
        body("return str(Decimal(1).quantize(Decimal('1'), context=5))"),
    ),
    ("decimal_nan", "fault:InvalidValue", body("return str(Decimal('NaN'))")),
    ("decimal_infinity", "fault:InvalidValue", body("return str(Decimal('-Infinity'))")),
    (
        "decimal_fractional_power",
        "fault:ForbiddenOperation",
        body("return str(Decimal(2) ** Decimal('0.5'))"),
    ),
    ("decimal_unicode_digits", "fault:InvalidValue", body("return str(Decimal('\u0661'))")),
    ("decimal_tuple", "fault:InvalidValue", body("return str(Decimal((0, (1,), 0)))")),
    ("int_unicode_digits", "fault:ValueError", body("return int('\u0663')")),
    # --- unicode-normalised identifiers ---
    ("nfkc_attribute", "rejected", body("return ctx.\uff53tate")),
    ("nfkc_name", "rejected", body("return \uff43tx")),
    ("zero_width_dunder", "rejected", body("return ctx._\u200b_class__")),
    ("nfkc_in_fstring", "rejected", body("return f'{ctx.\uff53tate}'")),
    ("fullwidth_import", "rejected", body("return \uff3f\uff3fimport\uff3f\uff3f('os')")),
    ("fullwidth_dunder_attr", "rejected", body("return ctx.\uff3f\uff3fclass\uff3f\uff3f")),
    ("cyrillic_ctx", "rejected", body("return \u0441tx")),
    # --- methods off the allowlist, or on the wrong type ---
    ("ljust", "rejected", body("return 'a'.ljust(10**9)")),
    ("center", "rejected", body("return 'a'.center(10)")),
    ("expandtabs", "rejected", body("return '\\t'.expandtabs(10**9)")),
    ("format_attr", "rejected", body("return '{}'.format")),
    ("translate", "rejected", body("return 'a'.translate({})")),
    ("fromkeys", "rejected", body("return {}.fromkeys(range(10))")),
    ("list_len_dunder", "rejected", body("return [].__len__()")),
    ("int_hex", "fault:AccessDenied", body("return (5).hex()")),
    ("state_items", "fault:AccessDenied", body("return ctx.state.items()")),
    ("ctx_get", "fault:AccessDenied", body("return ctx.get('x')")),
    ("list_sort_key", "fault:TypeError", body("x = [2, 1]", "x.sort(key=len)", "return x")),
    ("codec_rot13", "fault:AccessDenied", body("return 'a'.encode('rot13')")),
    ("codec_idna", "fault:AccessDenied", body("return b'a'.decode('idna')")),
    ("codec_str_call", "fault:AccessDenied", body("return str(b'x', 'punycode')")),
    # --- host objects never turn into text, values or iterables ---
    ("iterate_ctx", "fault:AccessDenied", body("return [x for x in ctx]")),
    ("iterate_state", "fault:AccessDenied", body("for k in ctx.state:", "    pass")),
    ("str_ctx", "fault:AccessDenied", body("return str(ctx)")),
    ("str_function", "fault:AccessDenied", body("return str(attack)")),
    ("str_list_of_ctx", "fault:AccessDenied", body("return str([ctx])")),
    ("str_iterator", "fault:AccessDenied", body("return str(enumerate([1]))")),
    ("put_ctx", "fault:InvalidValue", body("ctx.state.put('k', ctx)")),
    ("emit_function", "fault:InvalidValue", body("ctx.emit('e', attack)")),
    ("return_ctx", "fault:InvalidValue", body("return ctx")),
    ("return_function", "fault:InvalidValue", body("return attack")),
    ("require_ctx_message", "fault:InvalidValue", body("ctx.require(False, ctx)")),
    ("history_limit", "fault:InvalidValue", body("return ctx.state.history('k', 10**6)")),
    ("isinstance_nested", "fault:TypeError", body("return isinstance(1, (((int,),),))")),
    ("isinstance_host_type", "fault:TypeError", body("return isinstance(ctx, ctx)")),
    # --- C-level recursion and hashing of hostile structures ---
    ("deep_tuple_key", "fault:InvalidValue", body(*DEEP_TUPLE, "d = {}", "d[t] = 1")),
    ("deep_tuple_display", "fault:InvalidValue", body(*DEEP_TUPLE, "return {t: 1}")),
    ("deep_tuple_lookup", "fault:KeyError", body(*DEEP_TUPLE, "return {'a': 2}[t]")),
    ("deep_tuple_setdefault", "fault:InvalidValue", body(*DEEP_TUPLE, "return {}.setdefault(t)")),
    ("deep_tuple_dict", "fault:InvalidValue", body(*DEEP_TUPLE, "return dict([(t, 1)])")),
    ("deep_list_eq", "fault:LimitExceeded", body(*DEEP_LIST, "return a == b")),
    ("deep_list_lt", "fault:LimitExceeded", body(*DEEP_LIST, "return a < b")),
    ("deep_list_str", "fault:LimitExceeded", body(*DEEP_LIST, "return str(a)")),
    ("deep_list_in", "fault:LimitExceeded", body(*DEEP_LIST, "return a in [b]")),
    ("deep_list_sorted", "fault:LimitExceeded", body(*DEEP_LIST, "return sorted([a, b])")),
    ("deep_list_index", "fault:LimitExceeded", body(*DEEP_LIST, "return [b].index(a)")),
    ("deep_list_put", "fault:InvalidValue", body(*DEEP_LIST, "ctx.state.put('k', a)")),
    ("cycle_eq", "fault:LimitExceeded", body(*CYCLE, "return a == a")),
    ("cycle_str", "fault:LimitExceeded", body(*CYCLE, "return f'{a}'")),
    ("cycle_return", "fault:InvalidValue", body(*CYCLE, "return a")),
    # --- failures leave no trace ---
    (
        "revert_after_put",
        "reverted:no",
        body("ctx.state.put('k', 1)", "ctx.emit('e', 1)", "ctx.require(False, 'no')"),
    ),
    ("fault_after_put", "fault:ZeroDivisionError", body("ctx.state.put('k', 1)", "return 1 // 0")),
    ("loop_after_put", "out_of_steps:", body("ctx.state.delete('k')", "while True:", "    pass")),
    ("key_error_after_emit", "fault:KeyError", body("ctx.emit('e', 1)", "return {}['x']")),
    # --- module level and defaults run no code ---
    ("module_call", "rejected", "X = open('pwned', 'w')\n" + body("return X")),
    ("module_expression", "rejected", "attack(None)\n" + body("return 1")),
    ("module_binop", "rejected", "X = 10 ** 10 ** 10\n" + body("return 1")),
    ("default_call", "rejected", "def attack(ctx, x=open('pwned', 'w')):\n    return 1\n"),
    ("annotation_import", "rejected", "def attack(ctx) -> __import__('os'):\n    return 1\n"),
    ("annotation_open", "rejected", "def attack(ctx, x: open('pwned', 'w') = 1):\n    return 1\n"),
    ("while_module", "rejected", "while True:\n    pass\n"),
]

DUNDERS = [
    "__class__",
    "__bases__",
    "__subclasses__",
    "__globals__",
    "__code__",
    "__dict__",
    "__builtins__",
    "__closure__",
    "__self__",
    "__getattribute__",
    "__reduce_ex__",
    "__traceback__",
]
RECEIVERS = {
    "ctx": "ctx",
    "state": "ctx.state",
    "bound_method": "ctx.state.get",
    "function": "attack",
    "builtin": "len",
    "str": "''",
}
CASES += [
    (f"dunder_{name.strip('_')}_on_{where}", "rejected", body(f"return {expr}.{name}"))
    for name in DUNDERS
    for where, expr in RECEIVERS.items()
]

# Attribute names that exist on some allowed type, used where they are not allowed: the
# dialect accepts the name, the per-type allowlist refuses it at run time.
MISPLACED_NAMES = [
    "get",
    "keys",
    "items",
    "copy",
    "update",
    "pop",
    "append",
    "join",
    "hex",
    "quantize",
]
WRONG_RECEIVERS = {
    "ctx": "ctx",
    "state": "ctx.state",
    "sender": "ctx.sender",
    "function": "attack",
    "builtin": "len",
    "type_token": "Decimal",
    "range": "range(3)",
    "int": "(7)",
    "bound_method": "ctx.state.put",
}
CASES += [
    (f"misplaced_{name}_on_{where}", "fault:AccessDenied", body(f"return {expr}.{name}"))
    for name in MISPLACED_NAMES
    for where, expr in WRONG_RECEIVERS.items()
    if not (where == "state" and name == "get")
]

CASES += [
    (f"denied_name_{name.strip('_')}", "rejected", body(f"return {name}"))
    for name in sorted(DENIED_NAMES)
]


def test_corpus_is_large_and_unique() -> None:
    ids = [case_id for case_id, _, _ in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 200


def _invoke_attack(source: str, state: MemoryState, attributes: dict[str, str]):  # type: ignore[no-untyped-def]
    contract = compile_contract("attack", source)
    assert contract.methods == ("attack",)
    return contract.invoke(
        "attack",
        [],
        sender=Sender("org1", "client", "c0ffee", attributes),
        block=BlockInfo(height=7, time_ms=1_700_000_000_000),
        tx=TxInfo("ab" * 32),
        state=state,
        step_limit=200_000,
    )


@pytest.mark.parametrize(("source", "expect"), [pytest.param(s, e, id=i) for i, e, s in CASES])
def test_escape_is_contained(
    source: str, expect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    host_context = decimal.getcontext().copy()
    recursion_limit = sys.getrecursionlimit()
    state = MemoryState()
    attributes = {"dept": "audit"}

    if expect == "rejected":
        with pytest.raises(ContractRejected) as rejected:
            compile_contract("attack", source)
        assert rejected.value.reason
    else:
        status, _, message_prefix = expect.partition(":")
        outcome = _invoke_attack(source, state, attributes)
        assert outcome.status == status, outcome
        assert outcome.message.startswith(message_prefix), outcome
        assert outcome.value is None
        assert outcome.events == ()
        assert 0 < outcome.steps <= 200_000
        assert _invoke_attack(source, MemoryState(), dict(attributes)) == outcome

    assert list(tmp_path.iterdir()) == []
    assert state.values == {} and state.versions == {}
    assert attributes == {"dept": "audit"}
    live = decimal.getcontext()
    assert (live.prec, live.rounding, live.Emax, live.traps) == (
        host_context.prec,
        host_context.rounding,
        host_context.Emax,
        host_context.traps,
    )
    assert sys.getrecursionlimit() >= recursion_limit


def test_rejection_names_the_line() -> None:
    source = "def ok(ctx):\n    return 1\n\ndef attack(ctx):\n    return ctx.__class__\n"
    with pytest.raises(ContractRejected) as rejected:
        compile_contract("attack", source)
    assert rejected.value.line == 5
    assert rejected.value.reason.startswith("line 5:")


def test_private_helpers_cannot_be_invoked() -> None:
    source = (
        "def _credit(ctx, who):\n    ctx.state.put(who, 100)\n\n"
        "def helper(ctx_like, who):\n    return who\n\n"
        "def credit(ctx, who):\n    ctx.require(ctx.sender.role == 'admin', 'admins only')\n"
        "    _credit(ctx, who)\n"
    )
    contract = compile_contract("bank", source)
    assert contract.methods == ("credit",)
    state = MemoryState()
    for method in ("_credit", "helper"):
        outcome = contract.invoke(
            method,
            ["mallory"],
            sender=Sender("org1", "client", "c1"),
            block=BlockInfo(1, 0),
            tx=TxInfo("00"),
            state=state,
        )
        assert outcome.status == "unknown_method"
    outcome = contract.invoke(
        "credit",
        ["mallory"],
        sender=Sender("org1", "client", "c1"),
        block=BlockInfo(1, 0),
        tx=TxInfo("00"),
        state=state,
    )
    assert (outcome.status, outcome.message) == ("reverted", "admins only")
    assert state.values == {}


DEEP_HASH_SCRIPT = r"""
from yulian.contracts import BlockInfo, MemoryState, Sender, TxInfo, compile_contract
SOURCE = '''
def deep():
    t = ()
    for i in range(400000):
        t = (t,)
    return t

def getitem(ctx):
    return {'a': 2}[deep()]

def setitem(ctx):
    d = {}
    d[deep()] = 1

def delitem(ctx):
    d = {'a': 2}
    del d[deep()]

def contains(ctx):
    return deep() in {'a': 2}

def get(ctx):
    return {'a': 2}.get(deep(), 5)

def pop(ctx):
    return {'a': 2}.pop(deep(), 6)

def setdefault(ctx):
    return {}.setdefault(deep(), 1)

def display(ctx):
    return {deep(): 1}

def comprehension(ctx):
    return {k: 1 for k in [deep()]}

def constructor(ctx):
    return dict([(deep(), 1)])

def update(ctx):
    d = {}
    d.update([(deep(), 1)])
'''
contract = compile_contract("deep", SOURCE)
for method in contract.methods:
    outcome = contract.invoke(method, [], sender=Sender("o", "client", "c"), block=BlockInfo(1, 0),
                              tx=TxInfo("00"), state=MemoryState(), step_limit=2_000_000)
    print(method, outcome.status, outcome.message, outcome.value)
"""

DEEP_HASH_EXPECTED = {
    "comprehension": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
    "constructor": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
    "contains": "ok  False",
    "delitem": "fault KeyError None",
    "display": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
    "get": "ok  5",
    "getitem": "fault KeyError None",
    "pop": "ok  6",
    "setdefault": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
    "setitem": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
    "update": "fault InvalidValue: dict keys must be str, bytes, bool or None None",
}


def test_a_tuple_deep_enough_to_crash_hash_is_never_hashed() -> None:
    # Hashing a 400,000-deep tuple overflows the C stack of CPython (segfault), so this runs in
    # a child process: if any path hashed it, the child would die instead of printing.
    src = str(Path(yulian.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", DEEP_HASH_SCRIPT],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines == DEEP_HASH_EXPECTED
