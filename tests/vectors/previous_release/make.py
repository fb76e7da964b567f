"""Write the ledgers of the previous release, for the upgrade tests (``test_ledger_upgrade.py``).

Run it with the *previous release's* code first on the path, from a checkout of it::

    git archive 6c173e6 src/yulian | tar -x -C /tmp/prev
    PYTHONPATH=/tmp/prev/src:. .venv/bin/python tests/vectors/previous_release/make.py

It runs one validator of a one-organisation chain in process (the replica, its real ledger) for
a few blocks of evidence txs, once on LMDB and once on PostgreSQL (a throwaway server), and
writes here ``lmdb-2.mdb.xz`` (the LMDB data file, format ``yulian-ledger-lmdb/2``) and
``postgres-1.sql`` (``pg_dump`` of the schema ``previous_release``, format
``yulian-ledger-postgres/1``).
"""

from __future__ import annotations

import lzma
import subprocess
import sys
import tempfile
from pathlib import Path

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.wal import WAL
from yulian.crypto.suite import get_suite
from yulian.ledger import Ledger, PostgresLedger, open_ledger
from yulian.ledger.postgres.tempserver import PgServer, find_bin_dir
from yulian.node.bootstrap import init_network
from yulian.node.replica import Replica, ReplicaConfig, Timer
from yulian.sdk import Wallet
from yulian.types.genesis import Genesis

HERE = Path(__file__).resolve().parent
SCHEMA = "previous_release"


def run_chain(root: Path, ledger: Ledger) -> None:
    layout = init_network(
        root, orgs=1, validators=1, contracts=[(CONTRACT_NAME, contract_source())]
    )
    genesis = Genesis.load(layout.genesis)
    suite = get_suite(genesis.suite)
    node = layout.nodes[0]
    key = suite.load_private_key(node.credential.key.read_bytes())
    replica = Replica(
        genesis,
        suite,
        key,
        ledger,
        SafetyRules(suite, key, genesis.chain_id, node.name, MemoryFile()),
        WAL(MemoryFile()),
        ReplicaConfig(name=node.name),
    )
    wallet = Wallet.from_network(layout.root, "org1", "client1")
    now = genesis.time_ms + 3_600_000
    timers: list[Timer] = list(replica.start(now).timers)
    sent = 0
    while replica.tip.height < 6:
        if sent < 12:
            args = [f"{sent:064x}", "previous release", {}]
            env = wallet.sign_tx(genesis.chain_id, CONTRACT_NAME, "register", args, expires_at=100)
            replica.submit(env.encode(), now)
            sent += 1
        timers.sort(key=lambda t: t.due_ms)
        timer = timers.pop(0)
        now = max(now, timer.due_ms)
        timers += replica.on_timer(timer, now).timers
    ledger.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_chain(Path(tmp) / "lmdb-net", open_ledger(Path(tmp) / "ledger"))
        data = (Path(tmp) / "ledger" / "data.mdb").read_bytes()
        (HERE / "lmdb-2.mdb.xz").write_bytes(lzma.compress(data))
        with PgServer() as server:
            run_chain(Path(tmp) / "pg-net", PostgresLedger(server.dsn(), schema=SCHEMA))
            dump = subprocess.run(
                [
                    str(find_bin_dir() / "pg_dump"),
                    "--schema",
                    SCHEMA,
                    "--no-owner",
                    "--no-privileges",
                    server.dsn(),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        (HERE / "postgres-1.sql").write_text(dump, encoding="utf-8")
    print(f"wrote {HERE}/lmdb-2.mdb.xz and postgres-1.sql", file=sys.stderr)


if __name__ == "__main__":
    main()
