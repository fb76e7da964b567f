"""The snapshot format: the state of a height, in chunks a receiver checks one by one.

Introduction
------------
A snapshot of height ``B`` is a directory (or the same files sent over the network):

* ``manifest`` — canonical msgpack of ``Manifest``: the chain, ``B``, block ``B``'s header and
  commit certificate, the governance path below ``B`` (every block that changed the consortium
  config: header, commit, new config — what a proof bundle carries), the state sum, the lowest
  height of the replay window, and per chunk its size, its digest and (state chunks) its sum;
* ``state-NNNNN`` — the state's versions ``(key, height, value or None)`` in version order
  (``maintenance.version_order``), split at about ``CHUNK_TARGET_BYTES``;
* ``blocks-NNNNN`` — block records ``(height, block, receipts or None)`` in descending height
  order: ``B``, then every height of the replay window down to ``window_low``, then the kept
  blocks below it (those of the governance path). ``B`` and kept blocks carry their receipts
  (they are installed whole); the window's blocks only give the ids of txs that may still be
  replayed.

Why a receiver can trust it, from the genesis alone (``node/statesync.py`` checks the parts
that need consensus code; this module the rest):

1. the governance path and ``B``'s commit certificate verify as a proof bundle's do, so the
   header of ``B`` is the chain's, and its ``state_root`` is ``H(state sum)``;
2. the state chunks' sums add up to the state sum (``check_manifest_sums``); each chunk's
   versions hash to its sum and continue the strict version order (``StateChunkChecker``) — so
   the versions received are exactly the committed state (LtHash is collision resistant for
   sets; the strict order rules out repeats, decision 0050);
3. block records chain by ``prev_hash`` down from ``B``, and each one's ``tx_root`` (and
   ``result_root`` where receipts come) match its header.

Pure format and checks plus the producer (``write_snapshot``) and the installer
(``install_snapshot_dir``); no network.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yulian.crypto.lthash import SUM_BYTES, add_sums, lthash
from yulian.crypto.suite import Suite
from yulian.ledger.maintenance import (
    LedgerMaintenance,
    SnapshotBase,
    Version,
    check_version,
    version_order,
)
from yulian.ledger.validate import MAX_HASH_BYTES, LedgerError
from yulian.types.encoding import DecodeError, Limits, decode, encode
from yulian.types.proof import ConfigTransition

__all__ = [
    "CHUNK_TARGET_BYTES",
    "MAX_CHUNK_BYTES",
    "MAX_MANIFEST_BYTES",
    "SNAPSHOT_VERSION",
    "BlockChunkInfo",
    "BlockRecord",
    "Manifest",
    "SnapshotError",
    "SnapshotPlan",
    "StateChunkChecker",
    "StateChunkInfo",
    "check_manifest_sums",
    "decode_block_chunk",
    "install_snapshot_dir",
    "read_snapshot_dir",
    "write_snapshot",
]

SNAPSHOT_VERSION = 1
#: A chunk is cut once it holds this many bytes of records (one record may make it larger).
CHUNK_TARGET_BYTES = 4 * 1024 * 1024
#: The largest chunk a receiver accepts (below the network's frame limit).
MAX_CHUNK_BYTES = 36 * 1024 * 1024
#: The largest manifest a receiver accepts.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
#: Most chunks of each kind.
MAX_CHUNKS = 65_536
MANIFEST_FILE = "manifest"

_CHUNK_LIMITS = Limits(
    max_bytes=MAX_CHUNK_BYTES, max_depth=4, max_items=1 << 22, max_str=1 << 16, max_bin=1 << 25
)
_MANIFEST_LIMITS = Limits(
    max_bytes=MAX_MANIFEST_BYTES, max_depth=4, max_items=MAX_CHUNKS, max_str=256, max_bin=1 << 25
)


class SnapshotError(LedgerError):
    """A snapshot (or a part of one) that is malformed or does not verify; says what."""


@dataclass(frozen=True)
class StateChunkInfo:
    size: int
    digest: bytes
    state_sum: bytes
    versions: int


@dataclass(frozen=True)
class BlockChunkInfo:
    size: int
    digest: bytes
    first: int  # the highest height in the chunk (records descend)
    last: int


@dataclass(frozen=True)
class Manifest:
    chain_id: str
    height: int
    header: bytes
    commit: bytes
    transitions: tuple[ConfigTransition, ...]
    state_sum: bytes
    window_low: int  # the lowest height of the replay window (``height`` when it is empty)
    state_chunks: tuple[StateChunkInfo, ...]
    block_chunks: tuple[BlockChunkInfo, ...]

    def encode(self) -> bytes:
        return encode(
            (
                SNAPSHOT_VERSION,
                self.chain_id,
                self.height,
                self.header,
                self.commit,
                tuple((t.header, t.commit, t.config) for t in self.transitions),
                self.state_sum,
                self.window_low,
                tuple((c.size, c.digest, c.state_sum, c.versions) for c in self.state_chunks),
                tuple((c.size, c.digest, c.first, c.last) for c in self.block_chunks),
            )
        )

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        try:
            fields = decode(data, _MANIFEST_LIMITS)
            (
                version,
                chain_id,
                height,
                header,
                commit,
                transitions,
                state_sum,
                low,
                states,
                blocks,
            ) = fields
            if version != SNAPSHOT_VERSION:
                raise SnapshotError(f"snapshot format {version!r}; this release reads 1")
            manifest = cls(
                _str(chain_id),
                _int(height, 1),
                _bytes(header),
                _bytes(commit),
                tuple(ConfigTransition(_bytes(h), _bytes(c), _bytes(v)) for h, c, v in transitions),
                _bytes(state_sum),
                _int(low, 1),
                tuple(
                    StateChunkInfo(_int(s, 1), _bytes(d), _bytes(m), _int(n, 0))
                    for s, d, m, n in states
                ),
                tuple(
                    BlockChunkInfo(_int(s, 1), _bytes(d), _int(f, 1), _int(t, 1))
                    for s, d, f, t in blocks
                ),
            )
        except (DecodeError, TypeError, ValueError) as e:
            raise SnapshotError(f"malformed manifest: {e}") from None
        manifest.check_shape()
        return manifest

    def check_shape(self) -> None:
        """What can be checked without keys: sizes, digests' lengths, heights' order."""
        if len(self.state_sum) != SUM_BYTES or not 1 <= self.window_low <= self.height:
            raise SnapshotError("manifest: bad state sum or window")
        if len(self.state_chunks) > MAX_CHUNKS or len(self.block_chunks) > MAX_CHUNKS:
            raise SnapshotError("manifest: too many chunks")
        for c in self.state_chunks:
            if not c.size <= MAX_CHUNK_BYTES or len(c.state_sum) != SUM_BYTES or not c.digest:
                raise SnapshotError("manifest: bad state chunk entry")
        expected = self.height
        for b in self.block_chunks:
            if not b.size <= MAX_CHUNK_BYTES or not b.first <= expected or b.last > b.first:
                raise SnapshotError("manifest: block chunks do not descend from the snapshot")
            if not 1 <= len(b.digest) <= MAX_HASH_BYTES:
                raise SnapshotError("manifest: bad block chunk digest")
            expected = b.last - 1
        if not self.block_chunks or self.block_chunks[0].first != self.height:
            raise SnapshotError("manifest: the first block chunk starts at the snapshot")

    def digest(self, suite: Suite) -> bytes:
        return suite.hash(self.encode())


def check_manifest_sums(manifest: Manifest) -> None:
    """The state chunks' sums add up to the state sum (so, chunk by chunk, the versions)."""
    if add_sums(c.state_sum for c in manifest.state_chunks) != manifest.state_sum:
        raise SnapshotError("the state chunks' sums do not add up to the state sum")


