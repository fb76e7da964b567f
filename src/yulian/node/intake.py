"""Introduction: transaction intake — clients' and peers' txs into the mempool.

``TxIntake`` joins admission (``mempool/admission.py``: the boundary checks) with the pool
(``mempool/pool.py``) as the replica uses them: a full pool refuses before any check, so an
overload costs no signature checks; a node's own clients may fill only its share of the pool;
a batch asks the ledger once whether its txs are committed.

Bounded: the pool by ``mempool_size`` txs; the contract names known to exist by
``MAX_KNOWN_CONTRACTS`` (a cache, emptied when full).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from yulian.crypto.membership import Membership
from yulian.crypto.suite import Suite
from yulian.execution.executor import ContractResolver, ExecTx
from yulian.ledger import MAX_TXS_PER_BLOCK, Ledger
from yulian.mempool.admission import Admission, AdmissionError
from yulian.mempool.pool import Mempool
from yulian.types.genesis import ChainParams

MAX_KNOWN_CONTRACTS = 4096


def _full() -> AdmissionError:
    return AdmissionError("mempool_full", 503, "too many txs are pending; retry later")


class TxIntake:
    def __init__(
        self,
        suite: Suite,
        chain_id: str,
        params: ChainParams,
        membership: Membership,
        ledger: Ledger,
        resolve: ContractResolver,
        *,
        mempool_size: int,
        validators: Callable[[], int],
    ) -> None:
        """``validators()``: how many validators share the pool (a node's clients get
        ``mempool_size / validators()`` of it)."""
        self._ledger = ledger
        self._resolve = resolve
        self._validators = validators
        self._known_contracts: set[str] = set()
        self.mempool = Mempool(mempool_size)
        self.admission = Admission(
            suite,
            chain_id,
            params,
            membership,
            contract_exists=self._contract_exists,
            is_known=lambda tx_id: tx_id in self.mempool or self._ledger.has_tx(tx_id),
            is_known_many=self._known_many,
        )

    def submit(self, data: bytes, next_height: int, now_ms: int, *, client: bool) -> ExecTx:
        """Admit one envelope and keep it; raises ``AdmissionError``."""
        if (self.client_room() if client else self.mempool.room()) == 0:
            raise _full()
        tx = self.admission.admit(data, next_height=next_height, now_ms=now_ms)
        self.mempool.add(tx, local=client)
        return tx

    def submit_many(
        self, datas: Sequence[bytes], next_height: int, now_ms: int, *, client: bool
    ) -> list[ExecTx | AdmissionError]:
        """``submit`` for each envelope in order, the duplicate check asked once for the batch;
        envelopes beyond the room are refused with ``mempool_full`` before any check."""
        room = self.client_room() if client else self.mempool.room()
        if room < len(datas):
            kept = self.submit_many(datas[:room], next_height, now_ms, client=client)
            return kept + [_full()] * (len(datas) - room)
        verdicts = self.admission.admit_many(datas, next_height=next_height, now_ms=now_ms)
        for i, verdict in enumerate(verdicts):
            if isinstance(verdict, ExecTx):
                try:
                    self.mempool.add(verdict, local=client)
                except AdmissionError as e:
                    verdicts[i] = e
        return verdicts

    def client_room(self) -> int:
        """Room for this node's own clients' txs: pending, they may fill only this node's share
        of the pool (size / validators); the rest is kept for peers' gossip. Under overload
        every node can then still hold every other node's txs; pools that diverge make each
        proposal carry txs its validators must check on the critical path, and a network
        slows down exactly when it is busiest."""
        share = self.mempool.max_size // max(1, self._validators())
        return max(0, min(self.mempool.room(), share - self.mempool.local_count()))

    def _contract_exists(self, name: str) -> bool:
        """Whether ``name`` is callable on the committed state. Nothing is ever undeployed, so
        a name once found stays found (and is not looked up in storage again)."""
        if name in self._known_contracts:
            return True
        if self._resolve(name, self._ledger) is None:
            return False
        if len(self._known_contracts) >= MAX_KNOWN_CONTRACTS:
            self._known_contracts.clear()
        self._known_contracts.add(name)
        return True

    def _known_many(self, tx_ids: Sequence[bytes]) -> list[bool]:
        """Pending or committed, per id: the mempool, then one ledger read per chunk."""
        known = [tx_id in self.mempool for tx_id in tx_ids]
        rest = [k for k, pending in enumerate(known) if not pending]
        for start in range(0, len(rest), MAX_TXS_PER_BLOCK):
            chunk = rest[start : start + MAX_TXS_PER_BLOCK]
            for k, committed in zip(
                chunk, self._ledger.has_txs([tx_ids[k] for k in chunk]), strict=True
            ):
                known[k] = committed
        return known
