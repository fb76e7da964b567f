"""Introduction: the node — the asyncio shell around the pure cores.

The node owns every effect: it reads the clock, admits transactions into the mempool, cuts
blocks, runs the pure ``make_block`` (execution), signs the commit certificate and writes the
block in one atomic ledger transaction. The order is fixed: *execute, persist, then notify* —
a client hears "committed" only after the block is durable.

With one validator the node cuts a block every ``block_interval_ms`` while transactions are
pending (or at once when a block's worth is waiting) and certifies it with its own precommit;
the certificate has the same format the BFT engine produces with many validators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from yulian.consensus.votes import ValidatorSet, sign_commit
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.merkle import MerkleTree
from yulian.crypto.suite import get_suite
from yulian.execution.blocks import ChainTip, make_block
from yulian.execution.executor import BlockContext, ExecTx, SenderInfo, query_contract
from yulian.execution.overlay import state_key
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import genesis_state_root
from yulian.ledger import BlockCommit, open_ledger
from yulian.mempool.admission import Admission
from yulian.mempool.pool import Mempool
from yulian.node.config import NodeConfig
from yulian.types.block import Block, Header
from yulian.types.encoding import encode
from yulian.types.genesis import Genesis
from yulian.types.proof import TxProofBundle
from yulian.types.receipt import Receipt

log = logging.getLogger("yulian.node")

GENESIS_META = "genesis_hash"
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
        self.genesis = Genesis.load(config.genesis)
        self.suite = get_suite(self.genesis.suite)
        self.chain_id = self.genesis.chain_id
        self.genesis_hash = self.suite.hash(self.genesis.encode())
        self.params = self.genesis.params
        self.membership = Membership(self.suite, self.genesis.organisations)
        self.key = self.suite.load_private_key(config.key.read_bytes())
        self.identity = self._check_identity()
        self.validators = ValidatorSet(self.genesis.validators)
        self.validators_hash = self.suite.hash(encode(self.genesis.validators_value()))
        self.validator = next(
            (v for v in self.genesis.validators if v.public_key == self.key.public_key()), None
        )
        if self.validator is None:
            raise NodeStartError(f"{config.name} is not a validator of {self.chain_id}")
        if len(self.genesis.validators) != 1:
            raise NodeStartError(
                "this node runs the one-validator engine; the genesis names "
                f"{len(self.genesis.validators)} validators"
            )
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.ledger = open_ledger(config.data_dir / "ledger")
        self._check_genesis_hash()
        self.registry = ContractRegistry(self.suite, self.genesis.contracts)
        self.mempool = Mempool(config.mempool_size)
        self.admission = Admission(
            self.suite,
            self.chain_id,
            self.params,
            self.membership,
            contract_exists=lambda name: self.registry.source(name) is not None,
            is_known=lambda tx_id: tx_id in self.mempool or self.ledger.has_tx(tx_id),
        )
        self.tip = self._load_tip()
        self._waiters: dict[bytes, list[asyncio.Future[TxStatus]]] = {}
        self._tx_arrived = asyncio.Event()
        self._stopping = False
        self.started_ms = now_ms()
        self.last_block_ms = 0

    # --- start-up checks ------------------------------------------------------------------
    def _check_identity(self) -> object:
        cert = self.config.cert.read_bytes()
        from yulian.crypto.x509 import pem_to_der

        der = pem_to_der(cert) if cert.lstrip().startswith(b"-----") else cert
        try:
            identity = self.membership.validate(der, at_ms=now_ms(), roles=("node",))
        except MembershipError as e:
            raise NodeStartError(f"node certificate {self.config.cert} refused: {e}") from None
        if identity.public_key != self.key.public_key():
            raise NodeStartError("the node key does not match the node certificate")
        return identity

    def _check_genesis_hash(self) -> None:
        stored = self.ledger.get_meta(GENESIS_META)
        if stored is None:
            self.ledger.put_meta(GENESIS_META, self.genesis_hash)
        elif stored != self.genesis_hash:
            raise NodeStartError(
                f"data directory {self.config.data_dir} belongs to another "
                "chain (genesis hash differs)"
            )

    def _load_tip(self) -> ChainTip:
        height = self.ledger.height()
        if height == 0:
            return ChainTip(
                0,
                self.genesis_hash,
                genesis_state_root(self.suite, self.genesis_hash),
                self.genesis.time_ms,
            )
        header = self.header(height)
        assert header is not None, "the head block is present"
        block_hash = self.ledger.block_hash(height)
        assert block_hash is not None
        return ChainTip(height, block_hash, header.state_root, header.time_ms)

    # --- transactions ---------------------------------------------------------------------
    def submit(self, data: bytes) -> ExecTx:
        """Admit an encoded envelope into the mempool; raises ``AdmissionError``."""
        tx = self.admission.admit(data, next_height=self.tip.height + 1, now_ms=now_ms())
        self.mempool.add(tx)
        self._tx_arrived.set()
        return tx

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

    # --- block production -----------------------------------------------------------------
    async def produce_blocks(self) -> None:
        interval_s = self.params.block_interval_ms / 1000
        while not self._stopping:
            await self._tx_arrived.wait()
            self._tx_arrived.clear()
            while len(self.mempool) > 0 and not self._stopping:
                if len(self.mempool) < self.params.max_block_txs:
                    await asyncio.sleep(
                        max(0.0, interval_s - (now_ms() - self.last_block_ms) / 1000)
                    )
                await self.produce_block()

    async def produce_block(self) -> Block | None:
        next_height = self.tip.height + 1
        txs = self.mempool.reap(self.params.max_block_txs, next_height)
        if not txs:
            return None
        time_ms = max(now_ms(), self.tip.time_ms + 1)
        block, commit_record, _receipts = await asyncio.to_thread(
            self._build_and_commit, txs, time_ms
        )
        self.mempool.remove(t.tx_id for t in txs)
        self.tip = ChainTip(
            block.header.height,
            commit_record.block_hash,
            block.header.state_root,
            block.header.time_ms,
        )
        self.last_block_ms = now_ms()
        for index, tx in enumerate(txs):
            for future in self._waiters.pop(tx.tx_id, []):
                if not future.done():
                    future.set_result(TxStatus("committed", block.header.height, index))
        log.info("committed block %d with %d txs", block.header.height, len(txs))
        return block

    def _build_and_commit(
        self, txs: Sequence[ExecTx], time_ms: int
    ) -> tuple[Block, BlockCommit, tuple[Receipt, ...]]:
        assert self.validator is not None
        block, result = make_block(
            self.suite,
            self.chain_id,
            self.ledger,
            self.tip,
            time_ms=time_ms,
            proposer=self.validator.name,
            validators_hash=self.validators_hash,
            txs=txs,
            resolve=self.registry.resolve,
            step_limit=self.params.step_limit,
        )
        block_hash = block.header.hash(self.suite.hash)
        commit = sign_commit(
            self.chain_id,
            block.header.height,
            0,
            block_hash,
            [(self.validator.name, self.key.sign)],
        )
        record = BlockCommit(
            height=block.header.height,
            block_hash=block_hash,
            block=block.encode(),
            commit=commit.encode(),
            tx_ids=tuple(t.tx_id for t in txs),
            receipts=tuple(r.encode() for r in result.receipts),
            writes=result.writes,
            state_root=block.header.state_root,
        )
        self.ledger.commit_block(record)
        return block, record, result.receipts

    # --- reads ----------------------------------------------------------------------------
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
        )

    @lru_cache(maxsize=32)  # noqa: B019  (one node per process; blocks are immutable)
    def _trees(self, height: int) -> tuple[MerkleTree, MerkleTree, tuple[bytes, ...]]:
        block = self.block(height)
        assert block is not None
        receipts = tuple(
            self.ledger.receipt(height, i) or b"" for i in range(block.header.tx_count)
        )
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
    async def run(self) -> None:
        """Serve the API and produce blocks until SIGINT/SIGTERM."""
        import uvicorn

        from yulian.api.app import create_app

        app = create_app(self)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=self.config.api_host,
                port=self.config.api_port,
                loop="none",
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        producer = asyncio.create_task(self.produce_blocks())
        try:
            await server.serve()
        finally:
            self._stopping = True
            self._tx_arrived.set()
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
            self.close()

    def close(self) -> None:
        self.ledger.close()


def run_node(config: NodeConfig) -> None:
    """Start ``config``'s node on uvloop and block until it stops."""
    import uvloop

    node_holder: list[Node] = []

    async def main() -> None:
        node = Node(config)
        node_holder.append(node)
        log.info(
            "node %s serving http://%s:%d at height %d",
            config.name,
            config.api_host,
            config.api_port,
            node.tip.height,
        )
        await node.run()

    uvloop.run(main())
