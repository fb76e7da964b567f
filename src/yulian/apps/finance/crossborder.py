# mypy: ignore-errors
# ruff: noqa: F821 -- Decimal is a builtin of the contract dialect
"""crossborder (跨境支付): payments between banks across currencies, at a rate a rate-provider
organisation publishes, with a foreign-exchange regulator observing.

A rate provider publishes the rate of base/quote (units of quote per unit of base). A bank
sends a payment to another bank: the contract converts the amount at the latest published rate,
refuses a rate older than MAX_RATE_AGE_MS, and records the rate and its height with the
payment. The receiving bank settles it (credited to the beneficiary) or rejects it. The
regulator reads everything (every step is an event) and may flag a payment with a note; it
cannot move money. Settled volume per bank and currency is kept for the regulator's reports.

Roles ("bank", "rate_provider", "regulator") are granted by the admins of the GOVERNORS, or held
from the start by the organisations FOUNDING_ROLES names ("role:org"); both constants are set in
this source before it is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, rate/<base>/<quote>, payment/<id>, volume/<org>/<currency>/<in|out>.
Amounts: decimal strings, two decimals; rates: at most eight decimals.
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("bank", "rate_provider", "regulator")
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
HEX_DIGITS = "0123456789abcdef"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DECIMAL_CHARS = "0123456789."
CENT = "0.01"
RATE_QUANTUM = "0.00000001"
MAX_AMOUNT = "1000000000000000"
MAX_RATE = "1000000"
MAX_RATE_AGE_MS = 86_400_000
MAX_ID = 64
MAX_ORG = 64
MAX_NOTE = 256
MAX_FLAGS = 8


# --- roles ----------------------------------------------------------------------------------


def grant_role(ctx, org, role):
    _require_governor(ctx)
    _check_org(ctx, org, "org")
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


# --- rates ----------------------------------------------------------------------------------


def publish_rate(ctx, base, quote, rate):
    _require_role(ctx, "rate_provider")
    _check_currency(ctx, base)
    _check_currency(ctx, quote)
    ctx.require(base != quote, "a rate is between two currencies")
    value = _decimal(ctx, rate, RATE_QUANTUM, MAX_RATE, "rate")
    record = {
        "base": base,
        "quote": quote,
        "rate": str(value),
        "provider": ctx.sender.org,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("rate/" + base + "/" + quote, record)
    ctx.emit("rate_published", record)
    return record


def get_rate(ctx, base, quote):
    record = ctx.state.get("rate/" + str(base) + "/" + str(quote))
    ctx.require(record is not None, "no rate " + str(base) + "/" + str(quote))
    return record


# --- payments -------------------------------------------------------------------------------


def send(ctx, payment_id, to_bank, amount, currency, target_currency, beneficiary):
    _require_role(ctx, "bank")
    _check_id(ctx, payment_id)
    ctx.require(not ctx.state.has("payment/" + payment_id), "payment " + payment_id + " exists")
    _check_org(ctx, to_bank, "to_bank")
    ctx.require(to_bank != ctx.sender.org, "a payment goes to another bank")
    ctx.require(_holds(ctx, to_bank, "bank"), to_bank + " is not a bank here")
    value = _decimal(ctx, amount, CENT, MAX_AMOUNT, "amount")
    _check_currency(ctx, currency)
    _check_currency(ctx, target_currency)
    ctx.require(
        isinstance(beneficiary, str)
        and len(beneficiary) == 64
        and beneficiary.strip(HEX_DIGITS) == "",
        "beneficiary must be the 64-hex digest of the beneficiary's account details",
    )
    rate = "1"
    rate_height = 0
    if currency != target_currency:
        record = ctx.state.get("rate/" + currency + "/" + target_currency)
        ctx.require(record is not None, "no rate " + currency + "/" + target_currency)
        ctx.require(
            ctx.block.time - record["time"] <= MAX_RATE_AGE_MS,
            "the rate " + currency + "/" + target_currency + " is older than a day",
        )
        rate = record["rate"]
        rate_height = record["height"]
    converted = (value * Decimal(rate)).quantize(Decimal(CENT))
    ctx.require(converted > 0, "the converted amount rounds to zero")
    payment = {
        "id": payment_id,
        "from_bank": ctx.sender.org,
        "to_bank": to_bank,
        "amount": str(value),
        "currency": currency,
        "target_amount": str(converted),
        "target_currency": target_currency,
        "rate": rate,
        "rate_height": rate_height,
        "beneficiary": beneficiary,
        "status": "sent",
        "flags": [],
        "height": ctx.block.height,
        "time": ctx.block.time,
        "reason": "",
    }
    ctx.state.put("payment/" + payment_id, payment)
    ctx.emit(
        "payment_sent",
        {
            "payment": payment_id,
            "from_bank": ctx.sender.org,
            "to_bank": to_bank,
            "amount": str(value),
            "currency": currency,
            "target_amount": str(converted),
            "target_currency": target_currency,
            "rate": rate,
        },
    )
    return payment


def settle(ctx, payment_id):
    payment = _incoming(ctx, payment_id)
    payment["status"] = "settled"
    ctx.state.put("payment/" + payment_id, payment)
    _add_volume(ctx, payment["from_bank"], payment["currency"], "out", payment["amount"])
    _add_volume(ctx, payment["to_bank"], payment["target_currency"], "in", payment["target_amount"])
    ctx.emit("payment_settled", {"payment": payment_id, "to_bank": payment["to_bank"]})
    return payment


def reject(ctx, payment_id, reason):
    payment = _incoming(ctx, payment_id)
    _check_note(ctx, reason, "reason")
    payment["status"] = "rejected"
    payment["reason"] = reason
    ctx.state.put("payment/" + payment_id, payment)
    ctx.emit("payment_rejected", {"payment": payment_id, "reason": reason})
    return payment


def flag(ctx, payment_id, note):
    _require_role(ctx, "regulator")
    payment = get_payment(ctx, payment_id)
    _check_note(ctx, note, "note")
    ctx.require(len(payment["flags"]) < MAX_FLAGS, "a payment holds at most 8 flags")
    payment["flags"].append(
        {"by": ctx.sender.org, "note": note, "height": ctx.block.height, "time": ctx.block.time}
    )
    ctx.state.put("payment/" + payment_id, payment)
    ctx.emit("payment_flagged", {"payment": payment_id, "by": ctx.sender.org, "note": note})
    return payment


def get_payment(ctx, payment_id):
    payment = ctx.state.get("payment/" + str(payment_id))
    ctx.require(payment is not None, "no payment " + str(payment_id))
    return payment


def volume(ctx, org, currency):
    """The settled volume of org in currency, received ("in") and sent ("out")."""
    return {
        "in": ctx.state.get("volume/" + str(org) + "/" + str(currency) + "/in", "0.00"),
        "out": ctx.state.get("volume/" + str(org) + "/" + str(currency) + "/out", "0.00"),
    }


# --- helpers --------------------------------------------------------------------------------


def _incoming(ctx, payment_id):
    payment = get_payment(ctx, payment_id)
    ctx.require(payment["status"] == "sent", "payment " + payment_id + " is " + payment["status"])
    ctx.require(ctx.sender.org == payment["to_bank"], "only the receiving bank may do this")
    _require_role(ctx, "bank")
    return payment


def _add_volume(ctx, org, currency, direction, amount):
    key = "volume/" + org + "/" + currency + "/" + direction
    total = Decimal(ctx.state.get(key, "0.00")) + Decimal(amount)
    ctx.state.put(key, str(total))


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
        what + " must be a decimal string such as '1250.00'",
    )
    value = Decimal(text)
    ctx.require(value == value.quantize(Decimal(quantum)), what + " has too many decimals")
    ctx.require(0 < value <= Decimal(maximum), what + " must be positive and at most " + maximum)
    return value.quantize(Decimal(quantum))


def _check_currency(ctx, value):
    ctx.require(
        isinstance(value, str) and len(value) == 3 and value.strip(UPPER) == "",
        "a currency is three capital letters (ISO 4217)",
    )


def _check_id(ctx, value):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        "payment id must be 1..64 of A-Z a-z 0-9 . _ -",
    )


def _check_org(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ORG and "/" not in value,
        what + " must be an organisation name",
    )


def _check_note(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_NOTE, what + " must be 1..256 characters"
    )
