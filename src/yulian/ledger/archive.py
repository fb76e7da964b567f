"""Archives: blocks moved out of the hot ledger into compressed files that keep every proof.

Introduction
------------
``archive_blocks`` copies the blocks below a height, with everything a proof of one of their txs
needs, into files of at most ``per_file`` consecutive heights, named after the range
(``blocks-000000000001-000000001000.yarc``). A file is an xz stream (``lzma``; ``xz -d`` reads
it) of canonical msgpack records, each after its length (u32 BE): first
``("yulian-archive/1", chain, first, last)``, then per height ``(height, block hash, block,
commit, state root, tx ids, receipts)``. It is written to a
temporary name, flushed and renamed, then entered in the ledger's **archive index** (the meta
record ``archive.index``: per file its range, name, size and SHA-256), so the ledger knows —
and the API can say — where each archived height is. Archiving removes nothing; ``prune``
(``maintenance.py``) drops only heights an archive holds.

``ArchiveReader`` reads a directory of archives back: ``block(h)``, ``commit(h)``,
``receipts(h)`` like the ledger, from which the proof of any archived tx is rebuilt and
verifies offline exactly as the node's own proof did (``node/archives.py``).
"""

from __future__ import annotations

import hashlib
import lzma
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yulian.ledger.store import Ledger
from yulian.ledger.validate import InvalidInput, LedgerError
from yulian.types.encoding import DecodeError, Limits, decode, encode

__all__ = [
    "ARCHIVE_INDEX_META",
    "ArchiveEntry",
    "ArchiveError",
    "ArchiveReader",
    "archive_blocks",
    "archive_index",
    "archived_at",
]

ARCHIVE_INDEX_META = "archive.index"
ARCHIVE_FORMAT = "yulian-archive/1"
DEFAULT_PER_FILE = 1000
MAX_PER_FILE = 100_000
_LENGTH = struct.Struct(">I")
_RECORD_LIMITS = Limits(
    max_bytes=1 << 30, max_depth=3, max_items=1 << 20, max_str=256, max_bin=1 << 26
)


class ArchiveError(LedgerError):
    """An archive that is missing, unreadable, or not what the index says."""


@dataclass(frozen=True)
class ArchiveEntry:
    first: int
    last: int
    name: str
    size: int
    sha256: bytes

    def holds(self, height: int) -> bool:
        return self.first <= height <= self.last


def archive_index(ledger: Ledger) -> list[ArchiveEntry]:
    """The archive files the ledger knows of, ascending."""
    raw = ledger.get_meta(ARCHIVE_INDEX_META)
    if raw is None:
        return []
    try:
        return [ArchiveEntry(*fields) for fields in decode(raw, _RECORD_LIMITS)]
    except (DecodeError, TypeError) as e:
        raise ArchiveError(f"the archive index is unreadable: {e}") from None


def archived_at(ledger: Ledger, height: int) -> ArchiveEntry | None:
    """The archive file holding ``height``, if any."""
    return next((e for e in archive_index(ledger) if e.holds(height)), None)


def archive_blocks(
    ledger: Ledger,
    directory: Path,
    below: int,
    chain_id: str,
    per_file: int = DEFAULT_PER_FILE,
) -> list[ArchiveEntry]:
    """Archive every held height below ``below`` that no archive holds yet, in files of at
    most ``per_file`` heights; return the new entries. Stops at a height that is not held."""
    if type(below) is not int or not 1 <= below <= ledger.height() + 1:
        raise InvalidInput(f"archive below {below!r}: must be in 1..head + 1")
    if type(per_file) is not int or not 1 <= per_file <= MAX_PER_FILE:
        raise InvalidInput(f"per_file must be 1..{MAX_PER_FILE}")
    directory.mkdir(parents=True, exist_ok=True)
    index = archive_index(ledger)
    start = max([e.last + 1 for e in index] or [max(1, ledger.floor())])
    added: list[ArchiveEntry] = []
    while start < below:
        last = min(below - 1, start + per_file - 1)
        entry = _write_file(ledger, directory, chain_id, start, last)
        index.append(entry)
        ledger.put_meta(ARCHIVE_INDEX_META, _encode_index(index))
        added.append(entry)
        start = last + 1
    return added


def _encode_index(index: list[ArchiveEntry]) -> bytes:
    return encode(tuple((e.first, e.last, e.name, e.size, e.sha256) for e in index))


def _file_name(first: int, last: int) -> str:
    return f"blocks-{first:012d}-{last:012d}.yarc"


