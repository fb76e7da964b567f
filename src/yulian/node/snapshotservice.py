"""Introduction: the node's snapshot side — write snapshots, serve them, and run state sync.

The node hands this service its peer messages of the snapshot kinds (``net/messages.py``),
its peers' connects and disconnects, and every committed height; the service

* writes a snapshot every ``[snapshots] interval`` blocks in a worker thread
  (``snapshotstore.py``) and answers peers' ``get_snapshot`` / ``get_manifest`` / ``get_chunk``
  from the snapshots on disk;
* when the node starts with an empty ledger and ``state_sync = true``, runs ``SnapshotFetch``
  (``statesync.py``) over the node's mutual-TLS links until a snapshot is checked and
  installed — then the node starts its replica, which syncs the blocks above it. When every
  connected peer says it has none (a new network), or none is offered within ``FALLBACK_S``,
  the node starts from genesis instead (block sync).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import cast

from yulian.crypto.suite import Suite
from yulian.ledger import Ledger
from yulian.ledger.maintenance import LedgerMaintenance
from yulian.ledger.snapshot import SnapshotError, install_snapshot_dir
from yulian.net.messages import (
    CHUNK,
    GET_CHUNK,
    GET_MANIFEST,
    GET_SNAPSHOT,
    MANIFEST,
    SNAPSHOT,
    Message,
)
from yulian.net.peers import PeerManager
from yulian.node.snapshotstore import SnapshotStore
from yulian.node.statesync import Actions, SnapshotFetch
from yulian.types.genesis import Genesis

log = logging.getLogger("yulian.snapshots")

__all__ = ["FALLBACK_S", "POLL_S", "SnapshotService"]

FALLBACK_S = 30.0  # no snapshot offered within this long: start from genesis
POLL_S = 0.1


class SnapshotService:
    def __init__(
        self,
        store: SnapshotStore,
        ledger: Ledger,
        genesis: Genesis,
        suite: Suite,
        *,
        interval: int,
        state_sync: bool,
    ) -> None:
        self.store, self.ledger, self.genesis, self.suite = store, ledger, genesis, suite
        self.interval = interval
        self.fetch: SnapshotFetch | None = None
        self._refused: set[bytes] = set()  # manifests whose snapshot failed after all chunks
        if state_sync and ledger.height() == 0:
            store.reset_incoming()
            self.fetch = SnapshotFetch(genesis, suite, store.store_incoming)

    @property
    def syncing(self) -> bool:
        """State sync is running: the replica must not start yet."""
        return self.fetch is not None

    # --- what the node reports --------------------------------------------------------------

    def on_connect(self, peer: str) -> None:
        if self.fetch is not None:
            self.fetch.on_connect(peer)

    def on_disconnect(self, peer: str) -> None:
        if self.fetch is not None:
            self.fetch.on_disconnect(peer)

    def after_commit(self, height: int) -> None:
        """Start writing a snapshot when ``height`` is a multiple of the interval."""
        if not self.interval or height % self.interval or not self.store.begin_writing():
            return
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self.store.write, self.ledger, self.genesis, self.suite)

    def on_message(self, peers: PeerManager, peer: str, msg: Message) -> None:
        """A message of the snapshot kinds: serve a request, or hand an answer to the fetch."""
        payload = msg.payload
        if msg.kind == GET_SNAPSHOT:
            peers.send(peer, Message(SNAPSHOT, self.store.offer(self.suite)))
        elif msg.kind == GET_MANIFEST:
            data = self.store.manifest(payload[0])
            if data is not None:
                peers.send(peer, Message(MANIFEST, (payload[0], data)))
        elif msg.kind == GET_CHUNK:
            height, kind, index = payload
            data = self.store.chunk(height, kind, index)
            if data is not None:
                peers.send(peer, Message(CHUNK, (height, kind, index, data)))
        elif self.fetch is not None:
            now = time.monotonic()
            if msg.kind == SNAPSHOT:
                if payload[1] not in self._refused:
                    self.fetch.on_offer(peer, payload[0], payload[1], now)
            elif msg.kind == MANIFEST:
                self._perform(peers, self.fetch.on_manifest(peer, payload[0], payload[1], now))
            elif msg.kind == CHUNK:
                height, kind, index, data = payload
                self._perform(peers, self.fetch.on_chunk(peer, height, kind, index, data, now))

    # --- state sync -------------------------------------------------------------------------

    async def sync(self, peers: PeerManager | None, stopping: Callable[[], bool]) -> bool:
        """Run state sync until a snapshot is installed (True) or none is offered (False)."""
        assert self.fetch is not None
        started = time.monotonic()
        try:
            while not stopping():
                fetch = self.fetch
                now = time.monotonic()
                if peers is not None:
                    self._perform(peers, fetch.poll(now))
                if fetch.done:
                    if await self._install():
                        return True
                    self.fetch = SnapshotFetch(self.genesis, self.suite, self.store.store_incoming)
                    for peer in peers.connected() if peers is not None else ():
                        self.fetch.on_connect(peer)
                elif fetch.nothing_offered or (
                    fetch.check is None and not fetch.offers and now - started > FALLBACK_S
                ):
                    log.warning("state sync: no peer offers a snapshot; starting from genesis")
                    return False
                await asyncio.sleep(POLL_S)
            return False
        finally:
            self.fetch = None

    async def _install(self) -> bool:
        fetch = self.fetch
        assert fetch is not None and fetch.check is not None
        check = fetch.check
        try:
            base = check.base()
        except SnapshotError as e:
            log.warning(
                "state sync: the snapshot of height %d refused: %s", check.manifest.height, e
            )
            self._refused.add(check.manifest.digest(self.suite))
            self.store.reset_incoming()
            return False
        maintained = cast(LedgerMaintenance, self.ledger)  # LMDB and PostgreSQL both are
        await asyncio.to_thread(
            install_snapshot_dir, maintained, self.store.incoming, check.manifest, base
        )
        self.store.reset_incoming()
        log.info("state sync: installed the snapshot of height %d", check.manifest.height)
        return True

    def _perform(self, peers: PeerManager, actions: Actions) -> None:
        for r in actions.send:
            if r.kind == "offers":
                message = Message(GET_SNAPSHOT, ())
            elif r.kind == "manifest":
                message = Message(GET_MANIFEST, (r.height,))
            else:
                message = Message(GET_CHUNK, (r.height, r.chunk_kind, r.index))
            peers.send(r.peer, message)
        for peer, reason in actions.drop:
            peers.drop(peer, reason)
