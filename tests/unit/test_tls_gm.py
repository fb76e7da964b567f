"""Mutual TLS between gm nodes: transport keys delegated by SM2 node keys.

OpenSSL 3.0's TLS cannot use SM2 certificates, so a gm node's TLS certificate is an Ed25519
transport certificate issued by the consortium's (public) gate CA and carrying the node
certificate and the node key's SM2 signature over the transport key. These tests show that gm
nodes of one consortium connect and see each other's *node* certificates, that nodes of another
consortium or suite do not get through the handshake, and that the delegation check, not the
gate, is what authenticates: a gate-issued certificate with a forged delegation is refused.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from tests.ports import free_ports

from yulian.crypto.gm import GM
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.x509 import parse_certificate, pem_to_der
from yulian.net import tls
from yulian.net.messages import Message
from yulian.net.peers import PeerManager
from yulian.net.tls import (
    TRANSPORT_DELEGATION_OID,
    TlsError,
    client_context,
    delegating_node_certificate,
    peer_certificate_der,
    server_context,
)
from yulian.node.bootstrap import init_network
from yulian.pki.layout import Credential, NetworkLayout
from yulian.types.encoding import encode
from yulian.types.genesis import Genesis

Outcome = bytes | BaseException


@pytest.fixture(scope="module")
def gm_net(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    return init_network(
        tmp_path_factory.mktemp("gm") / "net", orgs=2, validators=3, suite_name="gm"
    )


@pytest.fixture(scope="module")
def foreign_gm_net(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    """Another gm consortium with the same organisation and node names."""
    return init_network(
        tmp_path_factory.mktemp("gm2") / "net", orgs=2, validators=2, suite_name="gm"
    )


@pytest.fixture(scope="module")
def std_net(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    return init_network(tmp_path_factory.mktemp("std") / "net", orgs=2, validators=2)


def cas(layout: NetworkLayout) -> list[Path]:
    return [org.ca_cert for org in layout.orgs]


def node_der(cred: Credential) -> bytes:
    return pem_to_der(cred.cert.read_bytes())


def contexts(cred: Credential, layout: NetworkLayout) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return (
        server_context(cred.cert, cred.key, cas(layout)),
        client_context(cred.cert, cred.key, cas(layout)),
    )


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> tuple[Outcome, Outcome]:
    """What each side's ``peer_certificate_der`` returned (or raised) after one handshake."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: dict[str, Outcome] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        try:
            with server.wrap_socket(conn, server_side=True) as s:
                seen["server"] = peer_certificate_der(s)
                s.sendall(b"k")
        except (OSError, TlsError) as e:
            seen["server"] = e

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client.wrap_socket(raw) as c,
        ):
            der = peer_certificate_der(c)
            if c.recv(1) != b"k":  # the server accepted our certificate too
                raise ConnectionError("server closed")
            seen["client"] = der
    except (OSError, TlsError) as e:
        seen["client"] = e
    finally:
        thread.join(10)
        listener.close()
    return seen["server"], seen["client"]


# --- gm nodes ---------------------------------------------------------------------------


def test_gm_nodes_connect_and_see_node_certificates(gm_net: NetworkLayout) -> None:
    a, b = gm_net.nodes[0].credential, gm_net.nodes[1].credential
    server_sees, client_sees = handshake(contexts(a, gm_net)[0], contexts(b, gm_net)[1])
    assert server_sees == node_der(b)
    assert client_sees == node_der(a)
    genesis = Genesis.load(gm_net.genesis)
    membership = Membership(GM, genesis.organisations)
    now_ms = int(time.time() * 1000)
    assert isinstance(server_sees, bytes) and isinstance(client_sees, bytes)
    assert membership.validate(server_sees, at_ms=now_ms, roles=("node",)).name == b.name
    assert membership.validate(client_sees, at_ms=now_ms, roles=("node",)).name == a.name


def test_a_node_connects_to_itself_and_is_named(gm_net: NetworkLayout) -> None:
    a = gm_net.nodes[0].credential
    server, client = contexts(a, gm_net)
    assert handshake(server, client) == (node_der(a), node_der(a))


def test_another_gm_consortium_fails_the_handshake(
    gm_net: NetworkLayout, foreign_gm_net: NetworkLayout
) -> None:
    ours, theirs = gm_net.nodes[0].credential, foreign_gm_net.nodes[0].credential
    for server, client in (
        (contexts(ours, gm_net)[0], contexts(theirs, foreign_gm_net)[1]),
        (contexts(theirs, foreign_gm_net)[0], contexts(ours, gm_net)[1]),
    ):
        server_sees, client_sees = handshake(server, client)
        assert isinstance(server_sees, BaseException) or isinstance(client_sees, BaseException)
        assert not isinstance(client_sees, bytes)


