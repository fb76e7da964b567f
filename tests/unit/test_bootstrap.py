"""`yulian network init`, the network layout, and the node configuration file."""

from __future__ import annotations

import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from yulian.crypto.membership import Membership
from yulian.crypto.standard import STANDARD
from yulian.crypto.x509 import parse_certificate, pem_to_der
from yulian.node.bootstrap import BootstrapError, init_network
from yulian.node.config import ConfigError, NodeConfig, load_config, save_config
from yulian.pki.files import PkiError
from yulian.pki.layout import NetworkLayout, load_layout
from yulian.types.consortium import POLICY_SCOPES
from yulian.types.genesis import ChainParams, Genesis


def _cert(path: Path) -> bytes:
    return pem_to_der(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def net2(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    return init_network(
        tmp_path_factory.mktemp("n2") / "net",
        orgs=2,
        validators=1,
        clients_per_org=2,
        contracts=[("hello", "def hi(ctx):\n    return 1\n")],
        params=ChainParams(block_interval_ms=50),
    )


@pytest.fixture(scope="module")
def net4(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    return init_network(
        tmp_path_factory.mktemp("n4") / "net",
        orgs=4,
        validators=4,
        chain_id="test-4",
        base_api_port=18600,
        base_p2p_port=19600,
    )


@pytest.fixture(params=["net2", "net4"])
def net(request: pytest.FixtureRequest) -> NetworkLayout:
    layout: NetworkLayout = request.getfixturevalue(request.param)
    return layout


def test_layout_of_two_org_network(net2: NetworkLayout) -> None:
    root = net2.root
    assert net2.genesis == root / "genesis.json"
    assert [o.name for o in net2.orgs] == ["org1", "org2"]
    assert [n.name for n in net2.nodes] == ["org1-node0"]
    org1 = net2.org("org1")
    assert org1.ca_cert == root / "orgs/org1/ca/ca.crt"
    assert org1.ca_key == root / "orgs/org1/ca/ca.key"
    assert org1.admin.cert == root / "orgs/org1/admin/admin.crt"
    assert [c.name for c in org1.clients] == ["client1", "client2"]
    assert org1.clients[1].key == root / "orgs/org1/clients/client2.key"
    assert net2.org("org2").nodes == ()
    node = net2.node("org1-node0")
    assert node.config == root / "nodes/org1-node0/config.toml"
    assert node.credential.key == root / "orgs/org1/nodes/org1-node0/node.key"
    assert net2.credential("org2", "client2").cert == root / "orgs/org2/clients/client2.crt"
    with pytest.raises(KeyError):
        net2.credential("org1", "nobody")
    # Nothing but the network itself was left in the parent directory.
    assert sorted(p.name for p in root.parent.iterdir()) == ["net"]


def test_four_org_network_assigns_validators_round_robin(net4: NetworkLayout) -> None:
    assert [(n.name, n.org) for n in net4.nodes] == [
        ("org1-node0", "org1"),
        ("org2-node0", "org2"),
        ("org3-node0", "org3"),
        ("org4-node0", "org4"),
    ]
    genesis = Genesis.load(net4.genesis)
    assert genesis.chain_id == "test-4"
    assert [o.name for o in genesis.organisations] == ["org1", "org2", "org3", "org4"]


def test_round_robin_wraps_around(tmp_path: Path) -> None:
    layout = init_network(tmp_path / "net", orgs=2, validators=5, clients_per_org=0)
    assert [n.name for n in layout.nodes] == [
        "org1-node0",
        "org2-node0",
        "org1-node1",
        "org2-node1",
        "org1-node2",
    ]
    assert [c.name for c in layout.org("org1").nodes] == ["org1-node0", "org1-node1", "org1-node2"]
    assert layout.org("org1").clients == ()


def test_every_private_key_is_0600_in_a_0700_directory(net: NetworkLayout) -> None:
    keys = sorted(net.root.rglob("*.key"))
    orgs = len(net.orgs)
    clients = sum(len(o.clients) for o in net.orgs)
    assert len(keys) == orgs * 2 + clients + len(net.nodes)  # CA + admin per org
    for key in keys:
        assert _mode(key) == 0o600, key
        assert _mode(key.parent) == 0o700, key.parent
        assert b"PRIVATE KEY" in key.read_bytes()
    for cert in net.root.rglob("*.crt"):
        assert not cert.read_bytes().count(b"PRIVATE")


def test_genesis_matches_the_certificates(net: NetworkLayout) -> None:
    genesis = Genesis.load(net.genesis)
    assert genesis.suite == "standard"
    assert genesis.policies == {scope: "MAJORITY" for scope in POLICY_SCOPES}
    assert abs(genesis.time_ms - time.time() * 1000) < 600_000
    for org in net.orgs:
        assert genesis.organisation(org.name) is not None
        assert genesis.organisation(org.name).ca_cert == _cert(org.ca_cert)  # type: ignore[union-attr]
    assert [v.name for v in genesis.validators] == [n.name for n in net.nodes]
    for validator, node in zip(genesis.validators, net.nodes, strict=True):
        info = parse_certificate(_cert(node.credential.cert))
        assert validator.public_key == info.public_key
        assert validator.org == node.org == info.org
        assert validator.power == 1
        key = STANDARD.load_private_key(node.credential.key.read_bytes())
        assert key.public_key() == validator.public_key


def test_genesis_carries_params_and_contracts(net2: NetworkLayout) -> None:
    genesis = Genesis.load(net2.genesis)
    assert genesis.params == ChainParams(block_interval_ms=50)
    assert genesis.contracts == (("hello", "def hi(ctx):\n    return 1\n"),)


def test_every_certificate_validates_for_its_role(net: NetworkLayout) -> None:
    genesis = Genesis.load(net.genesis)
    membership = Membership(STANDARD, genesis.organisations)
    now_ms = int(time.time() * 1000)
    checked = 0
    for org in net.orgs:
        for cred in (org.admin, *org.clients, *org.nodes):
            der = _cert(cred.cert)
            identity = membership.validate(der, at_ms=now_ms, roles=(cred.role,))
            assert (identity.org, identity.role, identity.name) == (org.name, cred.role, cred.name)
            # The key on disk is the key in the certificate.
            key = STANDARD.load_private_key(cred.key.read_bytes())
            assert key.public_key() == identity.public_key
            checked += 1
            # And the roles stay apart.
            other = next(r for r in ("client", "admin", "node") if r != cred.role)
            with pytest.raises(ValueError):
                membership.validate(der, at_ms=now_ms, roles=(other,))
    assert checked == sum(1 + len(o.clients) + len(o.nodes) for o in net.orgs)
    # Genesis time is inside every certificate's window.
    for org in net.orgs:
        membership.validate(_cert(org.admin.cert), at_ms=genesis.time_ms, roles=("admin",))


def test_node_configs(net4: NetworkLayout) -> None:
    configs = [load_config(n.config) for n in net4.nodes]
    for i, (cfg, node) in enumerate(zip(configs, net4.nodes, strict=True)):
        assert (cfg.name, cfg.org) == (node.name, node.org)
        assert cfg.api_port == 18600 + i
        assert cfg.p2p_port == 19600 + i
        assert cfg.data_dir == node.dir / "data"
        assert cfg.genesis == net4.genesis
        assert cfg.key == node.credential.key
        assert cfg.cert == node.credential.cert
        assert cfg.key.is_file() and cfg.cert.is_file()
        expected = {f"127.0.0.1:{19600 + j}" for j in range(4) if j != i}
        assert set(cfg.peers) == expected and len(cfg.peers) == 3
    text = net4.nodes[0].config.read_text()
    assert str(net4.root) not in text  # relative paths only: the directory can move


def test_network_directory_can_move(tmp_path: Path) -> None:
    init_network(tmp_path / "a", orgs=1)
    (tmp_path / "a").rename(tmp_path / "b")
    layout = load_layout(tmp_path / "b")
    cfg = load_config(layout.nodes[0].config)
    assert cfg.genesis == tmp_path / "b" / "genesis.json"
    assert cfg.key.is_file()


def test_load_layout_matches_init(net4: NetworkLayout) -> None:
    assert load_layout(net4.root) == net4


def test_load_layout_of_a_non_network_fails(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="not a network directory"):
        load_layout(tmp_path)


def test_init_into_non_empty_directory_fails_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "net"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(BootstrapError, match="non-empty"):
        init_network(target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["net"]


def test_init_into_an_empty_existing_directory_works(tmp_path: Path) -> None:
    target = tmp_path / "net"
    target.mkdir()
    layout = init_network(target, orgs=1)
    assert layout.genesis.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net"]


def test_init_onto_a_file_fails(tmp_path: Path) -> None:
    (tmp_path / "net").write_text("x")
    with pytest.raises(BootstrapError):
        init_network(tmp_path / "net")


def test_a_failed_init_leaves_nothing_behind(tmp_path: Path) -> None:
    # Duplicate contract names fail in the genesis check, after keys were generated.
    with pytest.raises(BootstrapError, match="contract names"):
        init_network(tmp_path / "net", contracts=[("a", "x = 1"), ("a", "x = 2")])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"orgs": 0},
        {"validators": 0},
        {"clients_per_org": -1},
        {"validity_days": 0},
        {"base_api_port": 65535, "validators": 2},
        {"base_p2p_port": 0},
        {"suite_name": "nope"},
        {"chain_id": ""},
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(BootstrapError):
        init_network(tmp_path / "net", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# --- node configuration ----------------------------------------------------------------


def _config(tmp_path: Path) -> NodeConfig:
    return NodeConfig(
        name="org1-node0",
        org="org1",
        data_dir=tmp_path / "nodes" / "n0" / "data",
        genesis=tmp_path / "genesis.json",
        key=tmp_path / "keys" / "node.key",
        cert=tmp_path / "keys" / "node.crt",
        api_host="0.0.0.0",
        api_port=8700,
        p2p_host="10.0.0.1",
        p2p_port=9700,
        peers=("10.0.0.2:9700", "[::1]:9701", "node-3.example:9702"),
        mempool_size=1234,
        log_file=tmp_path / "logs" / "node.log",
    )


def test_config_round_trips(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    path = tmp_path / "nodes" / "n0" / "config.toml"
    path.parent.mkdir(parents=True)
    save_config(cfg, path)
    assert load_config(path) == cfg
    text = path.read_text()
    assert 'genesis = "../../genesis.json"' in text
    assert 'file = "../../logs/node.log"' in text
    for section in ("[node]", "[api]", "[p2p]", "[mempool]", "[log]"):
        assert section in text


def test_config_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[node]\nname = "n"\norg = "o"\ndata_dir = "data"\n'
        'genesis = "g.json"\nkey = "k"\ncert = "/abs/c.crt"\n'
    )
    cfg = load_config(path)
    assert cfg.data_dir == tmp_path / "data"
    assert cfg.cert == Path("/abs/c.crt")
    assert (cfg.api_host, cfg.api_port, cfg.p2p_host, cfg.p2p_port) == (
        "127.0.0.1",
        8600,
        "127.0.0.1",
        9600,
    )
    assert cfg.peers == () and cfg.mempool_size == 20_000 and cfg.log_file is None
    save_config(cfg, path)
    assert load_config(path) == cfg
    save_config(replace(cfg, log_file=None, peers=()), path)
    assert "[log]" not in path.read_text()


BASE = (
    '[node]\nname = "n"\norg = "o"\ndata_dir = "d"\ngenesis = "g"\nkey = "k"\ncert = "c"\n'
    "[api]\nport = 8600\n[p2p]\nport = 9600\npeers = []\n[mempool]\nsize = 10\n"
)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (BASE.replace('name = "n"\n', ""), "[node] name"),
        (BASE.replace('cert = "c"\n', ""), "[node] cert"),
        (BASE.replace('org = "o"', "org = 5"), "[node] org"),
        (BASE.replace('key = "k"', 'key = ""'), "[node] key"),
        (BASE.replace("[api]\nport = 8600", '[api]\nport = "8600"'), "[api] port"),
        (BASE.replace("[api]\nport = 8600", "[api]\nport = true"), "[api] port"),
        (BASE.replace("[api]\nport = 8600", "[api]\nport = 70000"), "[api] port"),
        (BASE.replace("peers = []", 'peers = "a:1"'), "[p2p] peers"),
        (BASE.replace("peers = []", 'peers = ["no-port"]'), "[p2p] peers"),
        (BASE.replace("peers = []", 'peers = ["h:99999"]'), "[p2p] peers"),
        (BASE.replace("size = 10", "size = 0"), "[mempool] size"),
        (BASE.replace("size = 10", "size = 10\nextra = 1"), "[mempool] extra"),
        (BASE + "[metrics]\nport = 1\n", "[metrics]"),
        (BASE.replace('org = "o"', 'org = "o"\nnmae = "typo"'), "[node] nmae"),
    ],
)
def test_config_errors_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_base_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE)
    assert load_config(path).mempool_size == 10


def test_unreadable_configs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\nname = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=str(binary)):
        load_config(binary)


def test_save_refuses_an_invalid_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError):
        save_config(replace(_config(tmp_path), api_port=-1), path)
    assert not path.exists()


def test_unreadable_file(tmp_path: Path) -> None:
    # a directory where the file should be cannot be read, even by root
    path = tmp_path / "config.toml"
    path.mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)
