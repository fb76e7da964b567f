"""Introduction: the trading story (大宗商品交易监管) — a regulator watching commodity trades.

A trader lists copper against a warehouse receipt; another buys part of it at the listed
price; payment and delivery are confirmed by each side and the order settles; the regulator,
who sees every step as it is committed, freezes the lot and the next order is refused. In
full, the regulator then reads the contract's events back from a node and reviews them: the
large order and a round trip between the same two traders (对倒) raise alerts.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from yulian.apps.stories.stage import Stage
from yulian.apps.trading import CONTRACT_NAME, TRADING_VERSION, Trading, contract_source
from yulian.apps.trading.supervision import Rules, follow, review

TITLE = "大宗商品交易监管 trading: copper traded under a regulator's watch"


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    cast = stage.cast("seller", "buyer", "regulator")
    governor = stage.members[0]
    stage.deploy(
        CONTRACT_NAME,
        TRADING_VERSION,
        contract_source(
            (governor,),
            {"trader": [cast["seller"], cast["buyer"]], "regulator": [cast["regulator"]]},
        ),
    )
    stage.ensure_roles(Trading, governor, {"trader": cast["buyer"], "regulator": cast["regulator"]})
    stage.ensure_roles(Trading, governor, {"trader": cast["seller"]})
    start = int(stage.public().client.health()["height"]) + 1
    seller = Trading(stage.member(cast["seller"], "trader"))
    buyer = Trading(stage.member(cast["buyer"], "trader"))
    regulator = Trading(stage.member(cast["regulator"], "regulator"))
    lot, order = f"CU-{stage.tag}", f"O-{stage.tag}"
    receipt = hashlib.sha256(f"warehouse receipt for {lot}".encode()).hexdigest()
    stage.step(
        seller,
        f"lists lot {lot}: 500 tonnes of copper at 68,000.00 CNY a tonne (warehouse receipt "
        f"{receipt[:16]}…)",
        lambda: seller.list_lot(lot, "copper", 500, "tonne", Decimal("68000.00"), "CNY", receipt),
    )
    stage.step(
        buyer,
        f"buys 200 tonnes of {lot} (order {order})",
        lambda: buyer.buy(order, lot, 200),
        show=lambda o: f"matched at {o['price']}, {o['status']}",
    )
    stage.step(
        seller, f"confirms payment received for {order}", lambda: seller.confirm_payment(order)
    )
    stage.step(
        buyer,
        f"confirms delivery of {order}",
        lambda: buyer.confirm_delivery(order),
        show=lambda o: str(o["status"]),
    )
    stage.step(
        regulator,
        f"freezes {lot} (its warehouse receipt is under review)",
        lambda: regulator.freeze_lot(lot, "warehouse receipt under review"),
    )
    stage.step(
        buyer,
        f"tries to buy 100 more tonnes of {lot}",
        lambda: buyer.buy(f"{order}-2", lot, 100),
        refused=True,
    )
    if brief:
        return
    stage.step(regulator, f"unfreezes {lot}", lambda: regulator.unfreeze_lot(lot))
    back = f"CU-{stage.tag}-B"
    stage.step(
        buyer,
        f"lists the 200 tonnes again as {back}",
        lambda: buyer.list_lot(back, "copper", 200, "tonne", Decimal("68100.00"), "CNY", receipt),
    )
    stage.step(
        seller,
        f"buys them back (order {order}-3)",
        lambda: seller.buy(f"{order}-3", back, 200),
        show=lambda o: f"matched at {o['price']}",
    )
    events = list(follow(stage.public().client, CONTRACT_NAME, start))
    alerts = review(events, Rules(large_quantity={"copper": Decimal(150)}))
    stage.note(
        f"the regulator reads {len(events)} events of the trading contract back from the node "
        f"and reviews them: "
        + "; ".join(
            f"{a.kind} at height {a.height} ({', '.join(a.orgs)}: {a.detail})" for a in alerts
        )
    )
