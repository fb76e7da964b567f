"""Introduction: snapshots as the chain's rules see them — what to put in one, and whether a
received one is this chain's state.

The format and its chain-free checks are ``ledger/snapshot.py``; this module adds what needs
the chain's rules (consensus certificates, the consortium config, the execution's state
commitment):

* ``snapshot_plan`` — for the ledger's head ``B``: its commit, the governance path below it (the
  blocks that changed the consortium config, kept whole), and the replay window: the lowest
  height whose txs may still be replayed above ``B``. A tx committed at ``c`` expires at most
  ``max_tx_ttl_blocks`` after ``c`` (as in force then), so with ``W`` the largest TTL any config
  up to ``B`` allowed, no tx below ``B + 1 - W`` can reappear (decision 0004).
* ``produce_snapshot`` — ``write_snapshot`` with that plan.
* ``SnapshotCheck`` — checks a received snapshot from the genesis alone: the manifest (the
  governance path and ``B``'s certificate, as ``sdk/verify.py`` checks a proof bundle; the state
  root against the state sum; the chunk sums against it), then each chunk as it arrives, then
  the whole (every config version of the state has its kept block and matches ``B``'s
  ``config_hash``); ``base()`` gives what the ledger installs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from yulian.consensus.consortium_view import ConsortiumView
from yulian.consensus.votes import InvalidCommit, verify_commit
from yulian.crypto.suite import Suite
from yulian.execution.roots import history_window, result_root, state_root, tx_root
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import MAX_HISTORY_LIMIT, BlockCommit, Ledger, block_events
from yulian.ledger.maintenance import LedgerMaintenance, SnapshotBase
from yulian.ledger.snapshot import (
    BlockChunkInfo,
    BlockRecord,
    Manifest,
    SnapshotError,
    SnapshotPlan,
    StateChunkChecker,
    StateChunkInfo,
    check_manifest_sums,
    decode_block_chunk,
    write_snapshot,
)
from yulian.types.block import Block, Header
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError
from yulian.types.genesis import Genesis
from yulian.types.proof import ConfigTransition
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx

__all__ = ["SnapshotCheck", "produce_snapshot", "replay_window_low", "snapshot_plan"]


def replay_window_low(height: int, configs: list[ConsortiumConfig]) -> int:
    """The lowest height whose txs may still be replayed in blocks above ``height``."""
    ttl = max(c.params.max_tx_ttl_blocks for c in configs)
    return max(1, height + 1 - ttl)


def snapshot_plan(
    ledger: Ledger, genesis: Genesis, suite: Suite
) -> Callable[[int, bytes], SnapshotPlan]:
    def plan(height: int, _header: bytes) -> SnapshotPlan:
        versions = ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT, before_height=height)
        transitions = []
        for at, config in reversed(versions):
            block, commit = ledger.block(at), ledger.commit(at)
            if block is None or commit is None or config is None:
                raise SnapshotError(f"the config change at {at} is not held whole")
            transitions.append(
                ConfigTransition(Block.decode(block).header.encode(), commit, config)
            )
        configs = [ConsortiumConfig.from_genesis(genesis)]
        configs += [ConsortiumConfig.decode(t.config) for t in transitions]
        current = ledger.get_at(CONFIG_KEY, height)
        if current is not None:
            configs.append(ConsortiumConfig.decode(current))
        commit = ledger.commit(height)
        if commit is None:
            raise SnapshotError(f"block {height} has no commit here")
        return SnapshotPlan(
            tuple(transitions),
            tuple(at for at, _ in reversed(versions)),
            replay_window_low(height, configs),
            commit,
        )

    return plan


def produce_snapshot(ledger: Ledger, genesis: Genesis, suite: Suite, directory: Path) -> Manifest:
    """Write a snapshot of ``ledger``'s head (an LMDB or PostgreSQL ledger) into ``directory``."""
    maintained: LedgerMaintenance = ledger  # type: ignore[assignment]

    def read_block(height: int) -> tuple[bytes, tuple[bytes, ...]] | None:
        block, receipts = ledger.block(height), ledger.receipts(height)
        return None if block is None or receipts is None else (block, tuple(receipts))

    return write_snapshot(
        maintained,
        read_block,
        directory,
        suite,
        genesis.chain_id,
        history_window,
        snapshot_plan(ledger, genesis, suite),
    )


