"""Introduction: the composition root of a running node — node, read model and HTTP server.

The only module that knows both sides of the API's port: it builds the node (consensus, peers,
gossip), its read model (the port's implementation, subscribed to the node's commits), its
private data (``private_data.py``) and the ASGI application on that port — over TLS with the
node's certificate when ``[api] tls`` says so — and runs them on one uvloop event loop until
SIGINT/SIGTERM.
Order: the read model exists before the node commits anything; consensus starts before the
API listens; on the way down the API stops first, then the read model (its waits end), then
the node. A block the ledger cannot take ends the process (``stop_on_failed_commit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import uvicorn
import uvloop

from yulian.api.app import create_asgi
from yulian.api.auth import ApiOptions
from yulian.api.limits import MAX_SUBSCRIBE_BYTES
from yulian.ledger import BlockCommit, Ledger, LedgerError
from yulian.node.api_tls import TlsServerConfig, api_ssl_context
from yulian.node.config import NodeConfig
from yulian.node.node import Node
from yulian.node.private_data import attach_private_data
from yulian.node.readmodel import ReadModel

log = logging.getLogger("yulian.node")

STREAM_CLIENT_BYTES = 4 * MAX_SUBSCRIBE_BYTES  # larger client messages close the connection
#: The exit status of a node whose ledger could not take a decided block (EX_IOERR).
EXIT_LEDGER_FAILED = 74


def stop_on_failed_commit(ledger: Ledger) -> None:
    """Make a failed ``commit_block`` end the process.

    A decided block the ledger could not take leaves consensus ahead of the ledger. Examples:
    the database gone for longer than ``reconnect_s``, another writer, corruption. The node
    must not go on from there. It stops as a crash would, which is safe by design: the WAL and
    the safety file are synced, and the ledger is at a block boundary. Its supervisor restarts
    it, and it resumes from the ledger's head.
    """
    commit = ledger.commit_block

    def commit_or_stop(c: BlockCommit) -> None:
        try:
            commit(c)
        except LedgerError as e:
            log.critical("stopping: the ledger could not take block %d: %s", c.height, e)
            logging.shutdown()
            os._exit(EXIT_LEDGER_FAILED)

    ledger.commit_block = commit_or_stop  # type: ignore[method-assign]


async def serve(config: NodeConfig) -> None:
    """Run ``config``'s node and its API until the server is told to stop."""
    node = Node(config)
    stop_on_failed_commit(node.ledger)
    reads = ReadModel(node)
    private = attach_private_data(node)
    options = ApiOptions(
        tls=config.api_tls, rate_per_s=config.api_rate_per_s, rate_burst=config.api_rate_burst
    )
    settings: dict[str, Any] = {
        "host": config.api_host,
        "port": config.api_port,
        "loop": "none",
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "proxy_headers": False,  # the API binds its own address; no proxy vouches for peers
        # the event stream: a client sends one small subscribe message; frames go out as
        # built (compressing each per connection would cost the node's loop per frame)
        "ws_max_size": STREAM_CLIENT_BYTES,
        "ws_per_message_deflate": False,
    }
    app = create_asgi(reads, private, options)
    if config.api_tls:
        tls = api_ssl_context(config, node.genesis, node.cert_der)
        server = uvicorn.Server(TlsServerConfig(app, tls, **settings))
    else:
        server = uvicorn.Server(uvicorn.Config(app, **settings))
    log.info("node %s serving %s at height %d", config.name, config.api_url, node.tip.height)
    await node.start()
    private.catch_up()
    reconciling = asyncio.create_task(private.run())
    try:
        await server.serve()
    finally:
        reconciling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reconciling
        await reads.close()
        await node.stop()
        private.store.close()


def run_node(config: NodeConfig) -> None:
    """Start ``config``'s node on uvloop and block until it stops."""
    uvloop.run(serve(config))
