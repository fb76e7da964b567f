"""Introduction: the evidence story (存证) — a document registered, its certificate verified
offline, and the refusals the contract enforces; the first story ``make run`` ever told."""

from __future__ import annotations

import json
import time

from yulian.apps.evidence import (
    CONTRACT_NAME,
    EVIDENCE_VERSION,
    contract_source,
    file_digest,
    make_certificate,
    verify_certificate,
)
from yulian.apps.stories.stage import Stage
from yulian.crypto.suite import get_suite

TITLE = "存证 evidence: a contract registered, certified, verified offline, transferred"


def play(stage: Stage, brief: bool) -> None:
    """Two member organisations' clients, at two different nodes: one chain, many doors.
    (The same story in brief and in full: it is short.)"""
    stage.title(TITLE)
    stage.deploy(CONTRACT_NAME, EVIDENCE_VERSION, contract_source())
    first_org, second_org = stage.cast("registrant", "counterparty").values()
    first, second = stage.member(first_org), stage.member(second_org)
    org1, org2 = first.client, second.client
    assert org1.wallet is not None and org2.wallet is not None
    a = f"{org1.wallet.org}/{org1.wallet.name}"
    b = f"{org2.wallet.org}/{org2.wallet.name}"
    document = stage.network / "demo" / f"contract-{time.time_ns()}.txt"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(
        f"渝链 evidence demo: a supply contract between {first_org} and {second_org}, drafted "
        f"at {time.ctime()}\n",
        encoding="utf-8",
    )
    digest = file_digest(document, get_suite(stage.genesis.suite))

    result = org1.submit(CONTRACT_NAME, "register", [digest, document.name, {"kind": "contract"}])
    receipt = result["receipt"]
    stage.say(
        f"1. {a} registered {document.name}: tx {result['id']} at height {result['height']}, "
        f"status {receipt['status']}"
    )
    certificate = make_certificate(org1.export_receipt(result["id"]), document.name, digest)
    cert_path = document.with_name(document.name + ".evidence.json")
    cert_path.write_text(
        json.dumps(certificate, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    summary = verify_certificate(document, certificate, stage.genesis)
    stage.say(
        f"2. certificate {cert_path} verified offline: signed by "
        f"{summary['signer']['org']}, certified by {summary['commit_signers']}"
    )
    again = org2.submit(CONTRACT_NAME, "register", [digest, "copy", {}])["receipt"]
    stage.say(f"3. {b} registering the same digest: {again['status']} ({again['message']})")
    steal = org2.submit(CONTRACT_NAME, "transfer", [digest, second_org])["receipt"]
    stage.say(f"4. {b} transferring {first_org}'s record: {steal['status']} ({steal['message']})")
    moved = org1.submit(CONTRACT_NAME, "transfer", [digest, second_org])["receipt"]
    stage.say(f"5. {a} transfers it to {second_org}: {moved['status']}")
    record = org1.query(CONTRACT_NAME, "lookup", [digest])
    stage.say(
        f"6. lookup: owner {record['owner_org']}, registered by "
        f"{record['registrant_org']} at height {record['height']}"
    )
    unknown = org1.submit(CONTRACT_NAME, "nonexistent", [])["receipt"]
    stage.say(f"7. an unknown method gets a failure receipt: {unknown['status']}")
