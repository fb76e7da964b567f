"""Organisation tooling on a network directory: a new organisation, issuing, renewing and the
expiry report (``yulian.pki`` and ``node.bootstrap.create_org``)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.standard import STANDARD
from yulian.crypto.x509 import parse_certificate, pem_to_der, verify_issued_by
from yulian.node.bootstrap import BootstrapError, create_org, init_network
from yulian.node.config import load_config
from yulian.pki.files import PkiError
from yulian.pki.layout import NetworkLayout, find_credential, load_layout, load_org
from yulian.pki.members import expiring_certificates, issue_cert, renew_cert
from yulian.sdk import Wallet
from yulian.types.genesis import Genesis, Organisation


def _cert(path: Path) -> bytes:
    return pem_to_der(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def net(tmp_path: Path) -> NetworkLayout:
    return init_network(
        tmp_path / "net", orgs=2, validators=2, base_api_port=18700, base_p2p_port=19700
    )


def test_create_org_writes_the_bootstrap_layout_and_modes(net: NetworkLayout) -> None:
    new = create_org(net.root, "org3", nodes=2, clients=2, p2p_port=19710, api_port=18710)
    org_dir = net.root / "orgs" / "org3"
    assert new.org == load_org(net.root, "org3")
    assert new.org.ca_cert == org_dir / "ca" / "ca.crt"
    assert [c.name for c in new.org.clients] == ["client1", "client2"]
    assert [n.name for n in new.nodes] == ["org3-node0", "org3-node1"]
    for key in [
        org_dir / "ca" / "ca.key",
        org_dir / "admin" / "admin.key",
        org_dir / "clients" / "client1.key",
        org_dir / "nodes" / "org3-node0" / "node.key",
    ]:
        assert _mode(key) == 0o600, key
        assert _mode(key.parent) == 0o700, key.parent
    assert _mode(org_dir / "admin" / "admin.crt") & 0o044  # certificates are public

    ca = parse_certificate(_cert(new.org.ca_cert))
    assert ca.is_ca and ca.org == "org3"
    admin = parse_certificate(_cert(new.org.admin.cert))
    assert (admin.org, admin.role, admin.name) == ("org3", "admin", "admin")
    assert verify_issued_by(STANDARD, admin.der, ca.der)

    existing = [load_config(n.config).p2p_address for n in net.nodes]
    cfg0 = load_config(new.nodes[0].config)
    assert new.nodes[0].config == net.root / "nodes" / "org3-node0" / "config.toml"
    assert (cfg0.name, cfg0.org, cfg0.p2p_port, cfg0.api_port) == (
        "org3-node0",
        "org3",
        19710,
        18710,
    )
    assert cfg0.peers == (*existing, "127.0.0.1:19711")
    assert cfg0.genesis == net.genesis
    assert cfg0.key == org_dir / "nodes" / "org3-node0" / "node.key"
    node_cert = parse_certificate(_cert(cfg0.cert))
    assert node_cert.public_key == STANDARD.load_private_key(cfg0.key.read_bytes()).public_key()
    assert not any(p.name.startswith(".org-") for p in net.root.iterdir())  # staging removed

    # the whole directory still reads, with the new organisation and its nodes after the rest
    layout = load_layout(net.root)
    assert [o.name for o in layout.orgs] == ["org1", "org2", "org3"]
    assert [n.name for n in layout.nodes] == [
        "org1-node0",
        "org2-node0",
        "org3-node0",
        "org3-node1",
    ]
    # its admin loads as a wallet, with the genesis suite
    wallet = Wallet.from_network(net.root, "org3", "admin")
    assert (wallet.org, wallet.role) == ("org3", "admin")


def test_create_org_refusals_write_nothing(net: NetworkLayout) -> None:
    before = sorted(p.relative_to(net.root) for p in net.root.rglob("*"))
    with pytest.raises(BootstrapError, match="already exists"):
        create_org(net.root, "org1", p2p_port=19710, api_port=18710)
    with pytest.raises(BootstrapError, match="existing nodes"):
        create_org(net.root, "org3", p2p_port=19700, api_port=18710)
    with pytest.raises(BootstrapError, match="must be 1"):
        create_org(net.root, "../evil", p2p_port=19710, api_port=18710)
    with pytest.raises(BootstrapError, match="not a network directory"):
        create_org(net.root / "orgs", "org3", p2p_port=19710, api_port=18710)
    assert sorted(p.relative_to(net.root) for p in net.root.rglob("*")) == before


def test_issue_writes_a_private_key_and_a_cert_under_the_org_ca(net: NetworkLayout) -> None:
    cred = issue_cert(net.root, "org1", "client", "auditor", validity_days=90)
    assert cred == find_credential(net.root, "org1", "auditor")
    assert _mode(cred.key) == 0o600
    info = parse_certificate(_cert(cred.cert))
    assert (info.org, info.role, info.name) == ("org1", "client", "auditor")
    assert info.public_key == STANDARD.load_private_key(cred.key.read_bytes()).public_key()
    assert verify_issued_by(STANDARD, info.der, _cert(net.org("org1").ca_cert))
    days = (info.not_after_ms - info.not_before_ms) / 86_400_000
    assert 90 < days < 90.1  # plus the backdating hour
    assert Wallet.from_network(net.root, "org1", "auditor").name == "auditor"

    with pytest.raises(PkiError, match="renew it"):
        issue_cert(net.root, "org1", "client", "auditor")
    with pytest.raises(PkiError, match="role must be"):
        issue_cert(net.root, "org1", "ca", "x")
    with pytest.raises(PkiError, match="would outlive it"):
        issue_cert(net.root, "org1", "client", "forever", validity_days=36_500)

    held = STANDARD.generate_key()
    node = issue_cert(net.root, "org2", "node", "org2-node9", public_key=held.public_key())
    assert not node.key.exists()  # the holder keeps its key
    assert parse_certificate(_cert(node.cert)).public_key == held.public_key()
    assert node.cert == net.root / "orgs" / "org2" / "nodes" / "org2-node9" / "node.crt"


def test_renew_keeps_the_key_and_moves_the_window(net: NetworkLayout) -> None:
    cred = net.credential("org1", "client1")
    key_before = cred.key.read_bytes()
    old = parse_certificate(_cert(cred.cert))
    later = datetime.now(UTC) + timedelta(days=200)
    renewed = renew_cert(net.root, "org1", "client1", 365, now=later)
    assert renewed == cred
    new = parse_certificate(_cert(cred.cert))
    assert cred.key.read_bytes() == key_before
    assert new.public_key == old.public_key
    assert (new.org, new.role, new.name) == (old.org, old.role, old.name)
    assert new.serial != old.serial
    assert new.not_after_ms > old.not_after_ms + 199 * 86_400_000
    assert new.not_before_ms > old.not_before_ms
    assert _cert(cred.cert.with_name("client1.crt.old")) == old.der
    # the renewed certificate verifies under the organisation's CA and is a member when valid
    ca = _cert(net.org("org1").ca_cert)
    assert verify_issued_by(STANDARD, new.der, ca)
    genesis = Genesis.load(net.genesis)
    members = Membership(STANDARD, genesis.organisations)
    at = int((later + timedelta(days=300)).timestamp() * 1000)  # the old one has ended
    assert members.validate(new.der, at_ms=at, roles=("client",)).name == "client1"
    with pytest.raises(MembershipError, match="certificate_expired"):
        members.validate(old.der, at_ms=at, roles=("client",))
    # a node renews in place too: node.crt, node.crt.old
    node = renew_cert(net.root, "org2", "org2-node0", 30)
    assert node.cert.with_name("node.crt.old").is_file()
    assert (
        parse_certificate(_cert(node.cert)).public_key
        == parse_certificate(_cert(node.cert.with_name("node.crt.old"))).public_key
    )
    with pytest.raises(PkiError, match="no member"):
        renew_cert(net.root, "org1", "nobody", 30)


def test_expiring_certificates_finds_a_short_one_and_not_a_long_one(net: NetworkLayout) -> None:
    issue_cert(net.root, "org1", "client", "temp", validity_days=10)
    issue_cert(net.root, "org1", "client", "steady", validity_days=365)
    soon = expiring_certificates(net.root, within_days=30)
    assert [(c.org, c.name, c.role) for c in soon] == [("org1", "temp", "client")]
    assert soon[0].path == net.root / "orgs" / "org1" / "clients" / "temp.crt"
    assert timedelta(days=9) < soon[0].not_after - datetime.now(UTC) < timedelta(days=11)
    assert expiring_certificates(net.root, within_days=5) == []

    # a year on, every member certificate (365 days) is due; the CAs (3650 days) are not
    in_a_year = datetime.now(UTC) + timedelta(days=360)
    due = expiring_certificates(net.root, within_days=30, now=in_a_year)
    assert "ca" not in {c.role for c in due}
    assert {("org2", "org2-node0", "node"), ("org1", "steady", "client")} <= {
        (c.org, c.name, c.role) for c in due
    }
    # ten years on the CAs are due too, and an added organisation is looked at
    create_org(net.root, "org3", p2p_port=19710, api_port=18710)
    decade = datetime.now(UTC) + timedelta(days=3640)
    cas = [c for c in expiring_certificates(net.root, 30, decade) if c.role == "ca"]
    assert [c.org for c in cas] == ["org1", "org2", "org3"]
    assert all(c.name == f"ca.{c.org}" for c in cas)


def test_added_org_ca_is_accepted_as_a_root(net: NetworkLayout) -> None:
    """What `consortium propose add-org` sends: a root the membership check accepts."""
    new = create_org(net.root, "org3", nodes=1, p2p_port=19710, api_port=18710)
    genesis = Genesis.load(net.genesis)
    members = Membership(
        STANDARD, (*genesis.organisations, Organisation("org3", _cert(new.org.ca_cert)))
    )
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    node = members.validate(_cert(new.nodes[0].credential.cert), at_ms=now_ms, roles=("node",))
    assert (node.org, node.role) == ("org3", "node")


def test_load_layout_sees_an_added_organisation(tmp_path: Path) -> None:
    init_network(tmp_path / "net", orgs=2, validators=2)
    create_org(tmp_path / "net", "org9", nodes=1, p2p_port=19600, api_port=18600)
    layout = load_layout(tmp_path / "net")
    assert [o.name for o in layout.orgs] == ["org1", "org2", "org9"]
    assert layout.node("org9-node0").org == "org9"
    assert layout.credential("org9", "admin").cert.is_file()
