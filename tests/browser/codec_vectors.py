"""Canonical-msgpack vectors for the browser's codec (``verify/msgpack.js``): byte strings with
Python's verdict (``yulian.types.encoding.decode`` accepts them or not). The browser must
accept exactly the same ones and re-encode each accepted one to the same bytes.

The accepted ones sit on every boundary where msgpack changes form (integer widths, string,
bin, array and map headers) and include map keys whose UTF-8 order differs from JavaScript's
property order (integer-like keys) and from UTF-16 order (a character beyond U+FFFF against
one just below it). The refused ones are each a non-minimal or disallowed form of a value.
"""

from __future__ import annotations

import msgpack

from yulian.types.encoding import DecodeError, decode, encode


def _ints() -> list[int]:
    edges = [0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53, 2**63, 2**64 - 1]
    negative = [-1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63)]
    return edges + [e + 1 for e in edges[:-1]] + negative


def accepted() -> list[bytes]:
    values: list[object] = [None, True, False, *_ints()]
    values += ["", "a" * 31, "b" * 32, "c" * 255, "d" * 256, "\ufeffbom", "渝链", "😀"]
    values += ["e" * 65535, "f" * 65536]
    values += [b"", b"\x00" * 255, b"\x01" * 256, b"\x02" * 65536]
    values += [list(range(15)), list(range(16)), [[[]]], [None, "x", b"y", -5]]
    values += [
        {f"k{i:02d}": i for i in range(15)},
        {f"k{i:02d}": i for i in range(16)},
        {"10": 1, "9": 2},  # UTF-8 order; JavaScript objects would put "9" first
        {"\uff61": 1, "😀": 2},  # U+FF61 < U+1F600 in UTF-8, not in UTF-16
        {"a": {"b": [1, {"c": b"d"}]}},
    ]
    return [encode(v) for v in values]


def refused() -> list[bytes]:
    raw = [
        b"\xcc\x05",  # uint8 for a fixint
        b"\xcd\x00\xff",  # uint16 for a uint8
        b"\xce\x00\x00\xff\xff",  # uint32 for a uint16
        b"\xcf" + (2**32 - 1).to_bytes(8, "big"),  # uint64 for a uint32
        b"\xd0\xff",  # int8 for a negative fixint
        b"\xd0\x05",  # int8 for a positive value
        b"\xd1\xff\x80",  # int16 for an int8
        b"\xd2\xff\xff\x80\x00",  # int32 for an int16
        b"\xd3" + (-(2**31)).to_bytes(8, "big", signed=True),  # int64 for an int32
        b"\xd3" + (5).to_bytes(8, "big", signed=True),  # int64 for a positive value
        b"\xd9\x01a",  # str8 for a fixstr
        b"\xda\x00\x05hello",  # str16 for a short string
        b"\xc5\x00\x01x",  # bin16 for a bin8
        b"\xdc\x00\x01\x01",  # array16 for a fixarray
        b"\xde\x00\x01\xa1a\x01",  # map16 for a fixmap
        b"\xca\x3f\x80\x00\x00",  # float32
        b"\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00",  # float64 1.0
        b"\xd4\x01\x00",  # fixext1
        b"\xc7\x01\x01\x00",  # ext8
        b"\xc1",  # never used
        b"\x01\x02",  # trailing data
        b"\x92\x01",  # truncated array
        b"\xa2\xc3\x28",  # invalid UTF-8
        b"\xa3\xed\xa0\x80",  # an encoded surrogate
        b"\x82\xa1b\x01\xa1a\x02",  # keys out of order
        b"\x82\xa1a\x01\xa1a\x02",  # a key twice
        b"\x81\x01\x02",  # an integer key
    ]
    raw.append(msgpack.packb({"9": 1, "10": 2}))  # JavaScript's order, not UTF-8's
    return raw


def python_accepts(data: bytes) -> bool:
    try:
        decode(data)
    except DecodeError:
        return False
    return True
