"""Introduction: ``yulian ledger`` — a node's ledger on its own machine: look, check, snapshot,
archive, prune, prove from archives, back up and restore.

Every command takes the node's config (``--config``), which names the ledger (LMDB in the data
directory, or PostgreSQL) and the genesis. ``info``, ``check``, ``snapshot``, ``proof`` and
``backup`` read, and run beside a running node; ``archive``, ``prune`` and ``restore`` write,
and need the node stopped (one writer per ledger: a running node is named in the refusal).
See ``docs/operations.md``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import fail, print_json, say

ledger_app = typer.Typer(help="A node's ledger: snapshots, archives, pruning, backups")
CONFIG_OPT = typer.Option(..., "--config", "-c", help="the node's config.toml")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


def _open(config: Path, *, readonly: bool) -> tuple[Any, Any, Any, Any]:
    """``(node config, genesis, suite, ledger)``; a refusal is one clear error line."""
    from yulian.crypto.suite import SuiteError, get_suite
    from yulian.ledger import LedgerError, open_ledger
    from yulian.node.config import ConfigError, load_config
    from yulian.types.genesis import Genesis, GenesisError

    try:
        cfg = load_config(config)
        genesis = Genesis.load(cfg.genesis)
        suite = get_suite(genesis.suite)
        ledger = open_ledger(cfg.storage, data_dir=cfg.data_dir, readonly=readonly)
    except (ConfigError, GenesisError, SuiteError, LedgerError, OSError) as e:
        fail(str(e))
    return cfg, genesis, suite, ledger


@ledger_app.command("info")
def info(config: Path = CONFIG_OPT) -> None:
    """Height, floor, state root, archives and snapshots of the node's ledger."""
    from yulian.ledger.archive import archive_index

    cfg, _genesis, _suite, ledger = _open(config, readonly=True)
    try:
        root = ledger.state_root()
        snapshots = sorted(p.name for p in (cfg.data_dir / "snapshots").glob("[0-9]*"))
        print_json(
            {
                "height": ledger.height(),
                "floor": ledger.floor(),
                "state_root": root.hex() if root else None,
                "archives": [
                    {"first": e.first, "last": e.last, "file": e.name}
                    for e in archive_index(ledger)
                ],
                "snapshots": snapshots,
            }
        )
    finally:
        ledger.close()


@ledger_app.command("check")
def check(config: Path = CONFIG_OPT) -> None:
    """Cross-check every table of the ledger (linear in its size)."""
    from yulian.ledger import LedgerError

    _cfg, _genesis, _suite, ledger = _open(config, readonly=True)
    try:
        ledger.check_integrity()
    except LedgerError as e:
        fail(f"the ledger is damaged: {e}")
    finally:
        ledger.close()
    say("the ledger is consistent", lead="ok: ")


@ledger_app.command("snapshot")
def snapshot(config: Path = CONFIG_OPT, out: Path = typer.Option(..., "--out", "-o")) -> None:
    """Write a snapshot of the ledger's head into OUT (a new directory)."""
    from yulian.ledger.snapshot import SnapshotError
    from yulian.node.snapshots import produce_snapshot

    _cfg, genesis, suite, ledger = _open(config, readonly=True)
    try:
        manifest = produce_snapshot(ledger, genesis, suite, out)
    except SnapshotError as e:
        fail(str(e))
    finally:
        ledger.close()
    say(
        f"height {manifest.height}, {len(manifest.state_chunks)} state chunks, "
        f"{len(manifest.block_chunks)} block chunks in {out}",
        lead="snapshot: ",
    )


@ledger_app.command("archive")
def archive(
    config: Path = CONFIG_OPT,
    below: int = typer.Option(..., "--below", help="archive the blocks below this height"),
    to: Path = typer.Option(..., "--to", help="the archive directory"),
) -> None:
    """Copy the blocks below a height into compressed archive files (removes nothing)."""
    from yulian.ledger import LedgerError
    from yulian.node.archives import archive as archive_below

    _cfg, genesis, _suite, ledger = _open(config, readonly=False)
    try:
        entries = archive_below(ledger, genesis, to, below)
    except LedgerError as e:
        fail(str(e))
    finally:
        ledger.close()
    for entry in entries:
        say(
            f"{entry.name} (heights {entry.first}..{entry.last}, {entry.size} B)", lead="archived: "
        )
    if not entries:
        say(f"nothing to archive below {below}")


