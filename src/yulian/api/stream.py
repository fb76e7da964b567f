"""Introduction: the event stream — replay from the ledger, then live from the commit feed.

A subscriber asks (one JSON message, ``EventStreamSubscribe``) for any of: a message per
committed block, a message when each of some tx ids commits, and the events that pass any of
up to ``MAX_STREAM_FILTERS`` filters (contract, event name, key and payload prefixes). Every
message carries a cursor; messages come in cursor order, so a subscriber that keeps the last
cursor it processed and asks again with ``after`` gets exactly what followed it.

No gap, no duplicate: the stream **first** subscribes to the commit feed (live delivery starts
at its ``start_height`` S), **then** replays from the ledger every message after the
subscriber's cursor in blocks below S — the ledger holds at least those, since a block is
durable before it is published — and then sends, block by block, what the feed delivers from
S on. Replay and live meet at S exactly.

Bounded: a subscriber holds one feed subscription with its own queue (``queue`` blocks); a
subscriber that falls that far behind — it reads too slowly, or not at all — is dropped by the
feed without costing the commit path anything, and disconnected here with close code 4408 (it
resumes from its last cursor). A frame that cannot leave within ``SEND_TIMEOUT_S`` ends the
same way. The replay reads the ledger a page at a time and lets the event loop run between
frames. A live block's events, their JSON and each distinct subscription's frame are computed
once and shared by every subscriber that sees the same (``CommittedBlock.shared``).

Who may see what (decision 0093): the handshake is authenticated like a REST request (the
four signed-request headers on the ``GET`` that opens the WebSocket, ``api/auth.py``) and
spends the caller's rate limit. A filter naming a contract the caller may not read refuses
the subscription (close 4401 anonymous, 4403 a member outside the policy; 4429 over the rate
limit); a filter naming none leaves out events of contracts the caller may not read. Block
and tx messages carry only what is public (headers, tx ids and statuses).

A replay that would start below the node's floor (it was pruned, or started from a snapshot)
is refused before the first frame with close 4410, whose reason is the ``archived`` or
``not_held`` problem's code and detail (where the blocks are, and the floor to resume from):
a replay is never silently short.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from yulian.api.archived import floor_of, not_held_problem
from yulian.api.auth import Authenticator, Caller, ContractFilter, ReadGuard
from yulian.api.events import (
    block_cursor,
    event_filter,
    event_json,
    format_cursor,
    parse_cursor,
    tx_cursor,
)
from yulian.api.limits import (
    EVENT_SCAN,
    FRAME_BYTES,
    FRAME_ITEMS,
    MAX_STREAM_SUBSCRIBERS,
    MAX_SUBSCRIBE_BYTES,
    SEND_TIMEOUT_S,
    SUBSCRIBE_TIMEOUT_S,
)
from yulian.api.port import (
    CommittedBlock,
    NodePort,
    NotHeld,
    Subscription,
    SubscriptionDropped,
    TooManySubscribers,
)
from yulian.api.problems import Problem
from yulian.api.schemas_reads import EventStreamSubscribe
from yulian.ledger.events import EventCursor, EventFilter

log = logging.getLogger("yulian.stream")

#: Close codes (RFC 6455 §7.4; 4000-4999 are the application's).
CLOSE_NORMAL = 1000
CLOSE_NODE_STOPPING = 1001
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013  # too many subscribers
CLOSE_BAD_REQUEST = 4400  # the subscribe message is missing, malformed or over a limit
CLOSE_SLOW = 4408  # fell its queue behind (or a frame could not leave): resume from the cursor
CLOSE_UNAUTHORISED = 4401  # the handshake's signature failed, or a filter needs a member
CLOSE_NOT_ALLOWED = 4403  # a filter names a contract the caller's organisation may not read
CLOSE_RATE_LIMITED = 4429  # over the caller's rate limit; the reason says when to retry
CLOSE_NOT_HELD = 4410  # the replay starts below this node's floor; the reason says where it is
PROBLEM_CLOSES = {401: CLOSE_UNAUTHORISED, 403: CLOSE_NOT_ALLOWED, 429: CLOSE_RATE_LIMITED}
CLOSE_REASONS = {
    CLOSE_NORMAL: "closed",
    CLOSE_NODE_STOPPING: "node_stopping",
    CLOSE_INTERNAL: "internal_error",
    CLOSE_TRY_LATER: "too_many_subscribers",
    CLOSE_BAD_REQUEST: "bad_request",
    CLOSE_SLOW: "slow_consumer",
    CLOSE_UNAUTHORISED: "unauthorised",
    CLOSE_NOT_ALLOWED: "read_not_allowed",
    CLOSE_RATE_LIMITED: "rate_limited",
    CLOSE_NOT_HELD: "not_held",
}
CLOSE_WAIT_S = 2.0  # a close frame that cannot leave by then is given up on
REPLAY_PAGE = 1000  # events per ledger read during the replay

Item = tuple[EventCursor, bytes]  # a message at its cursor, as JSON


class StreamRequestError(ValueError):
    """A subscribe message the stream refuses (close 4400, the reason says why)."""


@dataclass(frozen=True)
class StreamRequest:
    blocks: bool
    txs: tuple[bytes, ...]
    filters: tuple[EventFilter, ...]
    after: EventCursor | None
    from_height: int | None
    queue: int

    @property
    def key(self) -> tuple[object, ...]:
        """Equal for subscriptions that get the same messages from a block (frame sharing)."""
        return ("frame", self.blocks, self.txs, self.filters)


def parse_request(text: str | bytes) -> StreamRequest:
    if len(text) > MAX_SUBSCRIBE_BYTES:
        raise StreamRequestError(f"the subscribe message is over {MAX_SUBSCRIBE_BYTES} bytes")
    try:
        message = EventStreamSubscribe.model_validate(orjson.loads(text))
    except orjson.JSONDecodeError as e:
        raise StreamRequestError(f"not JSON: {e}") from None
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise StreamRequestError(f"{where}: {first.get('msg', 'invalid')}") from None
    if message.after is not None and message.from_height is not None:
        raise StreamRequestError("give after or from_height, not both")
    if not (message.blocks or message.txs or message.events):
        raise StreamRequestError("subscribe to blocks, txs or events (at least one)")
    try:
        txs = tuple(sorted({bytes.fromhex(t) for t in message.txs}))
        after = parse_cursor(message.after) if message.after is not None else None
    except ValueError as e:
        raise StreamRequestError(str(e)) from None
    if any(not 16 <= len(t) <= 64 for t in txs):
        raise StreamRequestError("a tx id is 16..64 bytes of hex")
    filters = tuple(
        dict.fromkeys(
            event_filter(f.contract, f.name, f.key_prefix, f.payload_prefix) for f in message.events
        )
    )
    return StreamRequest(message.blocks, txs, filters, after, message.from_height, message.queue)


class EventStream:
    """The frames of one subscription: the replay below ``start_height``, then live blocks."""

    def __init__(
        self,
        port: NodePort,
        request: StreamRequest,
        subscription: Subscription,
        readable: ContractFilter,
    ) -> None:
        self._port = port
        self.request = request
        self._readable = readable
        identity = readable.caller.identity
        #: subscriptions that get the same messages from a block share its frames
        self.key = (*request.key, identity.id if identity is not None else None)
        self._subscription = subscription
        self.live_from = subscription.start_height
        r = request
        if r.after is not None:
            self.cursor = r.after
        elif r.from_height is not None:
            self.cursor = EventCursor.before(r.from_height)
        else:
            self.cursor = EventCursor.before(self.live_from)

    async def frames(self) -> AsyncIterator[bytes]:
        """JSON arrays of messages, in cursor order; raises ``SubscriptionDropped``."""
        batch: list[bytes] = []
        size = 0
        for cursor, message in self._replay():
            if batch and (len(batch) >= FRAME_ITEMS or size + len(message) > FRAME_BYTES):
                yield _frame(batch)
                batch, size = [], 0
                await asyncio.sleep(0)
            batch.append(message)
            size += len(message) + 1
            self.cursor = cursor
        live = block_cursor(self.live_from - 1)
        if live > self.cursor:
            self.cursor = live
        live_message = {"type": "live", "cursor": format_cursor(live), "height": self.live_from - 1}
        batch.append(orjson.dumps(live_message))
        yield _frame(batch)
        async for block in self._subscription:
            for frame in self._live_frames(block):
                yield frame

    # --- the replay ---------------------------------------------------------------------------
    def replay_not_held(self) -> str | None:
        """Why the replay cannot start, when it would start below this node's floor (checked
        before the first frame: a replay never skips what is gone); the close reason, short
        enough for one (the floor first: where to resume)."""
        c = self.cursor
        first = c.height + 1 if c == block_cursor(c.height) else c.height
        floor = floor_of(self._port)
        if first >= floor or first >= self.live_from:
            return None
        gone = self._port.not_held(first) or NotHeld(first, floor)
        problem = not_held_problem(gone, "the replay")
        where = f"; heights {gone.first}..{gone.last} in {gone.archive}" if gone.archive else ""
        return f"{problem.code}: floor {floor}, height {first}{where}"

    def _replay(self) -> Iterator[Item]:
        sources = [self._events_of(f) for f in self.request.filters]
        if self.request.blocks:
            sources.append(self._blocks())
        if self.request.txs:
            sources.append(iter(self._committed_txs()))
        last: EventCursor | None = None
        for cursor, message in heapq.merge(*sources, key=lambda item: item[0]):
            if cursor != last:  # an event two filters match is sent once
                last = cursor
                yield cursor, message

    def _events_of(self, f: EventFilter) -> Iterator[Item]:
        after = self.cursor
        while True:
            page = self._port.events(after, REPLAY_PAGE, f, EVENT_SCAN)
            for e in page.events:
                if e.cursor.height >= self.live_from:
                    return
                if self._readable(e.contract, page.head):
                    yield e.cursor, event_json(e)
            if (
                page.exhausted
                or page.next_after is None
                or page.next_after.height >= self.live_from
            ):
                return
            after = page.next_after

    def _blocks(self) -> Iterator[Item]:
        for height in range(max(1, self.cursor.height), self.live_from):
            cursor = block_cursor(height)
            if cursor <= self.cursor:
                continue
            (summary,) = self._port.block_summaries(height + 1, 1)
            h = summary.header
            yield (
                cursor,
                _block_json(
                    cursor, h.height, summary.block_hash, h.time_ms, h.tx_count, h.proposer
                ),
            )

    def _committed_txs(self) -> list[Item]:
        items = []
        for tx_id in self.request.txs:
            status = self._port.tx_status(tx_id)
            if status.status != "committed" or status.height >= self.live_from:
                continue
            cursor = tx_cursor(status.height, status.index)
            receipt = self._port.receipt(status.height, status.index)
            if cursor > self.cursor and receipt is not None:
                items.append(
                    (
                        cursor,
                        _tx_json(
                            cursor,
                            tx_id,
                            status.height,
                            status.index,
                            receipt.status,
                            receipt.message,
                        ),
                    )
                )
        return sorted(items)

    # --- live blocks -----------------------------------------------------------------------------
    def _live_frames(self, block: CommittedBlock) -> tuple[bytes, ...]:
        """This subscription's frames of ``block`` (shared with equal subscriptions)."""
        key = self.key
        if key not in block.shared:
            block.shared[key] = self._build_frames(block)
        frames = block.shared[key]
        assert isinstance(frames, tuple)
        if frames:
            self.cursor = block_cursor(block.height)
        return frames

    def _build_frames(self, block: CommittedBlock) -> tuple[bytes, ...]:
        r = self.request
        items: list[Item] = []
        if r.filters:
            events = block.events()
            jsons = block.shared.get("event_json")
            if jsons is None:
                jsons = block.shared["event_json"] = tuple(event_json(e) for e in events)
            assert isinstance(jsons, tuple)
            for e, message in zip(events, jsons, strict=True):
                if not self._readable(e.contract, block.height):
                    continue
                if any(f.matches(e.contract, e.name, e.key, e.payload) for f in r.filters):
                    items.append((e.cursor, message))
        for tx_id in r.txs:
            index = block.index_of(tx_id)
            if index is not None:
                receipt = block.receipts()[index]
                cursor = tx_cursor(block.height, index)
                message = _tx_json(
                    cursor, tx_id, block.height, index, receipt.status, receipt.message
                )
                items.append((cursor, message))
        if r.blocks:
            cursor = block_cursor(block.height)
            (summary,) = self._port.block_summaries(block.height + 1, 1)
            h = summary.header
            items.append(
                (
                    cursor,
                    _block_json(
                        cursor, h.height, block.block_hash, h.time_ms, h.tx_count, h.proposer
                    ),
                )
            )
        items.sort(key=lambda item: item[0])
        return _split([message for _, message in items])


