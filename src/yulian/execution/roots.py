"""Introduction: the three roots a header commits to.

``tx_root`` and ``result_root`` are RFC 6962 Merkle roots over the encoded tx envelopes and
receipts, so a single tx or receipt is provable by an inclusion proof. ``state_root`` chains
the previous root with the block's sorted write set: it binds the state after every block
without a per-key tree (that can come later without changing the header layout).
"""

from __future__ import annotations

from collections.abc import Sequence

from yulian.crypto.merkle import merkle_root
from yulian.crypto.suite import Suite
from yulian.types.encoding import encode

STATE_DOMAIN = "yulian/state/v1"


def tx_root(suite: Suite, envelopes: Sequence[bytes]) -> bytes:
    return merkle_root(envelopes, suite.hash)


def result_root(suite: Suite, receipts: Sequence[bytes]) -> bytes:
    return merkle_root(receipts, suite.hash)


def genesis_state_root(suite: Suite, genesis_hash: bytes) -> bytes:
    return suite.hash(encode((STATE_DOMAIN, genesis_hash)))


def state_root(
    suite: Suite, prev_root: bytes, height: int, writes: Sequence[tuple[bytes, bytes | None]]
) -> bytes:
    """``H(domain, prev_root, height, sorted writes)``; writes must already be sorted."""
    return suite.hash(encode((STATE_DOMAIN, prev_root, height, tuple(writes))))
