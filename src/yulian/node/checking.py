"""Introduction: block checking — is a proposed or synced block the valid next block?

``BlockChecker`` is what every validator does with a proposal and what block sync does with a
fetched block: refuse a block over the chain's limits before anything else, check every tx as
admission would at the block's height and time (a tx pending here is only rechecked for what
depends on the height, the time and the config), refuse repeated or committed txs, then
re-execute with ``check_block`` and compare every root. A proposal's header must also be its
proposer's (or, re-proposed with a proof of lock, some validator's) and not from too far in
the future.

The executed results of the height are kept for the commit, at most ``MAX_RESULTS`` (oldest
dropped first); a decided block whose result was dropped is executed again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Protocol

from yulian.consensus.consortium_view import ConsortiumView
from yulian.consensus.votes import InvalidCommit, ValidatorSet, verify_commit
from yulian.crypto.suite import Suite
from yulian.execution.blocks import BlockLimits, ChainTip, InvalidBlock, check_block
from yulian.execution.executor import BlockResult, ContractResolver, ExecTx
from yulian.ledger import Ledger
from yulian.mempool.admission import Admission, AdmissionError
from yulian.mempool.pool import Mempool
from yulian.net.sync import InvalidSyncData
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.consensus import Proposal
from yulian.types.encoding import DecodeError
from yulian.types.genesis import ChainParams

log = logging.getLogger("yulian.replica")

MAX_CLOCK_DRIFT_MS = 10_000  # a proposal's block time may be this far ahead of ours
MAX_RESULTS = 8  # executed blocks kept per height


class CheckSource(Protocol):
    """What the checker reads about the chain the block extends."""

    @property
    def tip(self) -> ChainTip: ...
    @property
    def params(self) -> ChainParams: ...
    @property
    def validators(self) -> ValidatorSet: ...
    @property
    def view(self) -> ConsortiumView: ...
    @property
    def ledger(self) -> Ledger: ...


class BlockChecker:
    def __init__(
        self,
        suite: Suite,
        chain_id: str,
        name: str,
        mempool: Mempool,
        admission: Admission,
        resolve: ContractResolver,
    ) -> None:
        self._suite = suite
        self._chain_id = chain_id
        self._name = name
        self._mempool = mempool
        self._admission = admission
        self._resolve = resolve
        self._results: OrderedDict[bytes, tuple[Block, BlockResult]] = OrderedDict()

    def new_height(self) -> None:
        self._results = OrderedDict()

    def keep(self, block_hash: bytes, block: Block, result: BlockResult) -> None:
        self._results[block_hash] = (block, result)
        while len(self._results) > MAX_RESULTS:
            self._results.popitem(last=False)

    def decided(
        self, block_bytes: bytes, block_hash: bytes, chain: CheckSource
    ) -> tuple[Block, BlockResult]:
        """The block the core decided and its result (executed again if it was dropped)."""
        cached = self._results.get(block_hash)
        if cached is not None:
            return cached
        block = Block.decode(block_bytes)
        return block, self.replay(block, chain)

    def validate_proposal(self, proposal: Proposal, now_ms: int, chain: CheckSource) -> bool:
        """Valid iff the block decodes, is the proposer's, is not from the future, and
        re-executes to every root it claims; the result is kept for the commit."""
        if proposal.block_hash in self._results:
            return True
        try:
            block = Block.decode(proposal.block)
        except DecodeError as e:
            log.warning("%s: proposal block malformed: %s", self._name, e)
            return False
        header = block.header
        if header.hash(self._suite.hash) != proposal.block_hash:
            return False
        if header.time_ms > now_ms + MAX_CLOCK_DRIFT_MS:
            return False
        # a new block is built by its proposer; a re-proposed one (pol_round >= 0) keeps the
        # header of whichever validator built it
        if header.proposer != proposal.proposer and (
            proposal.pol_round < 0 or chain.validators.by_name(header.proposer) is None
        ):
            return False
        try:
            result = self.replay(block, chain)
        except InvalidBlock as e:
            log.warning("%s: invalid proposal at height %d: %s", self._name, header.height, e)
            return False
        self.keep(proposal.block_hash, block, result)
        return True

    def check_synced(
        self, block_bytes: bytes, commit_bytes: bytes, chain: CheckSource
    ) -> tuple[Block, bytes, CommitCertificate, BlockResult]:
        """A block from a peer's sync reply: the next height's, with a certificate that
        verifies against this height's validator set, re-executing to every root it claims.
        Returns the block, its hash, the certificate and the result; ``InvalidSyncData``."""
        try:
            block = Block.decode(block_bytes)
            cert = CommitCertificate.decode(commit_bytes)
        except DecodeError as e:
            raise InvalidSyncData(f"malformed block: {e}") from None
        height = block.header.height
        if height != chain.tip.height + 1:
            raise InvalidSyncData(f"block of height {height}, expected {chain.tip.height + 1}")
        block_hash = block.header.hash(self._suite.hash)
        try:
            verify_commit(
                self._suite,
                self._chain_id,
                chain.validators,
                cert,
                height=height,
                block_hash=block_hash,
            )
            result = self.replay(block, chain)
        except (InvalidCommit, InvalidBlock) as e:
            raise InvalidSyncData(f"{type(e).__name__}: {e}") from None
        return block, block_hash, cert, result

    def replay(self, block: Block, chain: CheckSource) -> BlockResult:
        """Check the limits, admit the block's txs as at its height and time, re-execute it on
        the tip and compare every root; raises ``InvalidBlock``."""
        limits = BlockLimits.of(chain.params)
        limits.check(block)  # before any tx is checked
        txs = self.txs_for_block(block, chain.ledger)
        if txs is None:
            raise InvalidBlock(f"block {block.header.height}: a tx is refused or repeated")
        return check_block(
            self._suite,
            self._chain_id,
            chain.ledger,
            chain.tip,
            block,
            validators_hash=chain.view.validators_hash,
            config_hash=chain.view.config_hash,
            txs=txs,
            resolve=self._resolve,
            step_limit=chain.params.step_limit,
            limits=limits,
        )

    def txs_for_block(self, block: Block, ledger: Ledger) -> list[ExecTx] | None:
        """The block's txs as admitted at its height and time; ``None`` if one is refused,
        repeated in the block, or committed already."""
        header = block.header
        txs: list[ExecTx] = []
        seen: set[bytes] = set()
        unknown: list[bytes] = []  # ids not pending here: committed ones refuse the block
        for envelope in block.txs:
            # a tx we admitted from the same bytes is pending, hence not committed (commits
            # leave the mempool): only its height-, time- and config-dependent checks rerun
            pending = self._mempool.lookup(envelope)
            try:
                if pending is not None:
                    tx = self._admission.recheck(
                        pending, height=header.height, at_ms=header.time_ms
                    )
                else:
                    tx = self._admission.check(envelope, height=header.height, at_ms=header.time_ms)
                    unknown.append(tx.tx_id)
            except AdmissionError as e:
                log.warning("%s: block %d carries a refused tx: %s", self._name, header.height, e)
                return None
            if tx.tx_id in seen:
                return None
            seen.add(tx.tx_id)
            txs.append(tx)
        if unknown and any(ledger.has_txs(unknown)):
            return None
        return txs
