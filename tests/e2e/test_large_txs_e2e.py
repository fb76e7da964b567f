"""Issue 10: a pool of large txs never halts the chain (real processes, four validators).

The genesis lets a proposer wait up to 20 s after a commit to fill a block, and build at once
when ``max_block_txs`` = 600 txs wait. 600 txs of nearly ``max_tx_bytes`` (64 KiB) each are
submitted to one node and gossiped to all: together 37 MiB, more than a WAL record, a
proposal or a block may hold. Before ``max_block_bytes`` every proposer reaped all 600, failed
to log its proposal, and the chain never committed again; now a block holds what fits in
``max_block_bytes`` and the pool drains block by block. Every tx commits, every block stays
within the limit, and all four nodes agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster, make_cluster
from tests.e2e.large_txs import block_sizes, large_envelopes, submit_all, wait_committed
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

TXS = 600
PARAMS = ChainParams(block_interval_ms=20_000, max_block_txs=TXS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, 4, params=PARAMS)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def test_a_pool_of_large_txs_commits_block_by_block(cluster: Cluster) -> None:
    envelopes = large_envelopes(cluster, TXS, tag="a")
    assert sum(map(len, envelopes)) > 36 * 1024 * 1024  # more than any block may hold
    cluster.wait_height(1)
    ids = submit_all(cluster.nodes[0], envelopes)
    for node in cluster.nodes:
        wait_committed(node, ids, timeout_s=240)
    head = min(n.height() for n in cluster.nodes)
    cluster.assert_agree(head)
    limit = cluster.genesis.params.max_block_bytes
    sizes = block_sizes(cluster.nodes[1].data_dir, head)
    carrying = [(size, txs) for size, txs in sizes if txs]
    assert sum(txs for _, txs in carrying) == TXS
    assert all(size <= limit for size, _ in sizes), max(sizes)
    assert len(carrying) >= 36 * 1024 * 1024 // limit  # the pool took many blocks
    assert max(size for size, _ in carrying) > limit - 64 * 1024  # blocks were filled
