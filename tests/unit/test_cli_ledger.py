"""``yulian ledger`` on a node's config: what it reports, and each refusal as one clear line
with a non-zero exit (the happy paths with running nodes are in ``tests/e2e``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.test_ledger_maintenance import HEAD, block_at
from typer.testing import CliRunner

from yulian.cli.main import app
from yulian.ledger import open_ledger
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A node config whose LMDB ledger holds blocks 1..HEAD."""
    layout = init_network(tmp_path / "net", orgs=1, validators=1)
    path = layout.nodes[0].config
    ledger = open_ledger(load_config(path).data_dir / "ledger")
    for height in range(1, HEAD + 1):
        ledger.commit_block(block_at(height))
    ledger.close()
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_info_and_check(config: Path) -> None:
    code, out = invoke("ledger", "info", "--config", str(config))
    assert code == 0
    info = json.loads(out)
    assert (info["height"], info["floor"], info["archives"]) == (HEAD, 1, [])
    assert invoke("ledger", "check", "--config", str(config)) == (
        0,
        "ok: the ledger is consistent\n",
    )


def test_prune_never_enters_the_replay_window(config: Path) -> None:
    code, out = invoke("ledger", "prune", "--config", str(config), "--below", "5")
    assert code == 1
    assert "replay window" in out and "prune below 1 at most" in out


def test_a_writing_command_refuses_while_the_node_holds_the_ledger(config: Path) -> None:
    holder = subprocess.Popen(  # another process holds it for writing, as a running node does
        [
            sys.executable,
            "-c",
            "import sys, time; from yulian.ledger import open_ledger; "
            "l = open_ledger(sys.argv[1]); print('open', flush=True); time.sleep(60)",
            str(load_config(config).data_dir / "ledger"),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        code, out = invoke(
            "ledger", "archive", "--config", str(config), "--below", "5", "--to", "a"
        )
        assert code == 1 and "open for writing elsewhere" in out
        code, _ = invoke("ledger", "info", "--config", str(config))
        assert code == 0, "reading beside it is fine"
    finally:
        holder.kill()
        holder.wait(10)


def test_backup_then_restore_only_into_an_empty_ledger(config: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    code, out = invoke("ledger", "backup", "--config", str(config), "--out", str(backup))
    assert code == 0, out
    code, out = invoke("ledger", "restore", "--config", str(config), "--from", str(backup))
    assert code == 1 and f"holds a ledger at height {HEAD}" in out
    ledger_dir = load_config(config).data_dir / "ledger"
    (ledger_dir / "data.mdb").rename(tmp_path / "damaged.mdb")  # moved away
    code, out = invoke("ledger", "restore", "--config", str(config), "--from", str(backup))
    assert code == 0 and f"height {HEAD}" in out
    restored = open_ledger(ledger_dir, readonly=True)
    assert restored.height() == HEAD and restored.state_sum() == b"sum-%d" % HEAD
    restored.close()


def test_a_bad_config_or_tx_id_is_one_line(config: Path, tmp_path: Path) -> None:
    code, out = invoke("ledger", "info", "--config", str(tmp_path / "missing.toml"))
    assert code == 1 and "no such config file" in out
    code, out = invoke("ledger", "proof", "zz", "--config", str(config), "--archive", "a")
    assert code == 1 and "not a hex tx id" in out
