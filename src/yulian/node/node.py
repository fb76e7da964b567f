"""Introduction: the node — the asyncio shell that performs a replica's effects.

``Replica`` (``node/replica.py``) is the deterministic state machine: consensus, execution,
admission and storage behind interfaces. The node gives it the real world: the wall clock,
timers on the event loop, mutual-TLS peers (``net/peers.py``) and the gossip of client txs.
It performs each ``Outputs`` in a fixed order — timers, sends, broadcasts, then "committed"
notifications to its commit listeners (the block is already durable when the replica reports
it). The read side the API serves is the read model (``node/readmodel.py``), one listener;
``node/serve.py`` composes the node, its read model and the HTTP server.

A one-validator chain is the same engine with n = 1 and no peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence

from yulian.consensus.durable import OsFile
from yulian.consensus.safety import CorruptSafetyData, SafetyRules
from yulian.consensus.votes import ValidatorSet
from yulian.consensus.wal import WAL, WALCorrupted
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import CertificateError, der_to_pem, parse_certificate, pem_to_der
from yulian.execution.blocks import ChainTip
from yulian.execution.executor import ExecTx
from yulian.ledger import LedgerError, open_ledger
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import SNAPSHOT_KINDS, Message, gossip_messages
from yulian.net.peers import PeerManager
from yulian.net.tls import client_context, server_context
from yulian.node import hashseed
from yulian.node.config import ConfigError, NodeConfig, accepted_genesis
from yulian.node.outputs import ConsortiumChanged
from yulian.node.replica import Committed, Outputs, Replica, ReplicaConfig, Timer
from yulian.node.snapshotservice import SnapshotService
from yulian.node.snapshotstore import SnapshotStore
from yulian.node.verifier import Verifier
from yulian.types.genesis import ChainParams, Organisation

log = logging.getLogger("yulian.node")

GENESIS_META = "genesis_hash"
GOSSIP_INTERVAL_S = 0.02
TICK_INTERVAL_S = 0.5
MAX_GOSSIP_BATCH = 1000
GOSSIP_CHUNK = 100  # peers' txs admitted between two looks at other messages


def syncing() -> AdmissionError:
    """Why a node refuses txs while state sync installs a snapshot (its replica is not up)."""
    return AdmissionError("syncing", 503, "the node is installing a snapshot; retry later")


class NodeStartError(RuntimeError):
    """The node refuses to start: its configuration, identity or data directory is wrong."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Node:
    def __init__(self, config: NodeConfig) -> None:
        if (refused := hashseed.refusal()) is not None:
            raise NodeStartError(f"refusing to start: {refused}")
        self.config = config
        try:
            self.genesis = accepted_genesis(config)  # only the genesis its org accepted
        except ConfigError as e:
            raise NodeStartError(str(e)) from None
        self.suite = get_suite(self.genesis.suite)
        self.chain_id = self.genesis.chain_id
        self.genesis_hash = self.suite.hash(self.genesis.encode())
        key = self.suite.load_private_key(config.key.read_bytes())  # handed to SafetyRules only
        self.public_key = key.public_key()
        self.cert_der = self._check_certificate()
        config.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.ledger = open_ledger(config.storage, data_dir=config.data_dir)
        except LedgerError as e:
            raise NodeStartError(f"refusing to start: the ledger: {e}") from None
        self._check_genesis_hash()
        try:
            self._wal = WAL(OsFile(config.data_dir / "consensus.wal"))
            # every node keeps safety rules: governance can make any node a validator later
            self._safety = SafetyRules(
                self.suite,
                key,
                self.chain_id,
                config.name,
                OsFile(config.data_dir / "safety.dat"),
            )
        except (WALCorrupted, CorruptSafetyData) as e:
            raise NodeStartError(f"refusing to start: {type(e).__name__}: {e}") from None
        self._make_replica()
        self.snapshots = SnapshotService(
            SnapshotStore(config.data_dir / "snapshots", config.snapshot_keep),
            self.ledger,
            self.genesis,
            self.suite,
            interval=config.snapshot_interval,
            state_sync=config.state_sync,
        )
        # told the height of a snapshot state sync installed (the replica was made anew)
        self.install_listeners: list[Callable[[int], None]] = []
        self._startup: asyncio.Task[None] | None = None
        self.peers: PeerManager | None = None
        self._ssl_contexts: tuple[ssl.SSLContext, ...] = ()
        # told of each committed block, in height order, after it is durable
        self.commit_listeners: list[Callable[[Committed], None]] = []
        # peer messages of these kinds go to another service (private data), not the replica
        self.message_handlers: dict[str, Callable[[str, Message], None]] = {}
        # told of each consensus timer that fires and each peer message (metrics)
        self.timer_listeners: list[Callable[[Timer], None]] = []
        self.message_listeners: list[Callable[[str, Message], None]] = []
        self._gossip: list[bytes] = []
        self._gossip_in: deque[tuple[str, tuple[bytes, ...]]] = deque()
        self._gossip_queued = 0
        self._gossip_admitter: asyncio.Future[None] | None = None
        self.verifier = (
            Verifier(self.genesis.suite, config.verify_workers) if config.verify_workers else None
        )
        self._stopping = False
        self._background: asyncio.Task[None] | None = None
        self._late_peers: asyncio.Task[None] | None = None  # see _on_consortium_change
        self.started_ms = now_ms()

    def _make_replica(self) -> None:
        """The replica on the ledger as it is (again after state sync installed a snapshot)."""
        config = self.config
        self.replica = Replica(
            self.genesis,
            self.suite,
            self.ledger,
            self._safety,
            self._wal,
            ReplicaConfig(
                name=config.name,
                mempool_size=config.mempool_size,
                node_cert=self.cert_der,
            ),
        )
        self._check_membership()
        self.registry = self.replica.registry
        self.mempool = self.replica.mempool

    @property
    def tip(self) -> ChainTip:
        return self.replica.tip

    @property
    def membership(self) -> Membership:
        """The members as of the committed head (changes with governance)."""
        return self.replica.membership

    @property
    def params(self) -> ChainParams:
        return self.replica.params

    @property
    def validators(self) -> ValidatorSet:
        """The validator set of the next height."""
        return self.replica.validators

    # --- start-up checks ------------------------------------------------------------------
    def _check_certificate(self) -> bytes:
        """The node certificate must be a node certificate for our key and name."""
        cert = self.config.cert.read_bytes()
        try:
            der = pem_to_der(cert) if cert.lstrip().startswith(b"-----") else cert
            info = parse_certificate(der)
        except CertificateError as e:
            raise NodeStartError(f"node certificate {self.config.cert} refused: {e}") from None
        if info.role != "node" or info.is_ca:
            raise NodeStartError(
                f"node certificate {self.config.cert} refused: role_not_allowed: role "
                f"{info.role!r} of {info.name}@{info.org} cannot run a node"
            )
        if info.public_key != self.public_key:
            raise NodeStartError("the node key does not match the node certificate")
        if info.name != self.config.name:
            raise NodeStartError(
                f"the certificate names {info.name}, the config {self.config.name}"
            )
        return der

    def _check_membership(self) -> None:
        """A node whose organisation is not (yet) in the consortium at its head may start,
        to sync: it serves once the chain admits it. Any other refusal stops it."""
        try:
            self.membership.validate(self.cert_der, at_ms=now_ms(), roles=("node",))
        except MembershipError as e:
            if e.code != "unknown_ca":
                raise NodeStartError(f"node certificate {self.config.cert} refused: {e}") from None
            log.warning(
                "%s is not a member at height %d (%s); syncing until the chain admits it",
                self.config.name,
                self.tip.height,
                e,
            )
        for v in self.replica.view.latest_validators():
            if v.public_key == self.public_key and v.name != self.config.name:
                raise NodeStartError(f"the key of {self.config.name} belongs to validator {v.name}")

    def _check_genesis_hash(self) -> None:
        stored = self.ledger.get_meta(GENESIS_META)
        if stored is None:
            self.ledger.put_meta(GENESIS_META, self.genesis_hash)
        elif stored != self.genesis_hash:
            raise NodeStartError(
                f"data directory {self.config.data_dir} belongs to another "
                "chain (genesis hash differs)"
            )

    # --- performing the replica's outputs -------------------------------------------------
    def perform(self, out: Outputs) -> None:
        loop = asyncio.get_running_loop()
        now = now_ms()
        for timer in out.timers:
            loop.call_later(max(0, timer.due_ms - now) / 1000, self._fire, timer)
        if self.peers is not None:
            for peer, msg in out.send:
                self.peers.send(peer, msg)
            for msg in out.broadcast:
                self.peers.broadcast(msg)
            for peer, reason in out.drop:
                self.peers.drop(peer, reason)
        for change in out.consortium_changes:
            self._on_consortium_change(change)
        for committed in out.committed:
            self.snapshots.after_commit(committed.height)
            log.info("committed block %d with %d txs", committed.height, len(committed.tx_ids))
            for listener in self.commit_listeners:
                listener(committed)

    def _on_consortium_change(self, change: ConsortiumChanged) -> None:
        """Governance changed the consortium (the replica says so): trust new organisations'
        CAs, drop peers that are no longer members, dial validators that joined."""
        old, new = change.previous, change.view
        log.info("consortium config changed at height %d", change.height)
        if self.peers is None:
            if not self._solo():  # a lone validator's consortium grew: listen and dial now
                self._start_peers()
                self._late_peers = asyncio.get_running_loop().create_task(self._listen_late())
            return
        known = {o.name for o in old.organisations}
        for org in new.organisations if self.suite.name == "standard" else ():
            if org.name not in known:
                pem = der_to_pem(org.ca_cert).decode("ascii")
                for ctx in self._ssl_contexts:
                    ctx.load_verify_locations(cadata=pem)
        self.peers.revalidate()
        for v in new.latest_validators():
            if v.address and v.name != self.config.name:
                self.peers.add_address(v.address)

    def _tls_roots(self) -> tuple[Organisation, ...]:
        """The CAs the TLS layer trusts. Standard suite: the current members' roots (new ones
        are added as they join). gm suite: the genesis roots, always — its TLS gate CA is
        derived from the roots it is given (decision 0007) and must be the same on every
        node for the chain's life; membership is checked after the handshake either way."""
        if self.suite.name == "standard":
            return self.replica.view.organisations
        return self.genesis.organisations

    def _fire(self, timer: Timer) -> None:
        if not self._stopping:
            for listener in self.timer_listeners:
                listener(timer)
            self.perform(self.replica.on_timer(timer, now_ms()))

    def _on_peer_message(self, peer: str, msg: Message) -> None:
        if self._stopping:
            return
        for listener in self.message_listeners:
            listener(peer, msg)
        if msg.kind in SNAPSHOT_KINDS:
            if self.peers is not None:
                self.snapshots.on_message(self.peers, peer, msg)
            return
        if self.snapshots.syncing:
            return  # the replica starts once a snapshot is installed
        handler = self.message_handlers.get(msg.kind)
        if handler is not None:
            handler(peer, msg)
            return
        if msg.kind == "txs":
            self._queue_gossip(peer, msg)
            return
        self.perform(self.replica.on_message(peer, msg, now_ms()))

    def _queue_gossip(self, peer: str, msg: Message) -> None:
        """Peers' txs are admitted by one background task, a chunk at a time, so a proposal or
        a vote that arrives meanwhile waits for one chunk, not for a whole gossip backlog (on a
        busy machine consensus latency was mostly that wait). Gossip is best effort: beyond a
        mempool's worth of queued txs, more is dropped."""
        if self._gossip_queued + len(msg.payload) > self.mempool.max_size:
            return
        self._gossip_in.append((peer, msg.payload))
        self._gossip_queued += len(msg.payload)
        if self._gossip_admitter is None or self._gossip_admitter.done():
            self._gossip_admitter = asyncio.ensure_future(self._admit_gossip())

    def _on_peer_connect(self, peer: str) -> None:
        self.snapshots.on_connect(peer)
        if self.peers is not None:
            self.peers.send(peer, self.replica.status_message())

    def _identify_peer(self, cert_der: bytes) -> str | None:
        try:
            identity = self.membership.validate(cert_der, at_ms=now_ms(), roles=("node",))
        except MembershipError as e:
            log.warning("refused a peer: %s", e)
            return None
        return identity.name

    # --- transactions ---------------------------------------------------------------------
    def _refuse_while_syncing(self) -> None:
        if self.snapshots.syncing:
            raise syncing()

    def submit(self, data: bytes) -> ExecTx:
        """Admit an encoded envelope into the mempool and gossip it; raises ``AdmissionError``."""
        self._refuse_while_syncing()
        tx = self.replica.submit(data, now_ms())
        self._gossip.append(data)
        return tx

    async def submit_many(self, datas: Sequence[bytes]) -> list[ExecTx | AdmissionError]:
        """Admit envelopes in order (signatures checked by the verifier processes, if any) and
        gossip the admitted ones: per envelope, the tx or why it was refused."""
        if self.snapshots.syncing:
            return [syncing() for _ in datas]
        await self._preverify(datas, room=self.replica.client_room())
        results = self.replica.submit_many(datas, now_ms())
        self._gossip.extend(d for d, r in zip(datas, results, strict=True) if type(r) is ExecTx)
        return results

    async def submit_one(self, data: bytes) -> ExecTx:
        """``submit`` through the verifier processes, if any; raises ``AdmissionError``."""
        (result,) = await self.submit_many((data,))
        if isinstance(result, AdmissionError):
            raise result
        return result

    async def _preverify(self, datas: Sequence[bytes], room: int) -> None:
        if self.verifier is None:
            return
        # what will not fit is refused before any check, and a copy of a pending tx is
        # refused as a duplicate: neither needs a worker
        lookup = self.mempool.lookup
        fresh = [d for d in datas[:room] if lookup(d) is None]
        if not fresh:
            return
        admission = self.replica.admission
        for verified in await self.verifier.verify(fresh):
            if verified is not None:
                admission.note_verified(*verified)

    async def _admit_gossip(self) -> None:
        while self._gossip_in and not self._stopping:
            peer, payload = self._gossip_in.popleft()
            self._gossip_queued -= len(payload)
            for start in range(0, len(payload), GOSSIP_CHUNK):
                chunk = payload[start : start + GOSSIP_CHUNK]
                await self._preverify(chunk, room=self.mempool.room())
                if self._stopping:
                    return
                self.perform(self.replica.on_message(peer, Message("txs", chunk), now_ms()))
                await asyncio.sleep(0)  # let consensus messages in between chunks

    async def _gossip_loop(self) -> None:
        """Batch client txs into one ``txs`` message per interval, and tick the replica."""
        last_tick = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(GOSSIP_INTERVAL_S)
            if self._gossip:
                batch, self._gossip = (
                    self._gossip[:MAX_GOSSIP_BATCH],
                    self._gossip[MAX_GOSSIP_BATCH:],
                )
                if self.peers is not None:
                    for msg in gossip_messages(batch):  # large txs: several messages
                        self.peers.broadcast(msg)
            if loop.time() - last_tick >= TICK_INTERVAL_S:
                last_tick = loop.time()
                self.perform(self.replica.on_tick(now_ms()))

    # --- lifecycle ------------------------------------------------------------------------
    def _start_peers(self) -> None:
        ca_bundle = self.config.data_dir / "consortium-ca.pem"
        ca_bundle.write_bytes(b"".join(der_to_pem(o.ca_cert) for o in self._tls_roots()))
        cert_pem = self.config.data_dir / "node-cert.pem"
        cert_pem.write_bytes(der_to_pem(self.cert_der))
        server_ssl = server_context(cert_pem, self.config.key, [ca_bundle])
        client_ssl = client_context(cert_pem, self.config.key, [ca_bundle])
        self._ssl_contexts = (server_ssl, client_ssl)
        addresses = [
            v.address
            for v in self.replica.view.latest_validators()
            if v.address and v.name != self.config.name
        ]
        self.peers = PeerManager(
            name=self.config.name,
            listen_host=self.config.p2p_host,
            listen_port=self.config.p2p_port,
            peers=[*self.config.peers, *addresses],
            server_ssl=server_ssl,
            client_ssl=client_ssl,
            identify=self._identify_peer,
            on_message=self._on_peer_message,
            on_connect=self._on_peer_connect,
            on_disconnect=self.snapshots.on_disconnect,
        )

    async def _listen_late(self) -> None:
        assert self.peers is not None
        try:
            await self.peers.start()
        except OSError as e:  # the node keeps serving; its operator frees the port, restarts
            log.error("cannot listen for peers on %s: %s", self.config.p2p_address, e)

    def _solo(self) -> bool:
        """A chain of one organisation whose one validator is this node, with no peers
        configured, runs alone and opens no listener. Every other node listens and dials, so
        a full node reaches even a lone validator; a lone validator whose consortium grows by
        governance starts listening then."""
        consortium = self.replica.view
        validators = consortium.latest_validators()
        return (
            not self.config.peers
            and len(consortium.organisations) == 1
            and len(validators) == 1
            and validators[0].name == self.config.name
        )

    async def start(self) -> None:
        """Connect to peers, start consensus and the gossip loop — after state sync installed
        a snapshot, when it runs (in the background: the API serves meanwhile)."""
        if not self._solo():
            self._start_peers()
            assert self.peers is not None
            await self.peers.start()
        if self.snapshots.syncing:
            self._startup = asyncio.create_task(self._sync_then_start())
        else:
            self._start_replica()

    async def _sync_then_start(self) -> None:
        if await self.snapshots.sync(self.peers, lambda: self._stopping):
            self._make_replica()
            for listener in self.install_listeners:
                listener(self.replica.tip.height)
        if not self._stopping:
            self._start_replica()

    def _start_replica(self) -> None:
        self.perform(self.replica.start(now_ms()))
        self._background = asyncio.create_task(self._gossip_loop())

    async def stop(self) -> None:
        """Stop consensus and gossip, disconnect peers and close the ledger."""
        self._stopping = True
        for task in (self._startup, self._background):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._late_peers is not None:
            await self._late_peers
        if self.peers is not None:
            await self.peers.stop()
        self.close()

    def close(self) -> None:
        if self.verifier is not None:
            self.verifier.close()
        self.ledger.close()
