"""Introduction: the ``consent`` system contract — grants and revocations on chain (decision 0077).

``grant(collection, subject, key, grantee, purposes, until_ms)``: a data subject (or the
writer organisation's admin) lets an audience clause read named data for named purposes until
a block time; ``revoke(id)`` ends it from the tx that commits the revocation. Who may grant:

- ``key`` given: one record — its subject, or an admin of the organisation that wrote it;
- ``subject`` given, no key: every record of that subject — the subject only;
- neither: every record the sender's organisation wrote in the collection — its admin.

State: ``grant/<id>`` (every grant ever made, revoked ones keep ``revoked_at``),
``index/<collection>/<scope>/<value>`` (the grant ids a read looks at, at most
``MAX_INDEXED``; grants no longer in force make room), ``list/<collection>/<n>`` and
``subject/<collection>/<subject>/<n>`` (listings, with their counts). The raw state is not
served by the API (decision 0079); the query methods answer only the subject, the grantor's
organisation, a grantee and the collection's auditors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from yulian.execution.overlay import StateView, state_key
from yulian.execution.system.base import Call, SystemContract, SystemRevert
from yulian.execution.system.private_records import (
    CONSENT_CONTRACT,
    PrivateWriteRefused,
    Who,
    append_listing,
    check_private_key,
    grant_key,
    listing,
    read_definition,
    read_grant,
    read_record,
    who_text,
)
from yulian.types.encoding import DecodeError, Value, decode, encode
from yulian.types.privacy import (
    ANY,
    SCOPE_KEY,
    SCOPE_OWNER,
    SCOPE_SUBJECT,
    Clause,
    CollectionDef,
    Grant,
    PrivacyValueError,
    PrivateRecord,
    audience_matches,
    purposes_from_value,
)

MAX_INDEXED = 64


def index_keys(record: PrivateRecord) -> list[str]:
    """The index keys under which grants that may cover ``record`` are found."""
    keys = [f"index/{record.collection}/{SCOPE_KEY}/{record.key}"]
    if record.subject:
        keys.append(f"index/{record.collection}/{SCOPE_SUBJECT}/{record.subject}")
    keys.append(f"index/{record.collection}/{SCOPE_OWNER}/{record.owner}")
    return keys


def grants_for(view: StateView, record: PrivateRecord) -> list[Grant]:
    """Every indexed grant that may cover ``record`` (in force or not; the rule decides)."""
    out = []
    for key in index_keys(record):
        data = view.get(state_key(CONSENT_CONTRACT, key))
        for grant_id in decode(data) if data is not None else ():
            grant = read_grant(view, int(grant_id))
            if grant is not None:
                out.append(grant)
    return out


class ConsentContract(SystemContract):
    name = CONSENT_CONTRACT
    methods: ClassVar[dict[str, bool]] = {
        "grant": True,
        "revoke": True,
        "get": False,
        "grants": False,
        "subject_grants": False,
    }

    def m_grant(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 6:
            raise SystemRevert(
                "grant takes (collection, subject, key, grantee, purposes, until_ms)"
            )
        collection, subject, key, grantee_text, purposes, until_ms = args
        definition = _definition(call, collection)
        if not definition.consent:
            raise SystemRevert(f"collection {collection!r} asks no consent; nothing to grant")
        try:
            grantee = Clause.parse(grantee_text)
            purposes = purposes_from_value(tuple(purposes), "purposes")
        except (PrivacyValueError, DecodeError, TypeError) as e:
            raise SystemRevert(f"invalid grant: {e}") from None
        if grantee.org != ANY and grantee.org not in definition.members:
            raise SystemRevert(
                f"organisation {grantee.org!r} is not a member of collection {collection!r}; "
                "its nodes may not hold the data"
            )
        if type(until_ms) is not int or until_ms < 0:
            raise SystemRevert("until_ms is a block time in ms (0: until revoked)")
        if until_ms and until_ms <= call.block.time_ms:
            raise SystemRevert(f"until_ms {until_ms} is not after this block's time")
        if not isinstance(subject, str) or not isinstance(key, str):
            raise SystemRevert("subject and key are strings ('' for none)")
        scope, owner, subject = self._scope(call, definition, subject, key)
        data = call.state.get("next")
        grant_id = int(decode(data)) if data is not None else 1
        grant = Grant(
            id=grant_id,
            scope=scope,
            collection=definition.name,
            subject=subject,
            key=key,
            owner=owner,
            grantee=grantee,
            purposes=purposes,
            grantor=call.sender.id,
            grantor_org=call.sender.org,
            granted_at=call.block.height,
            until_ms=until_ms,
        )
        index = {SCOPE_KEY: key, SCOPE_SUBJECT: subject, SCOPE_OWNER: owner}[scope]
        self._index(call, f"index/{definition.name}/{scope}/{index}", grant_id)
        call.state.put("next", encode(grant_id + 1))
        call.state.put(grant_key(grant_id), grant.encode())
        append_listing(call.state, f"list/{definition.name}", grant_id)
        if subject:
            append_listing(call.state, f"subject/{definition.name}/{subject}", grant_id)
        view = grant.view(call.block.time_ms)
        call.emit("granted", view)
        return view

    def _scope(
        self, call: Call, definition: CollectionDef, subject: str, key: str
    ) -> tuple[str, str, str]:
        """``(scope, owner, subject)`` of a grant, once the sender may make it."""
        sender = call.sender
        if key:
            try:
                check_private_key(key)
            except PrivateWriteRefused as e:
                raise SystemRevert(str(e)) from None
            record = read_record(call.view, definition.name, key)
            if record is None:
                raise SystemRevert(f"no private key {key!r} in collection {definition.name!r}")
            if subject and subject != record.subject:
                raise SystemRevert(f"{definition.name}/{key} is about another subject")
            if not (
                definition.is_subject(sender.org, sender.attributes, record.subject)
                or (sender.role == "admin" and sender.org == record.owner)
            ):
                raise SystemRevert(
                    f"{who_text(sender)} may not grant access to {definition.name}/{key}: only "
                    f"its subject or an admin of {record.owner!r}"
                )
            return SCOPE_KEY, record.owner, record.subject
        if subject:
            if not definition.is_subject(sender.org, sender.attributes, subject):
                raise SystemRevert(
                    f"{who_text(sender)} is not the subject {subject!r} of {definition.name!r} "
                    f"(certified by {', '.join(definition.subject_issuers) or 'no organisation'})"
                )
            return SCOPE_SUBJECT, "", subject
        if sender.role != "admin" or sender.org not in definition.members:
            raise SystemRevert(
                f"only an admin of a member organisation grants access to what it wrote in "
                f"{definition.name!r}; the sender is {who_text(sender)}"
            )
        return SCOPE_OWNER, sender.org, ""

    def _index(self, call: Call, key: str, grant_id: int) -> None:
        data = call.state.get(key)
        ids = [int(i) for i in decode(data)] if data is not None else []
        if len(ids) >= MAX_INDEXED:
            kept = []
            for i in ids:
                g = read_grant(call.view, i)
                if g is not None and g.in_force(call.block.time_ms):
                    kept.append(i)
            ids = kept
        if len(ids) >= MAX_INDEXED:
            raise SystemRevert(f"{MAX_INDEXED} grants in force already cover this; revoke some")
        call.state.put(key, encode(tuple([*ids, grant_id])))

    def m_revoke(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or type(args[0]) is not int:
            raise SystemRevert("revoke takes (grant_id)")
        grant = read_grant(call.view, args[0])
        if grant is None:
            raise SystemRevert(f"no grant {args[0]}")
        if grant.revoked_at:
            raise SystemRevert(f"grant {grant.id} was revoked at height {grant.revoked_at}")
        definition = _definition(call, grant.collection)
        sender = call.sender
        if not (
            sender.id == grant.grantor
            or (
                grant.subject
                and definition.is_subject(sender.org, sender.attributes, grant.subject)
            )
            or (sender.role == "admin" and sender.org == grant.grantor_org)
        ):
            raise SystemRevert(
                f"{who_text(sender)} may not revoke grant {grant.id}: only its grantor, its "
                f"subject or an admin of {grant.grantor_org!r}"
            )
        revoked = replace(grant, revoked_at=call.block.height)
        call.state.put(grant_key(grant.id), revoked.encode())
        view = revoked.view(call.block.time_ms)
        call.emit("revoked", view)
        return view

    # --- reads --------------------------------------------------------------------------------
    def m_get(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or type(args[0]) is not int:
            raise SystemRevert("get takes (grant_id)")
        grant = read_grant(call.view, args[0])
        if grant is None:
            raise SystemRevert(f"no grant {args[0]}")
        definition = _definition(call, grant.collection)
        if not _may_see(definition, grant, call.sender):
            raise SystemRevert(f"{who_text(call.sender)} may not see grant {grant.id}")
        return grant.view(call.block.time_ms)

    def m_grants(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 3 or not isinstance(args[0], str):
            raise SystemRevert("grants takes (collection, start, limit)")
        definition = _definition(call, args[0])
        sender = call.sender
        if not audience_matches(definition.auditors, sender.org, sender.role, sender.attributes):
            raise SystemRevert(
                f"{who_text(sender)} is not an auditor of {definition.name!r}; subjects list "
                "their own grants with subject_grants"
            )
        return _listing(call, f"list/{definition.name}", args[1], args[2])

    def m_subject_grants(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 4 or not isinstance(args[0], str) or not isinstance(args[1], str):
            raise SystemRevert("subject_grants takes (collection, subject, start, limit)")
        definition = _definition(call, args[0])
        sender = call.sender
        if not (
            definition.is_subject(sender.org, sender.attributes, args[1])
            or audience_matches(definition.auditors, sender.org, sender.role, sender.attributes)
        ):
            raise SystemRevert(
                f"{who_text(sender)} is neither the subject {args[1]!r} nor an auditor of "
                f"{definition.name!r}"
            )
        return _listing(call, f"subject/{definition.name}/{args[1]}", args[2], args[3])


def _may_see(definition: CollectionDef, grant: Grant, who: Who) -> bool:
    if not who.org:
        return False
    return (
        who.id == grant.grantor
        or who.org == grant.grantor_org
        or (bool(grant.subject) and definition.is_subject(who.org, who.attributes, grant.subject))
        or grant.grantee.matches(who.org, who.role, who.attributes)
        or audience_matches(definition.auditors, who.org, who.role, who.attributes)
    )


def _definition(call: Call, name: Any) -> CollectionDef:
    if not isinstance(name, str):
        raise SystemRevert("a collection name is a string")
    definition = read_definition(call.view, name)
    if definition is None:
        raise SystemRevert(f"no collection named {name!r}")
    return definition


def _listing(call: Call, prefix: str, start: Any, limit: Any) -> Value:
    total, first, ids = listing(call.state, prefix, start, limit)
    grants = [read_grant(call.view, i) for i in ids]
    return {
        "total": total,
        "start": first,
        "items": [g.view(call.block.time_ms) for g in grants if g is not None],
    }
