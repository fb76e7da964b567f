"""Introduction: the host API a contract sees as ``ctx``, and the state protocol behind it.

``ctx`` exposes the signer (``ctx.sender``), the block (``ctx.block``), the transaction
(``ctx.tx``), the contract's state (``ctx.state``, ordered scans: ``ranges``), its private
records (``ctx.private``: ``private``), ``ctx.emit``, ``ctx.require``, calls to other contracts
(``ctx.call``, ``try_call``, ``caller``: ``calls``), composite keys (``ctx.key``, ``split_key``).
Contract code reaches only the attributes listed in ``HOST_ATTRIBUTES``; everything else on
these objects is private (``_`` names, which the dialect forbids).

Invariants:
- Writes are buffered for the invocation: reads and scans see them, and they reach
  ``ContractState`` (final value per key, in first-write order) only when the invocation ends
  ``ok``. A failed invocation leaves the state untouched even before the execution layer
  rolls back.
- Every value crossing the boundary (state values, event payloads, the return value) is
  checked and charged by ``export.export_value`` before it is kept.
- Values handed to the contract are fresh ``to_plain`` copies: mutating them changes nothing.
- An exception raised by the ``ContractState`` itself is a host failure, re-raised from
  ``invoke``; it is never turned into a receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from sortedcontainers import SortedSet

from yulian.contracts.aborts import ContractAbort, InvalidValue, LimitExceeded, SandboxFault
from yulian.contracts.calls import CallFailed, PrivateSource, TxFrame, check_name, refusal
from yulian.contracts.costs import (
    BYTES_PER_STEP,
    CALL_COPIES,
    CONTRACT_CALL_STEPS,
    EXPORT_NODES_PER_STEP,
    SCAN_STEPS,
)
from yulian.contracts.export import (
    EXPORT_CHARGE_EVERY,
    MAX_VALUE_DEPTH,
    ExportLimits,
    count_nodes,
    export_value,
    import_args,
)
from yulian.contracts.keys import compose_key, split_key
from yulian.contracts.meter import Meter
from yulian.contracts.private import (
    PRIVATE_WRITE_STEPS,
    PrivateData,
    PrivateRefusal,
    PrivateView,
    available,
    checked_put_args,
    plain_copy,
)
from yulian.contracts.ranges import (
    DEFAULT_SCAN_LIMIT,
    Entry,
    check_bound,
    check_limit,
    merge_entries,
    prefix_end,
    read_page,
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
MAX_NAME_IN_CALL = 64  # chars of a method name in a failed call's message
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

    def scan(
        self, start: str, end: str | None, after: str | None, chunk: int
    ) -> Iterator[Entry[str]]:
        """Keys in ``[start, end)`` (``end`` None: no bound) above ``after``, ascending by
        their UTF-8 bytes, ``(key, value or None if deleted, value bytes read)``; ``chunk``:
        how many a reader will likely take."""
        ...


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


def _guarded(entries: Iterator[Entry[str]]) -> Iterator[Entry[str]]:
    """``entries`` with whatever the ``ContractState`` raises while iterating turned into a
    ``HostFailure``."""
    while True:
        try:
            entry = next(entries)
        except StopIteration:
            return
        except Exception as e:
            raise HostFailure(e) from e
        yield entry


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
    """The per-invocation side of ``ctx``: buffered writes, events, charges, calls."""

    __slots__ = (
        "contract",
        "frame",
        "last_put",
        "meter",
        "private",
        "private_source",
        "read_only",
        "state",
        "writes",
        "written",
    )

    def __init__(
        self,
        meter: Meter,
        state: ContractState,
        frame: TxFrame,
        contract: str,
        private_source: PrivateSource | None = None,
    ) -> None:
        self.meter = meter
        self.state = state
        self.frame = frame
        self.contract = contract  # the name of the contract this invocation runs
        # ``ctx.private`` of ``contract``, opened on first use (most never use it; no source: none)
        self.private_source = private_source
        self.private: PrivateData | None = None
        self.read_only = frame.read_only
        self.writes: dict[str, bytes | None] = {}
        self.written: SortedSet | None = None  # the keys of ``writes``, once a scan asked
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
        kind = type(value)  # a scalar is one node: no walk (count_nodes)
        nodes = count_nodes(value) if kind is list or kind is dict else 1
        self.meter.charge(len(data) // BYTES_PER_STEP + nodes // EXPORT_NODES_PER_STEP)
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
        if self.written is not None:
            self.written.add(key)
        self.last_put = (value, self.meter.mutations, canonical, data, nodes) if shallow else None

    def delete(self, key: Any) -> None:
        self._writable()
        key = _check_key(self.meter, key)
        self.meter.charge(STATE_WRITE_STEPS)
        self.writes[key] = None
        if self.written is not None:
            self.written.add(key)

    def history(self, key: Any, limit: Any = MAX_HISTORY) -> list[list[Any]]:
        key = _check_key(self.meter, key)
        if type(limit) is not int or not 1 <= limit <= MAX_HISTORY:
            raise InvalidValue(f"history limit must be an int in 1..{MAX_HISTORY}")
        self.meter.charge(STATE_READ_STEPS + limit)
        entries = list(_from_state(self.state.history, key, limit))
        if key in self.writes:
            entries = [(self.frame.block.height, self.writes[key]), *entries][:limit]
        out: list[list[Any]] = []
        for height, data in entries:
            if data is None:
                out.append([height, None])
            else:
                out.append([height, self._decoded(data)])
        return out

    def scan(self, prefix: Any, limit: Any, after: Any) -> dict[str, Any]:
        """``ctx.state.scan``: a page of the keys that start with ``prefix`` (``ranges``)."""
        size = check_bound(prefix, "prefix", utf8_size, MAX_KEY_BYTES)
        return self._page(prefix, prefix_end(prefix), limit, after, size)

    def range(self, start: Any, end: Any, limit: Any, after: Any) -> dict[str, Any]:
        """``ctx.state.range``: a page of the keys ``start <= key < end`` (``end`` None: to the
        last key)."""
        size = check_bound(start, "start", utf8_size, MAX_KEY_BYTES)
        if end is not None:
            size += check_bound(end, "end", utf8_size, MAX_KEY_BYTES)
        return self._page(start, end, limit, after, size)

    def _page(
        self, start: str, end: str | None, limit: Any, after: Any, size: int
    ) -> dict[str, Any]:
        limit = check_limit(limit)
        if after is not None:
            size += check_bound(after, "cursor", utf8_size, MAX_KEY_BYTES)
        self.meter.charge(SCAN_STEPS + size // BYTES_PER_STEP)
        committed = _from_state(self.state.scan, start, end, after, limit + 1)
        entries = merge_entries(self._buffered(start, end, after), _guarded(committed))
        return read_page(self.meter, entries, limit, _decode_stored, utf8_size)

    def _buffered(self, start: str, end: str | None, after: str | None) -> Iterator[Entry[str]]:
        """This invocation's own writes in the range, ascending."""
        if not self.writes:
            return
        if self.written is None:
            self.written = SortedSet(self.writes)
        low, inclusive = (start, True) if after is None or after < start else (after, False)
        for key in self.written.irange(low, end, inclusive=(inclusive, False)):
            data = self.writes[key]
            yield key, data, 0 if data is None else len(data)

    def emit(self, name: Any, payload: Any) -> None:
        self._writable()
        size = utf8_size(name) if type(name) is str else 0
        if not 0 < size <= MAX_EVENT_NAME_BYTES:
            raise InvalidValue(f"event names must be strings of 1..{MAX_EVENT_NAME_BYTES} bytes")
        frame = self.frame
        if len(frame.events) >= MAX_EVENTS:
            raise LimitExceeded(f"more than {MAX_EVENTS} events")
        self.meter.charge(EVENT_STEPS)
        canonical, data, _, _ = export_value(payload, EVENT_LIMITS, self.meter)
        if frame.event_bytes + len(data) + size > MAX_EVENT_TOTAL_BYTES:
            raise LimitExceeded(f"events larger than {MAX_EVENT_TOTAL_BYTES} bytes in total")
        frame.event_bytes += len(data) + size
        frame.events.append((self.contract, name, canonical))

    def call(self, name: Any, method: Any, args: Any, *, catch: bool) -> Any:
        """``ctx.call`` (``catch`` False) or ``ctx.try_call`` (True): see ``calls``."""
        name = check_name(name)
        if type(method) is not str:
            raise InvalidValue("a method name is a str")
        if type(args) is not list and type(args) is not tuple:
            raise InvalidValue("call arguments are a list")
        self.meter.charge(CONTRACT_CALL_STEPS)
        status, message, value = self._call(name, method, args)
        if status == "ok":
            return {"ok": True, "value": value} if catch else value
        if catch:
            return {"ok": False, "status": status, "message": message}
        where = f"{name}.{ascii(method)[1:-1][:MAX_NAME_IN_CALL]}"
        if status == "reverted":
            raise Revert(revert_message(f"{where}: {message}"))
        raise CallFailed(f"{where}: {status}: {message}")

    def _call(self, name: str, method: str, args: Any) -> tuple[str, str, Any]:
        """Run the call: ``(status, message, value)``, the value a fresh plain copy."""
        frame = self.frame
        refused = refusal(frame, name)
        if refused is not None:
            return "fault", refused, None
        before = self.meter.used
        try:
            plain_args = import_args(args, self.meter)
        except SandboxFault as e:
            return "bad_args", f"arguments: {e}", None
        self.meter.charge((self.meter.used - before) * (CALL_COPIES - 1))
        calls = frame.calls
        assert calls is not None  # refusal() said so
        callee = calls.resolve(name, frame)
        if isinstance(callee, str):
            return "unknown_contract", callee, None
        frame.called.add(name)
        events, event_bytes = len(frame.events), frame.event_bytes
        if self.private is not None:  # the collections are shared: the callee builds on these
            self.private.flush()  # (into the open journal, which a failure still rolls back)
        calls.begin_call()
        try:
            outcome = callee.contract.invoke_nested(
                method, plain_args, frame, self.meter, callee.state, callee.private
            )
            self.meter.charge(outcome.steps)
        except BaseException:  # out of steps or a host failure: the transaction ends
            calls.rollback_call()
            raise
        if outcome.status != "ok":
            calls.rollback_call()
            del frame.events[events:]
            frame.event_bytes = event_bytes
            return outcome.status, outcome.message, None
        calls.commit_call()
        before = self.meter.used
        value = export_value(outcome.value, RETURN_LIMITS, self.meter, sequence=list)[0]
        self.meter.charge((self.meter.used - before) * (CALL_COPIES - 1))
        return "ok", "", value

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
        if self.private is not None:  # opened: it may hold writes
            self.private.flush()

    def private_data(self) -> PrivateData:
        """``ctx.private``'s data, opened on first use; ``InvalidValue`` where there is none."""
        private = self.private
        if private is None:
            source = available(self.private_source)
            private = self.private = source(self.contract, self.frame)
        return private

    def private_put(self, collection: Any, key: Any, digest: Any, size: Any, subject: Any) -> Any:
        """``ctx.private.put`` (the reads are ``PrivateView``'s): a refusal reverts."""
        self._writable()
        checked_put_args(collection, key, digest, size, subject)
        self.meter.charge(PRIVATE_WRITE_STEPS)
        try:
            return plain_copy(self.private_data().put(collection, key, digest, size, subject))
        except PrivateRefusal as e:
            raise Revert(revert_message(str(e))) from None


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

    def scan(self, prefix: Any = "", limit: Any = DEFAULT_SCAN_LIMIT, after: Any = None) -> Any:
        return self._host.scan(prefix, limit, after)

    def range(
        self, start: Any, end: Any = None, limit: Any = DEFAULT_SCAN_LIMIT, after: Any = None
    ) -> Any:
        return self._host.range(start, end, limit, after)


