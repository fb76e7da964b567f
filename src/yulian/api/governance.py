"""Introduction: contracts and governance as readers see them — which contracts exist, each
one's versions and code, and the proposals of the ``consortium`` and ``lifecycle`` system
contracts with who approved them, at which height, in which tx, and what they changed.

The node derives all of it from committed state and the event index (``node/govreads.py``);
``POST /v1/query`` on the system contracts answers for the head only and knows no heights or
tx ids.

All of it is the state of ``consortium`` and ``lifecycle``, public by construction (their read
policy is built in, docs/privacy.md); each route still spends the caller's rate limit.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from yulian.api.auth import Authenticator
from yulian.api.limits import DEFAULT_LIST, MAX_LIST, MAX_NAME_LEN, MAX_PROPOSAL_ID, MAX_VERSION_LEN
from yulian.api.openapi import answers
from yulian.api.port import NodePort
from yulian.api.problems import Problem
from yulian.api.schemas_reads import (
    ContractCode,
    ContractDetail,
    ContractsView,
    ProposalsView,
    ProposalView,
)
from yulian.api.submit import json_response

NAME = r"^[^\u0000/]+$"
VERSION = r"^[0-9A-Za-z][0-9A-Za-z._+-]*$"
Scope = Literal["consortium", "lifecycle"]
Status = Literal["open", "applied", "failed", "expired"]


def router(port: NodePort, auth: Authenticator) -> APIRouter:
    api = APIRouter()
    name_param = Path(min_length=1, max_length=MAX_NAME_LEN, pattern=NAME)

    @api.get(
        "/v1/contracts",
        summary="Every callable contract and its active version",
        response_model=None,
        responses=answers(ContractsView),
    )
    async def contracts(request: Request) -> Response:
        auth.caller(request)
        return json_response({"contracts": port.contracts()})

    @api.get(
        "/v1/contracts/{name}",
        summary="A contract with its version history",
        description="Each version with the height that activated it and the lifecycle "
        "proposal that did (its approvals by organisation, with heights and tx ids).",
        response_model=None,
        responses=answers(ContractDetail, (400, "malformed_request"), (404, "unknown_contract")),
    )
    async def contract(request: Request, name: str = name_param) -> Response:
        auth.caller(request)
        detail = port.contract(name)
        if detail is None:
            raise Problem("unknown_contract", 404, f"no contract named {name!r}")
        return json_response(detail)

    @api.get(
        "/v1/contracts/{name}/code",
        summary="The source of a version of a contract",
        description="Without `version`: the active one. System contracts are native code "
        "of the node and have none here.",
        response_model=None,
        responses=answers(
            ContractCode, (400, "malformed_request"), (404, "unknown_contract, unknown_version")
        ),
    )
    async def contract_code(
        request: Request,
        name: str = name_param,
        version: str | None = Query(
            None, min_length=1, max_length=MAX_VERSION_LEN, pattern=VERSION
        ),
    ) -> Response:
        auth.caller(request)
        if port.contract(name) is None:
            raise Problem("unknown_contract", 404, f"no contract named {name!r}")
        code = port.contract_code(name, version)
        if code is None:
            which = f"version {version!r}" if version is not None else "source"
            raise Problem("unknown_version", 404, f"contract {name!r} has no {which} on chain")
        return json_response(code)

    @api.get(
        "/v1/proposals",
        summary="Governance proposals, newest first",
        description="Of the `consortium` and `lifecycle` system contracts (or one `scope`), "
        "optionally one `status`; each with its approvals (organisation, height, tx id), the "
        "block and tx that decided it and what it changed. `before_id` pages within a scope.",
        response_model=None,
        responses=answers(ProposalsView, (400, "malformed_request")),
    )
    async def proposals(
        request: Request,
        scope: Scope | None = Query(None),
        status: Status | None = Query(None),
        before_id: int | None = Query(None, ge=1, le=MAX_PROPOSAL_ID),
        limit: int = Query(DEFAULT_LIST, ge=1, le=MAX_LIST),
    ) -> Response:
        auth.caller(request)
        if before_id is not None and scope is None:
            raise Problem("malformed_request", 400, "before_id pages within one scope: give scope")
        return json_response({"proposals": port.proposals(scope, status, before_id, limit)})

    @api.get(
        "/v1/proposals/{scope}/{proposal_id}",
        summary="One governance proposal",
        response_model=None,
        responses=answers(ProposalView, (400, "malformed_request"), (404, "unknown_proposal")),
    )
    async def proposal(
        request: Request,
        scope: Scope = Path(),
        proposal_id: int = Path(ge=1, le=MAX_PROPOSAL_ID),
    ) -> Response:
        auth.caller(request)
        found = port.proposal(scope, proposal_id)
        if found is None:
            raise Problem("unknown_proposal", 404, f"no {scope} proposal {proposal_id}")
        return json_response(found)

    return api
