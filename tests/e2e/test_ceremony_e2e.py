"""The genesis ceremony through the ``yulian`` CLI, and a regulator's full node.

Four organisations and a regulator each run ``org init`` in their own directory and ``org
export`` (the regulator's node as a full node); one party runs ``genesis assemble``; a node
refuses to start before its organisation accepts, and ``genesis accept`` refuses a wrong hash;
then each organisation accepts and starts its own nodes from its own directory. No directory
holds another organisation's private key. The chain commits the organisations' transactions;
the regulator's node follows it block by block — same blocks, same state roots, the same
contract state — without ever voting. A regulator that joins later does so from its own
directory too: ``genesis accept --join``, then the founders' ``add_org`` vote.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.gov_helpers import COUNTER_V1, cli, cli_json
from tests.e2e.harness import free_port_block
from tests.keyfiles import foreign_keys
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import pem_to_der
from yulian.node.bootstrap import init_org_directory, plan_nodes
from yulian.node.ceremony import accept_genesis, export_org
from yulian.node.config import load_config
from yulian.node.network import StartedNetwork, start_network
from yulian.node.process import stop_node_process
from yulian.pki.ceremony import assemble_genesis
from yulian.pki.chain import ChainIdentity
from yulian.sdk import Client, Wallet
from yulian.sdk import governance as gov
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

FOUNDERS = ["org1", "org2", "org3", "org4"]
REGULATOR = "regulator"
TIMEOUT_S = 90.0


def _get(url: str, path: str) -> dict[str, object]:
    r = httpx.get(f"{url}{path}", timeout=10)
    r.raise_for_status()
    result: dict[str, object] = r.json()
    return result


@pytest.fixture
def ceremony(tmp_path: Path) -> Iterator[dict[str, object]]:
    base = free_port_block(10)
    dirs = {org: tmp_path / org for org in [*FOUNDERS, REGULATOR]}
    exports = tmp_path / "exports"
    exports.mkdir()
    for k, (org, directory) in enumerate(dirs.items()):
        made = cli(
            "org",
            "init",
            org,
            "--dir",
            directory,
            "--p2p-port",
            base + k,
            "--api-port",
            base + 5 + k,
        )
        assert made.returncode == 0, made.stderr
        full = ["--full-node", f"{org}-node0"] if org == REGULATOR else []
        out = cli_json(
            "org", "export", "--network", directory, "--out", exports / f"{org}.json", *full
        )
        assert out["validators"] == (
            []
            if full
            else [{"name": f"{org}-node0", "address": f"127.0.0.1:{base + k}", "power": 1}]
        )
    genesis = cli_json(
        "genesis",
        "assemble",
        *(exports / f"{o}.json" for o in dirs),
        "--chain-id",
        "ceremony",
        "--block-interval-ms",
        150,
        "--out",
        tmp_path / "genesis.json",
    )
    started: list[StartedNetwork] = []
    try:
        yield {"dirs": dirs, "genesis": genesis, "tmp": tmp_path, "started": started}
    finally:
        for network in started:
            for proc in network.started.values():
                stop_node_process(proc)


def test_ceremony_and_a_regulators_full_node(ceremony: dict[str, object]) -> None:
    dirs: dict[str, Path] = ceremony["dirs"]  # type: ignore[assignment]
    genesis: dict[str, object] = ceremony["genesis"]  # type: ignore[assignment]
    tmp: Path = ceremony["tmp"]  # type: ignore[assignment]
    started: list[StartedNetwork] = ceremony["started"]  # type: ignore[assignment]
    genesis_file, good = tmp / "genesis.json", str(genesis["hash"])
    assert genesis["organisations"] == [*FOUNDERS, REGULATOR]
    assert [v["name"] for v in genesis["validators"]] == [f"{o}-node0" for o in FOUNDERS]  # type: ignore[attr-defined]

    # before accepting, a node will not start; a wrong hash is refused and changes nothing
    config = dirs["org1"] / "nodes" / "org1-node0" / "config.toml"
    refused = cli("node", "start", "--config", config)
    assert refused.returncode == 2 and "genesis" in refused.stderr, refused.stderr
    wrong = cli("genesis", "accept", genesis_file, "--hash", "ab" * 32, "--network", dirs["org1"])
    assert wrong.returncode == 1 and "do not accept it" in wrong.stderr
    assert not (dirs["org1"] / "genesis.json").exists()
    shown = cli_json("genesis", "show", genesis_file)
    assert shown["hash"] == good and shown["quorum_power"] == 3

    for directory in dirs.values():
        accepted = cli_json(
            "genesis", "accept", genesis_file, "--hash", good, "--network", directory
        )
        assert accepted["accepted"] == good
        assert len(accepted["configs"]) == 1
    assert foreign_keys(dirs, get_suite("standard")) == []

    # each organisation starts its own node from its own directory
    for directory in dirs.values():
        started.append(start_network(directory, timeout_s=TIMEOUT_S))
    urls = {org: network.urls[0] for org, network in zip(dirs, started, strict=True)}
    regulator_url = urls[REGULATOR]
    health = _get(regulator_url, "/v1/health")
    assert health["genesis_hash"] == good
    assert "regulator-node0" not in health["validators"]  # type: ignore[operator]
    for org, role in [(REGULATOR, "full node"), ("org1", "validator")]:
        status = cli("network", "status", "--network", dirs[org])
        assert status.returncode == 0, status.stderr
        row = next(line for line in status.stdout.splitlines() if f"{org}-node0" in line)
        assert role in row and ("full node" in row) == (role == "full node"), row

    # governance across directories: org1 proposes, org2 and org3 approve (3 of 5 members)
    def admin(org: str) -> Client:
        return Client(urls[org], Wallet.from_network(dirs[org], org, "admin"))

    with admin("org1") as a:
        proposal = gov.propose_contract(a, "counter", "1.0", COUNTER_V1)
    for org in ("org2", "org3"):
        with admin(org) as a:
            proposal = gov.approve_contract(a, proposal["id"])
    assert proposal["status"] == "applied", proposal
    total = 0
    for k, org in enumerate(FOUNDERS * 3):
        with Client(urls[org], Wallet.from_network(dirs[org], org, "client1")) as client:
            result = client.submit("counter", "incr", [k + 1])
            assert result["status"] == "committed", result
            total += k + 1

    # the regulator's node reaches the head and holds the very same chain and state
    head = int(_get(urls["org1"], "/v1/health")["height"])  # type: ignore[call-overload]
    deadline = time.monotonic() + TIMEOUT_S
    while int(_get(regulator_url, "/v1/health")["height"]) < head:  # type: ignore[call-overload]
        assert time.monotonic() < deadline, "the regulator's node does not follow the chain"
        time.sleep(0.3)
    for height in range(1, head + 1):
        ours = _get(urls[FOUNDERS[height % 4]], f"/v1/blocks/{height}")
        theirs = _get(regulator_url, f"/v1/blocks/{height}")
        assert ours["header"] == theirs["header"], height
        assert theirs["tx_ids"] == ours["tx_ids"]
        signers = {s["validator"] for s in theirs["commit"]["signatures"]}  # type: ignore[index]
        assert signers and "regulator-node0" not in signers
    with Client(regulator_url) as reader:
        assert reader.query("counter", "get") == total


def test_a_regulator_follows_a_lone_validator(tmp_path: Path) -> None:
    """One organisation with one validator, and a regulator with a full node, founded by the
    ceremony (no node has configured peers): the lone validator listens although it needs no
    one to commit, and the regulator's node reaches it and follows."""
    base = free_port_block(4)
    dirs = {org: tmp_path / org for org in ("org1", REGULATOR)}
    for k, (org, directory) in enumerate(dirs.items()):
        plans = plan_nodes(org, 1, p2p_port=base + k, api_port=base + 2 + k)
        init_org_directory(directory, org, nodes=plans)
    exports = [
        export_org(dirs["org1"]),
        export_org(dirs[REGULATOR], full_nodes=["regulator-node0"]),
    ]
    genesis = assemble_genesis(
        exports,
        chain_id="watched",
        time_ms=int(time.time()) * 1000,
        params=ChainParams(block_interval_ms=100),
    )
    for directory in dirs.values():
        accept_genesis(directory, genesis, ChainIdentity.of(genesis).genesis_hash)
        assert (
            load_config(directory / "nodes" / f"{directory.name}-node0" / "config.toml").peers == ()
        )
    networks: list[StartedNetwork] = []
    try:
        for directory in dirs.values():
            networks.append(start_network(directory, timeout_s=TIMEOUT_S))
        validator, regulator = (n.urls[0] for n in networks)
        deadline = time.monotonic() + TIMEOUT_S
        while int(_get(regulator, "/v1/health")["height"]) < 3:  # type: ignore[call-overload]
            assert time.monotonic() < deadline, "the regulator's node does not follow"
            time.sleep(0.3)
        for height in (1, 2, 3):
            assert (
                _get(validator, f"/v1/blocks/{height}")["header"]
                == _get(regulator, f"/v1/blocks/{height}")["header"]
            )
        assert _get(regulator, "/v1/health")["validators"] == ["org1-node0"]
    finally:
        for network in networks:
            for proc in network.started.values():
                stop_node_process(proc)


