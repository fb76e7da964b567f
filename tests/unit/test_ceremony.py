"""The genesis ceremony without shared keys: each organisation initialises its own directory,
exports public material, one party assembles the genesis, every organisation checks and
accepts it by its hash, and a node runs only the genesis its organisation accepted
(``pki.ceremony``, ``node.ceremony``, ``node.bootstrap``)."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from tests.keyfiles import foreign_keys, private_keys

from yulian.crypto.standard import STANDARD
from yulian.crypto.x509 import parse_certificate, pem_to_der
from yulian.node.bootstrap import (
    BootstrapError,
    init_network,
    init_org_directory,
    plan_nodes,
)
from yulian.node.ceremony import EXPORT_RECORD, accept_genesis, export_org
from yulian.node.config import GenesisNotAccepted, accepted_genesis, load_config, save_config
from yulian.node.node import Node, NodeStartError
from yulian.pki.ceremony import (
    CeremonyError,
    OrgExport,
    assemble_genesis,
)
from yulian.pki.chain import ChainIdentity
from yulian.pki.files import PkiError
from yulian.pki.layout import load_layout
from yulian.pki.members import renew_cert
from yulian.types.genesis import Genesis


def _org(tmp: Path, name: str, port: int, **kwargs: object) -> Path:
    hosts = kwargs.pop("hosts", ["127.0.0.1"])
    nodes = kwargs.pop("nodes", 1)
    plans = plan_nodes(name, nodes, hosts=hosts, p2p_port=port, api_port=port + 100)  # type: ignore[arg-type]
    init_org_directory(tmp / name, name, nodes=plans, **kwargs)  # type: ignore[arg-type]
    return tmp / name


def _time_ms(export: OrgExport) -> int:
    return parse_certificate(export.ca_cert).not_before_ms + 3_600_000


def _sans(cert: Path) -> list[str]:
    der = pem_to_der(cert.read_bytes())
    san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    return [str(n.value) for n in san.value]


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three organisations, each initialised in its own directory: bank (2 nodes, reached by
    DNS name), hospital (1 node), regulator (1 full node)."""
    tmp = tmp_path_factory.mktemp("ceremony")
    return {
        "bank": _org(tmp, "bank", 19900, nodes=2, hosts=["n0.bank.example", "n1.bank.example"]),
        "hospital": _org(tmp, "hospital", 19910, hosts=["10.1.0.7"]),
        "regulator": _org(tmp, "regulator", 19920),
    }


def _exports(dirs: dict[str, Path]) -> list[OrgExport]:
    return [
        export_org(dirs["bank"], power=2),
        export_org(dirs["hospital"]),
        export_org(dirs["regulator"], full_nodes=["regulator-node0"]),
    ]


def test_org_init_writes_only_its_own_organisation(ceremony: dict[str, Path]) -> None:
    bank = ceremony["bank"]
    assert sorted(p.name for p in (bank / "orgs").iterdir()) == ["bank"]
    assert sorted(p.name for p in (bank / "nodes").iterdir()) == ["bank-node0", "bank-node1"]
    assert not (bank / "genesis.json").exists()
    cfg0, cfg1 = (
        load_config(bank / "nodes" / n / "config.toml") for n in ("bank-node0", "bank-node1")
    )
    # a DNS name is advertised; the node listens on every interface
    assert (cfg0.p2p_host, cfg0.p2p_port, cfg0.advertised_address) == (
        "0.0.0.0",
        19900,
        "n0.bank.example:19900",
    )
    assert cfg1.advertised_address == "n1.bank.example:19901"
    # an organisation's nodes know each other; the genesis gives them the validators
    assert (cfg0.peers, cfg1.peers) == (("n1.bank.example:19901",), ("n0.bank.example:19900",))
    assert cfg0.genesis_hash is None and cfg0.genesis == bank / "genesis.json"
    # the certificate names the host the node is dialled by
    assert _sans(cfg0.cert) == ["localhost", "127.0.0.1", "n0.bank.example"]
    hospital = load_config(ceremony["hospital"] / "nodes" / "hospital-node0" / "config.toml")
    assert (hospital.p2p_host, hospital.advertised_address) == ("10.1.0.7", "10.1.0.7:19910")
    assert _sans(hospital.cert) == ["localhost", "127.0.0.1", "10.1.0.7"]
    for key in sorted(bank.rglob("*.key")):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_export_is_public_material_only(ceremony: dict[str, Path]) -> None:
    bank = export_org(ceremony["bank"], power=2)
    text = bank.to_json()
    assert "PRIVATE" not in text
    doc = json.loads(text)
    assert sorted(doc) == ["ca_cert", "format", "org", "suite", "validators"]
    assert [(v["name"], v["address"], v["power"]) for v in doc["validators"]] == [
        ("bank-node0", "n0.bank.example:19900", 2),
        ("bank-node1", "n1.bank.example:19901", 2),
    ]
    record = ceremony["bank"] / "orgs" / "bank" / EXPORT_RECORD
    assert record.read_text() == text and stat.S_IMODE(record.stat().st_mode) == 0o644
    assert OrgExport.from_json(text) == bank
    regulator = export_org(ceremony["regulator"], full_nodes=["regulator-node0"])
    assert regulator.validators == ()
    with pytest.raises(PkiError, match="no such node"):
        export_org(ceremony["regulator"], full_nodes=["nobody"])


