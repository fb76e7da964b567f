"""Introduction: the ``evidence`` application (存证 / copyright registration).

The contract (``contract.py``, shipped as data and installed on chain) registers document
digests. This module holds the client side: hashing a file with the chain's suite, building an
evidence certificate (the tx's exported receipt document plus the file's name and digest) and
checking a file against a certificate offline.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from yulian.crypto.suite import Suite, get_suite
from yulian.sdk.verify import VerificationError, verify_receipt
from yulian.types.genesis import Genesis

CONTRACT_NAME = "evidence"
EVIDENCE_VERSION = "1.0"  # the version the demo and `yulian evidence deploy` install
CERTIFICATE_KIND = "yulian-evidence-certificate/v1"
READ_CHUNK_BYTES = 1 << 20


def contract_source() -> str:
    return resources.files(__package__).joinpath("contract.py").read_text(encoding="utf-8")


def file_digest(path: str | Path, suite: Suite) -> str:
    """The suite hash of a file's bytes, lowercase hex (read in bounded chunks)."""
    if suite.name == "standard":
        import hashlib

        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(READ_CHUNK_BYTES):
                h.update(chunk)
        return h.hexdigest()
    return suite.hash(Path(path).read_bytes()).hex()


def make_certificate(receipt_doc: dict[str, Any], file_name: str, digest: str) -> dict[str, Any]:
    return {
        "kind": CERTIFICATE_KIND,
        "file_name": file_name,
        "digest": digest,
        "receipt": receipt_doc,
    }


def verify_certificate(path: str | Path, certificate: Any, genesis: Genesis) -> dict[str, Any]:
    """Check offline that ``path`` is the document the certificate proves was registered.

    Returns the proven summary; raises ``VerificationError`` with the reason otherwise.
    """
    if not isinstance(certificate, dict) or certificate.get("kind") != CERTIFICATE_KIND:
        raise VerificationError("not a Yulian evidence certificate")
    verified = verify_receipt(certificate.get("receipt"), genesis)
    tx = verified.signed.tx
    if tx.contract != CONTRACT_NAME or tx.method != "register":
        raise VerificationError("the certificate's tx is not an evidence registration")
    if not verified.receipt.ok:
        raise VerificationError(
            f"the registration failed on chain: {verified.receipt.status} "
            f"{verified.receipt.message}"
        )
    digest = file_digest(path, get_suite(genesis.suite))
    if not tx.args or tx.args[0] != digest:
        raise VerificationError("the file's digest differs from the registered digest")
    if certificate.get("digest") != digest:
        raise VerificationError("the certificate's digest field differs from the file's digest")
    return verified.summary
