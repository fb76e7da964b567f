"""Upgrades: a ledger the previous release wrote is refused with a message that says what to do,
on both backends, and is left exactly as it was; a node on one refuses to start.

The ledgers are the previous release's own output (``tests/vectors/previous_release``, written
by that release's code with ``make.py`` there): its chain's state roots follow the chained rule
this release replaced (decision 0050), so no block of it verifies here and no migration could
make one (decision 0053).
"""

from __future__ import annotations

import lzma
import subprocess
from pathlib import Path

import pytest
from tests.pgserver import PgServer, find_bin_dir

from yulian.ledger import PostgresLedger, UnsupportedFormat, open_ledger
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node, NodeStartError

PREVIOUS = Path(__file__).resolve().parents[1] / "vectors" / "previous_release"
ADVICE = "cannot continue here: keep running that release for this chain, or start a new chain"


def previous_lmdb(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "data.mdb").write_bytes(lzma.decompress((PREVIOUS / "lmdb-2.mdb.xz").read_bytes()))
    return directory


def test_a_previous_release_lmdb_ledger_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = previous_lmdb(tmp_path / "ledger")
    before = (path / "data.mdb").read_bytes()
    for readonly in (False, True):
        with pytest.raises(UnsupportedFormat, match="yulian-ledger-lmdb/2") as info:
            open_ledger(path, readonly=readonly)
        assert ADVICE in str(info.value)
    assert (path / "data.mdb").read_bytes() == before


def test_a_previous_release_postgres_ledger_is_refused_and_left_alone(pg_server: PgServer) -> None:
    psql = str(find_bin_dir() / "psql")
    subprocess.run(
        [
            psql,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            pg_server.dsn(),
            "-f",
            str(PREVIOUS / "postgres-1.sql"),
        ],
        check=True,
        capture_output=True,
    )
    count = (
        "SELECT (SELECT count(*) FROM previous_release.blocks), "
        "(SELECT count(*) FROM previous_release.history)"
    )

    def counts() -> str:
        return subprocess.run(
            [psql, "-At", "-d", pg_server.dsn(), "-c", count],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    before = counts()
    try:
        for readonly in (False, True):
            with pytest.raises(UnsupportedFormat, match="yulian-ledger-postgres/1") as info:
                PostgresLedger(pg_server.dsn(), schema="previous_release", readonly=readonly)
            assert ADVICE in str(info.value)
        assert counts() == before and before.startswith(("6|", "7|"))
    finally:
        pg_server.drop_schema("previous_release")


def test_a_node_on_a_previous_release_ledger_refuses_to_start(tmp_path: Path) -> None:
    layout = init_network(tmp_path / "net", orgs=1, validators=1)
    config = load_config(layout.nodes[0].config)
    previous_lmdb(config.data_dir / "ledger")
    with pytest.raises(NodeStartError, match=r"refusing to start: the ledger: .*lmdb/2"):
        Node(config)
