# ruff: noqa: F821 -- Decimal is a builtin of the contract dialect
"""trace (溯源): product batches, their lifecycle events signed by the organisation of each role,
custody hand-overs, splits and merges, and a public read-only trace of every batch.

Roles are granted to organisations by the admins of the GOVERNORS, or held from the start by the
organisations FOUNDING_ROLES names ("role:org"); both constants are set in this source before it
is proposed, so the deployment vote approves them. A member acts in a role when its organisation
holds the role and, if its certificate carries a "roles" attribute, the attribute lists the
role: an organisation decides which of its people act in which role.

A template (tea, elevator, relic...) names the roles that may create a batch and, per event
kind, the roles that may record it, whether only the custodian may, and whether it closes the
batch. A batch has one custodian organisation; custody moves when the custodian hands it over
and the receiver takes it over (both sign). Splitting a batch into parts, or merging batches
into one, closes the old batches and keeps the quantities: parts sum to the whole.

Keys: role/<role>/<org>, template/<name>, batch/<id>, event/<id>/<n> (n = 0, 1, ...).
Quantities are decimal strings with at most three decimals.
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
DECIMAL_CHARS = "0123456789."
MAX_ID = 64
MAX_ORG = 64
MAX_NAME = 32
MAX_TEXT = 256
MAX_DATA_ENTRIES = 16
MAX_KINDS = 32
MAX_ROLES_PER_RULE = 8
MAX_PARTS = 16
MAX_PAGE = 64
QUANTUM = "0.001"
MAX_QUANTITY = "1000000000000"
SYSTEM_KINDS = (
    "created",
    "handed_over",
    "taken_over",
    "hand_over_cancelled",
    "split",
    "split_from",
    "merged",
    "merged_from",
)


# --- roles ----------------------------------------------------------------------------------


def grant_role(ctx, org, role):
    _require_governor(ctx)
    _check_org(ctx, org, "org")
    _check_name(ctx, role, "role")
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
    key = "role/" + role + "/" + org
    ctx.require(ctx.state.has(key), org + " does not hold the role " + role)
    ctx.state.delete(key)
    ctx.emit("role_revoked", {"org": org, "role": role})
    return True


def has_role(ctx, org, role):
    return _holds(ctx, str(org), str(role))


# --- templates ------------------------------------------------------------------------------


def define_template(ctx, name, create_roles, rules):
    _require_governor(ctx)
    _check_name(ctx, name, "template name")
    _check_roles(ctx, create_roles)
    ctx.require(
        isinstance(rules, dict) and 0 < len(rules) <= MAX_KINDS, "rules: a map of 1..32 kinds"
    )
    clean = {}
    for kind, rule in rules.items():
        _check_name(ctx, kind, "event kind")
        ctx.require(kind not in SYSTEM_KINDS, kind + " is recorded by the contract itself")
        ctx.require(isinstance(rule, dict), "the rule of " + kind + " must be a map")
        _check_roles(ctx, rule.get("roles"))
        custody = rule.get("custody", False)
        closes = rule.get("closes", False)
        ctx.require(isinstance(custody, bool) and isinstance(closes, bool), "flags are booleans")
        clean[kind] = {"roles": rule["roles"], "custody": custody, "closes": closes}
    key = "template/" + name
    old = ctx.state.get(key)
    version = 1 if old is None else old["version"] + 1
    template = {"name": name, "create": create_roles, "rules": clean, "version": version}
    ctx.state.put(key, template)
    ctx.emit("template_defined", {"name": name, "version": version})
    return template


def get_template(ctx, name):
    found = ctx.state.get("template/" + name)
    ctx.require(found is not None, "no template " + name)
    return found


# --- batches --------------------------------------------------------------------------------


def create(ctx, batch_id, template_name, product, quantity, unit, data):
    _check_id(ctx, batch_id, "batch id")
    found = ctx.state.get("template/" + template_name)
    ctx.require(found is not None, "no template " + template_name)
    role = _acting_role(ctx, found["create"])
    ctx.require(role != "", ctx.sender.org + " may not create " + template_name + " batches")
    _check_text(ctx, product, "product")
    _check_name(ctx, unit, "unit")
    amount = _quantity(ctx, quantity)
    ctx.require(not ctx.state.has("batch/" + batch_id), "batch " + batch_id + " exists")
    batch = _new_batch(ctx, batch_id, template_name, product, str(amount), unit, [])
    _append(ctx, batch, "created", role, _checked_data(ctx, data))
    ctx.state.put("batch/" + batch_id, batch)
    return batch


def record(ctx, batch_id, kind, data):
    batch = _active(ctx, batch_id)
    rules = ctx.state.get("template/" + batch["template"])["rules"]
    rule = rules.get(kind)
    ctx.require(rule is not None, "the template has no event kind " + str(kind))
    role = _acting_role(ctx, rule["roles"])
    ctx.require(role != "", ctx.sender.org + " may not record " + kind)
    if rule["custody"]:
        ctx.require(ctx.sender.org == batch["custodian"], "only the custodian may record " + kind)
    _append(ctx, batch, kind, role, _checked_data(ctx, data))
    if rule["closes"]:
        batch["status"] = "closed"
    ctx.state.put("batch/" + batch_id, batch)
    return batch


def hand_over(ctx, batch_id, to_org):
    batch = _held(ctx, batch_id)
    _check_org(ctx, to_org, "to_org")
    ctx.require(to_org != batch["custodian"], "the batch is already in the custody of " + to_org)
    batch["pending"] = to_org
    _append(ctx, batch, "handed_over", "", {"to": to_org})
    ctx.state.put("batch/" + batch_id, batch)
    return batch


def cancel_hand_over(ctx, batch_id):
    batch = _active(ctx, batch_id)
    ctx.require(ctx.sender.org == batch["custodian"], "only the custodian may cancel")
    ctx.require(batch["pending"] != "", "no hand-over is pending")
    batch["pending"] = ""
    _append(ctx, batch, "hand_over_cancelled", "", {})
    ctx.state.put("batch/" + batch_id, batch)
    return batch


def take_over(ctx, batch_id):
    batch = _active(ctx, batch_id)
    ctx.require(batch["pending"] == ctx.sender.org, "the batch is not being handed to you")
    previous = batch["custodian"]
    batch["custodian"] = ctx.sender.org
    batch["pending"] = ""
    _append(ctx, batch, "taken_over", "", {"from": previous})
    ctx.state.put("batch/" + batch_id, batch)
    return batch


def split(ctx, batch_id, parts):
    batch = _held(ctx, batch_id)
    ctx.require(isinstance(parts, list) and 2 <= len(parts) <= MAX_PARTS, "parts: a list of 2..16")
    total = Decimal(0)
    ids = []
    quantities = []
    for part in parts:
        ctx.require(isinstance(part, list) and len(part) == 2, "a part is [batch id, quantity]")
        _check_id(ctx, part[0], "part id")
        ctx.require(part[0] not in ids, "part ids must differ")
        ctx.require(not ctx.state.has("batch/" + part[0]), "batch " + part[0] + " exists")
        ids.append(part[0])
        quantities.append(_quantity(ctx, part[1]))
        total = total + quantities[-1]
    ctx.require(total == Decimal(batch["quantity"]), "the parts must sum to " + batch["quantity"])
    for i, part_id in enumerate(ids):
        child = _new_batch(
            ctx,
            part_id,
            batch["template"],
            batch["product"],
            str(quantities[i]),
            batch["unit"],
            [batch_id],
        )
        _append(ctx, child, "split_from", "", {"parent": batch_id})
        ctx.state.put("batch/" + part_id, child)
    batch["status"] = "split"
    batch["children"] = ids
    _append(ctx, batch, "split", "", {"parts": ids})
    ctx.state.put("batch/" + batch_id, batch)
    return ids


def merge(ctx, new_id, batch_ids):
    _check_id(ctx, new_id, "new batch id")
    ctx.require(not ctx.state.has("batch/" + new_id), "batch " + new_id + " exists")
    ctx.require(
        isinstance(batch_ids, list) and 2 <= len(batch_ids) <= MAX_PARTS,
        "batch_ids: a list of 2..16",
    )
    parents = []
    total = Decimal(0)
    for batch_id in batch_ids:
        ctx.require(batch_ids.count(batch_id) == 1, "batch ids must differ")
        batch = _held(ctx, batch_id)
        if parents:
            first = parents[0]
            ctx.require(
                batch["template"] == first["template"]
                and batch["product"] == first["product"]
                and batch["unit"] == first["unit"],
                "only batches of one template, product and unit merge",
            )
        parents.append(batch)
        total = total + Decimal(batch["quantity"])
    first = parents[0]
    merged = _new_batch(
        ctx, new_id, first["template"], first["product"], str(total), first["unit"], batch_ids
    )
    _append(ctx, merged, "merged_from", "", {"parents": batch_ids})
    ctx.state.put("batch/" + new_id, merged)
    for batch in parents:
        batch["status"] = "merged"
        batch["children"] = [new_id]
        _append(ctx, batch, "merged", "", {"into": new_id})
        ctx.state.put("batch/" + batch["id"], batch)
    return merged


# --- reading (public) -------------------------------------------------------------------------


def get_batch(ctx, batch_id):
    found = ctx.state.get("batch/" + str(batch_id))
    ctx.require(found is not None, "no batch " + str(batch_id))
    return found


def get_events(ctx, batch_id, start, limit):
    found = get_batch(ctx, batch_id)
    ctx.require(isinstance(start, int) and start >= 0, "start must be an int >= 0")
    ctx.require(isinstance(limit, int) and 0 < limit <= MAX_PAGE, "limit must be 1..64")
    end = min(found["events"], start + limit)
    return [ctx.state.get("event/" + batch_id + "/" + str(n)) for n in range(start, end)]


def trace(ctx, batch_id):
    found = get_batch(ctx, batch_id)
    return {
        "batch": found,
        "events": get_events(ctx, batch_id, 0, MAX_PAGE),
        "more": found["events"] > MAX_PAGE,
    }


# --- helpers --------------------------------------------------------------------------------


def _new_batch(ctx, batch_id, template_name, product, quantity, unit, parents):
    return {
        "id": batch_id,
        "template": template_name,
        "product": product,
        "quantity": quantity,
        "unit": unit,
        "custodian": ctx.sender.org,
        "pending": "",
        "status": "active",
        "parents": parents,
        "children": [],
        "events": 0,
        "created_by": ctx.sender.org,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }


def _append(ctx, batch, kind, role, data):
    """Store event number batch["events"] of the batch's log and emit it; the caller stores
    the batch (whose event count this advances)."""
    n = batch["events"]
    ctx.state.put(
        "event/" + batch["id"] + "/" + str(n),
        {
            "n": n,
            "kind": kind,
            "org": ctx.sender.org,
            "role": role,
            "signer": ctx.sender.id,
            "height": ctx.block.height,
            "time": ctx.block.time,
            "tx": ctx.tx.id,
            "data": data,
        },
    )
    batch["events"] = n + 1
    ctx.emit(kind, {"batch": batch["id"], "n": n, "org": ctx.sender.org})


def _active(ctx, batch_id):
    _check_id(ctx, batch_id, "batch id")
    found = ctx.state.get("batch/" + batch_id)
    ctx.require(found is not None, "no batch " + batch_id)
    ctx.require(found["status"] == "active", "batch " + batch_id + " is " + found["status"])
    return found


def _held(ctx, batch_id):
    """An active batch in the sender's custody with no hand-over pending."""
    found = _active(ctx, batch_id)
    ctx.require(ctx.sender.org == found["custodian"], "only the custodian may do this")
    ctx.require(found["pending"] == "", "a hand-over to " + found["pending"] + " is pending")
    return found


