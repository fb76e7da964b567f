"""Block sync decisions (``net.sync.BlockSyncer``) with fake peers and fake time: honest,
lying, withholding, slow and oversized peers; replies served in parts; bounded buffers."""

from __future__ import annotations

import pytest

from yulian.net.messages import MAX_GET_BLOCKS, MAX_SYNC_REPLY_BYTES
from yulian.net.sync import (
    BlockSyncer,
    Penalty,
    SyncRequest,
    serve_get_blocks,
)

TIMEOUT_MS = 5_000
PENALTY_MS = 60_000


def block(h: int, size: int = 0) -> tuple[bytes, bytes]:
    return (b"block-%d" % h + b"." * size, b"commit-%d" % h)


class FakeNet:
    """A node at ``height`` and peers that answer (or not) according to their behaviour:
    honest | liar | withhold | empty | oversized | slow | flood."""

    def __init__(
        self,
        peers: dict[str, tuple[int, str]],
        *,
        max_in_flight: int = 4,
        reply_bytes: int = MAX_SYNC_REPLY_BYTES,
        block_size: int = 0,
    ) -> None:
        self.peers = peers
        self.block_size = block_size
        self.height = 0
        self.now = 0
        self.sent: list[SyncRequest] = []
        self.penalties: list[Penalty] = []
        self.late: list[tuple[int, str, SyncRequest]] = []  # slow answers: (due, peer, request)
        self.syncer = BlockSyncer(
            max_in_flight=max_in_flight,
            reply_bytes=reply_bytes,
            timeout_ms=TIMEOUT_MS,
            penalty_ms=PENALTY_MS,
        )
        for name, (height, _) in peers.items():
            self.syncer.on_status(name, height)

    @property
    def dropped(self) -> list[str]:
        return [p.peer for p in self.penalties if p.misbehaved]

    @property
    def skipped(self) -> list[str]:
        return [p.peer for p in self.penalties if not p.misbehaved]

    def stored(self, peer: str, h: int) -> tuple[bytes, bytes] | None:
        return block(h, self.block_size) if h <= self.peers[peer][0] else None

    def apply_ready(self) -> None:
        while (ready := self.syncer.next_ready(self.height)) is not None:
            if (ready.block, ready.commit) != block(ready.height, self.block_size):
                self.penalties.append(self.syncer.reject(ready, "does not verify", self.now))
                return
            self.height += 1

    def answer(self, req: SyncRequest) -> None:
        _, behaviour = self.peers[req.peer]
        if behaviour == "withhold":
            return
        if behaviour == "slow":
            self.late.append((self.now + 2 * TIMEOUT_MS, req.peer, req))
            return
        budget = 1 << 40 if behaviour == "oversized" else req.max_bytes
        pairs = self.serve(req.peer, req.from_height, req.count, budget)
        if behaviour == "empty":
            pairs = []
        elif behaviour == "flood":  # one block more than asked for
            pairs = [
                block(h, self.block_size)
                for h in range(req.from_height, req.from_height + req.count + 1)
            ]
        elif behaviour == "liar":
            pairs = [(b"forged-" + b, c) for b, c in pairs]
        self.deliver(req.peer, pairs)

    def serve(
        self, peer: str, from_height: int, count: int, max_bytes: int
    ) -> list[tuple[bytes, bytes]]:
        return serve_get_blocks(
            lambda h: self.stored(peer, h), from_height, count, max_bytes=max_bytes
        )

    def deliver(self, peer: str, pairs: list[tuple[bytes, bytes]]) -> None:
        self.penalties += self.syncer.on_blocks(peer, pairs, self.now)
        self.apply_ready()

    def poll(self) -> list[SyncRequest]:
        requests, penalties = self.syncer.poll(self.height, self.now)
        self.penalties += penalties
        self.sent += requests
        return requests

    def run(self, *, steps: int = 2_000, tick_ms: int = 1_000) -> None:
        """Issue requests, deliver answers, let time pass; bounded."""
        for _ in range(steps):
            for due, peer, req in [x for x in self.late if x[0] <= self.now]:
                self.late.remove((due, peer, req))
                self.deliver(peer, self.serve(peer, req.from_height, req.count, req.max_bytes))
            issued = self.poll()
            assert len(issued) <= 64, "poll must stop issuing"
            if not issued and not self.syncer.in_flight and not self.late:
                return
            for req in issued:
                self.answer(req)
            self.now += tick_ms
        raise AssertionError("sync did not settle")


