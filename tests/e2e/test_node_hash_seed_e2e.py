"""``yulian node start`` under a fixed ``PYTHONHASHSEED`` exits with the refusal of decision
0073 (the unit side of it is ``tests/unit/test_hash_seed.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from yulian.node.bootstrap import init_network
from yulian.node.config import load_config

pytestmark = pytest.mark.e2e


def test_the_node_command_exits_with_the_message(tmp_path: Path) -> None:
    config = init_network(tmp_path / "net", orgs=1).nodes[0].config
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "node", "start", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to start: PYTHONHASHSEED=0 fixes the key" in done.stderr
    assert not load_config(config).data_dir.exists()  # no ledger, WAL or safety file
