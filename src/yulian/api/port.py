"""Introduction: the API's port — everything the REST API needs from a node, and no more.

The API is written against ``NodePort`` and the records below; the node implements the port
with its read model (``node/readmodel.py``) over its own ledger, and ``node/serve.py`` puts the
two together. So the API imports nothing from ``yulian.node``, and a reader of this file sees
the whole surface between them.

Invariants the implementation keeps:

* Every read answers from committed data (a block boundary) or from the mempool; nothing here
  changes state except ``submit`` / ``submit_many``, which only admit into the mempool.
* Proofs are built from the node's own ledger, whose every block was verified before it was
  committed: serving a proof never re-verifies it.
* The commit feed delivers each committed block, in height order, to every live subscriber
  after the block is durable; a subscriber that falls more than its queue behind is dropped
  (told so on its next read), and publishing never waits for a subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from yulian.mempool.admission import AdmissionError
from yulian.types.block import Header
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.genesis import Genesis
from yulian.types.proof import TxProofBundle
from yulian.types.receipt import Receipt

TxState = Literal["committed", "pending", "unknown"]


@dataclass(frozen=True)
class TxStatus:
    status: TxState
    height: int = 0  # where a committed tx is: block height ...
    index: int = 0  # ... and position in the block


@dataclass(frozen=True)
class Head:
    """The last committed block (height 0: none yet; the hash is then the genesis hash)."""

    height: int
    block_hash: bytes
    time_ms: int


@dataclass(frozen=True)
class BlockRecord:
    header: Header
    block_hash: bytes
    tx_ids: Sequence[bytes]
    commit: CommitCertificate | None


@dataclass(frozen=True)
class NotHeld:
    """A height whose block this node no longer holds (below its floor): where it is."""

    height: int
    floor: int
    archive: str | None = None  # the archive file that holds it, from the archive index
    first: int | None = None  # the heights that file holds
    last: int | None = None


@dataclass(frozen=True)
class ProvenTx:
    """A committed tx with everything needed to check it offline (``bundle``) and the views
    derived from the same bytes."""

    height: int
    index: int
    receipt: Receipt
    header: Header
    block_hash: bytes
    commit: CommitCertificate
    bundle: TxProofBundle
    summary: dict[str, Any]


@dataclass(frozen=True)
class NodeHealth:
    node: str
    org: str
    chain_id: str
    genesis_hash: bytes
    suite: str
    height: int
    last_block_time_ms: int
    round: int
    peers: Sequence[str]
    mempool: int
    validators: Sequence[str]
    contracts: Sequence[str]


class CommittedBlock:
    """One committed block as the feed carries it: height, hash, time and tx ids at once;
    receipts decoded on the first ``receipts()`` call and shared by every subscriber."""

    __slots__ = (
        "_index",
        "_load_receipts",
        "_receipts",
        "block_hash",
        "height",
        "time_ms",
        "tx_ids",
    )

    def __init__(
        self,
        height: int,
        block_hash: bytes,
        time_ms: int,
        tx_ids: tuple[bytes, ...],
        load_receipts: Callable[[int], Sequence[Receipt]],
    ) -> None:
        self.height = height
        self.block_hash = block_hash
        self.time_ms = time_ms
        self.tx_ids = tx_ids
        self._load_receipts = load_receipts
        self._receipts: Sequence[Receipt] | None = None
        self._index: dict[bytes, int] | None = None

    def index_of(self, tx_id: bytes) -> int | None:
        """The position of ``tx_id`` in this block, or None."""
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.tx_ids)}
        return self._index.get(tx_id)

    def receipts(self) -> Sequence[Receipt]:
        if self._receipts is None:
            self._receipts = self._load_receipts(self.height)
        return self._receipts

    def __repr__(self) -> str:
        return f"CommittedBlock(height={self.height}, txs={len(self.tx_ids)})"


class SubscriptionDropped(Exception):
    """The subscriber fell more than its queue behind and was dropped: it has missed blocks.
    Subscribe again and read the gap from the ledger (``start_height`` says where live
    delivery starts)."""


class TooManySubscribers(Exception):
    """The feed already has its maximum number of subscribers."""


class Subscription(Protocol):
    #: The first height this subscription delivers: every committed block from here on comes,
    #: in order, until the subscription is closed or dropped.
    start_height: int

    async def next(self) -> CommittedBlock:
        """The next committed block; raises ``SubscriptionDropped`` once dropped."""
        ...

    def close(self) -> None:
        """Unsubscribe (idempotent)."""
        ...

    def __aiter__(self) -> AsyncIterator[CommittedBlock]: ...


class CommitFeed(Protocol):
    def subscribe(self, max_pending: int | None = None) -> Subscription:
        """A new subscription with a queue of at most ``max_pending`` blocks (None: the feed's
        default); raises ``TooManySubscribers``."""
        ...


class NodePort(Protocol):
    """What the API asks of a node. Blocking calls are short reads of committed data."""

    @property
    def chain_id(self) -> str: ...

    @property
    def genesis(self) -> Genesis:
        """The chain's genesis (public: clients verify proofs against it)."""
        ...

    @property
    def commits(self) -> CommitFeed:
        """Every block committed from now on (the event stream, metrics and the explorer's
        live view read it; so does ``wait_committed``)."""
        ...

    def max_tx_bytes(self) -> int:
        """The chain's current limit on one encoded tx."""
        ...

    async def submit(self, data: bytes) -> bytes:
        """Admit one encoded envelope; its tx id, or raises ``AdmissionError``."""
        ...

    async def submit_many(self, datas: Sequence[bytes]) -> list[bytes | AdmissionError]:
        """Admit envelopes in order: per envelope, its tx id or why it was refused."""
        ...

    async def wait_committed(self, tx_id: bytes, timeout_s: float) -> TxStatus:
        """Once ``tx_id`` is committed, or after ``timeout_s``: its status then."""
        ...

    def tx_status(self, tx_id: bytes) -> TxStatus: ...

    def proven_tx(self, tx_id: bytes) -> ProvenTx | None:
        """A committed tx with its proof bundle, or None when it is not committed."""
        ...

    def receipt(self, height: int, index: int) -> Receipt | None: ...

    def head(self) -> Head: ...

    def block(self, height: int) -> BlockRecord | None:
        """The committed block at ``height`` (1..head), or None (also when not held)."""
        ...

    def not_held(self, height: int) -> NotHeld | None:
        """Where the block of a committed ``height`` is when this node no longer holds it
        (pruned, maybe archived; or below the snapshot it started from); None if it holds
        it or the height is not committed."""
        ...

    def state_get(self, contract: str, key: str) -> bytes | None:
        """The current encoded value of ``key`` in ``contract``'s state, or None."""
        ...

    def state_history(self, contract: str, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        """Versions of the key, newest first: ``(height, encoded value or None if deleted)``."""
        ...

    def query(self, contract: str, method: str, args: Sequence[object]) -> Receipt:
        """A read-only call on the committed state (metered like a tx; writes discarded)."""
        ...

    def config_at(self, height: int) -> ConsortiumConfig:
        """The consortium config after block ``height`` (0..head; 0 = the genesis config)."""
        ...

    def health(self) -> NodeHealth: ...
