"""``POST /v1/txs/batch`` on a real node, with signatures checked in-process and by a verifier
process: every tx of a batch gets the verdict a single submit would, in order; the accepted ones
commit exactly once; a body that cannot be read is refused whole and changes nothing."""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgpack
import psutil
import pytest

from tests.e2e.harness import RunningNode, free_port, make_network, serving
from tests.e2e.test_bad_input_e2e import _signed as signed_register
from yulian.crypto.suite import get_suite
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config, save_config
from yulian.sdk import Wallet
from yulian.types.encoding import encode
from yulian.types.tx import SignedTx

pytestmark = pytest.mark.e2e


@pytest.fixture(params=[0, 1], ids=["in-process", "verifier-process"])
def batch_node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningNode]:
    with serving(with_verify_workers(make_network(tmp_path), request.param)) as running:
        yield running


def with_verify_workers(running: RunningNode, workers: int) -> RunningNode:
    config = running.config
    save_config(dataclasses.replace(load_config(config), verify_workers=workers), config)
    return running


def _signed(wallet: Wallet, digest: str, **changes: object) -> bytes:
    """An evidence registration of ``digest`` (the bad-input test's tx, other fields as given)."""
    return signed_register(wallet, args=(digest, "batch", {}), **changes)


def _post_batch(url: str, body: bytes, content_type: str = "application/msgpack") -> httpx.Response:
    return httpx.post(
        f"{url}/v1/txs/batch", content=body, headers={"content-type": content_type}, timeout=30
    )


def _wait_committed(url: str, tx_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        doc: dict[str, Any] = httpx.get(f"{url}/v1/txs/{tx_id}", timeout=10).json()
        if doc.get("status") == "committed":
            return doc
        time.sleep(0.05)
    raise AssertionError(f"tx {tx_id} did not commit within {timeout_s} s")


def test_batch_verdicts_match_single_submits(batch_node: RunningNode, tmp_path: Path) -> None:
    client = batch_node.client()
    wallet = client.wallet
    assert wallet is not None
    other = init_network(tmp_path / "foreign", orgs=1, base_api_port=free_port())
    foreign = Wallet.from_network(other.root, "org1", "client1")

    committed_before = _signed(wallet, "0a" * 32)
    first = client.submit_batch([committed_before])
    _wait_committed(batch_node.url, str(first[0]["id"]))

    good1, good2 = _signed(wallet, "01" * 32), _signed(wallet, "02" * 32, nonce=2)
    signed = SignedTx.decode(_signed(wallet, "03" * 32))
    bad_sig = encode((signed.body, bytes([signed.signature[0] ^ 1]) + signed.signature[1:]))
    batch = [
        good1,
        good1,  # the same tx again, within the batch
        bad_sig,
        b"\x93\x01\x02",
        _signed(foreign, "04" * 32),
        committed_before,  # a replay of a committed tx
        _signed(wallet, "05" * 32, chain_id="other-chain"),
        _signed(wallet, "06" * 32, expires_at=0),
        _signed(wallet, "07" * 32, contract="nope"),
        good2,
    ]
    expected = [
        None,
        "duplicate_tx",
        "bad_signature",
        "malformed_tx",
        "unknown_ca",
        "duplicate_tx",
        "wrong_chain",
        "tx_expired",
        "unknown_contract",
        None,
    ]
    response = _post_batch(batch_node.url, msgpack.packb(batch))
    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["accepted"], doc["refused"]) == (2, len(batch) - 2)
    results = doc["results"]
    assert [r.get("code") for r in results] == expected
    for k, (r, code) in enumerate(zip(results, expected, strict=True)):
        if code is None:
            assert r["status"] == "pending"
            continue
        assert r["status"] == "refused" and r["detail"]
        single = httpx.post(
            f"{batch_node.url}/v1/txs",
            content=batch[k],
            headers={"content-type": "application/msgpack"},
            timeout=10,
        )
        assert (single.status_code, single.json()["code"]) == (r["http_status"], code)
    ids = [str(results[0]["id"]), str(results[-1]["id"])]
    assert ids == [_tx_id(batch_node, good1), _tx_id(batch_node, good2)]
    heights = [_wait_committed(batch_node.url, tx_id)["height"] for tx_id in ids]
    # each accepted tx is in exactly one block; nothing refused reached a block
    seen: list[str] = []
    for height in range(1, max(heights) + 1):
        seen.extend(client.block(height)["tx_ids"])
    assert sorted(t for t in seen if t in ids) == sorted(ids)
    assert len(seen) == len(set(seen)) == 3  # committed_before, good1, good2
    assert client.health()["mempool"] == 0
    for digest in ("03", "04", "05", "06"):
        r = httpx.get(f"{batch_node.url}/v1/state/evidence/doc/{digest * 32}", timeout=10)
        assert r.status_code == 404


def _tx_id(node: RunningNode, envelope: bytes) -> str:
    return get_suite(node.genesis.suite).hash(SignedTx.decode(envelope).body).hex()


def test_json_batch_and_unreadable_bodies(batch_node: RunningNode) -> None:
    client = batch_node.client()
    wallet = client.wallet
    assert wallet is not None
    tx = _signed(wallet, "11" * 32)
    body = {"txs": [base64.b64encode(tx).decode()]}
    response = httpx.post(f"{batch_node.url}/v1/txs/batch", json=body, timeout=30)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "pending"

    cases = [
        (msgpack.packb([tx] * 1001), "application/msgpack", 413, "batch_too_large"),
        (b'{"txs": ["' + b"A" * 10 + b'"]}' * 1, "application/json", 400, "malformed_batch"),
        (b'{"txs": 5}', "application/json", 400, "malformed_batch"),
        (msgpack.packb([]), "application/msgpack", 400, "malformed_batch"),
        (msgpack.packb(["text, not bytes"]), "application/msgpack", 400, "malformed_batch"),
        (msgpack.packb({"a": 1}), "application/msgpack", 400, "malformed_batch"),
        (b"\xc1", "application/msgpack", 400, "malformed_batch"),
        (msgpack.packb([tx]) + b"\x00", "application/msgpack", 400, "malformed_batch"),
        (b"\x00" * (8 * 1024 * 1024 + 1), "application/msgpack", 413, "batch_too_large"),
    ]
    schema = httpx.get(f"{batch_node.url}/openapi.json", timeout=10).json()
    assert "post" in schema["paths"]["/v1/txs/batch"]  # documented beside the fast path
    mempool_before = client.health()["mempool"]
    for data, content_type, status, code in cases:
        response = _post_batch(batch_node.url, data, content_type)
        assert response.status_code == status, (code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert client.health()["mempool"] <= mempool_before  # nothing was admitted
    _wait_committed(batch_node.url, _tx_id(batch_node, tx))


def test_verifier_process_ends_with_a_killed_node(tmp_path: Path) -> None:
    with serving(with_verify_workers(make_network(tmp_path), 1)) as running:
        assert running.proc is not None
        node = psutil.Process(running.proc.pid)
        workers = node.children(recursive=True)
        assert workers, "a node with [verify] workers = 1 runs a worker process"
        client = running.client()
        assert client.wallet is not None
        assert client.submit_batch([_signed(client.wallet, "21" * 32)])[0]["status"] == "pending"
        running.kill9()
        _gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"verifier processes outlived their node: {alive}"
