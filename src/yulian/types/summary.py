"""Introduction: the human-readable summary of a committed transaction.

A receipt document carries a summary next to its proof bundle. The offline verifier recomputes
the summary from the proven bytes and requires the document's to equal it; the node builds the
summary it serves from its own committed ledger. Both sides call ``tx_summary``, so the two
are equal by construction, field for field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yulian.types.block import Header
from yulian.types.commit import CommitCertificate
from yulian.types.jsonvalue import to_json
from yulian.types.receipt import Receipt
from yulian.types.tx import Tx


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: the fields of the signer's certificate (``id`` = hash of its DER, hex)."""

    org: str
    role: str
    name: str
    id: str


def tx_summary(
    *,
    tx_id: bytes,
    tx: Tx,
    signer: SignerInfo,
    index: int,
    header: Header,
    block_hash: bytes,
    receipt: Receipt,
    commit: CommitCertificate,
) -> dict[str, Any]:
    return {
        "tx_id": tx_id.hex(),
        "chain_id": tx.chain_id,
        "contract": tx.contract,
        "method": tx.method,
        "args": to_json(tx.args),
        "signer": {"org": signer.org, "role": signer.role, "name": signer.name, "id": signer.id},
        "height": header.height,
        "index": index,
        "block_hash": block_hash.hex(),
        "block_time_ms": header.time_ms,
        "status": receipt.status,
        "message": receipt.message,
        "value": to_json(receipt.value),
        "events": event_views(receipt),
        "state_root": header.state_root.hex(),
        "commit_signers": [s.validator for s in commit.signatures],
    }


def event_views(receipt: Receipt) -> list[dict[str, Any]]:
    """A receipt's events in JSON: ``{"contract", "name", "payload"}`` each, in order."""
    return [
        {"contract": e.contract, "name": e.name, "payload": to_json(e.payload)}
        for e in receipt.events
    ]
