# ruff: noqa: F821 -- Decimal is a builtin of the contract dialect
"""trading (大宗商品交易监管): commodity lots listed against warehouse receipts, bought at the
listed price, settled when the seller confirms payment and the buyer confirms delivery — with a
regulator organisation watching every step and holding the supervisory powers.

A trader lists a lot (commodity, quantity, unit, price per unit, currency, the digest of the
warehouse receipt 仓单 that shows the goods exist). Another trader buys part or all of what is
left: the order is matched at once at the listed price. The order settles when the seller has
confirmed the payment and the buyer the delivery. A trader cannot buy its own lot.

The regulator freezes and unfreezes lots (a frozen lot takes no orders), sets a maximum order
quantity per commodity, and cancels a matched order in a dispute (its quantity returns to the
lot). Every step is an event, so a regulator's node sees all of it as it is committed; daily
matched volume per commodity is kept for its reports.

Invariant (every method keeps it): a lot's quantity is its remaining quantity plus the
quantities of its matched and settled orders.

Roles ("trader", "regulator") are granted by the admins of the GOVERNORS, or held from the start
by the organisations FOUNDING_ROLES names ("role:org"); both constants are set in this source
before it is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, lot/<id>, order/<id>, limit/<commodity>, volume/<commodity>/<day> (day
= block time // 86,400,000).
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("trader", "regulator")
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
HEX_DIGITS = "0123456789abcdef"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DECIMAL_CHARS = "0123456789."
QUANTUM = "0.001"
CENT = "0.01"
MAX_QUANTITY = "1000000000"
MAX_PRICE = "1000000000"
MAX_ID = 64
MAX_ORG = 64
MAX_TEXT = 256
DAY_MS = 86_400_000
OPEN_ORDERS = ("matched", "settled")


# --- roles ----------------------------------------------------------------------------------


def grant_role(ctx, org, role):
    _require_governor(ctx)
    ctx.require(
        isinstance(org, str) and 0 < len(org) <= MAX_ORG and "/" not in org,
        "org must be an organisation name",
    )
    ctx.require(role in ROLES, "role must be one of " + ", ".join(ROLES))
    key = "role/" + role + "/" + org
    ctx.require(not _holds(ctx, org, role), org + " already holds the role " + role)
    ctx.state.put(key, {"org": org, "role": role, "by": ctx.sender.org, "height": ctx.block.height})
    ctx.emit("role_granted", {"org": org, "role": role})
    return True


def revoke_role(ctx, org, role):
    _require_governor(ctx)
    ctx.require(
        str(role) + ":" + str(org) not in FOUNDING_ROLES,
        "a founding role changes only with an upgrade of the contract",
    )
    key = "role/" + str(role) + "/" + str(org)
    ctx.require(ctx.state.has(key), str(org) + " does not hold the role " + str(role))
    ctx.state.delete(key)
    ctx.emit("role_revoked", {"org": org, "role": role})
    return True


def has_role(ctx, org, role):
    return _holds(ctx, str(org), str(role))


# --- trading --------------------------------------------------------------------------------


def list_lot(ctx, lot_id, commodity, quantity, unit, price, currency, warehouse_receipt):
    _require_role(ctx, "trader")
    _check_id(ctx, lot_id, "lot id")
    ctx.require(not ctx.state.has("lot/" + lot_id), "lot " + lot_id + " exists")
    _check_name(ctx, commodity, "commodity")
    _check_name(ctx, unit, "unit")
    amount = _decimal(ctx, quantity, QUANTUM, MAX_QUANTITY, "quantity")
    unit_price = _decimal(ctx, price, CENT, MAX_PRICE, "price")
    ctx.require(
        isinstance(currency, str) and len(currency) == 3 and currency.strip(UPPER) == "",
        "currency must be three capital letters (ISO 4217)",
    )
    ctx.require(
        isinstance(warehouse_receipt, str)
        and len(warehouse_receipt) == 64
        and warehouse_receipt.strip(HEX_DIGITS) == "",
        "warehouse_receipt must be the 64-hex digest of the warehouse receipt",
    )
    lot = {
        "id": lot_id,
        "seller": ctx.sender.org,
        "commodity": commodity,
        "quantity": str(amount),
        "remaining": str(amount),
        "unit": unit,
        "price": str(unit_price),
        "currency": currency,
        "warehouse_receipt": warehouse_receipt,
        "status": "open",
        "frozen": "",
        "orders": 0,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("lot/" + lot_id, lot)
    ctx.emit(
        "lot_listed",
        {
            "lot": lot_id,
            "seller": ctx.sender.org,
            "commodity": commodity,
            "quantity": str(amount),
            "price": str(unit_price),
            "currency": currency,
        },
    )
    return lot


def withdraw_lot(ctx, lot_id):
    lot = get_lot(ctx, lot_id)
    ctx.require(ctx.sender.org == lot["seller"], "only the seller withdraws a lot")
    ctx.require(lot["status"] == "open", "lot " + lot_id + " is " + lot["status"])
    lot["status"] = "withdrawn"
    ctx.state.put("lot/" + lot_id, lot)
    ctx.emit("lot_withdrawn", {"lot": lot_id, "remaining": lot["remaining"]})
    return lot


def buy(ctx, order_id, lot_id, quantity):
    _require_role(ctx, "trader")
    _check_id(ctx, order_id, "order id")
    ctx.require(not ctx.state.has("order/" + order_id), "order " + order_id + " exists")
    lot = get_lot(ctx, lot_id)
    ctx.require(lot["status"] == "open", "lot " + lot_id + " is " + lot["status"])
    ctx.require(lot["frozen"] == "", "lot " + lot_id + " is frozen: " + lot["frozen"])
    ctx.require(ctx.sender.org != lot["seller"], "a trader cannot buy its own lot")
    amount = _decimal(ctx, quantity, QUANTUM, MAX_QUANTITY, "quantity")
    remaining = Decimal(lot["remaining"])
    ctx.require(amount <= remaining, "only " + lot["remaining"] + " is left")
    limit = ctx.state.get("limit/" + lot["commodity"])
    if limit is not None:
        ctx.require(
            amount <= Decimal(limit["max_quantity"]),
            "orders of " + lot["commodity"] + " are limited to " + limit["max_quantity"],
        )
    value = (amount * Decimal(lot["price"])).quantize(Decimal(CENT))
    lot["remaining"] = str(remaining - amount)
    lot["orders"] = lot["orders"] + 1
    ctx.state.put("lot/" + lot_id, lot)
    order = {
        "id": order_id,
        "lot": lot_id,
        "commodity": lot["commodity"],
        "seller": lot["seller"],
        "buyer": ctx.sender.org,
        "quantity": str(amount),
        "price": lot["price"],
        "amount": str(value),
        "currency": lot["currency"],
        "status": "matched",
        "paid": False,
        "delivered": False,
        "height": ctx.block.height,
        "time": ctx.block.time,
        "note": "",
    }
    ctx.state.put("order/" + order_id, order)
    _add_volume(ctx, lot["commodity"], "matched", amount, value)
    ctx.emit(
        "order_matched",
        {
            "order": order_id,
            "lot": lot_id,
            "commodity": lot["commodity"],
            "seller": lot["seller"],
            "buyer": ctx.sender.org,
            "quantity": str(amount),
            "price": lot["price"],
            "amount": str(value),
        },
    )
    return order


def confirm_payment(ctx, order_id):
    order = _matched(ctx, order_id)
    ctx.require(ctx.sender.org == order["seller"], "only the seller confirms the payment")
    ctx.require(not order["paid"], "the payment is already confirmed")
    order["paid"] = True
    ctx.emit("payment_confirmed", {"order": order_id})
    return _settle_if_done(ctx, order)


def confirm_delivery(ctx, order_id):
    order = _matched(ctx, order_id)
    ctx.require(ctx.sender.org == order["buyer"], "only the buyer confirms the delivery")
    ctx.require(not order["delivered"], "the delivery is already confirmed")
    order["delivered"] = True
    ctx.emit("delivery_confirmed", {"order": order_id})
    return _settle_if_done(ctx, order)


# --- supervision ----------------------------------------------------------------------------


def freeze_lot(ctx, lot_id, reason):
    _require_role(ctx, "regulator")
    lot = get_lot(ctx, lot_id)
    _check_text(ctx, reason, "reason")
    ctx.require(lot["frozen"] == "", "lot " + lot_id + " is already frozen")
    lot["frozen"] = reason
    ctx.state.put("lot/" + lot_id, lot)
    ctx.emit("lot_frozen", {"lot": lot_id, "by": ctx.sender.org, "reason": reason})
    return lot


def unfreeze_lot(ctx, lot_id):
    _require_role(ctx, "regulator")
    lot = get_lot(ctx, lot_id)
    ctx.require(lot["frozen"] != "", "lot " + lot_id + " is not frozen")
    lot["frozen"] = ""
    ctx.state.put("lot/" + lot_id, lot)
    ctx.emit("lot_unfrozen", {"lot": lot_id, "by": ctx.sender.org})
    return lot


def set_limit(ctx, commodity, max_quantity):
    _require_role(ctx, "regulator")
    _check_name(ctx, commodity, "commodity")
    amount = _decimal(ctx, max_quantity, QUANTUM, MAX_QUANTITY, "max_quantity")
    limit = {"commodity": commodity, "max_quantity": str(amount), "by": ctx.sender.org}
    ctx.state.put("limit/" + commodity, limit)
    ctx.emit("limit_set", limit)
    return limit


def remove_limit(ctx, commodity):
    _require_role(ctx, "regulator")
    ctx.require(ctx.state.has("limit/" + str(commodity)), "no limit on " + str(commodity))
    ctx.state.delete("limit/" + commodity)
    ctx.emit("limit_removed", {"commodity": commodity, "by": ctx.sender.org})
    return True


def cancel_order(ctx, order_id, reason):
    _require_role(ctx, "regulator")
    order = _matched(ctx, order_id)
    _check_text(ctx, reason, "reason")
    lot = get_lot(ctx, order["lot"])
    lot["remaining"] = str(Decimal(lot["remaining"]) + Decimal(order["quantity"]))
    ctx.state.put("lot/" + lot["id"], lot)
    order["status"] = "cancelled"
    order["note"] = reason
    ctx.state.put("order/" + order_id, order)
    _add_volume(
        ctx, order["commodity"], "cancelled", Decimal(order["quantity"]), Decimal(order["amount"])
    )
    ctx.emit("order_cancelled", {"order": order_id, "by": ctx.sender.org, "reason": reason})
    return order


# --- reading --------------------------------------------------------------------------------


def get_lot(ctx, lot_id):
    lot = ctx.state.get("lot/" + str(lot_id))
    ctx.require(lot is not None, "no lot " + str(lot_id))
    return lot


def get_order(ctx, order_id):
    order = ctx.state.get("order/" + str(order_id))
    ctx.require(order is not None, "no order " + str(order_id))
    return order


def get_limit(ctx, commodity):
    return ctx.state.get("limit/" + str(commodity))


def get_volume(ctx, commodity, day):
    """Matched and cancelled volume of a commodity on a day (block time // 86,400,000)."""
    empty = {"quantity": "0", "amount": "0", "orders": 0}
    return ctx.state.get(
        "volume/" + str(commodity) + "/" + str(day),
        {"matched": empty, "cancelled": empty, "day": day},
    )


# --- helpers --------------------------------------------------------------------------------


def _matched(ctx, order_id):
    order = get_order(ctx, order_id)
    ctx.require(order["status"] == "matched", "order " + order_id + " is " + order["status"])
    return order


def _settle_if_done(ctx, order):
    if order["paid"] and order["delivered"]:
        order["status"] = "settled"
        ctx.emit("order_settled", {"order": order["id"], "amount": order["amount"]})
    ctx.state.put("order/" + order["id"], order)
    return order


def _add_volume(ctx, commodity, kind, quantity, amount):
    day = ctx.block.time // DAY_MS
    key = "volume/" + commodity + "/" + str(day)
    empty = {"quantity": "0", "amount": "0", "orders": 0}
    volume = ctx.state.get(key, {"matched": empty, "cancelled": empty, "day": day})
    entry = volume[kind]
    volume[kind] = {
        "quantity": str(Decimal(entry["quantity"]) + quantity),
        "amount": str(Decimal(entry["amount"]) + amount),
        "orders": entry["orders"] + 1,
    }
    ctx.state.put(key, volume)


def _require_role(ctx, role):
    listed = ctx.sender.attributes.get(ROLE_ATTRIBUTE)
    ctx.require(
        _holds(ctx, ctx.sender.org, role) and (listed is None or role in listed.split(",")),
        ctx.sender.org + " may not act as " + role,
    )


def _holds(ctx, org, role):
    """Whether org holds role: named in FOUNDING_ROLES ("role:org") or granted since."""
    return (role + ":" + org) in FOUNDING_ROLES or ctx.state.has("role/" + role + "/" + org)


def _require_governor(ctx):
    ctx.require(
        ctx.sender.org in GOVERNORS and ctx.sender.role == "admin",
        "only an admin of a governing organisation may do this",
    )


def _decimal(ctx, text, quantum, maximum, what):
    ctx.require(
        isinstance(text, str)
        and 0 < len(text) <= 24
        and text.strip(DECIMAL_CHARS) == ""
        and text.count(".") <= 1
        and text[0] != "."
        and text[-1] != ".",
        what + " must be a decimal string such as '120.5'",
    )
    value = Decimal(text)
    ctx.require(value == value.quantize(Decimal(quantum)), what + " has too many decimals")
    ctx.require(0 < value <= Decimal(maximum), what + " must be positive and at most " + maximum)
    return value.quantize(Decimal(quantum))


def _check_id(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        what + " must be 1..64 of A-Z a-z 0-9 . _ -",
    )


def _check_name(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= 32 and value.strip(NAME_CHARS) == "",
        what + " must be 1..32 of a-z 0-9 _",
    )


def _check_text(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_TEXT, what + " must be 1..256 characters"
    )
