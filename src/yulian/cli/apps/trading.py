"""Introduction: ``yulian trading`` — 大宗商品交易监管: commodity lots listed against warehouse
receipts, orders matched and settled, the regulator's powers, and the regulator's review of
the contract's events read back from a node (``watch``), through ``yulian.apps.trading``.

Every command signs as ``--org``/``--user`` of the network directory (reads need no identity)
and prints one readable line, or the chain's answer as JSON with ``--json``; a refusal by the
contract is an ``error:`` line with its message and exit code 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

import typer

from yulian.cli.apps.common import (
    Deployed,
    Deployment,
    Session,
    app_client,
    deploy_command,
    pairs,
    reading,
    signed,
)
from yulian.cli.common import ADMIN_OPT, call, fail, print_json, say

trading_app = typer.Typer(
    help="大宗商品交易监管: commodity trading under a regulator's watch", no_args_is_help=True
)
_trading = app_client("yulian.apps.trading", "Trading")


def register(app: typer.Typer) -> None:
    app.add_typer(trading_app, name="trading")


def _deployment() -> Deployment:
    from yulian.apps.trading import CONTRACT_NAME, TRADING_VERSION, contract_source

    return Deployment("trading", TRADING_VERSION, {CONTRACT_NAME: contract_source})


def _order_line(o: dict[str, Any]) -> str:
    return (
        f"order {o['id']}: {o['quantity']} of lot {o['lot']} at {o['price']}, "
        f"{o['buyer']} buys from {o['seller']}, {o['status']}"
    )


@deploy_command(trading_app, _deployment, roles="trader, regulator")
def trading_deploy(deploy: Callable[[], Deployed]) -> None:
    """Deploy the trading contract through the lifecycle (the local admins vote)."""
    print_json(deploy().status)


@signed(trading_app, "grant", _trading, user=ADMIN_OPT)
def trading_grant(session: Session, to_org: str, role: str) -> None:
    """Grant organisation TO_ORG a ROLE (trader or regulator)."""
    session.act(lambda app: app.grant_role(to_org, role), lambda _: f"{to_org} holds {role}")


@signed(trading_app, "list", _trading)
def trading_list(
    session: Session,
    lot: str,
    commodity: str,
    quantity: str,
    unit: str,
    price: str,
    receipt: str = typer.Option(
        ..., "--receipt", help="hex digest (64) of the warehouse receipt (仓单)"
    ),
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
) -> None:
    """List LOT: QUANTITY UNIT of COMMODITY at PRICE per unit (as a trader)."""
    session.act(
        lambda app: app.list_lot(lot, commodity, quantity, unit, price, currency, receipt),
        lambda x: (
            f"lot {lot}: {x['quantity']} {x['unit']} of {x['commodity']} at {x['price']} "
            f"{x['currency']}, {x['status']}"
        ),
    )


@signed(trading_app, "buy", _trading)
def trading_buy(session: Session, order: str, lot: str, quantity: str) -> None:
    """Buy QUANTITY of LOT at its listed price: ORDER is matched at once."""
    session.act(lambda app: app.buy(order, lot, quantity), _order_line)


@signed(trading_app, "confirm-payment", _trading)
def trading_confirm_payment(session: Session, order: str) -> None:
    """As the seller: payment for ORDER was received."""
    session.act(lambda app: app.confirm_payment(order), _order_line)


@signed(trading_app, "confirm-delivery", _trading)
def trading_confirm_delivery(session: Session, order: str) -> None:
    """As the buyer: the goods of ORDER were delivered."""
    session.act(lambda app: app.confirm_delivery(order), _order_line)


@signed(trading_app, "withdraw", _trading)
def trading_withdraw(session: Session, lot: str) -> None:
    """As the seller: LOT takes no more orders."""
    session.act(lambda app: app.withdraw_lot(lot), lambda _: f"lot {lot} withdrawn")


@signed(trading_app, "freeze", _trading)
def trading_freeze(session: Session, lot: str, reason: str) -> None:
    """As the regulator: LOT takes no orders until unfrozen."""
    session.act(lambda app: app.freeze_lot(lot, reason), lambda _: f"lot {lot} frozen: {reason}")


@signed(trading_app, "unfreeze", _trading)
def trading_unfreeze(session: Session, lot: str) -> None:
    """As the regulator: LOT takes orders again."""
    session.act(lambda app: app.unfreeze_lot(lot), lambda _: f"lot {lot} unfrozen")


@signed(trading_app, "limit", _trading)
def trading_limit(
    session: Session,
    commodity: str,
    max_quantity: str | None = typer.Argument(None, help="the largest order; none: remove"),
) -> None:
    """As the regulator: limit the quantity one order of COMMODITY may take (or remove it)."""
    if max_quantity is None:
        session.act(lambda app: app.remove_limit(commodity), lambda _: f"{commodity}: no limit")
    else:
        session.act(
            lambda app: app.set_limit(commodity, max_quantity),
            lambda _: f"{commodity}: at most {max_quantity} per order",
        )


@signed(trading_app, "cancel", _trading)
def trading_cancel(session: Session, order: str, reason: str) -> None:
    """As the regulator: cancel a matched ORDER (its quantity returns to the lot)."""
    session.act(lambda app: app.cancel_order(order, reason), _order_line)


@reading(trading_app, "show", _trading, answers_json=False)
def trading_show(
    session: Session,
    lot_or_order: str,
    order: bool = typer.Option(False, "--order", help="LOT_OR_ORDER names an order"),
) -> None:
    """A lot (or, with --order, an order) as the chain keeps it (JSON)."""
    app = session.client()
    print_json(call(lambda: app.order(lot_or_order) if order else app.lot(lot_or_order)))


@reading(trading_app, "watch")
def trading_watch(
    session: Session,
    from_height: int = typer.Option(1, "--from-height", help="the first block to read"),
    large: list[str] = typer.Option(
        None, "--large", help="COMMODITY=QUANTITY: an order this large is an alert (repeat)"
    ),
    max_price_move: str = typer.Option("0.10", "--max-price-move", help="a fraction"),
) -> None:
    """The regulator's review: read the trading contract's committed events from the node and
    report the alerts (large orders, price moves, round trips, concentration)."""
    from yulian.apps.trading import CONTRACT_NAME
    from yulian.apps.trading.supervision import Rules, follow, review

    try:
        limits = {c: Decimal(q) for c, q in pairs(large, "--large", "COMMODITY=QUANTITY").items()}
        rules = Rules(large_quantity=limits, max_price_move=Decimal(max_price_move))
    except InvalidOperation:
        fail("--large and --max-price-move take decimal numbers")
    client = session.client()
    events = call(lambda: list(follow(client, CONTRACT_NAME, from_height)))
    alerts = review(events, rules)
    if session.as_json:
        print_json({"events": len(events), "alerts": [asdict(a) for a in alerts]})
        return
    say(f"{len(events)} events of {CONTRACT_NAME} from height {from_height}; {len(alerts)} alerts")
    for a in alerts:
        say(
            f"  {a.kind:<14} height {a.height:<6} {a.commodity:<10} {', '.join(a.orgs)}: {a.detail}"
        )
