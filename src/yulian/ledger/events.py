"""The event index: what every backend stores per event, and how it is queried.

Introduction
------------
Every event a committed receipt carries is indexed in the same atomic write as its block, at a
**cursor** ``(height, tx index, event index)``: the block, the tx's position in it and the
event's position in the tx's receipt. Cursors are unique and totally ordered, so a reader that
remembers the last cursor it was given resumes exactly after it — no gap, no duplicate — which
is what a resumable event stream needs.

An ``EventRecord`` is the ledger's byte-level view of one event: contract and name (text), the
event **key** (bytes, see ``event_key``) and the payload's canonical msgpack bytes. The replica
builds them from its receipts with ``block_events``; the ledger does not decode receipts.

A query (``Ledger.events``) returns events strictly after a cursor, in cursor order, filtered by
contract, name, key prefix and payload prefix, at most ``limit`` of them, after examining at most
``scan_limit`` events (so a filter that matches rarely never costs unbounded work). The page
says where the scan stopped (``next_after``) and whether it reached the head (``exhausted``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from yulian.ledger.validate import MAX_TXS_PER_BLOCK, InvalidInput, check_height
from yulian.types.encoding import Value, encode
from yulian.types.receipt import Receipt

__all__ = [
    "MAX_EVENTS_PER_BLOCK",
    "MAX_EVENTS_PER_TX",
    "MAX_EVENT_LIMIT",
    "MAX_EVENT_NAME_BYTES",
    "MAX_EVENT_PREFIX_BYTES",
    "MAX_EVENT_SCAN",
    "EventCursor",
    "EventFilter",
    "EventPage",
    "EventRecord",
    "StoredEvent",
    "block_events",
    "check_cursor",
    "check_event_query",
    "check_events",
    "event_key",
]

#: Most events of one tx (the runtime allows 64 per invocation; nested calls add up).
MAX_EVENTS_PER_TX = 65_536
#: Most events of one block.
MAX_EVENTS_PER_BLOCK = 1_000_000
#: Longest contract or event name, in UTF-8 bytes. Generous on purpose: the runtime limits names
#: to 64 characters, and the ledger must never refuse a block consensus has committed.
MAX_EVENT_NAME_BYTES = 256
#: Most events one query returns.
MAX_EVENT_LIMIT = 10_000
#: Most events one query examines (matching or not).
MAX_EVENT_SCAN = 100_000
#: Longest key or payload prefix a query may filter by, in bytes.
MAX_EVENT_PREFIX_BYTES = 1024
#: The field of a map payload that names the event's key.
KEY_FIELD = "key"


class EventCursor(NamedTuple):
    """The position of one event; tuples compare in cursor order."""

    height: int
    tx_index: int
    event_index: int

    @classmethod
    def before(cls, height: int) -> EventCursor:
        """The cursor just before the first event of block ``height``: ``events(after=...)``
        from it starts at that block."""
        check_height(height, allow_zero=False)
        return cls(height - 1, MAX_TXS_PER_BLOCK, MAX_EVENTS_PER_TX)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as the ledger stores it (``BlockCommit.events``)."""

    tx_index: int
    event_index: int
    contract: str
    name: str
    key: bytes
    payload: bytes  # canonical msgpack of the event payload


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as a query returns it: the record, where it is, and its tx."""

    cursor: EventCursor
    tx_id: bytes
    contract: str
    name: str
    key: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What a query keeps: ``None`` or an empty prefix means any."""

    contract: str | None = None
    name: str | None = None
    key_prefix: bytes = b""
    payload_prefix: bytes = b""

    def in_group(self, contract: str, name: str) -> bool:
        """Whether a query walks past this event at all: a contract filter (and a name filter
        with it) selects an index, and only the events in it are examined and counted against
        ``scan_limit``; a name filter alone is checked on each event like the prefixes."""
        return self.contract is None or (
            contract == self.contract and (self.name is None or name == self.name)
        )

    def matches(self, contract: str, name: str, key: bytes, payload: bytes) -> bool:
        return (
            (self.contract is None or contract == self.contract)
            and (self.name is None or name == self.name)
            and key.startswith(self.key_prefix)
            and payload.startswith(self.payload_prefix)
        )


@dataclass(frozen=True, slots=True)
class EventPage:
    """A query's answer. ``next_after`` is the last cursor examined (``after`` when none was):
    pass it as ``after`` to continue. ``exhausted``: every event up to ``head`` was examined,
    so the next events will come from blocks above ``head``. ``head`` is the ledger height of
    the snapshot the page was read from."""

    events: list[StoredEvent]
    next_after: EventCursor | None
    exhausted: bool
    head: int


def event_key(payload: Value) -> bytes:
    """The key of an event, by which subscribers filter it: the payload itself when it is
    bytes or text (UTF-8), else the ``"key"`` field of a map payload when that is bytes or
    text, else empty. Explicit, so adding fields to a payload never changes its key."""
    if isinstance(payload, dict):
        payload = payload.get(KEY_FIELD)
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return b""


def block_events(receipts: Sequence[Receipt]) -> tuple[EventRecord, ...]:
    """The event records of a block's receipts, in cursor order."""
    return tuple(
        _record(i, j, e.contract, e.name, event_key(e.payload), encode(e.payload))
        for i, receipt in enumerate(receipts)
        for j, e in enumerate(receipt.events)
    )


