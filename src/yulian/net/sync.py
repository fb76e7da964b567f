"""Introduction: block sync — catching up from peers, block by verified block.

``BlockSyncer`` is the decision logic only: it never touches sockets, storage or the event loop,
and takes time from an injected ``clock``, so it is tested with fake peers and fake time. The
node wires it up: ``on_status`` from ``status`` messages, ``on_blocks`` from ``blocks``
messages, ``on_disconnect`` from the peer manager, and calls ``next_request`` periodically (and
after each of those) until it returns ``None``. Invariants:

- Blocks are handed to ``apply(block_bytes, commit_bytes)`` strictly in height order, each
  exactly once per successful application; ``apply`` verifies the block and its commit
  certificate against the chain and raises ``InvalidSyncData`` if they do not verify.
- A peer is asked only for heights it announced (``status``) and never has more than one
  request in flight; at most ``max_in_flight`` requests are in flight, each for at most
  ``batch`` (<= ``MAX_GET_BLOCKS``) blocks, and nothing beyond ``max_in_flight * batch``
  heights past the next one to apply is requested or buffered — memory is bounded.
- A peer that lies (its data fails ``apply``, it sends more than asked, or nothing although it
  announced those heights) or withholds (no answer within ``timeout_s``) is ``drop``ped,
  forgotten, and not asked again for ``penalty_s``; its range is then asked of another peer.
  So with at least one honest peer ahead, the node reaches that peer's head (RELIABILITY B3).
- Answers that were not asked for (unsolicited, or after their request timed out) are ignored.

``serve_get_blocks`` is the serving side: consecutive stored blocks from a height, bounded by
``MAX_GET_BLOCKS`` and ``MAX_SYNC_RESPONSE_BYTES`` (a single block larger than the byte budget
is still served alone, so every block can be synced; it fits a frame by construction).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from yulian.net.messages import MAX_GET_BLOCKS

__all__ = [
    "MAX_IN_FLIGHT",
    "MAX_SYNC_RESPONSE_BYTES",
    "PENALTY_S",
    "REQUEST_TIMEOUT_S",
    "BlockSyncer",
    "InvalidSyncData",
    "serve_get_blocks",
]

MAX_IN_FLIGHT = 4
REQUEST_TIMEOUT_S = 10.0
PENALTY_S = 30.0
MAX_SYNC_RESPONSE_BYTES = 16 * 1024 * 1024

Pair = tuple[bytes, bytes]  # (block bytes, commit certificate bytes)


class InvalidSyncData(ValueError):
    """A synced block or commit certificate that does not verify; its sender is dropped."""


@dataclass(frozen=True)
class _Request:
    peer: str
    from_height: int
    count: int
    deadline: float

    def covers(self, height: int) -> bool:
        return self.from_height <= height < self.from_height + self.count


class BlockSyncer:
    """Fetches missing blocks from peers that are ahead; see the module docstring."""

    def __init__(
        self,
        request: Callable[[str, int, int], bool],
        apply: Callable[[bytes, bytes], None],
        drop: Callable[[str, str], None],
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        batch: int = MAX_GET_BLOCKS,
        timeout_s: float = REQUEST_TIMEOUT_S,
        penalty_s: float = PENALTY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1")
        if not 1 <= batch <= MAX_GET_BLOCKS:
            raise ValueError(f"batch must be in 1..{MAX_GET_BLOCKS}")
        if timeout_s <= 0 or penalty_s < 0:
            raise ValueError("timeout_s must be > 0 and penalty_s >= 0")
        self._request = request
        self._apply = apply
        self._drop = drop
        self._max_in_flight = max_in_flight
        self._batch = batch
        self._timeout_s = timeout_s
        self._penalty_s = penalty_s
        self._clock = clock
        self._heights: dict[str, int] = {}  # latest announced height per peer
        self._requests: dict[str, _Request] = {}  # in flight, one per peer
        self._buffer: dict[int, tuple[str, bytes, bytes]] = {}  # height -> (peer, block, commit)
        self._penalised: dict[str, float] = {}  # peer -> clock() until which it is not asked
        self._next = 1  # the next height to apply

    # --- what the node reports ---------------------------------------------------------------

    def on_status(self, peer: str, height: int) -> None:
        """``peer`` announced that it has committed ``height``."""
        if type(height) is int and height >= 0:
            self._heights[peer] = height

    def on_disconnect(self, peer: str) -> None:
        """``peer`` is gone: forget its height; its in-flight range is asked of another peer."""
        self._heights.pop(peer, None)
        self._requests.pop(peer, None)

    def on_blocks(self, peer: str, pairs: Iterable[Pair]) -> int:
        """``peer`` answered with ``pairs``; applies what is ready, returns how many blocks."""
        req = self._requests.pop(peer, None)
        if req is None:
            return 0  # not asked, or asked and timed out: ignored
        got = list(pairs)
        if len(got) > req.count:
            self._punish(peer, f"sent {len(got)} blocks for a request of {req.count}")
            return 0
        if not got:
            self._punish(
                peer,
                f"announced height {self._heights.get(peer)} but served no block "
                f"from {req.from_height}",
            )
            return 0
        for i, (block, commit) in enumerate(got):
            height = req.from_height + i
            if height >= self._next and height not in self._buffer:
                self._buffer[height] = (peer, block, commit)
        return self._apply_ready()

    # --- what the node asks -----------------------------------------------------------------

    @property
    def best_height(self) -> int:
        """The highest height announced by a peer that is not penalised (0 if none)."""
        now = self._clock()
        return max(
            (h for p, h in self._heights.items() if self._penalised.get(p, now) <= now),
            default=0,
        )

    @property
    def in_flight(self) -> list[tuple[str, int, int]]:
        """The outstanding requests as ``(peer, from_height, count)``, by height."""
        return sorted(
            ((r.peer, r.from_height, r.count) for r in self._requests.values()),
            key=lambda r: r[1],
        )

    def next_request(self, our_height: int) -> tuple[str, int, int] | None:
        """Issue at most one new request and return it as ``(peer, from_height, count)``.

        Also applies buffered blocks that became ready and expires timed-out requests
        (dropping their peers). Call repeatedly until it returns ``None``.
        """
        now = self._clock()
        self._advance_to(our_height + 1)
        self._apply_ready()
        for peer, req in list(self._requests.items()):
            if req.deadline <= now:
                self._punish(
                    peer,
                    f"no answer to get_blocks({req.from_height}, {req.count}) "
                    f"within {self._timeout_s}s",
                )
        for peer, until in list(self._penalised.items()):
            if until <= now:
                del self._penalised[peer]
        if len(self._requests) >= self._max_in_flight:
            return None
        start = self._first_missing()
        if start is None:
            return None
        stop = self._range_stop(start)  # exclusive
        candidates = sorted(
            (
                (-height, peer)
                for peer, height in self._heights.items()
                if height >= start and peer not in self._requests and peer not in self._penalised
            ),
        )
        for neg_height, peer in candidates:
            count = min(stop, -neg_height + 1) - start
            if self._request(peer, start, count):
                self._requests[peer] = _Request(peer, start, count, now + self._timeout_s)
                return (peer, start, count)
            # Not connected or its queue is full: forget it until it announces itself again.
            self._heights.pop(peer, None)
        return None

    # --- internals ---------------------------------------------------------------------------

    def _advance_to(self, next_height: int) -> None:
        # The node's own height is the truth: it may have moved on by consensus.
        if next_height != self._next:
            self._next = next_height
            for height in [h for h in self._buffer if h < next_height]:
                del self._buffer[height]

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

    def _apply_ready(self) -> int:
        applied = 0
        while (entry := self._buffer.pop(self._next, None)) is not None:
            peer, block, commit = entry
            try:
                self._apply(block, commit)
            except InvalidSyncData as e:
                self._punish(peer, f"invalid block or commit at height {self._next}: {e}")
                break
            self._next += 1
            applied += 1
        return applied

    def _punish(self, peer: str, reason: str) -> None:
        self._heights.pop(peer, None)
        self._requests.pop(peer, None)
        self._penalised[peer] = self._clock() + self._penalty_s
        for height in [h for h, (p, _, _) in self._buffer.items() if p == peer]:
            del self._buffer[height]
        self._drop(peer, reason)


def serve_get_blocks(
    read_block: Callable[[int], Pair | None],
    from_height: int,
    count: int,
    *,
    max_bytes: int = MAX_SYNC_RESPONSE_BYTES,
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
