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
