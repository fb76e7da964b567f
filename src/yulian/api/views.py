"""Introduction: JSON views of blocks, receipts and certificates for the API (display only;
proofs carry raw bytes). Their shapes are declared in ``schemas.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yulian.types.block import Header
from yulian.types.commit import CommitCertificate
from yulian.types.jsonvalue import to_json
from yulian.types.receipt import Receipt
from yulian.types.summary import event_views


def receipt_view(r: Receipt) -> dict[str, Any]:
    return {
        "tx_id": r.tx_id.hex(),
        "status": r.status,
        "message": r.message,
        "steps": r.steps,
        "value": to_json(r.value),
        "events": event_views(r),
    }


def header_view(h: Header, block_hash: bytes) -> dict[str, Any]:
    return {
        "hash": block_hash.hex(),
        "chain_id": h.chain_id,
        "height": h.height,
        "time_ms": h.time_ms,
        "prev_hash": h.prev_hash.hex(),
        "tx_count": h.tx_count,
        "tx_root": h.tx_root.hex(),
        "result_root": h.result_root.hex(),
        "state_root": h.state_root.hex(),
        "validators_hash": h.validators_hash.hex(),
        "proposer": h.proposer,
        "config_hash": h.config_hash.hex(),
    }


def commit_view(c: CommitCertificate) -> dict[str, Any]:
    return {
        "height": c.height,
        "round": c.round,
        "block_hash": c.block_hash.hex(),
        "signatures": [
            {"validator": s.validator, "signature": s.signature.hex()} for s in c.signatures
        ],
    }


def block_view(
    header: Header, block_hash: bytes, tx_ids: Sequence[bytes], commit: CommitCertificate | None
) -> dict[str, Any]:
    return {
        "header": header_view(header, block_hash),
        "tx_ids": [t.hex() for t in tx_ids],
        "commit": commit_view(commit) if commit is not None else None,
    }
