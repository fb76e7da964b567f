"""Introduction: ``yulian finance`` — 供应链金融 / 票据 receivables, 跨境支付 payments between banks
(``finance pay``) and 公益慈善 donations traced to their spending (``finance charity``), through
the client classes of ``yulian.apps.finance``.

Every command signs as ``--org``/``--user`` of the network directory (reads need no identity)
and prints one readable line, or the chain's answer as JSON with ``--json``. Amounts are
decimal strings with at most two decimals (``1250.00``); a refusal by the contract is an
``error:`` line with its message and exit code 3.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import typer

from yulian.cli.apps.common import (
    Deployed,
    Deployment,
    Session,
    app_client,
    deploy_command,
    reading,
    signed,
)
from yulian.cli.common import ADMIN_OPT, call, fail, print_json, say

finance_app = typer.Typer(
    help="供应链金融: receivables issued, passed on, discounted and redeemed", no_args_is_help=True
)
pay_app = typer.Typer(
    help="跨境支付: payments between banks at a published rate", no_args_is_help=True
)
charity_app = typer.Typer(help="公益慈善: donations traced to their spending", no_args_is_help=True)
finance_app.add_typer(pay_app, name="pay")
finance_app.add_typer(charity_app, name="charity")
DAY_MS = 86_400_000
CLIENTS = {
    "finance": app_client("yulian.apps.finance", "Receivables"),
    "crossborder": app_client("yulian.apps.finance", "CrossBorder"),
    "charity": app_client("yulian.apps.finance", "Charity"),
}


def register(app: typer.Typer) -> None:
    app.add_typer(finance_app, name="finance")


def _deployment() -> Deployment:
    from yulian.apps.finance import FINANCE_VERSION, SOURCES, contract_source

    sources = {name: functools.partial(contract_source, name) for name in SOURCES}
    return Deployment("finance", FINANCE_VERSION, sources)


def _part_line(p: dict[str, Any]) -> str:
    return f"part {p['id']}: {p['amount']} held by {p['holder']}, {p['status']}"


# --- deployment and roles -------------------------------------------------------------------


@deploy_command(finance_app, _deployment, roles="issuer, bank, ...", contracts=tuple(CLIENTS))
def finance_deploy(deploy: Callable[[], Deployed]) -> None:
    """Deploy a finance contract through the lifecycle (the local admins propose and approve)."""
    print_json(deploy().status)


@signed(finance_app, "grant", user=ADMIN_OPT)
def finance_grant(
    session: Session,
    to_org: str,
    role: str,
    contract: str = typer.Option("finance", "--contract", help="finance, crossborder or charity"),
) -> None:
    """Grant organisation TO_ORG a ROLE (issuer, bank, rate_provider, regulator, charity)."""
    if contract not in ("finance", "crossborder", "charity"):
        fail(f"no finance contract {contract!r}")
    session.act(
        lambda app: app.grant_role(to_org, role),
        lambda _: f"{to_org} holds {role}",
        CLIENTS[contract],
    )


# --- receivables ----------------------------------------------------------------------------


@signed(finance_app, "issue", CLIENTS["finance"])
def finance_issue(
    session: Session,
    note: str,
    holder: str,
    amount: str,
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
    days: int = typer.Option(90, "--days", help="maturity: this many days from now"),
    basis: str = typer.Option("", "--basis", help="hex digest of the invoice or contract"),
) -> None:
    """Issue receivable NOTE of AMOUNT to HOLDER (as a core enterprise, role issuer)."""
    if days < 1:
        fail("--days must be at least 1")
    maturity = int(time.time() * 1000) + days * DAY_MS
    session.act(
        lambda app: app.issue(note, holder, amount, currency, maturity, basis),
        lambda p: (
            f"note {note}: {p['amount']} {currency} held by {p['holder']}, due in {days} days"
        ),
    )


@signed(finance_app, "transfer", CLIENTS["finance"])
def finance_transfer(session: Session, part: str, to_org: str, amount: str) -> None:
    """Pass AMOUNT of PART, which you hold, to TO_ORG (the whole part, or a new part cut off)."""
    session.act(lambda app: app.transfer(part, to_org, amount), _part_line)


@signed(finance_app, "split", CLIENTS["finance"])
def finance_split(
    session: Session,
    part: str,
    amounts: list[str] = typer.Argument(..., help="2..16 amounts summing to the part"),
) -> None:
    """Split PART into parts of AMOUNTS (they must sum to it exactly)."""
    session.act(
        lambda app: app.split(part, amounts), lambda ids: f"{part} split into {', '.join(ids)}"
    )


@signed(finance_app, "offer", CLIENTS["finance"])
def finance_offer(session: Session, part: str, bank: str, price: str) -> None:
    """Offer PART to BANK for PRICE (at most its amount): the part is locked on offer."""
    session.act(
        lambda app: app.offer(part, bank, price), lambda _: f"{part} offered to {bank} for {price}"
    )


@signed(finance_app, "discount", CLIENTS["finance"])
def finance_discount(session: Session, part: str) -> None:
    """Take PART, offered to your bank, at the offered price (贴现: the contract's finance)."""
    session.act(lambda app: app.finance(part), _part_line)


@signed(finance_app, "decline", CLIENTS["finance"])
def finance_decline(session: Session, part: str) -> None:
    """Decline PART, offered to your bank."""
    session.act(lambda app: app.decline(part), lambda _: f"the offer of {part} is declined")


@signed(finance_app, "withdraw", CLIENTS["finance"])
def finance_withdraw(session: Session, part: str) -> None:
    """Withdraw your offer of PART."""
    session.act(lambda app: app.withdraw_offer(part), lambda _: f"the offer of {part} is withdrawn")


@signed(finance_app, "redeem", CLIENTS["finance"])
def finance_redeem(session: Session, part: str) -> None:
    """Pay PART of a matured note you issued to its holder."""
    session.act(lambda app: app.redeem(part), _part_line)


@reading(finance_app, "note", CLIENTS["finance"])
def finance_note(session: Session, note: str) -> None:
    """A note, every part of it, and what each organisation holds of it."""
    app = session.client()
    record = call(lambda: app.note(note))
    parts = call(lambda: app.parts(note))
    if session.as_json:
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


@signed(pay_app, "rate", CLIENTS["crossborder"])
def pay_rate(session: Session, base: str, quote: str, rate: str) -> None:
    """Publish RATE units of QUOTE per BASE (as a rate provider)."""
    session.act(
        lambda app: app.publish_rate(base, quote, rate),
        lambda r: f"{base}/{quote} = {r['rate']} at height {r['height']}",
    )


@signed(pay_app, "send", CLIENTS["crossborder"])
def pay_send(
    session: Session,
    payment: str,
    to_bank: str,
    amount: str,
    currency: str,
    target_currency: str,
    beneficiary: str = typer.Option(
        ..., "--beneficiary", help="hex digest (64) of the beneficiary's account details"
    ),
) -> None:
    """Send PAYMENT of AMOUNT CURRENCY to TO_BANK, paid out in TARGET_CURRENCY at the rate."""
    session.act(
        lambda app: app.send(payment, to_bank, amount, currency, target_currency, beneficiary),
        lambda p: (
            f"payment {payment}: {p['amount']} {p['currency']} -> {p['target_amount']} "
            f"{p['target_currency']} at {p['rate']}, {p['status']}"
        ),
    )


@signed(pay_app, "settle", CLIENTS["crossborder"])
def pay_settle(session: Session, payment: str) -> None:
    """Settle PAYMENT sent to your bank."""
    session.act(lambda app: app.settle(payment), lambda p: f"payment {payment}: {p['status']}")


@signed(pay_app, "reject", CLIENTS["crossborder"])
def pay_reject(session: Session, payment: str, reason: str) -> None:
    """Reject PAYMENT sent to your bank, giving REASON."""
    session.act(
        lambda app: app.reject(payment, reason), lambda p: f"payment {payment}: {p['status']}"
    )


@signed(pay_app, "flag", CLIENTS["crossborder"])
def pay_flag(session: Session, payment: str, note: str) -> None:
    """Add a regulator's NOTE to PAYMENT (it moves no money)."""
    session.act(
        lambda app: app.flag(payment, note),
        lambda p: f"payment {payment}: {len(p['flags'])} flag(s)",
    )


@reading(pay_app, "show", CLIENTS["crossborder"], answers_json=False)
def pay_show(session: Session, payment: str) -> None:
    """A payment as the chain keeps it (JSON)."""
    app = session.client()
    print_json(call(lambda: app.payment(payment)))


# --- charity ------------------------------------------------------------------------------------


@signed(charity_app, "open", CLIENTS["charity"])
def charity_open(
    session: Session,
    project: str,
    title: str,
    target: str,
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
) -> None:
    """Open PROJECT (as a charity) with a TITLE and a TARGET amount."""
    session.act(
        lambda app: app.open_project(project, title, currency, target),
        lambda p: f"project {project} open: {p['title']}, target {p['target']} {currency}",
    )


@signed(charity_app, "donate", CLIENTS["charity"])
def charity_donate(
    session: Session,
    project: str,
    amount: str,
    donor: str = typer.Option("", "--donor", help="a name to show ('' stays anonymous)"),
) -> None:
    """Donate AMOUNT to PROJECT."""
    session.act(
        lambda app: app.donate(project, amount, donor),
        lambda d: f"donation #{d['n']} to {project}: {d['amount']}",
    )


@signed(charity_app, "spend", CLIENTS["charity"])
def charity_spend(
    session: Session,
    project: str,
    amount: str,
    purpose: str,
    payee: str,
    evidence: str = typer.Option(..., "--evidence", help="hex digest (64) of the receipt"),
) -> None:
    """Record a spending of PROJECT's donations (first in, first out)."""
    session.act(
        lambda app: app.spend(project, amount, purpose, payee, evidence),
        lambda s: (
            f"spending #{s['m']}: {s['amount']} for {purpose}, paid by donations "
            + ", ".join(f"#{n} ({a})" for n, a in s["funded_by"])
        ),
    )


@reading(charity_app, "follow", CLIENTS["charity"])
def charity_follow(session: Session, project: str, donation: int) -> None:
    """Where donation number DONATION of PROJECT went: every spending it helped pay for."""
    app = session.client()
    followed = call(lambda: app.follow_donation(project, donation))
    if session.as_json:
        print_json(followed)
        return
    d = followed["donation"]
    say(
        f" {d['amount']} from {d['donor_org']}, {d['remaining']} left", lead=f"donation #{donation}"
    )
    for use in followed["spent_on"]:
        s = use["spending"]
        say(f"  {use['amount']} of spending #{s['m']}: {s['purpose']} (paid to {s['payee']})")
