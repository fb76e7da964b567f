"""Introduction: the JSON shapes of the explorer's reads and of the event stream.

As ``schemas.py``: pydantic models for the OpenAPI document only (handlers build JSON with
orjson), closed so that a new field without its model fails the schema test. The stream's
messages travel over a WebSocket, which OpenAPI cannot describe as an operation; their models
are in the document's components (``EventStream*``) so clients can generate types for them,
and ``docs/api.md`` describes the protocol.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from yulian.api.limits import (
    DEFAULT_STREAM_QUEUE,
    MAX_EVENT_PREFIX,
    MAX_NAME_LEN,
    MAX_STREAM_FILTERS,
    MAX_STREAM_QUEUE,
    MAX_STREAM_TXS,
)
from yulian.api.schemas import HEX, Closed, HeaderView

CURSOR = r"^[0-9]+\.[0-9]+\.[0-9]+$"


# --- events -----------------------------------------------------------------------------------
class EventItem(Closed):
    """One committed event at its cursor (``height.tx index.event index``)."""

    type: Literal["event"]
    cursor: str = Field(pattern=CURSOR)
    height: int
    tx_index: int
    event_index: int
    tx_id: str = Field(pattern=HEX)
    contract: str
    name: str
    key: str = Field(pattern=HEX, description="the event's key: see docs/storage.md")
    payload: Any = Field(description="a contract value")


class EventsPage(Closed):
    events: list[EventItem]
    next_after: str | None = Field(pattern=CURSOR, description="pass as after to continue")
    exhausted: bool = Field(description="every event up to head was examined")
    head: int


# --- the event stream's messages (WebSocket /v1/events/stream) ---------------------------------
class EventStreamFilter(Closed):
    contract: str | None = Field(None, min_length=1, max_length=MAX_NAME_LEN)
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_LEN)
    key_prefix: str = Field("", pattern=HEX, max_length=2 * MAX_EVENT_PREFIX)
    payload_prefix: str = Field("", pattern=HEX, max_length=2 * MAX_EVENT_PREFIX)


class EventStreamSubscribe(Closed):
    """The client's first (and only) message."""

    type: Literal["subscribe"]
    blocks: bool = Field(False, description="a block message per committed block")
    txs: list[str] = Field(default_factory=list, max_length=MAX_STREAM_TXS)
    events: list[EventStreamFilter] = Field(default_factory=list, max_length=MAX_STREAM_FILTERS)
    after: str | None = Field(None, pattern=CURSOR, description="resume strictly after")
    from_height: int | None = Field(None, ge=1, description="replay from this block")
    queue: int = Field(
        DEFAULT_STREAM_QUEUE, ge=1, le=MAX_STREAM_QUEUE, description="blocks before 4408"
    )


class EventStreamBlock(Closed):
    type: Literal["block"]
    cursor: str = Field(pattern=CURSOR)
    height: int
    hash: str = Field(pattern=HEX)
    time_ms: int
    tx_count: int
    proposer: str


class EventStreamTx(Closed):
    type: Literal["tx"]
    cursor: str = Field(pattern=CURSOR)
    id: str = Field(pattern=HEX)
    height: int
    index: int
    status: str
    message: str


class EventStreamLive(Closed):
    """The replay is over: what follows is committed from now on."""

    type: Literal["live"]
    cursor: str = Field(pattern=CURSOR)
    height: int


STREAM_MODELS = (
    EventStreamSubscribe,
    EventStreamFilter,
    EventStreamBlock,
    EventStreamTx,
    EventStreamLive,
)


# --- blocks -----------------------------------------------------------------------------------
class BlockSummaryView(Closed):
    header: HeaderView
    size_bytes: int
    round: int
    signers: list[str]


class GoneRange(Closed):
    """Heights below this node's floor and where they are."""

    first: int
    last: int
    archive: str | None = Field(description="the archive file holding them; null: in none known")


