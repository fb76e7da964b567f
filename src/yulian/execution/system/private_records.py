"""Introduction: private records in state — the one place that writes them (decision 0082).

The ``collections`` namespace holds, besides its proposals:

=========================  ============================================================
``def/<name>``             a ``CollectionDef``
``names``                  the defined collection names, sorted
``record/<coll>/<key>``    the current ``PrivateRecord`` of a key (its history: the versions)
``keycount/<coll>``        how many keys the collection has had ...
``key/<coll>/<n>``         ... and the n-th of them (n from 0, 12 digits), for listings
``log/<height>``           what the block did to private data, for the nodes (decision 0081)
=========================  ============================================================

``write_version`` serves both ``collections.put`` and ``ctx.private.put``, so both obey one
rule set. Readers take a ``StateView`` (the block's overlay or the ledger), so the ``access``
and ``consent`` contracts and the node read the same values. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from yulian.contracts import ContractState
from yulian.execution.overlay import StateView, state_key
from yulian.execution.system.base import SystemRevert
from yulian.types.encoding import DecodeError, Value, decode, encode
from yulian.types.privacy import (
    MAX_KEY,
    MAX_SUBJECT,
    CollectionDef,
    Grant,
    PrivateRecord,
    audience_matches,
    audience_text,
)

COLLECTIONS_CONTRACT = "collections"
CONSENT_CONTRACT = "consent"
ACCESS_CONTRACT = "access"
DIGEST_BYTES = 32  # SHA-256 and SM3 alike
MAX_KEYS_PER_COLLECTION = 10_000_000
MAX_LOG_ENTRIES = 4096  # per block
MAX_PAGE = 100  # items per listing call

LOG_PUT = "put"  # (kind, collection, key, version, digest)
LOG_PURGE = "purge"  # (kind, collection, key): every version of the key
LOG_DEFINE = "define"  # (kind, collection): a definition was added or changed


class PrivateWriteRefused(ValueError):
    """A private write the rules refuse; the message says which rule."""


class Who(Protocol):
    """An identity as the rules see it (``Sender`` and ``ctx.sender`` alike)."""

    @property
    def org(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def attributes(self) -> Mapping[str, str]: ...


def who_text(who: Who) -> str:
    attrs = ",".join(f"{k}={v}" for k, v in sorted(who.attributes.items()))
    return f"{who.org or '(anonymous)'}:{who.role}" + (f":{attrs}" if attrs else "")


# --- reading ---------------------------------------------------------------------------------


def definition_key(name: str) -> str:
    return f"def/{name}"


def record_key(collection: str, key: str) -> str:
    return f"record/{collection}/{key}"


def log_key(height: int) -> str:
    return f"log/{height:012d}"


def read_definition(view: StateView, name: str) -> CollectionDef | None:
    data = view.get(state_key(COLLECTIONS_CONTRACT, definition_key(name)))
    return CollectionDef.decode(data) if data is not None else None


def read_record(view: StateView, collection: str, key: str) -> PrivateRecord | None:
    data = view.get(state_key(COLLECTIONS_CONTRACT, record_key(collection, key)))
    return PrivateRecord.decode(data) if data is not None else None


def read_names(view: StateView) -> list[str]:
    data = view.get(state_key(COLLECTIONS_CONTRACT, "names"))
    return [str(n) for n in decode(data)] if data is not None else []


def read_log(view: StateView, height: int) -> list[tuple[Any, ...]]:
    """The private-data log of block ``height`` (empty if the block touched none)."""
    data = view.get(state_key(COLLECTIONS_CONTRACT, log_key(height)))
    return [tuple(e) for e in decode(data)] if data is not None else []


def key_count(view: StateView, collection: str) -> int:
    data = view.get(state_key(COLLECTIONS_CONTRACT, f"keycount/{collection}"))
    return int(decode(data)) if data is not None else 0


def key_at(view: StateView, collection: str, n: int) -> str | None:
    data = view.get(state_key(COLLECTIONS_CONTRACT, f"key/{collection}/{n:012d}"))
    return str(decode(data)) if data is not None else None


def read_grant(view: StateView, grant_id: int) -> Grant | None:
    data = view.get(state_key(CONSENT_CONTRACT, grant_key(grant_id)))
    return Grant.decode(data) if data is not None else None


def grant_key(grant_id: int) -> str:
    return f"grant/{grant_id:012d}"


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One private write as a tx asks for it."""

    collection: str
    key: str
    digest: bytes
    size: int
    subject: str = ""


def check_writer(definition: CollectionDef, who: Who) -> None:
    if who.org not in definition.members:
        raise PrivateWriteRefused(
            f"organisation {who.org!r} is not a member of collection {definition.name!r}"
        )
    if not audience_matches(definition.writers, who.org, who.role, who.attributes):
        raise PrivateWriteRefused(
            f"{who_text(who)} is not among the writers of {definition.name!r} "
            f"({' '.join(audience_text(definition.writers))})"
        )


