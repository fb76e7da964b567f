"""Introduction: the ``trading`` application (大宗商品交易监管) — client side.

The contract (``contract.py``, shipped as data and deployed through the lifecycle) lists
commodity lots against warehouse receipts, matches orders at the listed price and settles them
on both parties' confirmations, under a regulator's supervisory powers. ``Trading`` calls it
through any ``Connection`` (a node's ``yulian.sdk.Client`` or the test harness);
``supervision`` reads its events from a node and turns them into a regulator's alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from yulian.apps.shared import Connection, call, govern

CONTRACT_NAME = "trading"
TRADING_VERSION = "1.0"


def contract_source(
    governors: Sequence[str] = ("org1",),
    founding_roles: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The contract's source, ready to propose, with ``governors`` (organisations whose
    admins grant the trader and regulator roles) and ``founding_roles`` (role -> organisations
    holding it from the start) written in."""
    source = resources.files(__package__).joinpath("contract.py").read_text(encoding="utf-8")
    return govern(source, governors, founding_roles)


def decimal_text(value: Decimal | int | str) -> str:
    """A quantity or price as the contract takes it: a decimal string, never from a float."""
    if isinstance(value, float | bool):
        raise TypeError("quantities and prices are Decimal, int or decimal strings, never float")
    number = Decimal(str(value))
    if not number.is_finite() or number <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return format(number, "f")


class Trading:
    """The trading contract's methods, called through ``conn`` as its wallet's organisation."""

    def __init__(self, conn: Connection, contract: str = CONTRACT_NAME) -> None:
        self.conn = conn
        self.contract = contract

    def _call(self, method: str, *args: Any) -> Any:
        return call(self.conn, self.contract, method, *args)

    def _query(self, method: str, *args: Any) -> Any:
        return self.conn.query(self.contract, method, list(args))

    # --- governance -----------------------------------------------------------------------
    def grant_role(self, org: str, role: str) -> None:
        self._call("grant_role", org, role)

    def revoke_role(self, org: str, role: str) -> None:
        self._call("revoke_role", org, role)

    # --- traders --------------------------------------------------------------------------
    def list_lot(
        self,
        lot_id: str,
        commodity: str,
        quantity: Decimal | int | str,
        unit: str,
        price: Decimal | int | str,
        currency: str,
        warehouse_receipt: str,
    ) -> dict[str, Any]:
        lot: dict[str, Any] = self._call(
            "list_lot",
            lot_id,
            commodity,
            decimal_text(quantity),
            unit,
            decimal_text(price),
            currency,
            warehouse_receipt,
        )
        return lot

    def withdraw_lot(self, lot_id: str) -> None:
        self._call("withdraw_lot", lot_id)

    def buy(self, order_id: str, lot_id: str, quantity: Decimal | int | str) -> dict[str, Any]:
        order: dict[str, Any] = self._call("buy", order_id, lot_id, decimal_text(quantity))
        return order

    def confirm_payment(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._call("confirm_payment", order_id)
        return order

    def confirm_delivery(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._call("confirm_delivery", order_id)
        return order

    # --- the regulator ----------------------------------------------------------------------
    def freeze_lot(self, lot_id: str, reason: str) -> None:
        self._call("freeze_lot", lot_id, reason)

    def unfreeze_lot(self, lot_id: str) -> None:
        self._call("unfreeze_lot", lot_id)

    def set_limit(self, commodity: str, max_quantity: Decimal | int | str) -> None:
        self._call("set_limit", commodity, decimal_text(max_quantity))

    def remove_limit(self, commodity: str) -> None:
        self._call("remove_limit", commodity)

    def cancel_order(self, order_id: str, reason: str) -> dict[str, Any]:
        order: dict[str, Any] = self._call("cancel_order", order_id, reason)
        return order

    # --- reading ----------------------------------------------------------------------------
    def lot(self, lot_id: str) -> dict[str, Any]:
        lot: dict[str, Any] = self._query("get_lot", lot_id)
        return lot

    def order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._query("get_order", order_id)
        return order

    def volume(self, commodity: str, day: int) -> dict[str, Any]:
        volume: dict[str, Any] = self._query("get_volume", commodity, day)
        return volume
