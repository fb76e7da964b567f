"""Introduction: the ``collections`` system contract — private data collections by vote.

Organisation admins propose and approve (policy scope ``privacy``, default: a majority of
the organisations):

=========  ===============================================  =============================
kind       args                                             effect
=========  ===============================================  =============================
define     definition (``CollectionDef`` value)             a new collection
amend      definition                                       changes one (members too)
purge      collection, key                                  every version's value deleted
=========  ===============================================  =============================

``put(collection, key, digest, size, subject)`` records a new version of a private key —
only its salted digest — for a writer of the collection (``private_records.write_version``,
the same rules as ``ctx.private.put``). The value itself goes to member nodes beside the tx
(decision 0075). Reads: ``collection``, ``collections``, and, for members of a collection
and its auditors, ``record``, ``records`` (who holds what: every member organisation holds
every current, unpurged version). None of them ever returns a value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from yulian.execution.system.base import Call, SystemRevert
from yulian.execution.system.consortium import VotingContract
from yulian.execution.system.private_records import (
    COLLECTIONS_CONTRACT,
    LOG_DEFINE,
    LOG_PURGE,
    PrivateWriteRefused,
    Who,
    Write,
    append_log,
    definition_key,
    key_at,
    key_count,
    page,
    read_definition,
    read_names,
    read_record,
    record_key,
    who_text,
    write_version,
)
from yulian.execution.system.proposals import APPLIED, FAILED, ProposalBook, ProposalRecord
from yulian.types.consortium import ConsortiumConfig, policy_met
from yulian.types.encoding import DecodeError, Value, encode
from yulian.types.privacy import CollectionDef, audience_matches

PRIVACY_SCOPE = "privacy"
MAX_COLLECTIONS = 256
KINDS = ("define", "amend", "purge")


class CollectionsContract(VotingContract):
    name = COLLECTIONS_CONTRACT
    methods: ClassVar[dict[str, bool]] = {
        "propose": True,
        "approve": True,
        "put": True,
        "proposal": False,
        "proposals": False,
        "collection": False,
        "collections": False,
        "record": False,
        "records": False,
    }

    # --- governance ------------------------------------------------------------------------
    def m_propose(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 2 or not isinstance(args[1], list | tuple):
            raise SystemRevert("propose takes (kind, args)")
        kind, kind_args = args[0], tuple(args[1])
        if kind not in KINDS:
            raise SystemRevert(f"unknown proposal kind {kind!r}; known: {', '.join(KINDS)}")
        call.require_admin()
        config = self._member_config(call)
        self._check(call, config, kind, kind_args)  # refuse now what would fail later
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
            self._apply(call, config, record.kind, record.args)
        except SystemRevert as e:
            book.decide(call, record, FAILED, str(e))
        else:
            book.decide(call, record, APPLIED)
        return book.get(record.id).view(call.block.height)

    def _check(
        self, call: Call, config: ConsortiumConfig, kind: str, args: tuple[Any, ...]
    ) -> CollectionDef | tuple[str, str]:
        if kind in ("define", "amend"):
            if len(args) != 1:
                raise SystemRevert(f"{kind} takes (definition)")
            try:
                definition = CollectionDef.from_value(_canonical(args[0]))
            except (DecodeError, TypeError, ValueError) as e:
                raise SystemRevert(f"invalid collection definition: {e}") from None
            orgs = set(config.org_names())
            for what, names in (
                ("member", definition.members),
                ("subject issuer", definition.subject_issuers),
            ):
                unknown = sorted(set(names) - orgs)
                if unknown:
                    raise SystemRevert(f"{what} {unknown[0]!r} is not in the consortium")
            exists = read_definition(call.view, definition.name) is not None
            if kind == "define" and exists:
                raise SystemRevert(f"collection {definition.name!r} is already defined")
            if kind == "amend" and not exists:
                raise SystemRevert(f"no collection named {definition.name!r} to amend")
            if kind == "define" and len(read_names(call.view)) >= MAX_COLLECTIONS:
                raise SystemRevert(f"at most {MAX_COLLECTIONS} collections")
            return definition
        if len(args) != 2 or not all(isinstance(a, str) for a in args):
            raise SystemRevert("purge takes (collection, key)")
        collection, key = args
        if read_definition(call.view, collection) is None:
            raise SystemRevert(f"no collection named {collection!r}")
        if read_record(call.view, collection, key) is None:
            raise SystemRevert(f"no private key {key!r} in collection {collection!r}")
        return collection, key

    def _apply(
        self, call: Call, config: ConsortiumConfig, kind: str, args: tuple[Any, ...]
    ) -> None:
        checked = self._check(call, config, kind, args)
        height = call.block.height
        if isinstance(checked, CollectionDef):
            call.state.put(definition_key(checked.name), checked.encode())
            names = read_names(call.view)
            if checked.name not in names:
                call.state.put("names", encode(tuple(sorted([*names, checked.name]))))
            _log(call, (LOG_DEFINE, checked.name))
            call.emit(kind + "d" if kind == "define" else "amended", checked.view())
            return
        collection, key = checked
        record = read_record(call.view, collection, key)
        assert record is not None
        if not record.purged_at:
            call.state.put(record_key(collection, key), replace(record, purged_at=height).encode())
        _log(call, (LOG_PURGE, collection, key))
        call.emit("purged", {"collection": collection, "key": key, "version": record.version})

    # --- writes -------------------------------------------------------------------------------
    def m_put(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) not in (4, 5):
            raise SystemRevert("put takes (collection, key, digest, size[, subject])")
        write = Write(*args)
        try:
            record = write_version(
                call.state,
                call.view,
                write,
                call.sender,
                height=call.block.height,
                tx_id=bytes.fromhex(call.tx.id),
                via="",
            )
        except PrivateWriteRefused as e:
            raise SystemRevert(str(e)) from None
        view = record.view(call.block.height)
        call.emit("stored", view)
        return view

    # --- reads ----------------------------------------------------------------------------------
    def m_collection(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1 or not isinstance(args[0], str):
            raise SystemRevert("collection takes (name)")
        definition = read_definition(call.view, args[0])
        if definition is None:
            raise SystemRevert(f"no collection named {args[0]!r}")
        return {**definition.view(), "keys": key_count(call.view, definition.name)}

    def m_collections(self, call: Call, args: tuple[Any, ...]) -> Value:
        out = []
        for name in read_names(call.view):
            definition = read_definition(call.view, name)
            if definition is not None:
                out.append({**definition.view(), "keys": key_count(call.view, name)})
        return out

    def m_record(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 2 or not all(isinstance(a, str) for a in args):
            raise SystemRevert("record takes (collection, key)")
        definition = self._visible(call, args[0])
        record = read_record(call.view, definition.name, args[1])
        if record is None:
            raise SystemRevert(f"no private key {args[1]!r} in collection {args[0]!r}")
        return {**record.view(call.block.height), "holders": _holders(definition, record, call)}

    def m_records(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 3 or not isinstance(args[0], str):
            raise SystemRevert("records takes (collection, start, limit)")
        definition = self._visible(call, args[0])
        start, limit = page(args[1], args[2])
        total = key_count(call.view, definition.name)
        items = []
        for n in range(start, min(total, start + limit)):
            key = key_at(call.view, definition.name, n)
            record = read_record(call.view, definition.name, key) if key is not None else None
            if record is not None:
                items.append(
                    {
                        **record.view(call.block.height),
                        "holders": _holders(definition, record, call),
                    }
                )
        return {"total": total, "start": start, "items": items}

    def _visible(self, call: Call, name: str) -> CollectionDef:
        """The definition, if the caller may see its records: a member identity or an auditor."""
        definition = read_definition(call.view, name)
        if definition is None:
            raise SystemRevert(f"no collection named {name!r}")
        if not can_see_records(definition, call.sender):
            raise SystemRevert(
                f"{who_text(call.sender)} may not see the records of {name!r}: only its members "
                "and auditors"
            )
        return definition


def can_see_records(definition: CollectionDef, who: Who) -> bool:
    if not who.org:
        return False
    if who.org in definition.members:
        return True
    return audience_matches(definition.auditors, who.org, who.role, who.attributes)


def _holders(definition: CollectionDef, record: Any, call: Call) -> list[str]:
    """The organisations whose nodes hold the value: the members, unless it is purged."""
    return [] if record.purged(call.block.height) else list(definition.members)


def _log(call: Call, entry: tuple[Value, ...]) -> None:
    try:
        append_log(call.state, call.view, call.block.height, entry)
    except PrivateWriteRefused as e:
        raise SystemRevert(str(e)) from None


def _canonical(value: Any) -> Any:
    """A definition's value as it was encoded (lists as tuples)."""
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    return value
