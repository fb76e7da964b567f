"""Introduction: the JSON shapes of the API, as pydantic models, for the OpenAPI document.

Handlers build their answers directly (``views.py``, orjson) and never pass through these
models at run time, so they cost nothing per request; they exist so that clients can generate
code from ``/openapi.json`` and so that an OpenAPI-driven tester can check every answer against
them (``tests/e2e/test_api_fuzz_e2e.py``). Objects are closed (``additionalProperties: false``):
a field added to a view without its model fails that test.

Contract values (args, return values, state values, event payloads) are JSON with bytes as
``{"$bytes": "<hex>"}`` (``types/jsonvalue.py``); their schema is any JSON value.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yulian.api.limits import MAX_BATCH_TXS, MAX_NAME_LEN, MAX_QUERY_ARGS

HEX = r"^[0-9a-f]*$"


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------
class Problem(Closed):
    """RFC 9457 problem details; clients branch on ``code``."""

    type: str = Field(description="urn:yulian:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable machine-readable code (see docs/api.md)")
    # extension members of ``archived`` and ``not_held`` (410): where a block below this
    # node's floor is (docs/operations.md)
    height: int | None = Field(None, description="the height asked for (archived, not_held)")
    floor: int | None = Field(None, description="this node's floor (archived, not_held)")
    archive: str | None = Field(None, description="the archive file holding it (archived)")
    first: int | None = Field(None, description="the first height of that file (archived)")
    last: int | None = Field(None, description="the last height of that file (archived)")


#: A contract value in JSON (``types/jsonvalue.py``): no floats; integers in 64 bits; bytes as
#: ``{"$bytes": "<hex>"}``. Nesting and size are limited as in a tx (not expressible here).
CONTRACT_VALUE_SCHEMA: dict[str, Any] = {
    "description": 'a contract value: JSON without floats, bytes as {"$bytes": "<hex>"}',
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "integer", "minimum": -(1 << 63), "maximum": (1 << 64) - 1},
        {"type": "string"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ContractValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/ContractValue"}},
    ],
}


# --- request bodies ---------------------------------------------------------------------------
class TxJsonBody(Closed):
    tx: str = Field(
        description="the msgpack envelope, base64", json_schema_extra={"format": "byte"}
    )


class BatchJsonBody(Closed):
    txs: list[str] = Field(
        min_length=1,
        max_length=MAX_BATCH_TXS,
        description="msgpack envelopes, base64 each",
    )


class QueryBody(Closed):
    contract: str = Field(min_length=1, max_length=MAX_NAME_LEN)
    method: str = Field(min_length=1, max_length=MAX_NAME_LEN)
    args: list[Any] = Field(
        default_factory=list,
        max_length=MAX_QUERY_ARGS,
        json_schema_extra={"items": {"$ref": "#/components/schemas/ContractValue"}},
    )


# --- receipts, blocks, proofs -----------------------------------------------------------------
class EventView(Closed):
    contract: str
    name: str
    payload: Any


class ReceiptView(Closed):
    tx_id: str = Field(pattern=HEX)
    status: str = Field(description="ok, reverted, out_of_steps, fault, unknown_method, ...")
    message: str
    steps: int
    value: Any
    events: list[EventView]


class HeaderView(Closed):
    hash: str = Field(pattern=HEX)
    chain_id: str
    height: int
    time_ms: int
    prev_hash: str = Field(pattern=HEX)
    tx_count: int
    tx_root: str = Field(pattern=HEX)
    result_root: str = Field(pattern=HEX)
    state_root: str = Field(pattern=HEX)
    validators_hash: str = Field(pattern=HEX)
    proposer: str
    config_hash: str = Field(pattern=HEX)


class SignatureView(Closed):
    validator: str
    signature: str = Field(pattern=HEX)


class CommitView(Closed):
    height: int
    round: int
    block_hash: str = Field(pattern=HEX)
    signatures: list[SignatureView]


class BlockView(Closed):
    header: HeaderView
    tx_ids: list[str]
    commit: CommitView | None


class ConfigTransitionView(Closed):
    header: str = Field(description="base64")
    commit: str = Field(description="base64")
    config: str = Field(description="base64")


class ProofBundleView(Closed):
    """Raw bytes (base64, audit paths hex) that ``yulian verify`` / the SDK check offline."""

    version: int
    chain_id: str
    envelope: str
    receipt: str
    index: int
    tree_size: int
    tx_path: list[str]
    receipt_path: list[str]
    header: str
    commit: str
    prev_header: str
    transitions: list[ConfigTransitionView]


class SignerView(Closed):
    org: str
    role: str
    name: str
    id: str


class TxSummaryView(Closed):
    tx_id: str
    chain_id: str
    contract: str
    method: str
    args: list[Any]
    signer: SignerView
    height: int
    index: int
    block_hash: str
    block_time_ms: int
    status: str
    message: str
    value: Any
    events: list[EventView]
    state_root: str
    commit_signers: list[str]


# --- answers ----------------------------------------------------------------------------------
class TxSubmitted(Closed):
    """202: admitted, pending (or, after a wait that timed out, whatever the tx is then);
    200 (``wait=true``): committed, with its receipt."""

    id: str = Field(pattern=HEX)
    status: Literal["pending", "committed", "unknown"]
    height: int | None = None
    index: int | None = None
    receipt: ReceiptView | None = None


class BatchAccepted(Closed):
    id: str = Field(pattern=HEX)
    status: Literal["pending"]


class BatchRefused(Closed):
    status: Literal["refused"]
    code: str
    http_status: int
    detail: str


class BatchSubmitted(Closed):
    accepted: int
    refused: int
    results: list[BatchAccepted | BatchRefused]


class TxPending(Closed):
    id: str
    status: Literal["pending"]


class TxCommitted(Closed):
    id: str
    status: Literal["committed"]
    height: int
    index: int
    receipt: ReceiptView
    events: list[EventView]
    header: HeaderView
    commit: CommitView
    proof: ProofBundleView
    summary: TxSummaryView


class StateValue(Closed):
    contract: str
    key: str
    height: int
    value: Any


class StateVersion(Closed):
    height: int
    deleted: bool
    value: Any


class StateHistory(Closed):
    contract: str
    key: str
    floor: int = Field(description="this node holds every block from this height (1: all)")
    complete: bool = Field(
        description="false: the list reaches below the floor, and older versions may exist "
        "that this node does not hold"
    )
    versions: list[StateVersion]


class QueryResult(Closed):
    height: int
    status: str
    message: str
    value: Any
    steps: int


class ValidatorView(Closed):
    name: str
    org: str
    public_key: str = Field(pattern=HEX)
    power: int
    address: str


class ScheduleEntry(Closed):
    from_height: int
    validators: list[ValidatorView]


class RevocationView(Closed):
    cert_id: str = Field(pattern=HEX)
    org: str
    height: int


class ConsortiumView(Closed):
    height: int
    organisations: list[str]
    validators: list[ValidatorView]
    schedule: list[ScheduleEntry]
    policies: dict[str, str]
    params: dict[str, int]
    revocations: list[RevocationView]


class ValidatorsView(Closed):
    height: int
    validators: list[ValidatorView]


class Health(Closed):
    status: Literal["ok"]
    version: str
    node: str
    org: str
    chain_id: str
    genesis_hash: str = Field(pattern=HEX)
    suite: str
    height: int
    last_block_time_ms: int
    round: int
    peers: list[str]
    mempool: int
    validators: list[str]
    contracts: list[str]