_SET_TX, _SET_EVENT, _SET_CONTRACT, _SET_NAME, _SET_KEY, _SET_PAYLOAD = (
    getattr(EventRecord, field).__set__ for field in EventRecord.__slots__
)


def _record(
    tx_index: int, event_index: int, contract: str, name: str, key: bytes, payload: bytes
) -> EventRecord:
    """``EventRecord(...)`` without the frozen dataclass's ``__init__``, which sets each field
    through ``object.__setattr__`` (half the Python cost of an event on the commit path): the
    same object, its slots filled directly."""
    record: EventRecord = object.__new__(EventRecord)
    _SET_TX(record, tx_index)
    _SET_EVENT(record, event_index)
    _SET_CONTRACT(record, contract)
    _SET_NAME(record, name)
    _SET_KEY(record, key)
    _SET_PAYLOAD(record, payload)
    return record


def _check_name(value: object, what: str) -> str:
    try:
        size = len(value.encode("utf-8")) if type(value) is str else 0
    except UnicodeEncodeError:
        size = 0
    if not 1 <= size <= MAX_EVENT_NAME_BYTES:
        raise InvalidInput(f"{what} must be a str of 1..{MAX_EVENT_NAME_BYTES} UTF-8 bytes")
    assert isinstance(value, str)
    return value


def _check_prefix(value: object, what: str) -> bytes:
    if type(value) is not bytes or len(value) > MAX_EVENT_PREFIX_BYTES:
        raise InvalidInput(f"{what} must be bytes of at most {MAX_EVENT_PREFIX_BYTES}")
    return value


def check_events(events: object, tx_count: int, max_record_bytes: int) -> None:
    """Check a block's event records: a tuple in cursor order, each tx's events numbered
    0, 1, 2, ... and belonging to one of the block's ``tx_count`` txs."""
    if type(events) is not tuple:
        raise InvalidInput("events must be a tuple")
    if len(events) > MAX_EVENTS_PER_BLOCK:
        raise InvalidInput(f"{len(events)} events, over {MAX_EVENTS_PER_BLOCK}")
    previous_tx, previous_event = -1, -1
    checked: set[tuple[str, str]] = set()  # (contract, name) pairs that passed: names repeat
    for e in events:  # once per event of every block: the checkers only name a fault
        if type(e) is not EventRecord:
            raise InvalidInput(f"an event must be an EventRecord, got {type(e).__name__}")
        i, j = e.tx_index, e.event_index
        if type(i) is not int or not 0 <= i < tx_count:
            raise InvalidInput(f"event tx index {i!r} outside [0, {tx_count})")
        expected = previous_event + 1 if i == previous_tx else 0
        if i < previous_tx or j != expected or type(j) is not int:
            raise InvalidInput(f"event ({i}, {j!r}) out of order: expected ({i}, {expected})")
        if j >= MAX_EVENTS_PER_TX:
            raise InvalidInput(f"tx {i} has more than {MAX_EVENTS_PER_TX} events")
        contract, name = e.contract, e.name
        if type(contract) is not str or type(name) is not str or (contract, name) not in checked:
            _check_name(contract, "event contract")
            _check_name(name, "event name")
            checked.add((contract, name))
        key, payload = e.key, e.payload
        if type(key) is not bytes or len(key) > max_record_bytes:
            raise InvalidInput(f"event key must be bytes of at most {max_record_bytes}")
        if type(payload) is not bytes or len(payload) > max_record_bytes:
            raise InvalidInput(f"event payload must be bytes of at most {max_record_bytes}")
        previous_tx, previous_event = i, j


def check_cursor(cursor: object) -> EventCursor | None:
    """Return ``cursor`` as an ``EventCursor`` (or None); raise ``InvalidInput``."""
    if cursor is None:
        return None
    if not isinstance(cursor, tuple) or len(cursor) != 3:
        raise InvalidInput(f"a cursor is (height, tx index, event index), got {cursor!r}")
    height, tx_index, event_index = cursor
    check_height(height)
    if type(tx_index) is not int or not 0 <= tx_index <= MAX_TXS_PER_BLOCK:
        raise InvalidInput(f"cursor tx index {tx_index!r} outside [0, {MAX_TXS_PER_BLOCK}]")
    if type(event_index) is not int or not 0 <= event_index <= MAX_EVENTS_PER_TX:
        raise InvalidInput(f"cursor event index {event_index!r} outside [0, {MAX_EVENTS_PER_TX}]")
    return EventCursor(height, tx_index, event_index)


def check_event_query(
    after: object,
    limit: object,
    scan_limit: object,
    contract: object,
    name: object,
    key_prefix: object,
    payload_prefix: object,
) -> tuple[EventCursor | None, EventFilter]:
    """Validate the arguments of ``Ledger.events``; return the cursor and the filter."""
    cursor = check_cursor(after)
    if type(limit) is not int or not 1 <= limit <= MAX_EVENT_LIMIT:
        raise InvalidInput(f"limit must be an int in [1, {MAX_EVENT_LIMIT}], got {limit!r}")
    if type(scan_limit) is not int or not 1 <= scan_limit <= MAX_EVENT_SCAN:
        raise InvalidInput(f"scan_limit must be an int in [1, {MAX_EVENT_SCAN}]")
    return cursor, EventFilter(
        contract=None if contract is None else _check_name(contract, "contract"),
        name=None if name is None else _check_name(name, "event name"),
        key_prefix=_check_prefix(key_prefix, "key_prefix"),
        payload_prefix=_check_prefix(payload_prefix, "payload_prefix"),
    )
