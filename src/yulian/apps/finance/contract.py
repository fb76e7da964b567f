# ruff: noqa: F821 -- Decimal is a builtin of the contract dialect
"""finance (供应链金融 / 票据): receivables a core enterprise issues to its suppliers, split and
passed up the supply chain, discounted by banks, and redeemed at maturity.

A note is the issuer's promise to pay `face` in `currency` at `maturity` (block time, ms). It
starts as one part, held by the supplier it was issued to. A part's holder organisation, and
only it, may transfer the part (whole, or an amount of it: a new part is cut off for the
receiver), split it into parts, or offer it to a bank at a price; the bank finances it
(becomes the holder) or declines. From maturity on, parts no longer move: the issuer redeems
each one, paying its holder, and a redeemed part never changes again.

Invariant (every method keeps it; the property tests check it after random sequences of
steps): for every note, the amounts of its held, offered and redeemed parts sum to its face; a
split part's amount lives on in its children. Amounts are decimal strings with two decimals;
arithmetic is Decimal.

Roles ("issuer": a core enterprise; "bank") are granted by the admins of the GOVERNORS, or held
from the start by the organisations FOUNDING_ROLES names ("role:org"); both constants are set in
this source before it is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, note/<id>, part/<id>; the first part of a note has the note's id, later
ones <note id>#<n>.
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("issuer", "bank")
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
HEX_DIGITS = "0123456789abcdef"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DECIMAL_CHARS = "0123456789."
CENT = "0.01"
ZERO = "0.00"
MAX_AMOUNT = "1000000000000000"
MAX_ID = 48
MAX_ORG = 64
MAX_SPLIT = 16
MAX_PAGE = 64
LIVE = ("held", "offered")


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
    key = "role/" + role + "/" + str(org)
    ctx.require(ctx.state.has(key), str(org) + " does not hold the role " + str(role))
    ctx.state.delete(key)
    ctx.emit("role_revoked", {"org": org, "role": role})
    return True


def has_role(ctx, org, role):
    return _holds(ctx, str(org), str(role))


# --- the life of a receivable ----------------------------------------------------------------


def issue(ctx, note_id, holder, amount, currency, maturity, basis):
    _require_role(ctx, "issuer")
    ctx.require(
        isinstance(note_id, str) and 0 < len(note_id) <= MAX_ID and note_id.strip(ID_CHARS) == "",
        "note id must be 1..48 of A-Z a-z 0-9 . _ -",
    )
    _check_org(ctx, holder, "holder")
    face = _amount(ctx, amount, "amount")
    ctx.require(
        isinstance(currency, str) and len(currency) == 3 and currency.strip(UPPER) == "",
        "currency must be three capital letters (ISO 4217)",
    )
    ctx.require(
        isinstance(maturity, int) and not isinstance(maturity, bool) and maturity > ctx.block.time,
        "maturity must be a time (ms) after this block",
    )
    ctx.require(
        basis == ""
        or (isinstance(basis, str) and len(basis) == 64 and basis.strip(HEX_DIGITS) == ""),
        "basis must be '' or the 64-hex digest of the underlying invoice or contract",
    )
    ctx.require(not ctx.state.has("note/" + note_id), "note " + note_id + " exists")
    note = {
        "id": note_id,
        "issuer": ctx.sender.org,
        "currency": currency,
        "face": str(face),
        "maturity": maturity,
        "basis": basis,
        "parts": 0,
        "redeemed": ZERO,
        "status": "open",
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("note/" + note_id, note)
    part = _new_part(ctx, note_id, note_id, holder, face, "")
    ctx.emit(
        "issued", {"note": note_id, "holder": holder, "amount": str(face), "currency": currency}
    )
    return part


def transfer(ctx, part_id, to_org, amount):
    part, note = _movable(ctx, part_id)
    _check_org(ctx, to_org, "to_org")
    ctx.require(to_org != part["holder"], "the part is already held by " + to_org)
    value = _amount(ctx, amount, "amount")
    held = Decimal(part["amount"])
    ctx.require(value <= held, "the part holds only " + part["amount"])
    if value == held:
        moved = part
        part["holder"] = to_org
        ctx.state.put("part/" + part_id, part)
    else:
        part["amount"] = str(held - value)
        ctx.state.put("part/" + part_id, part)
        moved = _new_part(ctx, note["id"], _next_id(ctx, note), to_org, value, part_id)
    ctx.emit(
        "transferred",
        {
            "part": moved["id"],
            "from_part": part_id,
            "from": ctx.sender.org,
            "to": to_org,
            "amount": str(value),
        },
    )
    return moved


def split(ctx, part_id, amounts):
    part, note = _movable(ctx, part_id)
    ctx.require(
        isinstance(amounts, list) and 2 <= len(amounts) <= MAX_SPLIT, "amounts: a list of 2..16"
    )
    values = [_amount(ctx, a, "each amount") for a in amounts]
    ctx.require(sum(values) == Decimal(part["amount"]), "the amounts must sum to " + part["amount"])
    part["status"] = "split"
    ctx.state.put("part/" + part_id, part)
    ids = []
    for value in values:
        child = _new_part(ctx, note["id"], _next_id(ctx, note), part["holder"], value, part_id)
        ids.append(child["id"])
    ctx.emit("split", {"part": part_id, "into": ids})
    return ids


def offer(ctx, part_id, bank, price):
    part = _movable(ctx, part_id)[0]
    _check_org(ctx, bank, "bank")
    ctx.require(_holds(ctx, bank, "bank"), bank + " is not a bank of this application")
    ctx.require(bank != part["holder"], "a holder cannot offer a part to itself")
    value = _amount(ctx, price, "price")
    ctx.require(value <= Decimal(part["amount"]), "the price cannot exceed the part's amount")
    part["status"] = "offered"
    part["offer"] = {"bank": bank, "price": str(value), "height": ctx.block.height}
    ctx.state.put("part/" + part_id, part)
    ctx.emit("offered", {"part": part_id, "bank": bank, "price": str(value)})
    return part


def withdraw_offer(ctx, part_id):
    part = _offered(ctx, part_id)
    ctx.require(ctx.sender.org == part["holder"], "only the holder may withdraw its offer")
    return _close_offer(ctx, part, "offer_withdrawn")


def decline(ctx, part_id):
    part = _offered(ctx, part_id)
    ctx.require(ctx.sender.org == part["offer"]["bank"], "only the bank offered to may decline")
    return _close_offer(ctx, part, "declined")


def finance(ctx, part_id):
    part = _offered(ctx, part_id)
    note = ctx.state.get("note/" + part["note"])
    ctx.require(ctx.block.time < note["maturity"], "the note has matured")
    terms = part["offer"]
    ctx.require(ctx.sender.org == terms["bank"], "the part was offered to " + terms["bank"])
    _require_role(ctx, "bank")
    seller = part["holder"]
    part["holder"] = terms["bank"]
    part["status"] = "held"
    part["offer"] = None
    part["financed"] = {
        "by": terms["bank"],
        "from": seller,
        "price": terms["price"],
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("part/" + part_id, part)
    ctx.emit(
        "financed",
        {
            "part": part_id,
            "bank": terms["bank"],
            "from": seller,
            "amount": part["amount"],
            "price": terms["price"],
        },
    )
    return part


def redeem(ctx, part_id):
    part = _part(ctx, part_id)
    note = ctx.state.get("note/" + part["note"])
    ctx.require(ctx.sender.org == note["issuer"], "only the issuer redeems its notes")
    _require_role(ctx, "issuer")
    ctx.require(ctx.block.time >= note["maturity"], "the note matures at " + str(note["maturity"]))
    ctx.require(part["status"] in LIVE, "part " + part_id + " is " + part["status"])
    part["status"] = "redeemed"
    part["offer"] = None
    part["redeemed"] = {
        "holder": part["holder"],
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("part/" + part_id, part)
    redeemed = Decimal(note["redeemed"]) + Decimal(part["amount"])
    ctx.require(redeemed <= Decimal(note["face"]), "redemptions exceed the face")  # invariant
    note["redeemed"] = str(redeemed)
    if redeemed == Decimal(note["face"]):
        note["status"] = "settled"
    ctx.state.put("note/" + note["id"], note)
    ctx.emit("redeemed", {"part": part_id, "holder": part["holder"], "amount": part["amount"]})
    return part


# --- reading --------------------------------------------------------------------------------


def get_note(ctx, note_id):
    note = ctx.state.get("note/" + str(note_id))
    ctx.require(note is not None, "no note " + str(note_id))
    return note


def get_part(ctx, part_id):
    return _part(ctx, part_id)


def get_parts(ctx, note_id, start, limit):
    """Parts number start .. start+limit-1 of a note; number 0 is the first part."""
    note = get_note(ctx, note_id)
    ctx.require(isinstance(start, int) and start >= 0, "start must be an int >= 0")
    ctx.require(isinstance(limit, int) and 0 < limit <= MAX_PAGE, "limit must be 1..64")
    end = min(note["parts"] + 1, start + limit)
    return [ctx.state.get("part/" + _part_id(note_id, n)) for n in range(start, end)]


# --- helpers --------------------------------------------------------------------------------


def _new_part(ctx, note_id, part_id, holder, amount, parent):
    part = {
        "id": part_id,
        "note": note_id,
        "amount": str(amount),
        "holder": holder,
        "status": "held",
        "parent": parent,
        "offer": None,
        "financed": None,
        "redeemed": None,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("part/" + part_id, part)
    return part


def _next_id(ctx, note):
    note["parts"] = note["parts"] + 1
    ctx.state.put("note/" + note["id"], note)
    return _part_id(note["id"], note["parts"])


def _part_id(note_id, n):
    if n == 0:
        return note_id
    return note_id + "#" + str(n)


def _part(ctx, part_id):
    ctx.require(isinstance(part_id, str) and 0 < len(part_id) <= 64, "no part " + str(part_id))
    part = ctx.state.get("part/" + part_id)
    ctx.require(part is not None, "no part " + part_id)
    return part


def _movable(ctx, part_id):
    """A held part of the sender's organisation whose note has not matured, and its note."""
    part = _part(ctx, part_id)
    ctx.require(part["status"] == "held", "part " + part_id + " is " + part["status"])
    ctx.require(ctx.sender.org == part["holder"], "only the holder may do this")
    note = ctx.state.get("note/" + part["note"])
    ctx.require(ctx.block.time < note["maturity"], "the note has matured")
    return part, note


def _offered(ctx, part_id):
    part = _part(ctx, part_id)
    ctx.require(part["status"] == "offered", "part " + part_id + " is not on offer")
    return part


def _close_offer(ctx, part, event):
    bank = part["offer"]["bank"]
    part["status"] = "held"
    part["offer"] = None
    ctx.state.put("part/" + part["id"], part)
    ctx.emit(event, {"part": part["id"], "bank": bank})
    return part


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


def _amount(ctx, text, what):
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
    ctx.require(value == value.quantize(Decimal(CENT)), what + " has more than two decimals")
    ctx.require(0 < value <= Decimal(MAX_AMOUNT), what + " must be positive and at most 10**15")
    return value.quantize(Decimal(CENT))


def _check_org(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ORG and "/" not in value,
        what + " must be an organisation name",
    )
