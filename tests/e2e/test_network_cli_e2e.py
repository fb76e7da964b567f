"""Operator commands that tell the truth, with real node processes: `network up` refuses a port
held by another process (naming it, starting nothing), `network up` / `status` never take
another network's node for their own, and every command that talks to a node finds one of its
own network from `--network` alone, or refuses a `--url` that serves another network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import free_port_block
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.network import network_down, network_up
from yulian.node.process import start_node_process, stop_node_process, wait_healthy

pytestmark = pytest.mark.e2e

CLI_TIMEOUT_S = 120


def cli(*args: str | Path | int) -> subprocess.CompletedProcess[str]:
    """``yulian ARGS`` with its output going to pipes (not a terminal), no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        env=env,
    )


def make(tmp: Path, name: str, *, orgs: int = 2, validators: int = 1, api: int = 0) -> Path:
    """A network directory on free ports (or with its first API port at ``api``)."""
    base = free_port_block(2 * validators)
    init_network(
        tmp / name,
        orgs=orgs,
        validators=validators,
        base_api_port=api or base,
        base_p2p_port=base + validators,
    )
    return tmp / name


@pytest.fixture
def running(tmp_path: Path) -> Iterator[list[Path]]:
    """Networks a test started; whatever happens, they are stopped afterwards."""
    started: list[Path] = []
    yield started
    for network in started:
        network_down(network)


def row(output: str, node: str) -> str:
    return next(line for line in output.splitlines() if node in line)


def test_network_up_refuses_a_taken_port_and_starts_nothing(
    tmp_path: Path, running: list[Path]
) -> None:
    network = make(tmp_path, "net", orgs=2, validators=2)
    taken = load_config(network / "nodes" / "org2-node0" / "config.toml").api_port
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        r = cli("network", "up", "--network", network)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"port {taken} (API of org2-node0) is in use" in r.stderr
    assert f"held by pid {os.getpid()}" in r.stderr  # this test's process holds it
    assert "nothing was started" in r.stderr
    assert not list(network.glob("nodes/*/node.pid"))
    status = cli("network", "status", "--network", network)
    assert status.returncode == 1
    assert " down " in row(status.stdout, "org1-node0")

    # the port is free again: up succeeds, and only then
    running.append(network)
    r = cli("network", "up", "--network", network)
    assert r.returncode == 0, r.stderr
    status = cli("network", "status", "--network", network)
    assert status.returncode == 0, status.stdout + status.stderr
    assert " up " in row(status.stdout, "org1-node0") and " up " in row(status.stdout, "org2-node0")


def test_up_and_status_never_take_another_networks_node(tmp_path: Path) -> None:
    ours = make(tmp_path, "ours")
    config = ours / "nodes" / "org1-node0" / "config.toml"
    ours_api = load_config(config).api_port
    # our node, started by hand (`yulian node start`), not by `network up`
    node = start_node_process(config, tmp_path / "ours.log")
    try:
        wait_healthy(load_config(config).api_url, node, tmp_path / "ours.log")
        r = cli("network", "up", "--network", ours)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "org1-node0 already serving (not started by network up)" in r.stdout

        # another network whose node is configured on the port our node serves
        other = make(tmp_path, "other", api=ours_api)
        r = cli("network", "up", "--network", other)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"port {ours_api} (API of org1-node0) is in use" in r.stderr
        assert str(config) in r.stderr  # who holds it: our node's command line
        status = cli("network", "status", "--network", other)
        assert status.returncode == 1, status.stdout
        assert " down " in row(status.stdout, "org1-node0"), status.stdout
        assert "another network" in status.stderr
        # our own network's status is unaffected
        assert cli("network", "status", "--network", ours).returncode == 0
    finally:
        stop_node_process(node)


def test_commands_find_their_own_node_and_refuse_another_network(
    tmp_path: Path, running: list[Path]
) -> None:
    a = make(tmp_path, "a")  # not on the default ports, so nothing can be found by luck
    b = make(tmp_path, "b")
    running.extend([a, b])
    network_up(a)
    (b_url,) = network_up(b)

    deployed = cli("evidence", "deploy", "--network", a)
    assert deployed.returncode == 0, deployed.stderr
    assert json.loads(deployed.stdout[deployed.stdout.index("{") :])["version"] == "1.0"
    status = cli("contract", "status", "evidence", "--network", a)
    assert status.returncode == 0 and json.loads(status.stdout)["version"] == "1.0"
    listed = cli("contract", "list", "--network", a)
    assert [c["name"] for c in json.loads(listed.stdout)] == ["evidence"]

    digest = "ab" * 32
    sent = cli("tx", "send", "evidence", "register", json.dumps([digest, "t", {}]), "--network", a)
    assert sent.returncode == 0, sent.stderr
    tx_id = json.loads(sent.stdout)["id"]
    assert len(tx_id) == 64
    # reverted: committed but refused by the contract, and the exit code says so
    again = cli("tx", "send", "evidence", "register", json.dumps([digest, "t", {}]), "--network", a)
    assert again.returncode == 3, again.stdout + again.stderr
    assert json.loads(again.stdout)["receipt"]["status"] == "reverted"
    assert "reverted: digest already registered" in again.stderr

    looked = cli("query", "evidence", "lookup", json.dumps([digest]), "--network", a)
    assert looked.returncode == 0 and json.loads(looked.stdout)["owner_org"] == "org1"
    exported = tmp_path / "receipt.json"
    r = cli("receipt", "export", tx_id, "--network", a, "--out", exported)
    assert r.returncode == 0, r.stderr
    assert cli("verify", exported, "--network", a).returncode == 0

    # pointed at a, talking to b's node: every kind of command refuses, naming both chains
    for args in (
        ("query", "lifecycle", "contracts"),
        ("contract", "list"),
        ("receipt", "export", tx_id),
        ("tx", "send", "evidence", "register", json.dumps(["cd" * 32, "t", {}])),
        ("evidence", "deploy"),
        ("consortium", "show"),
    ):
        r = cli(*args, "--network", a, "--url", b_url)
        assert r.returncode == 1, (args, r.stdout)
        assert f"the node at {b_url} does not serve the network in {a}" in r.stderr, args
        assert "genesis" in r.stderr
    # b's chain never saw a's tx
    assert cli("query", "lifecycle", "contracts", "--network", b).stdout.strip() == "[]"

    # with a's nodes down, --network a finds none and says what to do
    network_down(a)
    r = cli("contract", "list", "--network", a)
    assert r.returncode == 1
    assert f"no node of the network in {a} is serving" in r.stderr
    assert f"yulian network up --network {a}" in r.stderr


def test_status_output_is_whole_when_not_a_terminal(tmp_path: Path, running: list[Path]) -> None:
    network = make(tmp_path, "a-network-directory-with-a-rather-long-name-for-a-narrow-terminal")
    running.append(network)
    (url,) = network_up(network)
    r = cli("network", "status", "--network", network)
    assert r.returncode == 0, r.stderr
    line = row(r.stdout, "org1-node0")
    assert url in line and " up " in line
    assert f"network {network}" in r.stdout  # the title, unwrapped
