"""Introduction: the consensus write-ahead log.

The node appends every consensus input it must not forget across a crash (its own signed
messages, received proposals and votes, timeouts) before acting on it, and replays the records
on restart. The WAL only frames bytes; what a payload means is the caller's business.

Record framing (all integers big endian)::

    crc32 (4 bytes) | length (4 bytes) | payload (length bytes)

``crc32`` is zlib's CRC-32 over ``length || payload`` (the length is covered, so a flipped
length bit is caught and a zero-filled region is never a record). ``1 <= length <=
MAX_RECORD_BYTES``; an empty record does not exist.

Recovery on open. Scan records from offset 0; let ``o`` be the offset of the first record that
is not valid (header incomplete, length out of range, extends past the end, crc mismatch). It is
*corruption* — ``WALCorrupted(o)``, the node refuses to start — if

1. its length field exceeds ``MAX_RECORD_BYTES`` (we never write one), or
2. a valid record starts at its declared end ``o + 8 + length`` (damage that left the length
   intact: the bad record is followed by valid ones), or
3. flipping one bit of its length field makes it a valid record with bytes after it, or
4. a valid record starts anywhere after ``o`` — a best-effort resync scan for broader damage
   (e.g. a zeroed sector), bounded by ``RECOVERY_MAX_CANDIDATES`` offsets and
   ``RECOVERY_CRC_BUDGET_BYTES`` of crc work so that recovery after a torn 32 MiB record still
   takes seconds.

Otherwise it is a *torn tail*, what a crash left of the last append(s) (an incomplete last
record, or a crc mismatch in the last record only): the file is truncated to ``o`` and synced,
and ``recovered_tail_bytes = end - o`` is reported. Rules 2 and 3 are exact, so every single
bit flip in a record followed by an intact one is detected.

Invariant: ``records()`` returns exactly a prefix of the payloads appended, in order, or the
WAL raises ``WALCorrupted``; it never returns a record that was not appended (up to CRC-32
collisions, 2**-32 per damaged record). Damage that destroys a record's length beyond one bit
*and* escapes the bounded scan drops the records after it (a shorter prefix, never a wrong
record). Rule 4 is conservative: a torn tail whose surviving bytes happen to contain a whole
valid frame (e.g. a crafted tx inside a proposal record) is reported as corruption.

``reset(marker)`` atomically replaces the log by an empty log or a single marker record (e.g.
"height h begins"), once the previous height is committed to the block store.
"""

from __future__ import annotations

import re
import struct
import zlib

from yulian.consensus.durable import DurableFile
from yulian.types.block import MAX_BLOCK_BYTES

RECORD_HEADER_BYTES = 8
MAX_RECORD_BYTES = MAX_BLOCK_BYTES + 64 * 1024  # a proposal carries a whole block
RECOVERY_CRC_BUDGET_BYTES = 8 * MAX_RECORD_BYTES  # work bounds of the best-effort resync scan
RECOVERY_MAX_CANDIDATES = 1 << 21
_HEADER = struct.Struct(">II")