def check_write(write: Write) -> None:
    """The shape of a write, before any state is read."""
    if not isinstance(write.collection, str) or not write.collection:
        raise PrivateWriteRefused("a collection name is a non-empty string")
    check_private_key(write.key)
    if not isinstance(write.digest, bytes) or len(write.digest) != DIGEST_BYTES:
        raise PrivateWriteRefused(f"a digest is {DIGEST_BYTES} bytes")
    if type(write.size) is not int or write.size < 0:
        raise PrivateWriteRefused("a size is a non-negative integer")
    if not isinstance(write.subject, str) or len(write.subject.encode("utf-8")) > MAX_SUBJECT:
        raise PrivateWriteRefused(f"a subject is a string of at most {MAX_SUBJECT} bytes")
    if write.subject and (
        not write.subject.isprintable() or write.subject != write.subject.strip()
    ):
        raise PrivateWriteRefused("a subject is printable, without spaces at its ends")


def check_private_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise PrivateWriteRefused("a private key is a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY:
        raise PrivateWriteRefused(f"a private key is at most {MAX_KEY} UTF-8 bytes")
    if not key.isprintable():
        raise PrivateWriteRefused("a private key is printable text")
    return key


def write_version(
    state: ContractState,
    view: StateView,
    write: Write,
    who: Who,
    *,
    height: int,
    tx_id: bytes,
    via: str,
) -> PrivateRecord:
    """Record a new version of ``write.key``; ``state`` is the ``collections`` namespace of the
    tx's overlay and ``view`` the overlay. Raises ``PrivateWriteRefused``."""
    check_write(write)
    definition = read_definition(view, write.collection)
    if definition is None:
        raise PrivateWriteRefused(f"no collection named {write.collection!r}")
    check_writer(definition, who)
    if write.size > definition.max_value_bytes:
        raise PrivateWriteRefused(
            f"{write.size} bytes exceed the {definition.max_value_bytes} bytes a value of "
            f"{definition.name!r} may have"
        )
    previous = read_record(view, write.collection, write.key)
    if previous is None:
        count = key_count(view, write.collection)
        if count >= MAX_KEYS_PER_COLLECTION:
            raise PrivateWriteRefused(f"collection {write.collection!r} holds the most keys")
        state.put(f"key/{write.collection}/{count:012d}", encode(write.key))
        state.put(f"keycount/{write.collection}", encode(count + 1))
    record = PrivateRecord(
        collection=write.collection,
        key=write.key,
        version=previous.version + 1 if previous is not None else 1,
        digest=write.digest,
        size=write.size,
        owner=who.org,
        writer=who.id,
        subject=write.subject,
        height=height,
        tx=tx_id,
        purge_at=height + definition.blocks_to_live if definition.blocks_to_live else 0,
        via=via,
    )
    state.put(record_key(write.collection, write.key), record.encode())
    append_log(
        state, view, height, (LOG_PUT, write.collection, write.key, record.version, write.digest)
    )
    return record


def append_log(
    state: ContractState, view: StateView, height: int, entry: tuple[Value, ...]
) -> None:
    entries = read_log(view, height)
    if len(entries) >= MAX_LOG_ENTRIES:
        raise PrivateWriteRefused(f"a block changes at most {MAX_LOG_ENTRIES} private keys")
    state.put(log_key(height), encode(tuple([*entries, entry])))


def decode_log_entry(entry: tuple[Any, ...]) -> tuple[str, str, str, int, bytes]:
    """``(kind, collection, key, version, digest)`` of a log entry (missing parts empty)."""
    try:
        kind = str(entry[0])
        if kind == LOG_PUT:
            return kind, str(entry[1]), str(entry[2]), int(entry[3]), bytes(entry[4])
        if kind == LOG_PURGE:
            return kind, str(entry[1]), str(entry[2]), 0, b""
        if kind == LOG_DEFINE:
            return kind, str(entry[1]), "", 0, b""
    except (IndexError, TypeError, ValueError):
        pass
    raise DecodeError(f"unreadable private-data log entry {entry!r:.80}")


# --- listings ----------------------------------------------------------------------------------


def page(start: Any, limit: Any) -> tuple[int, int]:
    """A listing's ``(start, limit)`` arguments, checked."""
    if type(start) is not int or start < 0:
        raise SystemRevert("start is an integer >= 0")
    if type(limit) is not int or not 1 <= limit <= MAX_PAGE:
        raise SystemRevert(f"limit is an integer in 1..{MAX_PAGE}")
    return start, limit


def append_listing(state: ContractState, prefix: str, item_id: int) -> None:
    """Append ``item_id`` to the listing ``prefix`` (``<prefix>/count``, ``<prefix>/<n>``)."""
    data = state.get(f"{prefix}/count")
    count = int(decode(data)) if data is not None else 0
    state.put(f"{prefix}/{count:012d}", encode(item_id))
    state.put(f"{prefix}/count", encode(count + 1))


def listing(
    state: ContractState, prefix: str, start: Any, limit: Any
) -> tuple[int, int, list[int]]:
    """``(total, start, ids)`` of one page of the listing ``prefix``."""
    first, size = page(start, limit)
    data = state.get(f"{prefix}/count")
    total = int(decode(data)) if data is not None else 0
    ids = []
    for n in range(first, min(total, first + size)):
        entry = state.get(f"{prefix}/{n:012d}")
        if entry is not None:
            ids.append(int(decode(entry)))
    return total, first, ids
