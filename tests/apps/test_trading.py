"""trading (大宗商品交易监管) in the harness: a lot from listing to settlement, the regulator's
powers, the alerts a regulator's review raises from the committed events, and the property that
a lot's quantity is always its remainder plus what its live orders took."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.apps.shared import AppError
from yulian.apps.trading import CONTRACT_NAME, Trading, contract_source
from yulian.apps.trading.supervision import Rules, review
from yulian.devkit import Harness

RECEIPT = "0a" * 32
TRADERS = ("steel_co", "mill_a", "mill_b")


def make_world() -> Harness:
    h = Harness(["exchange", *TRADERS, "regulator", "rogue"])
    h.deploy(CONTRACT_NAME, contract_source(("exchange",)))
    gov = Trading(h.client(h.admin("exchange")))
    for org in TRADERS:
        gov.grant_role(org, "trader")
    gov.grant_role("regulator", "regulator")
    return h


@cache
def shared_world() -> Harness:
    return make_world()


def app(h: Harness, org: str) -> Trading:
    return Trading(h.client(h.member(org)))


def harness_events(h: Harness) -> list[dict[str, object]]:
    """The trading events as ``supervision.follow`` yields them from a node."""
    return [
        {
            "height": e.height,
            "time_ms": e.time_ms,
            "tx_id": e.tx_id,
            "name": e.name,
            "payload": e.payload,
        }
        for e in h.events(CONTRACT_NAME)
    ]


def test_a_lot_of_rebar_from_listing_to_settlement() -> None:
    h = make_world()
    seller, buyer = app(h, "steel_co"), app(h, "mill_a")
    lot = seller.list_lot("LOT-1", "rebar", "500", "tonne", "3650.00", "CNY", RECEIPT)
    assert (lot["remaining"], lot["status"]) == ("500.000", "open")
    order = buyer.buy("ORD-1", "LOT-1", "120.5")
    assert (order["amount"], order["seller"], order["status"]) == (
        "439825.00",
        "steel_co",
        "matched",
    )
    assert seller.lot("LOT-1")["remaining"] == "379.500"
    with pytest.raises(AppError, match="only the buyer confirms"):
        seller.confirm_delivery("ORD-1")
    seller.confirm_payment("ORD-1")
    assert buyer.order("ORD-1")["status"] == "matched"
    assert buyer.confirm_delivery("ORD-1")["status"] == "settled"
    names = [e.name for e in h.events(CONTRACT_NAME)]
    assert names[-5:] == [
        "lot_listed",
        "order_matched",
        "payment_confirmed",
        "delivery_confirmed",
        "order_settled",
    ]
    volume = buyer.volume("rebar", h.time_ms // 86_400_000)
    assert volume["matched"] == {"quantity": "120.500", "amount": "439825.00", "orders": 1}
    with pytest.raises(AppError, match="cannot buy its own lot"):
        seller.buy("ORD-2", "LOT-1", "1")
    with pytest.raises(AppError, match=r"only 379\.500 is left"):
        buyer.buy("ORD-2", "LOT-1", "400")
    with pytest.raises(AppError, match="may not act as trader"):
        app(h, "rogue").buy("ORD-2", "LOT-1", "1")


def test_the_regulator_freezes_limits_and_cancels() -> None:
    h = make_world()
    seller, buyer, regulator = app(h, "steel_co"), app(h, "mill_a"), app(h, "regulator")
    seller.list_lot("LOT-9", "copper", "100", "tonne", "68000", "CNY", RECEIPT)
    with pytest.raises(AppError, match="may not act as regulator"):
        seller.freeze_lot("LOT-9", "mine")
    regulator.freeze_lot("LOT-9", "warehouse receipt under review")
    with pytest.raises(AppError, match="is frozen: warehouse receipt under review"):
        buyer.buy("O1", "LOT-9", "1")
    regulator.unfreeze_lot("LOT-9")
    regulator.set_limit("copper", "20")
    with pytest.raises(AppError, match=r"limited to 20\.000"):
        buyer.buy("O1", "LOT-9", "25")
    buyer.buy("O1", "LOT-9", "20")
    regulator.cancel_order("O1", "dispute: delivery refused")
    assert seller.lot("LOT-9")["remaining"] == "100.000"
    with pytest.raises(AppError, match="is cancelled"):
        seller.confirm_payment("O1")
    regulator.remove_limit("copper")
    buyer.buy("O2", "LOT-9", "25")
    seller.withdraw_lot("LOT-9")
    with pytest.raises(AppError, match="is withdrawn"):
        buyer.buy("O3", "LOT-9", "1")


def test_the_regulators_review_raises_alerts_from_the_committed_events() -> None:
    h = make_world()
    a, b, c = (app(h, o) for o in TRADERS)
    a.list_lot("L1", "coal", "10000", "tonne", "800", "CNY", RECEIPT)
    b.list_lot("L2", "coal", "10000", "tonne", "1000", "CNY", RECEIPT)
    b.buy("O1", "L1", "100")  # b buys from a at 800
    a.buy("O2", "L2", "100")  # a buys back from b at 1000: a round trip, and a 25 % price move
    c.buy("O3", "L1", "5000")  # large
    c.buy("O4", "L1", "100")
    alerts = review(harness_events(h), Rules(large_quantity={"coal": Decimal(1000)}))
    kinds = [(x.kind, x.orgs) for x in alerts]
    assert ("round_trip", ("steel_co", "mill_a")) in kinds
    assert ("price_move", ("mill_a", "steel_co")) in kinds
    assert ("large_order", ("mill_b",)) in kinds
    assert ("concentration", ("mill_b",)) in kinds
    assert all(x.commodity == "coal" for x in alerts)
    assert review(harness_events(h)[:3], Rules()) == []  # listings and one order: nothing


# --- quantities add up ---------------------------------------------------------------------------

_examples = count()
operation = st.one_of(
    st.tuples(st.just("list"), st.sampled_from(TRADERS), st.integers(1, 10**6)),
    st.tuples(
        st.just("buy"),
        st.sampled_from([*TRADERS, "rogue"]),
        st.integers(0, 99),
        st.integers(1, 10**6),
    ),
    st.tuples(st.just("confirm_payment"), st.booleans(), st.integers(0, 99)),
    st.tuples(st.just("confirm_delivery"), st.booleans(), st.integers(0, 99)),
    st.tuples(st.just("cancel_order"), st.booleans(), st.integers(0, 99)),
    st.tuples(st.just("freeze_lot"), st.booleans(), st.integers(0, 99)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(operation, min_size=5, max_size=35))
def test_a_lots_quantity_is_its_remainder_plus_its_live_orders(ops: list) -> None:  # type: ignore[type-arg]
    h = shared_world()
    prefix = f"T{next(_examples)}-"
    lots: dict[str, dict[str, object]] = {}
    orders: dict[str, dict[str, object]] = {}
    for n, op in enumerate(ops):
        kind = op[0]
        if kind == "list":
            lot_id, quantity = f"{prefix}L{n}", Decimal(op[2]).scaleb(-3)
            args = (lot_id, "zinc", format(quantity, "f"), "t", "10", "CNY", RECEIPT)
            assert h.call(h.member(op[1]), CONTRACT_NAME, "list_lot", *args).ok
            lots[lot_id] = {"seller": op[1], "remaining": quantity, "frozen": False}
            continue
        if kind == "buy":
            ids = sorted(lots)
            lot_id = ids[op[2] % len(ids)] if ids else "none"
            lot = lots.get(lot_id)
            quantity = Decimal(op[3]).scaleb(-3)
            order_id = f"{prefix}O{n}"
            result = h.call(
                h.member(op[1]), CONTRACT_NAME, "buy", order_id, lot_id, format(quantity, "f")
            )
            ok = (
                lot is not None
                and op[1] in TRADERS
                and op[1] != lot["seller"]
                and not lot["frozen"]
                and quantity <= lot["remaining"]  # type: ignore[operator]
            )
            assert result.ok == ok, (op, result.message)
            if ok and lot is not None:
                lot["remaining"] -= quantity  # type: ignore[operator]
                orders[order_id] = {
                    "lot": lot_id,
                    "buyer": op[1],
                    "seller": lot["seller"],
                    "quantity": quantity,
                    "status": "matched",
                    "paid": False,
                    "delivered": False,
                }
            continue
        if kind == "freeze_lot":
            ids = sorted(lots)
            if ids:
                lot_id = ids[op[2] % len(ids)]
                who = "regulator" if op[1] else "rogue"
                result = h.call(h.member(who), CONTRACT_NAME, "freeze_lot", lot_id, "check")
                assert result.ok == (op[1] and not lots[lot_id]["frozen"])
                lots[lot_id]["frozen"] = lots[lot_id]["frozen"] or result.ok
            continue
        ids = sorted(orders)
        if not ids:
            continue
        order_id = ids[op[2] % len(ids)]
        o = orders[order_id]
        entitled = {
            "confirm_payment": o["seller"],
            "confirm_delivery": o["buyer"],
            "cancel_order": "regulator",
        }[kind]
        who = str(entitled) if op[1] else "rogue"
        extra = ["dispute"] if kind == "cancel_order" else []
        result = h.call(h.member(who), CONTRACT_NAME, kind, order_id, *extra)
        done = {
            "confirm_payment": o["paid"],
            "confirm_delivery": o["delivered"],
            "cancel_order": False,
        }[kind]
        ok = op[1] and o["status"] == "matched" and not done
        assert result.ok == ok, (op, result.message)
        if ok:
            if kind == "cancel_order":
                o["status"] = "cancelled"
                lots[str(o["lot"])]["remaining"] += o["quantity"]  # type: ignore[operator]
            else:
                o["paid" if kind == "confirm_payment" else "delivered"] = True
                if o["paid"] and o["delivered"]:
                    o["status"] = "settled"
    for lot_id in lots:
        record = h.state(CONTRACT_NAME, "lot/" + lot_id)
        live = [
            Decimal(h.state(CONTRACT_NAME, "order/" + oid)["quantity"])
            for oid, o in orders.items()
            if o["lot"] == lot_id and o["status"] in ("matched", "settled")
        ]
        assert Decimal(record["quantity"]) == Decimal(record["remaining"]) + sum(live, Decimal(0))
        assert Decimal(record["remaining"]) == lots[lot_id]["remaining"]
    for oid, o in orders.items():
        assert h.state(CONTRACT_NAME, "order/" + oid)["status"] == o["status"]
