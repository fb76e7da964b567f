"""Introduction: RFC 6962 / RFC 9162 Merkle trees over a chain's hash function.

A block commits to its transactions (and receipts) with the Merkle Tree Hash of RFC 9162
section 2.1.1, parameterised by the suite's hash function ``H`` (SHA-256 in the standard
suite, SM3 in the gm suite):

* the empty tree hashes to ``H(b"")``;
* a leaf ``d`` hashes to ``H(0x00 || d)``;
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``, and
  hashes to ``H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.

The distinct leaf and node prefixes stop a node from being passed off as a leaf (second
preimages), and since an odd node is carried up unchanged rather than paired with a copy of
itself, two different leaf lists never share a root (no CVE-2012-2459 duplicate-leaf trick).

* ``merkle_root`` — the root of a list of leaves, O(n).
* ``MerkleTree`` — built once per block, O(n); keeps every level so that each inclusion proof
  is O(log n).
* ``inclusion_proof`` — one audit path (RFC 9162 2.1.3.1), computed straight from the RFC's
  recursive definition; ``MerkleTree.proof`` returns the same path.
* ``verify_inclusion`` — RFC 9162 2.1.3.2: checks the index against the tree size and the exact
  proof length; it never raises on malformed input, it returns False.

Pure module: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

HashFn = Callable[[bytes], bytes]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

_BYTES_LIKE = (bytes, bytearray, memoryview)

__all__ = [
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "HashFn",
    "MerkleTree",
    "inclusion_proof",
    "merkle_root",
    "verify_inclusion",
]


def _leaf_hashes(leaves: Sequence[bytes], hash_fn: HashFn) -> list[bytes]:
    return [hash_fn(LEAF_PREFIX + bytes(leaf)) for leaf in leaves]


def _parent_level(level: Sequence[bytes], hash_fn: HashFn) -> list[bytes]:
    """One level up: pairs are hashed together, an odd last node is carried up unchanged.

    Building bottom-up this way gives exactly the RFC's split at the largest power of two: the
    left subtree of every node is complete, and only the right edge holds carried nodes.
    """
    n = len(level)
    parents = [hash_fn(NODE_PREFIX + level[i] + level[i + 1]) for i in range(0, n - 1, 2)]
    if n % 2:
        parents.append(level[-1])
    return parents


def _root_of_hashes(level: Sequence[bytes], hash_fn: HashFn) -> bytes:
    """The root over already leaf-hashed nodes (``level`` must not be empty)."""
    current = list(level)
    while len(current) > 1:
        current = _parent_level(current, hash_fn)
    return current[0]


def _check_index(index: int, size: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"leaf index must be an int, not {type(index).__name__}")
    if not 0 <= index < size:
        raise IndexError(f"leaf index {index} out of range for a tree of {size} leaves")


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: Sequence[bytes], hash_fn: HashFn) -> bytes:
    """The RFC 9162 Merkle Tree Hash of ``leaves``; ``hash_fn(b"")`` for no leaves."""
    if not leaves:
        return hash_fn(b"")
    return _root_of_hashes(_leaf_hashes(leaves, hash_fn), hash_fn)


def inclusion_proof(leaves: Sequence[bytes], index: int, hash_fn: HashFn) -> tuple[bytes, ...]:
    """The audit path of leaf ``index`` (RFC 9162 2.1.3.1), ordered from the leaf upwards.

    Raises ``IndexError`` unless ``0 <= index < len(leaves)``. For many proofs over the same
    leaves build a ``MerkleTree`` once instead.
    """
    _check_index(index, len(leaves))
    hashes = _leaf_hashes(leaves, hash_fn)

    # PATH(m, D[lo:hi]) of the RFC, iteratively from the root down; the siblings met on the
    # way down are the path read backwards.
    siblings: list[bytes] = []
    lo, hi, m = 0, len(hashes), index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            siblings.append(_root_of_hashes(hashes[lo + k : hi], hash_fn))
            hi = lo + k
        else:
            siblings.append(_root_of_hashes(hashes[lo : lo + k], hash_fn))
            lo, m = lo + k, m - k
    siblings.reverse()
    return tuple(siblings)


class MerkleTree:
    """A Merkle tree built once (O(n)) that answers its root and every audit path (O(log n))."""

    __slots__ = ("_hash_fn", "_levels", "root")

    def __init__(self, leaves: Sequence[bytes], hash_fn: HashFn) -> None:
        self._hash_fn = hash_fn
        self._levels: list[list[bytes]] = []
        if not leaves:
            self.root: bytes = hash_fn(b"")
            return
        level = _leaf_hashes(leaves, hash_fn)
        self._levels.append(level)
        while len(level) > 1:
            level = _parent_level(level, hash_fn)
            self._levels.append(level)
        self.root = level[0]

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0]) if self._levels else 0

    def __len__(self) -> int:
        return self.size

    def leaf_hash(self, index: int) -> bytes:
        """``H(0x00 || leaf)`` of leaf ``index``."""
        _check_index(index, self.size)
        return self._levels[0][index]

    def proof(self, index: int) -> tuple[bytes, ...]:
        """The audit path of leaf ``index``; equal to ``inclusion_proof(leaves, index, ...)``."""
        _check_index(index, self.size)
        path: list[bytes] = []
        i = index
        for level in self._levels[:-1]:
            sibling = i ^ 1
            # A node without a right sibling was carried up unchanged: no path element.
            if sibling < len(level):
                path.append(level[sibling])
            i >>= 1
        return tuple(path)


def verify_inclusion(
    leaf: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
    hash_fn: HashFn,
) -> bool:
    """True iff ``proof`` shows ``leaf`` at ``index`` in the tree of ``tree_size`` leaves with
    ``root`` (RFC 9162 2.1.3.2).

    Rejects an index outside ``[0, tree_size)``, a proof that is too short or too long for that
    index and size, and path elements or a root whose length is not the hash length. Never
    raises on malformed arguments; returns False instead.
    """
    if isinstance(index, bool) or not isinstance(index, int):
        return False
    if isinstance(tree_size, bool) or not isinstance(tree_size, int):
        return False
    if not 0 <= index < tree_size:
        return False
    if not isinstance(leaf, _BYTES_LIKE) or not isinstance(root, _BYTES_LIKE):
        return False
    # A bytes object is itself a Sequence (of ints): it is not a list of path elements.
    if isinstance(proof, (str, *_BYTES_LIKE)) or not isinstance(proof, Sequence):
        return False
    # Cheap bound before any hashing: a tree of n leaves has depth ceil(log2 n).
    if len(proof) > (tree_size - 1).bit_length():
        return False

    r = hash_fn(LEAF_PREFIX + bytes(leaf))
    digest_size = len(r)
    if len(root) != digest_size:
        return False

    fn, sn = index, tree_size - 1
    for element in proof:
        if not isinstance(element, _BYTES_LIKE) or len(element) != digest_size:
            return False
        if sn == 0:
            return False  # proof longer than the path
        p = bytes(element)
        if fn & 1 or fn == sn:
            r = hash_fn(NODE_PREFIX + p + r)
            if not fn & 1:
                # fn is the last node of its level with no sibling: skip the levels where it
                # is carried up unchanged.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_fn(NODE_PREFIX + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(root)
