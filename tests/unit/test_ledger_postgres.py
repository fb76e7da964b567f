"""What only the PostgreSQL backend has: its schema, the operators' views and their grants, and
how it refuses a schema that is not a ledger or disagrees with its head.

A one-validator chain (the real replica, executing real evidence txs) commits into a
PostgreSQL ledger; the views must show those blocks, txs, events and state as the API would,
to a role that can read the views and nothing else. Everything shared with LMDB is tested in
``test_ledger_store.py`` / ``test_ledger_events.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors
from tests.ledger_backends import LedgerTarget, make_target
from tests.pgserver import PgServer
from tests.unit.test_ledger_store import commit_chain
from tests.unit.test_replica import Net, register_envelope

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.wal import WAL
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import pem_to_der
from yulian.execution.overlay import state_key
from yulian.ledger import (
    CorruptLedger,
    InvalidInput,
    Ledger,
    PostgresLedger,
    StorageConfig,
    UnsupportedFormat,
    open_ledger,
)
from yulian.ledger.postgres import VIEWS, grant_reader_sql
from yulian.node.bootstrap import init_network
from yulian.node.replica import Replica, ReplicaConfig
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.encoding import decode, encode
from yulian.types.genesis import Genesis
from yulian.types.jsonvalue import to_json
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx

READER_ROLE = "chain_reader"


@pytest.fixture
def target(pg_server: PgServer, tmp_path: Path) -> LedgerTarget:
    return make_target("postgres", tmp_path, pg_server)


def sql(server: PgServer, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


# ---------------------------------------------------------------------------------------------
# A real chain, read through the views
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Chain:
    ledger: Ledger
    genesis: Genesis
    envelopes: list[bytes]


@pytest.fixture
def chain(target: LedgerTarget, tmp_path: Path) -> Iterator[Chain]:
    """One validator that committed 6 evidence registrations into the PostgreSQL ledger."""
    layout = init_network(
        tmp_path / "net", orgs=1, validators=1, contracts=[(CONTRACT_NAME, contract_source())]
    )
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    node = layout.nodes[0]
    key = suite.load_private_key(node.credential.key.read_bytes())
    ledger = target.open(sync=False)
    replica = Replica(
        genesis,
        suite,
        ledger,
        SafetyRules(suite, key, genesis.chain_id, node.name, MemoryFile()),
        WAL(MemoryFile()),
        ReplicaConfig(name=node.name, node_cert=pem_to_der(node.credential.cert.read_bytes())),
    )
    wallet = Wallet.from_network(layout.root, "org1", "client1")
    net = Net({node.name: replica})
    net.now = genesis.time_ms + 3_600_000
    net.apply(node.name, replica.start(net.now))
    envelopes = [register_envelope(genesis, wallet, i) for i in range(6)]
    ids = [replica.submit(e, net.now).tx_id for e in envelopes]
    net.run_until(lambda: all(ledger.has_tx(i) for i in ids))
    try:
        yield Chain(ledger, genesis, envelopes)
    finally:
        ledger.close()


def test_views_show_the_chain_as_the_api_does(pg_server: PgServer, chain: Chain) -> None:
    ledger, schema = chain.ledger, chain.ledger.schema  # type: ignore[attr-defined]
    head = ledger.height()
    blocks = sql(pg_server, f"SELECT height, hash, time, proposer, tx_count FROM {schema}.v_blocks")
    assert [b[0] for b in blocks] == list(range(1, head + 1))
    for height, block_hash, time, proposer, tx_count in blocks:
        block = Block.decode(ledger.block(height))  # type: ignore[arg-type]
        assert block_hash == ledger.block_hash(height).hex()  # type: ignore[union-attr]
        assert int(time.timestamp() * 1000) == block.header.time_ms
        assert proposer == block.header.proposer and tx_count == len(block.txs)

    txs = sql(
        pg_server,
        f"SELECT tx_id, height, tx_index, contract, method, args, status, steps, events "
        f"FROM {schema}.v_txs ORDER BY height, tx_index",
    )
    assert len(txs) == len(chain.envelopes)
    for tx_id, height, index, contract, method, args, status, steps, events in txs:
        receipt = Receipt.decode(ledger.receipt(height, index))  # type: ignore[arg-type]
        signed = SignedTx.decode(Block.decode(ledger.block(height)).txs[index])  # type: ignore[arg-type]
        assert tx_id == receipt.tx_id.hex() and status == "ok" == receipt.status
        assert (contract, method) == (CONTRACT_NAME, "register") == (signed.tx.contract, "register")
        assert args == to_json(list(signed.tx.args)) and steps == receipt.steps
        assert events == to_json([[e.contract, e.name, e.payload] for e in receipt.events])

    events = sql(
        pg_server,
        f"SELECT height, tx_index, event_index, tx_id, contract, name, payload "
        f"FROM {schema}.v_events ORDER BY height, tx_index, event_index",
    )
    stored = ledger.events(limit=100).events
    assert len(events) == len(stored) == len(chain.envelopes)
    for row, event in zip(events, stored, strict=True):
        assert tuple(row[:3]) == tuple(event.cursor) and row[3] == event.tx_id.hex()
        assert (row[4], row[5]) == (event.contract, event.name) == (CONTRACT_NAME, "registered")
        assert row[6] == to_json(decode(event.payload))

    state = sql(pg_server, f"SELECT contract, key, value, raw, height FROM {schema}.v_state")
    evidence = [row for row in state if row[0] == CONTRACT_NAME]
    assert len(evidence) >= len(chain.envelopes)
    for contract, key, value, raw, height in state:
        full_key = state_key(contract, key) if contract is not None else key.encode()
        assert ledger.get(full_key) == bytes(raw)
        assert ledger.history(full_key, limit=1)[0][0] == height
        try:
            expected = to_json(decode(bytes(raw)))
        except ValueError:
            expected = None  # not msgpack: the view shows NULL
        assert value == expected, key


def test_msgpack_decoder_in_sql_agrees_with_python(pg_server: PgServer, target: LedgerTarget):
    target.open().close()
    values = [
        None, True, False, 0, 127, 128, 255, 65_535, 65_536, 2**32, 2**64 - 1,
        -1, -32, -33, -128, -129, -(2**15), -(2**31) - 1, -(2**63),
        "", "a" * 31, "b" * 32, "中文" * 100, "c" * 70_000,
        b"", b"\x00" * 300, b"\xff" * 70_000,
        (), tuple(range(16)), tuple(range(70_000)), {"": 1, "a": [1, {"b": b"\x01"}]},
        {f"k{i:03d}": i for i in range(20)},
    ]  # fmt: skip
    for value in values:
        data = encode(value)
        (decoded,) = sql(pg_server, f"SELECT {target.schema}.msgpack_json(%s)", (data,))[0]
        assert decoded == to_json(list(value) if isinstance(value, tuple) else value), value
    for not_one_value in (b"", b"\xc1", encode(1) + encode(2), encode("abc")[:-1], b"\xca" * 5):
        assert sql(pg_server, f"SELECT {target.schema}.msgpack_json(%s)", (not_one_value,)) == [
            (None,)
        ]


def test_a_reader_role_reads_the_views_and_nothing_else(pg_server: PgServer, chain: Chain) -> None:
    schema = chain.ledger.schema  # type: ignore[attr-defined]
    role = f"{READER_ROLE}_{schema}"
    sql(pg_server, f'CREATE ROLE "{role}" NOLOGIN')
    sql(pg_server, grant_reader_sql(schema, role))
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f'SET ROLE "{role}"')
        for view in VIEWS:
            rows = conn.execute(f"SELECT count(*) FROM {schema}.{view}").fetchone()
            assert rows is not None and rows[0] > 0, view
        (payload,) = conn.execute(
            f"SELECT payload FROM {schema}.v_events WHERE name = 'registered' LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        assert set(payload) == {"digest", "owner_org"}  # functions resolve without search_path
        for forbidden in (
            f"SELECT * FROM {schema}.state",
            f"SELECT * FROM {schema}.blocks",
            f"SELECT * FROM {schema}.meta",
            f"INSERT INTO {schema}.meta VALUES ('x', '')",
            f"DELETE FROM {schema}.v_events",
            f"UPDATE {schema}.head SET height = 0",
        ):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(forbidden)
    assert chain.ledger.height() > 0
    chain.ledger.check_integrity()


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------


def test_a_schema_holding_something_else_is_refused(pg_server: PgServer, target: LedgerTarget):
    sql(pg_server, f"CREATE SCHEMA {target.schema}")
    sql(pg_server, f"CREATE TABLE {target.schema}.customers (id int)")
    with pytest.raises(CorruptLedger, match="something else"):
        target.open()
    assert sql(
        pg_server,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (target.schema,),
    ) == [("customers",)]


def test_another_format_is_refused(pg_server: PgServer, target: LedgerTarget) -> None:
    target.open().close()
    sql(pg_server, f"UPDATE {target.schema}.ledger SET value = 'yulian-ledger-postgres/0'")
    for readonly in (False, True):
        with pytest.raises(UnsupportedFormat, match="postgres/0"):
            target.open(readonly=readonly)


@pytest.mark.parametrize(
    "edit",
    [
        "DELETE FROM {s}.blocks WHERE height = 5",  # the head block vanished
        "UPDATE {s}.head SET height = 4",  # the head went back
        "UPDATE {s}.head SET state_root = 'x'",
        "INSERT INTO {s}.blocks VALUES (6, 'h6', 'b', 'c', 'r', 0)",  # a block above the head
    ],
)
def test_tables_disagreeing_with_the_head_are_refused_at_open(
    pg_server: PgServer, target: LedgerTarget, edit: str
) -> None:
    ledger = target.open()
    commit_chain(ledger)
    ledger.close()
    sql(pg_server, edit.format(s=target.schema))
    with pytest.raises(CorruptLedger):
        target.open()


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE {s}.state SET value = 'forged' WHERE key = 'a'",
        "DELETE FROM {s}.txs WHERE tx_id = 'tx5'",
        "UPDATE {s}.history SET height = 9 WHERE key = 'c'",
        "DELETE FROM {s}.blocks WHERE height = 2",
    ],
)
def test_check_integrity_finds_tables_that_disagree(
    pg_server: PgServer, target: LedgerTarget, edit: str
) -> None:
    ledger = target.open()
    try:
        commit_chain(ledger)
        ledger.check_integrity()
        sql(pg_server, edit.format(s=target.schema))
        with pytest.raises(CorruptLedger):
            ledger.check_integrity()
    finally:
        ledger.close()


@pytest.mark.parametrize(
    "config",
    [
        StorageConfig(backend="postgres"),  # no dsn
        StorageConfig(backend="postgres", dsn="host=/tmp", schema="Bad-Name"),
        StorageConfig(backend="postgres", dsn="host=/tmp", schema="pg_catalog"),
        StorageConfig(backend="postgres", dsn="host=/tmp", path=Path("x")),
        StorageConfig(backend="lmdb", dsn="host=/tmp"),
        StorageConfig(backend="sqlite"),
    ],
)
def test_bad_storage_configs_are_refused_before_connecting(config: StorageConfig) -> None:
    with pytest.raises(InvalidInput):
        open_ledger(config, data_dir=Path("/nonexistent"))


def test_an_unreachable_server_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="cannot connect") as info:
        PostgresLedger(f"host={tmp_path} port=1 dbname=x connect_timeout=2", schema="s")
    assert type(info.value).__name__ == "LedgerUnavailable"  # a LedgerError: the API says 503