def _frame(messages: list[bytes]) -> bytes:
    return b"[" + b",".join(messages) + b"]"


def _split(messages: list[bytes]) -> tuple[bytes, ...]:
    """Messages as frames of at most ``FRAME_ITEMS`` messages and about ``FRAME_BYTES``."""
    frames: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for message in messages:
        if batch and (len(batch) >= FRAME_ITEMS or size + len(message) > FRAME_BYTES):
            frames.append(_frame(batch))
            batch, size = [], 0
        batch.append(message)
        size += len(message) + 1
    if batch:
        frames.append(_frame(batch))
    return tuple(frames)


def _block_json(
    cursor: EventCursor, height: int, block_hash: bytes, time_ms: int, tx_count: int, proposer: str
) -> bytes:
    return orjson.dumps(
        {
            "type": "block",
            "cursor": format_cursor(cursor),
            "height": height,
            "hash": block_hash.hex(),
            "time_ms": time_ms,
            "tx_count": tx_count,
            "proposer": proposer,
        }
    )


def _tx_json(
    cursor: EventCursor, tx_id: bytes, height: int, index: int, status: str, message: str
) -> bytes:
    return orjson.dumps(
        {
            "type": "tx",
            "cursor": format_cursor(cursor),
            "id": tx_id.hex(),
            "height": height,
            "index": index,
            "status": status,
            "message": message,
        }
    )


