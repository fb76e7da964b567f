"""Introduction: the host API a contract sees as ``ctx``, and the state protocol behind it.

``ctx`` exposes the signer (``ctx.sender``), the block (``ctx.block``), the transaction
(``ctx.tx``), the contract's key-value state (``ctx.state``), private data records
(``ctx.private``, ``private.py``), ``ctx.emit`` and ``ctx.require``.
Contract code reaches only the attributes listed in ``HOST_ATTRIBUTES``; everything else on
these objects is private (``_`` names, which the dialect forbids).

Invariants:
- Writes are buffered for the invocation: reads see them, and they reach ``ContractState``
  (final value per key, in first-write order) only when the invocation ends ``ok``. A failed
  invocation leaves the state untouched even before the execution layer rolls back.
- Every value crossing the boundary (state values, event payloads, the return value) is
  checked and charged by ``export.export_value`` before it is kept.
- Values handed to the contract are fresh ``to_plain`` copies: mutating them changes nothing.
- An exception raised by the ``ContractState`` itself is a host failure, re-raised from
  ``invoke``; it is never turned into a receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from yulian.contracts.aborts import ContractAbort, InvalidValue, LimitExceeded
from yulian.contracts.costs import BYTES_PER_STEP, EXPORT_NODES_PER_STEP
from yulian.contracts.export import (
    EXPORT_CHARGE_EVERY,
    MAX_VALUE_DEPTH,
    ExportLimits,
    count_nodes,
    export_value,
)
from yulian.contracts.meter import Meter
from yulian.contracts.private import (
    PRIVATE_READ_STEPS,
    PRIVATE_WRITE_STEPS,
    PrivateData,
    PrivateRefusal,
    checked_put_args,
    plain_copy,
)
from yulian.types.encoding import DEFAULT_LIMITS, DecodeError, decode_plain
from yulian.types.receipt import MAX_EVENT_NAME_BYTES, RECEIPT_LIMITS

MAX_KEY_BYTES = 256
MAX_VALUE_BYTES = 64 * 1024  # one state value, encoded
MAX_RETURN_BYTES = 64 * 1024
MAX_EVENTS = 64  # per invocation
MAX_EVENT_BYTES = 16 * 1024  # one payload, encoded
MAX_EVENT_TOTAL_BYTES = 64 * 1024
MAX_HISTORY = 64  # entries returned by ctx.state.history
MAX_REVERT_MESSAGE_BYTES = 512  # UTF-8; a longer message is cut at a char boundary
STATE_READ_STEPS = 10
STATE_WRITE_STEPS = 20
EVENT_STEPS = 10
READ_ONLY_MESSAGE = "read-only call"
# Where each value goes, and so what it may be: a state value is decoded with the default
# limits; in a receipt the return value sits one level down, an event's payload three.
STATE_LIMITS = ExportLimits(MAX_VALUE_BYTES, MAX_VALUE_DEPTH, DEFAULT_LIMITS.max_items)
RETURN_LIMITS = ExportLimits(
    MAX_RETURN_BYTES, RECEIPT_LIMITS.max_depth - 1, RECEIPT_LIMITS.max_items
)
EVENT_LIMITS = ExportLimits(MAX_EVENT_BYTES, RECEIPT_LIMITS.max_depth - 3, RECEIPT_LIMITS.max_items)
DEFAULT_REQUIRE_MESSAGE = "requirement failed"


class ContractState(Protocol):
    """One contract's key-value state, provided by the execution layer."""

    def get(self, key: str) -> bytes | None: ...  # canonical encoded value

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]: ...  # newest first


class MemoryState:
    """A dict-backed ``ContractState`` with per-key history, for tests and local tools."""

    def __init__(self, height: int = 0) -> None:
        self.height = height  # the height recorded with each write
        self.values: dict[str, bytes] = {}
        self.versions: dict[str, list[tuple[int, bytes | None]]] = {}

    def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.values[key] = value
        self.versions.setdefault(key, []).append((self.height, value))

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
        self.versions.setdefault(key, []).append((self.height, None))

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return list(reversed(self.versions.get(key, [])))[:limit]