def test_standard_and_gm_nodes_do_not_connect(
    gm_net: NetworkLayout, std_net: NetworkLayout
) -> None:
    gm_node, std_node = gm_net.nodes[0].credential, std_net.nodes[0].credential
    for server, client in (
        (contexts(gm_node, gm_net)[0], contexts(std_node, std_net)[1]),
        (contexts(std_node, std_net)[0], contexts(gm_node, gm_net)[1]),
    ):
        assert not isinstance(handshake(server, client)[1], bytes)


def test_standard_nodes_still_present_their_node_certificates(std_net: NetworkLayout) -> None:
    a, b = std_net.nodes[0].credential, std_net.nodes[1].credential
    server, client = contexts(a, std_net)[0], contexts(b, std_net)[1]
    assert type(server) is ssl.SSLContext and type(client) is ssl.SSLContext
    assert handshake(server, client) == (node_der(b), node_der(a))


def test_gm_contexts_are_tls13_mutual_and_trust_only_the_gate(gm_net: NetworkLayout) -> None:
    server, client = contexts(gm_net.nodes[0].credential, gm_net)
    for ctx in (server, client):
        assert ctx.minimum_version == ctx.maximum_version == ssl.TLSVersion.TLSv1_3
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        anchors = ctx.get_ca_certs(binary_form=True)
        assert len(anchors) == 1
        gate = x509.load_der_x509_certificate(anchors[0])
        assert isinstance(gate.public_key(), ed25519.Ed25519PublicKey)
    assert not client.check_hostname
    assert server.options & ssl.OP_NO_TICKET


# --- the delegation is what authenticates -----------------------------------------------


