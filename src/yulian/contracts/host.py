"""Introduction: the host API a contract sees as ``ctx``, and the state protocol behind it.

``ctx`` exposes the signer (``ctx.sender``), the block (``ctx.block``), the transaction
(``ctx.tx``), the contract's key-value state (``ctx.state``), ``ctx.emit`` and ``ctx.require``.
Contract code reaches only the attributes listed in ``HOST_ATTRIBUTES``; everything else on
these objects is private (``_`` names, which the dialect forbids).

Invariants:
- Writes are buffered for the invocation: reads see them, and they reach ``ContractState``
  (final value per key, in first-write order) only when the invocation ends ``ok``. A failed
  invocation leaves the state untouched even before the execution layer rolls back.
- Every value crossing the boundary (state values, event payloads, the return value) is
  checked and charged by one iterative walk before ``to_canonical`` / ``encode`` touch it,
  so a value that shares sub-lists cannot make either of them exponential or recursive. A
  small value in the model skips that walk (it would neither refuse nor charge anything) and
  is put in canonical form by a bounded fast path instead.
- Values handed to the contract are fresh ``to_plain`` copies: mutating them changes nothing.
- An exception raised by the ``ContractState`` itself is a host failure, re-raised from
  ``invoke``; it is never turned into a receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from yulian.contracts.metering import (
    BYTES_PER_STEP,
    ITEMS_PER_STEP,
    ContractAbort,
    InvalidValue,
    LimitExceeded,
    Meter,
)
from yulian.types.encoding import (
    DEFAULT_LIMITS,
    INT_MAX,
    INT_MIN,
    DecodeError,
    decode_plain,
    encode_canonical,
    to_canonical,
    to_plain,
)

MAX_KEY_BYTES = 256
MAX_VALUE_BYTES = 64 * 1024  # one state value, encoded
MAX_RETURN_BYTES = 64 * 1024
MAX_ARGS_BYTES = 1 << 20
MAX_VALUE_DEPTH = DEFAULT_LIMITS.max_depth
MAX_EVENTS = 64  # per invocation
MAX_EVENT_NAME_CHARS = 64
MAX_EVENT_BYTES = 16 * 1024  # one payload, encoded
MAX_EVENT_TOTAL_BYTES = 64 * 1024
MAX_HISTORY = 64  # entries returned by ctx.state.history
MAX_REVERT_MESSAGE_CHARS = 512
STATE_READ_STEPS = 10
STATE_WRITE_STEPS = 20
EVENT_STEPS = 10
READ_ONLY_MESSAGE = "read-only call"
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


EXPORT_CHARGE_EVERY = 1024  # size walked between two charges of the exact walk
FAST_EXPORT_NODES = 1024  # nodes the fast path visits at most


class _NotSimple(Exception):
    """The value needs the exact walk: it may be refused, charged or cut short there."""


def _fast_canonical(node: Any, depth: int, sequence: type, budget: int) -> tuple[Any, int]:
    """``(canonical form, budget left)`` of a list, tuple or dict that is plainly in the model.

    Refuses nothing and charges nothing: anything unusual (a type outside the model, a big int,
    a non-str key, a deep or large value) raises ``_NotSimple``. Children are counted against
    ``budget`` before they are visited, so the work is bounded even for shared sub-lists.
    """
    if depth >= MAX_VALUE_DEPTH:
        raise _NotSimple
    budget -= len(node)
    if budget < 0:
        raise _NotSimple
    if type(node) is dict:
        out: dict[str, Any] = {}
        for key in sorted(node):  # str order is UTF-8 order (a lone surrogate fails in encode)
            if type(key) is not str:
                raise _NotSimple
            value = node[key]
            kind = type(value)
            if kind is list or kind is tuple or kind is dict:
                value, budget = _fast_canonical(value, depth + 1, sequence, budget)
            elif kind is int:
                if not INT_MIN <= value <= INT_MAX:
                    raise _NotSimple
            elif not (kind is str or kind is bytes or kind is bool or value is None):
                raise _NotSimple
            out[key] = value
        return out, budget
    items = []
    for value in node:
        kind = type(value)
        if kind is list or kind is tuple or kind is dict:
            value, budget = _fast_canonical(value, depth + 1, sequence, budget)
        elif kind is int:
            if not INT_MIN <= value <= INT_MAX:
                raise _NotSimple
        elif not (kind is str or kind is bytes or kind is bool or value is None):
            raise _NotSimple
        items.append(value)
    return (items if sequence is list else tuple(items)), budget


def _walk(value: Any, max_bytes: int, meter: Meter | None) -> None:
    """The exact walk: its refusals and its charges, in its order, are consensus rules."""
    nodes: list[Any] = [value]  # parallel stacks: no allocation per node (see measure)
    depths: list[int] = [0]
    size = 0
    charged = 0
    while nodes:
        node = nodes.pop()
        depth = depths.pop()
        if depth > MAX_VALUE_DEPTH:
            raise InvalidValue(f"value nested deeper than {MAX_VALUE_DEPTH}")
        kind = type(node)
        size += 1
        if kind is str or kind is bytes:
            size += len(node)
        elif kind is int:
            if not INT_MIN <= node <= INT_MAX:
                raise InvalidValue("integer outside the 64-bit range")
        elif kind is list or kind is tuple:
            nodes.extend(node)
            depths.extend([depth + 1] * len(node))
        elif kind is dict:
            for key, child in node.items():
                if type(key) is not str:
                    raise InvalidValue("map keys must be strings")
                size += len(key)
                nodes.append(child)
                depths.append(depth + 1)
        elif kind is not bool and node is not None:
            raise InvalidValue("only None, bool, int, str, bytes, lists and maps are encodable")
        if size > max_bytes:
            raise LimitExceeded(f"value larger than {max_bytes} bytes")
        if meter is not None and size - charged >= EXPORT_CHARGE_EVERY:
            meter.charge((size - charged) // ITEMS_PER_STEP)
            charged = size


def export_value(
    value: Any, max_bytes: int, meter: Meter | None = None, *, sequence: type = tuple
) -> tuple[Any, bytes]:
    """Check ``value`` against the encoding model and return ``(canonical, encoded)``; with
    ``sequence=list`` the canonical form has lists for tuples (a fresh plain copy).

    The exact walk (``_walk``) is iterative, charges ``meter`` as it goes, and stops as soon as
    the value is certainly larger than ``max_bytes``. It is skipped when the fast path shows it
    would neither refuse nor charge: every node of the model encodes to at least the size the
    walk counts for it, so an encoding of at most ``max_bytes`` (and, with a meter, under
    ``EXPORT_CHARGE_EVERY`` bytes) means a walk that never reached the limit or a charge.
    """
    kind = type(value)
    data: bytes | None
    try:
        if kind is list or kind is tuple or kind is dict:
            canonical = _fast_canonical(value, 0, sequence, FAST_EXPORT_NODES)[0]
        elif (
            kind is str
            or kind is bytes
            or kind is bool
            or value is None
            or (kind is int and INT_MIN <= value <= INT_MAX)
        ):
            canonical = value
        else:
            raise _NotSimple
        data = encode_canonical(canonical)
    except (_NotSimple, TypeError, ValueError):  # a refusal, a lone surrogate: the exact path
        canonical, data = None, None
    # without a meter, the walk could only refuse a value over max_bytes
    if (
        data is None
        or len(data) > max_bytes
        or (meter is not None and len(data) >= EXPORT_CHARGE_EVERY)
    ):
        _walk(value, max_bytes, meter)
        if data is None:
            try:
                canonical = to_canonical(value)
                data = encode_canonical(canonical)  # the walk checked what encode would
            except ValueError as e:  # lone surrogates in a str
                raise InvalidValue("value is not encodable") from e
            if sequence is list:
                canonical = to_plain(canonical)
    if len(data) > max_bytes:
        raise LimitExceeded(f"value larger than {max_bytes} bytes")
    if meter is not None:
        meter.charge(1 + len(data) // BYTES_PER_STEP)
    return canonical, data


def import_args(args: tuple[Any, ...] | list[Any]) -> list[Any]:
    """The invocation arguments as the contract sees them: plain, canonically ordered copies."""
    total = 0
    out = []
    for arg in args:
        plain, data = export_value(arg, MAX_ARGS_BYTES, sequence=list)
        total += len(data)
        if total > MAX_ARGS_BYTES:
            raise LimitExceeded(f"arguments larger than {MAX_ARGS_BYTES} bytes")
        out.append(plain)
    return out


def _check_key(meter: Meter, key: Any) -> str:
    if type(key) is not str or not key:
        raise InvalidValue("state keys must be non-empty strings")
    try:
        size = len(key) if key.isascii() else len(key.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise InvalidValue("state keys must be valid UTF-8") from e
    if size > MAX_KEY_BYTES:
        raise LimitExceeded(f"state key longer than {MAX_KEY_BYTES} bytes")
    meter.charge(size // BYTES_PER_STEP)
    return key


class Host:
    """The per-invocation side of ``ctx``: buffered writes, events, charges."""

    def __init__(self, meter: Meter, state: ContractState, *, read_only: bool, height: int) -> None:
        self.meter = meter
        self.state = state
        self.read_only = read_only
        self.height = height
        self.writes: dict[str, bytes | None] = {}
        self.events: list[tuple[str, Any]] = []
        self.event_bytes = 0
        # the last value put, the mutation count then, and its export: a contract often
        # returns the record it just stored
        self.last_put: tuple[Any, int, Any, bytes] | None = None

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

    def _writable(self) -> None:
        if self.read_only:
            raise Revert(READ_ONLY_MESSAGE)

    def get(self, key: Any, default: Any = None) -> Any:
        key = _check_key(self.meter, key)
        self.meter.charge(STATE_READ_STEPS)
        data = self._stored(key)
        if data is None:
            return default
        self.meter.charge(len(data) // BYTES_PER_STEP)
        return _decode_stored(data)

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
        canonical, data = export_value(value, MAX_VALUE_BYTES, self.meter)
        self.writes[key] = data
        self.last_put = (value, self.meter.mutations, canonical, data)

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
                self.meter.charge(len(data) // BYTES_PER_STEP)
                out.append([height, _decode_stored(data)])
        return out

    def emit(self, name: Any, payload: Any) -> None:
        self._writable()
        if type(name) is not str or not 0 < len(name) <= MAX_EVENT_NAME_CHARS:
            raise InvalidValue(f"event names must be strings of 1..{MAX_EVENT_NAME_CHARS}")
        if len(self.events) >= MAX_EVENTS:
            raise LimitExceeded(f"more than {MAX_EVENTS} events")
        self.meter.charge(EVENT_STEPS)
        canonical, data = export_value(payload, MAX_EVENT_BYTES, self.meter)
        self.event_bytes += len(data) + len(name)
        if self.event_bytes > MAX_EVENT_TOTAL_BYTES:
            raise LimitExceeded(f"events larger than {MAX_EVENT_TOTAL_BYTES} bytes in total")
        self.events.append((name, canonical))

    def export_result(self, value: Any) -> Any:
        """The canonical form of the return value, exported like any value (``export_value``).

        The value last put, if no container changed since (``Meter.mutations``), is not walked
        again: it is the same value, and when its encoding is short of ``EXPORT_CHARGE_EVERY``
        its walk would neither refuse nor charge, so only the encoding is charged, as always.
        """
        last, self.last_put = self.last_put, None  # a canonical form is handed out only once
        if last is not None and last[0] is value and last[1] == self.meter.mutations:
            canonical, data = last[2], last[3]
            if len(data) < EXPORT_CHARGE_EVERY and len(data) <= MAX_RETURN_BYTES:
                self.meter.charge(1 + len(data) // BYTES_PER_STEP)
                return canonical
        return export_value(value, MAX_RETURN_BYTES, self.meter)[0]

    def flush(self) -> None:
        """Apply the buffered writes; only after the invocation ended ``ok``."""
        for key, data in self.writes.items():
            if data is None:
                self.state.delete(key)
            else:
                self.state.put(key, data)


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


class Context:
    """``ctx``: the only object through which a contract touches the world."""

    __slots__ = ("_host", "block", "sender", "state", "tx")

    def __init__(self, host: Host, sender: Sender, block: BlockInfo, tx: TxInfo) -> None:
        self._host = host
        self.sender = SenderView(sender)
        self.block = BlockView(block)
        self.tx = TxView(tx)
        self.state = StateView(host)

    def emit(self, name: Any, payload: Any = None) -> None:
        self._host.emit(name, payload)

    def require(self, condition: Any, message: Any = DEFAULT_REQUIRE_MESSAGE) -> None:
        if type(message) is not str:
            raise InvalidValue("ctx.require needs a str message")
        if not condition:
            raise Revert(message[:MAX_REVERT_MESSAGE_CHARS])


HOST_ATTRIBUTES: dict[type, frozenset[str]] = {
    Context: frozenset({"block", "emit", "require", "sender", "state", "tx"}),
    SenderView: frozenset({"attributes", "id", "org", "role"}),
    BlockView: frozenset({"height", "time"}),
    TxView: frozenset({"id"}),
    StateView: frozenset({"delete", "get", "has", "history", "put"}),
}
