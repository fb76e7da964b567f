"""The consensus WAL: framing, torn-tail recovery, mid-file corruption, and the durable files.

C3: truncated at every byte offset of the last records the WAL recovers the exact prefix; a bad
record followed by valid ones refuses to start (``WALCorrupted``); random bit flips give a prefix
or ``WALCorrupted``, never a wrong record.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.consensus import wal as wal_module
from yulian.consensus.durable import MemoryFile, OsFile
from yulian.consensus.wal import (
    MAX_RECORD_BYTES,
    RECORD_HEADER_BYTES,
    WAL,
    WALCorrupted,
    WALFailed,
    WALRecordSize,
    encode_record,
    read_record,
    scan_records,
)

PAYLOADS = [b"height 7 begins", b"proposal " + bytes(range(200)), b"v", b"prevote 7/0", b"x" * 300]


def framed(payloads: list[bytes]) -> bytes:
    return b"".join(encode_record(p) for p in payloads)


def offsets(payloads: list[bytes]) -> list[int]:
    """The start offset of each record, then the end of the log."""
    out = [0]
    for p in payloads:
        out.append(out[-1] + RECORD_HEADER_BYTES + len(p))
    return out


# --- framing ----------------------------------------------------------------------------------


def test_record_framing_is_crc_length_payload() -> None:
    record = encode_record(b"abc")
    assert record[4:8] == (3).to_bytes(4, "big")
    assert record[8:] == b"abc"
    assert read_record(record, 0) == b"abc"
    assert read_record(b"\x00" * 16, 0) is None, "zeros are never a record"
    assert scan_records(framed(PAYLOADS)) == (PAYLOADS, offsets(PAYLOADS)[-1])


@pytest.mark.parametrize("size", [0, MAX_RECORD_BYTES + 1])
def test_record_size_is_limited(size: int) -> None:
    wal = WAL(MemoryFile())
    with pytest.raises(WALRecordSize) as e:
        wal.append(b"\x00" * size, sync=True)
    assert e.value.size == size


def test_largest_record_fits() -> None:
    wal = WAL(MemoryFile())
    wal.append(b"\x01" * MAX_RECORD_BYTES, sync=False)
    assert len(wal.records()[0]) == MAX_RECORD_BYTES


# --- append, sync, reset ----------------------------------------------------------------------


def test_append_and_read_back_in_order() -> None:
    file = MemoryFile()
    wal = WAL(file)
    for p in PAYLOADS:
        wal.append(p, sync=True)
    assert wal.records() == PAYLOADS
    assert file.durable == framed(PAYLOADS)
    assert WAL(file.crash()).records() == PAYLOADS


def test_unsynced_records_are_lost_by_a_power_loss_but_not_by_sync() -> None:
    file = MemoryFile()
    wal = WAL(file)
    wal.append(b"synced", sync=True)
    wal.append(b"pending", sync=False)
    assert wal.records() == [b"synced", b"pending"]
    assert WAL(file.crash()).records() == [b"synced"]
    wal.sync()
    assert WAL(file.crash()).records() == [b"synced", b"pending"]


def test_reset_empties_the_log_or_keeps_one_marker_atomically() -> None:
    file = MemoryFile()
    wal = WAL(file)
    for p in PAYLOADS:
        wal.append(p, sync=False)
    wal.reset(b"height 8")
    assert wal.records() == [b"height 8"]
    assert WAL(file.crash()).records() == [b"height 8"]
    wal.append(b"after", sync=True)
    assert WAL(file.crash()).records() == [b"height 8", b"after"]
    wal.reset()
    assert wal.records() == []
    assert file.crash().read() == b""


class FailingFile(MemoryFile):
    """Writes half of an append, then fails (a full disk, an I/O error)."""

    fail = True

    def append(self, data: bytes) -> None:
        if self.fail:
            super().append(data[: len(data) // 2])
            raise OSError("no space left on device")
        super().append(data)


def test_a_failed_append_stops_the_wal_until_restart() -> None:
    file = FailingFile()
    wal = WAL(file)
    with pytest.raises(OSError):
        wal.append(b"half of me", sync=True)
    file.fail = False
    with pytest.raises(WALFailed):
        wal.append(b"would be buried after a torn record", sync=True)
    with pytest.raises(WALFailed):
        wal.sync()
    restarted = WAL(file)
    assert restarted.recovered_tail_bytes == len(encode_record(b"half of me")) // 2
    restarted.append(b"fine", sync=True)
    assert restarted.records() == [b"fine"]


def test_reset_clears_a_failed_append() -> None:
    file = FailingFile()
    wal = WAL(file)
    with pytest.raises(OSError):
        wal.append(b"half of me", sync=True)
    file.fail = False
    wal.reset(b"marker")
    wal.append(b"ok", sync=True)
    assert wal.records() == [b"marker", b"ok"]


# --- torn tails -------------------------------------------------------------------------------


def test_truncation_at_every_offset_of_the_last_three_records_recovers_the_exact_prefix() -> None:
    data = framed(PAYLOADS)
    starts = offsets(PAYLOADS)
    first_cut = starts[len(PAYLOADS) - 3]
    for cut in range(first_cut, len(data) + 1):
        complete = max(i for i, start in enumerate(starts) if start <= cut)
        file = MemoryFile(data[:cut])
        wal = WAL(file)
        assert wal.records() == PAYLOADS[:complete], f"cut at {cut}"
        assert wal.recovered_tail_bytes == cut - starts[complete]
        assert file.read() == file.durable == data[: starts[complete]], "truncated and synced"
        wal.append(b"next", sync=True)
        assert WAL(file.crash()).records() == [*PAYLOADS[:complete], b"next"]


def test_every_bit_flip_in_the_last_record_drops_only_that_record() -> None:
    data = framed(PAYLOADS)
    last = offsets(PAYLOADS)[-2]
    for bit in range(last * 8, len(data) * 8):
        bad = bytearray(data)
        bad[bit // 8] ^= 1 << (bit % 8)
        if int.from_bytes(bad[last + 4 : last + 8], "big") > MAX_RECORD_BYTES:
            with pytest.raises(WALCorrupted, match="beyond the limit"):
                WAL(MemoryFile(bytes(bad)))  # rule 1: we never write such a length
            continue
        wal = WAL(MemoryFile(bytes(bad)))
        assert wal.records() == PAYLOADS[:-1], f"bit {bit}"
        assert wal.recovered_tail_bytes == len(data) - last


@pytest.mark.parametrize(
    "tail",
    [
        b"\x00" * 4096,  # a size-extended, never-written region reads as zeros
        b"\x00" * 3,
        b"\xff" * 7,  # a torn header
        b"\x12\x34\x56\x78\x00\x00\x01\x00" + b"partial payload",  # past the end
        b"\x12\x34\x56\x78\x00\x00\x00\x05" + b"12345" + b"\x00" * 100,  # crc mismatch, zeros
    ],
)
def test_garbage_or_zeros_after_the_last_record_are_a_torn_tail(tail: bytes) -> None:
    file = MemoryFile(framed(PAYLOADS) + tail)
    wal = WAL(file)
    assert wal.records() == PAYLOADS
    assert wal.recovered_tail_bytes == len(tail)


def test_a_length_beyond_the_limit_is_corruption_even_at_the_end() -> None:
    with pytest.raises(WALCorrupted, match="beyond the limit"):
        WAL(MemoryFile(framed(PAYLOADS) + b"\xff" * 9))


def test_torn_tail_on_a_real_file(tmp_path: Path) -> None:
    path = tmp_path / "cs.wal"
    path.write_bytes(framed(PAYLOADS)[:-5])
    file = OsFile(path)
    wal = WAL(file)
    assert wal.records() == PAYLOADS[:-1]
    wal.append(b"after restart", sync=True)
    file.close()
    assert WAL(OsFile(path)).records() == [*PAYLOADS[:-1], b"after restart"]


# --- corruption -------------------------------------------------------------------------------


def test_every_bit_flip_in_a_middle_record_is_corruption_at_its_offset() -> None:
    data = framed(PAYLOADS)
    starts = offsets(PAYLOADS)
    middle = 1
    for bit in range(starts[middle] * 8, starts[middle + 1] * 8):
        bad = bytearray(data)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(WALCorrupted) as e:
            WAL(MemoryFile(bytes(bad)))
        assert e.value.offset == starts[middle], f"bit {bit}"
        length_bits = range((starts[middle] + 4) * 8, (starts[middle] + 8) * 8)
        expected = "bit flip of|beyond the limit" if bit in length_bits else "followed by a valid"
        assert re.search(expected, str(e.value)), (bit, str(e.value))


def test_length_beyond_the_limit_mid_file_is_corruption() -> None:
    data = bytearray(framed(PAYLOADS))
    start = offsets(PAYLOADS)[2]
    data[start + 4 : start + 8] = (MAX_RECORD_BYTES + 1).to_bytes(4, "big")
    with pytest.raises(WALCorrupted, match=f"length {MAX_RECORD_BYTES + 1} beyond") as e:
        WAL(MemoryFile(bytes(data)))
    assert e.value.offset == start


def test_a_zeroed_sector_across_a_header_is_found_by_the_resync_scan() -> None:
    payloads = [bytes([i]) * 100 for i in range(1, 40)]
    data = bytearray(framed(payloads))
    starts = offsets(payloads)
    sector = (starts[10] // 512) * 512 + 512  # a 512-byte sector that contains a header
    data[sector : sector + 512] = bytes(512)
    with pytest.raises(WALCorrupted, match="followed by a valid record") as e:
        WAL(MemoryFile(bytes(data)))
    assert e.value.offset <= sector < e.value.offset + RECORD_HEADER_BYTES + 100


def test_a_large_torn_record_recovers_within_the_work_bounds() -> None:
    big = os.urandom(4 << 20)
    file = MemoryFile(framed([b"marker"]) + encode_record(big)[: 3 << 20])
    wal = WAL(file)
    assert wal.records() == [b"marker"]
    assert wal.recovered_tail_bytes == 3 << 20


def test_the_resync_scan_gives_up_at_its_bounds_and_calls_it_a_torn_tail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payloads = [bytes([i]) * 100 for i in range(1, 40)]
    data = bytearray(framed(payloads))
    data[600:1112] = bytes(512)  # the damage of the test above, found when the scan may run
    monkeypatch.setattr(wal_module, "RECOVERY_MAX_CANDIDATES", 0)
    assert WAL(MemoryFile(bytes(data))).records() == payloads[:5]
    monkeypatch.setattr(wal_module, "RECOVERY_MAX_CANDIDATES", 1 << 21)
    monkeypatch.setattr(wal_module, "RECOVERY_CRC_BUDGET_BYTES", 50)
    assert WAL(MemoryFile(bytes(data))).records() == payloads[:5]


def test_corruption_leaves_the_file_untouched() -> None:
    data = bytearray(framed(PAYLOADS))
    data[offsets(PAYLOADS)[1] + 10] ^= 0x01
    file = MemoryFile(bytes(data))
    with pytest.raises(WALCorrupted):
        WAL(file)
    assert file.read() == bytes(data)


def test_torn_tail_that_contains_a_whole_frame_is_reported_not_guessed() -> None:
    """Conservative by design: bytes after a bad record that form a valid frame refuse to start."""
    inner = encode_record(b"crafted inside a payload")
    outer = encode_record(b"proposal:" + inner + b"rest of the block")
    torn = framed(PAYLOADS[:2]) + outer[: 9 + len(b"proposal:") + len(inner)]
    with pytest.raises(WALCorrupted, match="followed by a valid record"):
        WAL(MemoryFile(torn))


def test_records_checks_the_file_again() -> None:
    file = MemoryFile()
    wal = WAL(file)
    wal.append(b"one", sync=True)
    file.append(b"\x00\x01")  # someone else's bytes: not a crash artefact in a recovered log
    with pytest.raises(WALCorrupted, match="recovered on open"):
        wal.records()


# --- random damage ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    payloads=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=8),
    flips=st.lists(st.integers(min_value=0), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_random_damage_gives_a_prefix_or_corruption(
    payloads: list[bytes], flips: list[int], cut: int | None
) -> None:
    data = bytearray(framed(payloads))
    for flip in flips:
        bit = flip % (len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    try:
        recovered = WAL(MemoryFile(bytes(data))).records()
    except WALCorrupted:
        return
    assert recovered == payloads[: len(recovered)], "only a prefix of what was appended"


# --- durable files ----------------------------------------------------------------------------


def test_os_file_read_append_truncate_replace(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "f"
    path.parent.mkdir()
    f = OsFile(path)
    assert f.read() == b""
    f.sync()  # nothing open yet: a no-op
    f.append(b"hello ")
    f.append(b"world")
    f.sync()
    assert f.read() == b"hello world"
    f.truncate(5)
    f.append(b"!")
    f.sync()
    assert path.read_bytes() == b"hello!"
    f.replace(b"new content")
    assert f.read() == b"new content"
    assert os.listdir(path.parent) == ["f"], "no temporary file left behind"
    f.append(b"+")
    f.sync()
    f.close()
    f.close()
    assert OsFile(path).read() == b"new content+"
    assert (path.stat().st_mode & 0o777) == 0o600


def test_memory_file_loses_only_unsynced_writes() -> None:
    f = MemoryFile(b"base")
    f.append(b"+1")
    assert f.read() == b"base+1"
    assert f.crash().read() == b"base"
    f.sync()
    f.truncate(2)
    assert f.crash().read() == b"base+1"
    f.replace(b"r")
    assert f.crash().read() == b"r"
