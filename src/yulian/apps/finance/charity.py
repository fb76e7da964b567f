# mypy: ignore-errors
# ruff: noqa: F821 -- Decimal is a builtin of the contract dialect
"""charity (公益慈善): donations to a charity's project, each traced to what it was spent on.

A charity organisation opens a project. Any member donates to it; each donation is numbered
and keeps what is left of it. The charity records each spending (amount, purpose, payee, the
digest of its receipt or invoice); the contract funds it from the oldest donations with
something left (first in, first out) and records, on the spending and on each donation, which
part of which donation paid for it. So a donor can follow its donation to every spending it
funded, and anyone can check a spending against the donations behind it.

Invariants (every method keeps them): a project's donated total is the sum of its donations,
its spent total the sum of its spendings, and for every donation, what is left plus what its
uses took is its amount; nothing is spent that was not donated.

The "charity" role is granted by the admins of the GOVERNORS, or held from the start by the
organisations FOUNDING_ROLES names ("role:org"); both constants are set in this source before it
is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, project/<id>, donation/<project>/<n>, use/<project>/<n>/<k> (the k-th
use of donation n), spending/<project>/<m>.
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("charity",)
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
HEX_DIGITS = "0123456789abcdef"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DECIMAL_CHARS = "0123456789."
CENT = "0.01"
MAX_AMOUNT = "1000000000000"
MAX_ID = 48
MAX_ORG = 64
MAX_TEXT = 256
MAX_DONOR_NAME = 64
MAX_FUNDING_DONATIONS = 32
MAX_PAGE = 64


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


# --- projects and donations -------------------------------------------------------------------


def open_project(ctx, project_id, title, currency, target):
    _require_role(ctx, "charity")
    ctx.require(
        isinstance(project_id, str)
        and 0 < len(project_id) <= MAX_ID
        and project_id.strip(ID_CHARS) == "",
        "project id must be 1..48 of A-Z a-z 0-9 . _ -",
    )
    ctx.require(not ctx.state.has("project/" + project_id), "project " + project_id + " exists")
    _check_text(ctx, title, "title")
    ctx.require(
        isinstance(currency, str) and len(currency) == 3 and currency.strip(UPPER) == "",
        "currency must be three capital letters (ISO 4217)",
    )
    project = {
        "id": project_id,
        "charity": ctx.sender.org,
        "title": title,
        "currency": currency,
        "target": str(_amount(ctx, target, "target")),
        "donated": "0.00",
        "spent": "0.00",
        "donations": 0,
        "spendings": 0,
        "next_unspent": 0,
        "status": "open",
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("project/" + project_id, project)
    ctx.emit("project_opened", {"project": project_id, "charity": ctx.sender.org})
    return project


def donate(ctx, project_id, amount, donor_name):
    project = get_project(ctx, project_id)
    ctx.require(project["status"] == "open", "project " + project_id + " is closed")
    value = _amount(ctx, amount, "amount")
    ctx.require(
        isinstance(donor_name, str) and len(donor_name) <= MAX_DONOR_NAME,
        "donor_name: at most 64 characters ('' to stay anonymous)",
    )
    n = project["donations"]
    donation = {
        "n": n,
        "project": project_id,
        "donor_org": ctx.sender.org,
        "donor": ctx.sender.id,
        "donor_name": donor_name,
        "amount": str(value),
        "remaining": str(value),
        "uses": 0,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("donation/" + project_id + "/" + str(n), donation)
    project["donations"] = n + 1
    project["donated"] = str(Decimal(project["donated"]) + value)
    ctx.state.put("project/" + project_id, project)
    ctx.emit("donated", {"project": project_id, "n": n, "amount": str(value)})
    return donation


def spend(ctx, project_id, amount, purpose, payee, evidence):
    project = get_project(ctx, project_id)
    ctx.require(ctx.sender.org == project["charity"], "only the project's charity spends")
    _require_role(ctx, "charity")
    need = _amount(ctx, amount, "amount")
    _check_text(ctx, purpose, "purpose")
    _check_text(ctx, payee, "payee")
    ctx.require(
        isinstance(evidence, str) and len(evidence) == 64 and evidence.strip(HEX_DIGITS) == "",
        "evidence must be the 64-hex digest of the receipt or invoice",
    )
    available = Decimal(project["donated"]) - Decimal(project["spent"])
    ctx.require(need <= available, "only " + str(available) + " of donations is unspent")
    m = project["spendings"]
    funded_by = []
    left = need
    n = project["next_unspent"]
    while left > 0:
        ctx.require(
            len(funded_by) < MAX_FUNDING_DONATIONS,
            "a spending may draw on at most 32 donations; record it in smaller parts",
        )
        key = "donation/" + project_id + "/" + str(n)
        donation = ctx.state.get(key)
        remaining = Decimal(donation["remaining"])
        take = min(remaining, left)
        if take > 0:
            ctx.state.put(
                "use/" + project_id + "/" + str(n) + "/" + str(donation["uses"]),
                {"spending": m, "amount": str(take)},
            )
            donation["uses"] = donation["uses"] + 1
            donation["remaining"] = str(remaining - take)
            ctx.state.put(key, donation)
            funded_by.append([n, str(take)])
            left = left - take
        if remaining - take == 0:
            n = n + 1
    spending = {
        "m": m,
        "project": project_id,
        "amount": str(need),
        "purpose": purpose,
        "payee": payee,
        "evidence": evidence,
        "funded_by": funded_by,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("spending/" + project_id + "/" + str(m), spending)
    project["spendings"] = m + 1
    project["spent"] = str(Decimal(project["spent"]) + need)
    project["next_unspent"] = n
    ctx.state.put("project/" + project_id, project)
    ctx.emit("spent", {"project": project_id, "m": m, "amount": str(need), "funded_by": funded_by})
    return spending


def close_project(ctx, project_id):
    project = get_project(ctx, project_id)
    ctx.require(ctx.sender.org == project["charity"], "only the project's charity closes it")
    _require_role(ctx, "charity")
    ctx.require(project["status"] == "open", "project " + project_id + " is closed")
    project["status"] = "closed"
    ctx.state.put("project/" + project_id, project)
    ctx.emit("project_closed", {"project": project_id})
    return project


# --- reading --------------------------------------------------------------------------------


def get_project(ctx, project_id):
    project = ctx.state.get("project/" + str(project_id))
    ctx.require(project is not None, "no project " + str(project_id))
    return project


def get_donation(ctx, project_id, n):
    donation = ctx.state.get("donation/" + str(project_id) + "/" + str(n))
    ctx.require(donation is not None, "no donation " + str(n) + " to " + str(project_id))
    return donation


def get_uses(ctx, project_id, n, start, limit):
    """What donation n paid for: [{"spending", "amount"}, ...] from its use number start."""
    donation = get_donation(ctx, project_id, n)
    ctx.require(isinstance(start, int) and start >= 0, "start must be an int >= 0")
    ctx.require(isinstance(limit, int) and 0 < limit <= MAX_PAGE, "limit must be 1..64")
    prefix = "use/" + project_id + "/" + str(n) + "/"
    return [
        ctx.state.get(prefix + str(k)) for k in range(start, min(donation["uses"], start + limit))
    ]


def get_spending(ctx, project_id, m):
    spending = ctx.state.get("spending/" + str(project_id) + "/" + str(m))
    ctx.require(spending is not None, "no spending " + str(m) + " of " + str(project_id))
    return spending


# --- helpers --------------------------------------------------------------------------------


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
        what + " must be a decimal string such as '100.00'",
    )
    value = Decimal(text)
    ctx.require(value == value.quantize(Decimal(CENT)), what + " has more than two decimals")
    ctx.require(0 < value <= Decimal(MAX_AMOUNT), what + " must be positive and at most 10**12")
    return value.quantize(Decimal(CENT))


def _check_org(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ORG and "/" not in value,
        what + " must be an organisation name",
    )


def _check_text(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_TEXT, what + " must be 1..256 characters"
    )
