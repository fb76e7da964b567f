"""The README's main command: the demo creates a network, runs the evidence story, prints URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import free_port_block

pytestmark = pytest.mark.e2e


def run_demo(directory: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "demo", "--dir", str(directory), "--exit",
         "--api-port", str(port), "--p2p-port", str(port + 4)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": ""},
    )  # fmt: skip


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    port = free_port_block(8)  # 4 API ports, then 4 p2p ports
    r = run_demo(tmp_path, port)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "status ok" in out
    assert "verified offline" in out
    assert "reverted (digest already registered)" in out
    assert "reverted (only the owner organisation may transfer)" in out
    assert "lookup: owner org2" in out
    assert f"http://127.0.0.1:{port}/docs" in out
    assert (tmp_path / "network" / "genesis.json").exists()
    # a second run reuses the network and starts at the existing head
    r = run_demo(tmp_path, port)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "created" not in r.stdout
