"""Introduction: the node's read model — the node side of the API's port (``api/port.py``).

It answers the API from the node's own ledger, whose every block the replica verified before
committing it (re-execution, every root, the commit certificate), so proofs are assembled,
never re-verified. It holds the commit feed: the node hands it each committed block
(``publish``, after the block is durable), and it fans the block out to the feed's
subscribers — the ``?wait=`` waits and the event stream among them — and to the metrics. It
changes nothing but its own caches; writes go through the node (``submit``), which admits and
gossips. The explorer's derived reads live in their own modules: ``blockreads`` (lists and
signing statistics), ``govreads`` (contracts and proposals), ``txwrites`` (a tx's writes).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from yulian.api.port import (
    BlockRecord,
    BlockSummary,
    CommittedBlock,
    Head,
    NodeHealth,
    NotHeld,
    ProvenTx,
    StateKeyInfo,
    TxBrief,
    TxStatus,
)
from yulian.crypto.merkle import MerkleTree
from yulian.crypto.x509 import parse_certificate
from yulian.execution.executor import BlockContext, SenderInfo, query_contract
from yulian.execution.overlay import state_key
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.execution.system.lifecycle import active_names
from yulian.ledger import MAX_HISTORY_LIMIT, EventCursor, EventPage
from yulian.ledger.archive import archived_at
from yulian.ledger.events import MAX_EVENT_LIMIT, EventFilter, StoredEvent
from yulian.mempool.admission import AdmissionError
from yulian.node.blockreads import BlockReads
from yulian.node.commit_feed import CommitFeed
from yulian.node.commit_waiters import CommitWaiters
from yulian.node.govreads import GovernanceReads
from yulian.node.metrics import FeedState, NodeMetrics
from yulian.node.txwrites import TxWrites
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.proof import ConfigTransition, TxProofBundle
from yulian.types.receipt import Receipt
from yulian.types.summary import SignerInfo, tx_summary
from yulian.types.tx import SignedTx

if TYPE_CHECKING:
    from yulian.node.node import Node
    from yulian.node.replica import Committed, Replica

ANONYMOUS = SenderInfo(org="", role="anonymous", id="", attributes={})
RECENT_BLOCKS = 256  # blocks whose tx ids are remembered (followers ask for the newest most)
TREE_CACHE_BLOCKS = 32  # blocks whose Merkle trees are kept for proofs


class ReadModel:
    """``NodePort`` over one node. Create it before the node starts committing."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._ledger = node.ledger
        self._suite = node.suite
        self.chain_id = node.chain_id
        self.genesis = node.genesis
        self.commits = CommitFeed(self._ledger.height())
        self._waiters = CommitWaiters(self.commits, self._ledger.tx_location)
        self._recent_tx_ids: dict[int, tuple[bytes, ...]] = {}
        self._trees = lru_cache(maxsize=TREE_CACHE_BLOCKS)(self._build_trees)
        self._blocks = BlockReads(self._ledger, self._suite, lambda: self._replica.genesis_config)
        self._governance = GovernanceReads(
            self._ledger,
            self._suite,
            node.genesis,
            lambda: self._replica.registry.system_names(),  # the replica of now (state sync)
            self.config_at,
        )
        self._writes = TxWrites(
            self._ledger,
            self._suite,
            self.chain_id,
            lambda name, view: self._replica.registry.resolve(name, view),
            self.config_at,
        )
        self._metrics = NodeMetrics(node)
        self._metrics.registry.register(FeedState(self.commits))
        self._metrics.instrument()
        self.commits.observers.append(self._metrics.observe_block)
        node.commit_listeners.append(self.publish)
        node.timer_listeners.append(self._metrics.observe_timer)
        node.message_listeners.append(self._metrics.observe_message)
        node.install_listeners.append(self._installed)

    @property
    def metrics(self) -> CollectorRegistry:
        return self._metrics.registry

    @property
    def _replica(self) -> Replica:
        """The node's replica (made anew when state sync installs a snapshot)."""
        return self._node.replica

    def _installed(self, height: int) -> None:
        """State sync installed a snapshot of ``height``: the feed goes on from there."""
        self.commits.published_height = height

    # --- the node's side: each committed block ------------------------------------------
    def publish(self, committed: Committed) -> None:
        self._recent_tx_ids[committed.height] = committed.tx_ids
        if len(self._recent_tx_ids) > RECENT_BLOCKS:
            del self._recent_tx_ids[next(iter(self._recent_tx_ids))]
        self.commits.publish(  # from the replica's record: reading the block back costs more
            CommittedBlock(  # than the rest of the commit's observations together
                committed.height,
                committed.block_hash,
                committed.time_ms,
                committed.tx_ids,
                self._feed_receipts,
                size_bytes=committed.size_bytes,
                round=committed.round,
                load_events=self._feed_events,
            )
        )

    async def close(self) -> None:
        await self._waiters.close()
        self.commits.close()

    # --- writes (through the node: admission, verifier processes, gossip) ---------------
    def max_tx_bytes(self) -> int:
        return self._replica.params.max_tx_bytes

    async def submit(self, data: bytes) -> bytes:
        (result,) = await self.submit_many((data,))
        if isinstance(result, AdmissionError):
            raise result
        return result

    async def submit_many(self, datas: Sequence[bytes]) -> list[bytes | AdmissionError]:
        results = await self._node.submit_many(datas)
        self._metrics.observe_admission(results)
        return [r if isinstance(r, AdmissionError) else r.tx_id for r in results]

    async def wait_committed(self, tx_id: bytes, timeout_s: float) -> TxStatus:
        status = self.tx_status(tx_id)
        if status.status == "committed":
            return status
        committed = await self._waiters.wait(tx_id, timeout_s)
        return committed if committed is not None else self.tx_status(tx_id)

    # --- reads ----------------------------------------------------------------------------
    def tx_status(self, tx_id: bytes) -> TxStatus:
        location = self._ledger.tx_location(tx_id)
        if location is not None:
            return TxStatus("committed", *location)
        if tx_id in self._replica.mempool:
            return TxStatus("pending")
        return TxStatus("unknown")

    def head(self) -> Head:
        tip = self._replica.tip
        return Head(tip.height, tip.block_hash, tip.time_ms)

    def block(self, height: int) -> BlockRecord | None:
        if not 1 <= height <= self._ledger.height():
            return None
        data, commit, block_hash = (
            self._ledger.block(height),
            self._ledger.commit(height),
            self._ledger.block_hash(height),
        )
        if data is None or block_hash is None:
            return None  # below the floor: not held (``not_held`` says where it is)
        block = Block.decode(data)
        tx_ids = self._recent_tx_ids.get(height)
        if tx_ids is None:
            tx_ids = tuple(self._suite.hash(SignedTx.decode(t).body) for t in block.txs)
        return BlockRecord(
            block.header,
            block_hash,
            tx_ids,
            CommitCertificate.decode(commit) if commit is not None else None,
        )

    def not_held(self, height: int) -> NotHeld | None:
        if not 1 <= height <= self._ledger.height() or self._ledger.block(height) is not None:
            return None
        entry = archived_at(self._ledger, height)
        floor = self._ledger.floor()
        if entry is None:
            return NotHeld(height, floor)
        return NotHeld(height, floor, entry.name, entry.first, entry.last)

    def receipt(self, height: int, index: int) -> Receipt | None:
        data = self._ledger.receipt(height, index)
        return Receipt.decode(data) if data is not None else None

    def receipts(self, height: int) -> Sequence[Receipt]:
        return tuple(Receipt.decode(r) for r in self._trees(height)[2])

    def _feed_receipts(self, height: int) -> Sequence[Receipt]:
        """A committed block's receipts for the feed's consumers (no Merkle trees built)."""
        return tuple(Receipt.decode(r) for r in self._ledger.receipts(height) or ())

    def _feed_events(self, height: int) -> list[StoredEvent]:
        """A committed block's events from the event index (in cursor order)."""
        out: list[StoredEvent] = []
        after = EventCursor.before(height)
        while True:
            page = self._ledger.events(after, MAX_EVENT_LIMIT, scan_limit=MAX_EVENT_LIMIT)
            for event in page.events:
                if event.cursor.height != height:
                    return out
                out.append(event)
            if page.exhausted or page.next_after is None:
                return out
            after = page.next_after

    def proven_tx(self, tx_id: bytes) -> ProvenTx | None:
        location = self._ledger.tx_location(tx_id)
        if location is None:
            return None
        height, index = location
        block_bytes, commit_bytes = self._ledger.block(height), self._ledger.commit(height)
        prev = self._ledger.block(height - 1) if height > 1 else None
        if block_bytes is None or commit_bytes is None or (height > 1 and prev is None):
            return None  # archived or below a snapshot: ``not_held`` says where
        block = Block.decode(block_bytes)
        tx_tree, receipt_tree, receipts = self._trees(height)
        bundle = TxProofBundle(
            chain_id=self.chain_id,
            envelope=block.txs[index],
            receipt=receipts[index],
            index=index,
            tree_size=len(block.txs),
            tx_path=tx_tree.proof(index),
            receipt_path=receipt_tree.proof(index),
            header=block.header.encode(),
            commit=commit_bytes,
            prev_header=Block.decode(prev).header.encode() if prev is not None else b"",
            transitions=self._governance_path(height),
        )
        signed = SignedTx.decode(bundle.envelope)
        receipt = Receipt.decode(bundle.receipt)
        commit = CommitCertificate.decode(commit_bytes)
        block_hash = self._suite.hash(bundle.header)
        signer = parse_certificate(signed.tx.signer)
        summary = tx_summary(
            tx_id=tx_id,
            tx=signed.tx,
            signer=SignerInfo(
                signer.org, signer.role, signer.name, self._suite.hash(signed.tx.signer).hex()
            ),
            index=index,
            header=block.header,
            block_hash=block_hash,
            receipt=receipt,
            commit=commit,
        )
        return ProvenTx(height, index, receipt, block.header, block_hash, commit, bundle, summary)

    def _governance_path(self, height: int) -> tuple[ConfigTransition, ...]:
        """Every block below ``height`` that changed the consortium config, ascending."""
        versions = self._ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT, before_height=height)
        path = []
        for at, config in reversed(versions):
            block, commit = self._ledger.block(at), self._ledger.commit(at)
            assert block is not None and commit is not None and config is not None
            path.append(ConfigTransition(Block.decode(block).header.encode(), commit, config))
        return tuple(path)

    def _build_trees(self, height: int) -> tuple[MerkleTree, MerkleTree, tuple[bytes, ...]]:
        """The two Merkle trees of block ``height`` and its encoded receipts (immutable)."""
        data = self._ledger.block(height)
        assert data is not None
        block = Block.decode(data)
        receipts = tuple(self._ledger.receipts(height) or ())
        return (
            MerkleTree(block.txs, self._suite.hash),
            MerkleTree(receipts, self._suite.hash),
            receipts,
        )

    def state_get(self, contract: str, key: str) -> bytes | None:
        return self._ledger.get(state_key(contract, key))

    def state_history(self, contract: str, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return self._ledger.history(state_key(contract, key), limit=limit)

    def query(
        self,
        contract: str,
        method: str,
        args: Sequence[object],
        sender: SenderInfo | None = None,
    ) -> Receipt:
        tip = self._replica.tip
        block = BlockContext(tip.height, tip.time_ms, self._replica.params.step_limit)
        caller = sender if sender is not None else ANONYMOUS
        return query_contract(
            self._ledger, block, contract, method, args, self._replica.registry.resolve, caller
        )

    def config_at(self, height: int) -> ConsortiumConfig:
        # every version of the config is kept, also below a floor (decision 0050): its
        # history answers where a versioned read (get_at) of a pruned ledger would not
        versions = self._ledger.history(CONFIG_KEY, limit=1, before_height=height + 1)
        data = versions[0][1] if versions and height > 0 else None
        if data is None:
            return self._replica.genesis_config
        return ConsortiumConfig.decode(data)

    def contract_names(self) -> list[str]:
        """System contracts, contracts deployed through the lifecycle, genesis contracts."""
        registry = self._replica.registry
        deployed = active_names(self._ledger)
        return sorted({*registry.system_names(), *deployed, *registry.genesis_names()})

    def health(self) -> NodeHealth:
        node, replica = self._node, self._replica
        return NodeHealth(
            node=node.config.name,
            org=node.config.org,
            chain_id=self.chain_id,
            genesis_hash=replica.genesis_hash,
            suite=self._suite.name,
            height=replica.tip.height,
            last_block_time_ms=replica.tip.time_ms,
            round=replica.round,
            peers=node.peers.connected() if node.peers is not None else [],
            mempool=len(replica.mempool),
            validators=[v.name for v in replica.validators.validators],
            contracts=self.contract_names(),
        )

    # --- the explorer's reads ---------------------------------------------------------------
    def block_summaries(self, before: int, limit: int) -> list[BlockSummary]:
        return self._blocks.summaries(before, limit)

    def block_height(self, block_hash: bytes) -> int | None:
        return self._ledger.block_height(block_hash)

    def block_txs(self, height: int, offset: int, limit: int) -> list[TxBrief] | None:
        return self._blocks.txs(height, offset, limit)

    async def tx_writes(self, tx_id: bytes) -> list[tuple[bytes, bytes | None]] | None:
        return await self._writes.writes(tx_id)

    def events(
        self, after: EventCursor | None, limit: int, event_filter: EventFilter, scan_limit: int
    ) -> EventPage:
        f = event_filter
        return self._ledger.events(
            after,
            limit,
            contract=f.contract,
            name=f.name,
            key_prefix=f.key_prefix,
            payload_prefix=f.payload_prefix,
            scan_limit=scan_limit,
        )

    def state_keys(
        self, contract: str, prefix: str, after: str | None, limit: int
    ) -> list[StateKeyInfo]:
        base = state_key(contract, "")
        start = state_key(contract, after) if after is not None else None
        out = []
        for key, value in self._ledger.scan_prefix(state_key(contract, prefix), limit, start):
            versions = self._ledger.history(key, limit=1)
            height = versions[0][0] if versions else 0
            out.append(StateKeyInfo(key[len(base) :].decode("utf-8"), height, len(value)))
        return out

    def contracts(self) -> list[dict[str, Any]]:
        return self._governance.contracts()

    def contract(self, name: str) -> dict[str, Any] | None:
        return self._governance.contract(name)

    def contract_code(self, name: str, version: str | None) -> dict[str, Any] | None:
        return self._governance.contract_code(name, version)

    def proposals(
        self, scope: str | None, status: str | None, before_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        return self._governance.proposals(scope, status, before_id, limit)

    def proposal(self, scope: str, proposal_id: int) -> dict[str, Any] | None:
        return self._governance.proposal(scope, proposal_id)

    def validator_stats(self, window: int) -> dict[str, Any]:
        return self._blocks.validator_stats(window)