def test_a_forged_delegation_passes_the_gate_but_not_the_check(
    gm_net: NetworkLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker knows the gate key and a node's (public) certificate, not its SM2 key."""
    honest, victim = gm_net.nodes[0].credential, gm_net.nodes[1].credential
    server = contexts(honest, gm_net)[0]
    # The attacker's client context: the victim's node certificate, its own SM2 key signing.
    victim_info = parse_certificate(node_der(victim))
    attacker_key = GM.generate_key()
    monkeypatch.setattr(tls, "_delegating_node", lambda cert, key: (victim_info, attacker_key))
    client = client_context(victim.cert, victim.key, cas(gm_net))
    server_sees, _ = handshake(server, client)
    assert isinstance(server_sees, TlsError)
    assert "not signed by the key of" in str(server_sees)


def _gate_issued(
    gm_net: NetworkLayout,
    extensions: list[x509.Extension[x509.ExtensionType]],
    *,
    key: ed25519.Ed25519PublicKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> bytes:
    """A certificate from the gate CA, as anyone who knows the consortium's roots can make."""
    roots = [pem_to_der(org.ca_cert.read_bytes()) for org in gm_net.orgs]
    gate_key, gate_cert = tls._gate(roots)
    now = datetime.now(UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(gate_cert.subject)
        .issuer_name(gate_cert.subject)
        .public_key(key or ed25519.Ed25519PrivateKey.generate().public_key())
        .serial_number(7)
        .not_valid_before(not_before or now)
        .not_valid_after(not_after or now + timedelta(days=1))
    )
    for ext in extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    return builder.sign(gate_key, None).public_bytes(serialization.Encoding.DER)


def _delegation(value: bytes) -> x509.Extension[x509.ExtensionType]:
    return x509.Extension(
        TRANSPORT_DELEGATION_OID, False, x509.UnrecognizedExtension(TRANSPORT_DELEGATION_OID, value)
    )


@pytest.mark.parametrize(
    "case", ["no delegation", "not msgpack", "not a pair", "not a certificate", "wrong statement"]
)
def test_delegation_check_refuses_malformed_transport_certificates(
    gm_net: NetworkLayout, case: str
) -> None:
    node = node_der(gm_net.nodes[0].credential)
    node_key = GM.load_private_key(gm_net.nodes[0].credential.key.read_bytes())
    extensions = {
        "no delegation": [],
        "not msgpack": [_delegation(b"\xc1")],
        "not a pair": [_delegation(encode([node]))],
        "not a certificate": [_delegation(encode([b"cert", b"sig"]))],
        "wrong statement": [_delegation(encode([node, node_key.sign(b"something else")]))],
    }[case]
    with pytest.raises(TlsError):
        delegating_node_certificate(_gate_issued(gm_net, extensions))


def test_delegation_check_refuses_what_is_not_a_certificate() -> None:
    with pytest.raises(TlsError, match="unreadable"):
        delegating_node_certificate(b"not a certificate")


def test_delegation_covers_the_exact_key_and_window(gm_net: NetworkLayout) -> None:
    cred = gm_net.nodes[0].credential
    info = parse_certificate(node_der(cred))
    node_key = GM.load_private_key(cred.key.read_bytes())
    roots = [pem_to_der(org.ca_cert.read_bytes()) for org in gm_net.orgs]
    gate_key, gate_cert = tls._gate(roots)
    transport_key = ed25519.Ed25519PrivateKey.generate()
    good = tls._transport_certificate(info, node_key, transport_key, gate_key, gate_cert)
    assert delegating_node_certificate(good.public_bytes(serialization.Encoding.DER)) == info.der
    carried = good.extensions.get_extension_for_oid(TRANSPORT_DELEGATION_OID)
    same_window = {"not_before": good.not_valid_before_utc, "not_after": good.not_valid_after_utc}
    rebuilt = _gate_issued(gm_net, [carried], key=transport_key.public_key(), **same_window)
    assert delegating_node_certificate(rebuilt) == info.der
    for moved in (
        _gate_issued(gm_net, [carried], **same_window),  # another transport key
        _gate_issued(
            gm_net,
            [carried],
            key=transport_key.public_key(),
            not_before=good.not_valid_before_utc,
            not_after=good.not_valid_after_utc + timedelta(days=1),  # a longer window
        ),
    ):
        with pytest.raises(TlsError, match="not signed by the key of"):
            delegating_node_certificate(moved)


def test_context_creation_checks_the_key(gm_net: NetworkLayout, tmp_path: Path) -> None:
    a, b = gm_net.nodes[0].credential, gm_net.nodes[1].credential
    with pytest.raises(TlsError, match="does not match"):
        server_context(a.cert, b.key, cas(gm_net))
    with pytest.raises(TlsError, match="cannot load key"):
        client_context(a.cert, tmp_path / "missing.key", cas(gm_net))
    with pytest.raises(TlsError, match="root CA"):
        server_context(a.cert, a.key, [tmp_path / "missing.crt"])
    with pytest.raises(TlsError):
        server_context(a.cert, a.key, [])


# --- through the PeerManager ------------------------------------------------------------


def test_gm_peer_managers_connect_and_exchange_messages(gm_net: NetworkLayout) -> None:
    genesis = Genesis.load(gm_net.genesis)
    membership = Membership(GM, genesis.organisations)
    identified: list[str | None] = []

    def identify(der: bytes) -> str | None:
        try:
            name = membership.validate(der, at_ms=int(time.time() * 1000), roles=("node",)).name
        except MembershipError:
            name = None
        identified.append(name)
        return name

    creds = [gm_net.nodes[i].credential for i in range(2)]
    ports = free_ports(len(creds))  # below the ephemeral range: a dial never takes one
    received: dict[str, list[tuple[str, Message]]] = {c.name: [] for c in creds}

    def manager(i: int) -> PeerManager:
        server, client = contexts(creds[i], gm_net)
        return PeerManager(
            name=creds[i].name,
            listen_host="127.0.0.1",
            listen_port=ports[i],
            peers=[f"127.0.0.1:{ports[1 - i]}"],
            server_ssl=server,
            client_ssl=client,
            identify=identify,
            on_message=lambda peer, msg, me=creds[i].name: received[me].append((peer, msg)),
            reconnect_s=0.05,
        )

    async def main() -> None:
        managers = [manager(0), manager(1)]
        try:
            for m in managers:
                await m.start()
            deadline = time.monotonic() + 15
            while not all(m.connected() for m in managers):
                assert time.monotonic() < deadline, "gm peers did not connect"
                await asyncio.sleep(0.02)
            assert managers[0].connected() == [creds[1].name]
            assert managers[1].connected() == [creds[0].name]
            managers[0].send(creds[1].name, Message("evidence", b"over gm tls"))
            while not received[creds[1].name]:
                assert time.monotonic() < deadline, "no message arrived"
                await asyncio.sleep(0.02)
        finally:
            for m in managers:
                await m.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert received[creds[1].name][0] == (creds[0].name, Message("evidence", b"over gm tls"))
    assert set(identified) == {creds[0].name, creds[1].name}