def test_syncs_from_the_peer_that_is_ahead() -> None:
    net = FakeNet({"behind": (0, "honest"), "ahead": (150, "honest"), "level": (0, "honest")})
    net.run()
    assert net.height == 150
    assert {r.peer for r in net.sent} == {"ahead"}
    assert net.sent[0] == SyncRequest("ahead", 1, MAX_GET_BLOCKS, MAX_SYNC_REPLY_BYTES)
    assert net.penalties == []
    assert net.syncer.poll(net.height, net.now) == ([], [])


def test_a_range_goes_to_the_lowest_peer_that_has_it() -> None:
    """A peer announcing an inflated height is not preferred over peers at the head."""
    net = FakeNet({"a-inflated": (1_000_000, "withhold"), "head": (40, "honest")})
    first, *rest = net.poll()
    assert first == SyncRequest("head", 1, 40, MAX_SYNC_REPLY_BYTES)
    assert [(r.peer, r.from_height) for r in rest] == [("a-inflated", 41)]  # only it has 41
    for request in (first, *rest):
        net.answer(request)
    net.run()
    assert net.height == 40 and net.skipped == ["a-inflated"]  # asked for 41.., said nothing


def test_replies_are_served_in_parts_within_the_byte_budget() -> None:
    """Blocks of ~1 KiB and a 4 KiB budget: each reply carries a few blocks, the rest of the
    range is asked again, and the node reaches the head without penalising anyone."""
    net = FakeNet({"p": (100, "honest"), "q": (100, "honest")}, reply_bytes=4096, block_size=1000)
    net.run()
    assert net.height == 100 and net.penalties == []
    assert all(r.max_bytes == 4096 for r in net.sent)
    assert len(net.sent) >= 100 // 4  # at most four ~1 KiB blocks per reply


def test_a_block_over_the_budget_is_served_alone() -> None:
    net = FakeNet({"p": (5, "honest")}, reply_bytes=100, block_size=1000)
    net.run()
    assert net.height == 5 and net.penalties == []
    assert len(net.sent) == 5


def test_lying_peer_is_dropped_and_another_used() -> None:
    net = FakeNet({"a-liar": (300, "liar"), "honest": (300, "honest")}, max_in_flight=1)
    net.syncer.on_status("a-liar", 299)  # lower: asked first
    net.run()
    assert net.height == 300
    assert net.dropped == ["a-liar"]
    assert "does not verify" in net.penalties[0].reason
    assert net.sent[0].peer == "a-liar"
    assert all(r.peer == "honest" for r in net.sent[1:])
    # Penalised: even when it announces again, it is not asked while penalised.
    net.syncer.on_status("a-liar", 1000)
    assert net.syncer.is_penalised("a-liar")
    assert net.syncer.best_height == 300
    assert net.syncer.poll(net.height, net.now) == ([], [])


def test_oversized_and_flooding_replies_are_lies() -> None:
    for behaviour in ("oversized", "flood"):
        net = FakeNet(
            {"a-bad": (50, behaviour), "honest": (60, "honest")},
            max_in_flight=1,
            reply_bytes=4096,
            block_size=1000,
        )
        net.run()
        assert net.height == 60, behaviour
        assert net.dropped == ["a-bad"], behaviour
        assert ("budget" if behaviour == "oversized" else "blocks for") in net.penalties[0].reason


def test_withholding_peer_times_out_and_another_is_used() -> None:
    net = FakeNet({"a-silent": (100, "withhold"), "honest": (101, "honest")}, max_in_flight=1)
    assert net.poll() == [SyncRequest("a-silent", 1, MAX_GET_BLOCKS, MAX_SYNC_REPLY_BYTES)]
    net.now += TIMEOUT_MS - 1  # not yet timed out: nothing new while the one request waits
    assert net.poll() == []
    net.now += 1
    (retry,) = net.poll()
    assert retry.peer == "honest" and retry.from_height == 1
    assert net.skipped == ["a-silent"] and net.dropped == []
    assert "no answer" in net.penalties[0].reason
    net.answer(retry)
    # A late answer from the withholding peer is ignored, even if it is valid.
    net.deliver("a-silent", [block(65)])
    assert net.syncer.buffered == 0
    net.run()
    assert net.height == 101


