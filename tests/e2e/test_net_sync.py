"""Block sync decisions with fake peers and fake time: honest, lying and withholding peers."""

from __future__ import annotations

import pytest

from yulian.net.messages import MAX_GET_BLOCKS
from yulian.net.sync import BlockSyncer, InvalidSyncData, serve_get_blocks


def block(h: int) -> tuple[bytes, bytes]:
    return (b"block-%d" % h, b"commit-%d" % h)


class FakeNet:
    """A node at height ``height`` and peers that answer (or not) according to their role."""

    def __init__(self, peers: dict[str, tuple[int, str]], *, max_in_flight: int = 4) -> None:
        self.peers = peers  # name -> (height, behaviour: honest | liar | withhold | empty)
        self.height = 0
        self.now = 0.0
        self.sent: list[tuple[str, int, int]] = []
        self.dropped: list[tuple[str, str]] = []
        self.connected = set(peers)
        self.syncer = BlockSyncer(
            self.request,
            self.apply,
            self.drop,
            max_in_flight=max_in_flight,
            timeout_s=5.0,
            penalty_s=60.0,
            clock=lambda: self.now,
        )
        for name, (height, _) in peers.items():
            self.syncer.on_status(name, height)

    def request(self, peer: str, from_height: int, count: int) -> bool:
        if peer not in self.connected:
            return False
        self.sent.append((peer, from_height, count))
        return True

    def apply(self, block_bytes: bytes, commit_bytes: bytes) -> None:
        want = block(self.height + 1)
        if (block_bytes, commit_bytes) != want:
            raise InvalidSyncData(f"height {self.height + 1}: block or commit does not verify")
        self.height += 1

    def drop(self, peer: str, reason: str) -> None:
        self.dropped.append((peer, reason))
        self.connected.discard(peer)

    def answer(self, peer: str, from_height: int, count: int) -> None:
        height, behaviour = self.peers[peer]
        if behaviour == "withhold":
            return
        if behaviour == "empty":
            self.syncer.on_blocks(peer, [])
            return
        pairs = serve_get_blocks(lambda h: block(h) if h <= height else None, from_height, count)
        if behaviour == "liar":
            pairs = [(b"forged-" + b, c) for b, c in pairs]
        self.syncer.on_blocks(peer, pairs)

    def run(self, *, steps: int = 500, tick: float = 1.0) -> None:
        """Issue requests, deliver answers in order, let time pass; bounded."""
        for _ in range(steps):
            issued = []
            while (req := self.syncer.next_request(self.height)) is not None:
                issued.append(req)
                assert len(issued) <= 64, "next_request must stop issuing"
            if not issued and not self.syncer.in_flight:
                return
            for req in issued:
                self.answer(*req)
            self.now += tick
        raise AssertionError("sync did not settle")


def test_syncs_from_the_peer_that_is_ahead() -> None:
    net = FakeNet({"behind": (0, "honest"), "ahead": (150, "honest"), "level": (0, "honest")})
    net.run()
    assert net.height == 150
    assert {peer for peer, _, _ in net.sent} == {"ahead"}
    assert net.sent[0] == ("ahead", 1, MAX_GET_BLOCKS)
    assert all(count <= MAX_GET_BLOCKS for _, _, count in net.sent)
    assert net.dropped == []
    assert net.syncer.next_request(net.height) is None


def test_lying_peer_is_dropped_and_another_used() -> None:
    # "a-liar" sorts first, so it is asked first.
    net = FakeNet({"a-liar": (300, "liar"), "honest": (300, "honest")}, max_in_flight=1)
    net.run()
    assert net.height == 300
    assert [p for p, _ in net.dropped] == ["a-liar"]
    assert "does not verify" in net.dropped[0][1]
    assert net.sent[0][0] == "a-liar"
    assert all(peer == "honest" for peer, _, _ in net.sent[1:])
    # Penalised: even if it reconnects and announces again, it is not asked while penalised.
    net.connected.add("a-liar")
    net.syncer.on_status("a-liar", 1000)
    net.syncer.on_status("honest", 300)
    assert net.syncer.best_height == 300
    assert net.syncer.next_request(net.height) is None


def test_withholding_peer_times_out_and_another_is_used() -> None:
    net = FakeNet({"a-silent": (100, "withhold"), "honest": (100, "honest")}, max_in_flight=1)
    assert net.syncer.next_request(0) == ("a-silent", 1, MAX_GET_BLOCKS)
    net.now += 4.9  # not yet timed out: nothing new while the one request is in flight
    assert net.syncer.next_request(0) is None
    net.now += 0.2
    assert net.syncer.next_request(0) == ("honest", 1, MAX_GET_BLOCKS)
    assert [p for p, _ in net.dropped] == ["a-silent"]
    assert "no answer" in net.dropped[0][1]
    net.answer("honest", 1, MAX_GET_BLOCKS)
    # A late answer from the withholding peer is ignored, even if it is valid.
    assert net.syncer.on_blocks("a-silent", [block(65)]) == 0
    net.run()
    assert net.height == 100


def test_withholding_peers_with_parallel_requests() -> None:
    peers = {f"silent{i}": (200, "withhold") for i in range(3)}
    peers["honest"] = (200, "honest")
    net = FakeNet(peers, max_in_flight=4)
    net.run(tick=1.0)
    assert net.height == 200
    assert sorted(p for p, _ in net.dropped) == ["silent0", "silent1", "silent2"]


