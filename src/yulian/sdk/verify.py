"""Introduction: offline verification of a transaction's proof bundle.

``verify_receipt(doc, genesis)`` needs nothing but the exported document and the genesis: it
checks the tx signature and the signer's certificate against the organisation roots, both
Merkle inclusion proofs, that the receipt belongs to the tx, and the commit certificate against
the validator set. It then recomputes the human-readable summary from the proven bytes and
requires the document's summary to equal it, so no displayed field can be altered either.
Every failure raises ``VerificationError`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yulian.consensus.votes import InvalidCommit, ValidatorSet, verify_commit
from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.merkle import verify_inclusion
from yulian.crypto.suite import get_suite
from yulian.sdk.jsonvalue import to_json
from yulian.types.block import Header
from yulian.types.commit import CommitCertificate
from yulian.types.encoding import DecodeError
from yulian.types.genesis import Genesis
from yulian.types.proof import BundleError, TxProofBundle
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx, tx_sign_bytes

SIGNER_ROLES = ("client", "admin")


class VerificationError(ValueError):
    """The document does not prove what it claims; the message says which check failed."""


@dataclass(frozen=True)
class VerifiedTx:
    tx_id: bytes
    signed: SignedTx
    receipt: Receipt
    header: Header
    commit: CommitCertificate
    summary: dict[str, Any]


def verify_bundle(bundle: TxProofBundle, genesis: Genesis) -> VerifiedTx:
    suite = get_suite(genesis.suite)
    if bundle.chain_id != genesis.chain_id:
        raise VerificationError(
            f"proof is for chain {bundle.chain_id!r}, genesis is {genesis.chain_id!r}"
        )
    try:
        signed = SignedTx.decode(bundle.envelope)
        receipt = Receipt.decode(bundle.receipt)
        header = Header.decode(bundle.header)
        commit = CommitCertificate.decode(bundle.commit)
    except DecodeError as e:
        raise VerificationError(f"malformed bytes in proof: {e}") from None
    tx = signed.tx
    if tx.chain_id != genesis.chain_id or header.chain_id != genesis.chain_id:
        raise VerificationError("tx or header is for another chain")
    membership = Membership(suite, genesis.organisations)
    try:
        signer = membership.validate(tx.signer, at_ms=header.time_ms, roles=SIGNER_ROLES)
    except MembershipError as e:
        raise VerificationError(f"signer certificate rejected: {e}") from None
    if not suite.verify(
        signer.public_key, tx_sign_bytes(tx.chain_id, signed.body), signed.signature
    ):
        raise VerificationError("tx signature does not verify")
    tx_id = suite.hash(signed.body)
    if receipt.tx_id != tx_id:
        raise VerificationError("receipt belongs to another tx")
    if bundle.tree_size != header.tx_count:
        raise VerificationError(
            f"tree size {bundle.tree_size} != header tx_count {header.tx_count}"
        )
    if not verify_inclusion(
        bundle.envelope, bundle.index, bundle.tree_size, bundle.tx_path, header.tx_root, suite.hash
    ):
        raise VerificationError("tx inclusion proof does not match the header's tx_root")
    if not verify_inclusion(
        bundle.receipt,
        bundle.index,
        bundle.tree_size,
        bundle.receipt_path,
        header.result_root,
        suite.hash,
    ):
        raise VerificationError("receipt inclusion proof does not match the header's result_root")
    block_hash = suite.hash(bundle.header)
    try:
        verify_commit(
            suite,
            genesis.chain_id,
            ValidatorSet(genesis.validators),
            commit,
            height=header.height,
            block_hash=block_hash,
        )
    except InvalidCommit as e:
        raise VerificationError(f"commit certificate: {e}") from None
    summary = {
        "tx_id": tx_id.hex(),
        "chain_id": tx.chain_id,
        "contract": tx.contract,
        "method": tx.method,
        "args": to_json(tx.args),
        "signer": {"org": signer.org, "role": signer.role, "name": signer.name, "id": signer.id},
        "height": header.height,
        "index": bundle.index,
        "block_hash": block_hash.hex(),
        "block_time_ms": header.time_ms,
        "status": receipt.status,
        "message": receipt.message,
        "value": to_json(receipt.value),
        "events": [
            {"contract": e.contract, "name": e.name, "payload": to_json(e.payload)}
            for e in receipt.events
        ],
        "state_root": header.state_root.hex(),
        "commit_signers": [s.validator for s in commit.signatures],
    }
    return VerifiedTx(tx_id, signed, receipt, header, commit, summary)


def verify_receipt(doc: Any, genesis: Genesis) -> VerifiedTx:
    """Verify an exported receipt document ``{"proof": ..., "summary": ...}`` offline."""
    if not isinstance(doc, dict) or "proof" not in doc:
        raise VerificationError("not a Yulian receipt document (no 'proof')")
    try:
        bundle = TxProofBundle.from_json(doc["proof"])
    except BundleError as e:
        raise VerificationError(str(e)) from None
    verified = verify_bundle(bundle, genesis)
    if "summary" in doc:
        claimed = doc["summary"]
        if not isinstance(claimed, dict):
            raise VerificationError("summary is not an object")
        for key in sorted(set(claimed) | set(verified.summary)):
            if claimed.get(key) != verified.summary.get(key):
                raise VerificationError(f"summary field {key!r} does not match the proven bytes")
    return verified


def make_document(bundle: TxProofBundle, genesis: Genesis) -> dict[str, Any]:
    """The exportable document for ``bundle`` (verifies it first: never export a bad proof)."""
    verified = verify_bundle(bundle, genesis)
    return {"proof": bundle.to_json(), "summary": verified.summary}