def test_assemble_interleaves_validators_and_keeps_keys_in_their_directories(
    ceremony: dict[str, Path],
) -> None:
    exports = _exports(ceremony)
    genesis = assemble_genesis(exports, chain_id="c", time_ms=_time_ms(exports[0]))
    assert [o.name for o in genesis.organisations] == ["bank", "hospital", "regulator"]
    assert [(v.name, v.org, v.power, v.address) for v in genesis.validators] == [
        ("bank-node0", "bank", 2, "n0.bank.example:19900"),
        ("hospital-node0", "hospital", 1, "10.1.0.7:19910"),
        ("bank-node1", "bank", 2, "n1.bank.example:19901"),
    ]
    for v in genesis.validators:
        cert = ceremony[v.org] / "orgs" / v.org / "nodes" / v.name / "node.crt"
        assert parse_certificate(pem_to_der(cert.read_bytes())).public_key == v.public_key
    assert foreign_keys(ceremony, STANDARD) == []
    assert len(private_keys(ceremony["bank"], STANDARD)) == 5  # CA, admin, client1, 2 nodes


def test_the_key_audit_sees_a_foreign_key(ceremony: dict[str, Path], tmp_path: Path) -> None:
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "orgs").symlink_to(ceremony["hospital"] / "orgs")  # its certificates, not its keys
    stolen = ceremony["bank"] / "orgs" / "bank" / "admin" / "admin.key"
    (spy / "notes.txt").write_bytes(b"copied:\n" + stolen.read_bytes())
    problems = foreign_keys({"hospital": spy}, STANDARD)
    assert problems == [f"hospital's directory holds a foreign private key: {spy / 'notes.txt'}"]


def _tampered(export: OrgExport, **changes: object) -> OrgExport:
    first = dataclasses.replace(export.validators[0], **changes)
    return dataclasses.replace(export, validators=(first, *export.validators[1:]))


def test_assemble_refuses_bad_exports(ceremony: dict[str, Path], tmp_path: Path) -> None:
    bank, hospital, _ = _exports(ceremony)
    t = _time_ms(bank)
    for exports, match in [
        ([bank, bank], "exported twice"),
        ([], "at least one"),
        ([_tampered(bank, power=0)], "power"),
        ([_tampered(bank, address="0.0.0.0:1")], "address"),
        ([_tampered(bank, address="no-port")], "address"),
        ([_tampered(bank, name="bank-node9")], "names 'bank-node0'"),
        # a node certificate of another organisation's CA
        ([_tampered(bank, node_cert=hospital.validators[0].node_cert)], "node certificate"),
        ([dataclasses.replace(hospital, ca_cert=bank.ca_cert)], "names organisation 'bank'"),
        (
            [bank, _tampered(hospital, address=bank.validators[0].address)],
            "validator address",
        ),
    ]:
        with pytest.raises(CeremonyError, match=match):
            assemble_genesis(exports, chain_id="c", time_ms=t)
    with pytest.raises(CeremonyError, match="genesis time"):
        assemble_genesis([bank], chain_id="c", time_ms=t + 400 * 86_400_000)
    with pytest.raises(CeremonyError, match="invalid genesis"):
        assemble_genesis([bank], chain_id="", time_ms=t)
    gm = _org(tmp_path, "gmorg", 19930, suite_name="gm")
    with pytest.raises(CeremonyError, match="different crypto suites"):
        assemble_genesis([bank, export_org(gm)], chain_id="c", time_ms=t)
    for text, match in [
        ("{}", "not a Yulian organisation export"),
        ("[", "malformed"),
        (bank.to_json().replace('"power": 2', '"power": "2"'), "power"),
        (bank.to_json().replace(bank.to_json()[200:260], "!!"), "malformed|export"),
    ]:
        with pytest.raises(CeremonyError, match=match):
            OrgExport.from_json(text)


