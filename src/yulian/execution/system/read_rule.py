"""Introduction: whether an identity may read a private version now — one pure function.

``decide_read`` is the rule of decision 0076, evaluated by ``access.read`` (which then writes
the access record) and ``access.check`` (the API's pre-check, which writes nothing), so the
pre-check and the transaction can never disagree on the same state. It reads nothing but its
arguments; each refusal names the first rule that fails, in this order:

1. the collection exists; 2. the reader's organisation is a member (only members' nodes may
hold the value, so only their identities may receive it); 3. the reader is among the
collection's readers; 4. the key exists; 5. its current version is not purged; 6. the
purpose is a name; 7. consent — not needed if the collection asks none (basis ``member``) or
the reader's organisation wrote the version (``owner``); otherwise a grant in force that
covers the version, names the purpose and matches the reader (``grant``; the lowest id wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yulian.execution.system.private_records import Who, who_text
from yulian.types.access import BASIS_GRANT, BASIS_MEMBER, BASIS_OWNER
from yulian.types.privacy import (
    MAX_NAME,
    CollectionDef,
    Grant,
    PrivateRecord,
    audience_matches,
    audience_text,
)


class ReadRefused(ValueError):
    """A read the rules refuse; the message says why."""


@dataclass(frozen=True)
class ReadDecision:
    basis: str
    grant: Grant | None = None


def decide_read(
    definition: CollectionDef | None,
    collection: str,
    key: str,
    record: PrivateRecord | None,
    who: Who,
    purpose: str,
    grants: Sequence[Grant],
    *,
    height: int,
    time_ms: int,
) -> ReadDecision:
    if definition is None:
        raise ReadRefused(f"no collection named {collection!r}")
    if not who.org or who.org not in definition.members:
        raise ReadRefused(
            f"organisation {who.org or '(anonymous)'!r} is not a member of collection "
            f"{collection!r} (members: {', '.join(definition.members)})"
        )
    if not audience_matches(definition.readers, who.org, who.role, who.attributes):
        raise ReadRefused(
            f"{who_text(who)} is not among the readers of {collection!r} "
            f"({' '.join(audience_text(definition.readers))})"
        )
    if record is None:
        raise ReadRefused(f"no private key {key!r} in collection {collection!r}")
    if record.purged(height):
        at = record.purged_at or record.purge_at
        raise ReadRefused(
            f"version {record.version} of {collection}/{key} was purged at height {at}"
        )
    if (
        not isinstance(purpose, str)
        or not purpose
        or len(purpose.encode("utf-8")) > MAX_NAME
        or not purpose.isprintable()
    ):
        raise ReadRefused(f"a purpose is a printable name of 1..{MAX_NAME} bytes")
    if not definition.consent:
        return ReadDecision(BASIS_MEMBER)
    if who.org == record.owner:
        return ReadDecision(BASIS_OWNER)
    relevant = sorted(
        (
            g
            for g in grants
            if g.covers(record)
            and g.grantee.matches(who.org, who.role, who.attributes)
            and purpose in g.purposes
        ),
        key=lambda g: g.id,
    )
    for grant in relevant:
        if grant.in_force(time_ms):
            return ReadDecision(BASIS_GRANT, grant)
    if relevant:
        last = relevant[-1]
        if last.revoked_at:
            raise ReadRefused(
                f"consent grant {last.id} for {collection}/{key} was revoked at height "
                f"{last.revoked_at}"
            )
        raise ReadRefused(
            f"consent grant {last.id} for {collection}/{key} expired at {last.until_ms} ms"
        )
    raise ReadRefused(
        f"no consent in force lets {who_text(who)} read {collection}/{key} for {purpose!r}"
    )
