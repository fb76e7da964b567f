"""Introduction: private data from the SDK — write values, read them on the record, consent.

``PrivateData(client)`` over a ``Client`` with a wallet:

- ``put(collection, key, value, subject)`` writes a version through ``collections.put``;
  ``submit(contract, method, args, items)`` through any contract whose args carry the items'
  digests (``prepare`` makes an item and its salted digest). Before any value leaves the
  client, the node's organisation is checked to be a member of the collection: a value is
  never sent to a node that may not hold it.
- ``read(collection, key, purpose)`` signs ``access.read``, and returns the value once the
  access record is committed; the value is checked against its salted digest and the record.
- ``grant`` / ``revoke`` make consent; ``trail``, ``subject_trail``, ``my_reads``, ``record``,
  ``records``, ``collection`` and ``grants`` read what the caller may see (signed queries).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from yulian.sdk.client import ApiError, Client
from yulian.types.privacy import SALT_BYTES, private_digest

PRIVATE_TTL_BLOCKS = 100  # a private write's tx expires this many blocks ahead


class PrivateDataError(Exception):
    """A private value the client refuses to send or to accept (says why)."""


@dataclass(frozen=True)
class PreparedItem:
    collection: str
    key: str
    salt: bytes
    value: bytes
    digest: bytes

    def body(self) -> dict[str, str]:
        return {
            "collection": self.collection,
            "key": self.key,
            "salt": self.salt.hex(),
            "value": base64.b64encode(self.value).decode("ascii"),
        }


@dataclass(frozen=True)
class PrivateValue:
    """A value read on the record: the value, its salt and digest, and the access record."""

    value: bytes
    salt: bytes
    digest: bytes
    version: int
    access: dict[str, Any]


class PrivateData:
    def __init__(self, client: Client) -> None:
        if client.wallet is None:
            raise ValueError("private data needs a client with a wallet")
        self.client = client
        self.wallet = client.wallet

    # --- writing --------------------------------------------------------------------------------
    def prepare(self, collection: str, key: str, value: bytes) -> PreparedItem:
        """A version of ``collection/key`` with a fresh salt and its digest."""
        salt = secrets.token_bytes(SALT_BYTES)
        digest = private_digest(
            self.wallet.suite.hash, self.client.chain_id(), collection, key, salt, value
        )
        return PreparedItem(collection, key, salt, value, digest)

    def put(
        self, collection: str, key: str, value: bytes, subject: str = "", *, wait: bool = True
    ) -> dict[str, Any]:
        """Write a version through ``collections.put``; the committed record (``wait``)."""
        item = self.prepare(collection, key, value)
        args = [collection, key, item.digest, len(value), subject]
        result = self.submit("collections", "put", args, [item], wait=wait)
        return _receipt_value(result) if wait else result

    def submit(
        self,
        contract: str,
        method: str,
        args: Sequence[Any],
        items: Sequence[PreparedItem],
        *,
        wait: bool = True,
        timeout_s: float = 30.0,
    ) -> dict[str, Any]:
        """A signed tx with its private values (their digests among ``args``)."""
        for collection in sorted({i.collection for i in items}):
            self._require_member_node(collection)
        head = self.client.health()["height"]
        signed = self.wallet.sign_tx(
            self.client.chain_id(), contract, method, args, expires_at=head + PRIVATE_TTL_BLOCKS
        )
        body = {
            "tx": base64.b64encode(signed.encode()).decode("ascii"),
            "items": [i.body() for i in items],
        }
        response = self.client._http.post(
            "/v1/private/txs",
            json=body,
            params={"wait": "true" if wait else "false", "timeout": timeout_s},
            timeout=timeout_s + 10,
        )
        result: dict[str, Any] = self.client._check(response)
        return result

    def _require_member_node(self, collection: str) -> None:
        org = self.client.health()["org"]
        members = self.collection(collection)["members"]
        if org not in members:
            raise PrivateDataError(
                f"the node at {self.client.url} belongs to {org!r}, not a member of "
                f"{collection!r} ({', '.join(members)}): the value was not sent"
            )

    # --- reading --------------------------------------------------------------------------------
    def read(
        self, collection: str, key: str, purpose: str, *, timeout_s: float = 30.0
    ) -> PrivateValue:
        """Read the current version — one access record on chain — and check it."""
        head = self.client.health()["height"]
        signed = self.wallet.sign_tx(
            self.client.chain_id(),
            "access",
            "read",
            [collection, key, purpose],
            expires_at=head + PRIVATE_TTL_BLOCKS,
        )
        response = self.client._http.post(
            "/v1/private/reads",
            json={"tx": base64.b64encode(signed.encode()).decode("ascii")},
            params={"timeout": timeout_s},
            timeout=timeout_s + 10,
        )
        answer = self.client._check(response)
        if response.status_code == 202:
            raise ApiError(202, {"code": "pending", "detail": f"read {answer['id']} pending"})
        return self._checked(answer, collection, key)

    def read_again(self, access_id: int) -> PrivateValue:
        """The value of a committed read, fetched again by its reader."""
        answer = self.client._check(self.client._http.get(f"/v1/private/reads/{access_id}"))
        return self._checked(answer, answer["collection"], answer["key"])

    def _checked(self, answer: dict[str, Any], collection: str, key: str) -> PrivateValue:
        value = base64.b64decode(answer["value"])
        salt = bytes.fromhex(answer["salt"])
        digest = private_digest(
            self.wallet.suite.hash, self.client.chain_id(), collection, key, salt, value
        )
        access = answer["access"]
        if (
            digest.hex() != answer["digest"]
            or digest.hex() != access["digest"]
            or (access["collection"], access["key"]) != (collection, key)
            or access["reader"] != self.wallet.id
        ):
            raise PrivateDataError(
                f"the node's answer for {collection}/{key} does not match its access record"
            )
        return PrivateValue(value, salt, digest, int(answer["version"]), access)

    # --- consent --------------------------------------------------------------------------------
    def grant(
        self,
        collection: str,
        grantee: str,
        purposes: Sequence[str],
        *,
        subject: str = "",
        key: str = "",
        until_ms: int = 0,
    ) -> dict[str, Any]:
        args = [collection, subject, key, grantee, list(purposes), until_ms]
        return _receipt_value(self.client.submit("consent", "grant", args))

    def revoke(self, grant_id: int) -> dict[str, Any]:
        return _receipt_value(self.client.submit("consent", "revoke", [grant_id]))

    # --- what the caller may see ------------------------------------------------------------------
    def collection(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query("collections", "collection", [name])
        return result

    def record(self, collection: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query("collections", "record", [collection, key])
        return result

    def records(self, collection: str, start: int = 0, limit: int = 100) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query(
            "collections", "records", [collection, start, limit]
        )
        return result

    def trail(self, collection: str, start: int = 0, limit: int = 100) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query("access", "trail", [collection, start, limit])
        return result

    def subject_trail(
        self, collection: str, subject: str, start: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query(
            "access", "subject_trail", [collection, subject, start, limit]
        )
        return result

    def my_reads(self, start: int = 0, limit: int = 100) -> dict[str, Any]:
        result: dict[str, Any] = self.client.query("access", "my_reads", [start, limit])
        return result

    def grants(
        self, collection: str, subject: str = "", start: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        if subject:
            args: list[Any] = [collection, subject, start, limit]
            result: dict[str, Any] = self.client.query("consent", "subject_grants", args)
        else:
            result = self.client.query("consent", "grants", [collection, start, limit])
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.client._check(self.client._http.get("/v1/private/status"))
        return result


def _receipt_value(result: dict[str, Any]) -> dict[str, Any]:
    receipt = result.get("receipt") or {}
    if receipt.get("status") != "ok":
        raise ApiError(
            400,
            {"code": receipt.get("status", "not_committed"), "detail": receipt.get("message", "")},
        )
    value: dict[str, Any] = receipt["value"]
    return value
