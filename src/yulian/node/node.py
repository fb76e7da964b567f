"""Introduction: the node — the asyncio shell that performs a replica's effects.

``Replica`` (``node/replica.py``) is the deterministic state machine: consensus, execution,
admission and storage behind interfaces. The node gives it the real world: the wall clock,
timers on the event loop, mutual-TLS peers (``net/peers.py``), the REST API, and client
waiters. It performs each ``Outputs`` in a fixed order — timers, sends, broadcasts, then
"committed" notifications (the block is already durable when the replica reports it).

A one-validator chain is the same engine with n = 1 and no peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from yulian.consensus.durable import OsFile
from yulian.consensus.safety import CorruptSafetyData, SafetyRules
from yulian.consensus.votes import ValidatorSet
from yulian.consensus.wal import WAL, WALCorrupted
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.merkle import MerkleTree
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import CertificateError, der_to_pem, parse_certificate, pem_to_der
from yulian.execution.blocks import ChainTip
from yulian.execution.executor import BlockContext, ExecTx, SenderInfo, query_contract
from yulian.execution.overlay import state_key
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.execution.system.lifecycle import active_names
from yulian.ledger import MAX_HISTORY_LIMIT, open_ledger
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import Message
from yulian.net.peers import PeerManager
from yulian.net.tls import client_context, server_context
from yulian.node.config import ConfigError, NodeConfig, accepted_genesis
from yulian.node.replica import Outputs, Replica, ReplicaConfig, Timer
from yulian.node.verifier import Verifier
from yulian.types.block import Block, Header
from yulian.types.consortium import ConsortiumConfig
from yulian.types.genesis import ChainParams, Organisation
from yulian.types.proof import ConfigTransition, TxProofBundle
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx

log = logging.getLogger("yulian.node")

GENESIS_META = "genesis_hash"
GOSSIP_INTERVAL_S = 0.02
TICK_INTERVAL_S = 0.5
MAX_GOSSIP_BATCH = 1000
GOSSIP_CHUNK = 100  # peers' txs admitted between two looks at other messages
RECENT_BLOCKS = 256  # blocks whose tx ids the node remembers for GET /v1/blocks
ANONYMOUS = SenderInfo(org="", role="anonymous", id="", attributes={})


class NodeStartError(RuntimeError):
    """The node refuses to start: its configuration, identity or data directory is wrong."""


@dataclass(frozen=True)
class TxStatus:
    status: str  # "committed" | "pending" | "unknown"
    height: int = 0
    index: int = 0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        try:
            self.genesis = accepted_genesis(config)  # only the genesis its org accepted
        except ConfigError as e:
            raise NodeStartError(str(e)) from None
        self.suite = get_suite(self.genesis.suite)
        self.chain_id = self.genesis.chain_id
        self.genesis_hash = self.suite.hash(self.genesis.encode())
        self.key = self.suite.load_private_key(config.key.read_bytes())
        self.cert_der = self._check_certificate()
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = open_ledger(config.storage, data_dir=config.data_dir)
        self._check_genesis_hash()
        try:
            wal = WAL(OsFile(config.data_dir / "consensus.wal"))
            # every node keeps safety rules: governance can make any node a validator later
            safety = SafetyRules(
                self.suite,
                self.key,
                self.chain_id,
                config.name,
                OsFile(config.data_dir / "safety.dat"),
            )
        except (WALCorrupted, CorruptSafetyData) as e:
            raise NodeStartError(f"refusing to start: {type(e).__name__}: {e}") from None
        self.replica = Replica(
            self.genesis,
            self.suite,
            self.key,
            self.ledger,
            safety,
            wal,
            ReplicaConfig(
                name=config.name,
                mempool_size=config.mempool_size,
                node_cert=self.cert_der,
            ),
        )
        self._check_membership()
        self._consortium_seen = self.replica.consortium
        self.registry = self.replica.registry
        self.mempool = self.replica.mempool
        self.peers: PeerManager | None = None
        self._ssl_contexts: tuple[ssl.SSLContext, ...] = ()
        self._waiters: dict[bytes, list[asyncio.Future[TxStatus]]] = {}
        self._gossip: list[bytes] = []
        self._gossip_in: deque[tuple[str, tuple[bytes, ...]]] = deque()
        self._gossip_queued = 0
        self._gossip_admitter: asyncio.Future[None] | None = None
        self._recent_tx_ids: dict[int, tuple[bytes, ...]] = {}  # height -> ids, newest blocks
        self.verifier = (
            Verifier(self.genesis.suite, config.verify_workers) if config.verify_workers else None
        )
        self._stopping = False
        self.started_ms = now_ms()

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
        if info.public_key != self.key.public_key():
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
        for v in self.replica.consortium.latest_validators():
            if v.public_key == self.key.public_key() and v.name != self.config.name:
                raise NodeStartError(f"the key of {self.config.name} belongs to validator {v.name}")

    def contract_names(self) -> list[str]:
        """System contracts, contracts deployed through the lifecycle, genesis contracts."""
        deployed = active_names(self.ledger)
        return sorted({*self.registry.system_names(), *deployed, *self.registry.genesis_names()})

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
        if out.committed and self.replica.consortium is not self._consortium_seen:
            self._on_consortium_change()
        for committed in out.committed:
            log.info("committed block %d with %d txs", committed.height, len(committed.tx_ids))
            self._recent_tx_ids[committed.height] = committed.tx_ids
            if len(self._recent_tx_ids) > RECENT_BLOCKS:
                del self._recent_tx_ids[next(iter(self._recent_tx_ids))]
            for index, tx_id in enumerate(committed.tx_ids):
                for future in self._waiters.pop(tx_id, []):
                    if not future.done():
                        future.set_result(TxStatus("committed", committed.height, index))

    def _on_consortium_change(self) -> None:
        """Governance changed the consortium: trust new organisations' CAs, drop peers that
        are no longer members, dial validators that joined."""
        old, new = self._consortium_seen, self.replica.consortium
        self._consortium_seen = new
        log.info("consortium config changed at height %d", self.tip.height)
        if self.peers is None:
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
            return self.replica.consortium.organisations
        return self.genesis.organisations

    def _fire(self, timer: Timer) -> None:
        if not self._stopping:
            self.perform(self.replica.on_timer(timer, now_ms()))

    def _on_peer_message(self, peer: str, msg: Message) -> None:
        if self._stopping:
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
    def submit(self, data: bytes) -> ExecTx:
        """Admit an encoded envelope into the mempool and gossip it; raises ``AdmissionError``."""
        tx = self.replica.submit(data, now_ms())
        self._gossip.append(data)
        return tx

    async def submit_many(self, datas: Sequence[bytes]) -> list[ExecTx | AdmissionError]:
        """Admit envelopes in order (signatures checked by the verifier processes, if any) and
        gossip the admitted ones: per envelope, the tx or why it was refused."""
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

    def tx_status(self, tx_id: bytes) -> TxStatus:
        location = self.ledger.tx_location(tx_id)
        if location is not None:
            return TxStatus("committed", *location)
        if tx_id in self.mempool:
            return TxStatus("pending")
        return TxStatus("unknown")

    async def wait_committed(self, tx_id: bytes, timeout_s: float) -> TxStatus:
        status = self.tx_status(tx_id)
        if status.status == "committed":
            return status
        future: asyncio.Future[TxStatus] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tx_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return self.tx_status(tx_id)
        finally:
            waiters = self._waiters.get(tx_id)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiters[tx_id]

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
                    self.peers.broadcast(Message("txs", tuple(batch)))
            if loop.time() - last_tick >= TICK_INTERVAL_S:
                last_tick = loop.time()
                self.perform(self.replica.on_tick(now_ms()))

    # --- reads ----------------------------------------------------------------------------
    def block_tx_ids(self, height: int, block: Block) -> Sequence[bytes]:
        """The ids of ``block``'s txs (the block at ``height``): remembered for the newest
        blocks, which followers ask for most, else computed."""
        known = self._recent_tx_ids.get(height)
        if known is not None:
            return known
        return [self.suite.hash(SignedTx.decode(t).body) for t in block.txs]

    def block(self, height: int) -> Block | None:
        data = self.ledger.block(height)
        return Block.decode(data) if data is not None else None

    def header(self, height: int) -> Header | None:
        block = self.block(height)
        return block.header if block is not None else None

    def receipt(self, height: int, index: int) -> Receipt | None:
        data = self.ledger.receipt(height, index)
        return Receipt.decode(data) if data is not None else None

    def proof(self, tx_id: bytes) -> TxProofBundle | None:
        location = self.ledger.tx_location(tx_id)
        if location is None:
            return None
        height, index = location
        block_bytes = self.ledger.block(height)
        commit = self.ledger.commit(height)
        assert block_bytes is not None and commit is not None
        block = Block.decode(block_bytes)
        tx_tree, receipt_tree, receipts = self._trees(height)
        return TxProofBundle(
            chain_id=self.chain_id,
            envelope=block.txs[index],
            receipt=receipts[index],
            index=index,
            tree_size=len(block.txs),
            tx_path=tx_tree.proof(index),
            receipt_path=receipt_tree.proof(index),
            header=block.header.encode(),
            commit=commit,
            prev_header=self.header(height - 1).encode() if height > 1 else b"",  # type: ignore[union-attr]
            transitions=self.governance_path(height),
        )

    def config_at(self, height: int) -> ConsortiumConfig:
        """The consortium config after block ``height`` (0 = the genesis config)."""
        data = self.ledger.get_at(CONFIG_KEY, height) if height > 0 else None
        if data is None:
            return self.replica.genesis_config
        return ConsortiumConfig.decode(data)

    def governance_path(self, height: int) -> tuple[ConfigTransition, ...]:
        """Every block below ``height`` that changed the consortium config, ascending."""
        versions = self.ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT, before_height=height)
        path = []
        for at, config in reversed(versions):
            block, commit = self.ledger.block(at), self.ledger.commit(at)
            assert block is not None and commit is not None and config is not None
            path.append(ConfigTransition(Block.decode(block).header.encode(), commit, config))
        return tuple(path)

    @lru_cache(maxsize=32)  # noqa: B019  (one node per process; blocks are immutable)
    def _trees(self, height: int) -> tuple[MerkleTree, MerkleTree, tuple[bytes, ...]]:
        block = self.block(height)
        assert block is not None
        receipts = tuple(self.ledger.receipts(height) or ())
        return (
            MerkleTree(block.txs, self.suite.hash),
            MerkleTree(receipts, self.suite.hash),
            receipts,
        )

    def state_get(self, contract: str, key: str) -> bytes | None:
        return self.ledger.get(state_key(contract, key))

    def state_history(self, contract: str, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return self.ledger.history(state_key(contract, key), limit=limit)

    def query(self, contract: str, method: str, args: Sequence[object]) -> Receipt:
        block = BlockContext(self.tip.height, self.tip.time_ms, self.params.step_limit)
        return query_contract(
            self.ledger, block, contract, method, args, self.registry.resolve, ANONYMOUS
        )

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
            for v in self.replica.consortium.latest_validators()
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
        )

    async def run(self) -> None:
        """Serve the API, talk to peers and run consensus until SIGINT/SIGTERM."""
        import uvicorn

        from yulian.api.app import create_asgi

        server = uvicorn.Server(
            uvicorn.Config(
                create_asgi(self),
                host=self.config.api_host,
                port=self.config.api_port,
                loop="none",
                log_level="warning",
                access_log=False,
                lifespan="off",
                proxy_headers=False,  # the API binds its own address; no proxy vouches for peers
            )
        )
        # always listen: a full node or a validator added later may dial even a lone validator
        self._start_peers()
        assert self.peers is not None
        await self.peers.start()
        self.perform(self.replica.start(now_ms()))
        background = asyncio.create_task(self._gossip_loop())
        try:
            await server.serve()
        finally:
            self._stopping = True
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            if self.peers is not None:
                await self.peers.stop()
            self.close()

    def close(self) -> None:
        if self.verifier is not None:
            self.verifier.close()
        self.ledger.close()


def run_node(config: NodeConfig) -> None:
    """Start ``config``'s node on uvloop and block until it stops."""
    import uvloop

    async def main() -> None:
        node = Node(config)
        log.info(
            "node %s serving http://%s:%d at height %d",
            config.name,
            config.api_host,
            config.api_port,
            node.tip.height,
        )
        await node.run()

    uvloop.run(main())
