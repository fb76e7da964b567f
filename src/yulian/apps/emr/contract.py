"""emr (电子病历流转): hospitals record patients' medical records; values stay private.

A record's value never reaches the chain: a doctor's client sends it to its hospital's node
with the tx, and ``ctx.private.put`` records its salted digest in the ``COLLECTION`` private
data collection, whose members are the hospitals and whose writers are doctors
(``role=doctor``). The patient is the record's data subject: reads by another hospital need the
patient's consent (``consent.grant``), and every read is an ``access.read`` on the trail.

This contract keeps the index a hospital needs — which records a patient has — and announces
each new version (``record_written``), never the value.
"""

COLLECTION = "hospitals"
MAX_ID = 64
MAX_KIND = 32
MAX_RECORDS_PER_PATIENT = 256
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def write(ctx, patient, record_id, digest, size, kind):
    _check_id(ctx, patient, "patient")
    _check_id(ctx, record_id, "record_id")
    ctx.require(isinstance(kind, str) and 0 < len(kind) <= MAX_KIND, "kind: 1..32 characters")
    ctx.require(ctx.sender.attributes.get("role") == "doctor", "only a doctor writes records")
    key = patient + "/" + record_id
    stored = ctx.private.put(COLLECTION, key, digest, size, patient)
    index = ctx.state.get("patient/" + patient, [])
    if key not in index:
        ctx.require(len(index) < MAX_RECORDS_PER_PATIENT, "the patient has the most records")
        index.append(key)
        ctx.state.put("patient/" + patient, index)
    ctx.state.put("kind/" + key, kind)
    ctx.emit(
        "record_written",
        {
            "patient": patient,
            "key": key,
            "kind": kind,
            "version": stored["version"],
            "hospital": ctx.sender.org,
        },
    )
    return stored


def records(ctx, patient):
    _check_id(ctx, patient, "patient")
    out = []
    for key in ctx.state.get("patient/" + patient, []):
        record = ctx.private.get(COLLECTION, key)
        if record is not None:
            record["kind"] = ctx.state.get("kind/" + key, "")
            out.append(record)
    return out


def _check_id(ctx, value, what):
    ctx.require(
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.strip(ID_CHARS) == "",
        what + ": 1..64 of letters, digits, - _ .",
    )
