"""Introduction: a node's private data, wired in — store, service, commits and peer messages.

``attach_private_data(node)`` opens the node's private store (``<data_dir>/private``) and
builds the ``PrivateDataService`` over the node's ledger, suite, organisation, admission and
peer links; it subscribes the service to the node's committed blocks (after the read model,
so a waiting client is told of a commit in the same turn the values are held) and routes
``private`` peer messages to it. ``serve.py`` starts its reconciliation task.
"""

from __future__ import annotations

from yulian.net.messages import PRIVATE, Message
from yulian.node.node import Node
from yulian.node.replica import Committed
from yulian.privacy.service import PeerLinks, PrivateDataService
from yulian.privacy.store import PrivateStore

PRIVATE_DIR = "private"


def attach_private_data(node: Node) -> PrivateDataService:
    store = PrivateStore(node.config.data_dir / PRIVATE_DIR, node.suite.name)

    async def submit(envelope: bytes) -> bytes:
        return (await node.submit_one(envelope)).tx_id

    def links() -> PeerLinks | None:
        return node.peers

    service = PrivateDataService(
        store,
        ledger=node.ledger,
        suite=node.suite,
        chain_id=node.chain_id,
        org=node.config.org,
        submit=submit,
        peers=links,
    )

    def on_commit(committed: Committed) -> None:
        service.on_commit(committed.height)

    def on_message(peer: str, msg: Message) -> None:
        service.on_message(peer, msg.payload)

    node.commit_listeners.append(on_commit)
    node.message_handlers[PRIVATE] = on_message
    return service