class BlocksPage(Closed):
    blocks: list[BlockSummaryView]
    next_before: int | None = Field(description="pass as before for older blocks")
    floor: int = Field(description="this node holds every block from this height (1: all)")
    not_held: list[GoneRange] = Field(
        description="where the page reaches the floor: where the blocks below it are, newest "
        "first (empty otherwise)"
    )


class TxSigner(Closed):
    org: str
    name: str
    role: str


class TxBriefView(Closed):
    id: str = Field(pattern=HEX)
    index: int
    contract: str
    method: str
    signer: TxSigner
    status: str
    message: str


class BlockTxsView(Closed):
    height: int
    tx_count: int
    offset: int
    txs: list[TxBriefView]


class StateWriteView(Closed):
    contract: str
    key: str
    deleted: bool
    value: Any = Field(description="a contract value (null when deleted)")


class TxWritesView(Closed):
    id: str = Field(pattern=HEX)
    height: int
    index: int
    writes: list[StateWriteView]


class StateKeyView(Closed):
    key: str
    height: int = Field(description="the block that last wrote it")
    size: int = Field(description="bytes of its encoded value")


class StateKeysView(Closed):
    contract: str
    prefix: str
    height: int
    keys: list[StateKeyView]
    next_after: str | None = Field(description="pass as after for the next keys")


class ValidatorStatsRow(Closed):
    name: str
    org: str
    power: int
    signed: int
    missed: int
    proposed: int
    last_signed_height: int | None
    in_set: bool = Field(description="in the set that signs the next block")


class ValidatorStatsView(Closed):
    height: int
    window: int = Field(description="blocks counted: at most those from this node's floor up")
    validators: list[ValidatorStatsRow]


# --- contracts and governance ------------------------------------------------------------------
class ContractRow(Closed):
    name: str
    kind: Literal["system", "genesis", "deployed"]
    version: str | None
    code_hash: str | None
    height: int | None = Field(description="the block that activated this version")


class ContractsView(Closed):
    contracts: list[ContractRow]


class ApprovalView(Closed):
    org: str
    height: int | None = Field(description="null: below this node's floor (see held_from)")
    tx_id: str | None


class ChangeView(Closed):
    path: str
    before: Any
    after: Any


class ProposerView(Closed):
    org: str
    id: str


class ProposalView(Closed):
    scope: Literal["consortium", "lifecycle"]
    id: int
    kind: str
    args: Any
    proposer: ProposerView
    created: int
    expires: int
    status: Literal["open", "applied", "failed", "expired"]
    note: str
    approvals: list[ApprovalView]
    decided_height: int | None
    decided_tx_id: str | None
    changes: list[ChangeView] | None
    held_from: int | None = Field(
        None,
        description="set (to this node's floor) when part of its history lies below the floor "
        "(pruned, or a snapshot): the tx ids, heights and changes there are null",
    )


class ProposalsView(Closed):
    proposals: list[ProposalView]


class ContractVersion(Closed):
    version: str | None
    code_hash: str
    height: int
    proposal: ProposalView | None
    held_from: int | None = Field(
        None,
        description="set (to this node's floor) when part of its history lies below the floor "
        "(pruned, or a snapshot): the tx ids, heights and changes there are null",
    )


class ContractDetail(Closed):
    name: str
    kind: Literal["system", "genesis", "deployed"]
    version: str | None
    code_hash: str | None
    height: int | None
    versions: list[ContractVersion]


class ContractCode(Closed):
    name: str
    version: str | None
    code_hash: str
    height: int
    source: str


GENESIS_ANSWER: dict[str, Any] = {
    "description": "the genesis file, exactly as the consortium published it",
    "headers": {
        "X-Yulian-Genesis-Hash": {
            "description": "the suite hash of the genesis' canonical encoding (hex)",
            "schema": {"type": "string", "pattern": HEX},
        }
    },
    "content": {"application/json": {"schema": {"type": "object"}}},
}
