"""Introduction: the peer manager — persistent mutual-TLS connections between nodes.

``PeerManager`` listens on one address, dials every configured peer address and keeps one
connection per peer node alive while it runs. Invariants:

- **Only consortium nodes talk to us.** The TLS layer (``yulian.net.tls``; for the gm suite a
  transport key delegated by the SM2 node key, see decision 0007) admits only
  certificates issued by a consortium organisation's root CA; after the handshake ``identify``
  (the node's membership check with ``roles=("node",)``) maps the peer certificate to a node
  name, or refuses it. A refused certificate, or one naming ourselves, closes the connection
  before any message is read. Both sides then exchange a ``hello`` frame, so a dialler counts a
  peer as connected only after that peer has accepted *our* certificate too (in TLS 1.3 the
  client finishes its handshake before the server has checked the client certificate).
- **At most one connection per peer name, the same one on both sides.** The preferred
  connection of a pair is the one dialled by the lexicographically smaller name: it replaces the
  other, and the other never replaces it; between connections of equal preference the newest
  wins (it replaces a stale one after a peer restart). The smaller node keeps dialling while it
  holds only a non-preferred connection, so every reachable pair settles on the preferred one;
  the larger node dials only while the pair is disconnected. Unsent frames of a replaced
  connection move to its replacement if it presented the same certificate (never to another
  node that took the name: private data is sent to a certificate, decision 0081); frames
  already written to a connection that closes may be lost (the protocols above tolerate loss).
- **Bounded everything.** Each connection has a send queue bounded by count
  (``send_queue_size``) and bytes (``MAX_QUEUED_BYTES``) and one writer task; ``send`` never
  blocks or raises and returns ``False`` when the peer is not connected or its queue is full
  (or the message is invalid or over the frame limit: never sent, logged as an error). Frames are
  limited to ``max_frame_bytes`` (checked before the body is read). The number of connections is
  limited to ``MAX_CONNECTIONS``; handshakes, hellos, writes and idle reads have timeouts.
- **A bad peer only loses its own connection.** A frame over the limit, an undecodable message,
  an idle timeout or a transport error closes that connection (and is logged); an exception in
  ``on_message`` is logged and the reader continues. Nothing a peer sends stops the manager.
- **Reconnects are rate-limited.** Dialling backs off exponentially from ``reconnect_s`` (with
  jitter) up to ``MAX_RECONNECT_S``; a peer disconnected with ``drop`` is refused (both
  directions) for ``drop_backoff_s``.
- **Broadcasts are encoded once**; every connection queues the same frame bytes.
- Idle connections carry an empty keepalive frame every ``keepalive_s``; a connection that
  has received nothing for ``idle_timeout_s`` is presumed dead and closed.

All methods run in the event loop's thread; callbacks (``identify``, ``on_message``,
``on_connect``, ``on_disconnect``) are called there and must not block for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from yulian.net.connection import PeerConnection, parse_address, peername
from yulian.net.framing import (
    KEEPALIVE_FRAME,
    MAX_FRAME_BYTES,
    ConnectionClosed,
    FrameError,
    FrameTooLarge,
    encode_frame,
    read_frame,
    read_frame_body,
    read_frame_length,
)
from yulian.net.messages import HELLO, BadMessage, Message, decode_message, encode_message
from yulian.net.tls import TlsError, peer_certificate_der

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_QUEUED_BYTES",
    "PeerManager",
    "parse_address",
]

log = logging.getLogger("yulian.net.peers")

MAX_CONNECTIONS = 256  # identified peers at once
MAX_HANDSHAKING = 64  # inbound connections between TLS handshake and registration
MAX_QUEUED_BYTES = 128 * 1024 * 1024  # unsent bytes per connection (one frame always fits)
MAX_HELLO_BYTES = 1024
MAX_RECONNECT_S = 5.0
DROP_BACKOFF_S = 5.0
KEEPALIVE_S = 10.0
IDLE_TIMEOUT_S = 45.0
CONNECT_TIMEOUT_S = 10.0
HANDSHAKE_TIMEOUT_S = 10.0
HELLO_TIMEOUT_S = 10.0
FRAME_BODY_TIMEOUT_S = 120.0  # a maximal frame over a slow link
WRITE_TIMEOUT_S = 60.0  # a peer that stops reading is disconnected
CLOSE_TIMEOUT_S = 2.0
WRITE_BATCH_BYTES = 1024 * 1024
STREAM_LIMIT = 1024 * 1024

_HELLO_FRAME = encode_frame(encode_message(Message(HELLO, ())))


class PeerManager:
    """Persistent, deduplicated, mutually authenticated connections to peer nodes.

    ``identify(cert_der)`` returns the peer's node name or ``None`` to refuse it;
    ``on_message(peer, msg)`` gets every decoded message but ``hello``; ``on_connect(peer)``
    runs whenever a connection to ``peer`` is registered (also when it replaces another),
    ``on_disconnect(peer)`` when ``peer`` has no connection any more. ``drop_backoff_s``,
    ``keepalive_s`` and ``idle_timeout_s`` are exposed for tests; the defaults are the named
    module constants.
    """

    def __init__(
        self,
        *,
        name: str,
        listen_host: str,
        listen_port: int,
        peers: Sequence[str],
        server_ssl: ssl.SSLContext,
        client_ssl: ssl.SSLContext,
        identify: Callable[[bytes], str | None],
        on_message: Callable[[str, Message], None],
        on_connect: Callable[[str], None] | None = None,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        send_queue_size: int = 1024,
        reconnect_s: float = 0.5,
        on_disconnect: Callable[[str], None] | None = None,
        drop_backoff_s: float = DROP_BACKOFF_S,
        keepalive_s: float = KEEPALIVE_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        if not name:
            raise ValueError("name must not be empty")
        if max_frame_bytes < MAX_HELLO_BYTES:
            raise ValueError(f"max_frame_bytes must be >= {MAX_HELLO_BYTES}")
        if send_queue_size < 1:
            raise ValueError("send_queue_size must be >= 1")
        if reconnect_s <= 0 or drop_backoff_s < 0:
            raise ValueError("reconnect_s must be > 0 and drop_backoff_s >= 0")
        if not 0 < keepalive_s < idle_timeout_s:
            raise ValueError("need 0 < keepalive_s < idle_timeout_s")
        self._addresses = [(a, *parse_address(a)) for a in dict.fromkeys(peers)]
        self._name = name
        self._listen_host = listen_host
        self._listen_port = listen_port
        self._server_ssl = server_ssl
        self._client_ssl = client_ssl
        self._identify = identify
        self._on_message = on_message
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._max_frame_bytes = max_frame_bytes
        self._send_queue_size = send_queue_size
        self._reconnect_s = reconnect_s
        self._max_reconnect_s = max(reconnect_s, MAX_RECONNECT_S)
        self._drop_backoff_s = drop_backoff_s
        self._keepalive_s = keepalive_s
        self._idle_timeout_s = idle_timeout_s

        self._conns: dict[str, PeerConnection] = {}
        self._banned: dict[str, float] = {}  # peer -> time.monotonic() until which refused
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handshaking = 0
        self._server: asyncio.Server | None = None
        self._running = False

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def listen_port(self) -> int:
        """The bound port (useful when constructed with ``listen_port=0``)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._listen_port

    async def start(self) -> None:
        """Listen and start dialling; raises ``OSError`` if the address cannot be bound."""
        if self._running:
            raise RuntimeError("PeerManager already started")
        self._server = await asyncio.start_server(
            self._on_inbound,
            self._listen_host,
            self._listen_port,
            ssl=self._server_ssl,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
            limit=STREAM_LIMIT,
        )
        self._running = True
        for address, host, port in self._addresses:
            self._spawn(self._dial_loop(address, host, port))
        log.info("%s: listening on %s:%s", self._name, self._listen_host, self.listen_port)

    async def stop(self) -> None:
        """Close the listener and every connection; returns when all tasks have ended."""
        if not self._running and self._server is None:
            return
        self._running = False
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns.values()):
            self._close_conn(conn, "shutting down")
        current = asyncio.current_task()
        # Closers finish on their own (bounded by CLOSE_TIMEOUT_S); everything else is cancelled.
        for task in list(self._tasks):
            if task is not current and task.get_name() != "yulian-net-close":
                task.cancel()
        for _ in range(3):  # tasks cancelled above may have spawned closers
            pending = [t for t in self._tasks if t is not current]
            if not pending:
                break
            await asyncio.wait(pending, timeout=CLOSE_TIMEOUT_S + 1)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self._server.wait_closed()
            self._server = None
        log.info("%s: stopped", self._name)

    # --- sending --------------------------------------------------------------------------

    def send(self, peer: str, msg: Message) -> bool:
        """Queue ``msg`` for ``peer``; ``False`` if not connected or its queue is full.

        A message no peer may receive (``encode_message`` refuses it, or its frame exceeds
        ``max_frame_bytes``) is never sent: it is logged as an error and ``False`` returned.
        """
        conn = self._conns.get(peer)
        if conn is None or conn.closing:
            return False
        frame = self._frame(msg)
        return frame is not None and self._enqueue(conn, frame)

    def broadcast(self, msg: Message) -> int:
        """Queue ``msg`` (encoded once) for every connected peer; returns how many took it.

        Returns 0 (and logs an error) for a message no peer may receive, as ``send``.
        """
        if not self._conns:
            return 0
        frame = self._frame(msg)
        if frame is None:
            return 0
        return sum(self._enqueue(c, frame) for c in list(self._conns.values()) if not c.closing)

    def connected(self) -> list[str]:
        """The names of the connected peers, sorted."""
        return sorted(self._conns)

    def certificate(self, peer: str) -> bytes | None:
        """The certificate (DER) the live connection to ``peer`` presented, or None."""
        conn = self._conns.get(peer)
        return conn.cert if conn is not None and not conn.closing else None

    def drop(self, peer: str, reason: str) -> None:
        """Disconnect ``peer`` and refuse it (both directions) for ``drop_backoff_s``."""
        self._banned[peer] = time.monotonic() + self._drop_backoff_s
        conn = self._conns.get(peer)
        log.warning("%s: dropping peer %s: %s", self._name, peer, reason)
        if conn is not None:
            self._close_conn(conn, f"dropped: {reason}")

    def add_address(self, address: str) -> bool:
        """Start dialling ``address`` too (a validator that joined); ``False`` if known."""
        if any(a == address for a, _, _ in self._addresses):
            return False
        host, port = parse_address(address)
        self._addresses.append((address, host, port))
        if self._running:
            self._spawn(self._dial_loop(address, host, port))
        return True

    def revalidate(self) -> list[str]:
        """Re-run ``identify`` on every connected peer's certificate (the consortium changed)
        and close the connections it now refuses; returns the names dropped."""
        dropped = []
        for conn in list(self._conns.values()):
            if self._identify_safely(conn.cert) != conn.peer:
                dropped.append(conn.peer)
                self.drop(conn.peer, "no longer a consortium node")
        return dropped

    def _frame(self, msg: Message) -> bytes | None:
        try:
            return encode_frame(encode_message(msg), self._max_frame_bytes)
        except (BadMessage, FrameTooLarge) as e:
            log.error("%s: not sending an invalid %s message: %s", self._name, msg.kind, e)
            return None

    def _enqueue(self, conn: PeerConnection, frame: bytes) -> bool:
        return conn.enqueue(frame, MAX_QUEUED_BYTES)

    # --- connection set-up ----------------------------------------------------------------

    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if not self._running or self._handshaking >= MAX_HANDSHAKING:
                self._abandon(writer, "too many connections being set up")
                return
            self._handshaking += 1
            try:
                conn = await self._establish(reader, writer, outbound=False)
            finally:
                self._handshaking -= 1
            if conn is not None and not conn.closing:
                self._register(conn)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _dial_loop(self, address: str, host: str, port: int) -> None:
        peer: str | None = None  # the node this address turned out to be
        delay = self._reconnect_s
        while self._running:
            if peer is not None:
                active = self._conns.get(peer)
                # Wait while the peer is connected, unless through a connection it dialled
                # although we are the smaller name: then dial to replace it with the preferred
                # one, so every pair ends on the same connection whatever the timing.
                if active is not None and (self._preferred(active) or self._name > peer):
                    await active.closed.wait()
                    await asyncio.sleep(self._jitter(self._reconnect_s))
                    continue
                banned_for = self._banned_for(peer)
                if banned_for > 0:
                    await asyncio.sleep(banned_for)
                    continue
            conn = await self._dial(address, host, port)
            if conn is not None:
                if conn.closing:  # the address is this node
                    log.warning(
                        "%s: peer address %s is this node; not dialling it", self._name, address
                    )
                    return
                peer = conn.peer
                if self._register(conn):
                    delay = self._reconnect_s
                    await conn.closed.wait()
                await asyncio.sleep(self._jitter(self._reconnect_s))
                continue
            await asyncio.sleep(self._jitter(delay))
            delay = min(delay * 2, self._max_reconnect_s)

    async def _dial(self, address: str, host: str, port: int) -> PeerConnection | None:
        """One attempt; a connection naming ourselves is returned unregistered and closed."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=self._client_ssl,
                    ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
                    limit=STREAM_LIMIT,
                )
        except (OSError, TimeoutError) as e:
            log.debug("%s: cannot connect to %s: %s", self._name, address, e or type(e).__name__)
            return None
        return await self._establish(reader, writer, outbound=True, address=address)

    async def _establish(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        outbound: bool,
        address: str | None = None,
    ) -> PeerConnection | None:
        """Identify the peer and exchange hellos; ``None`` (connection closed) on refusal."""
        where = address or peername(writer)
        try:
            try:
                der = peer_certificate_der(writer.get_extra_info("ssl_object"))
            except TlsError as e:
                self._abandon(writer, f"{where}: {e}")
                return None
            peer = self._identify_safely(der)
            if peer is None:
                log.warning("%s: refused %s: not a consortium node", self._name, where)
                self._abandon(writer, "refused")
                return None
            if peer == self._name:
                self._abandon(writer, f"{where} is ourselves")
                return PeerConnection(
                    peer, outbound, reader, writer, asyncio.Queue(1), closing=True
                )
            if self._banned_for(peer) > 0:
                self._abandon(writer, f"{peer} at {where} is temporarily refused")
                return None
            try:
                async with asyncio.timeout(HELLO_TIMEOUT_S):
                    writer.write(_HELLO_FRAME)
                    await writer.drain()
                    hello = decode_message(await read_frame(reader, MAX_HELLO_BYTES))
                if hello.kind != HELLO:
                    raise BadMessage(f"expected hello, got {hello.kind}")
            except (FrameError, BadMessage, OSError, TimeoutError) as e:
                self._abandon(writer, f"hello with {peer} at {where} failed: {e!r}")
                return None
            return PeerConnection(
                peer, outbound, reader, writer, asyncio.Queue(self._send_queue_size), cert=der
            )
        except BaseException:
            writer.transport.abort()
            raise

    def _identify_safely(self, der: bytes) -> str | None:
        try:
            peer = self._identify(der)
        except Exception:
            log.exception("%s: identify raised; refusing the connection", self._name)
            return None
        return peer if isinstance(peer, str) and peer else None

    def _register(self, conn: PeerConnection) -> bool:
        """Make ``conn`` the peer's connection (or refuse it as a duplicate); start its tasks."""
        if not self._running:
            self._close_conn(conn, "shutting down")
            return False
        if self._banned_for(conn.peer) > 0:  # dropped while this connection was set up
            self._close_conn(conn, "temporarily refused")
            return False
        existing = self._conns.get(conn.peer)
        if existing is not None and self._preferred(existing) and not self._preferred(conn):
            self._close_conn(conn, "duplicate connection")
            return False
        if existing is None and len(self._conns) >= MAX_CONNECTIONS:
            self._close_conn(conn, "too many connections")
            return False
        self._conns[conn.peer] = conn
        if existing is not None:
            while existing.cert == conn.cert and not existing.queue.empty():
                frame = existing.queue.get_nowait()
                if not self._enqueue(conn, frame):
                    break
            self._close_conn(existing, "replaced by a newer connection")
        conn.tasks.append(self._spawn(self._read_loop(conn)))
        conn.tasks.append(self._spawn(self._write_loop(conn)))
        log.info(
            "%s: connected to %s (%s %s)",
            self._name,
            conn.peer,
            "dialled" if conn.outbound else "accepted",
            conn.address,
        )
        if self._on_connect is not None:
            try:
                self._on_connect(conn.peer)
            except Exception:
                log.exception("%s: on_connect(%s) raised", self._name, conn.peer)
        return True

    def _preferred(self, conn: PeerConnection) -> bool:
        """Whether ``conn`` was dialled by the lexicographically smaller of the two names."""
        dialler = self._name if conn.outbound else conn.peer
        return dialler == min(self._name, conn.peer)

    # --- per-connection tasks -------------------------------------------------------------

    async def _read_loop(self, conn: PeerConnection) -> None:
        reason = "closed by peer"
        try:
            while True:
                async with asyncio.timeout(self._idle_timeout_s):
                    length = await read_frame_length(conn.reader, self._max_frame_bytes)
                async with asyncio.timeout(FRAME_BODY_TIMEOUT_S):
                    data = await read_frame_body(conn.reader, length)
                if not data:
                    continue  # keepalive
                try:
                    msg = decode_message(data)
                except BadMessage as e:
                    reason = f"undecodable message ({len(data)} bytes): {e}"
                    log.warning("%s: closing connection to %s: %s", self._name, conn.peer, reason)
                    break
                if msg.kind == HELLO:
                    continue
                try:
                    self._on_message(conn.peer, msg)
                except Exception:
                    log.exception("%s: on_message from %s raised", self._name, conn.peer)
        except FrameTooLarge as e:
            reason = str(e)
            log.warning("%s: closing connection to %s: %s", self._name, conn.peer, reason)
        except ConnectionClosed:
            reason = "closed by peer"
        except TimeoutError:
            reason = "timed out reading"
        except OSError as e:
            reason = f"transport error: {e!r}"
        except Exception as e:  # never let a peer's bytes escape as an unhandled task error
            reason = f"unexpected error: {e!r}"
            log.exception("%s: reading from %s failed", self._name, conn.peer)
        self._close_conn(conn, reason)

    async def _write_loop(self, conn: PeerConnection) -> None:
        writer = conn.writer
        try:
            while True:
                try:
                    async with asyncio.timeout(self._keepalive_s):
                        frame = await conn.queue.get()
                    conn.queued_bytes -= len(frame)
                except TimeoutError:
                    frame = KEEPALIVE_FRAME
                writer.write(frame)
                batch = len(frame)
                while batch < WRITE_BATCH_BYTES and not conn.queue.empty():
                    frame = conn.queue.get_nowait()
                    conn.queued_bytes -= len(frame)
                    writer.write(frame)
                    batch += len(frame)
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    await writer.drain()
        except TimeoutError:
            reason = "peer is not reading (write timed out)"
        except OSError as e:
            reason = f"transport error: {e!r}"
        except Exception as e:
            reason = f"unexpected error: {e!r}"
            log.exception("%s: writing to %s failed", self._name, conn.peer)
        self._close_conn(conn, reason)

    # --- closing ----------------------------------------------------------------------------

    def _close_conn(self, conn: PeerConnection, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        was_active = self._conns.get(conn.peer) is conn
        if was_active:
            del self._conns[conn.peer]
        current = asyncio.current_task()
        for task in conn.tasks:
            if task is not current:
                task.cancel()
        conn.closed.set()
        self._abandon(conn.writer, reason)
        if was_active:
            log.info("%s: disconnected from %s: %s", self._name, conn.peer, reason)
            if self._on_disconnect is not None:
                try:
                    self._on_disconnect(conn.peer)
                except Exception:
                    log.exception("%s: on_disconnect(%s) raised", self._name, conn.peer)

    def _abandon(self, writer: asyncio.StreamWriter, reason: str) -> None:
        """Close a stream in the background, aborting it if the close does not finish."""
        log.debug("%s: closing %s: %s", self._name, peername(writer), reason)
        try:
            writer.close()
        except Exception:
            writer.transport.abort()
            return
        self._spawn(self._finish_close(writer), name="yulian-net-close")

    @staticmethod
    async def _finish_close(writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await writer.wait_closed()
        except BaseException:  # timeout, transport error or cancellation: just cut it
            writer.transport.abort()

    # --- helpers ----------------------------------------------------------------------------

    def _spawn(
        self, coro: Coroutine[Any, Any, None], *, name: str | None = None
    ) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _banned_for(self, peer: str) -> float:
        until = self._banned.get(peer)
        if until is None:
            return 0.0
        remaining = until - time.monotonic()
        if remaining <= 0:
            del self._banned[peer]
            return 0.0
        return remaining

    @staticmethod
    def _jitter(delay: float) -> float:
        return delay * random.uniform(0.8, 1.2)
