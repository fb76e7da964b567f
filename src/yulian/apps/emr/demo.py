"""Introduction: the medical-record story (电子病历流转) on a running local network.

``run_emr_story(network, urls, say)`` plays it step by step through the SDK, each step at the
node of the organisation that acts, and checks every outcome (``StoryError`` if one is not as
the rules say): the hospitals' collection is defined by vote and the ``emr`` contract deployed;
hospital A's doctor writes a patient's record; hospital B's doctor is refused without consent;
the patient consents and the read succeeds, on the trail; the patient revokes and the read is
refused again; the regulator sees the trail and who holds the record, and cannot read it.
Organisations: org1 and org2 are the hospitals, org3 the patient registry, org4 the health
regulator (a network of at least four organisations, as ``yulian network init`` makes).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.emr import (
    COLLECTION,
    CONTRACT_NAME,
    EMR_VERSION,
    TREATMENT,
    EmrClient,
    contract_source,
    hospitals_collection,
)
from yulian.apps.privacy_setup import PrivacyStoryError as StoryError
from yulian.apps.privacy_setup import (
    ensure_collection,
    ensure_member,
    ensure_read_policy,
    expect_refused,
    held_by_node,
    org_urls,
)
from yulian.sdk import Client

HOSPITAL_A, HOSPITAL_B, REGISTRY, REGULATOR = "org1", "org2", "org3", "org4"
PATIENT = "P-001"


@dataclass(frozen=True)
class EmrOutcome:
    """What the story wrote and recorded (for the tests that check the nodes afterwards)."""

    key: str
    value: bytes
    digest: str
    access_ids: tuple[int, ...]
    grant_id: int


def run_emr_story(network: Path, urls: Sequence[str], say: Callable[[str], None]) -> EmrOutcome:
    at = org_urls(urls)
    missing = [o for o in (HOSPITAL_A, HOSPITAL_B, REGISTRY, REGULATOR) if o not in at]
    if missing:
        raise StoryError(f"the story needs organisations org1..org4 serving; missing {missing}")
    say(
        "电子病历流转: org1 = hospital A (医院A), org2 = hospital B (医院B), org3 = the patient "
        "registry (患者登记处), org4 = the health regulator (卫健委)"
    )
    say("1. the hospitals' private data collection, by vote of the organisations")
    definition = hospitals_collection([HOSPITAL_A, HOSPITAL_B], REGISTRY, REGULATOR)
    ensure_collection(network, list(urls), definition, log=say)
    say("2. the emr contract through the lifecycle; its state readable by members only")
    deploy_with_local_admins(
        network, list(urls), CONTRACT_NAME, EMR_VERSION, contract_source(), log=say
    )
    ensure_read_policy(network, list(urls), CONTRACT_NAME, "members", log=say)

    doctor_a = EmrClient(_client(at[HOSPITAL_A], network, HOSPITAL_A, "dr-li", role="doctor"))
    doctor_b = EmrClient(_client(at[HOSPITAL_B], network, HOSPITAL_B, "dr-wang", role="doctor"))
    patient = EmrClient(_client(at[REGISTRY], network, REGISTRY, "patient-p001", subject=PATIENT))
    regulator = EmrClient(_client(at[REGULATOR], network, REGULATOR, "inspector"))

    record_id = f"visit-{time.strftime('%Y%m%d')}-{secrets.token_hex(3)}"
    value = (
        f"病历 {PATIENT}: 2型糖尿病 type 2 diabetes, HbA1c 8.1%, metformin 500 mg bid "
        f"[{secrets.token_hex(8)}]"
    ).encode()
    stored = doctor_a.write(PATIENT, record_id, value, "outpatient")
    key = f"{PATIENT}/{record_id}"
    say(
        f"3. dr-li@{HOSPITAL_A} (role=doctor) wrote {key} at {at[HOSPITAL_A]}: version "
        f"{stored['version']}, only its salted digest {stored['digest'][:16]}… on chain"
    )
    trail_before = regulator.private.trail(COLLECTION, 0, 1)["total"]
    why = expect_refused(
        "hospital B reads without consent",
        lambda: doctor_b.read(PATIENT, record_id),
        "no consent in force",
        "was revoked",  # a grant of an earlier run of the story on this directory
    )
    say(f"4. dr-wang@{HOSPITAL_B} reads it: refused — {why}")
    grant = patient.consent(PATIENT, f"{HOSPITAL_B}:client:role=doctor", [TREATMENT])
    say(
        f"5. the patient {PATIENT} (certified by {REGISTRY}) consents: grant {grant['id']} lets "
        f"{grant['grantee']} read for {grant['purposes']}"
    )
    read = doctor_b.read(PATIENT, record_id)
    if read.value != value:
        raise StoryError("hospital B read another value than hospital A wrote")
    access = read.access
    say(
        f"6. dr-wang@{HOSPITAL_B} reads it at {at[HOSPITAL_B]}: {len(read.value)} bytes, checked "
        f"against the digest; access record {access['id']} at height {access['height']} "
        f"(basis {access['basis']}, grant {access['grant_id']})"
    )
    patient.withdraw(grant["id"])
    say(f"7. the patient revokes grant {grant['id']}")
    why = expect_refused(
        "hospital B reads after the revocation",
        lambda: doctor_b.read(PATIENT, record_id),
        "revoked",
    )
    say(f"8. dr-wang@{HOSPITAL_B} reads again: refused — {why}")

    trail = regulator.private.trail(COLLECTION, trail_before, 100)
    reads = [r for r in trail["items"] if r["key"] == key]
    if [r["id"] for r in reads] != [access["id"]]:
        raise StoryError(f"the trail should hold exactly the one read, has {reads}")
    say(
        f"9. the regulator ({REGULATOR}) sees the trail: read {access['id']} of {key} by "
        f"{access['reader_org']} {access['reader_role']} {access['reader_attributes']} for "
        f"{access['purpose']!r} under grant {access['grant_id']}"
    )
    record = regulator.private.record(COLLECTION, key)
    say(f"   and who holds it: {', '.join(record['holders'])} (digest only on chain)")
    why = expect_refused(
        "the regulator reads the record",
        lambda: regulator.read(PATIENT, record_id, "audit"),
        "is not a member",
    )
    say(f"   the regulator reads the record itself: refused — {why}")
    mine = patient.private.subject_trail(COLLECTION, PATIENT, 0, 100)
    say(f"10. the patient sees who read their records: {_who(mine['items'])}")
    for org, url in sorted(at.items()):
        held = held_by_node(network, org, url)
        say(f"    {org}'s node holds private values of: {held or 'nothing'}")
    for c in (doctor_a, doctor_b, patient, regulator):
        c.client.close()
    return EmrOutcome(key, value, stored["digest"], (int(access["id"]),), int(grant["id"]))


def _client(url: str, network: Path, org: str, name: str, **attributes: str) -> Client:
    return Client(url, ensure_member(network, org, name, attributes))


def _who(items: Sequence[dict[str, Any]]) -> str:
    if not items:
        return "nobody"
    return "; ".join(
        f"#{r['id']} {r['reader_org']} at height {r['height']} for {r['purpose']!r}" for r in items
    )