def _str(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("expected text")
    return value


def _int(value: Any, low: int) -> int:
    if type(value) is not int or value < low:
        raise ValueError(f"expected an int >= {low}")
    return value


def _bytes(value: Any) -> bytes:
    if type(value) is not bytes:
        raise TypeError("expected bytes")
    return value


# ---------------------------------------------------------------------------------------------
# Chunks
# ---------------------------------------------------------------------------------------------


class StateChunkChecker:
    """Checks state chunks in order: each continues the strict version order, stays within
    the snapshot's height and each key's window, and hashes to its manifest sum."""

    def __init__(self, suite: Suite, height: int, window: Callable[[bytes], int]) -> None:
        self._suite, self._height, self._window = suite, height, window
        self._last: tuple[int, bytes, int] | None = None
        self._run = 0  # versions of the current key so far

    def check(
        self, info: StateChunkInfo, data: bytes, suite_hash: Callable[[bytes], bytes]
    ) -> list[Version]:
        """The chunk's versions, if ``data`` is the chunk ``info`` describes; raises
        ``SnapshotError`` (the sender is lying) otherwise. ``suite_hash`` names the digest."""
        if len(data) != info.size or suite_hash(data) != info.digest:
            raise SnapshotError("state chunk: size or digest differs from the manifest")
        try:
            raw = decode(data, _CHUNK_LIMITS)
            versions = [check_version(tuple(v), self._height) for v in raw]
        except (DecodeError, LedgerError, TypeError, ValueError) as e:
            raise SnapshotError(f"state chunk: malformed: {e}") from None
        if len(versions) != info.versions:
            raise SnapshotError("state chunk: version count differs from the manifest")
        last, run = self._last, self._run
        for version in versions:
            order = version_order(version)
            if last is not None and order <= last:
                raise SnapshotError("state chunk: versions repeat or leave version order")
            run = run + 1 if last is not None and last[1] == version[0] else 1
            if run > self._window(version[0]):
                raise SnapshotError("state chunk: more versions of a key than its window")
            last = order
        entries = (_entry(v) for v in versions)
        if lthash(self._suite, added=entries) != info.state_sum:
            raise SnapshotError("state chunk: its versions do not hash to its sum")
        self._last, self._run = last, run  # only a chunk that passed moves the order on
        return versions


def _entry(version: Version) -> bytes:
    # the element of ``execution.roots.version_entry``: the ledger cannot import execution,
    # and a test checks the two agree
    key, height, value = version
    tail = b"\x00" if value is None else b"\x01" + value
    return len(key).to_bytes(2, "big") + key + height.to_bytes(8, "big") + tail


@dataclass(frozen=True)
class BlockRecord:
    height: int
    block: bytes
    receipts: tuple[bytes, ...] | None  # None: a replay-window block, only its tx ids count

    def to_value(self) -> tuple[Any, ...]:
        return (self.height, self.block, self.receipts)


def decode_block_chunk(
    info: BlockChunkInfo, data: bytes, suite_hash: Callable[[bytes], bytes]
) -> list[BlockRecord]:
    """The chunk's records, descending from ``info.first`` to ``info.last`` (the checks of
    their contents against the chain are ``node/statesync.py``'s)."""
    if len(data) != info.size or suite_hash(data) != info.digest:
        raise SnapshotError("block chunk: size or digest differs from the manifest")
    try:
        raw = decode(data, _CHUNK_LIMITS)
        records = [
            BlockRecord(_int(h, 1), _bytes(b), None if r is None else tuple(_bytes(x) for x in r))
            for h, b, r in raw
        ]
    except (DecodeError, TypeError, ValueError) as e:
        raise SnapshotError(f"block chunk: malformed: {e}") from None
    heights = [r.height for r in records]
    if not heights or heights[0] != info.first or heights[-1] != info.last:
        raise SnapshotError("block chunk: heights differ from the manifest")
    if any(a <= b for a, b in itertools.pairwise(heights)):
        raise SnapshotError("block chunk: heights do not descend")
    return records


# ---------------------------------------------------------------------------------------------
# Producing and installing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotPlan:
    """What the caller (who knows the chain's rules) says about a snapshot of a height."""

    transitions: tuple[ConfigTransition, ...]
    kept_heights: tuple[int, ...]  # the heights of ``transitions``, ascending
    window_low: int
    commit: bytes  # the snapshot block's commit certificate


def write_snapshot(
    ledger: LedgerMaintenance,
    read_block: Callable[[int], tuple[bytes, tuple[bytes, ...]] | None],
    directory: Path,
    suite: Suite,
    chain_id: str,
    window: Callable[[bytes], int],
    plan: Callable[[int, bytes], SnapshotPlan],
    chunk_bytes: int = CHUNK_TARGET_BYTES,
) -> Manifest:
    """Write a snapshot of ``ledger``'s head into ``directory`` (created; must be empty).

    ``read_block(h)`` gives a held block and its receipts; ``plan(height, header)`` what the
    chain's rules say about the height. Versions are read in one read snapshot; blocks below
    it never change. The manifest is written last: a directory without one is incomplete.
    Raises ``SnapshotError`` when a block it needs is not held (pruned)."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise SnapshotError(f"{directory} is not empty")
    with ledger.read_versions() as reader:
        height, state_sum = reader.height, reader.state_sum
        base = read_block(height) if height else None
        if base is None:
            raise SnapshotError(f"the ledger holds no block to snapshot (head {height})")
        header = _header_bytes(base[0])
        chosen = plan(height, header)
        state_chunks = _write_state_chunks(reader.versions(), directory, suite, window, chunk_bytes)
    block_chunks = _write_block_chunks(height, chosen, read_block, directory, suite, chunk_bytes)
    manifest = Manifest(
        chain_id,
        height,
        header,
        chosen.commit,
        chosen.transitions,
        state_sum,
        chosen.window_low,
        tuple(state_chunks),
        tuple(block_chunks),
    )
    tmp = directory / (MANIFEST_FILE + ".tmp")
    tmp.write_bytes(manifest.encode())
    os.replace(tmp, directory / MANIFEST_FILE)
    return manifest


def _header_bytes(block: bytes) -> bytes:
    """The encoded header of an encoded block (``[header, txs]``)."""
    return bytes(encode(decode(block, _CHUNK_LIMITS)[0]))


def _write_state_chunks(
    versions: Iterator[Version],
    directory: Path,
    suite: Suite,
    window: Callable[[bytes], int],
    chunk_bytes: int,
) -> list[StateChunkInfo]:
    chunks: list[StateChunkInfo] = []
    pending: list[Version] = []
    size = 0

    def flush() -> None:
        data = encode(tuple(pending))
        (directory / f"state-{len(chunks):05d}").write_bytes(data)
        chunk_sum = lthash(suite, added=(_entry(v) for v in pending))
        chunks.append(StateChunkInfo(len(data), suite.hash(data), chunk_sum, len(pending)))

    for key, key_versions in _window_runs(versions, window):
        for version in key_versions:
            pending.append(version)
            size += len(key) + 16 + (len(version[2]) if version[2] is not None else 0)
        if size >= chunk_bytes:
            flush()
            pending, size = [], 0
    if pending or not chunks:
        flush()
    return chunks


def _window_runs(
    versions: Iterator[Version], window: Callable[[bytes], int]
) -> Iterator[tuple[bytes, list[Version]]]:
    """Per key (in version order), its newest ``window(key)`` versions."""
    key: bytes | None = None
    run: list[Version] = []
    for version in versions:
        if version[0] != key:
            if key is not None:
                yield key, run[-window(key) :]
            key, run = version[0], []
        run.append(version)
    if key is not None:
        yield key, run[-window(key) :]


def _write_block_chunks(
    height: int,
    plan: SnapshotPlan,
    read_block: Callable[[int], tuple[bytes, tuple[bytes, ...]] | None],
    directory: Path,
    suite: Suite,
    chunk_bytes: int,
) -> list[BlockChunkInfo]:
    kept = set(plan.kept_heights)
    heights = [*range(height, plan.window_low - 1, -1)]
    heights += sorted((h for h in kept if h < plan.window_low), reverse=True)
    chunks: list[BlockChunkInfo] = []
    pending: list[BlockRecord] = []
    size = 0

    def flush() -> None:
        data = encode(tuple(r.to_value() for r in pending))
        (directory / f"blocks-{len(chunks):05d}").write_bytes(data)
        chunks.append(
            BlockChunkInfo(len(data), suite.hash(data), pending[0].height, pending[-1].height)
        )

    for h in heights:
        found = read_block(h)
        if found is None:
            raise SnapshotError(f"block {h} is not held here (pruned): no snapshot of {height}")
        block, receipts = found
        whole = h == height or h in kept
        pending.append(BlockRecord(h, block, receipts if whole else None))
        size += len(block) + (sum(map(len, receipts)) if whole else 0)
        if size >= chunk_bytes:
            flush()
            pending, size = [], 0
    if pending:
        flush()
    return chunks


def read_snapshot_dir(directory: Path) -> Manifest:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise SnapshotError(f"{directory} holds no complete snapshot (no manifest)")
    return Manifest.decode(path.read_bytes())


class _ChunkVersions:
    """The versions of a snapshot directory's state chunks, re-iterable (read per pass)."""

    def __init__(self, directory: Path, count: int) -> None:
        self._paths = [directory / f"state-{i:05d}" for i in range(count)]

    def __iter__(self) -> Iterator[Version]:
        for path in self._paths:
            yield from decode(path.read_bytes(), _CHUNK_LIMITS)


def install_snapshot_dir(
    ledger: LedgerMaintenance, directory: Path, manifest: Manifest, base: SnapshotBase
) -> None:
    """Install the checked snapshot in ``directory`` (``base`` built by the checker from its
    block records) into an empty ledger, in one write."""
    ledger.install_snapshot(base, _ChunkVersions(directory, len(manifest.state_chunks)))


def chunk_path(directory: Path, kind: str, index: int) -> Path:
    if kind not in ("state", "blocks") or not 0 <= index < MAX_CHUNKS:
        raise SnapshotError(f"no chunk {kind} {index}")
    return directory / f"{kind}-{index:05d}"