class SnapshotCheck:
    """Checks one received snapshot, part by part; any failure raises ``SnapshotError``."""

    def __init__(self, genesis: Genesis, suite: Suite, manifest: Manifest) -> None:
        self.genesis, self.suite, self.manifest = genesis, suite, manifest
        self.header = self._check_manifest()
        self._states = StateChunkChecker(suite, manifest.height, history_window)
        self._configs: list[tuple[int, bytes | None]] = []  # the state's config versions
        self._kept: dict[int, BlockCommit] = {}
        self._recent: dict[int, tuple[bytes, ...]] = {}
        self._base: BlockCommit | None = None
        self._next_chain = manifest.height  # the next height of the descending chain
        self._chain_hash = self.header.hash(suite.hash)  # whose header hash it must have
        self._transitions = {Header.decode(t.header).height: t for t in manifest.transitions}
        self.states_done = 0
        self.blocks_done = 0

    # -- the manifest ----------------------------------------------------------------------

    def _check_manifest(self) -> Header:
        m, suite, genesis = self.manifest, self.suite, self.genesis
        if m.chain_id != genesis.chain_id:
            raise SnapshotError(f"snapshot of chain {m.chain_id!r}, not {genesis.chain_id!r}")
        try:
            header = Header.decode(m.header)
            cert = CommitCertificate.decode(m.commit)
        except DecodeError as e:
            raise SnapshotError(f"snapshot header or commit malformed: {e}") from None
        if header.chain_id != genesis.chain_id or header.height != m.height:
            raise SnapshotError("snapshot header is for another chain or height")
        view = ConsortiumView.of(self._config_at(header.height), header.height, suite)
        if header.validators_hash != view.validators_hash:
            raise SnapshotError("snapshot header's validators are not its height's")
        try:
            verify_commit(
                suite,
                genesis.chain_id,
                view.validators,
                cert,
                height=header.height,
                block_hash=header.hash(suite.hash),
            )
        except InvalidCommit as e:
            raise SnapshotError(f"snapshot commit certificate: {e}") from None
        if header.state_root != state_root(suite, m.state_sum):
            raise SnapshotError("the snapshot's state sum is not its header's state root")
        check_manifest_sums(m)
        return header

    def _config_at(self, height: int) -> ConsortiumConfig:
        """Walk the governance path from the genesis (as a proof bundle's is walked): every
        change certified by the validators in force before it; the config for ``height``."""
        suite, genesis = self.suite, self.genesis
        config = ConsortiumConfig.from_genesis(genesis)
        last = 0
        for t in self.manifest.transitions:
            try:
                th = Header.decode(t.header)
                cert = CommitCertificate.decode(t.commit)
                new = ConsortiumConfig.decode(t.config)
            except DecodeError as e:
                raise SnapshotError(f"malformed governance path: {e}") from None
            if th.chain_id != genesis.chain_id or not last < th.height < height:
                raise SnapshotError("governance path: blocks out of order or for another chain")
            try:
                verify_commit(
                    suite,
                    genesis.chain_id,
                    ConsortiumView.of(config, th.height, suite).validators,
                    cert,
                    height=th.height,
                    block_hash=suite.hash(t.header),
                )
            except InvalidCommit as e:
                raise SnapshotError(f"governance path, block {th.height}: {e}") from None
            if th.config_hash != suite.hash(t.config):
                raise SnapshotError(f"governance path, block {th.height}: config differs")
            config, last = new, th.height
        return config

    # -- chunks ----------------------------------------------------------------------------

    def state_chunk(self, index: int, data: bytes) -> None:
        """Check state chunk ``index`` (they must come in order)."""
        if index != self.states_done:
            raise SnapshotError(f"state chunk {index} out of order")
        info: StateChunkInfo = self.manifest.state_chunks[index]
        for key, height, value in self._states.check(info, data, self.suite.hash):
            if key == CONFIG_KEY:
                self._configs.append((height, value))
        self.states_done += 1

    def block_chunk(self, index: int, data: bytes) -> None:
        """Check block chunk ``index`` (they must come in order)."""
        if index != self.blocks_done:
            raise SnapshotError(f"block chunk {index} out of order")
        info: BlockChunkInfo = self.manifest.block_chunks[index]
        saved = (
            self._next_chain,
            self._chain_hash,
            self._base,
            dict(self._kept),
            dict(self._recent),
        )
        try:
            for record in decode_block_chunk(info, data, self.suite.hash):
                self._block_record(record)
        except SnapshotError:
            # a refused chunk leaves nothing behind: the same chunk may come from another peer
            self._next_chain, self._chain_hash, self._base, self._kept, self._recent = saved
            raise
        self.blocks_done += 1

    def _block_record(self, record: BlockRecord) -> None:
        m = self.manifest
        try:
            block = Block.decode(record.block)
        except DecodeError as e:
            raise SnapshotError(f"block {record.height} malformed: {e}") from None
        h = block.header
        block_hash = h.hash(self.suite.hash)
        if h.height != record.height or h.tx_root != tx_root(self.suite, block.txs):
            raise SnapshotError(f"block {record.height}: height or tx_root does not match")
        t = self._transitions.get(record.height)
        if record.height >= m.window_low:  # the chain down from the snapshot, by prev_hash
            if record.height != self._next_chain or block_hash != self._chain_hash:
                raise SnapshotError(f"block {record.height} does not chain to the snapshot")
            self._next_chain, self._chain_hash = record.height - 1, h.prev_hash
        elif t is None or self._next_chain >= m.window_low:
            raise SnapshotError(f"block {record.height} is below the window, or early")
        if t is not None and self.suite.hash(t.header) != block_hash:
            raise SnapshotError(f"block {record.height} is not the governance path's")
        whole = record.height == m.height or t is not None
        if whole != (record.receipts is not None):
            raise SnapshotError(f"block {record.height}: receipts where none belong, or none")
        tx_ids = tuple(self._tx_id(envelope) for envelope in block.txs)
        if record.receipts is None:
            self._recent[record.height] = tx_ids
            return
        receipts = record.receipts
        if len(receipts) != len(tx_ids) or h.result_root != result_root(self.suite, receipts):
            raise SnapshotError(f"block {record.height}: receipts do not match result_root")
        try:
            events = block_events([Receipt.decode(r) for r in receipts])
        except DecodeError as e:
            raise SnapshotError(f"block {record.height}: receipt malformed: {e}") from None
        commit = m.commit if record.height == m.height else self._transitions[record.height].commit
        stored = BlockCommit(
            height=record.height,
            block_hash=block_hash,
            block=record.block,
            commit=commit,
            tx_ids=tx_ids,
            receipts=receipts,
            writes=(),
            state_root=h.state_root,
            events=events,
            state_sum=m.state_sum if record.height == m.height else b"",
        )
        if record.height == m.height:
            self._base = stored
        else:
            self._kept[record.height] = stored

    def _tx_id(self, envelope: bytes) -> bytes:
        try:
            return self.suite.hash(SignedTx.decode(envelope).body)
        except DecodeError as e:
            raise SnapshotError(f"a tx envelope is malformed: {e}") from None

    # -- the whole -------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        m = self.manifest
        return self.states_done == len(m.state_chunks) and self.blocks_done == len(m.block_chunks)

    def base(self) -> SnapshotBase:
        """After every chunk: the checks across parts, and what the ledger installs."""
        m = self.manifest
        if not self.complete or self._base is None or self._next_chain >= m.window_low:
            raise SnapshotError("the snapshot is incomplete")
        below = [(h, v) for h, v in self._configs if h < m.height]
        heights = [h for h, _ in below]
        if heights != sorted(self._transitions) or heights != sorted(self._kept):
            raise SnapshotError("the state's config versions and the governance path differ")
        for height, value in below:
            if value is None or value != self._transitions[height].config:
                raise SnapshotError(f"the config version at {height} differs from its block's")
        genesis_config = ConsortiumConfig.from_genesis(self.genesis).encode()
        current = self._configs[-1][1] if self._configs else genesis_config
        assert current is not None
        if self.header.config_hash != self.suite.hash(current):
            raise SnapshotError("the snapshot header's config_hash is not the state's config")
        recent = tuple(sorted((h, ids) for h, ids in self._recent.items() if h not in self._kept))
        return SnapshotBase(self._base, tuple(self._kept[h] for h in sorted(self._kept)), recent)
