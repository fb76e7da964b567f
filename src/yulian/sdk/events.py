"""Introduction: the event stream from the client's side — an iterator that resumes by itself.

``Client.subscribe(...)`` returns an ``EventSubscription``: iterate it to get the stream's
messages (``event``, ``tx``, ``block``; dicts as ``docs/api.md`` describes them), in cursor
order. It remembers the cursor of the last message it handed out (``cursor``); when the
connection ends for any reason but a refused request — the node dropped a slow reader (4408),
the node stopped (1001), the network failed — it reconnects with ``after=cursor``, so the
messages continue exactly after the last one returned: none missed, none repeated. Reconnects
back off from 0.1 s to 5 s and give up after ``retry_for_s`` seconds without a connection
(``StreamClosed``). A refused subscription — malformed (4400), needing a signature (4401), of
a contract the caller may not read (4403), or a replay from below the node's floor (4410) —
raises ``StreamRefused`` at once. Over the caller's rate limit (4429) it waits as the node's
reason says ("retry in N s"), backing off, and tries again until ``retry_for_s`` has passed
since the first refusal in a row: a rate limit passes. With ``sign`` (``Client.subscribe``
passes it for a client with a wallet) every connection's handshake carries fresh
signed-request headers (decision 0093).

Over ``https://`` the stream is ``wss://`` with the client's trust: ``ssl_context`` (the
``NodeTrust``'s: the consortium's roots) and ``check_peer``, which sees the server's
certificate before the subscribe message is sent (``NodeTrust.check_certificate``: a node of
the consortium, the one asked for) — the same trust as the client's REST calls.

Use it in a ``with`` block, or call ``close()``; a ``for`` loop over it runs until then.
"""

from __future__ import annotations

import re
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

STREAM_PATH = "/v1/events/stream"
CLOSE_BAD_REQUEST = 4400
CLOSE_RATE_LIMITED = 4429
#: the node's refusals: the same request would be refused again, so none is retried (a rate
#: limit, 4429, passes: it is retried within ``retry_for_s``)
REFUSED_CODES = frozenset({CLOSE_BAD_REQUEST, 4401, 4403, 4410})
_RETRY_IN = re.compile(r"retry in (\d{1,6}) s")
MAX_FRAME_BYTES = 8 << 20  # the node's frames are about 1 MiB at most
# frames received but not yet iterated; past this the connection stops reading, so a reader
# that falls behind holds little memory and the node sees it as slow (4408), not this process
MAX_QUEUED_FRAMES = 4
# how long close() waits for the node's answer to our close frame: the reader is leaving and
# has nothing left to receive, so a busy node need not hold it (websockets waits 10 s)
CLOSE_TIMEOUT_S = 1.0
BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0


class StreamClosed(Exception):
    """The stream could not be (re)opened within the retry window, or was closed."""


class StreamRefused(StreamClosed):
    """The node refused the subscription (``REFUSED_CODES``); the reason says why."""


def cursor_key(cursor: str) -> tuple[int, int, int]:
    """A cursor ``"h.t.e"`` as a tuple that compares in stream order."""
    height, tx_index, event_index = (int(p) for p in cursor.split("."))
    return height, tx_index, event_index


def event_filter(
    contract: str | None = None,
    name: str | None = None,
    key_prefix: bytes | str = b"",
    payload_prefix: bytes = b"",
) -> dict[str, Any]:
    """A filter for ``Client.subscribe(filters=[...])``: a text key prefix is its UTF-8."""
    key = key_prefix.encode("utf-8") if isinstance(key_prefix, str) else key_prefix
    out: dict[str, Any] = {"key_prefix": key.hex(), "payload_prefix": payload_prefix.hex()}
    if contract is not None:
        out["contract"] = contract
    if name is not None:
        out["name"] = name
    return out


