"""Introduction: the bounded pool of admitted, not yet committed transactions.

FIFO by admission order (deterministic for a given arrival order); bounded by ``max_size``;
a transaction leaves when it is committed or expires. The pool holds only admitted txs.
"""

from __future__ import annotations

from collections.abc import Iterable

from yulian.execution.executor import ExecTx
from yulian.mempool.admission import AdmissionError


class Mempool:
    def __init__(self, max_size: int) -> None:
        assert max_size > 0
        self._max_size = max_size
        self._txs: dict[bytes, ExecTx] = {}
        self._by_envelope: dict[bytes, ExecTx] = {}  # the admitted bytes -> the same tx
        self._local: set[bytes] = set()  # ids of the pending txs this node's clients sent

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

    def add(self, tx: ExecTx, *, local: bool = False) -> None:
        if tx.tx_id in self._txs:
            raise AdmissionError("duplicate_tx", 409, f"tx {tx.tx_id.hex()} is already pending")
        if len(self._txs) >= self._max_size:
            raise AdmissionError("mempool_full", 503, f"{self._max_size} txs are pending; retry")
        self._txs[tx.tx_id] = tx
        self._by_envelope[tx.data()] = tx
        if local:
            self._local.add(tx.tx_id)

    def lookup(self, envelope: bytes) -> ExecTx | None:
        """The pending tx admitted from exactly these bytes, if any."""
        return self._by_envelope.get(envelope)

    def reap(self, max_txs: int, next_height: int) -> list[ExecTx]:
        """Up to ``max_txs`` pending txs in arrival order; expired ones are dropped."""
        expired = [i for i, t in self._txs.items() if t.signed.tx.expires_at < next_height]
        for tx_id in expired:
            self._by_envelope.pop(self._txs.pop(tx_id).data(), None)
            self._local.discard(tx_id)
        out: list[ExecTx] = []
        for tx in self._txs.values():
            if len(out) >= max_txs:
                break
            out.append(tx)
        return out

    def remove(self, tx_ids: Iterable[bytes]) -> None:
        for tx_id in tx_ids:
            tx = self._txs.pop(tx_id, None)
            if tx is not None:
                self._by_envelope.pop(tx.data(), None)
                self._local.discard(tx_id)
