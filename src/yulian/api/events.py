"""Introduction: events as the API shows them — the cursor's text form, the event's JSON, and
the REST page of the event index (``GET /v1/events``).

A cursor is written ``"<height>.<tx index>.<event index>"`` everywhere: in answers, in the
``after`` parameter, in the stream's messages and in its subscribe request. It is the ledger's
position of an event (``ledger/events.py``), so "strictly after this cursor" resumes exactly
where a reader stopped, on any node, across restarts. The stream (``stream.py``) gives block
and tx messages cursors in the same order: a tx's message sorts after its events, a block's
after all of its txs.

Events follow their contract's read policy (decision 0093): a page or a stream filter that
names a contract the caller may not read is refused (401/403, as ``/v1/query``); one that
names none leaves out the events of contracts the caller may not read.
"""

from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from yulian.api.auth import Authenticator, ReadGuard
from yulian.api.limits import (
    DEFAULT_EVENTS_PAGE,
    EVENT_SCAN,
    MAX_EVENT_PREFIX,
    MAX_EVENTS_PAGE,
    MAX_HEIGHT,
    MAX_NAME_LEN,
)
from yulian.api.openapi import answers
from yulian.api.port import NodePort
from yulian.api.problems import Problem
from yulian.api.schemas_reads import EventsPage
from yulian.ledger import MAX_TXS_PER_BLOCK
from yulian.ledger.events import MAX_EVENTS_PER_TX, EventCursor, EventFilter, StoredEvent
from yulian.types.encoding import DecodeError, decode
from yulian.types.jsonvalue import to_json

CURSOR_PATTERN = r"^[0-9]{1,19}\.[0-9]{1,7}\.[0-9]{1,5}$"
_CURSOR = re.compile(CURSOR_PATTERN)
HEX_PREFIX_PATTERN = rf"^(?:[0-9a-fA-F]{{2}}){{0,{MAX_EVENT_PREFIX}}}$"
NO_NUL = r"^[^\u0000]+$"
#: The cursor of tx ``i``'s message in block ``h`` is ``(h, i, TX_SLOT)``: after its events.
TX_SLOT = MAX_EVENTS_PER_TX


class CursorError(ValueError):
    """A cursor that is not ``height.tx.event`` within the ledger's ranges."""


def parse_cursor(text: str) -> EventCursor:
    if not _CURSOR.match(text):
        raise CursorError(f"a cursor is <height>.<tx index>.<event index>, got {text[:40]!r}")
    height, tx_index, event_index = (int(p) for p in text.split("."))
    if height > MAX_HEIGHT or tx_index > MAX_TXS_PER_BLOCK or event_index > MAX_EVENTS_PER_TX:
        raise CursorError(
            f"cursor {text} out of range (height ≤ {MAX_HEIGHT}, tx ≤ {MAX_TXS_PER_BLOCK}, "
            f"event ≤ {MAX_EVENTS_PER_TX})"
        )
    return EventCursor(height, tx_index, event_index)


def format_cursor(cursor: EventCursor) -> str:
    return f"{cursor.height}.{cursor.tx_index}.{cursor.event_index}"


def block_cursor(height: int) -> EventCursor:
    """The cursor of block ``height``'s own message: after every tx and event of it."""
    return EventCursor.before(height + 1)


def tx_cursor(height: int, index: int) -> EventCursor:
    return EventCursor(height, index, TX_SLOT)


def event_json(event: StoredEvent) -> bytes:
    """One event as the page and the stream send it (``type`` ``event``)."""
    try:
        payload = to_json(decode(event.payload))
    except DecodeError:  # the runtime only emits values that decode; never a 500 for one
        payload = {"$bytes": event.payload.hex()}
    c = event.cursor
    return orjson.dumps(
        {
            "type": "event",
            "cursor": format_cursor(c),
            "height": c.height,
            "tx_index": c.tx_index,
            "event_index": c.event_index,
            "tx_id": event.tx_id.hex(),
            "contract": event.contract,
            "name": event.name,
            "key": event.key.hex(),
            "payload": payload,
        }
    )


def event_filter(
    contract: str | None, name: str | None, key_prefix: str, payload_prefix: str
) -> EventFilter:
    """A filter from the API's text form (prefixes in hex; checked by the caller's pattern)."""
    return EventFilter(
        contract=contract or None,
        name=name or None,
        key_prefix=bytes.fromhex(key_prefix),
        payload_prefix=bytes.fromhex(payload_prefix),
    )


def router(port: NodePort, auth: Authenticator, guard: ReadGuard) -> APIRouter:
    api = APIRouter()

    @api.get(
        "/v1/events",
        summary="A page of committed events, in cursor order, filtered",
        description="The event index: events strictly after `after` (or from block "
        "`from_height`; default: the first) whose contract, name, key and payload match every "
        "filter given. Prefixes are hex. At most `limit` events come back, after at most "
        f"{EVENT_SCAN:,} were examined: continue from `next_after` until `exhausted`. The "
        "WebSocket `/v1/events/stream` sends the same events, then follows new blocks "
        "(docs/api.md, `EventStream*` schemas). Events below this node's floor (pruned, or "
        "started from a snapshot) are gone: a page that would start there is a 410 naming "
        "the floor to start from.",
        response_model=None,
        responses=answers(
            EventsPage,
            (400, "malformed_request, malformed_cursor"),
            (401, "authentication_required"),
            (403, "read_not_allowed"),
            (410, "archived, not_held"),
        ),
    )
    async def events(
        request: Request,
        contract: str | None = Query(None, min_length=1, max_length=MAX_NAME_LEN, pattern=NO_NUL),
        name: str | None = Query(None, min_length=1, max_length=MAX_NAME_LEN, pattern=NO_NUL),
        key_prefix: str = Query("", pattern=HEX_PREFIX_PATTERN, description="hex"),
        payload_prefix: str = Query(
            "", pattern=HEX_PREFIX_PATTERN, description="hex, of the payload's msgpack"
        ),
        after: str | None = Query(None, max_length=40, description="a cursor h.t.e"),
        from_height: int | None = Query(None, ge=1, le=MAX_HEIGHT),
        limit: int = Query(DEFAULT_EVENTS_PAGE, ge=1, le=MAX_EVENTS_PAGE),
    ) -> Response:
        if after is not None and from_height is not None:
            raise Problem("malformed_request", 400, "give after or from_height, not both")
        caller = auth.caller(request)
        if contract is not None:
            guard.require(caller, contract)
        readable = guard.readable(caller)
        start: EventCursor | None = None
        if after is not None:
            try:
                start = parse_cursor(after)
            except CursorError as e:
                raise Problem("malformed_cursor", 400, str(e)) from None
        elif from_height is not None:
            start = EventCursor.before(from_height)
        page = port.events(
            start, limit, event_filter(contract, name, key_prefix, payload_prefix), EVENT_SCAN
        )
        body = b"".join(
            (
                b'{"events":[',
                b",".join(event_json(e) for e in page.events if readable(e.contract, page.head)),
                b'],"next_after":',
                orjson.dumps(format_cursor(page.next_after) if page.next_after else None),
                b',"exhausted":',
                orjson.dumps(page.exhausted),
                b',"head":',
                orjson.dumps(page.head),
                b"}",
            )
        )
        return Response(body, media_type="application/json")

    return api