class EventSubscription:
    """The stream's messages, in order, across reconnects (see the module docstring)."""

    def __init__(
        self,
        url: str,
        request: dict[str, Any],
        *,
        reconnect: bool = True,
        retry_for_s: float = 60.0,
        open_timeout_s: float = 10.0,
        live_markers: bool = False,
        sign: Callable[[str], dict[str, str]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        check_peer: Callable[[bytes], None] | None = None,
    ) -> None:
        self._sign = sign  # the handshake's headers for a request target
        self._ssl = ssl_context  # wss:// only: whom the TLS layer trusts
        self._check_peer = check_peer  # wss:// only: the server's certificate (DER) is a node
        self._limited_until: float | None = None  # rate limited: retry until then ...
        self._limited_delay = BACKOFF_START_S  # ... waiting at least this long
        self._url = url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self._request = {"type": "subscribe", **request}
        self._reconnect = reconnect
        self._retry_for_s = retry_for_s
        self._open_timeout_s = open_timeout_s
        self._live_markers = live_markers
        self._pending: deque[dict[str, Any]] = deque()
        self._connection: ClientConnection | None = None
        self._exits = ExitStack()  # the open connection's context
        self._closed = False
        #: the cursor of the last message handed out (``after`` of the next connection)
        self.cursor: str | None = request.get("after")
        #: the height the last replay caught up to (the stream was live from the block after)
        self.live_height: int | None = None
        self.reconnects = 0
        self.last_close: tuple[int | None, str] | None = None  # (code, reason) of the last end
        self.closes: dict[int | None, int] = {}  # connections the node (or network) ended, by code
        self._open()  # now: a stream without a start point follows the blocks from here on

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        while True:
            if self._pending:
                message = self._pending.popleft()
                self.cursor = message["cursor"]
                if message["type"] == "live":
                    self.live_height = message["height"]
                    if not self._live_markers:
                        continue
                return message
            if self._closed:
                raise StopIteration
            self._receive()

    def next(self, timeout_s: float | None = None) -> dict[str, Any] | None:
        """The next message, or None when none arrived within ``timeout_s``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._pending:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            if not self._receive(remaining):
                return None
        return next(self)

    def reconnect(self) -> None:
        """End the current connection now; the next message comes through a new one, after
        ``cursor`` (messages received but not yet handed out are asked for again)."""
        self._pending.clear()
        if self._connection is not None:
            self._drop_connection()
            self.reconnects += 1

    def close(self) -> None:
        self._closed = True
        self._drop_connection()

    def _drop_connection(self) -> None:
        self._connection = None
        self._exits.close()  # closes the connection it entered (idempotent)

    def __enter__(self) -> EventSubscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the connection --------------------------------------------------------------------
    def _receive(self, timeout_s: float | None = None) -> bool:
        """Read one frame into the queue (reconnecting as needed); False on a timeout."""
        if self._connection is None:
            self._open()
        assert self._connection is not None
        try:
            frame = self._connection.recv(timeout=timeout_s)
        except TimeoutError:
            return False
        except ConnectionClosed as e:
            self._drop_connection()
            code, reason = self._ended(e)
            if self._closed:
                return True
            if not self._reconnect:
                raise StreamClosed(f"the stream ended ({code}: {reason})") from None
            self.reconnects += 1
            return True
        self._limited_until = None  # served: a later rate limit gets its own window
        self._pending.extend(orjson.loads(frame))
        return True

    def _ended(self, closed: ConnectionClosed) -> tuple[int | None, str]:
        """Note how the node ended a connection; raise ``StreamRefused`` for a refusal, and
        wait out a rate limit (or raise once ``retry_for_s`` has passed). The node may close
        as soon as the handshake is done, before or after the subscribe message left."""
        code = closed.rcvd.code if closed.rcvd is not None else None
        reason = closed.rcvd.reason if closed.rcvd is not None else ""
        self.last_close = (code, reason)
        self.closes[code] = self.closes.get(code, 0) + 1
        if self._closed:
            return code, reason
        if code in REFUSED_CODES or (code == CLOSE_RATE_LIMITED and not self._reconnect):
            raise StreamRefused(f"the node refused the subscription: {reason}") from None
        if code == CLOSE_RATE_LIMITED:
            self._wait_out_rate_limit(reason)
        return code, reason

    def _wait_out_rate_limit(self, reason: str) -> None:
        """Sleep as the node asked (its reason's "retry in N s", else the back-off), or raise
        ``StreamRefused`` once ``retry_for_s`` has passed since the first 4429 in a row."""
        now = time.monotonic()
        if self._limited_until is None:
            self._limited_until = now + self._retry_for_s
            self._limited_delay = BACKOFF_START_S
        asked = _RETRY_IN.search(reason)
        delay = max(float(asked.group(1)) if asked else 0.0, self._limited_delay)
        if now + delay > self._limited_until:
            raise StreamRefused(
                f"the node refused the subscription for {self._retry_for_s:g} s: {reason}"
            ) from None
        self._limited_delay = min(BACKOFF_MAX_S, self._limited_delay * 2)
        time.sleep(delay)

    def _open(self) -> None:
        request = dict(self._request)
        if self.cursor is not None:
            request.pop("from_height", None)
            request["after"] = self.cursor
        deadline = time.monotonic() + self._retry_for_s
        delay = BACKOFF_START_S
        while True:
            if self._closed:
                raise StreamClosed("the subscription was closed")
            try:
                target = urlsplit(self._url).path + STREAM_PATH
                headers = self._sign(target) if self._sign is not None else None
                secure = self._ssl if self._url.startswith("wss://") else None
                connection = connect(
                    self._url + STREAM_PATH,
                    ssl=secure,
                    additional_headers=headers,
                    open_timeout=self._open_timeout_s,
                    max_size=MAX_FRAME_BYTES,
                    max_queue=MAX_QUEUED_FRAMES,
                    close_timeout=CLOSE_TIMEOUT_S,
                    compression=None,  # the node sends JSON it already built; keep its CPU
                    proxy=None,
                )
                self._exits.enter_context(connection)
                self._check_server(connection)
                connection.send(orjson.dumps(request).decode())
                self._connection = connection
                return
            except InvalidURI as e:
                raise StreamClosed(str(e)) from None
            except ConnectionClosed as e:  # closed right after the handshake: by the node
                self._drop_connection()
                code, _ = self._ended(e)
                if code == CLOSE_RATE_LIMITED:
                    self.reconnects += 1
                    continue  # waited as the node asked
                if not self._reconnect or time.monotonic() + delay > deadline:
                    raise StreamClosed(f"cannot open {self._url}{STREAM_PATH}: {e}") from None
            except (OSError, InvalidHandshake, TimeoutError) as e:
                self._drop_connection()
                if not self._reconnect or time.monotonic() + delay > deadline:
                    raise StreamClosed(f"cannot open {self._url}{STREAM_PATH}: {e}") from None
            time.sleep(delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    def _check_server(self, connection: ClientConnection) -> None:
        """Before anything is sent: over TLS, the server is the node the client trusts."""
        if self._check_peer is None or not self._url.startswith("wss://"):
            return
        sock = connection.socket
        der = sock.getpeercert(True) if isinstance(sock, ssl.SSLSocket) else None
        if der is None:
            self._drop_connection()
            raise StreamClosed("the TLS connection shows no server certificate")
        try:
            self._check_peer(der)
        except Exception:
            self._drop_connection()
            raise
