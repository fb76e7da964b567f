"""Introduction: the OpenAPI side of who may see what — the private routes' shapes, the signed
request's headers as security schemes, and the answers the guarded routes add.

``document_privacy(app)`` completes the document ``install_openapi`` builds (once): the bodies
of the private routes, four ``apiKey`` header schemes (decision 0078), the security
requirement of every route that reads an identity (``{}`` first where anonymous callers are
also served), and the 401 / 403 / 429 problems of the routes that apply read policies and rate
limits (decision 0079).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from yulian.api.problems import PROBLEM_MEDIA_TYPE
from yulian.api.schemas import Closed
from yulian.types.privacy import MAX_KEY

REF = "#/components/schemas/{model}"
HEX = r"^[0-9a-f]*$"
SCHEMES = {
    "YulianCertificate": ("Yulian-Certificate", "the caller's X.509 certificate, DER, base64"),
    "YulianTime": ("Yulian-Time", "when the request was signed, ms since the epoch"),
    "YulianNonce": ("Yulian-Nonce", "16 random bytes, 32 lowercase hex digits"),
    "YulianSignature": (
        "Yulian-Signature",
        'base64 signature of encode(["yulian/api-request/v1", chain_id, METHOD, path?query, '
        "time_ms, nonce, H(body)]) by the certificate's key (docs/privacy.md)",
    ),
}
SIGNED: dict[str, list[str]] = {name: [] for name in SCHEMES}
#: route -> (anonymous callers served too?, extra problem answers)
GUARDED: dict[tuple[str, str], tuple[bool, dict[int, str]]] = {
    ("/v1/state/{contract}/{key}", "get"): (
        True,
        {
            401: "authentication_required, bad_signature, malformed_auth, stale_request, "
            "replayed_request, unknown_ca, certificate_revoked, certificate_expired",
            403: "read_not_allowed",
            429: "rate_limited",
        },
    ),
    ("/v1/state/{contract}/{key}/history", "get"): (
        True,
        {
            401: "authentication_required, bad_signature, malformed_auth, stale_request",
            403: "read_not_allowed",
            429: "rate_limited",
        },
    ),
    ("/v1/query", "post"): (
        True,
        {
            401: "authentication_required, bad_signature, malformed_auth, stale_request",
            403: "read_not_allowed",
            429: "rate_limited",
        },
    ),
    **{
        (path, "get"): (
            True,
            {
                401: "authentication_required, bad_signature, malformed_auth, stale_request",
                403: "read_not_allowed",
                429: "rate_limited",
            },
        )
        # decision 0093: a contract's keys, a tx's writes, events (and the stream's handshake)
        for path in ("/v1/state/{contract}", "/v1/txs/{tx_id}/writes", "/v1/events")
    },
    **{
        (path, "get"): (True, {429: "rate_limited"})
        for path in (
            "/v1/txs/{tx_id}",
            "/v1/blocks/latest",
            "/v1/blocks/{height}",
            "/v1/consortium",
            "/v1/validators",
            "/v1/genesis",
            "/v1/blocks",
            "/v1/blocks/by-hash/{block_hash}",
            "/v1/blocks/{height}/txs",
            "/v1/validators/stats",
            "/v1/contracts",
            "/v1/contracts/{name}",
            "/v1/contracts/{name}/code",
            "/v1/proposals",
            "/v1/proposals/{scope}/{proposal_id}",
        )
    },
    ("/v1/private/reads/{access_id}", "get"): (False, {429: "rate_limited"}),
    ("/v1/private/status", "get"): (False, {429: "rate_limited"}),
}


class PrivateItemBody(Closed):
    collection: str = Field(min_length=1, max_length=48)
    key: str = Field(min_length=1, max_length=MAX_KEY)
    salt: str = Field(pattern=r"^[0-9a-f]{64}$", description="32 random bytes, hex")
    value: str = Field(
        description="the private value, base64", json_schema_extra={"format": "byte"}
    )


class PrivateTxBody(Closed):
    tx: str = Field(description="the signed envelope, base64", json_schema_extra={"format": "byte"})
    items: list[PrivateItemBody] = Field(min_length=1, max_length=64)


class PrivateReadBody(Closed):
    tx: str = Field(
        description="the envelope of access.read(collection, key, purpose), base64",
        json_schema_extra={"format": "byte"},
    )


class AccessView(Closed):
    id: int
    height: int
    time_ms: int
    tx: str = Field(pattern=HEX)
    reader: str = Field(pattern=HEX, description="the reader's certificate id")
    reader_org: str
    reader_role: str
    reader_attributes: dict[str, str]
    collection: str
    key: str
    version: int
    digest: str = Field(pattern=HEX)
    subject: str
    owner: str
    purpose: str
    basis: str = Field(description="owner, member or grant")
    grant_id: int
    valid_until: int


class PrivateReadDone(Closed):
    access: AccessView
    collection: str
    key: str
    version: int
    digest: str = Field(pattern=HEX)
    salt: str = Field(pattern=HEX)
    value: str = Field(description="base64", json_schema_extra={"format": "byte"})


class PrivateStatus(Closed):
    org: str
    applied_height: int
    held: dict[str, int]
    pending: int
    missing: int


_BODIES: tuple[type[BaseModel], ...] = (PrivateTxBody, PrivateReadBody, PrivateItemBody)


def document_privacy(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the document also states authentication (decision 0078)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        doc = build()
        if not doc.get("x-yulian-auth"):
            _complete(doc)
            doc["x-yulian-auth"] = "signed requests; docs/privacy.md"
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(doc: dict[str, Any]) -> None:
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, defs = models_json_schema([(m, "validation") for m in _BODIES], ref_template=REF)
    schemas.update(defs.get("$defs", {}))
    components["securitySchemes"] = {
        name: {"type": "apiKey", "in": "header", "name": header, "description": text}
        for name, (header, text) in SCHEMES.items()
    }
    for (path, method), (anonymous, problems) in GUARDED.items():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        operation["security"] = [{}, SIGNED] if anonymous else [SIGNED]
        responses = operation.setdefault("responses", {})
        for status, codes in problems.items():
            responses.setdefault(
                str(status),
                {
                    "description": f"refused (codes: {codes})",
                    "content": {
                        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}
                    },
                },
            )