@dataclass(frozen=True)
class Sender:
    org: str
    role: str
    id: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BlockInfo:
    height: int
    time_ms: int


@dataclass(frozen=True)
class TxInfo:
    id: str


class Revert(ContractAbort):
    """``ctx.require`` failed or a read-only call tried to write; the message is the receipt's."""


class HostFailure(BaseException):
    """The ``ContractState`` raised: a host bug, carried out of the contract and re-raised."""

    def __init__(self, original: Exception) -> None:
        super().__init__(original)
        self.original = original


T = TypeVar("T")


def _from_state(call: Callable[..., T], *args: Any) -> T:
    try:
        return call(*args)
    except Exception as e:
        raise HostFailure(e) from e


def _decode_stored(data: bytes) -> Any:
    try:
        return decode_plain(data)
    except DecodeError as e:
        raise HostFailure(e) from e


def utf8_size(text: str) -> int:
    """The UTF-8 length of ``text``; ``InvalidValue`` if it has no UTF-8 form (a lone
    surrogate), so no such text ever reaches a receipt or the state."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidValue("text is not valid UTF-8 (a lone surrogate)") from None


def revert_message(message: str) -> str:
    """A revert message as the receipt holds it: its longest prefix of at most
    ``MAX_REVERT_MESSAGE_BYTES`` in UTF-8, cut at a char boundary."""
    head = message[:MAX_REVERT_MESSAGE_BYTES]  # every char takes a byte at least
    if head.isascii():
        return head
    if utf8_size(head) <= MAX_REVERT_MESSAGE_BYTES:
        return head
    return head.encode("utf-8")[:MAX_REVERT_MESSAGE_BYTES].decode("utf-8", "ignore")


def _check_key(meter: Meter, key: Any) -> str:
    if type(key) is not str or not key:
        raise InvalidValue("state keys must be non-empty strings")
    try:
        size = len(key) if key.isascii() else len(key.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise InvalidValue("state keys must be valid UTF-8") from e
    if size > MAX_KEY_BYTES:
        raise LimitExceeded(f"state key longer than {MAX_KEY_BYTES} bytes")
    if size >= BYTES_PER_STEP:
        meter.charge(size // BYTES_PER_STEP)
    return key


class Host:
    """The per-invocation side of ``ctx``: buffered writes, events, charges."""

    def __init__(
        self,
        meter: Meter,
        state: ContractState,
        *,
        read_only: bool,
        height: int,
        private: PrivateData | None = None,
    ) -> None:
        self.meter = meter
        self.state = state
        self.private = private
        self.read_only = read_only
        self.height = height
        self.writes: dict[str, bytes | None] = {}
        self.events: list[tuple[str, Any]] = []
        self.event_bytes = 0
        # the last value put, the mutation count then, and its export: a contract often
        # returns the record it just stored
        self.last_put: tuple[Any, int, Any, bytes, int] | None = None

    def _stored(self, key: str) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        try:
            data = self.state.get(key)
        except Exception as e:
            raise HostFailure(e) from e
        if data is not None and type(data) is not bytes:
            raise HostFailure(TypeError("ContractState.get must return bytes or None"))
        return data

    def _decoded(self, data: bytes) -> Any:
        """A stored value, decoded into a fresh plain copy and paid for like its export: by
        its bytes and the nodes decoding made (at most a 64 KiB value's worth unpaid, when
        this charge is the one that runs out)."""
        value = _decode_stored(data)
        self.meter.charge(len(data) // BYTES_PER_STEP + count_nodes(value) // EXPORT_NODES_PER_STEP)
        return value

    def _writable(self) -> None:
        if self.read_only:
            raise Revert(READ_ONLY_MESSAGE)

    def get(self, key: Any, default: Any = None) -> Any:
        key = _check_key(self.meter, key)
        self.meter.charge(STATE_READ_STEPS)
        data = self._stored(key)
        if data is None:
            return default
        return self._decoded(data)

    def has(self, key: Any) -> bool:
        key = _check_key(self.meter, key)
        self.meter.charge(STATE_READ_STEPS)
        return self._stored(key) is not None

    def put(self, key: Any, value: Any) -> None:
        self._writable()
        key = _check_key(self.meter, key)
        if value is None:
            raise InvalidValue("state values cannot be None; use ctx.state.delete")
        self.meter.charge(STATE_WRITE_STEPS)
        canonical, data, nodes, shallow = export_value(
            value, STATE_LIMITS, self.meter, shallow_depth=RETURN_LIMITS.max_depth
        )
        self.writes[key] = data
        self.last_put = (value, self.meter.mutations, canonical, data, nodes) if shallow else None

    def delete(self, key: Any) -> None:
        self._writable()
        key = _check_key(self.meter, key)
        self.meter.charge(STATE_WRITE_STEPS)
        self.writes[key] = None

    def history(self, key: Any, limit: Any = MAX_HISTORY) -> list[list[Any]]:
        key = _check_key(self.meter, key)
        if type(limit) is not int or not 1 <= limit <= MAX_HISTORY:
            raise InvalidValue(f"history limit must be an int in 1..{MAX_HISTORY}")
        self.meter.charge(STATE_READ_STEPS + limit)
        entries = list(_from_state(self.state.history, key, limit))
        if key in self.writes:
            entries = [(self.height, self.writes[key]), *entries][:limit]
        out: list[list[Any]] = []
        for height, data in entries:
            if data is None:
                out.append([height, None])
            else:
                out.append([height, self._decoded(data)])
        return out

    def emit(self, name: Any, payload: Any) -> None:
        self._writable()
        size = utf8_size(name) if type(name) is str else 0
        if not 0 < size <= MAX_EVENT_NAME_BYTES:
            raise InvalidValue(f"event names must be strings of 1..{MAX_EVENT_NAME_BYTES} bytes")
        if len(self.events) >= MAX_EVENTS:
            raise LimitExceeded(f"more than {MAX_EVENTS} events")
        self.meter.charge(EVENT_STEPS)
        canonical, data, _, _ = export_value(payload, EVENT_LIMITS, self.meter)
        self.event_bytes += len(data) + size
        if self.event_bytes > MAX_EVENT_TOTAL_BYTES:
            raise LimitExceeded(f"events larger than {MAX_EVENT_TOTAL_BYTES} bytes in total")
        self.events.append((name, canonical))

    def export_result(self, value: Any) -> Any:
        """The canonical form of the return value, exported like any value (``export_value``).

        The value last put, if no container changed since (``Meter.mutations``), is not walked
        again: it is the same value, its export's fast path showed it shallow enough for a
        receipt (``put`` keeps it only then), and when its encoding is short of
        ``EXPORT_CHARGE_EVERY`` (so it has fewer items than any list may hold) its walk would
        not refuse it; it is charged what its export costs, as always.
        """
        last, self.last_put = self.last_put, None  # a canonical form is handed out only once
        if last is not None and last[0] is value and last[1] == self.meter.mutations:
            data = last[3]
            if len(data) < EXPORT_CHARGE_EVERY and len(data) <= RETURN_LIMITS.max_bytes:
                self.meter.charge(1 + len(data) // BYTES_PER_STEP + last[4])
                return last[2]
        return export_value(value, RETURN_LIMITS, self.meter)[0]

    def flush(self) -> None:
        """Apply the buffered writes; only after the invocation ended ``ok``."""
        for key, data in self.writes.items():
            if data is None:
                self.state.delete(key)
            else:
                self.state.put(key, data)
        if self.private is not None:
            self.private.flush()

    def _private(self) -> PrivateData:
        if self.private is None:
            raise InvalidValue("private data is not available in this call")
        return self.private

    def private_put(self, collection: Any, key: Any, digest: Any, size: Any, subject: Any) -> Any:
        self._writable()
        checked_put_args(collection, key, digest, size, subject)
        self.meter.charge(PRIVATE_WRITE_STEPS)
        try:
            return plain_copy(self._private().put(collection, key, digest, size, subject))
        except PrivateRefusal as e:
            raise Revert(revert_message(str(e))) from None

    def private_get(self, collection: Any, key: Any) -> Any:
        if type(collection) is not str or type(key) is not str:
            raise InvalidValue("ctx.private.get takes (collection: str, key: str)")
        self.meter.charge(PRIVATE_READ_STEPS)
        return plain_copy(self._private().get(collection, key))

    def private_grant(self, grant_id: Any) -> Any:
        if type(grant_id) is not int:
            raise InvalidValue("ctx.private.grant takes (grant_id: int)")
        self.meter.charge(PRIVATE_READ_STEPS)
        return plain_copy(self._private().grant(grant_id))


# --- the objects contract code holds ------------------------------------------------------------


class SenderView:
    __slots__ = ("attributes", "id", "org", "role")

    def __init__(self, sender: Sender) -> None:
        self.org = sender.org
        self.role = sender.role
        self.id = sender.id
        self.attributes = MappingProxyType(dict(sender.attributes))


class BlockView:
    __slots__ = ("height", "time")

    def __init__(self, block: BlockInfo) -> None:
        self.height = block.height
        self.time = block.time_ms


class TxView:
    __slots__ = ("id",)

    def __init__(self, tx: TxInfo) -> None:
        self.id = tx.id


class StateView:
    __slots__ = ("_host",)

    def __init__(self, host: Host) -> None:
        self._host = host

    def get(self, key: Any, default: Any = None) -> Any:
        return self._host.get(key, default)

    def has(self, key: Any) -> bool:
        return self._host.has(key)

    def put(self, key: Any, value: Any) -> None:
        self._host.put(key, value)

    def delete(self, key: Any) -> None:
        self._host.delete(key)

    def history(self, key: Any, limit: Any = MAX_HISTORY) -> list[list[Any]]:
        return self._host.history(key, limit)


class PrivateView:
    __slots__ = ("_host",)

    def __init__(self, host: Host) -> None:
        self._host = host

    def put(self, collection: Any, key: Any, digest: Any, size: Any, subject: Any = "") -> Any:
        return self._host.private_put(collection, key, digest, size, subject)

    def get(self, collection: Any, key: Any) -> Any:
        return self._host.private_get(collection, key)

    def grant(self, grant_id: Any) -> Any:
        return self._host.private_grant(grant_id)


class Context:
    """``ctx``: the only object through which a contract touches the world."""

    __slots__ = ("_host", "block", "private", "sender", "state", "tx")

    def __init__(self, host: Host, sender: Sender, block: BlockInfo, tx: TxInfo) -> None:
        self._host = host
        self.sender = SenderView(sender)
        self.block = BlockView(block)
        self.tx = TxView(tx)
        self.state = StateView(host)
        self.private = PrivateView(host)

    def emit(self, name: Any, payload: Any = None) -> None:
        self._host.emit(name, payload)

    def require(self, condition: Any, message: Any = DEFAULT_REQUIRE_MESSAGE) -> None:
        if type(message) is not str:
            raise InvalidValue("ctx.require needs a str message")
        if not condition:
            raise Revert(revert_message(message))


HOST_ATTRIBUTES: dict[type, frozenset[str]] = {
    Context: frozenset({"block", "emit", "private", "require", "sender", "state", "tx"}),
    SenderView: frozenset({"attributes", "id", "org", "role"}),
    BlockView: frozenset({"height", "time"}),
    TxView: frozenset({"id"}),
    StateView: frozenset({"delete", "get", "has", "history", "put"}),
    PrivateView: frozenset({"get", "grant", "put"}),
}