def _write_file(
    ledger: Ledger, directory: Path, chain_id: str, first: int, last: int
) -> ArchiveEntry:
    name = _file_name(first, last)
    tmp = directory / (name + ".tmp")
    with lzma.open(tmp, "wb", preset=6) as out:
        out.write(_framed((ARCHIVE_FORMAT, chain_id, first, last)))
        for height in range(first, last + 1):
            out.write(_framed(_record(ledger, height)))
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
        digest = hashlib.file_digest(f, "sha256").digest()
    os.replace(tmp, directory / name)
    _fsync_dir(directory)
    return ArchiveEntry(first, last, name, (directory / name).stat().st_size, digest)


def _record(ledger: Ledger, height: int) -> tuple[Any, ...]:
    block, commit, block_hash = (
        ledger.block(height),
        ledger.commit(height),
        ledger.block_hash(height),
    )
    tx_ids, receipts, root = (
        ledger.tx_ids(height),
        ledger.receipts(height),
        ledger.state_root(height),
    )
    if None in (block, commit, block_hash, tx_ids, receipts, root):
        raise ArchiveError(f"block {height} is not held whole here: it cannot be archived")
    assert tx_ids is not None and receipts is not None
    return (height, block_hash, block, commit, root, tuple(tx_ids), tuple(receipts))


def _framed(record: tuple[Any, ...]) -> bytes:
    data = encode(record)
    return _LENGTH.pack(len(data)) + data


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ArchivedBlock:
    height: int
    block_hash: bytes
    block: bytes
    commit: bytes
    state_root: bytes
    tx_ids: tuple[bytes, ...]
    receipts: tuple[bytes, ...]


class ArchiveReader:
    """The archives of a directory, read back (each file checked against ``entries``' sizes
    and digests when they are given)."""

    def __init__(self, directory: Path, entries: list[ArchiveEntry] | None = None) -> None:
        self.directory = directory
        self.entries = entries if entries is not None else self._scan()
        self._cache: tuple[str, dict[int, ArchivedBlock]] | None = None

    def _scan(self) -> list[ArchiveEntry]:
        found = []
        for path in sorted(self.directory.glob("blocks-*-*.yarc")):
            parts = path.stem.split("-")
            found.append(ArchiveEntry(int(parts[1]), int(parts[2]), path.name, 0, b""))
        return found

    def get(self, height: int) -> ArchivedBlock | None:
        entry = next((e for e in self.entries if e.holds(height)), None)
        if entry is None:
            return None
        if self._cache is None or self._cache[0] != entry.name:
            self._cache = (entry.name, dict((b.height, b) for b in self._read(entry)))
        return self._cache[1].get(height)

    def _read(self, entry: ArchiveEntry) -> Iterator[ArchivedBlock]:
        path = self.directory / entry.name
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ArchiveError(f"archive {path} cannot be read: {e.strerror or e}") from None
        if entry.sha256 and (
            len(data) != entry.size or hashlib.sha256(data).digest() != entry.sha256
        ):
            raise ArchiveError(f"archive {path} is not the file the index names (size or digest)")
        try:
            records = _unpack(lzma.decompress(data))
            head = next(records)
            if tuple(head[:1]) != (ARCHIVE_FORMAT,) or tuple(head[2:]) != (entry.first, entry.last):
                raise ArchiveError(f"archive {path}: unexpected header {head[:1]!r}")
            for fields in records:
                yield ArchivedBlock(*fields)
        except (lzma.LZMAError, DecodeError, StopIteration, TypeError, ValueError) as e:
            raise ArchiveError(f"archive {path} is damaged: {e}") from None

    def block(self, height: int) -> bytes | None:
        found = self.get(height)
        return None if found is None else found.block

    def commit(self, height: int) -> bytes | None:
        found = self.get(height)
        return None if found is None else found.commit

    def receipts(self, height: int) -> list[bytes] | None:
        found = self.get(height)
        return None if found is None else list(found.receipts)


def _unpack(data: bytes) -> Iterator[tuple[Any, ...]]:
    """The records of an archive's decompressed bytes, each decoded strictly (canonical)."""
    at = 0
    while at < len(data):
        if at + _LENGTH.size > len(data):
            raise DecodeError("a record's length is cut off")
        (length,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size
        if at + length > len(data):
            raise DecodeError("a record is cut off")
        record = decode(data[at : at + length], _RECORD_LIMITS)
        if not isinstance(record, tuple):
            raise DecodeError("a record is not an array")
        yield record
        at += length
