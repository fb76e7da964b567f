"""Introduction: the node-to-node network.

- ``framing``: 4-byte big-endian length-prefixed frames with a maximum size, checked before the
  body is read.
- ``messages``: the network messages (``[version, kind, payload]`` in canonical msgpack) and
  their strict decoder (``BadMessage``).
- ``tls``: TLS 1.3 mutual-auth contexts trusting only the consortium's organisation root CAs.
- ``peers``: ``PeerManager`` — persistent, deduplicated connections to the other nodes, with
  bounded send queues; only certificates the node's membership check accepts as ``node``.
- ``connection``: one peer connection (streams, bounded send queue) and peer addresses.
- ``sync``: ``BlockSyncer`` (what to fetch from whom, within byte budgets; penalties for liars,
  withholders and slow peers) and ``serve_get_blocks`` — the node's one block sync.

This package does I/O (sockets, TLS, clock) — except ``messages`` and ``sync``, which are pure
and run under the simulator too; consensus and execution never import it.
"""

from yulian.net.framing import (
    MAX_FRAME_BYTES,
    ConnectionClosed,
    FrameError,
    FrameTooLarge,
    encode_frame,
    read_frame,
)
from yulian.net.messages import KINDS, BadMessage, Message, decode_message, encode_message
from yulian.net.peers import PeerManager
from yulian.net.sync import BlockSyncer, InvalidSyncData, serve_get_blocks
from yulian.net.tls import TlsError, client_context, peer_certificate_der, server_context

__all__ = [
    "KINDS",
    "MAX_FRAME_BYTES",
    "BadMessage",
    "BlockSyncer",
    "ConnectionClosed",
    "FrameError",
    "FrameTooLarge",
    "InvalidSyncData",
    "Message",
    "PeerManager",
    "TlsError",
    "client_context",
    "decode_message",
    "encode_frame",
    "encode_message",
    "peer_certificate_der",
    "read_frame",
    "serve_get_blocks",
    "server_context",
]
