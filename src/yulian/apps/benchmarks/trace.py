# mypy: ignore-errors
"""trace (溯源): append an event to a product batch's history and read it back, for bench.

A batch is a key ``batch/<id>`` holding ``{"count": n, "recent": [...]}``: the number of events
so far and the newest ``KEEP`` of them (older ones stay in the key's version history, which the
ledger keeps for every write). ``append`` returns the updated record.
"""

KEEP = 16
MAX_BATCH_LEN = 64
MAX_EVENT_ENTRIES = 16


def append(ctx, batch, event):
    ctx.require(isinstance(batch, str) and 0 < len(batch) <= MAX_BATCH_LEN, "bad batch id")
    ctx.require(
        isinstance(event, dict) and len(event) <= MAX_EVENT_ENTRIES,
        "event must be a map of at most 16 entries",
    )
    key = "batch/" + batch
    record = ctx.state.get(key)
    if record is None:
        record = {"count": 0, "recent": []}
    entry = {"event": event, "height": ctx.block.height, "org": ctx.sender.org}
    recent = record["recent"]
    recent.append(entry)
    if len(recent) > KEEP:
        recent = recent[len(recent) - KEEP :]
    record = {"count": record["count"] + 1, "recent": recent}
    ctx.state.put(key, record)
    return record


def history(ctx, batch):
    record = ctx.state.get("batch/" + batch)
    ctx.require(record is not None, "no such batch")
    return record