@ledger_app.command("prune")
def prune(
    config: Path = CONFIG_OPT,
    below: int = typer.Option(..., "--below", help="the new floor"),
    without_archive: bool = typer.Option(
        False, "--without-archive", help="drop blocks that no archive holds (they are lost here)"
    ),
) -> None:
    """Drop archived blocks below a height and the key versions no read needs any more."""
    from yulian.ledger import LedgerError
    from yulian.node.archives import prune as prune_below

    _cfg, genesis, _suite, ledger = _open(config, readonly=False)
    try:
        report = prune_below(ledger, genesis, below, require_archived=not without_archive)
    except LedgerError as e:
        fail(str(e))
    finally:
        ledger.close()
    say(
        f"floor {report.floor}: {report.blocks_dropped} blocks and "
        f"{report.versions_dropped} key versions dropped",
        lead="pruned: ",
    )


@ledger_app.command("proof")
def proof(
    tx_id: str,
    config: Path = CONFIG_OPT,
    archive_dir: Path = typer.Option(..., "--archive", help="the archive directory"),
    out: Path | None = typer.Option(None, "--out", "-o", help="file to write (default stdout)"),
) -> None:
    """The receipt document of an archived tx (as `yulian receipt export` writes it)."""
    from yulian.ledger import LedgerError
    from yulian.ledger.archive import ArchiveReader, archive_index
    from yulian.node.archives import archived_proof
    from yulian.sdk.verify import VerificationError, make_document

    try:
        raw_id = bytes.fromhex(tx_id)
    except ValueError:
        fail(f"{tx_id!r} is not a hex tx id")
    _cfg, genesis, suite, ledger = _open(config, readonly=True)
    try:
        reader = ArchiveReader(archive_dir, archive_index(ledger) or None)
        bundle = archived_proof(ledger, reader, suite, genesis.chain_id, raw_id)
        doc = make_document(bundle, genesis)
    except (LedgerError, VerificationError) as e:
        fail(str(e))
    finally:
        ledger.close()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        say(f"wrote {out}")


@ledger_app.command("backup")
def backup(config: Path = CONFIG_OPT, out: Path = typer.Option(..., "--out", "-o")) -> None:
    """A consistent copy of an LMDB ledger into OUT, while the node runs."""
    from yulian.ledger import LedgerError, LmdbLedger

    _cfg, _genesis, _suite, ledger = _open(config, readonly=True)
    try:
        if not isinstance(ledger, LmdbLedger):
            fail("a PostgreSQL ledger is backed up with pg_dump or pg_basebackup (docs/storage.md)")
        ledger.backup(out)
        height = ledger.height()
    except LedgerError as e:
        fail(str(e))
    finally:
        ledger.close()
    say(f"the ledger at height {height} into {out}", lead="backed up: ")


@ledger_app.command("restore")
def restore(config: Path = CONFIG_OPT, source: Path = typer.Option(..., "--from")) -> None:
    """Put a backup in place of the node's empty LMDB ledger (then it syncs from peers)."""
    from yulian.ledger import LedgerError, open_ledger
    from yulian.node.config import ConfigError, load_config

    try:
        cfg = load_config(config)
        if cfg.storage.backend != "lmdb":
            fail("a PostgreSQL ledger is restored with pg_restore (docs/storage.md)")
        target = cfg.storage.lmdb_path(cfg.data_dir)
        backup_ledger = open_ledger(source, readonly=True)
        height = backup_ledger.height()
        backup_ledger.close()
        if (target / "data.mdb").exists():
            current = open_ledger(target, readonly=True)
            holds = current.height()
            current.close()
            if holds:
                fail(f"{target} holds a ledger at height {holds}: move it away first")
            (target / "data.mdb").unlink()  # an empty ledger: the backup takes its place
            (target / "lock.mdb").unlink(missing_ok=True)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / "data.mdb", target / "data.mdb")
        open_ledger(target).close()  # opens (and checks) it as the node will
    except (ConfigError, LedgerError, OSError) as e:
        fail(str(e))
    say(f"the ledger at height {height} into {target}", lead="restored: ")
