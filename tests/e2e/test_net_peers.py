"""PeerManager over real mutual TLS on 127.0.0.1: connect, deliver, reconnect, refuse, survive.

The consortium is made by ``init_network`` (3 organisations, 4 node certificates: three nodes
run managers, the fourth certificate is a spare for raw TLS clients). Every test runs its own
event loop (uvloop unless stated) under an overall timeout and stops every manager it starts.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

from tests.ports import free_ports
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import ED25519_OID, parse_certificate
from yulian.net.framing import encode_frame, read_frame
from yulian.net.messages import Message, encode_message
from yulian.net.peers import PeerManager
from yulian.net.tls import client_context, peer_certificate_der, server_context
from yulian.node.bootstrap import init_network
from yulian.pki.layout import Credential, NetworkLayout
from yulian.types.genesis import Genesis

TEST_TIMEOUT_S = 20.0
HELLO = encode_frame(encode_message(Message("hello", ())))


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    return init_network(tmp_path_factory.mktemp("net") / "consortium", orgs=3, validators=4)


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> NetworkLayout:
    """Another consortium: same organisation and node names, other CAs."""
    return init_network(tmp_path_factory.mktemp("net") / "foreign", orgs=3, validators=3)


def cas(layout: NetworkLayout) -> list[Path]:
    return [org.ca_cert for org in layout.orgs]


def node_identify(layout: NetworkLayout) -> Callable[[bytes], str | None]:
    """What the node passes: the membership check for the node role, name = the cert's CN."""
    genesis = Genesis.load(layout.genesis)
    membership = Membership(get_suite(genesis.suite), genesis.organisations)

    def identify(der: bytes) -> str | None:
        try:
            return membership.validate(der, at_ms=int(time.time() * 1000), roles=("node",)).name
        except MembershipError:
            return None

    return identify


def accept_anyone(der: bytes) -> str | None:
    return parse_certificate(der).name


class Node:
    """A PeerManager plus what it received and whom identify refused."""

    def __init__(
        self,
        cred: Credential,
        trust: list[Path],
        port: int,
        peer_ports: list[int],
        identify: Callable[[bytes], str | None],
        **kwargs: Any,
    ) -> None:
        self.name = cred.name
        self.received: list[tuple[str, Message]] = []
        self.identified: list[str | None] = []

        def recording_identify(der: bytes) -> str | None:
            name = identify(der)
            self.identified.append(name)
            return name

        self.connects: list[str] = []
        self.disconnects: list[str] = []
        options: dict[str, Any] = {
            "reconnect_s": 0.05,
            "drop_backoff_s": 0.6,
            "on_connect": self.connects.append,
            "on_disconnect": self.disconnects.append,
        }
        options.update(kwargs)
        self.pm = PeerManager(
            name=cred.name,
            listen_host="127.0.0.1",
            listen_port=port,
            peers=[f"127.0.0.1:{p}" for p in peer_ports],
            server_ssl=server_context(cred.cert, cred.key, trust),
            client_ssl=client_context(cred.cert, cred.key, trust),
            identify=recording_identify,
            on_message=self.on_message,
            **options,
        )

    def on_message(self, peer: str, msg: Message) -> None:
        if msg.kind == "evidence" and msg.payload == b"boom":
            raise RuntimeError("a buggy handler")
        self.received.append((peer, msg))

    def got(self, kind: str) -> list[tuple[str, Any]]:
        return [(p, m.payload) for p, m in self.received if m.kind == kind]


def run(main: Callable[[], Coroutine[Any, Any, None]], *, use_uvloop: bool = True) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(TEST_TIMEOUT_S):
            await main()

    factory = uvloop.new_event_loop if use_uvloop else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(bounded())


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)


async def stopping(nodes: list[Node], body: Callable[[], Awaitable[None]]) -> None:
    try:
        for n in nodes:
            await n.pm.start()
        await body()
    finally:
        for n in nodes:
            await n.pm.stop()


