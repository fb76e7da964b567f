"""The ``[storage]`` section of a node's config chooses the ledger backend; a wrong one is a
``ConfigError`` naming the section, before anything is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from yulian.ledger import StorageConfig
from yulian.node.config import ConfigError, load_config, save_config

NODE = """
[node]
name = "n0"
org = "org1"
data_dir = "data"
genesis = "genesis.json"
key = "node.key"
cert = "node.crt"
"""


def write(tmp_path: Path, storage: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(NODE + storage, encoding="utf-8")
    return path


def test_without_a_storage_section_the_ledger_is_lmdb_in_the_data_dir(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.storage == StorageConfig()
    assert config.storage.lmdb_path(config.data_dir) == tmp_path / "data" / "ledger"


def test_postgres_and_lmdb_sections_are_read_and_written_back(tmp_path: Path) -> None:
    pg = write(tmp_path, '[storage]\nbackend = "postgres"\ndsn = "dbname=x"\nschema = "n0"\n')
    config = load_config(pg)
    assert config.storage == StorageConfig(backend="postgres", dsn="dbname=x", schema="n0")
    save_config(config, tmp_path / "copy.toml")
    assert load_config(tmp_path / "copy.toml") == config
    lmdb = load_config(write(tmp_path, '[storage]\nbackend = "lmdb"\npath = "../chain"\n'))
    assert lmdb.storage.path == tmp_path.parent / "chain"
    save_config(lmdb, tmp_path / "copy.toml")
    assert load_config(tmp_path / "copy.toml") == lmdb


@pytest.mark.parametrize(
    "section",
    [
        '[storage]\nbackend = "mysql"\n',
        '[storage]\nbackend = "postgres"\n',  # no dsn
        '[storage]\nbackend = "postgres"\ndsn = "dbname=x"\nschema = "Org-1"\n',
        '[storage]\nbackend = "lmdb"\ndsn = "dbname=x"\n',
        '[storage]\nbackend = "postgres"\ndsn = 5\n',
        '[storage]\nbackend = "lmdb"\nmap = 1\n',
    ],
)
def test_a_wrong_storage_section_is_a_config_error(tmp_path: Path, section: str) -> None:
    with pytest.raises(ConfigError, match=r"\[storage\]"):
        load_config(write(tmp_path, section))


def test_the_snapshots_section_is_read_and_written_back(tmp_path: Path) -> None:
    assert (
        load_config(write(tmp_path, "")).snapshot_interval,
        load_config(write(tmp_path, "")).state_sync,
    ) == (0, False)
    config = load_config(
        write(tmp_path, "[snapshots]\ninterval = 500\nkeep = 3\nstate_sync = true\n")
    )
    assert (config.snapshot_interval, config.snapshot_keep, config.state_sync) == (500, 3, True)
    save_config(config, tmp_path / "copy.toml")
    assert load_config(tmp_path / "copy.toml") == config


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("[snapshots]\ninterval = -1\n", "interval"),
        ("[snapshots]\nkeep = 0\n", "keep"),
        ('[snapshots]\nstate_sync = "yes"\n', "state_sync"),
        ("[snapshots]\nstate_sync = 1\n", "state_sync"),
        ("[snapshots]\nevery = 5\n", "every"),
    ],
)
def test_a_wrong_snapshots_section_is_a_config_error(
    tmp_path: Path, section: str, field: str
) -> None:
    with pytest.raises(ConfigError, match=rf"\[snapshots\] {field}"):
        load_config(write(tmp_path, section))
