"""Shared test vectors for the in-browser verifier: genuine documents and tampered variants.

Built from real receipt documents of a running chain. Every variant is first judged by the
Python verifier (``yulian.sdk.verify`` / ``yulian.apps.evidence``): the genuine ones must
verify and every tampered one must be refused, so the vectors are honest. The browser must
then give exactly the same verdict on each.

Tampering covers every field class of a document: each summary field, the proof's scalar
fields, a bit of every byte string (envelope body and signature, receipt, header, commit,
previous header, Merkle paths, each governance transition's header, commit and config),
structural changes (a path element dropped or added, a commit signer dropped or doubled, the
governance path cut), the certificate's own fields and its file, and another chain's genesis.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgpack

from yulian.apps.evidence import verify_certificate
from yulian.sdk.verify import VerificationError, verify_receipt
from yulian.types.genesis import Genesis


@dataclass(frozen=True)
class Vector:
    name: str
    kind: str  # "receipt" or "certificate"
    document: str  # JSON text, as a file would hold it
    file_b64: str  # the certificate's file (empty for a receipt)
    genuine: bool
    reason: str = ""  # the Python verifier's reason for refusing it (set by ``checked``)


def _flip(b64: str, position: float) -> str:
    """``b64`` with one bit changed at a relative position of its bytes."""
    data = bytearray(base64.b64decode(b64))
    i = min(len(data) - 1, int(len(data) * position))
    data[i] ^= 0x01
    return base64.b64encode(bytes(data)).decode("ascii")


def _flip_hex(text: str) -> str:
    return f"{int(text[0], 16) ^ 1:x}{text[1:]}"


def _reencode_commit(b64: str, change: Callable[[list[Any]], None]) -> str:
    value = msgpack.unpackb(base64.b64decode(b64), raw=False)
    change(value[4])
    return base64.b64encode(msgpack.packb(value, use_bin_type=True)).decode("ascii")


SUMMARY_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "summary.tx_id": lambda s: s.update(tx_id=_flip_hex(s["tx_id"])),
    "summary.chain_id": lambda s: s.update(chain_id=s["chain_id"] + "x"),
    "summary.contract": lambda s: s.update(contract="evidence2"),
    "summary.method": lambda s: s.update(method="transfer"),
    "summary.args": lambda s: s.update(args=[*s["args"][:-1], {"file_name": "forged.txt"}]),
    "summary.signer.org": lambda s: s["signer"].update(org="org9"),
    "summary.signer.name": lambda s: s["signer"].update(name="mallory"),
    "summary.height": lambda s: s.update(height=s["height"] + 1),
    "summary.index": lambda s: s.update(index=s["index"] + 1),
    "summary.block_hash": lambda s: s.update(block_hash=_flip_hex(s["block_hash"])),
    "summary.block_time_ms": lambda s: s.update(block_time_ms=s["block_time_ms"] - 86_400_000),
    "summary.status": lambda s: s.update(status="reverted"),
    "summary.message": lambda s: s.update(message="forged"),
    "summary.value": lambda s: s.update(value={"owner_org": "org9"}),
    "summary.events": lambda s: s.update(events=[]),
    "summary.state_root": lambda s: s.update(state_root=_flip_hex(s["state_root"])),
    "summary.commit_signers": lambda s: s.update(commit_signers=s["commit_signers"][:1]),
    "summary.extra_field": lambda s: s.update(note="trust me"),
}


def proof_changes(proof: dict[str, Any]) -> dict[str, Callable[[dict[str, Any]], None]]:
    """Tamperings of the proof, named; only those the proof has something to change for."""
    changes: dict[str, Callable[[dict[str, Any]], None]] = {
        "proof.version": lambda p: p.update(version=1),
        "proof.chain_id": lambda p: p.update(chain_id="another-chain"),
        "proof.index": lambda p: p.update(index=p["index"] + 1),
        "proof.tree_size": lambda p: p.update(tree_size=p["tree_size"] + 1),
        "proof.tx_path.added": lambda p: p.update(tx_path=[*p["tx_path"], "00" * 32]),
        "proof.receipt_path.added": lambda p: p.update(
            receipt_path=[*p["receipt_path"], "00" * 32]
        ),
        "proof.commit.signers_dropped_below_quorum": lambda p: p.update(
            commit=_reencode_commit(p["commit"], lambda sigs: sigs.__delitem__(slice(1, None)))
        ),
        "proof.commit.signer_doubled": lambda p: p.update(
            commit=_reencode_commit(p["commit"], lambda sigs: sigs.append(sigs[0]))
        ),
    }
    for field in ("envelope", "receipt", "header", "commit", "prev_header"):
        if proof[field]:
            for position in (0.1, 0.5, 0.97):
                changes[f"proof.{field}.bit@{position}"] = lambda p, f=field, pos=position: (
                    p.update({f: _flip(p[f], pos)})
                )
    for field in ("tx_path", "receipt_path"):
        if proof[field]:
            changes[f"proof.{field}.bit"] = lambda p, f=field: p[f].__setitem__(
                0, _flip_hex(p[f][0])
            )
            changes[f"proof.{field}.dropped"] = lambda p, f=field: p[f].pop()
    for i, _ in enumerate(proof["transitions"]):
        changes[f"proof.transitions[{i}].dropped"] = lambda p, i=i: p["transitions"].pop(i)
        for part in ("header", "commit", "config"):
            changes[f"proof.transitions[{i}].{part}.bit"] = lambda p, i=i, part=part: p[
                "transitions"
            ][i].update({part: _flip(p["transitions"][i][part], 0.6)})
    return changes


def _python_reason(vector: Vector, genesis: Genesis, tmp: Path) -> str | None:
    """Why the Python verifier refuses ``vector``, or None when it verifies."""
    doc = json.loads(vector.document)
    try:
        if vector.kind == "certificate":
            path = tmp / "vector-file"
            path.write_bytes(base64.b64decode(vector.file_b64))
            verify_certificate(path, doc, genesis)
        else:
            verify_receipt(doc, genesis)
    except VerificationError as e:
        return str(e)
    return None


def _text(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def receipt_vectors(name: str, receipt_doc: dict[str, Any]) -> Iterator[Vector]:
    yield Vector(f"{name}: genuine receipt", "receipt", _text(receipt_doc), "", True)
    proof_only = {"proof": receipt_doc["proof"]}
    yield Vector(f"{name}: genuine receipt, no summary", "receipt", _text(proof_only), "", True)
    for change_name, change in SUMMARY_CHANGES.items():
        doc = copy.deepcopy(receipt_doc)
        change(doc["summary"])
        yield Vector(f"{name}: {change_name}", "receipt", _text(doc), "", False)
    for change_name, change in proof_changes(receipt_doc["proof"]).items():
        doc = copy.deepcopy(receipt_doc)
        change(doc["proof"])
        yield Vector(f"{name}: {change_name}", "receipt", _text(doc), "", False)
        # without the summary (a document may omit it), so that the check of the proof itself
        # must refuse the change, not the summary comparison
        yield Vector(
            f"{name}: {change_name}, no summary",
            "receipt",
            _text({"proof": doc["proof"]}),
            "",
            False,
        )
    yield Vector(
        f"{name}: no proof", "receipt", _text({"summary": receipt_doc["summary"]}), "", False
    )
    yield Vector(
        f"{name}: summary not an object",
        "receipt",
        _text({**receipt_doc, "summary": []}),
        "",
        False,
    )


def certificate_vectors(name: str, certificate: Path, file: Path) -> Iterator[Vector]:
    doc = json.loads(certificate.read_text(encoding="utf-8"))
    file_b64 = base64.b64encode(file.read_bytes()).decode("ascii")
    yield Vector(f"{name}: genuine certificate", "certificate", _text(doc), file_b64, True)
    other_file = base64.b64encode(file.read_bytes() + b" ").decode("ascii")
    yield Vector(f"{name}: certificate, another file", "certificate", _text(doc), other_file, False)
    for field, value in (("kind", "yulian-evidence-certificate/v0"), ("digest", "00" * 32)):
        yield Vector(
            f"{name}: certificate.{field}",
            "certificate",
            _text({**doc, field: value}),
            file_b64,
            False,
        )
    forged = copy.deepcopy(doc)
    forged["receipt"]["summary"]["args"][0] = "00" * 32
    yield Vector(
        f"{name}: certificate.receipt.summary.args", "certificate", _text(forged), file_b64, False
    )
    flipped = copy.deepcopy(doc)
    flipped["receipt"]["proof"]["envelope"] = _flip(flipped["receipt"]["proof"]["envelope"], 0.3)
    yield Vector(
        f"{name}: certificate.receipt.proof.envelope",
        "certificate",
        _text(flipped),
        file_b64,
        False,
    )


def wrapped_vectors(
    name: str, receipt_doc: dict[str, Any], file: Path, digest: str
) -> Iterator[Vector]:
    """A genuine receipt of a tx that is not a successful registration, as a certificate."""
    certificate = {
        "kind": "yulian-evidence-certificate/v1",
        "file_name": file.name,
        "digest": digest,
        "receipt": receipt_doc,
    }
    file_b64 = base64.b64encode(file.read_bytes()).decode("ascii")
    yield Vector(
        f"{name}: certificate of a non-registration",
        "certificate",
        _text(certificate),
        file_b64,
        False,
    )


def checked(vectors: list[Vector], genesis: Genesis, tmp: Path) -> list[Vector]:
    """``vectors`` after asserting the Python verifier's verdict on each is its label, each
    with the Python verifier's reason for refusing it."""
    out = []
    for v in vectors:
        reason = _python_reason(v, genesis, tmp)
        assert (reason is None) == v.genuine, f"the Python verifier's verdict on {v.name}: {reason}"
        out.append(replace(v, reason=reason or ""))
    return out
