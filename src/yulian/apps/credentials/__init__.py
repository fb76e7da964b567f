"""Introduction: the ``credentials`` applications (可信身份 / 电子印章 / records) — client side.

Three contracts, shipped as data and deployed through the lifecycle:

- ``credentials`` (``contract.py``): attestations by issuer organisations, on chain as digests;
- ``eseal`` (``eseal.py``): a registry of electronic seals and of who sealed which document;
- ``records`` (``records.py``): records created, amended with their history, and archived.

An attestation's digest binds its id, schema, claims and a random salt
(``attestation_digest``), so the chain reveals nothing of the claims and nobody can guess them.
The holder keeps the claims, the salt and the exported receipt of the issuing tx in a
*presentation*; ``verify_presentation`` checks one offline, with nothing but the genesis, as
``yulian.apps.evidence`` checks a file: the receipt proves that the issuer's member signed an
``issue`` of exactly this digest, which the chain accepted, at a height and time. Whether it
has been revoked since is a question for the chain (``Credentials.check``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from yulian.apps.shared import Connection, call, govern, submit
from yulian.crypto.suite import Suite, get_suite
from yulian.sdk.verify import VerificationError, verify_receipt
from yulian.types.encoding import encode, to_canonical
from yulian.types.genesis import Genesis

CREDENTIALS = "credentials"
ESEAL = "eseal"
RECORDS = "records"
SOURCES = {CREDENTIALS: "contract.py", ESEAL: "eseal.py", RECORDS: "records.py"}
CREDENTIALS_VERSION = "1.0"
ATTESTATION_DOMAIN = "yulian/attestation/v1"
PRESENTATION_KIND = "yulian-presentation/v1"
SALT_BYTES = 16
PAGE = 64


def contract_source(
    name: str = CREDENTIALS,
    governors: Sequence[str] = ("org1",),
    founding_roles: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The source of contract ``name`` (credentials, eseal or records), ready to propose,
    with ``governors`` and ``founding_roles`` (role -> organisations holding it from the start)
    written in where the contract has roles (eseal has none)."""
    if name not in SOURCES:
        raise ValueError(f"no credentials contract {name!r}; known: {', '.join(SOURCES)}")
    source = resources.files(__package__).joinpath(SOURCES[name]).read_text(encoding="utf-8")
    if name == ESEAL:
        return source
    return govern(source, governors, founding_roles)


def new_salt() -> str:
    """A fresh random salt (hex): without it a short claim could be found by guessing."""
    return secrets.token_hex(SALT_BYTES)


