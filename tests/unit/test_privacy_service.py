"""Dissemination and reconciliation between member nodes, on a chain in memory with one private
store per node and peer links that carry real ``private`` messages: a write reaches every
member node and no other; a member that missed it pulls it after the commit; answers that do
not hash to the committed digest, pulls by non-members and pushes of collections a node is not
in are dropped; purges by schedule and by vote delete everywhere; leaving and joining a
collection drops and fetches its values."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.unit.privacy_world import HOSPITALS, World, make_world, propose

from yulian.execution.executor import ExecTx
from yulian.net.messages import Message, decode_message, encode_message
from yulian.privacy.service import PrivateDataRefused, PrivateDataService
from yulian.privacy.store import PrivateItem, PrivateStore
from yulian.privacy.wire import PrivateMessage, Wanted
from yulian.sdk import Wallet
from yulian.types.privacy import CollectionDef


class ChainView:
    """The harness's committed state as a node's ledger answers it."""

    def __init__(self, world: World) -> None:
        self._h = world.h

    def get(self, key: bytes) -> bytes | None:
        return self._h.ledger.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return self._h.ledger.history(key, limit)

    def height(self) -> int:
        return self._h.height


@dataclass
class Net:
    nodes: dict[str, PrivateDataService] = field(default_factory=dict)
    certs: dict[str, bytes] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    queue: list[tuple[str, str, bytes]] = field(default_factory=list)
    sent: list[tuple[str, str, PrivateMessage]] = field(default_factory=list)
    mempool: list[ExecTx] = field(default_factory=list)

    def links(self, me: str) -> Links:
        return Links(self, me)

    def flush(self) -> None:
        while self.queue:
            src, dst, frame = self.queue.pop(0)
            if dst not in self.down and src not in self.down:
                self.nodes[dst].on_message(src, decode_message(frame).payload)


@dataclass
class Links:
    net: Net
    me: str

    def connected(self) -> list[str]:
        if self.me in self.net.down:
            return []
        return sorted(n for n in self.net.nodes if n != self.me and n not in self.net.down)

    def send(self, peer: str, msg: Message) -> bool:
        from yulian.privacy.wire import decode_private

        self.net.sent.append((self.me, peer, decode_private(msg.payload)))
        self.net.queue.append((self.me, peer, encode_message(msg)))
        return True

    def certificate(self, peer: str) -> bytes | None:
        return self.net.certs.get(peer)


@pytest.fixture(params=["standard", "gm"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[World, Net]:
    world = make_world(request.param)
    net = Net()
    for org in ("org1", "org2", "org3"):
        name = f"{org}-node0"
        node = world.h.member(org, name, role="node")
        net.certs[name] = node.cert
        net.nodes[name] = PrivateDataService(
            PrivateStore(tmp_path / name, request.param),
            ledger=ChainView(world),
            suite=world.h.suite,
            chain_id=world.chain_id,
            org=org,
            submit=lambda env: _admit(world, net, env),
            peers=lambda name=name: net.links(name),  # type: ignore[misc]
        )
    return world, net


async def _admit(world: World, net: Net, envelope: bytes) -> bytes:
    tx = world.h.admit(envelope)
    net.mempool.append(tx)
    return tx.tx_id


def write(world: World, net: Net, via: str, wallet: Wallet, key: str, value: bytes) -> PrivateItem:
    """A private write submitted through node ``via``, committed, every node told."""
    h = world.h
    item = PrivateItem("hospitals", key, secrets.token_bytes(32), value)
    digest = net.nodes[via].digest(item)
    envelope = h.sign(wallet, "collections", "put", "hospitals", key, digest, len(value), "P-1")
    asyncio.run(net.nodes[via].submit(envelope, [item]))
    net.flush()
    (result,) = h.block(*net.mempool)
    net.mempool.clear()
    assert result.ok, result
    commit(world, net)
    return item


def commit(world: World, net: Net) -> None:
    for name, node in net.nodes.items():
        if name not in net.down:
            node.on_commit(world.h.height)
    net.flush()


def held(net: Net, name: str) -> list[bytes]:
    return [
        i.value
        for d, *_ in net.nodes[name].store.held()
        if (i := net.nodes[name].store.item(d)) is not None
    ]


def test_a_write_reaches_every_member_node_and_no_other(setup: tuple[World, Net]) -> None:
    world, net = setup
    secret = b"blood type AB-, allergic to penicillin"
    write(world, net, "org1-node0", world.doctor_a, "r1", secret)
    assert held(net, "org1-node0") == [secret] and held(net, "org2-node0") == [secret]
    assert held(net, "org3-node0") == [] and net.nodes["org3-node0"].store.pending_count() == 0
    # nothing was ever sent to the registry's node
    assert [m for _, dst, m in net.sent if dst == "org3-node0"] == []
    assert net.nodes["org2-node0"].status()["held"] == {"hospitals": 1}


def test_refused_submissions_keep_nothing(setup: tuple[World, Net]) -> None:
    world, net = setup
    h = world.h
    item = PrivateItem("hospitals", "r1", secrets.token_bytes(32), b"v")
    digest = net.nodes["org1-node0"].digest(item)
    envelope = h.sign(world.doctor_a, "collections", "put", "hospitals", "r1", digest, 1, "P-1")
    cases = [
        ("org3-node0", [item], "not_a_member"),
        ("org1-node0", [PrivateItem("nope", "r1", item.salt, b"v")], "unknown_collection"),
        ("org1-node0", [PrivateItem("hospitals", "r1", item.salt, b"w")], "digest_not_in_tx"),
        ("org1-node0", [PrivateItem("hospitals", "r1", b"s", b"v")], "malformed_request"),
        ("org1-node0", [], "malformed_request"),
    ]
    for via, items, code in cases:
        with pytest.raises(PrivateDataRefused) as refused:
            asyncio.run(net.nodes[via].submit(envelope, items))
        assert refused.value.code == code
    long_lived = h.member("org1", "dr-slow", attributes={"role": "doctor"}).sign_tx(
        world.chain_id,
        "collections",
        "put",
        ["hospitals", "r1", digest, 1, "P-1"],
        expires_at=h.height + 5000,
    )
    with pytest.raises(PrivateDataRefused) as refused:
        asyncio.run(net.nodes["org1-node0"].submit(long_lived.encode(), [item]))
    assert refused.value.code == "private_ttl_too_long"
    # admission refuses a tx signed by a non-member: the pending value is forgotten
    stranger = h.member("org3", "clerk").sign_tx(
        "another-chain",
        "collections",
        "put",
        ["hospitals", "r1", digest, 1, ""],
        expires_at=h.height + 10,
    )
    with pytest.raises(Exception, match="wrong_chain"):
        asyncio.run(net.nodes["org1-node0"].submit(stranger.encode(), [item]))
    for node in net.nodes.values():
        assert node.store.pending_count() == 0 and node.store.held() == []
    assert net.queue == [] and net.mempool == []


def test_a_member_that_missed_a_write_pulls_it_and_checks_it(setup: tuple[World, Net]) -> None:
    world, net = setup
    net.down.add("org2-node0")
    item = write(world, net, "org1-node0", world.doctor_a, "r1", b"x-ray: fracture")
    net.down.discard("org2-node0")
    b = net.nodes["org2-node0"]
    b.on_commit(world.h.height)
    assert b.store.missing_count() == 1 and held(net, "org2-node0") == []
    # a forged answer (another value under the same names) is not kept
    forged = PrivateMessage("items", items=(PrivateItem("hospitals", "r1", item.salt, b"fake"),))
    b.on_message("org1-node0", forged.encode())
    assert held(net, "org2-node0") == [] and b.store.missing_count() == 1
    # nor an answer from a non-member's node
    b.on_message("org3-node0", PrivateMessage("items", items=(item,)).encode())
    assert held(net, "org2-node0") == []
    assert b.reconcile() == 1
    pulls = [(src, dst) for src, dst, m in net.sent if m.kind == "pull"]
    assert pulls == [("org2-node0", "org1-node0")]  # never asked of the registry's node
    net.flush()
    assert held(net, "org2-node0") == [b"x-ray: fracture"] and b.store.missing_count() == 0


def test_pulls_from_non_members_and_for_other_versions_get_nothing(
    setup: tuple[World, Net],
) -> None:
    world, net = setup
    item = write(world, net, "org1-node0", world.doctor_a, "r1", b"v1")
    digest = net.nodes["org1-node0"].digest(item)
    net.sent.clear()
    for src, wanted in (
        ("org3-node0", Wanted("hospitals", "r1", digest)),  # not a member
        ("org2-node0", Wanted("hospitals", "r2", digest)),  # wrong key
        ("org2-node0", Wanted("hospitals", "r1", secrets.token_bytes(32))),  # no such version
    ):
        net.nodes["org1-node0"].on_message(src, PrivateMessage("pull", wanted=(wanted,)).encode())
    assert net.sent == []
    # a push of a collection the receiver is not in is dropped
    net.nodes["org3-node0"].on_message("org1-node0", PrivateMessage("push", items=(item,)).encode())
    assert net.nodes["org3-node0"].store.pending_count() == 0


def test_a_new_version_replaces_the_old_one_on_every_member(setup: tuple[World, Net]) -> None:
    world, net = setup
    write(world, net, "org1-node0", world.doctor_a, "r1", b"v1")
    write(world, net, "org2-node0", world.doctor_b, "r1", b"v2")
    assert held(net, "org1-node0") == [b"v2"] and held(net, "org2-node0") == [b"v2"]


def test_purges_by_schedule_and_by_vote_delete_everywhere(setup: tuple[World, Net]) -> None:
    world, net = setup
    brief = CollectionDef.from_view({**HOSPITALS.view(), "name": "brief", "blocks_to_live": 2})
    assert propose(world.h, "collections", "define", brief.to_value())["status"] == "applied"
    item = PrivateItem("brief", "k", secrets.token_bytes(32), b"short-lived")
    node = net.nodes["org1-node0"]
    digest = node.digest(item)
    envelope = world.h.sign(world.doctor_a, "collections", "put", "brief", "k", digest, 11, "")
    asyncio.run(node.submit(envelope, [item]))
    net.flush()
    world.h.block(*net.mempool)
    net.mempool.clear()
    commit(world, net)
    assert held(net, "org2-node0") == [b"short-lived"]
    world.h.advance(blocks=2)
    commit(world, net)
    assert held(net, "org1-node0") == [] and held(net, "org2-node0") == []
    assert node.holding("brief", digest).state == "purged"
    write(world, net, "org1-node0", world.doctor_a, "r1", b"to be forgotten")
    assert propose(world.h, "collections", "purge", "hospitals", "r1")["status"] == "applied"
    commit(world, net)
    assert held(net, "org1-node0") == [] and held(net, "org2-node0") == []


def test_leaving_and_joining_a_collection(setup: tuple[World, Net]) -> None:
    world, net = setup
    for n in ("org1-node0", "org2-node0", "org3-node0"):
        net.nodes[n].catch_up()
    write(world, net, "org1-node0", world.doctor_a, "r1", b"kept by members")
    moved = CollectionDef.from_view({**HOSPITALS.view(), "members": ["org1", "org3"]})
    assert propose(world.h, "collections", "amend", moved.to_value())["status"] == "applied"
    commit(world, net)
    assert held(net, "org2-node0") == []  # left: dropped
    assert net.nodes["org3-node0"].store.missing_count() == 1  # joined: wants it
    net.nodes["org3-node0"].reconcile()
    net.flush()
    assert held(net, "org3-node0") == [b"kept by members"]
