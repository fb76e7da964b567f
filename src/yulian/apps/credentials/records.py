# mypy: ignore-errors
"""records (红旗链 records lifecycle): official records created, amended with their history
kept, and archived.

An organisation creates a record (a kind, the digest of its content, a little metadata) and
owns it. The owner amends it: each amendment is a new numbered version with the new content
digest, the reason and who made it; no version is ever overwritten, so the whole history of
a record stays readable (versions are keys of their own, not only the ledger's key history).
The owner, or an archive organisation (role "archivist"), archives a record: an archived
record changes no more.

The "archivist" role is granted by the admins of the GOVERNORS, or held from the start by the
organisations FOUNDING_ROLES names ("role:org"); both constants are set in this source before it
is proposed, so the deployment vote approves them.

Keys: role/<role>/<org>, record/<id>, version/<id>/<n> (n = 1, 2, ...).
"""

GOVERNORS = ("org1",)
FOUNDING_ROLES = ()
ROLES = ("archivist",)
ROLE_ATTRIBUTE = "roles"
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
HEX_DIGITS = "0123456789abcdef"
MAX_ID = 64
MAX_ORG = 64
MAX_TEXT = 256
MAX_METADATA = 16
MAX_PAGE = 64


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


def create_record(ctx, record_id, kind, content_digest, metadata):
    ctx.require(
        isinstance(record_id, str)
        and 0 < len(record_id) <= MAX_ID
        and record_id.strip(ID_CHARS) == "",
        "record id must be 1..64 of A-Z a-z 0-9 . _ -",
    )
    ctx.require(not ctx.state.has("record/" + record_id), "record " + record_id + " exists")
    ctx.require(
        isinstance(kind, str) and 0 < len(kind) <= 32 and kind.strip(NAME_CHARS) == "",
        "kind must be 1..32 of a-z 0-9 _",
    )
    _check_digest(ctx, content_digest)
    _check_metadata(ctx, metadata)
    record = {
        "id": record_id,
        "kind": kind,
        "owner": ctx.sender.org,
        "version": 0,
        "content": content_digest,
        "metadata": metadata,
        "status": "active",
        "created": {"height": ctx.block.height, "time": ctx.block.time},
        "archived": None,
    }
    _add_version(ctx, record, content_digest, "created")
    ctx.emit("record_created", {"record": record_id, "kind": kind, "owner": ctx.sender.org})
    return record


def amend(ctx, record_id, content_digest, reason):
    record = _active(ctx, record_id)
    ctx.require(ctx.sender.org == record["owner"], "only the owner amends a record")
    _check_digest(ctx, content_digest)
    ctx.require(content_digest != record["content"], "the content is unchanged")
    _check_reason(ctx, reason)
    record["content"] = content_digest
    _add_version(ctx, record, content_digest, reason)
    ctx.emit("record_amended", {"record": record_id, "version": record["version"]})
    return record


def archive(ctx, record_id, reason):
    record = _active(ctx, record_id)
    listed = ctx.sender.attributes.get(ROLE_ATTRIBUTE)
    archivist = _holds(ctx, ctx.sender.org, "archivist") and (
        listed is None or "archivist" in listed.split(",")
    )
    ctx.require(
        ctx.sender.org == record["owner"] or archivist,
        "only the owner or an archivist archives a record",
    )
    _check_reason(ctx, reason)
    record["status"] = "archived"
    record["archived"] = {
        "by": ctx.sender.org,
        "reason": reason,
        "height": ctx.block.height,
        "time": ctx.block.time,
    }
    ctx.state.put("record/" + record_id, record)
    ctx.emit("record_archived", {"record": record_id, "by": ctx.sender.org})
    return record


def get_record(ctx, record_id):
    record = ctx.state.get("record/" + str(record_id))
    ctx.require(record is not None, "no record " + str(record_id))
    return record


def versions(ctx, record_id, start, limit):
    """Versions start .. start+limit-1 of a record (the first is 1), oldest first."""
    record = get_record(ctx, record_id)
    ctx.require(isinstance(start, int) and start >= 1, "start must be an int >= 1")
    ctx.require(isinstance(limit, int) and 0 < limit <= MAX_PAGE, "limit must be 1..64")
    end = min(record["version"] + 1, start + limit)
    return [ctx.state.get("version/" + record_id + "/" + str(n)) for n in range(start, end)]


def _add_version(ctx, record, content_digest, reason):
    record["version"] = record["version"] + 1
    ctx.state.put(
        "version/" + record["id"] + "/" + str(record["version"]),
        {
            "n": record["version"],
            "content": content_digest,
            "reason": reason,
            "by": ctx.sender.org,
            "member": ctx.sender.id,
            "height": ctx.block.height,
            "time": ctx.block.time,
            "tx": ctx.tx.id,
        },
    )
    ctx.state.put("record/" + record["id"], record)


def _active(ctx, record_id):
    record = get_record(ctx, record_id)
    ctx.require(record["status"] == "active", "record " + record_id + " is archived")
    return record


def _holds(ctx, org, role):
    """Whether org holds role: named in FOUNDING_ROLES ("role:org") or granted since."""
    return (role + ":" + org) in FOUNDING_ROLES or ctx.state.has("role/" + role + "/" + org)


def _require_governor(ctx):
    ctx.require(
        ctx.sender.org in GOVERNORS and ctx.sender.role == "admin",
        "only an admin of a governing organisation may do this",
    )


def _check_digest(ctx, value):
    ctx.require(
        isinstance(value, str) and len(value) == 64 and value.strip(HEX_DIGITS) == "",
        "content_digest must be 64 lowercase hex characters",
    )


def _check_reason(ctx, value):
    ctx.require(isinstance(value, str) and 0 < len(value) <= MAX_TEXT, "reason: 1..256 characters")


def _check_metadata(ctx, metadata):
    ctx.require(
        isinstance(metadata, dict) and len(metadata) <= MAX_METADATA,
        "metadata: a map of at most 16 entries",
    )
    for key, value in metadata.items():
        ctx.require(
            0 < len(key) <= 32 and isinstance(value, str) and len(value) <= MAX_TEXT,
            "metadata maps names of 1..32 characters to strings of at most 256",
        )
