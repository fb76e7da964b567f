"""Introduction: event-stream subscribers attached to a bench run (``--subscribers``,
``--stalled-subscribers``).

They run in their own process (``python -m yulian.bench.subscribers``), so the load driver's
process is not slowed by them and the figures measure what they cost the nodes. A *live*
subscriber follows every event and block of its node (round-robin over the nodes) and resumes
after its last cursor whenever it is disconnected. A *stalled* subscriber subscribes the same
way and then never reads its socket (a TCP window that stays shut): the node must drop it
without slowing its commits. At the end (SIGTERM) the process reads what reached each stalled
socket, finds the node's close frame in it, and writes a JSON report: per subscriber the
messages received, the reconnects and how each connection ended.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

STREAM_PATH = "/v1/events/stream"
SUBSCRIBE = {"type": "subscribe", "blocks": True, "events": [{}]}
STALLED_QUEUE = 4  # blocks a stalled subscriber may have unread before its node drops it
RECEIVE_BUFFER = 4096  # a stalled socket's kernel buffer: it fills, then the window shuts
START_TIMEOUT_S = 30.0


# --- a subscriber that never reads: raw WebSocket on a plain socket ----------------------------
def masked_text_frame(text: bytes) -> bytes:
    """A client's text frame (clients must mask; RFC 6455 §5.3)."""
    mask = os.urandom(4)
    size = len(text)
    if size < 126:
        header = bytes((0x81, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x81, 0x80 | 126)) + struct.pack("!H", size)
    else:
        header = bytes((0x81, 0x80 | 127)) + struct.pack("!Q", size)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(text))


def read_frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The complete server frames in ``data`` (unmasked): ``(opcode, payload)``."""
    at = 0
    while at + 2 <= len(data):
        opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if size == 126:
            if at + 2 > len(data):
                return
            (size,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif size == 127:
            if at + 8 > len(data):
                return
            (size,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        if at + size > len(data):
            return
        yield opcode, data[at : at + size]
        at += size


def close_code(data: bytes) -> tuple[int, str] | None:
    """The close frame's code and reason among the frames in ``data``, if one arrived."""
    for opcode, payload in read_frames(data):
        if opcode == 0x8 and len(payload) >= 2:
            return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")
    return None


class StalledSubscriber:
    """Subscribes, then never reads (until ``drain``)."""

    def __init__(self, url: str, request: dict[str, Any] | None = None) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.sock.settimeout(START_TIMEOUT_S)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)  # byte by byte: nothing after the handshake is read
            if not chunk:
                raise ConnectionError(f"{url} closed during the WebSocket handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"{url} refused the WebSocket: {head[:80]!r}")
        body = {**SUBSCRIBE, "queue": STALLED_QUEUE, **(request or {})}
        self.sock.sendall(masked_text_frame(orjson.dumps(body)))

    def drain(self, timeout_s: float = 5.0) -> tuple[bytes, bool]:
        """What reaches the socket within ``timeout_s``, and whether the node closed the
        connection by then (a connection it still serves keeps sending)."""
        deadline = time.monotonic() + timeout_s
        chunks: list[bytes] = []
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return b"".join(chunks), True
                chunks.append(chunk)
        except (TimeoutError, OSError):
            pass
        return b"".join(chunks), False

    def ending(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """How the node ended this connection: its close frame's code and reason when one
        got through, ``closed`` when it shut the connection (a close frame cannot pass a full
        window), or still open."""
        data, closed = self.drain(timeout_s)
        frame = close_code(data)
        return {
            "close_code": frame[0] if frame else None,
            "reason": frame[1] if frame else "",
            "closed": closed,
            "bytes_received": len(data),
        }

    def close(self) -> None:
        self.sock.close()


# --- live subscribers ---------------------------------------------------------------------------
@dataclass
class LiveRecord:
    url: str
    messages: int = 0
    events: int = 0
    blocks: int = 0
    reconnects: int = 0
    closes: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None


async def follow(record: LiveRecord, stop: asyncio.Event) -> None:
    """Follow every event and block of ``record.url``, resuming after the last cursor."""
    ws_url = record.url.replace("http://", "ws://", 1) + STREAM_PATH
    while not stop.is_set():
        request = dict(SUBSCRIBE)
        if record.cursor is not None:
            request["after"] = record.cursor
        try:
            async with connect(ws_url, max_size=8 << 20, compression=None, proxy=None) as ws:
                await ws.send(orjson.dumps(request).decode())
                while not stop.is_set():
                    frame = await ws.recv()
                    for message in orjson.loads(frame):
                        record.messages += 1
                        record.events += message["type"] == "event"
                        record.blocks += message["type"] == "block"
                        record.cursor = message["cursor"]
        except ConnectionClosed as e:
            code = str(e.rcvd.code) if e.rcvd is not None else "none"
            record.closes[code] = record.closes.get(code, 0) + 1
        except OSError as e:
            record.closes[type(e).__name__] = record.closes.get(type(e).__name__, 0) + 1
            await asyncio.sleep(0.5)
        if not stop.is_set():
            record.reconnects += 1


async def run(urls: Sequence[str], live: int, stalled: int, ready: Path | None) -> dict[str, Any]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    records = [LiveRecord(urls[k % len(urls)]) for k in range(live)]
    stalls = [StalledSubscriber(urls[k % len(urls)]) for k in range(stalled)]
    tasks = [asyncio.ensure_future(follow(r, stop)) for r in records]
    if ready is not None:
        ready.write_text("ready")
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stalled_report = []
    for s in stalls:
        stalled_report.append(s.ending())
        s.close()
    return {
        "live": [r.__dict__ for r in records],
        "stalled": stalled_report,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yulian.bench.subscribers")
    parser.add_argument("--url", action="append", required=True, help="a node's API URL")
    parser.add_argument("--live", type=int, default=0)
    parser.add_argument("--stalled", type=int, default=0)
    parser.add_argument("--ready", type=Path, help="written once every subscriber is attached")
    parser.add_argument("--out", type=Path, required=True, help="the JSON report, at the end")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.url, args.live, args.stalled, args.ready))
    args.out.write_text(json.dumps(report, indent=2))
    return 0


class AttachedSubscribers:
    """The subscriber process of one bench run (``attach``)."""

    def __init__(self, proc: subprocess.Popen[bytes] | None, out: Path) -> None:
        self.proc = proc
        self.out = out
        self.report: dict[str, Any] | None = None


@contextmanager
def attach(
    urls: Sequence[str], live: int, stalled: int, workdir: Path
) -> Iterator[AttachedSubscribers]:
    """Subscribers on ``urls`` for the duration of the block; ``.report`` after it."""
    if live == 0 and stalled == 0:
        yield AttachedSubscribers(None, workdir / "subscribers.json")
        return
    out, ready = workdir / "subscribers.json", workdir / "subscribers.ready"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "yulian.bench.subscribers", "--live", str(live)]
    command += ["--stalled", str(stalled), "--out", str(out), "--ready", str(ready)]
    for url in urls:
        command += ["--url", url]
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    attached = AttachedSubscribers(proc, out)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the subscriber process did not start (exit {proc.poll()})")
            time.sleep(0.05)
        yield attached
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if out.exists():
            attached.report = json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
