"""Introduction: the OpenAPI document, complete enough to generate a client from.

FastAPI derives most of it from the routes. This module adds what it cannot see: request
bodies the handlers read themselves (byte-capped, in two encodings), problem answers as
``application/problem+json``, and it removes FastAPI's ``422`` answers (a refused parameter is
a ``400`` problem here). Route decorators use ``answers`` to list every status a route really
returns.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from yulian.api.problems import PROBLEM_MEDIA_TYPE
from yulian.api.schemas import (
    CONTRACT_VALUE_SCHEMA,
    BatchJsonBody,
    Problem,
    QueryBody,
    TxJsonBody,
)
from yulian.api.schemas_reads import STREAM_MODELS

REF = "#/components/schemas/{model}"
_DOCUMENTED_ONLY: tuple[type[BaseModel], ...] = (
    Problem,
    TxJsonBody,
    BatchJsonBody,
    QueryBody,
    *STREAM_MODELS,  # the WebSocket's messages (no operation: OpenAPI has no WebSockets)
)

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad request: the problem's code says which input",
    401: "The signature does not verify",
    403: "The signer is not allowed",
    404: "Not found",
    409: "Conflict",
    410: "Gone from this node: below its floor (the problem says where it is)",
    413: "Body over its byte limit",
    415: "Unsupported media type",
    503: "Unavailable: retry later",
}


def problem_answer(status: int, codes: str) -> dict[str, Any]:
    return {
        "description": f"{_REASONS[status]} (codes: {codes})",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def answers(ok: type[BaseModel] | Any, *problems: tuple[int, str], ok_status: int = 200) -> Any:
    """``responses=`` for a route: its success model and each problem status with its codes."""
    out: dict[int | str, dict[str, Any]] = {ok_status: {"model": ok}}
    for status, codes in problems:
        out[status] = problem_answer(status, codes)
    return out


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    }


def envelope_body(json_model: type[BaseModel], what: str) -> dict[str, Any]:
    """A body of msgpack bytes or the same in JSON (base64)."""
    return {
        "requestBody": {
            "required": True,
            "description": what,
            "content": {
                "application/msgpack": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"$ref": REF.format(model=json_model.__name__)}},
            },
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` by the completed document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    _, defs = models_json_schema([(m, "validation") for m in _DOCUMENTED_ONLY], ref_template=REF)
    schemas.update(defs.get("$defs", {}))
    schemas["ContractValue"] = CONTRACT_VALUE_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    return doc
