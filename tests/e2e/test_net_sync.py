"""Issue 10: a node that was down while large blocks were committed catches up to the head.

Four validators as real processes. One is stopped; 800 txs of nearly ``max_tx_bytes`` (50 MiB
in all) are committed by the other three, in blocks filled to ``max_block_bytes``; then the
stopped node starts again and must reach the head by block sync. Before the byte budget a
single reply carried up to 32 of those blocks — more than a frame may hold — so the reply was
refused and the node never caught up; now replies stay within the requested budget (a block
over it comes alone) and the node catches up in parts. The decisions of ``net.sync`` are
tested with fake peers in ``tests/unit/test_net_sync.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster, make_cluster
from tests.e2e.large_txs import block_sizes, large_envelopes, submit_all, wait_committed
from yulian.net.framing import MAX_FRAME_BYTES

pytestmark = pytest.mark.e2e

TXS = 800


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, 4)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def test_a_node_down_while_large_blocks_were_committed_catches_up(cluster: Cluster) -> None:
    envelopes = large_envelopes(cluster, TXS, tag="b")
    assert sum(map(len, envelopes)) > MAX_FRAME_BYTES  # more than one frame could carry
    cluster.wait_height(2)
    late = cluster.nodes[3]
    live = cluster.nodes[:3]
    late.stop()
    ids = submit_all(live[0], envelopes)
    for node in live:
        wait_committed(node, ids, timeout_s=300)
    head = max(n.height() for n in live)
    late.start()
    cluster.wait_height(head, [late], timeout_s=180)
    cluster.assert_agree(head)
    wait_committed(late, ids, timeout_s=10)
    sizes = block_sizes(late.data_dir, head)
    limit = cluster.genesis.params.max_block_bytes
    assert all(size <= limit for size, _ in sizes)
    assert sum(txs for _, txs in sizes) >= TXS
    assert sum(1 for size, _ in sizes if size > limit - 64 * 1024) >= 5  # full blocks synced
