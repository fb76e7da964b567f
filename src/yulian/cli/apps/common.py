"""Introduction: what the application command groups share — the options every command takes,
the ``deploy`` command, and how a contract's refusal ends a command.

A group declares each command with ``signed`` (it signs as ``--org``/``--user``) or ``reading``
(it needs no identity); the decorator appends the shared option block (``--json``,
``--network``, ``--url``, and ``--org``/``--user`` when it signs) after the command's own
parameters and hands the function a ``Session`` in their place, so a command states only what
is its own: its arguments, its help, its call and its line.

Exit codes (``yulian.cli.common``): a contract's refusal (``AppError``) is an ``error:`` line
naming ``contract.method`` and exit code 3; a value the client rejects before sending
(``TypeError``, ``ValueError``, ``ArithmeticError``: a malformed amount, a bad digest) is exit
code 1; an offline verification that fails (``verified``) is exit code 4.

An application's client class is named with ``app_client`` and imported only when a command
runs, so ``yulian`` starts without loading every application.

``deploy_command`` builds a group's ``deploy``: ``--contract`` where the group has several,
``--governor`` and ``--role ROLE=ORG`` where the contract has roles. Every ``--role`` is
checked before anything is sent — its form, that the contract defines the role, that it is
not given twice, and (asking the node) that the organisation is a member — so a typo never
becomes a founding role, which only an upgrade of the contract could take back.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import typer

from yulian.cli import common as cli

T = TypeVar("T")
SourceOf = Callable[[Sequence[str], Mapping[str, Sequence[str]]], str]

JSON_OPT = typer.Option(False, "--json", help="print the chain's answer as JSON")
DEFAULT_GOVERNORS = ("org1",)
GOVERNOR_HELP = "organisation whose admins grant roles (repeat) [default: org1]"


def key_values(items: Sequence[str] | None, what: str, form: str = "KEY=VALUE") -> list[str]:
    """``["k=v", ...]`` as ``[k, v, k, v, ...]`` in order (repeats kept); an item without
    ``=`` or a key fails naming ``what`` and the ``form`` expected."""
    out: list[str] = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            cli.fail(f"{what} must be {form}, got {item!r}")
        out += [key, value]
    return out


def pairs(items: Sequence[str] | None, what: str, form: str = "KEY=VALUE") -> dict[str, str]:
    """``["k=v", ...]`` as a dict (a repeated key: the last wins); see ``key_values``."""
    flat = key_values(items, what, form)
    return dict(zip(flat[::2], flat[1::2], strict=True))


def refusing(fn: Callable[[], T]) -> T:
    """``fn()`` of an application client; a refusal by the contract exits 3 with its message,
    a value the client rejects before sending exits 1, the SDK's errors as ``cli.call``."""
    from yulian.apps.shared import AppError

    try:
        return cli.call(fn)
    except AppError as e:
        cli.fail(f"{e.contract}.{e.method} refused: {e.message}", cli.EXIT_REFUSED)
    except (TypeError, ValueError, ArithmeticError) as e:
        cli.fail(str(e))


def act(fn: Callable[[], T], as_json: bool, line: Callable[[T], str]) -> None:
    """Run an application cli.call (``refusing``): its answer as a line, or as JSON."""
    value = refusing(fn)
    if as_json:
        cli.print_json(value)
    else:
        cli.say(line(value))


def chain_genesis(genesis: Path | None, network: Path | None) -> Any:
    """The genesis an offline check trusts: ``--genesis FILE``, or that of ``--network``."""
    return cli.load_genesis_file(cli.genesis_path(genesis, network))


def chain_suite(network: Path | None) -> Any:
    """The crypto suite of the network directory's chain: how its digests are made."""
    from yulian.crypto.suite import get_suite

    return get_suite(cli.load_genesis(network).suite)


def verified(check: Callable[[], T]) -> T:
    """``check()``, an offline verification; one that fails exits 4 saying why."""
    from yulian.sdk.verify import VerificationError

    try:
        return check()
    except VerificationError as e:
        cli.fail(f"verification failed: {e}", cli.EXIT_UNVERIFIED)


def connection(conn: Any) -> Any:
    """The client a command talks through when it needs no application class."""
    return conn


def app_client(module: str, name: str) -> Callable[[Any], Any]:
    """How to make application client class ``module.name`` of a connection; the module is
    imported only when a command runs, so ``yulian`` starts without every application."""

    def make(conn: Any) -> Any:
        return getattr(importlib.import_module(module), name)(conn)

    return make


