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

trading_app = typer.Typer(
    help="大宗商品交易监管: commodity trading under a regulator's watch", no_args_is_help=True
)
JSON_OPT = typer.Option(False, "--json", help="print the chain's answer as JSON")


def register(app: typer.Typer) -> None:
    app.add_typer(trading_app, name="trading")


def _app(network: Path | None, url: str | None, org: str | None, user: str | None) -> Any:
    from yulian.apps.trading import Trading

    return Trading(connect(network, url, org=org, user=user))


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


def _order_line(o: dict[str, Any]) -> str:
    return (
        f"order {o['id']}: {o['quantity']} of lot {o['lot']} at {o['price']}, "
        f"{o['buyer']} buys from {o['seller']}, {o['status']}"
    )


@trading_app.command("deploy")
def trading_deploy(
    governor: list[str] = typer.Option(
        None, "--governor", help="organisation whose admins grant roles (repeat) [default: org1]"
    ),
    role: list[str] = typer.Option(
        None, "--role", help="ROLE=ORG held from the start (repeat): trader, regulator"
    ),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Deploy the trading contract through the lifecycle (the local admins vote)."""
    from yulian.apps.deploy import DeployError, deploy_with_local_admins
    from yulian.apps.trading import CONTRACT_NAME, TRADING_VERSION, contract_source

    founding: dict[str, list[str]] = {}
    for item in role or []:
        name, sep, org = item.partition("=")
        if not sep or not name or not org:
            fail(f"--role must be ROLE=ORG, got {item!r}")
        founding.setdefault(name, []).append(org)
    root = require_network(network)
    node = node_url(root, url)
    try:
        source = contract_source(governor or ["org1"], founding)
        status = call(
            lambda: deploy_with_local_admins(
                root, [node], CONTRACT_NAME, TRADING_VERSION, source, log=say
            )
        )
    except (DeployError, OSError, KeyError, ValueError) as e:
        fail(str(e))
    print_json(status)


@trading_app.command("grant")
def trading_grant(
    to_org: str,
    role: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Grant organisation TO_ORG a ROLE (trader or regulator)."""
    app = _app(network, url, org, user)
    _act(lambda: app.grant_role(to_org, role), as_json, lambda _: f"{to_org} holds {role}")


@trading_app.command("list")
def trading_list(
    lot: str,
    commodity: str,
    quantity: str,
    unit: str,
    price: str,
    receipt: str = typer.Option(
        ..., "--receipt", help="hex digest (64) of the warehouse receipt (仓单)"
    ),
    currency: str = typer.Option("CNY", "--currency", help="three capital letters"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """List LOT: QUANTITY UNIT of COMMODITY at PRICE per unit (as a trader)."""
    app = _app(network, url, org, user)
    _act(
        lambda: app.list_lot(lot, commodity, quantity, unit, price, currency, receipt),
        as_json,
        lambda x: (
            f"lot {lot}: {x['quantity']} {x['unit']} of {x['commodity']} at {x['price']} "
            f"{x['currency']}, {x['status']}"
        ),
    )


@trading_app.command("buy")
def trading_buy(
    order: str,
    lot: str,
    quantity: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Buy QUANTITY of LOT at its listed price: ORDER is matched at once."""
    app = _app(network, url, org, user)
    _act(lambda: app.buy(order, lot, quantity), as_json, _order_line)


@trading_app.command("confirm-payment")
def trading_confirm_payment(
    order: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the seller: payment for ORDER was received."""
    app = _app(network, url, org, user)
    _act(lambda: app.confirm_payment(order), as_json, _order_line)


@trading_app.command("confirm-delivery")
def trading_confirm_delivery(
    order: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the buyer: the goods of ORDER were delivered."""
    app = _app(network, url, org, user)
    _act(lambda: app.confirm_delivery(order), as_json, _order_line)


@trading_app.command("withdraw")
def trading_withdraw(
    lot: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the seller: LOT takes no more orders."""
    app = _app(network, url, org, user)
    _act(lambda: app.withdraw_lot(lot), as_json, lambda _: f"lot {lot} withdrawn")


@trading_app.command("freeze")
def trading_freeze(
    lot: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the regulator: LOT takes no orders until unfrozen."""
    app = _app(network, url, org, user)
    _act(lambda: app.freeze_lot(lot, reason), as_json, lambda _: f"lot {lot} frozen: {reason}")


@trading_app.command("unfreeze")
def trading_unfreeze(
    lot: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the regulator: LOT takes orders again."""
    app = _app(network, url, org, user)
    _act(lambda: app.unfreeze_lot(lot), as_json, lambda _: f"lot {lot} unfrozen")


@trading_app.command("limit")
def trading_limit(
    commodity: str,
    max_quantity: str | None = typer.Argument(None, help="the largest order; none: remove"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the regulator: limit the quantity one order of COMMODITY may take (or remove it)."""
    app = _app(network, url, org, user)
    if max_quantity is None:
        _act(lambda: app.remove_limit(commodity), as_json, lambda _: f"{commodity}: no limit")
    else:
        _act(
            lambda: app.set_limit(commodity, max_quantity),
            as_json,
            lambda _: f"{commodity}: at most {max_quantity} per order",
        )


@trading_app.command("cancel")
def trading_cancel(
    order: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """As the regulator: cancel a matched ORDER (its quantity returns to the lot)."""
    app = _app(network, url, org, user)
    _act(lambda: app.cancel_order(order, reason), as_json, _order_line)


@trading_app.command("show")
def trading_show(
    lot_or_order: str,
    order: bool = typer.Option(False, "--order", help="LOT_OR_ORDER names an order"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """A lot (or, with --order, an order) as the chain keeps it (JSON)."""
    app = _app(network, url, None, None)
    print_json(call(lambda: app.order(lot_or_order) if order else app.lot(lot_or_order)))


@trading_app.command("watch")
def trading_watch(
    from_height: int = typer.Option(1, "--from-height", help="the first block to read"),
    large: list[str] = typer.Option(
        None, "--large", help="COMMODITY=QUANTITY: an order this large is an alert (repeat)"
    ),
    max_price_move: str = typer.Option("0.10", "--max-price-move", help="a fraction"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """The regulator's review: read the trading contract's committed events from the node and
    report the alerts (large orders, price moves, round trips, concentration)."""
    from yulian.apps.trading import CONTRACT_NAME
    from yulian.apps.trading.supervision import Rules, follow, review

    try:
        limits = {}
        for item in large or []:
            commodity, sep, quantity = item.partition("=")
            if not sep:
                fail(f"--large must be COMMODITY=QUANTITY, got {item!r}")
            limits[commodity] = Decimal(quantity)
        rules = Rules(large_quantity=limits, max_price_move=Decimal(max_price_move))
    except InvalidOperation:
        fail("--large and --max-price-move take decimal numbers")
    client = connect(network, url)
    events = call(lambda: list(follow(client, CONTRACT_NAME, from_height)))
    alerts = review(events, rules)
    if as_json:
        print_json({"events": len(events), "alerts": [asdict(a) for a in alerts]})
        return
    say(f"{len(events)} events of {CONTRACT_NAME} from height {from_height}; {len(alerts)} alerts")
    for a in alerts:
        say(
            f"  {a.kind:<14} height {a.height:<6} {a.commodity:<10} {', '.join(a.orgs)}: {a.detail}"
        )
