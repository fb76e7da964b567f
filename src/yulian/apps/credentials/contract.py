"""credentials (可信身份): attestations that issuer organisations make about a holder — identity
verified, a qualification, an employment — kept on chain as digests only.

An issuer defines schemas (the claim names an attestation carries) and issues attestations: the
chain stores the digest of the claims and a salt (computed off chain, see
yulian.apps.credentials.attestation_digest), never the claims. The holder keeps the claims,
the salt and the exported receipt of the issuing tx, and presents them; anyone verifies the
presentation offline against the genesis (the receipt proves who issued what digest, when),
and may ask the chain whether it has been revoked since. An issuer revokes only its own
attestations; an attestation past its expiry is reported as expired.

The "issuer" role is granted by the admins of the GOVERNORS, or held from the start by the
organisations FOUNDING_ROLES names ("role:org"); both constants are set in this source before it
is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, schema/<id>, attestation/<id>.
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("issuer",)
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
HEX_DIGITS = "0123456789abcdef"
MAX_ID = 64
MAX_ORG = 64
MAX_FIELDS = 32
MAX_FIELD = 32
MAX_TEXT = 256


# --- roles ----------------------------------------------------------------------------------


def grant_role(ctx, org, role):
    _require_governor(ctx)
    _check_org(ctx, org)
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


# --- schemas and attestations -----------------------------------------------------------------


def define_schema(ctx, schema_id, fields, description):
    _require_role(ctx, "issuer")
    _check_id(ctx, schema_id, "schema id")
    ctx.require(not ctx.state.has("schema/" + schema_id), "schema " + schema_id + " exists")
    ctx.require(
        isinstance(fields, list) and 0 < len(fields) <= MAX_FIELDS, "fields: a list of 1..32 names"
    )
    for name in fields:
        ctx.require(
            isinstance(name, str) and 0 < len(name) <= MAX_FIELD and name.strip(NAME_CHARS) == "",
            "a field name is 1..32 of a-z 0-9 _",
        )
        ctx.require(fields.count(name) == 1, "field " + name + " is listed twice")
    ctx.require(
        isinstance(description, str) and len(description) <= MAX_TEXT,
        "description: at most 256 characters",
    )
    schema = {
        "id": schema_id,
        "issuer": ctx.sender.org,
        "fields": sorted(fields),
        "description": description,
        "height": ctx.block.height,
    }
    ctx.state.put("schema/" + schema_id, schema)
    ctx.emit("schema_defined", {"schema": schema_id, "issuer": ctx.sender.org})
    return schema


def issue(ctx, attestation_id, schema_id, digest, expires):
    _require_role(ctx, "issuer")
    _check_id(ctx, attestation_id, "attestation id")
    ctx.require(ctx.state.has("schema/" + str(schema_id)), "no schema " + str(schema_id))
    _check_digest(ctx, digest)
    ctx.require(
        isinstance(expires, int)
        and not isinstance(expires, bool)
        and (expires == 0 or expires > ctx.block.time),
        "expires is 0 (never) or a time (ms) after this block",
    )
    key = "attestation/" + attestation_id
    ctx.require(not ctx.state.has(key), "attestation " + attestation_id + " exists")
    attestation = {
        "id": attestation_id,
        "schema": schema_id,
        "digest": digest,
        "issuer": ctx.sender.org,
        "issuer_member": ctx.sender.id,
        "expires": expires,
        "status": "valid",
        "height": ctx.block.height,
        "time": ctx.block.time,
        "tx": ctx.tx.id,
        "revoked": None,
    }
    ctx.state.put(key, attestation)
    ctx.emit(
        "issued", {"attestation": attestation_id, "schema": schema_id, "issuer": ctx.sender.org}
    )
    return attestation


def revoke(ctx, attestation_id, reason):
    attestation = get_attestation(ctx, attestation_id)
    ctx.require(ctx.sender.org == attestation["issuer"], "only the issuer revokes an attestation")
    _require_role(ctx, "issuer")
    ctx.require(attestation["status"] == "valid", "the attestation is already revoked")
    ctx.require(
        isinstance(reason, str) and 0 < len(reason) <= MAX_TEXT, "reason: 1..256 characters"
    )
    attestation["status"] = "revoked"
    attestation["revoked"] = {
        "reason": reason,
        "by": ctx.sender.id,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("attestation/" + attestation_id, attestation)
    ctx.emit("revoked", {"attestation": attestation_id, "reason": reason})
    return attestation


# --- reading and verifying ----------------------------------------------------------------------


def get_schema(ctx, schema_id):
    schema = ctx.state.get("schema/" + str(schema_id))
    ctx.require(schema is not None, "no schema " + str(schema_id))
    return schema


def get_attestation(ctx, attestation_id):
    attestation = ctx.state.get("attestation/" + str(attestation_id))
    ctx.require(attestation is not None, "no attestation " + str(attestation_id))
    return attestation


def check(ctx, attestation_id, digest):
    """Whether a presented digest is a valid attestation now: {"valid", "reason", ...}."""
    attestation = ctx.state.get("attestation/" + str(attestation_id))
    if attestation is None:
        return {"valid": False, "reason": "unknown", "issuer": ""}
    reason = ""
    if attestation["digest"] != digest:
        reason = "digest differs"
    elif attestation["status"] != "valid":
        reason = "revoked"
    elif attestation["expires"] != 0 and ctx.block.time >= attestation["expires"]:
        reason = "expired"
    return {
        "valid": reason == "",
        "reason": reason,
        "issuer": attestation["issuer"],
        "schema": attestation["schema"],
        "height": ctx.block.height,
    }


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


def _check_id(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        what + " must be 1..64 of A-Z a-z 0-9 . _ -",
    )


def _check_digest(ctx, value):
    ctx.require(
        isinstance(value, str) and len(value) == 64 and value.strip(HEX_DIGITS) == "",
        "digest must be 64 lowercase hex characters",
    )


def _check_org(ctx, value):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ORG and "/" not in value,
        "org must be an organisation name",
    )
