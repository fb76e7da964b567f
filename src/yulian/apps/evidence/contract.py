"""evidence (存证): register a document's digest once, look it up, transfer its ownership.

A record is keyed by the document's 32-byte digest (SHA-256 or SM3, lowercase hex). The
organisation of the registering client owns it; any member (client or admin) of the owning
organisation may transfer it to another organisation. A digest can be registered only once.
"""

HEX_DIGITS = "0123456789abcdef"
DIGEST_HEX_LEN = 64
MAX_TITLE_LEN = 256
MAX_METADATA_ENTRIES = 32
MAX_ORG_LEN = 64


def register(ctx, digest, title, metadata):
    _check_digest(ctx, digest)
    ctx.require(
        isinstance(title, str) and 0 < len(title) <= MAX_TITLE_LEN,
        "title must be 1..256 characters",
    )
    ctx.require(
        isinstance(metadata, dict) and len(metadata) <= MAX_METADATA_ENTRIES,
        "metadata must be a map of at most 32 entries",
    )
    key = "doc/" + digest
    ctx.require(not ctx.state.has(key), "digest already registered")
    record = {
        "digest": digest,
        "title": title,
        "metadata": metadata,
        "owner_org": ctx.sender.org,
        "registrant": ctx.sender.id,
        "registrant_org": ctx.sender.org,
        "height": ctx.block.height,
        "time": ctx.block.time,
        "tx": ctx.tx.id,
    }
    ctx.state.put(key, record)
    ctx.emit("registered", {"digest": digest, "owner_org": ctx.sender.org})
    return record


def lookup(ctx, digest):
    _check_digest(ctx, digest)
    record = ctx.state.get("doc/" + digest)
    ctx.require(record is not None, "digest not registered")
    return record


def transfer(ctx, digest, new_owner_org):
    _check_digest(ctx, digest)
    key = "doc/" + digest
    record = ctx.state.get(key)
    ctx.require(record is not None, "digest not registered")
    ctx.require(record["owner_org"] == ctx.sender.org, "only the owner organisation may transfer")
    ctx.require(
        isinstance(new_owner_org, str) and 0 < len(new_owner_org) <= MAX_ORG_LEN,
        "new_owner_org must be an organisation name",
    )
    ctx.require(new_owner_org != record["owner_org"], "already owned by that organisation")
    previous = record["owner_org"]
    record["owner_org"] = new_owner_org
    ctx.state.put(key, record)
    ctx.emit("transferred", {"digest": digest, "from": previous, "to": new_owner_org})
    return record


def _check_digest(ctx, digest):
    # strip(HEX_DIGITS) removes every hex digit, so only a pure hex string strips to ""
    ctx.require(
        isinstance(digest, str)
        and len(digest) == DIGEST_HEX_LEN
        and digest.strip(HEX_DIGITS) == "",
        "digest must be 64 lowercase hex characters",
    )