@dataclass(frozen=True)
class Session:
    """The shared options of one command: where it talks, who signs (``org`` None: nobody),
    how it answers, and the application client it makes of the connection."""

    network: Path | None
    url: str | None
    org: str | None = None
    user: str | None = None
    as_json: bool = False
    make: Callable[[Any], Any] = field(default=connection)

    def client(self, make: Callable[[Any], Any] | None = None) -> Any:
        """``make`` (default: the command's) over a connection to the node, signing as
        ``org``/``user`` when the command signs."""
        return (make or self.make)(
            cli.connect(self.network, self.url, org=self.org, user=self.user)
        )

    def act(
        self,
        fn: Callable[[Any], T],
        line: Callable[[T], str],
        make: Callable[[Any], Any] | None = None,
    ) -> None:
        """``fn(client)`` as ``act``: its answer as a line, or as JSON with ``--json``."""
        app = self.client(make)
        act(lambda: fn(app), self.as_json, line)


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(name, kind, default=default, annotation=annotation)


def _with_options(
    fn: Callable[..., Any],
    before: Sequence[inspect.Parameter],
    after: Sequence[inspect.Parameter],
    first: Callable[[dict[str, Any]], Any],
) -> Callable[..., None]:
    """``fn`` as a typer command: its first parameter replaced by the options ``before`` its
    own parameters and ``after`` them, whose values ``first`` turns into that first argument."""
    own = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)  # typer passes every value by name
        for p in list(inspect.signature(fn, eval_str=True).parameters.values())[1:]
    ]
    shared = [*before, *after]

    @functools.wraps(fn)
    def command(**kwargs: Any) -> None:
        fn(first({p.name: kwargs.pop(p.name) for p in shared}), **kwargs)

    params = [*before, *own, *after]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def _session_command(
    group: typer.Typer, name: str, make: Callable[[Any], Any], signs: Any, answers_json: bool
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    options = [_option("as_json", JSON_OPT, bool)] if answers_json else []
    options += [
        _option("network", cli.NETWORK_OPT, Path | None),
        _option("url", cli.URL_OPT, str | None),
    ]
    if signs is not None:
        options += [_option("org", cli.ORG_OPT, str), _option("user", signs, str)]

    def session(values: dict[str, Any]) -> Session:
        return Session(**values, make=make)

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        command = _with_options(fn, [], options, session)
        group.command(name)(command)
        return command

    return register


def signed(
    group: typer.Typer,
    name: str,
    make: Callable[[Any], Any] = connection,
    *,
    user: Any = cli.USER_OPT,
    answers_json: bool = True,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register command ``name`` that signs as ``--org``/``--user`` (``user``: the option's
    default and help, e.g. ``ADMIN_OPT``); its first parameter receives the ``Session``."""
    return _session_command(group, name, make, user, answers_json)


def reading(
    group: typer.Typer,
    name: str,
    make: Callable[[Any], Any] = connection,
    *,
    answers_json: bool = True,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register command ``name`` that only reads (no identity); see ``signed``."""
    return _session_command(group, name, make, None, answers_json)


# --- deploy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """One group's contracts as ``deploy`` needs them: what kind they are (for messages), the
    version, and each contract's source given its governors and founding roles."""

    kind: str
    version: str
    sources: Mapping[str, SourceOf]


@dataclass(frozen=True)
class Deployed:
    """A deployment done: its status, and where and by whom the group's next steps go."""

    status: dict[str, Any]
    root: Path
    node: str
    governors: Sequence[str]

    def admin(self, make: Callable[[Any], Any]) -> Session:
        """The session of the first governor's admin at the node the deployment went through
        (it may grant roles and, in trace, define templates)."""
        return Session(self.root, self.node, self.governors[0], "admin", make=make)


def contract_roles(source: str) -> tuple[str, ...] | None:
    """The roles a contract source defines (its ``ROLES`` constant); ``None`` when it takes
    any role name (``FOUNDING_ROLES`` but no ``ROLES``: trace's roles are its templates');
    ``()`` when it takes no founding roles at all."""
    constants: dict[str, Any] = {}
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            constants[stmt.targets[0].id] = stmt.value
    if "FOUNDING_ROLES" not in constants:
        return ()
    if "ROLES" not in constants:
        return None
    return tuple(ast.literal_eval(constants["ROLES"]))


def founding_roles(
    items: Sequence[str] | None, contract: str, known: tuple[str, ...] | None
) -> dict[str, list[str]]:
    """``--role ROLE=ORG`` items as role -> organisations, in order; fails on a malformed
    item, a role the contract does not define (``known``; ``None``: any) or one given twice."""
    flat = key_values(items, "--role", "ROLE=ORG")
    founding: dict[str, list[str]] = {}
    for role, org in zip(flat[::2], flat[1::2], strict=True):
        if not org:
            cli.fail(f"--role must be ROLE=ORG, got {role + '='!r}")
        if known is not None and role not in known:
            defined = f"its roles are {', '.join(known)}" if known else "it has no roles"
            cli.fail(f"--role {role}={org}: {contract} has no role {role!r}; {defined}")
        if org in founding.get(role, []):
            cli.fail(f"--role {role}={org} is given twice")
        founding.setdefault(role, []).append(org)
    return founding


def check_members(
    node: str, founding: Mapping[str, Sequence[str]], governors: Sequence[str]
) -> None:
    """Fail unless every organisation named (a founding role's, a ``--governor``) is a member
    of the consortium the node serves."""
    from yulian.sdk import Client
    from yulian.sdk.governance import GovernanceError, consortium_config

    named = [(f"--role {r}={o}", o) for r, orgs in founding.items() for o in orgs]
    named += [(f"--governor {o}", o) for o in governors]
    if not named:
        return
    try:
        with Client(node) as reader:
            members = cli.call(lambda: consortium_config(reader))["organisations"]
    except GovernanceError as e:
        cli.fail(f"cannot read the consortium's members: {e}")
    for option, org in named:
        if org not in members:
            cli.fail(f"{option}: no member organisation {org!r}; the members: {', '.join(members)}")


def deploy_command(
    group: typer.Typer,
    load: Callable[[], Deployment],
    *,
    roles: str | None = "",
    contracts: Sequence[str] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the group's ``deploy``. The decorated function's own options come after
    ``--contract`` (when the group has several ``contracts``; the first is the default),
    ``--governor`` and ``--role`` (unless ``roles`` is None; else the roles its help names),
    and before ``--network``/``--url``; its first parameter receives ``deploy()``, which
    deploys through the lifecycle (the local admins propose and approve): ``Deployed``."""
    before = []
    if contracts:
        choices = f"{', '.join(contracts[:-1])} or {contracts[-1]}"
        contract = typer.Option(contracts[0], "--contract", help=choices)
        before.append(_option("contract", contract, str))
    if roles is not None:
        role_help = "ROLE=ORG held from the start (repeat)" + (f": {roles}" if roles else "")
        before += [
            _option("governor", typer.Option(None, "--governor", help=GOVERNOR_HELP), list[str]),
            _option("role", typer.Option(None, "--role", help=role_help), list[str]),
        ]
    after = [
        _option("network", cli.NETWORK_OPT, Path | None),
        _option("url", cli.URL_OPT, str | None),
    ]

    def deployer(values: dict[str, Any]) -> Callable[[], Deployed]:
        deployment = load()
        chosen = values.get("contract") or next(iter(deployment.sources))
        return _deployer(deployment, chosen, values)

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        command = _with_options(fn, before, after, deployer)
        group.command("deploy")(command)
        return command

    return register


def _deployer(
    deployment: Deployment, contract: str, values: Mapping[str, Any]
) -> Callable[[], Deployed]:
    """Check the contract and the roles now (offline); deploy when called."""
    from yulian.apps.deploy import DeployError, deploy_with_local_admins

    if contract not in deployment.sources:
        choices = ", ".join(deployment.sources)
        cli.fail(f"no {deployment.kind} contract {contract!r}; choose one of {choices}")
    governors = values.get("governor") or list(DEFAULT_GOVERNORS)
    try:
        known = contract_roles(deployment.sources[contract](governors, {}))
        founding = founding_roles(values.get("role"), contract, known)
        source = deployment.sources[contract](governors, founding)
    except (OSError, KeyError, ValueError) as e:
        cli.fail(str(e))

    def deploy() -> Deployed:
        root = cli.require_network(values["network"])
        node = cli.node_url(root, values["url"])
        check_members(node, founding, values.get("governor") or [])
        try:
            status = cli.call(
                lambda: deploy_with_local_admins(
                    root, [node], contract, deployment.version, source, log=cli.say
                )
            )
        except (DeployError, OSError, KeyError, ValueError) as e:
            cli.fail(str(e))
        return Deployed(status, root, node, governors)

    return deploy
