"""Bad input through the API: each refusal has its own problem code and changes no state."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import RunningNode, free_port
from yulian.node.bootstrap import init_network
from yulian.sdk import Wallet
from yulian.types.encoding import encode
from yulian.types.tx import SignedTx, Tx

pytestmark = pytest.mark.e2e

DIGEST = "ef" * 32


def _tx(wallet: Wallet, **changes: object) -> Tx:
    fields: dict[str, object] = dict(
        chain_id="yulian-local",
        contract="evidence",
        method="register",
        args=(DIGEST, "t", {}),
        signer=wallet.cert,
        nonce=7,
        expires_at=1000,
    )
    fields.update(changes)
    return Tx(**fields)  # type: ignore[arg-type]


def _signed(wallet: Wallet, **changes: object) -> bytes:
    return SignedTx.create(_tx(wallet, **changes), wallet.key.sign).encode()


def _post(url: str, data: bytes, content_type: str = "application/msgpack") -> httpx.Response:
    return httpx.post(
        f"{url}/v1/txs", content=data, headers={"content-type": content_type}, timeout=10
    )


@pytest.fixture(scope="module")
def foreign_wallet(tmp_path_factory: pytest.TempPathFactory) -> Wallet:
    """A client of another consortium: a CA the node has never heard of."""
    other = init_network(
        tmp_path_factory.mktemp("foreign") / "net", orgs=1, base_api_port=free_port()
    )
    return Wallet.from_network(other.root, "org1", "client1")


def test_bad_input_table(node: RunningNode, foreign_wallet: Wallet) -> None:
    client = node.client()
    wallet = client.wallet
    assert wallet is not None
    node_cred = node.layout.nodes[0].credential
    node_wallet = Wallet.from_files(node_cred.key, node_cred.cert)
    good = _signed(wallet)
    body, signature = SignedTx.decode(good).body, SignedTx.decode(good).signature
    bad_sig = bytes([signature[0] ^ 1]) + signature[1:]
    replay = _signed(wallet, nonce=99, args=("aa" * 32, "first", {}))
    assert _post(node.url, replay).status_code == 202
    client.submit("evidence", "lookup", ["aa" * 32])  # wait until the replayed tx is committed

    cases: list[tuple[str, Callable[[], httpx.Response], int, str]] = [
        ("malformed body", lambda: _post(node.url, b"\x93\x01\x02"), 400, "malformed_tx"),
        (
            "malformed json",
            lambda: _post(node.url, b'{"tx": 5}', "application/json"),
            400,
            "malformed_tx",
        ),
        ("bad signature", lambda: _post(node.url, encode((body, bad_sig))), 401, "bad_signature"),
        ("unknown CA", lambda: _post(node.url, _signed(foreign_wallet)), 403, "unknown_ca"),
        (
            "node certificate used as a client",
            lambda: _post(node.url, _signed(node_wallet)),
            403,
            "role_not_allowed",
        ),
        ("expired tx", lambda: _post(node.url, _signed(wallet, expires_at=0)), 400, "tx_expired"),
        ("replayed tx", lambda: _post(node.url, replay), 409, "duplicate_tx"),
        (
            "wrong chain_id",
            lambda: _post(node.url, _signed(wallet, chain_id="other-chain")),
            400,
            "wrong_chain",
        ),
        (
            "oversized tx",
            lambda: _post(node.url, _signed(wallet, args=("x" * 70_000,))),
            413,
            "tx_too_large",
        ),
        (
            "unknown contract",
            lambda: _post(node.url, _signed(wallet, contract="nope")),
            404,
            "unknown_contract",
        ),
        (
            "json envelope with bad base64",
            lambda: _post(node.url, b'{"tx": "***"}', "application/json"),
            400,
            "malformed_tx",
        ),
    ]
    height_before = client.health()["height"]
    codes = set()
    for label, send, status, code in cases:
        response = send()
        assert response.status_code == status, (label, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["code"] == code, label
        assert problem["type"] == f"urn:yulian:problem:{code}"
        assert problem["detail"]
        codes.add(code)
    assert len(codes) == len(cases) - 2  # two malformed-body variants share a code
    health = client.health()
    assert health["mempool"] == 0
    for height in range(height_before + 1, health["height"] + 1):  # idle (empty) blocks only
        assert client.block(height)["header"]["tx_count"] == 0
    r = httpx.get(f"{node.url}/v1/state/evidence/doc/{DIGEST}", timeout=10)
    assert r.status_code == 404
    # the good tx, sent now, is still accepted: nothing above consumed its id
    ok = httpx.post(
        f"{node.url}/v1/txs?wait=true",
        content=good,
        headers={"content-type": "application/msgpack"},
        timeout=30,
    ).json()
    assert ok["receipt"]["status"] == "ok"


def test_json_envelope_is_accepted(node: RunningNode) -> None:
    wallet = node.client().wallet
    assert wallet is not None
    data = base64.b64encode(_signed(wallet, nonce=5, args=("12" * 32, "t", {}))).decode()
    r = httpx.post(f"{node.url}/v1/txs?wait=true", json={"tx": data}, timeout=30)
    assert r.status_code == 200
    assert r.json()["receipt"]["status"] == "ok"


def test_unknown_ids_and_heights(node: RunningNode) -> None:
    assert httpx.get(f"{node.url}/v1/txs/zz", timeout=5).json()["code"] == "malformed_id"
    assert httpx.get(f"{node.url}/v1/txs/{'00' * 32}", timeout=5).json()["code"] == "unknown_tx"
    assert httpx.get(f"{node.url}/v1/blocks/999", timeout=5).json()["code"] == "unknown_block"
    assert httpx.get(f"{node.url}/docs", timeout=5).status_code == 200
    assert "/v1/txs" in httpx.get(f"{node.url}/openapi.json", timeout=5).json()["paths"]


def test_client_certificate_cannot_run_a_node(node: RunningNode, tmp_path: Path) -> None:
    from yulian.node.config import load_config, save_config

    cfg = load_config(node.config)
    client = node.layout.credential("org1", "client1")
    bad = tmp_path / "client-as-node.toml"
    save_config(
        cfg.__class__(
            **{
                **cfg.__dict__,
                "cert": client.cert,
                "key": client.key,
                "data_dir": tmp_path / "data",
                "api_port": free_port(),
            }
        ),
        bad,
    )
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "node", "start", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "role_not_allowed" in r.stderr or "refused" in r.stderr