def _genesis_with(exports: list[OrgExport]) -> Genesis:
    return assemble_genesis(exports, chain_id="c", time_ms=_time_ms(exports[0]))


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_accept_checks_the_hash_and_the_founders_own_entries(tmp_path: Path) -> None:
    dirs = {"a": _org(tmp_path, "a", 19940), "b": _org(tmp_path, "b", 19950)}
    exports = [export_org(dirs["a"]), export_org(dirs["b"])]
    genesis = _genesis_with(exports)
    good = ChainIdentity.of(genesis).genesis_hash
    before = _snapshot(dirs["a"])

    with pytest.raises(CeremonyError, match="do not accept it"):
        accept_genesis(dirs["a"], genesis, "00" * 32)
    # an assembler who changes a's entry gives out that genesis's own hash: a still refuses
    a, b = exports
    for changed, match in [
        ([_tampered(a, power=5), b], "validators"),
        ([_tampered(a, address="127.0.0.1:1"), b], "validators"),
        ([dataclasses.replace(a, validators=()), b], "validators"),
        ([b], "not in this genesis"),
    ]:
        forged = _genesis_with(changed)
        with pytest.raises(CeremonyError, match=match):
            accept_genesis(dirs["a"], forged, ChainIdentity.of(forged).genesis_hash)
    assert _snapshot(dirs["a"]) == before  # nothing written by a refusal

    accepted = accept_genesis(dirs["a"], genesis, good.upper())
    assert accepted.genesis_hash == good
    assert any("exactly the ones it exported" in line for line in accepted.checks)
    cfg = load_config(dirs["a"] / "nodes" / "a-node0" / "config.toml")
    assert cfg.genesis_hash == good
    assert accepted_genesis(cfg) == genesis
    assert accept_genesis(dirs["a"], genesis, good).configs == accepted.configs  # idempotent
    other = _genesis_with([b, a])
    with pytest.raises(CeremonyError, match="already accepted another genesis"):
        accept_genesis(dirs["a"], other, ChainIdentity.of(other).genesis_hash)

    # the organisation's directory reads as a network directory of its own nodes
    layout = load_layout(dirs["a"])
    assert [o.name for o in layout.orgs] == ["a"] and [n.name for n in layout.nodes] == ["a-node0"]


def test_a_joiner_accepts_a_genesis_that_does_not_name_it(tmp_path: Path) -> None:
    a = export_org(_org(tmp_path, "a", 19960))
    genesis = _genesis_with([a])
    late = _org(tmp_path, "late", 19970)
    good = ChainIdentity.of(genesis).genesis_hash
    with pytest.raises(CeremonyError, match=r"not in this genesis.*--join"):
        accept_genesis(late, genesis, good)
    accepted = accept_genesis(late, genesis, good, join=True)
    assert any("add_org" in line for line in accepted.checks)
    impostor = _org(tmp_path / "x", "a", 19980)  # another organisation named "a"
    with pytest.raises(CeremonyError, match="founds an organisation named 'a' with another CA"):
        accept_genesis(impostor, genesis, good, join=True)


def test_a_node_runs_only_the_genesis_its_organisation_accepted(tmp_path: Path) -> None:
    a_dir = _org(tmp_path, "a", 19990)
    genesis = _genesis_with([export_org(a_dir)])
    config = a_dir / "nodes" / "a-node0" / "config.toml"
    cfg = load_config(config)
    with pytest.raises(NodeStartError, match="no genesis"):
        Node(cfg)
    (a_dir / "genesis.json").write_text(genesis.to_json())  # copied in, never accepted
    with pytest.raises(NodeStartError, match="accepted no genesis"):
        Node(cfg)
    (a_dir / "genesis.json").unlink()
    accept_genesis(a_dir, genesis, ChainIdentity.of(genesis).genesis_hash)
    cfg = load_config(config)
    Node(cfg).close()
    swapped = dataclasses.replace(genesis, chain_id="other")
    (a_dir / "genesis.json").write_text(swapped.to_json())
    with pytest.raises(GenesisNotAccepted, match="refusing to run it"):
        accepted_genesis(cfg)
    with pytest.raises(NodeStartError, match="refusing to run it"):
        Node(cfg)