@pytest.mark.parametrize("founders", [("org1",), ("org1", "org2")], ids=["lone", "two"])
def test_a_regulator_joins_later_from_its_own_directory(
    tmp_path: Path, founders: tuple[str, ...]
) -> None:
    """One or two organisations found the chain by the ceremony; later a regulator
    initialises itself on its own machine, accepts the running chain's genesis as a joiner
    (``--join``), starts its node and sends only its CA certificate: once the founders'
    ``add_org`` vote applies, its node (never a validator) reaches the head with the founders'
    blocks, and no directory holds another organisation's private key. A lone validator,
    which listens for no one while it runs alone, starts listening when the vote applies."""
    base = free_port_block(6)
    dirs = {org: tmp_path / org for org in (*founders, REGULATOR)}
    for k, (org, directory) in enumerate(dirs.items()):
        plans = plan_nodes(org, 1, p2p_port=base + k, api_port=base + 3 + k)
        init_org_directory(directory, org, nodes=plans)
    genesis = assemble_genesis(
        [export_org(dirs[org]) for org in founders],
        chain_id="joined",
        time_ms=int(time.time()) * 1000,
        params=ChainParams(block_interval_ms=100),
    )
    good = ChainIdentity.of(genesis).genesis_hash
    for org in founders:
        accept_genesis(dirs[org], genesis, good)
    published = tmp_path / "genesis.json"
    published.write_text(genesis.to_json())
    founder_only = cli("genesis", "accept", published, "--hash", good, "--network", dirs[REGULATOR])
    assert founder_only.returncode == 1 and "--join" in founder_only.stderr
    joined = cli_json(
        "genesis", "accept", published, "--hash", good, "--network", dirs[REGULATOR], "--join"
    )
    assert joined["accepted"] == good
    assert foreign_keys(dirs, get_suite("standard")) == []

    networks: list[StartedNetwork] = []
    try:
        for directory in dirs.values():
            networks.append(start_network(directory, timeout_s=TIMEOUT_S))
        urls = {org: network.urls[0] for org, network in zip(dirs, networks, strict=True)}
        deadline = time.monotonic() + TIMEOUT_S
        while int(_get(urls["org1"], "/v1/health")["height"]) < 3:  # type: ignore[call-overload]
            assert time.monotonic() < deadline, "the founders do not commit"
            time.sleep(0.3)
        # not a member yet: the founders' nodes refuse its handshake, so it has no block
        assert _get(urls[REGULATOR], "/v1/health")["height"] == 0
        ca_der = pem_to_der((dirs[REGULATOR] / "orgs" / REGULATOR / "ca" / "ca.crt").read_bytes())
        with Client(urls["org1"], Wallet.from_network(dirs["org1"], "org1", "admin")) as a:
            proposal = gov.propose_add_org(a, REGULATOR, ca_der)
        for org in founders[1:]:
            with Client(urls[org], Wallet.from_network(dirs[org], org, "admin")) as a:
                proposal = gov.approve(a, proposal["id"])
        assert proposal["status"] == "applied", proposal

        head = int(_get(urls["org1"], "/v1/health")["height"])  # type: ignore[call-overload]
        deadline = time.monotonic() + TIMEOUT_S
        while int(_get(urls[REGULATOR], "/v1/health")["height"]) < head:  # type: ignore[call-overload]
            assert time.monotonic() < deadline, "the regulator's node does not sync after add_org"
            time.sleep(0.3)
        for height in range(1, head + 1):
            assert (
                _get(urls["org1"], f"/v1/blocks/{height}")["header"]
                == _get(urls[REGULATOR], f"/v1/blocks/{height}")["header"]
            ), height
        health = _get(urls[REGULATOR], "/v1/health")
        assert health["genesis_hash"] == good
        assert health["validators"] == [f"{org}-node0" for org in founders]
    finally:
        for network in networks:
            for proc in network.started.values():
                stop_node_process(proc)
