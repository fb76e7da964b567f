"""A real node on loopback: evidence through the SDK and the CLI, receipts verified offline,
and every single-byte tampering of an exported receipt detected."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import RunningNode
from yulian.apps.evidence import file_digest, verify_certificate
from yulian.crypto.suite import get_suite
from yulian.sdk import ApiError, VerificationError, verify_receipt

pytestmark = pytest.mark.e2e


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_evidence_through_the_sdk(node: RunningNode, tmp_path: Path) -> None:
    doc = tmp_path / "deed.txt"
    doc.write_text("a house deed")
    digest = file_digest(doc, get_suite("standard"))
    org1, org2 = node.client("org1"), node.client("org2")

    result = org1.submit("evidence", "register", [digest, "deed", {"k": "v"}])
    assert result["status"] == "committed"
    assert result["receipt"]["status"] == "ok"
    record = org1.query("evidence", "lookup", [digest])
    assert record["owner_org"] == "org1"
    assert record["height"] == result["height"]
    assert record["registrant"] == org1.wallet.id  # type: ignore[union-attr]

    exported = org1.export_receipt(result["id"])
    verified = verify_receipt(exported, node.genesis)
    assert verified.summary["args"][0] == digest
    assert verified.summary["commit_signers"] == ["org1-node0"]

    again = org2.submit("evidence", "register", [digest, "copy", {}])["receipt"]
    assert (again["status"], again["message"]) == ("reverted", "digest already registered")
    steal = org2.submit("evidence", "transfer", [digest, "org2"])["receipt"]
    assert steal["status"] == "reverted"
    assert org1.query("evidence", "lookup", [digest])["owner_org"] == "org1"
    moved = org1.submit("evidence", "transfer", [digest, "org2"])["receipt"]
    assert moved["status"] == "ok"
    assert org1.query("evidence", "lookup", [digest])["owner_org"] == "org2"
    history = org1.history("evidence", f"doc/{digest}")
    assert [v["value"]["owner_org"] for v in history] == ["org2", "org1"]
    # a failed tx is still committed (its id is spent) and changed nothing
    assert org1.tx(again["tx_id"])["status"] == "committed"
    with pytest.raises(ApiError) as e:
        org1.submit_envelope(base64.b64decode(org1.tx(result["id"])["proof"]["envelope"]))
    assert e.value.code == "duplicate_tx"


def test_evidence_through_the_cli(node: RunningNode, tmp_path: Path) -> None:
    doc = tmp_path / "song.mp3"
    doc.write_bytes(b"\x00\x01 a song " * 100)
    cert = tmp_path / "song.cert.json"
    net = node.layout.root
    r = cli(
        "evidence",
        "register",
        doc,
        "--title",
        "a song",
        "--out",
        cert,
        "--network",
        net,
        "--url",
        node.url,
        "--org",
        "org2",
    )
    assert r.returncode == 0, r.stderr
    assert cert.exists()
    genesis = node.layout.genesis
    r = cli("evidence", "verify", doc, cert, "--genesis", genesis)
    assert r.returncode == 0, r.stderr
    assert "verified" in r.stdout
    summary = verify_certificate(doc, json.loads(cert.read_text()), node.genesis)
    assert summary["signer"]["org"] == "org2"

    other = tmp_path / "other.mp3"
    other.write_bytes(doc.read_bytes() + b"!")
    r = cli("evidence", "verify", other, cert, "--genesis", genesis)
    assert r.returncode != 0
    assert "digest differs" in r.stderr

    # tx send / query / receipt export / verify
    r = cli(
        "tx",
        "send",
        "evidence",
        "register",
        json.dumps(["ab" * 32, "t", {}]),
        "--network",
        net,
        "--url",
        node.url,
    )
    assert r.returncode == 0, r.stderr
    tx_id = json.loads(r.stdout)["id"]
    r = cli("query", "evidence", "lookup", json.dumps(["ab" * 32]), "--url", node.url)
    assert r.returncode == 0 and json.loads(r.stdout)["owner_org"] == "org1"
    exported = tmp_path / "receipt.json"
    r = cli("receipt", "export", tx_id, "--url", node.url, "--out", exported)
    assert r.returncode == 0, r.stderr
    r = cli("verify", exported, "--genesis", genesis)
    assert r.returncode == 0, r.stderr
    tampered = json.loads(exported.read_text())
    tampered["summary"]["status"] = "reverted"
    exported.write_text(json.dumps(tampered))
    r = cli("verify", exported, "--genesis", genesis)
    assert r.returncode == 4
    assert "verification failed" in r.stderr and "status" in r.stderr


def _flip(b64: str, position: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[position % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_every_single_byte_tampering_fails(node: RunningNode) -> None:
    c = node.client()
    # several txs pending together land in one block, so the proofs have paths
    for i in range(3):
        c.submit("evidence", "register", [f"{i:064x}", "t", {}], wait=False)
    result = c.submit("evidence", "register", ["cd" * 32, "t", {}])
    doc = c.export_receipt(result["id"])
    genesis = node.genesis
    verify_receipt(doc, genesis)
    proof = doc["proof"]
    cases: list[tuple[str, dict[str, Any]]] = []
    for name in ("envelope", "receipt", "header", "commit"):
        size = len(base64.b64decode(proof[name]))
        for pos in range(size):  # every byte
            bad = copy.deepcopy(doc)
            bad["proof"][name] = _flip(proof[name], pos)
            cases.append((f"{name}[{pos}]", bad))
    for name in ("tx_path", "receipt_path"):
        for i, element in enumerate(proof[name]):
            for pos in range(len(element) // 2):
                bad = copy.deepcopy(doc)
                raw = bytearray(bytes.fromhex(element))
                raw[pos] ^= 0x80
                bad["proof"][name][i] = raw.hex()
                cases.append((f"{name}[{i}][{pos}]", bad))
    for name, value in (("index", proof["index"] + 1), ("chain_id", "other")):
        bad = copy.deepcopy(doc)
        bad["proof"][name] = value
        cases.append((name, bad))
    assert len(cases) > 500
    accepted = []
    for label, bad in cases:
        try:
            verify_receipt(bad, genesis)
            accepted.append(label)
        except VerificationError as e:
            assert str(e)  # a reason is always given
    assert accepted == []
