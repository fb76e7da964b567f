# mypy: ignore-errors
"""eseal (区块链+印章): an electronic seal registry — whose seal, what it looks like, who applied
it to which document, and when.

An organisation's admin registers a seal (its id, the digest of its image, a description) and
names the members who keep it (by certificate id, ctx.sender.id). A keeper, or an admin of the
owning organisation, seals a document: the chain records the document's digest, the seal, the
organisation, the member who sealed, the height and the block time. A document may carry many
sealings (a contract sealed by both parties). A revoked seal seals nothing more; its earlier
sealings stay on record, and a check reports the seal's status with each of them.

No role registry: a seal belongs to the organisation whose admin registered it.
Keys: seal/<id>, document/<digest> (its sealing count), sealing/<digest>/<n>.
"""

ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
HEX_DIGITS = "0123456789abcdef"
MAX_ID = 64
MAX_TEXT = 256
MAX_KEEPERS = 16
MAX_PAGE = 64


def register_seal(ctx, seal_id, image_digest, description):
    _require_admin(ctx)
    ctx.require(
        isinstance(seal_id, str) and 0 < len(seal_id) <= MAX_ID and seal_id.strip(ID_CHARS) == "",
        "seal id must be 1..64 of A-Z a-z 0-9 . _ -",
    )
    ctx.require(not ctx.state.has("seal/" + seal_id), "seal " + seal_id + " exists")
    _check_digest(ctx, image_digest, "image_digest")
    ctx.require(
        isinstance(description, str) and 0 < len(description) <= MAX_TEXT,
        "description: 1..256 characters",
    )
    seal = {
        "id": seal_id,
        "org": ctx.sender.org,
        "image": image_digest,
        "description": description,
        "keepers": [],
        "status": "active",
        "uses": 0,
        "height": ctx.block.height,
        "time": ctx.block.time,
        "revoked": None,
    }
    ctx.state.put("seal/" + seal_id, seal)
    ctx.emit("seal_registered", {"seal": seal_id, "org": ctx.sender.org, "image": image_digest})
    return seal


def authorize(ctx, seal_id, member_id):
    seal = _own_seal(ctx, seal_id)
    _check_digest(ctx, member_id, "member_id")
    ctx.require(member_id not in seal["keepers"], "already a keeper of " + seal_id)
    ctx.require(len(seal["keepers"]) < MAX_KEEPERS, "a seal has at most 16 keepers")
    seal["keepers"].append(member_id)
    ctx.state.put("seal/" + seal_id, seal)
    ctx.emit("keeper_added", {"seal": seal_id, "member": member_id})
    return seal


def deauthorize(ctx, seal_id, member_id):
    seal = _own_seal(ctx, seal_id)
    ctx.require(member_id in seal["keepers"], "not a keeper of " + seal_id)
    seal["keepers"].remove(member_id)
    ctx.state.put("seal/" + seal_id, seal)
    ctx.emit("keeper_removed", {"seal": seal_id, "member": member_id})
    return seal


def revoke_seal(ctx, seal_id, reason):
    seal = _own_seal(ctx, seal_id)
    ctx.require(
        isinstance(reason, str) and 0 < len(reason) <= MAX_TEXT, "reason: 1..256 characters"
    )
    seal["status"] = "revoked"
    seal["revoked"] = {"reason": reason, "height": ctx.block.height, "time": ctx.block.time}
    ctx.state.put("seal/" + seal_id, seal)
    ctx.emit("seal_revoked", {"seal": seal_id, "reason": reason})
    return seal


def seal_document(ctx, seal_id, document_digest):
    seal = get_seal(ctx, seal_id)
    ctx.require(seal["status"] == "active", "seal " + seal_id + " is revoked")
    ctx.require(ctx.sender.org == seal["org"], "the seal belongs to " + seal["org"])
    ctx.require(
        ctx.sender.role == "admin" or ctx.sender.id in seal["keepers"],
        "only a keeper of the seal or an admin of " + seal["org"] + " may apply it",
    )
    _check_digest(ctx, document_digest, "document_digest")
    doc_key = "document/" + document_digest
    n = ctx.state.get(doc_key, 0)
    sealing = {
        "n": n,
        "document": document_digest,
        "seal": seal_id,
        "org": seal["org"],
        "image": seal["image"],
        "sealer": ctx.sender.id,
        "height": ctx.block.height,
        "time": ctx.block.time,
        "tx": ctx.tx.id,
    }
    ctx.state.put("sealing/" + document_digest + "/" + str(n), sealing)
    ctx.state.put(doc_key, n + 1)
    seal["uses"] = seal["uses"] + 1
    ctx.state.put("seal/" + seal_id, seal)
    ctx.emit("sealed", {"document": document_digest, "seal": seal_id, "org": seal["org"], "n": n})
    return sealing


def get_seal(ctx, seal_id):
    seal = ctx.state.get("seal/" + str(seal_id))
    ctx.require(seal is not None, "no seal " + str(seal_id))
    return seal


def sealings(ctx, document_digest, start, limit):
    """The sealings of a document from number start, each with its seal's current status."""
    _check_digest(ctx, document_digest, "document_digest")
    ctx.require(isinstance(start, int) and start >= 0, "start must be an int >= 0")
    ctx.require(isinstance(limit, int) and 0 < limit <= MAX_PAGE, "limit must be 1..64")
    count = ctx.state.get("document/" + document_digest, 0)
    out = []
    for n in range(start, min(count, start + limit)):
        sealing = ctx.state.get("sealing/" + document_digest + "/" + str(n))
        sealing["seal_status"] = ctx.state.get("seal/" + sealing["seal"])["status"]
        out.append(sealing)
    return out


def _own_seal(ctx, seal_id):
    _require_admin(ctx)
    seal = get_seal(ctx, seal_id)
    ctx.require(seal["org"] == ctx.sender.org, "the seal belongs to " + seal["org"])
    return seal


def _require_admin(ctx):
    ctx.require(ctx.sender.role == "admin", "only an organisation admin may manage seals")


def _check_digest(ctx, value, what):
    ctx.require(
        isinstance(value, str) and len(value) == 64 and value.strip(HEX_DIGITS) == "",
        what + " must be 64 lowercase hex characters",
    )
