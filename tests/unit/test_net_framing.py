"""Length-prefixed frames: round trips, limits checked before the body, truncation."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.net.framing import (
    KEEPALIVE_FRAME,
    MAX_FRAME_BYTES,
    ConnectionClosed,
    FrameError,
    FrameTooLarge,
    encode_frame,
    read_frame,
)


def _reader(data: bytes, *, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def _read_all(data: bytes, max_bytes: int = MAX_FRAME_BYTES) -> list[bytes]:
    reader = _reader(data)
    frames = []
    while True:
        try:
            frames.append(await read_frame(reader, max_bytes))
        except ConnectionClosed:
            return frames


def test_limit_exceeds_the_largest_block() -> None:
    from yulian.types.block import MAX_BLOCK_BYTES
    from yulian.types.commit import COMMIT_LIMITS

    assert MAX_BLOCK_BYTES + COMMIT_LIMITS.max_bytes + 1024 < MAX_FRAME_BYTES


def test_encode_frame_layout() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"") == KEEPALIVE_FRAME == b"\x00\x00\x00\x00"
    assert encode_frame(b"x" * 300)[:4] == struct.pack(">I", 300)


def test_round_trip_several_frames() -> None:
    payloads = [b"one", b"", b"\x00" * 70_000, b"last"]
    data = b"".join(encode_frame(p) for p in payloads)
    assert asyncio.run(_read_all(data)) == payloads


def test_encode_frame_refuses_oversized_payload() -> None:
    with pytest.raises(FrameTooLarge):
        encode_frame(b"x" * 11, max_bytes=10)
    assert encode_frame(b"x" * 10, max_bytes=10)[:4] == struct.pack(">I", 10)


def test_oversized_frame_rejected_before_the_body_is_read() -> None:
    async def main() -> bytes:
        # Only the header and a few body bytes arrive, and the stream stays open: a reader that
        # waited for the body would hang (caught by the timeout below).
        reader = _reader(struct.pack(">I", 1001) + b"body", eof=False)
        with pytest.raises(FrameTooLarge) as info:
            await asyncio.wait_for(read_frame(reader, max_bytes=1000), timeout=2)
        assert info.value.length == 1001 and info.value.limit == 1000
        reader.feed_eof()
        return await reader.read()  # nothing beyond the header was consumed

    assert asyncio.run(main()) == b"body"


def test_frame_at_the_limit_is_accepted() -> None:
    assert asyncio.run(_read_all(encode_frame(b"y" * 1000), max_bytes=1000)) == [b"y" * 1000]


def test_default_limit_rejects_a_4_gib_header() -> None:
    async def main() -> None:
        with pytest.raises(FrameTooLarge):
            await asyncio.wait_for(read_frame(_reader(b"\xff\xff\xff\xff", eof=False)), 2)

    asyncio.run(main())


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x00\x00\x00", b"\x00\x00\x00\x05abc", b"\x00\x00\x00\x01"],
    ids=["empty", "1-byte-header", "3-byte-header", "short-body", "no-body"],
)
def test_truncated_stream_is_connection_closed(data: bytes) -> None:
    async def main() -> None:
        with pytest.raises(ConnectionClosed):
            await read_frame(_reader(data))

    asyncio.run(main())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=2000), max_size=8))
def test_round_trip_property(payloads: list[bytes]) -> None:
    data = b"".join(encode_frame(p) for p in payloads)
    assert asyncio.run(_read_all(data)) == payloads


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_random_streams_raise_only_frame_errors(data: bytes) -> None:
    async def main() -> None:
        reader = _reader(data)
        for _ in range(len(data) + 1):  # every read consumes >= 4 bytes or ends the stream
            try:
                frame = await read_frame(reader, max_bytes=256)
            except FrameError:
                return
            assert len(frame) <= 256
        raise AssertionError("reader did not terminate")

    asyncio.run(main())
