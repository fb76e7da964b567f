"""Introduction: ``yulian finance`` — 供应链金融 / 票据 receivables, 跨境支付 payments between banks
(``finance pay``) and 公益慈善 donations traced to their spending (``finance charity``), through
the client classes of ``yulian.apps.finance``.

Every command signs as ``--org``/``--user`` of the network directory (reads need no identity)
and prints one readable line, or the chain's answer as JSON with ``--json``. Amounts are
decimal strings with at most two decimals (``1250.00``); a refusal by the contract is an
``error:`` line with its message and exit code 3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    EXIT_REFUSED,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    USER_OPT,
    call,
    connect,
    fail,
    node_url,
    print_json,
    require_network,
    say,
)

finance_app = typer.Typer(
    help="供应链金融: receivables issued, passed on, discounted and redeemed", no_args_is_help=True
)
pay_app = typer.Typer(
    help="跨境支付: payments between banks at a published rate", no_args_is_help=True
)
charity_app = typer.Typer(help="公益慈善: donations traced to their spending", no_args_is_help=True)
finance_app.add_typer(pay_app, name="pay")
finance_app.add_typer(charity_app, name="charity")
JSON_OPT = typer.Option(False, "--json", help="print the chain's answer as JSON")
DAY_MS = 86_400_000


def register(app: typer.Typer) -> None:
    app.add_typer(finance_app, name="finance")


def _client(
    kind: str, network: Path | None, url: str | None, org: str | None, user: str | None
) -> Any:
    from yulian.apps.finance import Charity, CrossBorder, Receivables

    classes = {"finance": Receivables, "crossborder": CrossBorder, "charity": Charity}
    return classes[kind](connect(network, url, org=org, user=user))


def _act(fn: Callable[[], Any], as_json: bool, line: Callable[[Any], str]) -> None:
    """Run an application call: its answer as a line (or JSON); a refusal exits with 3."""
    from yulian.apps.shared import AppError

    try:
        value = call(fn)
    except AppError as e:
        fail(f"{e.contract}.{e.method} refused: {e.message}", EXIT_REFUSED)
    except (TypeError, ValueError, ArithmeticError) as e:
        fail(str(e))
    if as_json:
        print_json(value)
    else:
        say(line(value))


def _part_line(p: dict[str, Any]) -> str:
    return f"part {p['id']}: {p['amount']} held by {p['holder']}, {p['status']}"


# --- deployment and roles -------------------------------------------------------------------


@finance_app.command("deploy")
def finance_deploy(
    contract: str = typer.Option("finance", "--contract", help="finance, crossborder or charity"),
    governor: list[str] = typer.Option(
        None, "--governor", help="organisation whose admins grant roles (repeat) [default: org1]"
    ),
    role: list[str] = typer.Option(
        None, "--role", help="ROLE=ORG held from the start (repeat): issuer, bank, ..."
    ),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Deploy a finance contract through the lifecycle (the local admins propose and approve)."""
    from yulian.apps.deploy import DeployError, deploy_with_local_admins
    from yulian.apps.finance import FINANCE_VERSION, SOURCES, contract_source

    if contract not in SOURCES:
        fail(f"no finance contract {contract!r}; choose one of {', '.join(SOURCES)}")
    founding: dict[str, list[str]] = {}
    for item in role or []:
        name, sep, org = item.partition("=")
        if not sep or not name or not org:
            fail(f"--role must be ROLE=ORG, got {item!r}")
        founding.setdefault(name, []).append(org)
    root = require_network(network)
    node = node_url(root, url)
    try:
        source = contract_source(contract, governor or ["org1"], founding)
        status = call(
            lambda: deploy_with_local_admins(
                root, [node], contract, FINANCE_VERSION, source, log=say
            )
        )
    except (DeployError, OSError, KeyError, ValueError) as e:
        fail(str(e))
    print_json(status)


