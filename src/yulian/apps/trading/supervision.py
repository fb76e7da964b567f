"""Introduction: the regulator's side of trading supervision (大宗商品交易监管) — reading the
trading contract's events as they are committed, and the alerts a regulator acts on.

``follow`` reads the committed events of a contract from a node, block by block (each tx's
receipt, which the node serves with its proof), so a regulator needs no trust in the traders'
own reports. ``review`` is a pure function of an event sequence: the same events always give
the same alerts, whether they come from a node, a regulator's own full node, or the test
harness. The rules it applies:

- ``large_order``: an order of at least ``large_quantity[commodity]``;
- ``price_move``: an order whose price differs from the commodity's previous matched price by
  more than ``max_price_move`` (a fraction);
- ``round_trip``: A buys a commodity from B, then B buys it from A within
  ``round_trip_blocks`` (对倒 / wash trading);
- ``concentration``: one buyer takes more than ``max_buyer_share`` of a commodity's matched
  quantity on a day, once that day has ``min_orders`` orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

DAY_MS = 86_400_000


class NodeReader(Protocol):
    """The reads ``follow`` needs (``yulian.sdk.Client`` has them)."""

    def block(self, height: int | str = "latest") -> dict[str, Any]: ...

    def tx(self, tx_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Rules:
    large_quantity: Mapping[str, Decimal] = field(default_factory=dict)
    max_price_move: Decimal = Decimal("0.10")
    round_trip_blocks: int = 100
    max_buyer_share: Decimal = Decimal("0.5")
    min_orders: int = 4


@dataclass(frozen=True)
class Alert:
    kind: str
    height: int
    tx_id: str
    commodity: str
    orgs: tuple[str, ...]
    detail: str


def follow(
    reader: NodeReader, contract: str, from_height: int, to_height: int | None = None
) -> Iterator[dict[str, Any]]:
    """The events of ``contract`` committed in blocks ``from_height`` .. ``to_height`` (the
    head if not given), in order: ``{"height", "time_ms", "tx_id", "name", "payload"}``."""
    last = to_height if to_height is not None else reader.block()["header"]["height"]
    for height in range(max(1, from_height), last + 1):
        block = reader.block(height)
        for tx_id in block["tx_ids"]:
            receipt = reader.tx(tx_id)["receipt"]
            for event in receipt["events"]:
                if event["contract"] == contract:
                    yield {
                        "height": height,
                        "time_ms": block["header"]["time_ms"],
                        "tx_id": tx_id,
                        "name": event["name"],
                        "payload": event["payload"],
                    }


def review(events: Iterable[Mapping[str, Any]], rules: Rules = Rules()) -> list[Alert]:
    """The alerts of ``rules`` over ``events`` (as ``follow`` yields them), in event order."""
    alerts: list[Alert] = []
    last_price: dict[str, Decimal] = {}
    trades: dict[tuple[str, str, str], int] = {}  # (commodity, buyer, seller) -> last height
    day_totals: dict[tuple[str, int], dict[str, Decimal]] = {}  # buyer -> quantity
    day_orders: dict[tuple[str, int], int] = {}
    flagged: set[tuple[str, int, str]] = set()
    for event in events:
        if event["name"] != "order_matched":
            continue
        p = event["payload"]
        commodity, buyer, seller = p["commodity"], p["buyer"], p["seller"]
        quantity, price = Decimal(p["quantity"]), Decimal(p["price"])
        height, tx_id = int(event["height"]), str(event["tx_id"])
        found: list[tuple[str, tuple[str, ...], str]] = []
        large = rules.large_quantity.get(commodity)
        if large is not None and quantity >= large:
            found.append(("large_order", (buyer,), f"{quantity} in one order (>= {large})"))
        previous = last_price.get(commodity)
        if previous is not None and abs(price - previous) > previous * rules.max_price_move:
            found.append(("price_move", (seller, buyer), f"price {price} after {previous}"))
        last_price[commodity] = price
        back = trades.get((commodity, seller, buyer))
        if back is not None and height - back <= rules.round_trip_blocks:
            found.append(("round_trip", (buyer, seller), f"{buyer} sold to {seller} at {back}"))
        trades[(commodity, buyer, seller)] = height
        day = (commodity, int(event.get("time_ms", 0)) // DAY_MS)
        totals = day_totals.setdefault(day, {})
        totals[buyer] = totals.get(buyer, Decimal(0)) + quantity
        day_orders[day] = day_orders.get(day, 0) + 1
        whole = sum(totals.values(), Decimal(0))
        if day_orders[day] >= rules.min_orders:
            for org, taken in sorted(totals.items()):
                if taken > whole * rules.max_buyer_share and (*day, org) not in flagged:
                    flagged.add((*day, org))
                    found.append(("concentration", (org,), f"{taken} of {whole} that day"))
        alerts.extend(Alert(k, height, tx_id, commodity, o, d) for k, o, d in found)
    return alerts