class StreamHub:
    """Every event-stream connection of the node: their number and how they ended."""

    def __init__(
        self,
        port: NodePort,
        auth: Authenticator,
        guard: ReadGuard,
        max_subscribers: int = MAX_STREAM_SUBSCRIBERS,
    ) -> None:
        self._port = port
        self._auth = auth
        self._guard = guard
        self.max_subscribers = max_subscribers
        self.subscribers = 0
        self.frames_sent = 0
        self.closed: dict[str, int] = {reason: 0 for reason in CLOSE_REASONS.values()}

    async def serve(self, websocket: WebSocket) -> None:
        """One connection, from the handshake to its close code."""
        await websocket.accept()
        try:
            caller = self._auth.caller(websocket)
        except Problem as e:
            await self._refuse(websocket, e)
            return
        try:
            text = await asyncio.wait_for(websocket.receive_text(), SUBSCRIBE_TIMEOUT_S)
            request = parse_request(text)
        except TimeoutError:
            await self._close(websocket, CLOSE_BAD_REQUEST, "no subscribe message in time")
            return
        except (StreamRequestError, KeyError, RuntimeError) as e:
            await self._close(websocket, CLOSE_BAD_REQUEST, str(e) or "expected a text message")
            return
        except WebSocketDisconnect:
            return
        try:
            readable = self._admit(caller, request)
        except Problem as e:
            await self._refuse(websocket, e)
            return
        if self.subscribers >= self.max_subscribers:
            await self._close(websocket, CLOSE_TRY_LATER, f"{self.max_subscribers} subscribers")
            return
        try:
            subscription = self._port.commits.subscribe(request.queue)
        except TooManySubscribers as e:
            await self._close(websocket, CLOSE_TRY_LATER, str(e))
            return
        self.subscribers += 1
        try:
            stream = EventStream(self._port, request, subscription, readable)
            gone = stream.replay_not_held()
            if gone is not None:
                await self._close(websocket, CLOSE_NOT_HELD, gone)
                return
            await self._run(websocket, stream)
        finally:
            self.subscribers -= 1
            subscription.close()

    async def _run(self, websocket: WebSocket, stream: EventStream) -> None:
        pump = asyncio.ensure_future(self._pump(websocket, stream))
        dropped = asyncio.ensure_future(stream._subscription.wait_dropped())
        reader = asyncio.ensure_future(_until_closed(websocket))
        try:
            await asyncio.wait((pump, dropped, reader), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, dropped, reader):
                task.cancel()
            for task in (pump, dropped, reader):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        cause = _cause(pump, dropped)
        if (reader.done() and not reader.cancelled()) or isinstance(cause, WebSocketDisconnect):
            self.closed[CLOSE_REASONS[CLOSE_NORMAL]] += 1  # the client went away
            return
        if isinstance(cause, SubscriptionDropped):
            code = CLOSE_NODE_STOPPING if cause.stopping else CLOSE_SLOW
            reason = f"{cause}; resume after {format_cursor(stream.cursor)}"
        elif isinstance(cause, TimeoutError):
            code, reason = CLOSE_SLOW, f"a frame did not leave in {SEND_TIMEOUT_S:g} s"
        else:
            log.error("event stream failed", exc_info=cause)
            code, reason = CLOSE_INTERNAL, "internal error (see the node log)"
        await self._close(websocket, code, reason)

    async def _pump(self, websocket: WebSocket, stream: EventStream) -> None:
        async for frame in stream.frames():
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await websocket.send_text(frame.decode())
            self.frames_sent += 1

    def _admit(self, caller: Caller, request: StreamRequest) -> ContractFilter:
        """Refuse (``Problem``) a filter naming a contract the caller may not read; the
        filter of what the caller may read otherwise."""
        for contract in sorted({f.contract for f in request.filters if f.contract is not None}):
            self._guard.require(caller, contract)
        return self._guard.readable(caller)

    async def _refuse(self, websocket: WebSocket, problem: Problem) -> None:
        code = PROBLEM_CLOSES.get(problem.status, CLOSE_BAD_REQUEST)
        await self._close(websocket, code, f"{problem.code}: {problem.detail}")

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        self.closed[CLOSE_REASONS[code]] += 1
        # a close reason is at most 123 bytes of UTF-8
        text = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, text), CLOSE_WAIT_S)


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it closes the connection."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


def _cause(*tasks: asyncio.Future[Any]) -> BaseException | None:
    for task in tasks:
        if task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                return error
            result = task.result()
            if isinstance(result, BaseException):
                return result
    return None
