"""Introduction: ``ctx.private`` — private data as a contract sees it: digests in, records out.

A contract never holds a private value (decision 0082): the value travels between member
organisations' nodes, the chain keeps its salted digest. Through ``ctx.private`` a contract

- ``put(collection, key, digest, size, subject="")`` records a new version of a private key
  (the tx's signer must be one of the collection's writers) and gets the record back;
- ``get(collection, key)`` reads the current record (digest, version, size, owner, writer,
  subject, height, purge_at, purged) or ``None``;
- ``grant(id)`` reads a consent grant, or ``None``.

The execution layer provides the ``PrivateData`` behind it, one per invocation (a callee has
its own, in its name), opened when the invocation first uses ``ctx.private``; writes are
buffered and reach the state when the invocation ends ``ok`` (``flush``) — or, so a callee
builds on them, before it calls another contract, into the journal its failure rolls back —
and ``put`` in a read-only call reverts. A refused put (not a writer, no such collection, a
value over the limit) reverts the invocation with the rule's message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from yulian.contracts.aborts import InvalidValue
from yulian.types.encoding import to_canonical, to_plain

if TYPE_CHECKING:
    from yulian.contracts.host import Host

PRIVATE_READ_STEPS = 20
PRIVATE_WRITE_STEPS = 60


class PrivateRefusal(Exception):
    """Raised by a ``PrivateData`` for a write its rules refuse; the message says why."""


class PrivateData(Protocol):
    """What the execution layer gives ``ctx.private`` for one invocation."""

    def put(
        self, collection: str, key: str, digest: bytes, size: int, subject: str
    ) -> dict[str, Any]: ...

    def get(self, collection: str, key: str) -> dict[str, Any] | None: ...

    def grant(self, grant_id: int) -> dict[str, Any] | None: ...

    def flush(self) -> None: ...


def checked_put_args(collection: Any, key: Any, digest: Any, size: Any, subject: Any) -> None:
    """Types only; the rules (writers, limits) are the ``PrivateData``'s."""
    if type(collection) is not str or type(key) is not str or type(subject) is not str:
        raise InvalidValue(
            "ctx.private.put takes (collection: str, key: str, digest: bytes, size: int, "
            "subject: str = '')"
        )
    if type(digest) is not bytes:
        raise InvalidValue("a private digest is bytes")
    if type(size) is not int:
        raise InvalidValue("a private size is an int")


T = TypeVar("T")


def available(private: T | None) -> T:
    """``private`` (private data, or where it comes from), if this call has any."""
    if private is None:
        raise InvalidValue("private data is not available in this call")
    return private


def plain_copy(value: Any) -> Any:
    """A fresh plain copy of a host answer: mutating it changes nothing."""
    return to_plain(to_canonical(value)) if value is not None else None


class PrivateView:
    """``ctx.private``: checked and charged reads, and writes through ``Host.private_put``
    (which reverts a refusal), on the running contract's ``PrivateData`` — a callee has its
    own (``calls.Callee``)."""

    __slots__ = ("_host",)

    def __init__(self, host: Host) -> None:
        self._host = host

    def put(self, collection: Any, key: Any, digest: Any, size: Any, subject: Any = "") -> Any:
        return self._host.private_put(collection, key, digest, size, subject)

    def get(self, collection: Any, key: Any) -> Any:
        if type(collection) is not str or type(key) is not str:
            raise InvalidValue("ctx.private.get takes (collection: str, key: str)")
        host = self._host
        host.meter.charge(PRIVATE_READ_STEPS)
        return plain_copy(host.private_data().get(collection, key))

    def grant(self, grant_id: Any) -> Any:
        if type(grant_id) is not int:
            raise InvalidValue("ctx.private.grant takes (grant_id: int)")
        host = self._host
        host.meter.charge(PRIVATE_READ_STEPS)
        return plain_copy(host.private_data().grant(grant_id))
