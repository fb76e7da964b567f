"""Introduction: what every reference application's client side shares.

- ``Connection``: the two calls an application client makes — ``submit`` (sign, send, wait
  for the receipt) and ``query`` (read-only). ``yulian.sdk.Client`` is one (over HTTP to a
  node); ``yulian.devkit.Harness.client`` is another (in process, for tests), so an
  application's client module runs unchanged against both.
- ``submit`` and ``call`` turn a receipt that is not ``ok`` into an ``AppError`` carrying the
  contract's own message, so callers handle one exception type.
- ``configure`` sets the module-level constants of a contract source before it is proposed;
  ``govern`` sets the two every application with roles has: ``GOVERNORS`` (the organisations
  whose admins grant and revoke its roles) and ``FOUNDING_ROLES`` (roles held from the start,
  as ``"role:org"``). The constants are part of the code the consortium votes on, so who
  governs an application is agreed by the same approvals that deploy it (decision 0046).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

CONSTANT_TYPES = (str, int, bool, type(None))


class Connection(Protocol):
    """What an application client needs of a node (``yulian.sdk.Client`` has it)."""

    def submit(
        self, contract: str, method: str, args: Sequence[Any] = (), **options: Any
    ) -> dict[str, Any]: ...

    def query(self, contract: str, method: str, args: Sequence[Any] = ()) -> Any: ...


class AppError(RuntimeError):
    """A contract call that was committed but did not succeed (``status`` is not ``ok``)."""

    def __init__(self, contract: str, method: str, status: str, message: str) -> None:
        self.contract = contract
        self.method = method
        self.status = status
        self.message = message
        super().__init__(f"{contract}.{method}: {status}: {message}")


def submit(conn: Connection, contract: str, method: str, *args: Any) -> dict[str, Any]:
    """Submit ``contract.method(*args)`` and return the whole answer (its ``id`` names the tx,
    e.g. to export its receipt); ``AppError`` if the tx was not committed in time or its
    receipt is not ``ok``."""
    result = conn.submit(contract, method, list(args))
    if result.get("status") != "committed":
        raise AppError(contract, method, str(result.get("status")), "not committed in time")
    receipt = result["receipt"]
    if receipt["status"] != "ok":
        raise AppError(contract, method, receipt["status"], receipt["message"])
    return result


def call(conn: Connection, contract: str, method: str, *args: Any) -> Any:
    """Submit ``contract.method(*args)`` and return the receipt's value (see ``submit``)."""
    return submit(conn, contract, method, *args)["receipt"]["value"]


def configure(source: str, constants: Mapping[str, Any]) -> str:
    """``source`` with each named module-level constant replaced by a literal value.

    Only constants the source already assigns at module level can be set, each to a value
    of the same shape: a str, int, bool or None, or a tuple of those. Raises ``ValueError``
    for anything else, so a typo never yields a contract with a silently missing setting.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans: dict[str, tuple[int, int]] = {}
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            assert stmt.end_lineno is not None
            spans[stmt.targets[0].id] = (stmt.lineno, stmt.end_lineno)
    replaced: list[tuple[int, int, str]] = []
    for name, value in constants.items():
        if name not in spans:
            raise ValueError(f"the contract has no module-level constant {name!r}")
        replaced.append((*spans[name], f"{name} = {_literal(name, value)}\n"))
    for first, last, text in sorted(replaced, reverse=True):
        lines[first - 1 : last] = [text]
    out = "".join(lines)
    ast.parse(out)  # the result is still Python
    return out


def govern(
    source: str,
    governors: Sequence[str],
    founding_roles: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """``source`` with ``GOVERNORS`` and ``FOUNDING_ROLES`` (role -> organisations) set."""
    founding = tuple(
        f"{role}:{org}" for role, orgs in sorted((founding_roles or {}).items()) for org in orgs
    )
    return configure(source, {"GOVERNORS": tuple(governors), "FOUNDING_ROLES": founding})


def _literal(name: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        items = list(value)
        if not all(isinstance(v, CONSTANT_TYPES) for v in items):
            raise ValueError(f"{name}: a tuple may hold only str, int, bool or None")
        return "(" + "".join(repr(v) + ", " for v in items).rstrip(" ") + ")"
    if isinstance(value, CONSTANT_TYPES):
        return repr(value)
    raise ValueError(f"{name}: a constant is a str, int, bool, None or a tuple of those")
