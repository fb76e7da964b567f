"""Introduction: one connection to a peer node, and peer addresses.

A ``PeerConnection`` is what the peer manager keeps per connected peer: its streams, the
bounded queue of frames waiting for the writer task (by count, the queue's size, and by bytes,
``enqueue``'s limit: one frame always fits an empty queue), and the certificate the peer
presented, re-checked when the consortium changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"[v6]:port"``) as ``(host, port)``; raises ``ValueError``."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"peer address {address!r} is not host:port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"peer address {address!r}: port out of range")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


@dataclass(eq=False)
class PeerConnection:
    peer: str
    outbound: bool
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    queue: asyncio.Queue[bytes]
    queued_bytes: int = 0
    closing: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    cert: bytes = b""  # the peer's certificate DER, re-checked when the consortium changes

    @property
    def address(self) -> str:
        return peername(self.writer)

    def enqueue(self, frame: bytes, max_queued_bytes: int) -> bool:
        """Queue ``frame`` unless the queue is full by count or by bytes."""
        if self.queued_bytes and self.queued_bytes + len(frame) > max_queued_bytes:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        self.queued_bytes += len(frame)
        return True


def peername(writer: asyncio.StreamWriter) -> str:
    try:
        peer = writer.get_extra_info("peername")
    except Exception:
        return "?"
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
