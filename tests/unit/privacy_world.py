"""A consortium in memory for the privacy tests: two hospitals, a patient registry, a regulator.

org1 and org2 are hospitals (members of the ``hospitals`` collection), org3 the patient
registry (certifies patients with ``subject=<id>``), org4 the health regulator (an auditor).
Every identity is a real certificate from its organisation's CA; every call goes through the
node's admission and execution path (the devkit harness).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from yulian.devkit import Harness
from yulian.sdk import Wallet
from yulian.types.privacy import CollectionDef, private_digest

ORGS = ("org1", "org2", "org3", "org4")

HOSPITALS = CollectionDef.from_view(
    {
        "name": "hospitals",
        "members": ["org1", "org2"],
        "writers": ["*:client:role=doctor"],
        "readers": ["*:client:role=doctor"],
        "auditors": ["org4:*"],
        "consent": True,
        "subject_issuers": ["org3"],
        "blocks_to_live": 0,
    }
)


def propose(h: Harness, contract: str, kind: str, *args: Any) -> dict[str, Any]:
    """A proposal by org1's admin, approved by the others until decided."""
    proposal = h.ok(h.admin(h.org_names[0]), contract, "propose", kind, list(args))
    for org in h.org_names[1:]:
        if proposal["status"] != "open":
            break
        proposal = h.ok(h.admin(org), contract, "approve", proposal["id"])
    return proposal


@dataclass
class World:
    h: Harness
    doctor_a: Wallet
    nurse_a: Wallet
    doctor_b: Wallet
    client_b: Wallet
    patient: Wallet
    other_patient: Wallet
    registry: Wallet
    regulator: Wallet

    @property
    def chain_id(self) -> str:
        return self.h.genesis.chain_id

    def digest(self, collection: str, key: str, value: bytes, salt: bytes | None = None) -> bytes:
        salt = salt if salt is not None else secrets.token_bytes(32)
        return private_digest(self.h.suite.hash, self.chain_id, collection, key, salt, value)

    def write(self, key: str, value: bytes = b"record", subject: str = "P-001") -> dict[str, Any]:
        digest = self.digest("hospitals", key, value)
        return self.h.ok(
            self.doctor_a, "collections", "put", "hospitals", key, digest, len(value), subject
        )

    def access_count(self) -> int:
        data = self.h.state("access", "next")
        return (data - 1) if data is not None else 0


def make_world(suite: str = "standard", definition: CollectionDef = HOSPITALS) -> World:
    h = Harness(ORGS, suite=suite)
    applied = propose(h, "collections", "define", definition.to_value())
    assert applied["status"] == "applied", applied
    return World(
        h=h,
        doctor_a=h.member("org1", "dr-a", attributes={"role": "doctor"}),
        nurse_a=h.member("org1", "nurse-a"),
        doctor_b=h.member("org2", "dr-b", attributes={"role": "doctor"}),
        client_b=h.member("org2", "clerk-b"),
        patient=h.member("org3", "patient-1", attributes={"subject": "P-001"}),
        other_patient=h.member("org3", "patient-2", attributes={"subject": "P-002"}),
        registry=h.member("org3", "registrar"),
        regulator=h.member("org4", "inspector"),
    )
