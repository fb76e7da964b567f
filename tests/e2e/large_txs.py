"""Large transactions for end-to-end tests: signed evidence registrations whose envelope is
just under ``max_tx_bytes`` (a metadata blob fills them), submitted in batches that fit the
API's batch body, and a read of what the nodes committed."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.harness import Cluster, ClusterNode
from yulian.apps.evidence import CONTRACT_NAME
from yulian.ledger import open_ledger
from yulian.sdk import Client, Wallet

SLACK_BYTES = 512  # under max_tx_bytes: room for the digest, nonce and signature to vary
BATCH_BYTES = 6 * 1024 * 1024  # per POST /v1/txs/batch (the API reads at most 8 MiB)


def large_envelopes(cluster: Cluster, count: int, *, tag: str) -> list[bytes]:
    """``count`` registrations of ``max_tx_bytes - SLACK_BYTES`` bytes or a little less,
    signed by the client of each organisation in turn."""
    genesis = cluster.genesis
    limit = genesis.params.max_tx_bytes - SLACK_BYTES
    orgs = [o.name for o in genesis.organisations]
    wallets = [Wallet.from_network(cluster.layout.root, org, "client1") for org in orgs]
    out = []
    for i in range(count):
        wallet = wallets[i % len(wallets)]
        digest = f"{tag}{i:063x}"[-64:]
        base = len(_register(wallet, genesis.chain_id, digest, ""))
        envelope = _register(wallet, genesis.chain_id, digest, "x" * (limit - base - 8))
        assert limit - 64 <= len(envelope) <= genesis.params.max_tx_bytes, len(envelope)
        out.append(envelope)
    return out


def _register(wallet: Wallet, chain_id: str, digest: str, blob: str) -> bytes:
    args = [digest, "large", {"blob": blob}]
    return wallet.sign_tx(chain_id, CONTRACT_NAME, "register", args, expires_at=5000).encode()


def submit_all(node: ClusterNode, envelopes: list[bytes]) -> list[str]:
    """Submit in batches; every tx must be accepted. Returns the tx ids."""
    per_batch = max(1, BATCH_BYTES // max(map(len, envelopes)))
    ids: list[str] = []
    with Client(node.url, timeout_s=60) as client:
        for start in range(0, len(envelopes), per_batch):
            results = client.submit_batch(envelopes[start : start + per_batch])
            refused = [r for r in results if r["status"] != "pending"]
            assert not refused, refused[:3]
            ids += [r["id"] for r in results]
    return ids


def wait_committed(node: ClusterNode, tx_ids: list[str], timeout_s: float) -> None:
    """Until every tx is committed on ``node``; fails naming how many are not."""
    deadline = time.monotonic() + timeout_s
    pending = list(tx_ids)
    with Client(node.url, timeout_s=10) as client:
        while pending and time.monotonic() < deadline:
            pending = [t for t in pending if client.tx(t).get("status") != "committed"]
            if pending:
                time.sleep(1.0)
    assert not pending, f"{len(pending)} of {len(tx_ids)} txs not committed on {node.name}"


def block_sizes(data_dir: Path, head: int) -> list[tuple[int, int]]:
    """``(bytes, txs)`` of blocks 1..head, read from a node's ledger beside the running node."""
    from yulian.types.block import Block

    ledger = open_ledger(data_dir / "ledger", readonly=True)
    try:
        sizes = []
        for height in range(1, head + 1):
            data = ledger.block(height)
            assert data is not None, height
            sizes.append((len(data), len(Block.decode(data).txs)))
        return sizes
    finally:
        ledger.close()
