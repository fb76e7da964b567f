"""Seeing node processes as they are (``node.process``): a zombie is dead, a reused pid is not
the node, an exited child is reaped, a held port is named with its holder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from yulian.node.process import ProcessState, port_holder, process_state
from yulian.pki.chain import ChainIdentity

SLEEPER = "import time; time.sleep(60)"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A child whose command line is that of the node of ``config`` (it only sleeps)."""
    config = tmp_path / "nodes" / "n0" / "config.toml"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, "node", "start", "--config", str(config)]
    )
    yield proc, config
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_running_node_is_running_and_only_for_its_own_config(
    sleeper: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, config = sleeper
    assert process_state(proc.pid, config) is ProcessState.RUNNING
    assert process_state(proc.pid) is ProcessState.RUNNING
    # the same pid for another node's config: a reused pid is never that node
    assert process_state(proc.pid, tmp_path / "other.toml") is ProcessState.OTHER
    # this very process is alive, but no node
    assert process_state(os.getpid(), config) is ProcessState.OTHER


def test_an_exited_child_is_dead_and_reaped(
    sleeper: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, config = sleeper
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert process_state(proc.pid, config) is ProcessState.DEAD
    with pytest.raises(ChildProcessError):  # reaped by process_state: nothing left to wait for
        os.waitpid(proc.pid, os.WNOHANG)
    assert not psutil.pid_exists(proc.pid)


def test_a_zombie_of_another_parent_is_dead() -> None:
    """What `network status` meets when the demo (not itself) started the node that died."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'pass'])\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)\n",  # never waits: the child stays a zombie
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert parent.stdout is not None
        zombie = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while psutil.Process(zombie).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(zombie, 0)  # the kernel still answers for it: the old check called it alive
        assert process_state(zombie) is ProcessState.DEAD
        assert process_state(zombie, Path("/x/config.toml")) is ProcessState.DEAD
    finally:
        parent.kill()
        parent.wait()


def test_a_dead_pid_is_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert process_state(proc.pid) is ProcessState.DEAD


def test_port_holder_names_the_listener() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.listen()
        holder = port_holder("127.0.0.1", port)
        assert holder is not None and f"pid {os.getpid()}" in holder
    assert port_holder("127.0.0.1", port) is None  # closed: free again


def test_chain_identity_tells_networks_and_nodes_apart() -> None:
    ours = ChainIdentity("yulian-local", "ab" * 32)
    health = {"chain_id": "yulian-local", "genesis_hash": "ab" * 32, "node": "org1-node0"}
    assert ours.mismatch(health) is None
    assert ours.mismatch(health, "org1-node0") is None
    wrong_node = ours.mismatch(health, "org2-node0")
    assert wrong_node is not None and "'org1-node0'" in wrong_node and "'org2-node0'" in wrong_node
    # the same chain id is not enough: two local networks share the default one
    other = ours.mismatch({**health, "genesis_hash": "cd" * 32})
    assert other is not None and "another network" in other and "cdcdcdcd" in other
    assert "abababab" in other
    assert ours.mismatch({**health, "chain_id": "elsewhere"}) is not None
    missing = ours.mismatch({"status": "ok"})
    assert missing is not None and "does not say which chain" in missing
