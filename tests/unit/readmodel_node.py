"""A real one-organisation node with its read model, started on the event loop of the test
(LMDB ledger, solo consensus, the evidence contract, blocks every 20 ms)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from yulian.apps.evidence import CONTRACT_NAME, contract_source
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.node import Node
from yulian.node.readmodel import ReadModel
from yulian.pki.layout import NetworkLayout
from yulian.types.genesis import ChainParams


@asynccontextmanager
async def read_model_node(tmp_path: Path) -> AsyncIterator[tuple[Node, ReadModel, NetworkLayout]]:
    layout = init_network(
        tmp_path / "net",
        orgs=1,
        contracts=[(CONTRACT_NAME, contract_source())],
        params=ChainParams(block_interval_ms=20),
    )
    node = Node(load_config(layout.nodes[0].config))
    reads = ReadModel(node)
    await node.start()
    try:
        yield node, reads, layout
    finally:
        await reads.close()
        await node.stop()
