"""Introduction: length-prefixed frames on a byte stream.

A frame is a 4-byte big-endian unsigned length followed by that many payload bytes. The
invariants:

- A frame's payload is never larger than the reader's ``max_bytes`` (``MAX_FRAME_BYTES`` by
  default, bigger than the largest block plus its commit certificate and the message envelope).
  The length is checked *before* any of the body is read, so a hostile length costs the reader
  four bytes, not a buffer.
- A zero-length frame is valid framing; the peer manager uses it as a keepalive and never
  decodes it as a message.
- A stream that ends (cleanly or mid-frame) raises ``ConnectionClosed``; a length over the
  limit raises ``FrameTooLarge``. Both are ``FrameError``; nothing else is raised for bad input
  (transport errors such as ``ConnectionResetError`` propagate as ``OSError``).
"""

from __future__ import annotations

import asyncio
import struct

__all__ = [
    "HEADER_BYTES",
    "KEEPALIVE_FRAME",
    "MAX_FRAME_BYTES",
    "ConnectionClosed",
    "FrameError",
    "FrameTooLarge",
    "encode_frame",
    "read_frame",
    "read_frame_body",
    "read_frame_length",
]

HEADER_BYTES = 4
MAX_FRAME_BYTES = 40 * 1024 * 1024  # > MAX_BLOCK_BYTES (32 MiB) + commit + envelope
_HEADER = struct.Struct(">I")
KEEPALIVE_FRAME = _HEADER.pack(0)


class FrameError(Exception):
    """A frame that cannot be read."""


class FrameTooLarge(FrameError):
    """A frame whose declared length exceeds the limit; its body was not read."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes exceeds the limit of {limit}")
        self.length = length
        self.limit = limit


class ConnectionClosed(FrameError):
    """The stream ended before a complete frame."""


def encode_frame(payload: bytes, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """``payload`` with its length prefix; raises ``FrameTooLarge`` rather than send one."""
    n = len(payload)
    if n > max_bytes:
        raise FrameTooLarge(n, max_bytes)
    return _HEADER.pack(n) + bytes(payload)


async def read_frame_length(reader: asyncio.StreamReader, max_bytes: int = MAX_FRAME_BYTES) -> int:
    """Read one frame header; returns the body length after checking it against the limit."""
    try:
        header = await reader.readexactly(HEADER_BYTES)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise ConnectionClosed("stream ended inside a frame header") from None
        raise ConnectionClosed("stream ended") from None
    (length,) = _HEADER.unpack(header)
    if length > max_bytes:
        raise FrameTooLarge(length, max_bytes)
    return int(length)


async def read_frame_body(reader: asyncio.StreamReader, length: int) -> bytes:
    """Read the ``length`` body bytes of a frame whose header was already read."""
    if length == 0:
        return b""
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as e:
        raise ConnectionClosed(
            f"stream ended inside a frame body ({len(e.partial)} of {length} bytes)"
        ) from None


async def read_frame(reader: asyncio.StreamReader, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """Read one frame's payload; raises ``FrameTooLarge`` (before the body) or
    ``ConnectionClosed``."""
    length = await read_frame_length(reader, max_bytes)
    return await read_frame_body(reader, length)
