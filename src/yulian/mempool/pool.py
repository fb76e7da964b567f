"""Introduction: the bounded pool of admitted, not yet committed transactions.

FIFO by admission order (deterministic for a given arrival order); bounded by ``max_size``
txs (and so by ``max_size * max_tx_bytes`` bytes); a transaction leaves when it is committed,
expires, or is evicted because it no longer passes admission. The pool holds only admitted
txs, and keeps the total of their sizes in a block so a proposer knows when a full block waits.
"""

from __future__ import annotations

from collections.abc import Iterable

from yulian.execution.executor import ExecTx
from yulian.mempool.admission import AdmissionError
from yulian.types.block import BLOCK_OVERHEAD_BYTES, block_tx_bytes


class Mempool:
    def __init__(self, max_size: int) -> None:
        assert max_size > 0
        self._max_size = max_size
        self._txs: dict[bytes, ExecTx] = {}
        self._by_envelope: dict[bytes, ExecTx] = {}  # the admitted bytes -> the same tx
        self._local: set[bytes] = set()  # ids of the pending txs this node's clients sent
        self._block_bytes = 0  # what the pending txs add to the blocks that carry them

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._txs

    def is_full(self) -> bool:
        return len(self._txs) >= self._max_size

    @property
    def max_size(self) -> int:
        return self._max_size

    def room(self) -> int:
        """How many more txs fit."""
        return max(0, self._max_size - len(self._txs))

    def local_count(self) -> int:
        """How many pending txs came from this node's own clients (``add(local=True)``)."""
        return len(self._local)

    def fills_block(self, max_txs: int, max_bytes: int) -> bool:
        """Whether the pending txs would fill a block by count or by bytes."""
        return len(self._txs) >= max_txs or BLOCK_OVERHEAD_BYTES + self._block_bytes >= max_bytes

    def add(self, tx: ExecTx, *, local: bool = False) -> None:
        if tx.tx_id in self._txs:
            raise AdmissionError("duplicate_tx", 409, f"tx {tx.tx_id.hex()} is already pending")
        if len(self._txs) >= self._max_size:
            raise AdmissionError("mempool_full", 503, f"{self._max_size} txs are pending; retry")
        self._txs[tx.tx_id] = tx
        self._by_envelope[tx.data()] = tx
        self._block_bytes += block_tx_bytes(len(tx.data()))
        if local:
            self._local.add(tx.tx_id)

    def lookup(self, envelope: bytes) -> ExecTx | None:
        """The pending tx admitted from exactly these bytes, if any."""
        return self._by_envelope.get(envelope)

    def reap(self, next_height: int, *, max_txs: int, max_bytes: int) -> list[ExecTx]:
        """Pending txs in arrival order for a block of at most ``max_txs`` txs and
        ``max_bytes`` bytes of encoding: the first tx that does not fit ends the list, so a
        later tx never overtakes an earlier one (a client's second tx may depend on its
        first). Expired txs are dropped first."""
        expired = [i for i, t in self._txs.items() if t.signed.tx.expires_at < next_height]
        self.remove(expired)
        out: list[ExecTx] = []
        room = max_bytes - BLOCK_OVERHEAD_BYTES
        for tx in self._txs.values():
            room -= block_tx_bytes(len(tx.data()))
            if len(out) >= max_txs or room < 0:
                break
            out.append(tx)
        return out

    def remove(self, tx_ids: Iterable[bytes]) -> None:
        for tx_id in tx_ids:
            tx = self._txs.pop(tx_id, None)
            if tx is not None:
                self._by_envelope.pop(tx.data(), None)
                self._block_bytes -= block_tx_bytes(len(tx.data()))
                self._local.discard(tx_id)