class WALCorrupted(Exception):
    """A bad record followed by valid ones: not a torn tail. The node must not start."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"consensus WAL corrupted at byte offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason


class WALRecordSize(ValueError):
    """A payload outside ``1 <= len(payload) <= MAX_RECORD_BYTES``."""

    def __init__(self, size: int) -> None:
        super().__init__(f"WAL record of {size} bytes: need 1 <= size <= {MAX_RECORD_BYTES}")
        self.size = size


class WALFailed(Exception):
    """An earlier write failed part-way; appending more could bury a torn record mid-file."""


def encode_record(payload: bytes) -> bytes:
    """The framed record ``crc32(length || payload) | length | payload``."""
    if not 1 <= len(payload) <= MAX_RECORD_BYTES:
        raise WALRecordSize(len(payload))
    length = len(payload).to_bytes(4, "big")
    return zlib.crc32(payload, zlib.crc32(length)).to_bytes(4, "big") + length + payload


def read_record(data: bytes, offset: int) -> bytes | None:
    """The payload of the valid record starting at ``offset`` in ``data``, else ``None``."""
    parsed = _parse(memoryview(data), offset)
    return parsed if isinstance(parsed, bytes) else None


def scan_records(data: bytes) -> tuple[list[bytes], int]:
    """The valid records from offset 0 and the offset where they end (the first bad byte)."""
    view = memoryview(data)
    records: list[bytes] = []
    offset = 0
    while offset < len(view):
        parsed = _parse(view, offset)
        if not isinstance(parsed, bytes):
            break
        records.append(parsed)
        offset += RECORD_HEADER_BYTES + len(parsed)
    return records, offset


class WAL:
    """A crc-framed append-only log on a ``DurableFile``; see the module docstring."""

    def __init__(self, file: DurableFile) -> None:
        self._file = file
        self._failed = False
        data = file.read()
        _, end = scan_records(data)
        self.recovered_tail_bytes = 0
        if end < len(data):
            corruption = _corruption(data, end)
            if corruption is not None:
                raise WALCorrupted(end, corruption)
            file.truncate(end)
            file.sync()
            self.recovered_tail_bytes = len(data) - end

    def append(self, payload: bytes, *, sync: bool) -> None:
        """Append one record; with ``sync`` it is durable when this returns."""
        frame = encode_record(payload)
        if self._failed:
            raise WALFailed("an earlier WAL write failed; restart to recover the log")
        try:
            self._file.append(frame)
            if sync:
                self._file.sync()
        except BaseException:
            self._failed = True
            raise

    def sync(self) -> None:
        """Make every appended record durable."""
        if self._failed:
            raise WALFailed("an earlier WAL write failed; restart to recover the log")
        self._file.sync()

    def records(self) -> list[bytes]:
        """Every record in the log, in append order."""
        data = self._file.read()
        records, end = scan_records(data)
        if end != len(data):
            raise WALCorrupted(end, f"{_why_bad(data, end)} in a log that was recovered on open")
        return records

    def reset(self, marker: bytes | None = None) -> None:
        """Atomically replace the log by an empty one, or by the single record ``marker``."""
        content = b"" if marker is None else encode_record(marker)
        self._file.replace(content)
        self._failed = False


def _parse(view: memoryview, offset: int) -> bytes | str:
    """The payload of the valid record at ``offset``, or why there is none."""
    available = len(view) - offset
    if available < RECORD_HEADER_BYTES:
        return f"incomplete record header ({available} of {RECORD_HEADER_BYTES} bytes)"
    stored_crc, length = _HEADER.unpack_from(view, offset)
    if not 1 <= length <= MAX_RECORD_BYTES:
        return f"record length {length} outside [1, {MAX_RECORD_BYTES}]"
    start = offset + RECORD_HEADER_BYTES
    if start + length > len(view):
        return f"record of {length} bytes extends past the end of the file ({len(view)} bytes)"
    computed = zlib.crc32(view[start : start + length], zlib.crc32(view[offset + 4 : start]))
    if computed != stored_crc:
        return f"crc mismatch (stored {stored_crc:#010x}, computed {computed:#010x})"
    return bytes(view[start : start + length])


def _why_bad(data: bytes, offset: int) -> str:
    reason = _parse(memoryview(data), offset)
    assert isinstance(reason, str), f"the record at {offset} is valid"
    return reason


def _corruption(data: bytes, offset: int) -> str | None:
    """Why the bad record at ``offset`` is mid-file corruption, or ``None``: a torn tail."""
    view = memoryview(data)
    size = len(view)
    if size - offset < RECORD_HEADER_BYTES:
        return None
    stored_crc, length = _HEADER.unpack_from(view, offset)
    if length > MAX_RECORD_BYTES:
        return f"record length {length} beyond the limit of {MAX_RECORD_BYTES}"
    declared_end = offset + RECORD_HEADER_BYTES + length
    if declared_end < size and isinstance(_parse(view, declared_end), bytes):
        return f"{_why_bad(data, offset)}, followed by a valid record at offset {declared_end}"
    for bit in range(32):
        fixed = length ^ (1 << bit)
        end = offset + RECORD_HEADER_BYTES + fixed
        if (
            1 <= fixed <= MAX_RECORD_BYTES
            and end < size
            and _crc(view, offset, fixed) == stored_crc
        ):
            return f"length field {length} is a bit flip of {fixed}, and {size - end} bytes follow"
    later = _valid_record_after(view, offset)
    if later is not None:
        return f"{_why_bad(data, offset)}, followed by a valid record at offset {later}"
    return None


def _crc(view: memoryview, offset: int, length: int) -> int:
    start = offset + RECORD_HEADER_BYTES
    return zlib.crc32(view[start : start + length], zlib.crc32(length.to_bytes(4, "big")))


def _valid_record_after(view: memoryview, bad_offset: int) -> int | None:
    """Best effort: the first offset after ``bad_offset`` where a valid record starts.

    Bounded work (it runs after every crash that left a torn tail): a regex skips offsets whose
    length field is zero or cannot fit the file; a candidate is crc-checked only if it is
    followed by the end, a torn header or a header with a legal length; at most
    ``RECOVERY_MAX_CANDIDATES`` offsets and ``RECOVERY_CRC_BUDGET_BYTES`` of crc work are spent.
    """
    size = len(view)
    budget = RECOVERY_CRC_BUDGET_BYTES
    matches = _candidate_pattern(size).finditer(view, bad_offset + 5)
    for examined, match in enumerate(matches):
        if examined >= RECOVERY_MAX_CANDIDATES:
            return None
        candidate = match.start() - 4
        length = int.from_bytes(view[candidate + 4 : candidate + 8], "big")
        end = candidate + RECORD_HEADER_BYTES + length
        if length > min(budget, MAX_RECORD_BYTES) or end > size:
            continue
        if not _boundary_plausible(view, end):
            continue
        budget -= length
        if isinstance(_parse(view, candidate), bytes):
            return candidate
    return None


def _boundary_plausible(view: memoryview, offset: int) -> bool:
    """After a real record comes the end, a torn header, or a header with a legal length."""
    if len(view) - offset < RECORD_HEADER_BYTES:
        return True
    return 1 <= int.from_bytes(view[offset + 4 : offset + 8], "big") <= MAX_RECORD_BYTES


def _candidate_pattern(size: int) -> re.Pattern[bytes]:
    """Zero-width matches at ``p + 4`` for offsets ``p`` whose 4-byte length could lie in
    ``[1, min(MAX_RECORD_BYTES, size)]``: a cheap superset, checked exactly afterwards."""
    bound = min(MAX_RECORD_BYTES, size)
    first = bound >> 24
    second = 0xFF if first else (bound >> 16) & 0xFF
    return re.compile(
        b"(?=[\\x00-\\x%02x][\\x00-\\x%02x][\\x00-\\xff]{2})(?!\\x00{4})" % (first, second),
        re.DOTALL,
    )