def test_slow_peer_is_skipped_and_its_late_answer_ignored() -> None:
    net = FakeNet({"a-slow": (80, "slow"), "honest": (81, "honest")}, max_in_flight=1)
    net.run()
    assert net.height == 81
    assert net.skipped == ["a-slow"] and net.dropped == []


def test_withholding_peers_with_parallel_requests() -> None:
    peers = {f"silent{i}": (200, "withhold") for i in range(3)}
    peers["honest"] = (200, "honest")
    net = FakeNet(peers, max_in_flight=4)
    net.run()
    assert net.height == 200
    assert sorted(net.skipped) == ["silent0", "silent1", "silent2"]


def test_peer_that_serves_nothing_although_ahead_is_skipped() -> None:
    net = FakeNet({"a-empty": (50, "empty"), "honest": (51, "honest")}, max_in_flight=1)
    net.run()
    assert net.height == 51
    assert net.skipped == ["a-empty"] and net.dropped == []


def test_unsolicited_blocks_are_ignored() -> None:
    net = FakeNet({"p": (10, "honest")})
    net.deliver("p", [block(1)])
    net.deliver("stranger", [block(1)])
    assert net.height == 0 and net.penalties == [] and net.syncer.buffered == 0


def test_in_flight_requests_are_bounded_and_disjoint() -> None:
    peers = {f"p{i}": (10_000, "withhold") for i in range(10)}
    net = FakeNet(peers, max_in_flight=3, reply_bytes=1000)
    issued = net.poll()
    assert len(issued) == 3
    assert len({r.peer for r in issued}) == 3
    assert [(r.from_height, r.count) for r in issued] == [(1, 64), (65, 64), (129, 64)]


def test_the_buffer_stays_within_the_in_flight_budget() -> None:
    """While the next block is missing, replies for later heights are buffered only up to
    ``max_in_flight * reply_bytes``; the head of the line is always asked for."""
    peers = {"a-silent": (1000, "withhold"), **{f"p{i}": (1000, "honest") for i in range(6)}}
    net = FakeNet(peers, max_in_flight=2, reply_bytes=3000, block_size=1000)
    net.syncer.on_status("a-silent", 1)  # the lowest: it gets block 1, and withholds it
    for _ in range(20):
        for req in net.poll():
            net.answer(req)
        assert net.syncer.buffered * 1000 <= 2 * 3000
    assert net.height == 0  # block 1 is still withheld: nothing applied
    net.now += TIMEOUT_MS
    net.run()
    assert net.height == 1000


def test_out_of_order_answers_are_applied_in_order() -> None:
    net = FakeNet({"a": (128, "honest"), "b": (128, "honest")}, max_in_flight=2)
    first, second = net.poll()
    net.answer(second)  # heights 65..128 arrive first: buffered, nothing applied yet
    assert net.height == 0
    net.answer(first)
    assert net.height == 128


def test_disconnect_frees_the_range_for_another_peer() -> None:
    net = FakeNet({"a": (64, "honest"), "b": (65, "honest")}, max_in_flight=1)
    assert [r.peer for r in net.poll()] == ["a"]
    net.syncer.on_disconnect("a")
    assert [r.peer for r in net.poll()] == ["b"]
    assert net.penalties == []


def test_progress_by_consensus_skips_heights() -> None:
    net = FakeNet({"a": (100, "honest")})
    net.height = 90  # the node caught up another way
    assert net.poll() == [SyncRequest("a", 91, 10, MAX_SYNC_REPLY_BYTES)]


def test_tracked_peers_are_bounded() -> None:
    syncer = BlockSyncer(max_peers=3)
    for i in range(10):
        syncer.on_status(f"p{i}", 100 + i)
    assert syncer.best_height == 102  # p3.. were not tracked
    syncer.on_status("p0", 500)  # a tracked peer still updates
    assert syncer.best_height == 500


