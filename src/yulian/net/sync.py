"""Introduction: block sync — catching up from peers, block by verified block.

``BlockSyncer`` is the decision logic of the one block sync the node and the simulator run
(``node/blocksync.py`` wires it into the replica): it never touches sockets, storage or a
clock — time is a number of milliseconds handed in — so it is tested with fake peers and fake
time, and it runs unchanged under the simulator's seeded clock. Its caller reports
``on_status`` (a peer's ``status``), ``on_blocks`` (a peer's ``blocks`` reply) and
``on_disconnect``; asks ``poll`` for the requests to send (and the timeouts to punish); takes
the blocks that are ready with ``next_ready``, verifies each and reports a failure with
``reject``. Invariants:

- **In order, once.** ``next_ready`` hands out buffered blocks strictly in height order from
  the caller's next height, each once; what the caller's height moved past (consensus
  committed it) is dropped unapplied.
- **Asked, then answered.** A peer is asked only for heights it announced, has at most one
  request in flight, and at most ``max_in_flight`` requests are in flight, each for at most
  ``batch`` (<= ``MAX_GET_BLOCKS``) blocks and ``reply_bytes`` (<= ``MAX_SYNC_REPLY_BYTES``)
  bytes; a reply that was not asked for, or comes after its request timed out, is ignored.
- **Bounded.** Nothing beyond ``max_in_flight * batch`` heights past the next one is asked
  for or buffered; each reply is within its byte budget (one block over the budget comes
  alone), and a request beyond the next height is issued only while the buffer and the replies
  in flight stay within ``max_in_flight * reply_bytes``; at most ``max_peers`` peers are
  tracked.
- **Served in parts.** A reply may carry fewer blocks than asked (the server's byte budget);
  the rest of the range is asked again, of whichever peer fits.
- **Penalised, then another asked.** A peer that *lies* — a block or certificate that does not
  verify, more blocks than asked, a reply of several blocks over the byte budget — gets a
  ``Penalty`` with ``misbehaved=True`` (the caller drops its connection) and is not asked again
  for ``penalty_ms``; a peer that *withholds* or is *slow* — no answer within ``timeout_ms``,
  or none of the announced blocks — gets one with ``misbehaved=False`` and is asked, for
  ``penalty_ms``, only when no other peer has the range (it may only have been overloaded).
  Either way its announced height is forgotten, its buffered blocks are discarded, and its
  range is asked of another peer. So with one honest peer ahead, the node reaches that peer's
  head (RELIABILITY B3).
- **Consensus first.** A node one block behind is usually about to commit that block itself;
  it asks for it only after ``grace_ms`` (a node two or more behind asks at once).
- **Conservative choice.** A range goes to the peer with the *lowest* announced height that
  has its first block — a peer that announces an inflated height is not preferred over honest
  peers at the head — and among equals to the one asked least recently, so requests rotate
  over the peers.

``serve_get_blocks`` is the serving side: consecutive stored blocks from a height, at most
``min(count, MAX_GET_BLOCKS)`` and ``max_bytes`` in all — except that a single block larger
than the budget is still served alone, so every block can be synced (a block plus its
certificate always fits a frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from yulian.net.messages import MAX_GET_BLOCKS, MAX_SYNC_REPLY_BYTES

__all__ = [
    "GRACE_MS",
    "MAX_IN_FLIGHT",
    "MAX_SYNC_PEERS",
    "PENALTY_MS",
    "REQUEST_TIMEOUT_MS",
    "BlockSyncer",
    "InvalidSyncData",
    "Penalty",
    "Ready",
    "SyncRequest",
    "serve_get_blocks",
]

MAX_IN_FLIGHT = 4
MAX_SYNC_PEERS = 256  # peers whose announced height is tracked (net.peers.MAX_CONNECTIONS)
REQUEST_TIMEOUT_MS = 10_000
PENALTY_MS = 30_000
GRACE_MS = 1_000  # one block behind for this long: consensus did not bring it, sync does

Pair = tuple[bytes, bytes]  # (block bytes, commit certificate bytes)


class InvalidSyncData(ValueError):
    """A synced block or commit certificate that does not verify; its sender is penalised."""


@dataclass(frozen=True)
class SyncRequest:
    """``get_blocks(from_height, count, max_bytes)`` to send to ``peer``."""

    peer: str
    from_height: int
    count: int
    max_bytes: int


@dataclass(frozen=True)
class Penalty:
    """``peer`` will not be asked for a while; ``misbehaved``: it sent what no honest peer
    sends (drop its connection), else it was slow or withheld what it announced."""

    peer: str
    reason: str
    misbehaved: bool


@dataclass(frozen=True)
class Ready:
    """The next block to verify and apply, and the peer that sent it."""

    height: int
    peer: str
    block: bytes
    commit: bytes


@dataclass(frozen=True)
class _Request:
    peer: str
    from_height: int
    count: int
    max_bytes: int
    deadline_ms: int

    def covers(self, height: int) -> bool:
        return self.from_height <= height < self.from_height + self.count


class BlockSyncer:
    """Fetches missing blocks from peers that are ahead; see the module docstring."""

    def __init__(
        self,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        batch: int = MAX_GET_BLOCKS,
        reply_bytes: int = MAX_SYNC_REPLY_BYTES,
        timeout_ms: int = REQUEST_TIMEOUT_MS,
        penalty_ms: int = PENALTY_MS,
        max_peers: int = MAX_SYNC_PEERS,
        grace_ms: int = GRACE_MS,
    ) -> None:
        if max_in_flight < 1 or max_peers < 1:
            raise ValueError("max_in_flight and max_peers must be >= 1")
        if not 1 <= batch <= MAX_GET_BLOCKS:
            raise ValueError(f"batch must be in 1..{MAX_GET_BLOCKS}")
        if not 1 <= reply_bytes <= MAX_SYNC_REPLY_BYTES:
            raise ValueError(f"reply_bytes must be in 1..{MAX_SYNC_REPLY_BYTES}")
        if timeout_ms <= 0 or penalty_ms < 0 or grace_ms < 0:
            raise ValueError("timeout_ms must be > 0, penalty_ms and grace_ms >= 0")
        self._max_in_flight = max_in_flight
        self._batch = batch
        self._reply_bytes = reply_bytes
        self._timeout_ms = timeout_ms
        self._penalty_ms = penalty_ms
        self._max_peers = max_peers
        self._grace_ms = grace_ms
        self._behind_since: int | None = None  # when a peer was first seen one block ahead
        self._heights: dict[str, int] = {}  # latest announced height per peer
        self._requests: dict[str, _Request] = {}  # in flight, one per peer
        self._buffer: dict[int, tuple[str, bytes, bytes]] = {}  # height -> (peer, block, commit)
        self._buffered_bytes = 0
        # peer -> (time in ms until which it is penalised, whether it lied)
        self._penalised: dict[str, tuple[int, bool]] = {}
        self._asked: dict[str, int] = {}  # peer -> the number of its latest request
        self._requests_made = 0
        self._next = 1  # the caller's next height
        self.lied = 0  # penalties given, by kind (for operators and the simulator)
        self.skipped = 0

    # --- what the caller reports -------------------------------------------------------------

    def on_status(self, peer: str, height: int) -> None:
        """``peer`` announced that it has committed ``height``."""
        if type(height) is not int or height < 0:
            return
        if peer in self._heights or len(self._heights) < self._max_peers:
            self._heights[peer] = height

    def on_disconnect(self, peer: str) -> None:
        """``peer`` is gone: forget its height; its range is asked of another peer."""
        self._heights.pop(peer, None)
        self._asked.pop(peer, None)
        self._requests.pop(peer, None)

    def on_blocks(self, peer: str, pairs: Iterable[Pair], now_ms: int) -> list[Penalty]:
        """``peer`` answered: buffer what was asked for; the penalties it earned."""
        req = self._requests.pop(peer, None)
        if req is None:
            return []  # not asked, or asked and timed out: ignored
        got = list(pairs)
        size = sum(len(b) + len(c) for b, c in got)
        if len(got) > req.count:
            return [self._punish(peer, f"sent {len(got)} blocks for {req.count}", now_ms, True)]
        if len(got) > 1 and size > req.max_bytes:
            reason = f"sent {len(got)} blocks of {size} bytes for a budget of {req.max_bytes}"
            return [self._punish(peer, reason, now_ms, True)]
        if not got:
            reason = (
                f"announced height {self._heights.get(peer)} but served no block "
                f"from {req.from_height}"
            )
            return [self._punish(peer, reason, now_ms, False)]
        for i, (block, commit) in enumerate(got):
            height = req.from_height + i
            if height >= self._next and height not in self._buffer:
                self._buffer[height] = (peer, block, commit)
                self._buffered_bytes += len(block) + len(commit)
        return []

    def next_ready(self, our_height: int) -> Ready | None:
        """The buffered block at ``our_height + 1``, handed out once; ``None`` if not here."""
        self._advance_to(our_height + 1)
        entry = self._take(self._next)
        if entry is None:
            return None
        peer, block, commit = entry
        return Ready(self._next, peer, block, commit)

    def reject(self, ready: Ready, reason: str, now_ms: int) -> Penalty:
        """The caller could not verify ``ready``: its sender lied."""
        return self._punish(
            ready.peer,
            f"invalid block or certificate at height {ready.height}: {reason}",
            now_ms,
            True,
        )

    # --- what the caller asks -----------------------------------------------------------------

    def poll(self, our_height: int, now_ms: int) -> tuple[list[SyncRequest], list[Penalty]]:
        """Expire timed-out requests (penalising their peers) and issue the requests that fit
        the window: what to send, and the penalties earned by silence."""
        self._advance_to(our_height + 1)
        penalties = [
            self._punish(
                peer,
                f"no answer to get_blocks({req.from_height}, {req.count}) within "
                f"{self._timeout_ms} ms",
                now_ms,
                False,
            )
            for peer, req in sorted(self._requests.items())
            if req.deadline_ms <= now_ms
        ]
        for peer, (until, _) in sorted(self._penalised.items()):
            if until <= now_ms:
                del self._penalised[peer]
        requests = []
        if self._may_ask(our_height, now_ms):
            while (request := self._next_request(now_ms)) is not None:
                requests.append(request)
        return requests, penalties

    def _may_ask(self, our_height: int, now_ms: int) -> bool:
        best = max(self._heights.values(), default=0)
        if best <= our_height:
            self._behind_since = None
            return False
        if self._behind_since is None:
            self._behind_since = now_ms
        return best >= our_height + 2 or now_ms - self._behind_since >= self._grace_ms

    @property
    def best_height(self) -> int:
        """The highest height announced by a peer that is not penalised (0 if none)."""
        return max(
            (h for p, h in self._heights.items() if p not in self._penalised),
            default=0,
        )

    @property
    def in_flight(self) -> list[SyncRequest]:
        """The outstanding requests, by height."""
        return sorted(
            (
                SyncRequest(r.peer, r.from_height, r.count, r.max_bytes)
                for r in self._requests.values()
            ),
            key=lambda r: r.from_height,
        )

    @property
    def buffered(self) -> int:
        """How many blocks wait in the buffer."""
        return len(self._buffer)

    def is_penalised(self, peer: str) -> bool:
        return peer in self._penalised

    # --- internals ---------------------------------------------------------------------------

    def _next_request(self, now_ms: int) -> SyncRequest | None:
        if len(self._requests) >= self._max_in_flight:
            return None
        start = self._first_missing()
        if start is None:
            return None
        ahead = self._buffered_bytes + (len(self._requests) + 1) * self._reply_bytes
        if start != self._next and ahead > self._max_in_flight * self._reply_bytes:
            return None  # the head of the line is always fetched; the rest waits for room
        stop = self._range_stop(start)  # exclusive
        candidates = sorted(
            (peer in self._penalised, height, self._asked.get(peer, 0), peer)
            for peer, height in self._heights.items()
            if height >= start
            and peer not in self._requests
            and not self._penalised.get(peer, (0, False))[1]
        )
        if not candidates:
            return None
        _, height, _, peer = candidates[0]
        self._requests_made += 1
        self._asked[peer] = self._requests_made
        count = min(stop, height + 1) - start
        req = _Request(peer, start, count, self._reply_bytes, now_ms + self._timeout_ms)
        self._requests[peer] = req
        return SyncRequest(peer, start, count, self._reply_bytes)

    def _advance_to(self, next_height: int) -> None:
        # The caller's height is the truth: it may have moved on by consensus.
        if next_height != self._next:
            self._next = next_height
            for height in [h for h in self._buffer if h < next_height]:
                self._take(height)

    def _take(self, height: int) -> tuple[str, bytes, bytes] | None:
        entry = self._buffer.pop(height, None)
        if entry is not None:
            self._buffered_bytes -= len(entry[1]) + len(entry[2])
        return entry

    def _window_end(self) -> int:
        return self._next + self._max_in_flight * self._batch  # exclusive

    def _is_covered(self, height: int) -> bool:
        return height in self._buffer or any(r.covers(height) for r in self._requests.values())

    def _first_missing(self) -> int | None:
        height = self._next
        end = self._window_end()
        while height < end:
            if height in self._buffer:
                height += 1
                continue
            covering = next((r for r in self._requests.values() if r.covers(height)), None)
            if covering is None:
                return height
            height = covering.from_height + covering.count
        return None

    def _range_stop(self, start: int) -> int:
        stop = min(start + self._batch, self._window_end())
        height = start + 1
        while height < stop:
            if self._is_covered(height):
                return height
            height += 1
        return stop

    def _punish(self, peer: str, reason: str, now_ms: int, misbehaved: bool) -> Penalty:
        if misbehaved:
            self.lied += 1
        else:
            self.skipped += 1
        self._heights.pop(peer, None)
        self._asked.pop(peer, None)
        self._requests.pop(peer, None)
        if peer in self._penalised or len(self._penalised) < self._max_peers:
            lied = misbehaved or self._penalised.get(peer, (0, False))[1]
            self._penalised[peer] = (now_ms + self._penalty_ms, lied)
        for height in [h for h, (p, _, _) in self._buffer.items() if p == peer]:
            self._take(height)
        return Penalty(peer, reason, misbehaved)


def serve_get_blocks(
    read_block: Callable[[int], Pair | None],
    from_height: int,
    count: int,
    *,
    max_bytes: int = MAX_SYNC_REPLY_BYTES,
) -> list[Pair]:
    """Consecutive ``(block, commit)`` pairs from ``from_height``, as many as are stored, at
    most ``min(count, MAX_GET_BLOCKS)`` and (after the first) at most ``max_bytes`` in all."""
    out: list[Pair] = []
    if from_height < 1:
        return out
    total = 0
    for height in range(from_height, from_height + max(0, min(count, MAX_GET_BLOCKS))):
        pair = read_block(height)
        if pair is None:
            break
        size = len(pair[0]) + len(pair[1])
        if out and total + size > max_bytes:
            break
        out.append(pair)
        total += size
    return out
