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
  (told so on its next read, and through ``wait_dropped``), and publishing never waits for a
  subscriber.
* Events have one total order, the ledger's cursor ``(height, tx index, event index)``: the
  event index answers ``events`` in that order, and ``CommittedBlock.events`` gives a live
  block's events in the same order with the same cursors, so a reader can replay from one and
  continue from the other without a gap or a duplicate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from prometheus_client import CollectorRegistry

from yulian.contracts import Sender
from yulian.ledger.events import EventCursor, EventFilter, EventPage, StoredEvent, block_events
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


@dataclass(frozen=True)
class BlockSummary:
    """A committed block for lists: its header and hash, its size, who signed its commit."""

    header: Header
    block_hash: bytes
    size_bytes: int
    round: int
    signers: Sequence[str]


@dataclass(frozen=True)
class TxBrief:
    """One tx of a block for lists: the call, who signed it, and its receipt's verdict."""

    tx_id: bytes
    index: int
    contract: str
    method: str
    signer_org: str
    signer_name: str
    signer_role: str
    status: str
    message: str


@dataclass(frozen=True)
class StateKeyInfo:
    """A key of a contract's current state: the block that last wrote it and its value's size."""

    key: str
    height: int
    size: int


class ReadBusy(Exception):
    """A read that re-executes committed txs is refused while too many run already."""


class HistoricalScanUnavailable(Exception):
    """A tx's writes cannot be recomputed: its block's contracts scan their state
    (``ctx.state.scan``), and a past state has no ordered index to scan; its receipt and block
    are still served. The message says which state."""


class CommittedBlock:
    """One committed block as the feed carries it: height, hash, time and tx ids at once;
    receipts decoded on the first ``receipts()`` call and shared by every subscriber, and so
    are its events (``events()``) and anything a consumer caches in ``shared``."""

    __slots__ = (
        "_events",
        "_index",
        "_load_events",
        "_load_receipts",
        "_receipts",
        "block_hash",
        "height",
        "round",
        "shared",
        "size_bytes",
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
        *,
        size_bytes: int = 0,
        round: int = 0,
        load_events: Callable[[int], Sequence[StoredEvent]] | None = None,
    ) -> None:
        self.height = height
        self.block_hash = block_hash
        self.time_ms = time_ms
        self.tx_ids = tx_ids
        self.size_bytes = size_bytes  # the encoded block (0: not known to the publisher)
        self.round = round  # the round its commit certificate is from
        self._load_receipts = load_receipts
        # the block's events straight from the ledger's event index, when the publisher has
        # one: several times cheaper than decoding every receipt to find them
        self._load_events = load_events
        self._receipts: Sequence[Receipt] | None = None
        self._index: dict[bytes, int] | None = None
        self._events: tuple[StoredEvent, ...] | None = None
        #: what consumers derive from this block once for all of them (e.g. a stream's frame
        #: for one subscription), by a key of their own; freed with the block
        self.shared: dict[object, object] = {}

    def index_of(self, tx_id: bytes) -> int | None:
        """The position of ``tx_id`` in this block, or None."""
        if self._index is None:
            self._index = {t: i for i, t in enumerate(self.tx_ids)}
        return self._index.get(tx_id)

    def receipts(self) -> Sequence[Receipt]:
        if self._receipts is None:
            self._receipts = self._load_receipts(self.height)
        return self._receipts

    def events(self) -> tuple[StoredEvent, ...]:
        """The block's events in cursor order, as the event index stores them."""
        if self._events is None and self._load_events is not None:
            self._events = tuple(self._load_events(self.height))
        if self._events is None:
            self._events = tuple(
                StoredEvent(
                    EventCursor(self.height, r.tx_index, r.event_index),
                    self.tx_ids[r.tx_index],
                    r.contract,
                    r.name,
                    r.key,
                    r.payload,
                )
                for r in block_events(self.receipts())
            )
        return self._events

    def __repr__(self) -> str:
        return f"CommittedBlock(height={self.height}, txs={len(self.tx_ids)})"


class SubscriptionDropped(Exception):
    """The subscriber fell more than its queue behind and was dropped: it has missed blocks.
    Subscribe again and read the gap from the ledger (``start_height`` says where live
    delivery starts). ``stopping``: the node is stopping, not the subscriber slow."""

    def __init__(self, reason: str, *, stopping: bool = False) -> None:
        super().__init__(reason)
        self.stopping = stopping


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

    async def wait_dropped(self) -> SubscriptionDropped:
        """Once the feed drops this subscription (even while nobody reads it): why."""
        ...

    def __aiter__(self) -> AsyncIterator[CommittedBlock]: ...


class CommitFeed(Protocol):
    @property
    def published_height(self) -> int:
        """The last block handed to subscribers."""
        ...

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

    def query(
        self, contract: str, method: str, args: Sequence[object], sender: Sender | None = None
    ) -> Receipt:
        """A read-only call on the committed state (metered like a tx; writes discarded), by
        ``sender`` as ``ctx.sender`` (the authenticated caller; None: anonymous)."""
        ...

    def config_at(self, height: int) -> ConsortiumConfig:
        """The consortium config after block ``height`` (0..head; 0 = the genesis config)."""
        ...

    def health(self) -> NodeHealth: ...

    @property
    def metrics(self) -> CollectorRegistry:
        """The node's Prometheus registry (``/metrics``); the API adds its own collectors."""
        ...

    # --- the explorer's reads: lists, governance, a tx's writes -----------------------------
    def block_summaries(self, before: int, limit: int) -> list[BlockSummary]:
        """Up to ``limit`` committed blocks below height ``before``, newest first."""
        ...

    def block_height(self, block_hash: bytes) -> int | None:
        """The height of the committed block with this hash, or None."""
        ...

    def block_txs(self, height: int, offset: int, limit: int) -> list[TxBrief] | None:
        """Txs ``offset .. offset + limit - 1`` of block ``height``; None if no such block."""
        ...

    async def tx_writes(self, tx_id: bytes) -> list[tuple[bytes, bytes | None]] | None:
        """The state writes of a committed tx (ledger key, new value or None for a delete),
        sorted by key; None if it is not committed. Raises ``ReadBusy`` or
        ``HistoricalScanUnavailable``."""
        ...

    def events(
        self, after: EventCursor | None, limit: int, event_filter: EventFilter, scan_limit: int
    ) -> EventPage:
        """The event index: events strictly after ``after`` that pass the filter."""
        ...

    def state_keys(
        self, contract: str, prefix: str, after: str | None, limit: int
    ) -> list[StateKeyInfo]:
        """Current keys of ``contract`` starting with ``prefix``, ascending, after ``after``."""
        ...

    def contracts(self) -> list[dict[str, Any]]:
        """Every callable contract: name, kind (system, genesis, deployed), active version."""
        ...

    def contract(self, name: str) -> dict[str, Any] | None:
        """A contract with its version history (each version's proposal and approvals)."""
        ...

    def contract_code(self, name: str, version: str | None) -> dict[str, Any] | None:
        """The source of a version of a contract (None: the active one)."""
        ...

    def proposals(
        self, scope: str | None, status: str | None, before_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Governance proposals, newest first, with approvals and what they changed."""
        ...

    def proposal(self, scope: str, proposal_id: int) -> dict[str, Any] | None: ...

    def validator_stats(self, window: int) -> dict[str, Any]:
        """Per validator, over the last ``window`` blocks: signed, missed, proposed."""
        ...
