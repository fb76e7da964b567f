"""Introduction: the explorer's reads of committed data — the genesis, block lists, a block's
txs, a tx's state writes, a contract's keys, the validators' signing record.

Each answers one page of a list in one request (the explorer needed one request per block or
per tx before), bounded by ``limit`` (``api/limits.py``), from committed data only. Every
route spends the caller's rate limit; a contract's keys follow its read policy, and a tx's
writes the policy of the contract the tx called, leaving out the writes to contracts the
caller may not read (decision 0093). Blocks, their txs' calls and signers stay public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from yulian.api.archived import floor_of, gone_ranges, not_held_problem
from yulian.api.auth import Authenticator, ReadGuard
from yulian.api.limits import (
    DEFAULT_LIST,
    DEFAULT_WINDOW,
    MAX_HASH_BYTES,
    MAX_HEIGHT,
    MAX_LIST,
    MAX_NAME_LEN,
    MAX_STATE_KEY_BYTES,
    MAX_WINDOW,
    MIN_HASH_BYTES,
)
from yulian.api.openapi import answers
from yulian.api.port import BlockSummary, HistoricalScanUnavailable, NodePort, ReadBusy
from yulian.api.problems import Problem
from yulian.api.schemas import BlockView
from yulian.api.schemas_reads import (
    GENESIS_ANSWER,
    BlocksPage,
    BlockTxsView,
    StateKeysView,
    TxWritesView,
    ValidatorStatsView,
)
from yulian.api.submit import json_response
from yulian.api.views import block_view, header_view
from yulian.crypto.suite import get_suite
from yulian.ledger import MAX_TXS_PER_BLOCK
from yulian.types.encoding import decode
from yulian.types.jsonvalue import to_json

TX_ID = r"^(?:[0-9a-fA-F]{2}){16,64}$"
BLOCK_HASH = rf"^(?:[0-9a-fA-F]{{2}}){{{MIN_HASH_BYTES},{MAX_HASH_BYTES}}}$"
NO_NUL = r"^[^\u0000]*$"
NO_NUL_OR_SLASH = r"^[^\u0000/]+$"
GENESIS_HASH_HEADER = "X-Yulian-Genesis-Hash"


def summary_view(s: BlockSummary) -> dict[str, Any]:
    return {
        "header": header_view(s.header, s.block_hash),
        "size_bytes": s.size_bytes,
        "round": s.round,
        "signers": list(s.signers),
    }


def router(port: NodePort, auth: Authenticator, guard: ReadGuard) -> APIRouter:
    api = APIRouter()
    genesis = port.genesis
    genesis_file = genesis.to_json().encode("utf-8")
    genesis_hash = get_suite(genesis.suite).hash(genesis.encode()).hex()

    @api.get(
        "/v1/genesis",
        summary="The chain's genesis file",
        description="What every proof is verified against; compare the hash in the "
        f"`{GENESIS_HASH_HEADER}` header with the one the consortium published.",
        response_model=None,
        responses={200: GENESIS_ANSWER},
    )
    async def get_genesis(request: Request) -> Response:
        auth.caller(request)
        return Response(
            genesis_file,
            media_type="application/json",
            headers={GENESIS_HASH_HEADER: genesis_hash},
        )

    @api.get(
        "/v1/blocks",
        summary="Committed blocks, newest first",
        description="Blocks below height `before` (default: all), at most `limit`; continue "
        "with `before=next_before`. A node holds the blocks from its `floor` up (pruned, or "
        "started from a snapshot): a page that reaches the floor ends there and lists in "
        "`not_held` where the blocks below it are (each archive file with its heights, or "
        "`archive` null: in no archive this node knows); a page wholly below the floor is a "
        "410 problem.",
        response_model=None,
        responses=answers(BlocksPage, (400, "malformed_request"), (410, "archived, not_held")),
    )
    async def list_blocks(
        request: Request,
        before: int | None = Query(None, ge=1, le=MAX_HEIGHT),
        limit: int = Query(DEFAULT_LIST, ge=1, le=MAX_LIST),
    ) -> Response:
        auth.caller(request)
        top = min(port.head().height + 1, MAX_HEIGHT if before is None else before)
        floor = floor_of(port)
        if 1 <= top - 1 < floor:
            gone = port.not_held(top - 1)
            if gone is not None:
                raise not_held_problem(gone, "the block")
        blocks = port.block_summaries(top, min(limit, max(0, top - floor)))
        last = blocks[-1].header.height if blocks else top
        at_floor = floor > 1 and last <= floor
        return json_response(
            {
                "blocks": [summary_view(s) for s in blocks],
                "next_before": last if last > floor and len(blocks) == limit else None,
                "floor": floor,
                "not_held": gone_ranges(port, floor) if at_floor else [],
            }
        )

    @api.get(
        "/v1/blocks/by-hash/{block_hash}",
        summary="A committed block by its hash",
        response_model=None,
        responses=answers(
            BlockView,
            (400, "malformed_request"),
            (404, "unknown_block"),
            (410, "archived, not_held"),
        ),
    )
    async def block_by_hash(
        request: Request,
        block_hash: str = Path(pattern=BLOCK_HASH, description="hex"),
    ) -> Response:
        auth.caller(request)
        height = port.block_height(bytes.fromhex(block_hash))
        record = port.block(height) if height is not None else None
        gone = port.not_held(height) if height is not None and record is None else None
        if gone is not None:
            raise not_held_problem(gone, "the block")
        floor = floor_of(port) if record is None else 1
        if record is None and floor > 1:  # a pruned block's hash is dropped with it
            raise Problem(
                "unknown_block",
                404,
                f"no block with hash {block_hash.lower()} from height {floor} up; this node "
                f"does not hold the blocks below its floor {floor} (nor their hashes)",
                extra={"floor": floor},
            )
        if record is None:
            raise Problem("unknown_block", 404, f"no block with hash {block_hash.lower()}")
        return json_response(
            block_view(record.header, record.block_hash, record.tx_ids, record.commit)
        )

    @api.get(
        "/v1/blocks/{height}/txs",
        summary="A block's txs: the call, the signer and the receipt's status",
        response_model=None,
        responses=answers(
            BlockTxsView,
            (400, "malformed_request"),
            (404, "unknown_block"),
            (410, "archived, not_held"),
        ),
    )
    async def block_txs(
        request: Request,
        height: int = Path(ge=1, le=MAX_HEIGHT),
        offset: int = Query(0, ge=0, le=MAX_TXS_PER_BLOCK),
        limit: int = Query(DEFAULT_LIST, ge=1, le=MAX_LIST),
    ) -> Response:
        auth.caller(request)
        txs = port.block_txs(height, offset, limit)
        gone = port.not_held(height) if txs is None else None
        if gone is not None:
            raise not_held_problem(gone, "the block")
        summaries = port.block_summaries(height + 1, 1) if txs is not None else []
        if txs is None or not summaries or summaries[0].header.height != height:
            raise Problem("unknown_block", 404, f"no block at height {height}")
        return json_response(
            {
                "height": height,
                "tx_count": summaries[0].header.tx_count,
                "offset": offset,
                "txs": [
                    {
                        "id": t.tx_id.hex(),
                        "index": t.index,
                        "contract": t.contract,
                        "method": t.method,
                        "signer": {
                            "org": t.signer_org,
                            "name": t.signer_name,
                            "role": t.signer_role,
                        },
                        "status": t.status,
                        "message": t.message,
                    }
                    for t in txs
                ],
            }
        )

    @api.get(
        "/v1/txs/{tx_id}/writes",
        summary="The state writes of a committed tx",
        description="Recovered by re-executing the tx's block as its validators did (the "
        "ledger keeps a block's writes merged); every recomputed receipt must equal the "
        "committed one. One block is re-executed at a time: `503 read_busy` asks to retry. "
        "A block whose contracts scan their state (`ctx.state.scan`) cannot be re-executed on "
        "the past state: `409 historical_scan_unavailable` (the receipt and the block remain).",
        response_model=None,
        responses=answers(
            TxWritesView,
            (400, "malformed_id"),
            (401, "authentication_required"),
            (403, "read_not_allowed"),
            (404, "unknown_tx"),
            (409, "historical_scan_unavailable"),
            (410, "archived, not_held"),
            (503, "read_busy"),
        ),
    )
    async def tx_writes(
        request: Request, tx_id: str = Path(pattern=TX_ID, description="hex")
    ) -> Response:
        caller = auth.caller(request)
        ident = bytes.fromhex(tx_id)
        status = port.tx_status(ident)
        committed = status.status == "committed"
        gone = port.not_held(status.height) if committed else None
        if gone is not None:  # its block, or the state before it, is below the floor
            raise not_held_problem(gone, f"the block of tx {ident.hex()}")
        called = port.block_txs(status.height, status.index, 1) if committed else None
        if called:  # before the re-execution: a refused caller costs no block's work
            guard.require(caller, called[0].contract)
        readable = guard.readable(caller)
        head = port.head().height
        try:
            writes = await port.tx_writes(ident) if status.status == "committed" else None
        except ReadBusy as e:
            raise Problem("read_busy", 503, str(e)) from None
        except HistoricalScanUnavailable as e:
            detail = (
                f"{e}. The tx's receipt (GET /v1/txs/{ident.hex()}) and its block (GET "
                f"/v1/blocks/{status.height}) remain available"
            )
            where = {"receipt": f"/v1/txs/{ident.hex()}", "block": f"/v1/blocks/{status.height}"}
            raise Problem("historical_scan_unavailable", 409, detail, where) from None
        if writes is None:
            raise Problem("unknown_tx", 404, f"no committed tx {ident.hex()}")
        out = []
        for key, value in writes:
            contract, _, name = key.partition(b"\x00")
            if not readable(contract.decode("utf-8", "replace"), head):
                continue
            out.append(
                {
                    "contract": contract.decode("utf-8", "replace"),
                    "key": name.decode("utf-8", "replace"),
                    "deleted": value is None,
                    "value": to_json(decode(value)) if value is not None else None,
                }
            )
        return json_response(
            {"id": ident.hex(), "height": status.height, "index": status.index, "writes": out}
        )

    @api.get(
        "/v1/state/{contract}",
        summary="A contract's current keys, by prefix",
        description="Keys of `contract` starting with `prefix`, ascending, after `after`; "
        "each with the block that last wrote it and its value's size. Continue with "
        "`after=next_after`.",
        response_model=None,
        responses=answers(
            StateKeysView,
            (400, "malformed_request, key_too_long"),
            (401, "authentication_required"),
            (403, "read_not_allowed"),
        ),
    )
    async def state_keys(
        request: Request,
        contract: str = Path(min_length=1, max_length=MAX_NAME_LEN, pattern=NO_NUL_OR_SLASH),
        prefix: str = Query("", max_length=MAX_STATE_KEY_BYTES, pattern=NO_NUL),
        after: str | None = Query(
            None, min_length=1, max_length=MAX_STATE_KEY_BYTES, pattern=NO_NUL
        ),
        limit: int = Query(DEFAULT_LIST, ge=1, le=MAX_LIST),
    ) -> Response:
        for key in (prefix, after or ""):
            size = len(contract.encode("utf-8")) + 1 + len(key.encode("utf-8"))
            if size > MAX_STATE_KEY_BYTES:
                raise Problem(
                    "key_too_long",
                    400,
                    f"contract, NUL and key are {size} UTF-8 bytes; at most {MAX_STATE_KEY_BYTES}",
                )
        guard.require(auth.caller(request), contract)
        height = port.head().height
        keys = port.state_keys(contract, prefix, after, limit)
        return json_response(
            {
                "contract": contract,
                "prefix": prefix,
                "height": height,
                "keys": [{"key": k.key, "height": k.height, "size": k.size} for k in keys],
                "next_after": keys[-1].key if len(keys) == limit else None,
            }
        )

    @api.get(
        "/v1/validators/stats",
        summary="Each validator's signing record over the last blocks",
        description="From the commit certificates of the last `window` blocks: how many each "
        "validator signed, missed (in the set, not in the certificate — a certificate holds "
        "the first precommits over two thirds that the committing node gathered) and proposed.",
        response_model=None,
        responses=answers(ValidatorStatsView, (400, "malformed_request")),
    )
    async def validator_stats(
        request: Request,
        window: int = Query(DEFAULT_WINDOW, ge=1, le=MAX_WINDOW),
    ) -> Response:
        auth.caller(request)
        return json_response(port.validator_stats(window))

    return api