def attestation_digest(
    suite: Suite, attestation_id: str, schema_id: str, claims: Mapping[str, str], salt: str
) -> str:
    """The digest the chain keeps for an attestation: the suite hash of the canonical
    encoding of (domain, id, schema, claims, salt)."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in claims.items()):
        raise ValueError("claims map names to strings")
    bytes.fromhex(salt)  # a ValueError names a salt that is not hex
    data = encode(to_canonical((ATTESTATION_DOMAIN, attestation_id, schema_id, dict(claims), salt)))
    return suite.hash(data).hex()


def make_presentation(
    attestation: Mapping[str, Any], receipt_doc: Mapping[str, Any]
) -> dict[str, Any]:
    """What a holder hands a verifier: the attestation's claims and salt (as ``issue``
    returned them) and the exported receipt of the issuing tx."""
    return {
        "kind": PRESENTATION_KIND,
        "attestation": attestation["id"],
        "schema": attestation["schema"],
        "claims": dict(attestation["claims"]),
        "salt": attestation["salt"],
        "receipt": dict(receipt_doc),
    }


def verify_presentation(
    presentation: Any,
    genesis: Genesis,
    *,
    contract: str = CREDENTIALS,
    at_ms: int | None = None,
) -> dict[str, Any]:
    """Check a presentation offline; returns what it proves (issuer, claims, when) or raises
    ``VerificationError`` naming the first thing that does not hold. With ``at_ms`` an
    attestation that had expired by then is refused too."""
    if not isinstance(presentation, dict) or presentation.get("kind") != PRESENTATION_KIND:
        raise VerificationError("not a Yulian presentation")
    verified = verify_receipt(presentation.get("receipt"), genesis)
    tx = verified.signed.tx
    if tx.contract != contract or tx.method != "issue" or len(tx.args) != 4:
        raise VerificationError(f"the receipt's tx is not an issue of the {contract} contract")
    if not verified.receipt.ok:
        raise VerificationError(f"the issue failed on chain: {verified.receipt.status}")
    attestation_id, schema_id, digest, expires = tx.args
    if (presentation.get("attestation"), presentation.get("schema")) != (attestation_id, schema_id):
        raise VerificationError("the presentation names another attestation than the receipt")
    claims, salt = presentation.get("claims"), presentation.get("salt")
    if not isinstance(claims, dict) or not isinstance(salt, str):
        raise VerificationError("the presentation's claims or salt are missing")
    try:
        computed = attestation_digest(
            get_suite(genesis.suite), str(attestation_id), str(schema_id), claims, salt
        )
    except ValueError as e:
        raise VerificationError(f"the presentation's claims or salt are malformed: {e}") from None
    if computed != digest:
        raise VerificationError("the claims and salt do not match the issued digest")
    if at_ms is not None and isinstance(expires, int) and expires and at_ms >= expires:
        raise VerificationError(f"the attestation expired at {expires} ms")
    summary = verified.summary
    return {
        "attestation": attestation_id,
        "schema": schema_id,
        "claims": claims,
        "issuer": summary["signer"]["org"],
        "issuer_member": summary["signer"]["name"],
        "height": summary["height"],
        "time_ms": summary["block_time_ms"],
        "expires": expires,
    }


class _App:
    contract = ""

    def __init__(self, conn: Connection, contract: str | None = None) -> None:
        self.conn = conn
        self.contract = contract or self.contract

    def _call(self, method: str, *args: Any) -> Any:
        return call(self.conn, self.contract, method, *args)

    def _query(self, method: str, *args: Any) -> Any:
        return self.conn.query(self.contract, method, list(args))


class Credentials(_App):
    """Attestations: schemas, issue, revoke, check (可信身份)."""

    contract = CREDENTIALS

    def grant_role(self, org: str, role: str = "issuer") -> None:
        self._call("grant_role", org, role)

    def define_schema(
        self, schema_id: str, fields: Sequence[str], description: str = ""
    ) -> dict[str, Any]:
        schema: dict[str, Any] = self._call("define_schema", schema_id, list(fields), description)
        return schema

    def issue(
        self,
        attestation_id: str,
        schema_id: str,
        claims: Mapping[str, str],
        *,
        suite: Suite,
        expires_ms: int = 0,
        salt: str | None = None,
    ) -> dict[str, Any]:
        """Issue an attestation of ``claims``; returns what the holder must keep: the id,
        schema, claims, salt, digest and the id of the issuing tx (to export its receipt)."""
        salt = salt if salt is not None else new_salt()
        digest = attestation_digest(suite, attestation_id, schema_id, claims, salt)
        result = submit(
            self.conn, self.contract, "issue", attestation_id, schema_id, digest, expires_ms
        )
        return {
            "id": attestation_id,
            "schema": schema_id,
            "claims": dict(claims),
            "salt": salt,
            "digest": digest,
            "tx_id": result["id"],
        }

    def revoke(self, attestation_id: str, reason: str) -> None:
        self._call("revoke", attestation_id, reason)

    def attestation(self, attestation_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._query("get_attestation", attestation_id)
        return found

    def check(self, attestation_id: str, digest: str) -> dict[str, Any]:
        """The chain's current answer: valid, or why not (unknown, revoked, expired...)."""
        answer: dict[str, Any] = self._query("check", attestation_id, digest)
        return answer


class ESeals(_App):
    """The electronic seal registry (电子印章)."""

    contract = ESEAL

    def register(self, seal_id: str, image_digest: str, description: str) -> dict[str, Any]:
        seal: dict[str, Any] = self._call("register_seal", seal_id, image_digest, description)
        return seal

    def authorize(self, seal_id: str, member_id: str) -> None:
        self._call("authorize", seal_id, member_id)

    def deauthorize(self, seal_id: str, member_id: str) -> None:
        self._call("deauthorize", seal_id, member_id)

    def revoke(self, seal_id: str, reason: str) -> None:
        self._call("revoke_seal", seal_id, reason)

    def seal(self, seal_id: str, document_digest: str) -> dict[str, Any]:
        sealing: dict[str, Any] = self._call("seal_document", seal_id, document_digest)
        return sealing

    def sealings(self, document_digest: str) -> list[dict[str, Any]]:
        """Every sealing of a document, oldest first, with each seal's current status."""
        out: list[dict[str, Any]] = []
        while True:
            page = self._query("sealings", document_digest, len(out), PAGE)
            out.extend(page)
            if len(page) < PAGE:
                return out


class Records(_App):
    """Records: create, amend with history, archive (红旗链)."""

    contract = RECORDS

    def grant_role(self, org: str, role: str = "archivist") -> None:
        self._call("grant_role", org, role)

    def create(
        self,
        record_id: str,
        kind: str,
        content_digest: str,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        record: dict[str, Any] = self._call(
            "create_record", record_id, kind, content_digest, dict(metadata or {})
        )
        return record

    def amend(self, record_id: str, content_digest: str, reason: str) -> dict[str, Any]:
        record: dict[str, Any] = self._call("amend", record_id, content_digest, reason)
        return record

    def archive(self, record_id: str, reason: str) -> dict[str, Any]:
        record: dict[str, Any] = self._call("archive", record_id, reason)
        return record

    def record(self, record_id: str) -> dict[str, Any]:
        record: dict[str, Any] = self._query("get_record", record_id)
        return record

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """Every version of a record, oldest first."""
        total = self.record(record_id)["version"]
        out: list[dict[str, Any]] = []
        while len(out) < total:
            out.extend(self._query("versions", record_id, len(out) + 1, PAGE))
        return out
