"""Introduction: the ``access`` system contract — the audit trail of reads, and read policies.

``read(collection, key, purpose)`` is how anyone reads private data (decision 0076): the
rule of ``read_rule.decide_read`` at this height, then an ``AccessRecord`` — who, what, when,
purpose and the consent relied on — and the event ``read``. A refused read reverts and writes
nothing. ``check`` evaluates the same rule without writing (the API's pre-check).

The trail: ``rec/<id>`` and per-collection (``trail/<coll>/<n>``), per-subject
(``subject/<coll>/<subject>/<n>``) and per-reader (``reader/<id>/<n>``) listings. Who may
list what: a collection's auditors its whole trail; a subject the reads of their records; a
reader their own reads; ``record(id)`` those and the writer organisation's admins.

Read policies (decision 0079), changed by proposals under the scope ``privacy``:
``read_policy(contract, policy)`` and ``default_policy(policy)``; ``policy(contract)`` and
``policies()`` answer everyone. The privacy contracts' own policies are built in, and so is
the governance contracts' (``consortium``, ``lifecycle``: public, like ``GET /v1/consortium``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from yulian.execution.overlay import StateView, state_key
from yulian.execution.system.base import Call, SystemRevert
from yulian.execution.system.collections import PRIVACY_SCOPE
from yulian.execution.system.consent import grants_for
from yulian.execution.system.consortium import CONSORTIUM_CONTRACT, VotingContract
from yulian.execution.system.lifecycle import LIFECYCLE_CONTRACT, NAME_PATTERN
from yulian.execution.system.private_records import (
    ACCESS_CONTRACT,
    COLLECTIONS_CONTRACT,
    CONSENT_CONTRACT,
    Who,
    append_listing,
    listing,
    read_definition,
    read_record,
    who_text,
)
from yulian.execution.system.proposals import APPLIED, FAILED, ProposalBook, ProposalRecord
from yulian.execution.system.read_rule import ReadDecision, ReadRefused, decide_read
from yulian.types.access import (
    POLICY_MEMBERS,
    POLICY_NONE,
    POLICY_PUBLIC,
    AccessRecord,
    ReadPolicy,
)
from yulian.types.consortium import ConsortiumConfig, policy_met
from yulian.types.encoding import Value, decode, encode
from yulian.types.privacy import (
    ANY,
    CollectionDef,
    PrivacyValueError,
    PrivateRecord,
    audience_matches,
)

DELIVERY_WINDOW_BLOCKS = 20
BUILT_IN_POLICIES = {
    # governance is public: the configuration is served by GET /v1/consortium (what outsiders
    # verify proofs with) and the proposals are txs in public blocks; closing these contracts
    # would hide nothing and only break the governance tools, which read them anonymously
    CONSORTIUM_CONTRACT: ReadPolicy(POLICY_PUBLIC),
    LIFECYCLE_CONTRACT: ReadPolicy(POLICY_PUBLIC),
    ACCESS_CONTRACT: ReadPolicy(POLICY_NONE),
    CONSENT_CONTRACT: ReadPolicy(POLICY_NONE),
    COLLECTIONS_CONTRACT: ReadPolicy(POLICY_MEMBERS),
}
DEFAULT_READ_POLICY = ReadPolicy(POLICY_PUBLIC)
KINDS = ("read_policy", "default_policy")


def record_key(access_id: int) -> str:
    return f"rec/{access_id:012d}"


def read_access(view: StateView, access_id: int) -> AccessRecord | None:
    data = view.get(state_key(ACCESS_CONTRACT, record_key(access_id)))
    return AccessRecord.decode(data) if data is not None else None


def read_policy(view: StateView, contract: str) -> ReadPolicy:
    """The read policy in force for ``contract`` (built in, its own, or the default)."""
    built_in = BUILT_IN_POLICIES.get(contract)
    if built_in is not None:
        return built_in
    data = view.get(state_key(ACCESS_CONTRACT, f"policy/{contract}"))
    if data is None:
        data = view.get(state_key(ACCESS_CONTRACT, "default_policy"))
    return ReadPolicy.decode(data) if data is not None else DEFAULT_READ_POLICY


def decide(call: Call, args: tuple[Any, ...]) -> tuple[ReadDecision, CollectionDef, PrivateRecord]:
    """The read rule for ``(collection, key, purpose)`` by the caller, at this height."""
    if len(args) != 3 or not all(isinstance(a, str) for a in args):
        raise SystemRevert("takes (collection, key, purpose)")
    collection, key, purpose = args
    definition = read_definition(call.view, collection)
    record = read_record(call.view, collection, key) if definition is not None else None
    grants = grants_for(call.view, record) if record is not None else []
    try:
        decision = decide_read(
            definition,
            collection,
            key,
            record,
            call.sender,
            purpose,
            grants,
            height=call.block.height,
            time_ms=call.block.time_ms,
        )
    except ReadRefused as e:
        raise SystemRevert(f"read refused: {e}") from None
    assert definition is not None and record is not None
    return decision, definition, record


class AccessContract(VotingContract):
    name = ACCESS_CONTRACT
    methods: ClassVar[dict[str, bool]] = {
        "read": True,
        "propose": True,
        "approve": True,
        "check": False,
        "record": False,
        "trail": False,
        "subject_trail": False,
        "my_reads": False,
        "policy": False,
        "policies": False,
        "proposal": False,
        "proposals": False,
    }

    # --- reads of private data ---------------------------------------------------------------
    def m_check(self, call: Call, args: tuple[Any, ...]) -> Value:
        decision, _, record = decide(call, args)
        return {
            "allowed": True,
            "basis": decision.basis,
            "grant_id": decision.grant.id if decision.grant is not None else 0,
            "version": record.version,
            "digest": record.digest.hex(),
            "owner": record.owner,
            "subject": record.subject,
        }

    def m_read(self, call: Call, args: tuple[Any, ...]) -> Value:
        decision, _, record = decide(call, args)
        sender = call.sender
        data = call.state.get("next")
        access_id = int(decode(data)) if data is not None else 1
        access = AccessRecord(
            id=access_id,
            height=call.block.height,
            time_ms=call.block.time_ms,
            tx=bytes.fromhex(call.tx.id),
            reader=sender.id,
            reader_org=sender.org,
            reader_role=sender.role,
            reader_attributes=tuple(sorted(sender.attributes.items())),
            collection=record.collection,
            key=record.key,
            version=record.version,
            digest=record.digest,
            subject=record.subject,
            owner=record.owner,
            purpose=args[2],
            basis=decision.basis,
            grant_id=decision.grant.id if decision.grant is not None else 0,
            valid_until=call.block.height + DELIVERY_WINDOW_BLOCKS,
        )
        call.state.put("next", encode(access_id + 1))
        call.state.put(record_key(access_id), access.encode())
        append_listing(call.state, f"trail/{record.collection}", access_id)
        if record.subject:
            append_listing(call.state, f"subject/{record.collection}/{record.subject}", access_id)
        append_listing(call.state, f"reader/{sender.id}", access_id)
        view = access.view()
        call.emit("read", view)
        return view

    # --- the trail ------------------------------------------------------------------------------
    def m_record(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or type(args[0]) is not int:
            raise SystemRevert("record takes (access_id)")
        access = read_access(call.view, args[0])
        if access is None:
            raise SystemRevert(f"no access record {args[0]}")
        definition = read_definition(call.view, access.collection)
        who = call.sender
        if definition is None or not (
            who.id == access.reader
            or _auditor(definition, who)
            or definition.is_subject(who.org, who.attributes, access.subject)
            or (who.role == "admin" and who.org == access.owner)
        ):
            raise SystemRevert(f"{who_text(who)} may not see access record {access.id}")
        return access.view()

    def m_trail(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 3 or not isinstance(args[0], str):
            raise SystemRevert("trail takes (collection, start, limit)")
        definition = _definition(call, args[0])
        if not _auditor(definition, call.sender):
            raise SystemRevert(
                f"{who_text(call.sender)} is not an auditor of {definition.name!r}; subjects see "
                "the reads of their records with subject_trail, readers their own with my_reads"
            )
        return _listing(call, f"trail/{definition.name}", args[1], args[2])

    def m_subject_trail(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 4 or not isinstance(args[0], str) or not isinstance(args[1], str):
            raise SystemRevert("subject_trail takes (collection, subject, start, limit)")
        definition = _definition(call, args[0])
        who = call.sender
        if not (
            definition.is_subject(who.org, who.attributes, args[1]) or _auditor(definition, who)
        ):
            raise SystemRevert(
                f"{who_text(who)} is neither the subject {args[1]!r} nor an auditor of "
                f"{definition.name!r}"
            )
        return _listing(call, f"subject/{definition.name}/{args[1]}", args[2], args[3])

    def m_my_reads(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 2:
            raise SystemRevert("my_reads takes (start, limit)")
        if not call.sender.org:
            raise SystemRevert("an anonymous caller has no reads")
        return _listing(call, f"reader/{call.sender.id}", args[0], args[1])

    # --- read policies --------------------------------------------------------------------------
    def m_policy(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or not isinstance(args[0], str):
            raise SystemRevert("policy takes (contract)")
        policy = read_policy(call.view, args[0])
        return {"contract": args[0], "policy": policy.text()}

    def m_policies(self, call: Call, args: tuple[Any, ...]) -> Value:
        data = call.state.get("policy_names")
        names = [str(n) for n in decode(data)] if data is not None else []
        return {
            "default": read_policy(call.view, "").text(),
            "built_in": {name: p.text() for name, p in sorted(BUILT_IN_POLICIES.items())},
            "contracts": {name: read_policy(call.view, name).text() for name in names},
        }

    def m_propose(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 2 or not isinstance(args[1], list | tuple):
            raise SystemRevert("propose takes (kind, args)")
        kind, kind_args = args[0], tuple(args[1])
        if kind not in KINDS:
            raise SystemRevert(f"unknown proposal kind {kind!r}; known: {', '.join(KINDS)}")
        call.require_admin()
        config = self._member_config(call)
        _policy_change(kind, kind_args, config)  # refuse now what would fail later
        book = ProposalBook(call.state)
        record = book.create(
            call,
            scope=PRIVACY_SCOPE,
            kind=kind,
            args=kind_args,
            ttl_blocks=config.params.proposal_ttl_blocks,
        )
        return self._decide(call, book, record, config)

    def _decide(
        self, call: Call, book: ProposalBook, record: ProposalRecord, config: ConsortiumConfig
    ) -> Value:
        if not policy_met(config.policy(PRIVACY_SCOPE), record.approvals, config.org_names()):
            return record.view(call.block.height)
        try:
            contract, policy = _policy_change(record.kind, record.args, config)
        except SystemRevert as e:
            book.decide(call, record, FAILED, str(e))
            return book.get(record.id).view(call.block.height)
        if contract is None:
            call.state.put("default_policy", policy.encode())
        else:
            call.state.put(f"policy/{contract}", policy.encode())
            data = call.state.get("policy_names")
            names = [str(n) for n in decode(data)] if data is not None else []
            if contract not in names:
                call.state.put("policy_names", encode(tuple(sorted([*names, contract]))))
        book.decide(call, record, APPLIED)
        call.emit("policy", {"contract": contract or "*", "policy": policy.text()})
        return book.get(record.id).view(call.block.height)


def _policy_change(
    kind: str, args: tuple[Any, ...], config: ConsortiumConfig
) -> tuple[str | None, ReadPolicy]:
    contract: str | None = None
    try:
        if kind == "default_policy":
            if len(args) != 1 or not isinstance(args[0], str):
                raise SystemRevert("default_policy takes (policy)")
            policy = ReadPolicy.parse(args[0])
        else:
            if len(args) != 2 or not all(isinstance(a, str) for a in args):
                raise SystemRevert("read_policy takes (contract, policy)")
            contract = args[0]
            if contract in BUILT_IN_POLICIES:
                raise SystemRevert(f"the read policy of {contract!r} is built in")
            if not NAME_PATTERN.fullmatch(contract):
                raise SystemRevert(f"{contract!r} is not a contract name")
            policy = ReadPolicy.parse(args[1])
    except PrivacyValueError as e:
        raise SystemRevert(f"invalid read policy: {e}") from None
    for clause in policy.audience:
        if clause.org != ANY and clause.org not in config.org_names():
            raise SystemRevert(f"invalid read policy: {clause.org!r} is not in the consortium")
    return contract, policy


def _auditor(definition: CollectionDef, who: Who) -> bool:
    return bool(who.org) and audience_matches(
        definition.auditors, who.org, who.role, who.attributes
    )


def _definition(call: Call, name: str) -> CollectionDef:
    definition = read_definition(call.view, name)
    if definition is None:
        raise SystemRevert(f"no collection named {name!r}")
    return definition


def _listing(call: Call, prefix: str, start: Any, limit: Any) -> Value:
    total, first, ids = listing(call.state, prefix, start, limit)
    records = [read_access(call.view, i) for i in ids]
    return {"total": total, "start": first, "items": [r.view() for r in records if r is not None]}
