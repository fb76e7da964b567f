"""What the read model observes of each commit, on a real node (LMDB ledger, solo consensus on
the event loop): the block's size and its commit's round come with the replica's ``Committed``
record instead of being read back from the ledger, and they are exactly what the ledger holds;
the metrics count every block once — its size, its txs, the timed ledger write — whatever
the number of txs in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from tests.unit.readmodel_node import read_model_node

from yulian.apps.evidence import CONTRACT_NAME
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.sdk import Wallet
from yulian.types.commit import CommitCertificate

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Node, ReadModel, Wallet]]:
    async with read_model_node(tmp_path) as (node, reads, layout):
        yield node, reads, Wallet.from_network(layout.root)


def _samples(reads: ReadModel) -> dict[str, float]:
    text = generate_latest(reads.metrics).decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


async def test_each_block_is_observed_once_as_the_ledger_holds_it(
    running: tuple[Node, ReadModel, Wallet],
) -> None:
    node, reads, wallet = running
    subscription = reads.commits.subscribe()
    ids = await reads.submit_many(
        [
            wallet.sign_tx(
                reads.chain_id, CONTRACT_NAME, "register", [f"{i:064x}", "t", {}], expires_at=1000
            ).encode()
            for i in range(5)
        ]
    )
    assert all(isinstance(i, bytes) for i in ids)
    waiting = set(ids)
    seen = []
    while waiting:
        block = await subscription.next()
        seen.append(block)
        waiting -= set(block.tx_ids)
    subscription.close()
    for block in seen:
        data, commit = node.ledger.block(block.height), node.ledger.commit(block.height)
        assert data is not None and commit is not None
        assert block.size_bytes == len(data) > 0
        assert block.round == CommitCertificate.decode(commit).round

    samples = _samples(reads)  # one synchronous scrape: no commit runs in between
    head = int(samples["yulian_chain_height"])
    assert head >= seen[-1].height
    # every block committed since the read model was made: once each, not once per tx
    assert samples["yulian_block_txs_count"] == head
    assert samples["yulian_ledger_commit_seconds_count"] == head
    assert samples["yulian_txs_committed_total"] == sum(
        len(node.ledger.tx_ids(h) or []) for h in range(1, head + 1)
    )
    sizes = sum(len(node.ledger.block(h) or b"") for h in range(1, head + 1))
    assert samples["yulian_block_size_bytes_sum"] == sizes