class Context:
    """``ctx``: the only object through which a contract touches the world. ``ctx.tx`` and
    ``ctx.private``, which few invocations read, are made on first read (once)."""

    __slots__ = ("_host", "_private", "_tx", "block", "caller", "sender", "state")

    def __init__(self, host: Host, caller: str | None = None) -> None:
        frame = host.frame
        self._host = host
        self.sender = SenderView(frame.sender)
        self.block = BlockView(frame.block)
        self.state = StateView(host)
        self.caller = caller  # the contract that called this one; None: the transaction did
        self._tx: TxView | None = None
        self._private: PrivateView | None = None

    @property
    def tx(self) -> TxView:
        view = self._tx
        if view is None:
            view = self._tx = TxView(self._host.frame.tx)
        return view

    @property
    def private(self) -> PrivateView:
        view = self._private
        if view is None:
            view = self._private = PrivateView(self._host)
        return view

    def call(self, contract: Any, method: Any, args: Any = ()) -> Any:
        return self._host.call(contract, method, args, catch=False)

    def try_call(self, contract: Any, method: Any, args: Any = ()) -> Any:
        return self._host.call(contract, method, args, catch=True)

    def key(self, *parts: Any) -> str:
        return compose_key(self._host.meter, parts)

    def split_key(self, key: Any) -> list[str]:
        return split_key(self._host.meter, key)

    def emit(self, name: Any, payload: Any = None) -> None:
        self._host.emit(name, payload)

    def require(self, condition: Any, message: Any = DEFAULT_REQUIRE_MESSAGE) -> None:
        if type(message) is not str:
            raise InvalidValue("ctx.require needs a str message")
        if not condition:
            raise Revert(revert_message(message))


HOST_ATTRIBUTES: dict[type, frozenset[str]] = {
    Context: frozenset(
        {"block", "call", "caller", "emit", "key", "private", "require", "sender", "split_key"}
        | {"state", "try_call", "tx"}
    ),
    SenderView: frozenset({"attributes", "id", "org", "role"}),
    BlockView: frozenset({"height", "time"}),
    TxView: frozenset({"id"}),
    StateView: frozenset({"delete", "get", "has", "history", "put", "range", "scan"}),
    PrivateView: frozenset({"get", "grant", "put"}),
}