def trio(layout: NetworkLayout, **kwargs: Any) -> tuple[list[Node], list[int]]:
    """Three consortium nodes, each dialling the other two."""
    ports = free_ports(3)
    identify = node_identify(layout)
    nodes = [
        Node(
            layout.nodes[i].credential,
            cas(layout),
            ports[i],
            ports[:i] + ports[i + 1 :],
            identify,
            **kwargs,
        )
        for i in range(3)
    ]
    return nodes, ports


def all_connected(nodes: list[Node]) -> bool:
    names = {n.name for n in nodes}
    return all(n.pm.connected() == sorted(names - {n.name}) for n in nodes)


async def mesh(nodes: list[Node]) -> None:
    """Wait for the full mesh on the connections it settles on (so nothing sent is lost)."""
    await wait_until(lambda: all_connected(nodes) and settled(nodes), what="settled mesh")


def settled(nodes: list[Node]) -> bool:
    return all(
        conn.outbound == (n.name < peer) for n in nodes for peer, conn in n.pm._conns.items()
    )


async def raw_client(
    layout: NetworkLayout, port: int, cred: Credential | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection with ``cred`` (default: the spare node certificate), hellos exchanged."""
    spare = cred or layout.nodes[3].credential
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client_context(spare.cert, spare.key, cas(layout))
    )
    assert (await read_frame(reader)) == HELLO[4:]
    writer.write(HELLO)
    await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 3.0) -> bool:
    """True if the server ends the stream (keepalives and other frames are skipped)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                if not await reader.read(65536):
                    return True
    except (ConnectionError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("use_uvloop", [True, False], ids=["uvloop", "asyncio"])
def test_three_nodes_connect_and_deliver(consortium: NetworkLayout, use_uvloop: bool) -> None:
    nodes, _ = trio(consortium)
    a, b, c = nodes

    async def body() -> None:
        # Whatever the dialling race, every pair settles on the connection dialled by the
        # smaller name, on both sides.
        await wait_until(lambda: all_connected(nodes) and settled(nodes), what="settled mesh")
        kept = {n.name: dict(n.pm._conns) for n in nodes}
        for x in nodes:
            for y in nodes:
                if x is not y:
                    cx, cy = kept[x.name][y.name], kept[y.name][x.name]
                    assert cx.writer.get_extra_info("sockname") == cy.writer.get_extra_info(
                        "peername"
                    )
                    assert cx.outbound != cy.outbound
                    tls = cx.writer.get_extra_info("ssl_object")
                    assert tls.version() == "TLSv1.3"
                    cert = parse_certificate(peer_certificate_der(tls))
                    assert cert.name == y.name
                    assert cert.public_key_algorithm == ED25519_OID
        # ... and stays put: no flapping between duplicate connections.
        await asyncio.sleep(0.3)
        assert {n.name: dict(n.pm._conns) for n in nodes} == kept

        assert a.pm.broadcast(Message("status", (7, 1))) == 2
        assert b.pm.send(c.name, Message("vote", b"vote-from-b"))
        assert not b.pm.send("nobody", Message("vote", b"v"))
        # Never sends what peers must reject (logged, not raised into the node).
        assert not b.pm.send(c.name, Message("vote", b""))
        assert b.pm.broadcast(Message("status", (-1, 0))) == 0
        assert set(a.connects) == {b.name, c.name}
        await wait_until(lambda: b.got("status") and c.got("status") and c.got("vote"))
        assert b.got("status") == c.got("status") == [(a.name, (7, 1))]
        assert c.got("vote") == [(b.name, b"vote-from-b")]
        assert a.got("vote") == [] and a.got("status") == []

        # An exception in on_message is logged; the reader goes on.
        assert a.pm.send(b.name, Message("evidence", b"boom"))
        assert a.pm.send(b.name, Message("evidence", b"after"))
        await wait_until(lambda: b.got("evidence") == [(a.name, b"after")])
        assert all_connected(nodes)

    run(lambda: stopping(nodes, body), use_uvloop=use_uvloop)


def test_duplicate_connection_does_not_displace_the_preferred_one(
    consortium: NetworkLayout,
) -> None:
    nodes, ports = trio(consortium)
    a, b, _c = nodes

    async def body() -> None:
        await wait_until(lambda: all_connected(nodes) and settled(nodes), what="settled mesh")
        kept = a.pm._conns[b.name]
        # A second connection from b's certificate to a: it was dialled by the larger name,
        # so a keeps the one it dialled itself.
        reader, writer = await raw_client(consortium, ports[0], consortium.nodes[1].credential)
        try:
            assert await closed_by_server(reader)
        finally:
            writer.close()
        assert a.pm._conns[b.name] is kept and not kept.closing
        assert a.pm.send(b.name, Message("status", (9, 0)))
        await wait_until(lambda: b.got("status") == [(a.name, (9, 0))])

    run(lambda: stopping(nodes, body))


def test_send_queue_is_bounded(consortium: NetworkLayout) -> None:
    nodes, _ = trio(consortium, send_queue_size=4)
    a, b, _c = nodes

    async def body() -> None:
        await mesh(nodes)
        # No await in between: the writer cannot run, so the queue fills.
        results = [a.pm.send(b.name, Message("status", (i, 0))) for i in range(10)]
        assert results == [True] * 4 + [False] * 6
        await wait_until(lambda: len(b.got("status")) == 4)
        assert b.got("status") == [(a.name, (i, 0)) for i in range(4)]  # in order

    run(lambda: stopping(nodes, body))


def test_restarted_peer_reconnects(consortium: NetworkLayout) -> None:
    nodes, ports = trio(consortium)
    a, b, c = nodes

    async def body() -> None:
        await mesh(nodes)
        await c.pm.stop()
        await wait_until(lambda: a.pm.connected() == [b.name] and b.pm.connected() == [a.name])
        assert not a.pm.send(c.name, Message("status", (1, 0)))
        c2 = Node(
            consortium.nodes[2].credential,
            cas(consortium),
            ports[2],
            ports[:2],
            node_identify(consortium),
        )
        nodes[2] = c2
        await c2.pm.start()
        await wait_until(lambda: all_connected(nodes) and settled(nodes), what="reconnection")
        assert a.pm.send(c2.name, Message("status", (2, 0)))
        await wait_until(lambda: c2.got("status") == [(a.name, (2, 0))])

    run(lambda: stopping(nodes, body))


def test_node_of_another_consortium_cannot_connect(
    consortium: NetworkLayout, foreign: NetworkLayout
) -> None:
    ports = free_ports(3)
    identify = node_identify(consortium)
    a = Node(
        consortium.nodes[0].credential, cas(consortium), ports[0], [ports[1], ports[2]], identify
    )
    b = Node(consortium.nodes[1].credential, cas(consortium), ports[1], [ports[0]], identify)
    # The intruder's certificate claims the same organisation and node name as ``a``
    # (O=org1, CN=org1-node0) under its own CA. It trusts both consortia and accepts anyone,
    # so only the consortium side can keep it out.
    intruder = Node(
        foreign.nodes[0].credential,
        cas(foreign) + cas(consortium),
        ports[2],
        [ports[0], ports[1]],
        accept_anyone,
    )
    assert intruder.name == a.name
    nodes = [a, b, intruder]

    async def body() -> None:
        await wait_until(
            lambda: a.pm.connected() == [b.name] and b.pm.connected() == [a.name] and settled(nodes)
        )
        # Let the intruder dial a few times (its TLS client handshake succeeds and it sees our
        # certificates, proving it really reached our TLS layer).
        await wait_until(lambda: len(intruder.identified) >= 4, what="intruder attempts")
        assert intruder.pm.connected() == []
        assert intruder.pm.broadcast(Message("status", (999, 0))) == 0
        assert a.pm.connected() == [b.name] and b.pm.connected() == [a.name]
        # The consortium side never even ran identify on the intruder: TLS refused it.
        assert None not in a.identified and None not in b.identified
        assert all(peer == b.name for peer, _ in a.received)
        assert all(peer == a.name for peer, _ in b.received)
        assert a.pm.broadcast(Message("status", (1, 0))) == 1
        await wait_until(lambda: b.got("status") == [(a.name, (1, 0))])

    run(lambda: stopping(nodes, body))


def test_client_certificate_cannot_connect_as_node(consortium: NetworkLayout) -> None:
    ports = free_ports(2)
    a = Node(
        consortium.nodes[0].credential, cas(consortium), ports[0], [], node_identify(consortium)
    )
    client_cred = consortium.org("org2").clients[0]
    assert client_cred.role == "client"
    impostor = Node(client_cred, cas(consortium), ports[1], [ports[0]], accept_anyone)
    nodes = [a, impostor]

    async def body() -> None:
        # TLS accepts the certificate (same CAs); the membership check refuses the role.
        await wait_until(lambda: a.identified.count(None) >= 3, what="refusals")
        assert set(a.identified) == {None}
        assert a.pm.connected() == [] and impostor.pm.connected() == []
        assert a.received == [] and impostor.received == []

    run(lambda: stopping(nodes, body))


def test_oversized_frame_closes_that_connection_only(consortium: NetworkLayout) -> None:
    nodes, ports = trio(consortium, max_frame_bytes=64 * 1024)
    a, b, _c = nodes
    spare = consortium.nodes[3].credential.name

    async def body() -> None:
        await mesh(nodes)
        # Nor a frame over the limit.
        assert a.pm.broadcast(Message("proposal", b"p" * 64 * 1024)) == 0
        assert not a.pm.send(b.name, Message("proposal", b"p" * 64 * 1024))
        reader, writer = await raw_client(consortium, ports[0])
        try:
            await wait_until(lambda: spare in a.pm.connected(), what="raw client registered")
            # Only a header announcing 64 KiB + 1: the node must close without the body.
            writer.write(struct.pack(">I", 64 * 1024 + 1))
            await writer.drain()
            assert await closed_by_server(reader)
        finally:
            writer.close()
        await wait_until(lambda: spare not in a.pm.connected())
        assert all_connected(nodes)
        assert b.pm.send(a.name, Message("status", (3, 0)))
        await wait_until(lambda: a.got("status") == [(b.name, (3, 0))])
        assert all(peer != spare for peer, _ in a.received)

    run(lambda: stopping(nodes, body))


@pytest.mark.parametrize(
    "garbage",
    [
        encode_frame(b"\xc1\xc1garbage"),  # a frame whose payload is not msgpack
        encode_frame(encode_message(Message("status", (1, 0)))[:-1] + b"\xff"),  # bad payload
        b"\xde\xad\xbe\xef" * 16,  # not even a frame
    ],
    ids=["undecodable-frame", "bad-payload", "raw-bytes"],
)
def test_garbage_closes_that_connection_only(consortium: NetworkLayout, garbage: bytes) -> None:
    nodes, ports = trio(consortium)
    a, b, _c = nodes
    spare = consortium.nodes[3].credential.name

    async def body() -> None:
        await mesh(nodes)
        reader, writer = await raw_client(consortium, ports[0])
        try:
            await wait_until(lambda: spare in a.pm.connected(), what="raw client registered")
            writer.write(garbage)
            await writer.drain()
            assert await closed_by_server(reader)
        finally:
            writer.close()
        await wait_until(lambda: spare not in a.pm.connected())
        assert all_connected(nodes)
        assert a.received == []
        assert b.pm.send(a.name, Message("status", (4, 0)))
        await wait_until(lambda: a.got("status") == [(b.name, (4, 0))])

    run(lambda: stopping(nodes, body))


def test_garbage_before_hello_and_without_tls(consortium: NetworkLayout) -> None:
    nodes, ports = trio(consortium)
    a, _b, _c = nodes
    spare = consortium.nodes[3].credential

    async def body() -> None:
        await mesh(nodes)
        # Plain TCP garbage: the TLS handshake fails.
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
        writer.write(b"GET / HTTP/1.1\r\n\r\n" + b"\x00" * 100)
        await writer.drain()
        assert await closed_by_server(reader)
        writer.close()
        # TLS, then garbage instead of a hello.
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", ports[0], ssl=client_context(spare.cert, spare.key, cas(consortium))
        )
        writer.write(b"\xff" * 64)
        await writer.drain()
        assert await closed_by_server(reader)
        writer.close()
        # TLS 1.2 with a valid consortium certificate: only TLS 1.3 is spoken.
        tls12 = client_context(spare.cert, spare.key, cas(consortium))
        tls12.minimum_version = tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.open_connection("127.0.0.1", ports[0], ssl=tls12)
        # TLS without a client certificate.
        no_cert = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        no_cert.check_hostname = False
        no_cert.verify_mode = ssl.CERT_NONE
        with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
            reader, writer = await asyncio.open_connection("127.0.0.1", ports[0], ssl=no_cert)
            try:
                writer.write(HELLO)
                await writer.drain()
                if await closed_by_server(reader):
                    raise ConnectionError("closed")
            finally:
                writer.close()
        assert spare.name not in a.pm.connected()
        assert all_connected(nodes)

    run(lambda: stopping(nodes, body))


def test_drop_disconnects_and_reconnect_is_rate_limited(consortium: NetworkLayout) -> None:
    nodes, _ = trio(consortium, drop_backoff_s=0.6)
    a, b, c = nodes

    async def body() -> None:
        await mesh(nodes)
        seen_a, seen_b = len(a.disconnects), len(b.disconnects)
        dropped_at = time.monotonic()
        a.pm.drop(b.name, "sent invalid data")
        assert b.name not in a.pm.connected()
        assert not a.pm.send(b.name, Message("status", (1, 0)))
        await wait_until(lambda: a.name not in b.pm.connected(), what="b sees the drop")
        assert a.pm.connected() == [c.name]
        assert a.disconnects[seen_a:] == [b.name] and b.disconnects[seen_b:] == [a.name]
        connects_before = a.connects.count(b.name)
        await wait_until(
            lambda: all_connected(nodes) and settled(nodes), what="reconnection after the ban"
        )
        assert time.monotonic() - dropped_at >= 0.55
        assert a.connects.count(b.name) > connects_before
        assert a.pm.send(b.name, Message("status", (5, 0)))
        await wait_until(lambda: b.got("status") == [(a.name, (5, 0))])

    run(lambda: stopping(nodes, body))


def test_own_address_in_peer_list_is_ignored(consortium: NetworkLayout) -> None:
    ports = free_ports(2)
    identify = node_identify(consortium)
    a = Node(
        consortium.nodes[0].credential, cas(consortium), ports[0], [ports[0], ports[1]], identify
    )
    b = Node(consortium.nodes[1].credential, cas(consortium), ports[1], [ports[0]], identify)
    nodes = [a, b]

    async def body() -> None:
        await wait_until(lambda: a.pm.connected() == [b.name] and b.pm.connected() == [a.name])
        await asyncio.sleep(0.2)
        assert a.pm.connected() == [b.name]
        assert a.name not in a.pm.connected()

    run(lambda: stopping(nodes, body))


def test_stop_ends_every_task(consortium: NetworkLayout) -> None:
    nodes, _ = trio(consortium)

    async def body() -> None:
        await mesh(nodes)

    async def main() -> None:
        await stopping(nodes, body)
        for n in nodes:
            assert n.pm._tasks == set()
            assert n.pm.connected() == []
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []

    run(main)


def test_keepalives_hold_idle_links_and_silent_peers_time_out(consortium: NetworkLayout) -> None:
    nodes, ports = trio(consortium, keepalive_s=0.1, idle_timeout_s=0.4)
    a, _b, _c = nodes
    spare = consortium.nodes[3].credential.name

    async def body() -> None:
        await mesh(nodes)
        kept = {n.name: dict(n.pm._conns) for n in nodes}
        # A registered peer that never sends anything (not even keepalives) is cut off.
        reader, writer = await raw_client(consortium, ports[0])
        try:
            await wait_until(lambda: spare in a.pm.connected(), what="raw client registered")
            started = time.monotonic()
            assert await closed_by_server(reader, timeout=3.0)
            assert time.monotonic() - started >= 0.3
        finally:
            writer.close()
        # Meanwhile the idle but live links carried keepalives and were never replaced.
        assert time.monotonic() - started >= 0.3
        assert {n.name: dict(n.pm._conns) for n in nodes} == kept

    run(lambda: stopping(nodes, body))
