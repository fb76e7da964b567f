"""Introduction: every limit of the REST API, named once.

Each request is checked against these before any work is done that grows with the input: a
body is read with a byte cap before it is parsed, a number is range-checked before it reaches
the ledger, a wait is clamped. ``docs/api.md`` lists them with the problem each one answers.
"""

from __future__ import annotations

from yulian.ledger import MAX_KEY_BYTES
from yulian.types.tx import MAX_ARGS, MAX_NAME_BYTES

#: ``?wait=true`` holds a request at most this long (a larger ``timeout`` is clamped to it).
MAX_WAIT_S = 60.0
#: ``timeout`` when not given.
DEFAULT_WAIT_S = 10.0
#: Envelopes in one ``POST /v1/txs/batch``.
MAX_BATCH_TXS = 1000
#: Bytes of one batch body (either encoding).
MAX_BATCH_BODY = 8 * 1024 * 1024
#: JSON envelopes are base64 in an object: this many bytes of body per byte of ``max_tx_bytes``
#: (4/3 for base64, rounded up to 2), plus this much for the object around it.
TX_BODY_FACTOR = 2
TX_BODY_SLACK = 64
#: Bytes of one ``POST /v1/query`` body.
MAX_QUERY_BODY = 64 * 1024
#: ``args`` of a query: as many as a tx may carry, each within what a tx's args may be
#: (``TX_LIMITS``: nesting, sizes, 64-bit integers).
MAX_QUERY_ARGS = MAX_ARGS
#: Contract and method names (as in a tx).
MAX_NAME_LEN = MAX_NAME_BYTES
#: A state key with its contract name: what the ledger can store (UTF-8 bytes, with the NUL
#: between them).
MAX_STATE_KEY_BYTES = MAX_KEY_BYTES
#: Versions in one ``/history`` answer (``limit`` is 1..this).
MAX_HISTORY = 1000
DEFAULT_HISTORY = 100
#: Highest height a request may name (heights are signed 64-bit on the wire and on disk).
MAX_HEIGHT = (1 << 63) - 1
#: A tx id in hex: 16..64 bytes (hash outputs are 32).
MIN_TX_ID_BYTES = 16
MAX_TX_ID_BYTES = 64

# --- the explorer's lists ----------------------------------------------------------------------
#: Items in one list answer (blocks, a block's txs, state keys, proposals): ``limit`` is 1..this.
MAX_LIST = 1000
DEFAULT_LIST = 50
#: Blocks over which validators' signing is counted (``/v1/validators/stats?window=``).
MAX_WINDOW = 1000
DEFAULT_WINDOW = 100
#: A block or code hash in hex: 16..64 bytes.
MIN_HASH_BYTES = 16
MAX_HASH_BYTES = 64
#: A contract version (as the lifecycle allows) and a state key prefix.
MAX_VERSION_LEN = 32
MAX_PROPOSAL_ID = (1 << 63) - 1

# --- events: the REST page and the stream -------------------------------------------------------
#: Events in one ``GET /v1/events`` page (``limit`` is 1..this).
MAX_EVENTS_PAGE = 1000
DEFAULT_EVENTS_PAGE = 100
#: Events one page or one replay step examines at most (a rare filter answers a short page
#: with ``next_after`` to continue from, never an unbounded scan).
EVENT_SCAN = 10_000
#: Key and payload prefixes, in bytes (hex in requests: twice as many digits).
MAX_EVENT_PREFIX = 1024
#: Event-stream connections at once (each also holds a commit-feed subscription).
MAX_STREAM_SUBSCRIBERS = 256
#: Event filters, and tx ids watched, in one subscription.
MAX_STREAM_FILTERS = 16
MAX_STREAM_TXS = 64
#: Blocks a subscriber may have unread before it is disconnected as slow (``queue``).
DEFAULT_STREAM_QUEUE = 256
MAX_STREAM_QUEUE = 4096
#: Bytes of the subscribe message, and seconds to wait for it.
MAX_SUBSCRIBE_BYTES = 16 * 1024
SUBSCRIBE_TIMEOUT_S = 10.0
#: Seconds one frame may take to leave before the subscriber is disconnected as slow.
SEND_TIMEOUT_S = 30.0
#: Messages in one frame, and its bytes (past either, the next message starts a new frame; a
#: message is at most an event: a 16 KiB payload, about 40 KiB of JSON).
FRAME_ITEMS = 500
FRAME_BYTES = 1 << 20