def test_peer_that_serves_nothing_although_ahead_is_dropped() -> None:
    net = FakeNet({"a-empty": (50, "empty"), "honest": (50, "honest")}, max_in_flight=1)
    net.run()
    assert net.height == 50
    assert [p for p, _ in net.dropped] == ["a-empty"]


def test_more_blocks_than_requested_is_a_lie() -> None:
    net = FakeNet({"p": (100, "honest")})
    assert net.syncer.next_request(0) == ("p", 1, MAX_GET_BLOCKS)
    too_many = [block(h) for h in range(1, MAX_GET_BLOCKS + 2)]
    assert net.syncer.on_blocks("p", too_many) == 0
    assert net.height == 0
    assert [p for p, _ in net.dropped] == ["p"]


def test_unsolicited_blocks_are_ignored() -> None:
    net = FakeNet({"p": (10, "honest")})
    assert net.syncer.on_blocks("p", [block(1)]) == 0
    assert net.syncer.on_blocks("stranger", [block(1)]) == 0
    assert net.height == 0 and net.dropped == []


def test_in_flight_requests_are_bounded_and_disjoint() -> None:
    peers = {f"p{i}": (10_000, "withhold") for i in range(10)}
    net = FakeNet(peers, max_in_flight=3)
    issued = []
    while (req := net.syncer.next_request(0)) is not None:
        issued.append(req)
    assert len(issued) == 3
    assert len({p for p, _, _ in issued}) == 3
    assert [(f, c) for _, f, c in issued] == [(1, 64), (65, 64), (129, 64)]


def test_out_of_order_answers_are_applied_in_order() -> None:
    net = FakeNet({"a": (128, "honest"), "b": (128, "honest")}, max_in_flight=2)
    first = net.syncer.next_request(0)
    second = net.syncer.next_request(0)
    assert first is not None and second is not None
    net.answer(*second)  # heights 65..128 arrive first: buffered, nothing applied yet
    assert net.height == 0
    net.answer(*first)
    assert net.height == 128


def test_disconnect_frees_the_range_for_another_peer() -> None:
    net = FakeNet({"a": (64, "honest"), "b": (64, "honest")}, max_in_flight=1)
    assert net.syncer.next_request(0) == ("a", 1, 64)
    net.syncer.on_disconnect("a")
    net.connected.discard("a")
    assert net.syncer.next_request(0) == ("b", 1, 64)
    assert net.dropped == []


def test_unreachable_peer_is_skipped() -> None:
    net = FakeNet({"a": (64, "honest"), "b": (64, "honest")})
    net.connected.discard("a")  # request() returns False for it
    assert net.syncer.next_request(0) == ("b", 1, 64)


def test_progress_by_consensus_skips_heights() -> None:
    net = FakeNet({"a": (100, "honest")})
    net.height = 90  # the node caught up another way
    assert net.syncer.next_request(net.height) == ("a", 91, 10)


@pytest.mark.parametrize(
    ("stored", "from_height", "count", "max_bytes", "want"),
    [
        (100, 1, 10, 1 << 20, list(range(1, 11))),
        (100, 95, 10, 1 << 20, list(range(95, 101))),
        (100, 101, 10, 1 << 20, []),
        (100, 0, 10, 1 << 20, []),
        (100, 1, 0, 1 << 20, []),
        (1000, 1, 10_000, 1 << 30, list(range(1, MAX_GET_BLOCKS + 1))),
        (100, 1, 10, 40, [1, 2]),  # each pair is 15..17 bytes
        (100, 1, 10, 1, [1]),  # one block is always served
    ],
)
def test_serve_get_blocks_bounds(
    stored: int, from_height: int, count: int, max_bytes: int, want: list[int]
) -> None:
    def read(h: int) -> tuple[bytes, bytes] | None:
        return block(h) if h <= stored else None

    got = serve_get_blocks(read, from_height, count, max_bytes=max_bytes)
    assert got == [block(h) for h in want]


def test_liar_among_parallel_requests_is_replaced() -> None:
    peers = {"a-liar": (300, "liar"), "honest1": (300, "honest"), "honest2": (300, "honest")}
    net = FakeNet(peers, max_in_flight=3)
    net.run()
    assert net.height == 300
    assert [p for p, _ in net.dropped] == ["a-liar"]
    liar_requests = [r for r in net.sent if r[0] == "a-liar"]
    assert len(liar_requests) == 1


def test_wrong_blocks_from_an_honest_looking_peer_never_reach_apply_twice() -> None:
    applied: list[bytes] = []

    def apply(block_bytes: bytes, commit_bytes: bytes) -> None:
        if block_bytes.startswith(b"forged"):
            raise InvalidSyncData("bad signature")
        applied.append(block_bytes)

    dropped: list[str] = []
    syncer = BlockSyncer(lambda p, f, c: True, apply, lambda p, r: dropped.append(p))
    syncer.on_status("p", 3)
    assert syncer.next_request(0) == ("p", 1, 3)
    assert syncer.on_blocks("p", [block(1), (b"forged-2", b"c"), block(3)]) == 1
    assert applied == [b"block-1"] and dropped == ["p"]
    # Block 3 from the dropped peer was discarded with it, not applied after a later block 2.
    syncer.on_status("q", 3)
    assert syncer.next_request(1) == ("q", 2, 2)