def _acting_role(ctx, roles):
    """The first of roles the sender acts in, or ""."""
    listed = ctx.sender.attributes.get(ROLE_ATTRIBUTE)
    for role in roles:
        if _holds(ctx, ctx.sender.org, role) and (listed is None or role in listed.split(",")):
            return role
    return ""


def _holds(ctx, org, role):
    """Whether org holds role: named in FOUNDING_ROLES ("role:org") or granted since."""
    return (role + ":" + org) in FOUNDING_ROLES or ctx.state.has("role/" + role + "/" + org)


def _require_governor(ctx):
    ctx.require(
        ctx.sender.org in GOVERNORS and ctx.sender.role == "admin",
        "only an admin of a governing organisation may do this",
    )


def _quantity(ctx, text):
    ctx.require(
        isinstance(text, str)
        and 0 < len(text) <= 24
        and text.strip(DECIMAL_CHARS) == ""
        and text.count(".") <= 1
        and text[0] != "."
        and text[-1] != ".",
        "a quantity is a decimal string such as '12.5'",
    )
    value = Decimal(text)
    ctx.require(value == value.quantize(Decimal(QUANTUM)), "at most three decimals")
    ctx.require(0 < value <= Decimal(MAX_QUANTITY), "a quantity is positive and at most 10**12")
    return value.quantize(Decimal(QUANTUM))


def _check_id(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        what + " must be 1..64 of A-Z a-z 0-9 . _ -",
    )


def _check_name(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_NAME and value.strip(NAME_CHARS) == "",
        what + " must be 1..32 of a-z 0-9 _",
    )


def _check_org(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ORG and "/" not in value,
        what + " must be an organisation name",
    )


def _check_text(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_TEXT, what + " must be 1..256 characters"
    )


def _check_roles(ctx, roles):
    ctx.require(
        isinstance(roles, list) and 0 < len(roles) <= MAX_ROLES_PER_RULE,
        "roles: a list of 1..8 role names",
    )
    for role in roles:
        _check_name(ctx, role, "role")


def _checked_data(ctx, data):
    ctx.require(
        isinstance(data, dict) and len(data) <= MAX_DATA_ENTRIES,
        "data: a map of at most 16 entries",
    )
    for key, value in data.items():
        _check_name(ctx, key, "a data key")
        ctx.require(
            (isinstance(value, str) and len(value) <= MAX_TEXT)
            or (isinstance(value, int) and not isinstance(value, bool)),
            "data values are strings of at most 256 characters or integers",
        )
    return data
