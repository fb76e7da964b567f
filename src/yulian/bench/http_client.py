"""Introduction: the bench's own HTTP/1.1 client — keep-alive connections on asyncio streams.

The load driver posts thousands of txs a second from a process that shares the CPU with the
nodes, so a request must cost the client little CPU: one persistent connection per worker,
the request written as one buffer, the response read by ``Content-Length`` or by chunks.
``problem_code`` reads the stable code of an RFC 9457 problem answer.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import orjson

REQUEST_TIMEOUT_S = 30.0


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to a node's API: ``request`` sends one request and
    reads the whole response. A request on a reused connection that the server had closed
    meanwhile is retried once on a new one."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str | None = None
    ) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(body)}\r\n"
            + (f"Content-Type: {content_type}\r\n" if content_type else "")
            + "\r\n"
        ).encode("ascii")
        for attempt in range(2):
            fresh = self._writer is None
            if fresh:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(head + body)
                await self._writer.drain()
                return await asyncio.wait_for(self._read_response(), REQUEST_TIMEOUT_S)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, bytes]:
        assert self._reader is not None
        reader = self._reader
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("the server closed the connection")
        status = int(line.split()[1])
        length: int | None = None
        chunked = close = False
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def problem_code(body: bytes) -> str:
    try:
        doc = orjson.loads(body)
        return str(doc.get("code", "http_error")) if isinstance(doc, dict) else "http_error"
    except orjson.JSONDecodeError:
        return "http_error"
