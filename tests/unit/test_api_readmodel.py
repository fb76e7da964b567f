"""The read model over a real node (LMDB ledger, solo consensus on the event loop): a submitted
tx is seen committed through the commit feed, its proof bundle — assembled, not re-verified —
passes the offline verifier with the same summary, and every read answers from the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.unit.readmodel_node import read_model_node

from yulian.apps.evidence import CONTRACT_NAME
from yulian.crypto.suite import get_suite
from yulian.mempool.admission import AdmissionError
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.sdk.verify import verify_bundle
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import decode
from yulian.types.genesis import Genesis

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[ReadModel, Wallet, Genesis]]:
    async with read_model_node(tmp_path) as (_node, reads, layout):
        yield reads, Wallet.from_network(layout.root), Genesis.load(layout.genesis)


async def test_submit_wait_prove(running: tuple[ReadModel, Wallet, Genesis]) -> None:
    reads, wallet, genesis = running
    subscription = reads.commits.subscribe()
    digest = "ab" * 32
    envelope = wallet.sign_tx(
        reads.chain_id, CONTRACT_NAME, "register", [digest, "t", {}], expires_at=1000
    ).encode()
    tx_id = await reads.submit(envelope)
    assert reads.tx_status(tx_id).status in ("pending", "committed")
    status = await reads.wait_committed(tx_id, 30.0)
    assert status.status == "committed"

    # the feed carried the block, with the tx at its index, and its receipt on demand
    block = await subscription.next()
    while tx_id not in block.tx_ids:
        block = await subscription.next()
    assert (block.height, block.index_of(tx_id)) == (status.height, status.index)
    assert block.receipts()[status.index].tx_id == tx_id
    subscription.close()

    proven = reads.proven_tx(tx_id)
    assert proven is not None and proven.receipt.status == "ok"
    verified = verify_bundle(proven.bundle, genesis)  # what a client does offline
    assert verified.summary == proven.summary
    assert proven.summary["signer"]["org"] == "org1"
    assert proven.block_hash == block.block_hash

    record = reads.block(status.height)
    assert record is not None and tx_id in record.tx_ids and record.commit is not None
    assert reads.block(reads.head().height + 1) is None and reads.block(0) is None
    value = reads.state_get(CONTRACT_NAME, f"doc/{digest}")
    assert value is not None
    history = reads.state_history(CONTRACT_NAME, f"doc/{digest}", 10)
    assert [h for h, _ in history] == [status.height]
    answer = reads.query(CONTRACT_NAME, "lookup", [digest])
    assert answer.status == "ok" and decode(value) is not None

    with pytest.raises(AdmissionError) as refused:
        await reads.submit(envelope)
    assert refused.value.code == "duplicate_tx"
    (result,) = await reads.submit_many([b"x"])
    assert isinstance(result, AdmissionError) and result.code == "malformed_tx"


async def test_health_and_config(running: tuple[ReadModel, Wallet, Genesis]) -> None:
    reads, _, genesis = running
    health = reads.health()
    assert health.chain_id == genesis.chain_id == reads.chain_id
    assert health.genesis_hash == get_suite(genesis.suite).hash(genesis.encode())
    assert CONTRACT_NAME in health.contracts and "consortium" in health.contracts
    assert health.validators == ["org1-node0"]
    assert reads.config_at(0) == ConsortiumConfig.from_genesis(genesis)
    assert reads.config_at(reads.head().height).organisations == genesis.organisations
    assert reads.max_tx_bytes() == genesis.params.max_tx_bytes


async def test_a_wait_times_out_with_the_status_then(
    running: tuple[ReadModel, Wallet, Genesis],
) -> None:
    reads, _, _ = running
    status = await reads.wait_committed(b"\x01" * 32, 0.05)
    assert status.status == "unknown"
