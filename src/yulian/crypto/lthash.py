"""Introduction: LtHash16 — a homomorphic hash of a set, updated per element.

Lewi, Kim, Maykov and Weis, "Securing Update Propagation with Homomorphic Hashing" (2019,
after Bellare and Micciancio's LtHash of 1997): the hash of a multiset is the lane-wise sum,
modulo 2**16, of one 1024-lane vector per element. So

* adding or removing an element is one vector addition or subtraction — a set that changes by
  ``k`` elements is re-hashed in O(k), whatever its size;
* the hash of a union of disjoint sets is the sum of their hashes — a set sent in parts can be
  checked part by part against per-part hashes that must add up to the whole.

An element's vector comes from an extendable-output function over ``H(e)``, the suite's own
hash of the element (SHA-256 in the standard suite, SM3 in the gm suite):

* standard suite: ``X(e) = SHAKE128(XOF_DOMAIN || H(e))``, 2048 bytes (FIPS 202's XOF);
* gm suite: HMAC-SM3 in counter mode (NIST SP 800-108), keyed by the fixed public ``XOF_KEY``,
  ``X(e) = HMAC(K, H(e) || 1) || HMAC(K, H(e) || 2) || ...`` — exactly PBKDF2-HMAC-SM3 with one
  iteration (RFC 8018), which OpenSSL computes in one call.

The 2048 bytes are read as 1024 little-endian ``uint16`` lanes. Collision resistance (finding
two different multisets with one hash) reduces to the short integer solution problem in
dimension 1024 modulo 2**16 when ``X`` is modelled as a random oracle; the paper estimates
over 200 bits of security for these parameters. Decisions 0050 and 0090 give the argument and
the measurements (0090: why the standard suite's XOF is SHAKE128, about six times fewer
instructions per element than HMAC-SHA-256 in counter mode).

Pure module: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import numpy as np

from yulian.crypto.suite import Suite

__all__ = [
    "EMPTY_SUM",
    "LANES",
    "SUM_BYTES",
    "XOF_DOMAIN",
    "XOF_KEY",
    "add_sums",
    "element_vector",
    "lthash",
]

LANES = 1024
SUM_BYTES = 2 * LANES
#: The HMAC key of the gm suite's XOF: names the construction, so its outputs are used for
#: nothing else.
XOF_KEY = b"yulian/lthash16/v1"
#: The prefix SHAKE128 absorbs before ``H(e)`` in the standard suite, for the same reason.
XOF_DOMAIN = b"yulian/lthash16/shake128/v2"
#: The hash of the empty set (and the identity of ``add_sums``).
EMPTY_SUM = bytes(SUM_BYTES)
#: Element vectors summed per numpy call: bounds the memory of one update (256 * 2 KiB).
_BATCH = 256
_LANE = np.dtype("<u2")


def element_vector(suite: Suite, element: bytes) -> bytes:
    """``X(element)``: the 2048-byte vector of one element."""
    return _xof(suite)(suite.hash(element))


def _shake128_xof(seed: bytes) -> bytes:
    """The standard suite's XOF (FIPS 202): one call, no per-block HMAC."""
    return hashlib.shake_128(XOF_DOMAIN + seed).digest(SUM_BYTES)


def _hmac_sm3_xof(seed: bytes) -> bytes:
    """The gm suite's XOF: HMAC-SM3 in counter mode, the SM algorithms alone."""
    return hashlib.pbkdf2_hmac("sm3", XOF_KEY, seed, 1, SUM_BYTES)


#: The XOF of each suite, by the suite's hash.
_XOFS: dict[str, Callable[[bytes], bytes]] = {"sha256": _shake128_xof, "sm3": _hmac_sm3_xof}


def _xof(suite: Suite) -> Callable[[bytes], bytes]:
    """The suite's XOF, from ``H(e)`` to the 2048-byte vector of ``e``."""
    xof = _XOFS.get(suite.hash_name)
    if xof is None:
        raise ValueError(f"no LtHash XOF for the hash {suite.hash_name!r}")
    return xof


def lthash(
    suite: Suite,
    start: bytes = EMPTY_SUM,
    added: Iterable[bytes] = (),
    removed: Iterable[bytes] = (),
) -> bytes:
    """The hash of the multiset hashed to ``start``, with ``added`` elements put in and
    ``removed`` elements taken out (each an element, not a vector)."""
    if len(start) != SUM_BYTES:
        raise ValueError(f"an LtHash is {SUM_BYTES} bytes, got {len(start)}")
    total = np.frombuffer(start, dtype=_LANE).astype(np.int64)
    total += _vector_sum(suite, added)
    total -= _vector_sum(suite, removed)
    return _to_bytes(total)


def add_sums(sums: Iterable[bytes]) -> bytes:
    """The hash of the union of disjoint multisets, from their hashes."""
    total = np.zeros(LANES, dtype=np.int64)
    for s in sums:
        if len(s) != SUM_BYTES:
            raise ValueError(f"an LtHash is {SUM_BYTES} bytes, got {len(s)}")
        total += np.frombuffer(s, dtype=_LANE)
    return _to_bytes(total)


def _vector_sum(suite: Suite, elements: Iterable[bytes]) -> np.ndarray:
    """The lane-wise sum (as int64, not yet reduced) of the elements' vectors, in batches."""
    total = np.zeros(LANES, dtype=np.int64)
    batch: list[bytes] = []
    xof, h = _xof(suite), suite.hash
    for element in elements:
        batch.append(xof(h(element)))
        if len(batch) == _BATCH:
            total += _batch_sum(batch)
            batch.clear()
    if batch:
        total += _batch_sum(batch)
    return total


def _batch_sum(vectors: list[bytes]) -> np.ndarray:
    lanes = np.frombuffer(b"".join(vectors), dtype=_LANE).reshape(len(vectors), LANES)
    summed: np.ndarray = lanes.sum(axis=0, dtype=np.int64)
    return summed


def _to_bytes(total: np.ndarray) -> bytes:
    """Reduce int64 lanes modulo 2**16 (exact: numpy's ``%`` is a floor modulo) and encode."""
    return (total % 65536).astype(_LANE).tobytes()
