"""Introduction: the ``emr`` application (电子病历流转) — client side.

Hospitals write patients' records into the ``hospitals`` private data collection; the patient
(certified by the patient registry with ``subject=<id>``) grants and revokes other hospitals'
doctors; every read is an ``access.read`` on the trail; the health regulator audits the trail
and the holdings, never a record (decision 0083). ``EmrClient`` is a hospital's or a
patient's software over a node; ``hospitals_collection`` the definition the consortium votes
on; ``demo.py`` the whole story on a local network (``yulian demo emr``).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from yulian.sdk import Client
from yulian.sdk.private import PrivateData, PrivateValue
from yulian.types.privacy import CollectionDef

CONTRACT_NAME = "emr"
EMR_VERSION = "1.0"
COLLECTION = "hospitals"
TREATMENT = "treatment"


def contract_source() -> str:
    return resources.files(__package__).joinpath("contract.py").read_text(encoding="utf-8")


def hospitals_collection(
    hospitals: Sequence[str], registry: str, regulator: str, blocks_to_live: int = 0
) -> CollectionDef:
    """The hospitals' collection: doctors write and read, the patient consents, the regulator
    audits; only the hospitals' nodes hold the records."""
    return CollectionDef.from_view(
        {
            "name": COLLECTION,
            "members": sorted(hospitals),
            "writers": ["*:client:role=doctor"],
            "readers": ["*:client:role=doctor"],
            "auditors": [f"{regulator}:*"],
            "consent": True,
            "subject_issuers": [registry],
            "blocks_to_live": blocks_to_live,
        }
    )


class EmrClient:
    """A doctor's, a patient's or a regulator's client of the EMR application."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.private = PrivateData(client)

    def write(self, patient: str, record_id: str, value: bytes, kind: str) -> dict[str, Any]:
        """Record a new version of ``patient``'s record; its committed record (no value)."""
        item = self.private.prepare(COLLECTION, f"{patient}/{record_id}", value)
        result = self.private.submit(
            CONTRACT_NAME, "write", [patient, record_id, item.digest, len(value), kind], [item]
        )
        receipt = result["receipt"]
        if receipt["status"] != "ok":
            raise RuntimeError(f"emr.write: {receipt['status']}: {receipt['message']}")
        stored: dict[str, Any] = receipt["value"]
        return stored

    def read(self, patient: str, record_id: str, purpose: str = TREATMENT) -> PrivateValue:
        return self.private.read(COLLECTION, f"{patient}/{record_id}", purpose)

    def records(self, patient: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.client.query(CONTRACT_NAME, "records", [patient])
        return result

    def consent(self, patient: str, grantee: str, purposes: Sequence[str]) -> dict[str, Any]:
        """As the patient: let ``grantee`` (``org:role[:attr=value]``) read all my records."""
        return self.private.grant(COLLECTION, grantee, purposes, subject=patient)

    def withdraw(self, grant_id: int) -> dict[str, Any]:
        return self.private.revoke(grant_id)