def test_network_init_is_the_ceremony_with_a_full_node(tmp_path: Path) -> None:
    layout = init_network(
        tmp_path / "net", orgs=2, validators=3, full_node_orgs=["regulator"], base_p2p_port=19600
    )
    genesis = Genesis.load(layout.genesis)
    identity = ChainIdentity.of(genesis)
    assert [o.name for o in genesis.organisations] == ["org1", "org2", "regulator"]
    assert [v.name for v in genesis.validators] == ["org1-node0", "org2-node0", "org1-node1"]
    assert [n.name for n in layout.nodes] == [
        "org1-node0",
        "org2-node0",
        "org1-node1",
        "regulator-node0",
    ]
    for i, node in enumerate(layout.nodes):
        cfg = load_config(node.config)
        assert cfg.genesis_hash == identity.genesis_hash
        assert cfg.p2p_port == 19600 + i
        assert len(cfg.peers) == 3
        record = layout.root / "orgs" / node.org / EXPORT_RECORD
        assert OrgExport.from_json(record.read_text()).org == node.org
    regulator = json.loads((layout.root / "orgs/regulator" / EXPORT_RECORD).read_text())
    assert regulator["validators"] == []
    with pytest.raises(BootstrapError, match="repeat a name"):
        init_network(tmp_path / "bad", orgs=2, full_node_orgs=["org2"])
    assert not (tmp_path / "bad").exists()


def test_plan_nodes_and_refusals(tmp_path: Path) -> None:
    [plan] = plan_nodes("o", 1, hosts=["node.o.example"], p2p_port=9000, api_port=8000)
    assert (plan.p2p_host, plan.address) == ("0.0.0.0", "node.o.example:9000")
    [plan] = plan_nodes("o", 1, hosts=["10.0.0.5"], listen="0.0.0.0", p2p_port=9000)
    assert (plan.p2p_host, plan.advertise) == ("0.0.0.0", "10.0.0.5:9000")
    [plan] = plan_nodes("o", 1, hosts=["fd00::5"], p2p_port=9000)
    assert plan.address == "[fd00::5]:9000" and plan.advertise is None
    with pytest.raises(BootstrapError, match="one host for all nodes"):
        plan_nodes("o", 3, hosts=["a", "b"])
    with pytest.raises(BootstrapError, match="room"):
        plan_nodes("o", 2, p2p_port=65535)
    with pytest.raises(PkiError, match="neither an IP address nor a DNS name"):
        _org(tmp_path, "o", 19000, hosts=["bad host!"])
    assert not (tmp_path / "o").exists()
    made = _org(tmp_path, "p", 19010)
    with pytest.raises(BootstrapError, match="non-empty"):
        _org(tmp_path, "p", 19020)
    assert sorted(p.name for p in made.iterdir()) == ["nodes", "orgs"]


def test_renewal_keeps_the_hosts_a_node_certificate_names(tmp_path: Path) -> None:
    layout = init_network(tmp_path / "net", orgs=1)
    cert = layout.nodes[0].credential.cert
    assert _sans(cert) == ["localhost", "127.0.0.1"]
    d = _org(tmp_path, "far", 19030, hosts=["far.example"])
    genesis = _genesis_with([export_org(d)])
    accept_genesis(d, genesis, ChainIdentity.of(genesis).genesis_hash)
    renewed = renew_cert(d, "far", "far-node0", 30)
    assert _sans(renewed.cert) == ["localhost", "127.0.0.1", "far.example"]


def test_config_listen_and_advertise(tmp_path: Path) -> None:
    d = _org(tmp_path, "o", 19040, hosts=["o.example"])
    path = d / "nodes" / "o-node0" / "config.toml"
    cfg = load_config(path)
    assert 'advertise = "o.example:19040"' in path.read_text()
    bare = dataclasses.replace(cfg, p2p_advertise=None)
    save_config(bare, path)
    with pytest.raises(ValueError, match="advertises no address"):
        _ = load_config(path).advertised_address
    for field, text, match in [
        ("advertise", 'advertise = "0.0.0.0:1"', "wildcard"),
        ("advertise", 'advertise = "nope"', "not a host:port"),
        ("genesis_hash", 'genesis_hash = "ABC"', "64 lowercase hex"),
    ]:
        section = "[p2p]" if field == "advertise" else "[node]"
        path.write_text(path.read_text().replace(section, f"{section}\n{text}", 1))
        with pytest.raises(ValueError, match=match):
            load_config(path)
        save_config(bare, path)
    wild = dataclasses.replace(cfg, api_host="0.0.0.0", api_port=8000)
    assert wild.api_url == "http://127.0.0.1:8000"
    assert dataclasses.replace(cfg, api_host="::1", api_port=8000).api_url == "http://[::1]:8000"
