"""A node refuses to start on corrupt consensus state, and recovers a torn WAL tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from yulian.consensus.durable import OsFile
from yulian.consensus.wal import WAL
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node, NodeStartError


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    layout = init_network(tmp_path / "net", orgs=1)
    return layout.nodes[0].config


def _write_wal(path: Path, records: int) -> list[int]:
    wal = WAL(OsFile(path))
    offsets = []
    for i in range(records):
        offsets.append(len(path.read_bytes()) if path.exists() else 0)
        wal.append(f"record {i}".encode() * 10, sync=True)
    return offsets


def test_corrupt_wal_middle_refuses_to_start(config_path: Path) -> None:
    cfg = load_config(config_path)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    wal_path = cfg.data_dir / "consensus.wal"
    offsets = _write_wal(wal_path, 3)
    data = bytearray(wal_path.read_bytes())
    data[offsets[1] + 12] ^= 0x40  # a payload bit of the middle record
    wal_path.write_bytes(bytes(data))
    with pytest.raises(NodeStartError, match="WALCorrupted"):
        Node(cfg)


def test_torn_wal_tail_is_truncated(config_path: Path) -> None:
    cfg = load_config(config_path)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    wal_path = cfg.data_dir / "consensus.wal"
    _write_wal(wal_path, 3)
    whole = wal_path.read_bytes()
    wal_path.write_bytes(whole[:-5])  # the last record torn by a crash
    node = Node(cfg)
    try:
        assert node.replica.wal.recovered_tail_bytes > 0
        assert len(node.replica.wal.records()) == 2
    finally:
        node.close()


def test_corrupt_safety_file_refuses_to_start(config_path: Path) -> None:
    cfg = load_config(config_path)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    (cfg.data_dir / "safety.dat").write_bytes(b"\x00\x00\x00\x05garbage")
    with pytest.raises(NodeStartError, match="CorruptSafetyData"):
        Node(cfg)


def test_another_chains_data_dir_is_refused(config_path: Path, tmp_path: Path) -> None:
    cfg = load_config(config_path)
    Node(cfg).close()
    other = init_network(tmp_path / "other", orgs=1, chain_id="other-chain")
    other_cfg = load_config(other.nodes[0].config)
    import dataclasses

    with pytest.raises(NodeStartError, match="another chain"):
        Node(dataclasses.replace(other_cfg, data_dir=cfg.data_dir))
