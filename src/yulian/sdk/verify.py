"""Introduction: offline verification of a transaction's proof bundle.

``verify_receipt(doc, genesis)`` needs nothing but the exported document and the genesis. It
first walks the governance path from the genesis to the tx's block (``trusted_config``): every
block that changed the consortium config must carry a commit certificate of the validators in
force before it, and a ``config_hash`` equal to the hash of the new config; the header before
the tx's block must name the last of them, so no change can be left out. With the config in
force at the tx's height it checks the tx signature and the signer's certificate against that
config's organisation roots and revocations, both Merkle inclusion proofs, that the receipt
belongs to the tx, and the commit certificate against that height's validator set. It then
recomputes the human-readable summary from the proven bytes and
requires the document's summary to equal it, so no displayed field can be altered either.
Every failure raises ``VerificationError`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yulian.consensus.consortium_view import ConsortiumView
from yulian.consensus.votes import InvalidCommit, verify_commit
from yulian.crypto.membership import MembershipError
from yulian.crypto.merkle import verify_inclusion
from yulian.crypto.suite import get_suite
from yulian.types.block import Header
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError
from yulian.types.genesis import Genesis
from yulian.types.proof import BundleError, TxProofBundle
from yulian.types.receipt import Receipt
from yulian.types.summary import SignerInfo, tx_summary
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
    view = ConsortiumView.of(trusted_config(bundle, genesis, header), header.height, suite)
    if header.validators_hash != view.validators_hash:
        raise VerificationError("header's validators_hash is not the validator set of its height")
    try:
        signer = view.membership.validate(tx.signer, at_ms=header.time_ms, roles=SIGNER_ROLES)
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
            view.validators,
            commit,
            height=header.height,
            block_hash=block_hash,
        )
    except InvalidCommit as e:
        raise VerificationError(f"commit certificate: {e}") from None
    summary = tx_summary(
        tx_id=tx_id,
        tx=tx,
        signer=SignerInfo(signer.org, signer.role, signer.name, signer.id),
        index=bundle.index,
        header=header,
        block_hash=block_hash,
        receipt=receipt,
        commit=commit,
    )
    return VerifiedTx(tx_id, signed, receipt, header, commit, summary)


def trusted_config(bundle: TxProofBundle, genesis: Genesis, header: Header) -> ConsortiumConfig:
    """The consortium config in force at ``header``'s height, proven from the genesis."""
    suite = get_suite(genesis.suite)
    config = ConsortiumConfig.from_genesis(genesis)
    encoded = config.encode()
    config_hash = suite.hash(encoded)
    last = 0
    for t in bundle.transitions:
        try:
            th = Header.decode(t.header)
            cert = CommitCertificate.decode(t.commit)
            new = ConsortiumConfig.decode(t.config)
        except DecodeError as e:
            raise VerificationError(f"malformed governance path: {e}") from None
        if th.chain_id != genesis.chain_id or not last < th.height < header.height:
            raise VerificationError("governance path: blocks out of order or for another chain")
        try:
            verify_commit(
                suite,
                genesis.chain_id,
                ConsortiumView.of(config, th.height, suite, encoded=encoded).validators,
                cert,
                height=th.height,
                block_hash=suite.hash(t.header),
            )
        except InvalidCommit as e:
            raise VerificationError(f"governance path, block {th.height}: {e}") from None
        if th.config_hash != suite.hash(t.config):
            raise VerificationError(f"governance path, block {th.height}: config does not match")
        config, encoded, config_hash, last = new, t.config, th.config_hash, th.height
    if header.height == 1:
        if header.prev_hash != suite.hash(genesis.encode()) or bundle.transitions:
            raise VerificationError("block 1 does not follow this genesis")
        return config
    try:
        prev = Header.decode(bundle.prev_header)
    except DecodeError as e:
        raise VerificationError(f"malformed previous header: {e}") from None
    if suite.hash(bundle.prev_header) != header.prev_hash or prev.height != header.height - 1:
        raise VerificationError("the previous header is not the parent of the tx's block")
    if prev.config_hash != config_hash:
        raise VerificationError("the governance path is incomplete: a config change is missing")
    return config


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
