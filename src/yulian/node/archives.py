"""Introduction: archiving and pruning by the chain's rules, and proofs from archives.

``ledger/archive.py`` writes and reads archive files and ``ledger/maintenance.py`` prunes; this
module adds what needs the chain's rules:

* the heights a pruning keeps whole — the blocks that changed the consortium config, which
  every later proof names on its governance path;
* the policy: ``prune`` drops only heights an archive holds (unless told it need not), and
  never reaches into the replay window (those blocks make this node's snapshots; their tx ids
  stay in the index either way);
* ``archived_proof`` — the proof bundle of a tx whose block is archived, rebuilt from the
  archive and the hot ledger: it verifies offline exactly as the node's own proof did.
"""

from __future__ import annotations

from pathlib import Path

from yulian.crypto.merkle import MerkleTree
from yulian.crypto.suite import Suite
from yulian.execution.roots import history_window
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import MAX_HISTORY_LIMIT, InvalidInput, Ledger
from yulian.ledger.archive import ArchiveEntry, ArchiveReader, archive_blocks, archive_index
from yulian.ledger.maintenance import LedgerMaintenance, PruneReport
from yulian.node.snapshots import replay_window_low
from yulian.types.block import Block
from yulian.types.consortium import ConsortiumConfig
from yulian.types.genesis import Genesis
from yulian.types.proof import ConfigTransition, TxProofBundle

__all__ = ["archive", "archived_proof", "governance_heights", "prune", "prune_limit"]


def governance_heights(ledger: Ledger) -> list[int]:
    """The heights whose blocks changed the consortium config, ascending."""
    versions = ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT)
    return sorted(at for at, _ in versions)


def archive(ledger: Ledger, genesis: Genesis, directory: Path, below: int) -> list[ArchiveEntry]:
    """Archive the held blocks below ``below`` (those not archived yet) into ``directory``."""
    return archive_blocks(ledger, directory, below, genesis.chain_id)


def prune_limit(ledger: Ledger, genesis: Genesis) -> int:
    """The highest floor a pruning may set: the bottom of the head's replay window."""
    configs = [ConsortiumConfig.from_genesis(genesis)]
    versions = ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT)
    configs += [ConsortiumConfig.decode(v) for _, v in versions if v is not None]
    return replay_window_low(ledger.height(), configs)


def prune(
    ledger: Ledger, genesis: Genesis, below: int, *, require_archived: bool = True
) -> PruneReport:
    """Drop the blocks below ``below`` (but the governance ones) and the key versions no read
    from the new floor needs; raises ``InvalidInput`` when the policy forbids it."""
    limit = prune_limit(ledger, genesis)
    if below > limit:
        raise InvalidInput(
            f"prune below {below}: blocks from {limit} on are the replay window of the head "
            f"(txs there may still be replayed, and snapshots carry them); prune below {limit} "
            "at most"
        )
    kept = governance_heights(ledger)
    if require_archived:
        index = archive_index(ledger)
        floor = ledger.floor()
        for height in range(floor, below):
            if height not in kept and not any(e.holds(height) for e in index):
                raise InvalidInput(
                    f"block {height} is in no archive: archive below {below} first "
                    "(yulian ledger archive), or prune without archives"
                )
    maintained: LedgerMaintenance = ledger  # type: ignore[assignment]
    return maintained.prune(below, kept, history_window)


def archived_proof(
    ledger: Ledger, reader: ArchiveReader, suite: Suite, chain_id: str, tx_id: bytes
) -> TxProofBundle:
    """The proof of a tx from its archived block (the tx index and the governance blocks are
    in the hot ledger); raises ``InvalidInput`` when the tx or its block is not found."""
    location = ledger.tx_location(tx_id)
    if location is None:
        raise InvalidInput(f"tx {tx_id.hex()} is not committed in this chain")
    height, index = location

    def block_at(h: int) -> bytes | None:
        return ledger.block(h) or reader.block(h)

    block_bytes = block_at(height)
    commit = ledger.commit(height) or reader.commit(height)
    receipts = ledger.receipts(height) or reader.receipts(height)
    if block_bytes is None or commit is None or receipts is None:
        raise InvalidInput(f"block {height} is neither held nor in the archives given")
    block = Block.decode(block_bytes)
    prev = block_at(height - 1) if height > 1 else None
    if height > 1 and prev is None:
        raise InvalidInput(f"block {height - 1} is neither held nor in the archives given")
    transitions = []
    for at, config in reversed(
        ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT, before_height=height)
    ):
        t_block, t_commit = block_at(at), ledger.commit(at) or reader.commit(at)
        if t_block is None or t_commit is None or config is None:
            raise InvalidInput(f"the config change at {at} is not held")
        transitions.append(
            ConfigTransition(Block.decode(t_block).header.encode(), t_commit, config)
        )
    tx_tree = MerkleTree(block.txs, suite.hash)
    receipt_tree = MerkleTree(receipts, suite.hash)
    return TxProofBundle(
        chain_id=chain_id,
        envelope=block.txs[index],
        receipt=receipts[index],
        index=index,
        tree_size=len(block.txs),
        tx_path=tx_tree.proof(index),
        receipt_path=receipt_tree.proof(index),
        header=block.header.encode(),
        commit=commit,
        prev_header=Block.decode(prev).header.encode() if prev is not None else b"",
        transitions=tuple(transitions),
    )