def test_wrong_blocks_from_an_honest_looking_peer_never_reach_apply_twice() -> None:
    syncer = BlockSyncer()
    syncer.on_status("p", 3)
    requests, _ = syncer.poll(0, 0)
    assert [(r.peer, r.from_height, r.count) for r in requests] == [("p", 1, 3)]
    assert syncer.on_blocks("p", [block(1), (b"forged-2", b"c"), block(3)], 0) == []
    first = syncer.next_ready(0)
    assert first is not None and (first.block, first.commit) == block(1)
    second = syncer.next_ready(1)
    assert second is not None and second.block == b"forged-2"
    penalty = syncer.reject(second, "bad signature", 0)
    assert penalty.misbehaved and penalty.peer == "p"
    # Block 3 from the dropped peer was discarded with it, not applied after a later block 2.
    assert syncer.next_ready(1) is None and syncer.buffered == 0
    syncer.on_status("q", 3)
    requests, _ = syncer.poll(1, 0)
    assert [(r.peer, r.from_height, r.count) for r in requests] == [("q", 2, 2)]


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


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_in_flight": 0},
        {"batch": 0},
        {"batch": MAX_GET_BLOCKS + 1},
        {"reply_bytes": 0},
        {"reply_bytes": MAX_SYNC_REPLY_BYTES + 1},
        {"timeout_ms": 0},
        {"penalty_ms": -1},
        {"max_peers": 0},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        BlockSyncer(**kwargs)


def test_requests_rotate_over_peers_at_the_same_height() -> None:
    net = FakeNet({"a": (200, "honest"), "b": (200, "honest"), "c": (200, "honest")})
    net.run()
    assert net.height == 200
    asked = [r.peer for r in net.sent]
    assert set(asked) == {"a", "b", "c"}
    assert asked[:3] == ["a", "b", "c"]  # each once before any twice


def test_a_liar_is_never_asked_while_penalised_a_silent_peer_only_as_a_last_resort() -> None:
    syncer = BlockSyncer(timeout_ms=TIMEOUT_MS, penalty_ms=PENALTY_MS)
    syncer.on_status("silent", 200)
    syncer.on_status("liar", 200)
    (first, second), _ = syncer.poll(0, 0)
    assert {first.peer, second.peer} == {"silent", "liar"}
    liar_request = first if first.peer == "liar" else second
    assert syncer.on_blocks("liar", [block(liar_request.from_height)] * 70, 0)[0].misbehaved
    _, penalties = syncer.poll(0, TIMEOUT_MS)  # the silent one times out
    assert [(p.peer, p.misbehaved) for p in penalties] == [("silent", False)]
    syncer.on_status("silent", 200)  # both announce again, both penalised
    syncer.on_status("liar", 200)
    requests, _ = syncer.poll(0, TIMEOUT_MS + 1)
    assert [r.peer for r in requests] == ["silent"]  # the only peer left that may be asked
    syncer.on_status("honest", 200)
    assert syncer.on_blocks("silent", [], TIMEOUT_MS + 1)  # it withholds again: skipped
    requests, _ = syncer.poll(0, TIMEOUT_MS + 2)
    assert [r.peer for r in requests] == ["honest"]  # an unpenalised peer comes first
    syncer.on_status("liar", 200)
    requests, _ = syncer.poll(0, PENALTY_MS + TIMEOUT_MS + 2)  # penalties over
    assert "liar" in [r.peer for r in requests]


def test_one_block_behind_waits_for_consensus_first() -> None:
    """A peer one block ahead: the node is usually about to commit that block itself, so it
    asks for it only after the grace; two or more behind, at once."""
    syncer = BlockSyncer(grace_ms=1000)
    syncer.on_status("p", 5)
    assert syncer.poll(4, 10_000) == ([], [])
    assert syncer.poll(4, 10_999) == ([], [])
    (request,), _ = syncer.poll(4, 11_000)
    assert (request.peer, request.from_height, request.count) == ("p", 5, 1)
    fresh = BlockSyncer(grace_ms=1000)
    fresh.on_status("p", 6)
    requests, _ = fresh.poll(4, 0)
    assert [(r.from_height, r.count) for r in requests] == [(5, 2)]
    caught_up = BlockSyncer(grace_ms=1000)
    caught_up.on_status("p", 5)
    caught_up.poll(4, 0)  # behind since 0 ...
    caught_up.poll(5, 500)  # ... caught up by consensus: the clock restarts
    assert caught_up.poll(5, 2000) == ([], [])
    caught_up.on_status("p", 6)
    assert caught_up.poll(5, 2500) == ([], [])
