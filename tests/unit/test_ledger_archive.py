"""Archive files on both backends: what goes in comes back, the index says where, a damaged or
replaced file is refused, and archiving twice adds nothing."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest
from tests.unit.test_ledger_maintenance import HEAD, chain, other, target  # noqa: F401

from yulian.ledger import InvalidInput, Ledger
from yulian.ledger.archive import (
    ArchiveError,
    ArchiveReader,
    archive_blocks,
    archive_index,
    archived_at,
)


def test_archived_blocks_come_back(chain: Ledger, tmp_path: Path) -> None:  # noqa: F811
    entries = archive_blocks(chain, tmp_path, 10, "chain-x", per_file=4)
    assert [(e.first, e.last) for e in entries] == [(1, 4), (5, 8), (9, 9)]
    assert archive_index(chain) == entries
    assert archived_at(chain, 6) == entries[1] and archived_at(chain, 10) is None
    reader = ArchiveReader(tmp_path, archive_index(chain))
    for height in range(1, 10):
        got = reader.get(height)
        assert got is not None
        assert (got.block, got.commit, got.receipts) == (
            chain.block(height),
            chain.commit(height),
            tuple(chain.receipts(height) or ()),
        )
        assert got.tx_ids == tuple(chain.tx_ids(height) or ())
        assert got.block_hash == chain.block_hash(height)
    assert reader.get(10) is None
    assert lzma.decompress((tmp_path / entries[0].name).read_bytes())  # plain xz
    assert archive_blocks(chain, tmp_path, 10, "chain-x", per_file=4) == [], "nothing twice"
    assert [e.first for e in archive_blocks(chain, tmp_path, HEAD, "chain-x")] == [10]


def test_a_damaged_or_replaced_archive_is_refused(chain: Ledger, tmp_path: Path) -> None:  # noqa: F811
    (entry,) = archive_blocks(chain, tmp_path, 5, "chain-x")
    path = tmp_path / entry.name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="not the file the index names"):
        ArchiveReader(tmp_path, archive_index(chain)).get(2)
    with pytest.raises(ArchiveError, match="damaged"):
        ArchiveReader(tmp_path).get(2)  # without the index: xz's own check


def test_archive_arguments_are_checked(chain: Ledger, tmp_path: Path) -> None:  # noqa: F811
    for below in (0, HEAD + 2):
        with pytest.raises(InvalidInput):
            archive_blocks(chain, tmp_path, below, "chain-x")
    with pytest.raises(InvalidInput):
        archive_blocks(chain, tmp_path, 5, "chain-x", per_file=0)
    assert archive_index(chain) == []