@finance_app.command("grant")
def finance_grant(
    to_org: str,
    role: str,
    contract: str = typer.Option("finance", "--contract", help="finance, crossborder or charity"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Grant organisation TO_ORG a ROLE (issuer, bank, rate_provider, regulator, charity)."""
    if contract not in ("finance", "crossborder", "charity"):
        fail(f"no finance contract {contract!r}")
    app = _client(contract, network, url, org, user)
    _act(lambda: app.grant_role(to_org, role), as_json, lambda _: f"{to_org} holds {role}")


# --- receivables ----------------------------------------------------------------------------


@finance_app.command("issue")
def finance_issue(
    note: str,
    holder: str,
    amount: str,
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
    days: int = typer.Option(90, "--days", help="maturity: this many days from now"),
    basis: str = typer.Option("", "--basis", help="hex digest of the invoice or contract"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Issue receivable NOTE of AMOUNT to HOLDER (as a core enterprise, role issuer)."""
    if days < 1:
        fail("--days must be at least 1")
    maturity = int(time.time() * 1000) + days * DAY_MS
    app = _client("finance", network, url, org, user)
    _act(
        lambda: app.issue(note, holder, amount, currency, maturity, basis),
        as_json,
        lambda p: (
            f"note {note}: {p['amount']} {currency} held by {p['holder']}, due in {days} days"
        ),
    )


@finance_app.command("transfer")
def finance_transfer(
    part: str,
    to_org: str,
    amount: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Pass AMOUNT of PART, which you hold, to TO_ORG (the whole part, or a new part cut off)."""
    app = _client("finance", network, url, org, user)
    _act(lambda: app.transfer(part, to_org, amount), as_json, _part_line)


@finance_app.command("split")
def finance_split(
    part: str,
    amounts: list[str] = typer.Argument(..., help="2..16 amounts summing to the part"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Split PART into parts of AMOUNTS (they must sum to it exactly)."""
    app = _client("finance", network, url, org, user)
    _act(
        lambda: app.split(part, amounts), as_json, lambda ids: f"{part} split into {', '.join(ids)}"
    )


@finance_app.command("offer")
def finance_offer(
    part: str,
    bank: str,
    price: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Offer PART to BANK for PRICE (at most its amount): the part is locked on offer."""
    app = _client("finance", network, url, org, user)
    _act(
        lambda: app.offer(part, bank, price),
        as_json,
        lambda _: f"{part} offered to {bank} for {price}",
    )


@finance_app.command("discount")
def finance_discount(
    part: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Take PART, offered to your bank, at the offered price (贴现: the contract's finance)."""
    app = _client("finance", network, url, org, user)
    _act(lambda: app.finance(part), as_json, _part_line)


@finance_app.command("decline")
def finance_decline(
    part: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Decline PART, offered to your bank."""
    app = _client("finance", network, url, org, user)
    _act(lambda: app.decline(part), as_json, lambda _: f"the offer of {part} is declined")


@finance_app.command("withdraw")
def finance_withdraw(
    part: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Withdraw your offer of PART."""
    app = _client("finance", network, url, org, user)
    _act(lambda: app.withdraw_offer(part), as_json, lambda _: f"the offer of {part} is withdrawn")


@finance_app.command("redeem")
def finance_redeem(
    part: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Pay PART of a matured note you issued to its holder."""
    app = _client("finance", network, url, org, user)
    _act(lambda: app.redeem(part), as_json, _part_line)


@finance_app.command("note")
def finance_note(
    note: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """A note, every part of it, and what each organisation holds of it."""
    app = _client("finance", network, url, None, None)
    record = call(lambda: app.note(note))
    parts = call(lambda: app.parts(note))
    if as_json:
        print_json({"note": record, "parts": parts})
        return
    say(
        f" {record['face']} {record['currency']} issued by {record['issuer']}, maturity "
        f"{record['maturity']} ms, {record['status']}",
        lead=note,
    )
    for p in parts:
        say(f"  {_part_line(p)}")


# --- cross-border payments --------------------------------------------------------------------


@pay_app.command("rate")
def pay_rate(
    base: str,
    quote: str,
    rate: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Publish RATE units of QUOTE per BASE (as a rate provider)."""
    app = _client("crossborder", network, url, org, user)
    _act(
        lambda: app.publish_rate(base, quote, rate),
        as_json,
        lambda r: f"{base}/{quote} = {r['rate']} at height {r['height']}",
    )


@pay_app.command("send")
def pay_send(
    payment: str,
    to_bank: str,
    amount: str,
    currency: str,
    target_currency: str,
    beneficiary: str = typer.Option(
        ..., "--beneficiary", help="hex digest (64) of the beneficiary's account details"
    ),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Send PAYMENT of AMOUNT CURRENCY to TO_BANK, paid out in TARGET_CURRENCY at the rate."""
    app = _client("crossborder", network, url, org, user)
    _act(
        lambda: app.send(payment, to_bank, amount, currency, target_currency, beneficiary),
        as_json,
        lambda p: (
            f"payment {payment}: {p['amount']} {p['currency']} -> {p['target_amount']} "
            f"{p['target_currency']} at {p['rate']}, {p['status']}"
        ),
    )


@pay_app.command("settle")
def pay_settle(
    payment: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Settle PAYMENT sent to your bank."""
    app = _client("crossborder", network, url, org, user)
    _act(lambda: app.settle(payment), as_json, lambda p: f"payment {payment}: {p['status']}")


@pay_app.command("reject")
def pay_reject(
    payment: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Reject PAYMENT sent to your bank, giving REASON."""
    app = _client("crossborder", network, url, org, user)
    _act(
        lambda: app.reject(payment, reason), as_json, lambda p: f"payment {payment}: {p['status']}"
    )


@pay_app.command("flag")
def pay_flag(
    payment: str,
    note: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Add a regulator's NOTE to PAYMENT (it moves no money)."""
    app = _client("crossborder", network, url, org, user)
    _act(
        lambda: app.flag(payment, note),
        as_json,
        lambda p: f"payment {payment}: {len(p['flags'])} flag(s)",
    )


@pay_app.command("show")
def pay_show(
    payment: str,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """A payment as the chain keeps it (JSON)."""
    app = _client("crossborder", network, url, None, None)
    print_json(call(lambda: app.payment(payment)))


# --- charity ------------------------------------------------------------------------------------


@charity_app.command("open")
def charity_open(
    project: str,
    title: str,
    target: str,
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Open PROJECT (as a charity) with a TITLE and a TARGET amount."""
    app = _client("charity", network, url, org, user)
    _act(
        lambda: app.open_project(project, title, currency, target),
        as_json,
        lambda p: f"project {project} open: {p['title']}, target {p['target']} {currency}",
    )


@charity_app.command("donate")
def charity_donate(
    project: str,
    amount: str,
    donor: str = typer.Option("", "--donor", help="a name to show ('' stays anonymous)"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Donate AMOUNT to PROJECT."""
    app = _client("charity", network, url, org, user)
    _act(
        lambda: app.donate(project, amount, donor),
        as_json,
        lambda d: f"donation #{d['n']} to {project}: {d['amount']}",
    )


@charity_app.command("spend")
def charity_spend(
    project: str,
    amount: str,
    purpose: str,
    payee: str,
    evidence: str = typer.Option(..., "--evidence", help="hex digest (64) of the receipt"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Record a spending of PROJECT's donations (first in, first out)."""
    app = _client("charity", network, url, org, user)
    _act(
        lambda: app.spend(project, amount, purpose, payee, evidence),
        as_json,
        lambda s: (
            f"spending #{s['m']}: {s['amount']} for {purpose}, paid by donations "
            + ", ".join(f"#{n} ({a})" for n, a in s["funded_by"])
        ),
    )


@charity_app.command("follow")
def charity_follow(
    project: str,
    donation: int,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Where donation number DONATION of PROJECT went: every spending it helped pay for."""
    app = _client("charity", network, url, None, None)
    followed = call(lambda: app.follow_donation(project, donation))
    if as_json:
        print_json(followed)
        return
    d = followed["donation"]
    say(
        f" {d['amount']} from {d['donor_org']}, {d['remaining']} left", lead=f"donation #{donation}"
    )
    for use in followed["spent_on"]:
        s = use["spending"]
        say(f"  {use['amount']} of spending #{s['m']}: {s['purpose']} (paid to {s['payee']})")
