"""Introduction: state sync — a new or wiped node starts from a peer's snapshot, not genesis.

``SnapshotFetch`` is the decision logic only (no sockets, files or event loop; time is handed
in), in the manner of ``net/sync.py``'s block sync. The node drives it: ``on_offer``,
``on_manifest`` and ``on_chunk`` from peers' answers, ``on_disconnect``, and ``poll(now)``
periodically; it answers with ``Request``s to send and peers to drop, and hands every checked
chunk to ``store(kind, index, data)`` (the node writes it to a staging directory). When
``done`` it holds the ``SnapshotCheck`` whose ``base()`` the node installs before it starts the
replica, which then syncs blocks from the snapshot's height on.

Invariants:

- Nothing unchecked is stored: the manifest is checked from the genesis
  (``node/snapshots.py``) before any chunk is asked for, and every chunk against the manifest
  before ``store`` sees it. A peer whose manifest or chunk fails is dropped and not asked again
  for ``PENALTY_S``; its snapshot is then fetched from another peer that offers the same
  manifest, or another snapshot is chosen.
- Memory is bounded: at most ``MAX_IN_FLIGHT`` chunk requests (one per peer), each answer at
  most ``MAX_CHUNK_BYTES``, and answers ahead of the next chunk to check are kept only within
  that window.
- A request not answered within ``REQUEST_TIMEOUT_S`` counts as withholding: the peer is
  penalised and the chunk asked of another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from yulian.crypto.suite import Suite
from yulian.ledger.snapshot import Manifest, SnapshotError
from yulian.node.snapshots import SnapshotCheck
from yulian.types.genesis import Genesis

log = logging.getLogger("yulian.statesync")

__all__ = [
    "ASK_OFFERS_S",
    "MAX_IN_FLIGHT",
    "OFFER_GRACE_S",
    "PENALTY_S",
    "REQUEST_TIMEOUT_S",
    "Actions",
    "Offer",
    "Request",
    "SnapshotFetch",
]

ASK_OFFERS_S = 2.0  # how often peers are asked what snapshots they have, until one is chosen
OFFER_GRACE_S = 1.0  # after the first offer, how long to wait for better ones
REQUEST_TIMEOUT_S = 30.0
PENALTY_S = 60.0
MAX_IN_FLIGHT = 4

STATE, BLOCKS = "state", "blocks"


@dataclass(frozen=True)
class Offer:
    height: int
    digest: bytes  # of the manifest


@dataclass(frozen=True)
class Request:
    peer: str
    kind: str  # "offers" | "manifest" | "chunk"
    height: int = 0
    chunk_kind: str = ""
    index: int = 0


@dataclass
class _Pending:
    request: Request
    deadline: float


@dataclass
class Actions:
    send: list[Request] = field(default_factory=list)
    drop: list[tuple[str, str]] = field(default_factory=list)


class SnapshotFetch:
    def __init__(
        self,
        genesis: Genesis,
        suite: Suite,
        store: Callable[[str, int, bytes], None],
        *,
        timeout_s: float = REQUEST_TIMEOUT_S,
        penalty_s: float = PENALTY_S,
    ) -> None:
        self._genesis, self._suite, self._store = genesis, suite, store
        self._timeout_s, self._penalty_s = timeout_s, penalty_s
        self._peers: set[str] = set()
        self._offers: dict[str, Offer] = {}
        self._none: set[str] = set()  # peers that answered they offer no snapshot
        self._penalised: dict[str, float] = {}
        self._chosen: Offer | None = None
        self._first_offer_at: float | None = None
        self._asked_at: float | None = None
        self._check: SnapshotCheck | None = None
        self._pending: dict[str, _Pending] = {}  # in flight, one per peer
        self._ready: dict[tuple[str, int], tuple[str, bytes]] = {}  # answered: (peer, data)
        self.done = False

    # --- what the node reports ---------------------------------------------------------------

    @property
    def check(self) -> SnapshotCheck | None:
        return self._check

    @property
    def offers(self) -> dict[str, Offer]:
        return dict(self._offers)

    @property
    def nothing_offered(self) -> bool:
        """Every connected peer (at least one) said it has no snapshot: nothing to wait for."""
        return bool(self._peers) and not self._offers and self._peers <= self._none

    def on_connect(self, peer: str) -> None:
        self._peers.add(peer)
        self._asked_at = None  # ask the newcomer too

    def on_disconnect(self, peer: str) -> None:
        self._peers.discard(peer)
        self._offers.pop(peer, None)
        self._pending.pop(peer, None)

    def on_offer(self, peer: str, height: int, digest: bytes, now: float) -> None:
        if height < 1:
            self._none.add(peer)
            return
        if peer in self._penalised:
            return
        self._offers[peer] = Offer(height, digest)
        if self._first_offer_at is None:
            self._first_offer_at = now

    def on_manifest(self, peer: str, height: int, data: bytes, now: float) -> Actions:
        out = Actions()
        pending = self._pending.get(peer)
        if pending is None or pending.request.kind != "manifest" or self._chosen is None:
            return out  # not asked (or no longer): ignored
        del self._pending[peer]
        if height != self._chosen.height or self._suite.hash(data) != self._chosen.digest:
            self._punish(peer, "sent a manifest other than the one it offered", now, out)
            return out
        try:
            manifest = Manifest.decode(data)
            self._check = SnapshotCheck(self._genesis, self._suite, manifest)
        except SnapshotError as e:
            self._punish(peer, f"snapshot manifest refused: {e}", now, out)
            self._give_up_on_chosen()
            return out
        log.info(
            "state sync: snapshot of height %d checked (%d state chunks, %d block chunks)",
            manifest.height,
            len(manifest.state_chunks),
            len(manifest.block_chunks),
        )
        return out

    def on_chunk(
        self, peer: str, height: int, kind: str, index: int, data: bytes, now: float
    ) -> Actions:
        out = Actions()
        pending = self._pending.get(peer)
        r = pending.request if pending is not None else None
        if (
            r is None
            or r.kind != "chunk"
            or (r.height, r.chunk_kind, r.index) != (height, kind, index)
        ):
            return out
        del self._pending[peer]
        self._ready[(kind, index)] = (peer, data)
        self._check_ready(now, out)
        return out

    # --- what the node asks ----------------------------------------------------------------

    def poll(self, now: float) -> Actions:
        """Expire requests, choose a snapshot, and issue the next requests."""
        out = Actions()
        for peer, pending in list(self._pending.items()):
            if pending.deadline <= now:
                del self._pending[peer]
                self._punish(
                    peer, f"no answer to {pending.request.kind} in {self._timeout_s}s", now, out
                )
        for peer, until in list(self._penalised.items()):
            if until <= now:
                del self._penalised[peer]
        if self.done:
            return out
        if self._chosen is None:
            self._choose(now, out)
        elif self._check is None:
            self._ask_manifest(now, out)
        else:
            self._ask_chunks(now, out)
        return out

    # --- internals ------------------------------------------------------------------------

    def _choose(self, now: float, out: Actions) -> None:
        ready = self._first_offer_at is not None and now >= self._first_offer_at + OFFER_GRACE_S
        if ready and self._offers:
            best = max(self._offers.values(), key=lambda o: (o.height, o.digest))
            self._chosen = best
            log.info("state sync: chose the snapshot of height %d", best.height)
            self._ask_manifest(now, out)
            return
        if self._asked_at is None or now >= self._asked_at + ASK_OFFERS_S:
            self._asked_at = now
            for peer in sorted(self._peers - set(self._penalised)):
                out.send.append(Request(peer, "offers"))

    def _holders(self) -> list[str]:
        chosen = self._chosen
        return sorted(
            p
            for p, o in self._offers.items()
            if o == chosen and p not in self._penalised and p in self._peers
        )

    def _ask_manifest(self, now: float, out: Actions) -> None:
        assert self._chosen is not None
        if any(p.request.kind == "manifest" for p in self._pending.values()):
            return
        holders = [p for p in self._holders() if p not in self._pending]
        if not holders:
            self._give_up_on_chosen()
            return
        self._issue(Request(holders[0], "manifest", self._chosen.height), now, out)

    def _ask_chunks(self, now: float, out: Actions) -> None:
        assert self._check is not None and self._chosen is not None
        wanted = [w for w in self._next_chunks() if w not in self._ready and not self._asked(w)]
        for kind, index in wanted:
            if len(self._pending) >= MAX_IN_FLIGHT:
                return
            free = [p for p in self._holders() if p not in self._pending]
            if not free:
                if not self._holders():
                    self._give_up_on_chosen()
                return
            self._issue(Request(free[0], "chunk", self._chosen.height, kind, index), now, out)

    def _next_chunks(self) -> list[tuple[str, int]]:
        """The chunks to fetch next, in the order they are checked (within the window)."""
        assert self._check is not None
        m, c = self._check.manifest, self._check
        order = [(STATE, i) for i in range(c.states_done, len(m.state_chunks))]
        order += [(BLOCKS, i) for i in range(c.blocks_done, len(m.block_chunks))]
        return order[:MAX_IN_FLIGHT]

    def _asked(self, chunk: tuple[str, int]) -> bool:
        return any(
            (p.request.chunk_kind, p.request.index) == chunk
            for p in self._pending.values()
            if p.request.kind == "chunk"
        )

    def _issue(self, request: Request, now: float, out: Actions) -> None:
        self._pending[request.peer] = _Pending(request, now + self._timeout_s)
        out.send.append(request)

    def _check_ready(self, now: float, out: Actions) -> None:
        check = self._check
        assert check is not None
        while not check.complete:
            m = check.manifest
            chunk = (
                (STATE, check.states_done)
                if check.states_done < len(m.state_chunks)
                else (BLOCKS, check.blocks_done)
            )
            answer = self._ready.pop(chunk, None)
            if answer is None:
                return
            peer, data = answer
            try:
                if chunk[0] == STATE:
                    check.state_chunk(chunk[1], data)
                else:
                    check.block_chunk(chunk[1], data)
            except SnapshotError as e:
                self._punish(peer, f"snapshot chunk {chunk[0]} {chunk[1]} refused: {e}", now, out)
                return
            self._store(chunk[0], chunk[1], data)
        self.done = True

    def _give_up_on_chosen(self) -> None:
        """No one (left) serves the chosen snapshot, or its manifest failed: choose again."""
        if self._chosen is not None:
            log.warning("state sync: giving up on the snapshot of height %d", self._chosen.height)
            for peer in [p for p, o in self._offers.items() if o == self._chosen]:
                del self._offers[peer]
        self._chosen, self._check, self._first_offer_at = None, None, None
        self._ready.clear()
        self._pending.clear()

    def _punish(self, peer: str, reason: str, now: float, out: Actions) -> None:
        log.warning("state sync: peer %s: %s", peer, reason)
        self._penalised[peer] = now + self._penalty_s
        self._offers.pop(peer, None)
        self._pending.pop(peer, None)
        out.drop.append((peer, reason))
