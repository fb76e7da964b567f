"""Properties of ``yulian.crypto.merkle`` (RELIABILITY D3).

The module is checked against a test-only oracle written straight from the recursive
definitions of RFC 9162 2.1.1 (MTH) and 2.1.3.1 (PATH), which shares no code with it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yulian.crypto.merkle import MerkleTree, inclusion_proof, merkle_root, verify_inclusion

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- test-only oracle: RFC 9162 2.1.1 / 2.1.3.1, literally --------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = _k(n)
    return sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_shape(m: int, n: int) -> tuple[str, ...]:
    """Which side each path element sits on, leaf upwards: the whole verifier computation for
    (m, n) apart from the hash values themselves."""
    if n == 1:
        return ()
    k = _k(n)
    if m < k:
        return (*ref_shape(m, k), "right")
    return (*ref_shape(m - k, n - k), "left")


# --- strategies ----------------------------------------------------------------------------

any_leaves = st.lists(st.binary(max_size=24), max_size=300)


@st.composite
def distinct_leaves(draw: st.DrawFn, min_size: int = 1) -> list[bytes]:
    """1..300 pairwise distinct leaves, sizes spread evenly (so large trees are common)."""
    n = draw(st.integers(min_value=min_size, max_value=300))
    salt = draw(st.binary(max_size=8))
    return [salt + i.to_bytes(2, "big") for i in range(n)]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _sample_indices(rng: random.Random, n: int, k: int) -> list[int]:
    picks = {0, n - 1, *(rng.randrange(n) for _ in range(k))}
    return sorted(picks)


# --- roots and proofs ------------------------------------------------------------------------


@SETTINGS
@given(leaves=any_leaves)
def test_tree_root_equals_merkle_root_and_rfc_oracle(leaves: list[bytes]) -> None:
    root = merkle_root(leaves, sha256)
    assert MerkleTree(leaves, sha256).root == root
    assert root == ref_mth(leaves)


@SETTINGS
@given(leaves=any_leaves.filter(bool))
def test_every_proof_verifies_and_matches_the_rfc_path(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves, sha256)
    n = len(leaves)
    assert tree.size == len(tree) == n
    for i, leaf in enumerate(leaves):
        proof = tree.proof(i)
        assert len(proof) == len(ref_shape(i, n))
        assert verify_inclusion(leaf, i, n, proof, tree.root, sha256)
    # The standalone path function and the oracle agree with the level-array proofs.
    for i in {0, n // 2, n - 1}:
        assert inclusion_proof(leaves, i, sha256) == tree.proof(i) == tuple(ref_path(i, leaves))


@pytest.mark.parametrize("n", range(1, 70))
def test_all_small_trees_exhaustively(n: int) -> None:
    leaves = [bytes([i % 256, i // 256]) for i in range(n)]
    tree = MerkleTree(leaves, sha256)
    assert tree.root == merkle_root(leaves, sha256) == ref_mth(leaves)
    for i in range(n):
        proof = tree.proof(i)
        assert proof == inclusion_proof(leaves, i, sha256) == tuple(ref_path(i, leaves))
        assert verify_inclusion(leaves[i], i, n, proof, tree.root, sha256)


# --- single-bit mutations (D3) --------------------------------------------------------------


@SETTINGS
@given(leaves=distinct_leaves(), rng=st.randoms(use_true_random=False))
def test_single_bit_mutations_are_rejected(leaves: list[bytes], rng: random.Random) -> None:
    tree = MerkleTree(leaves, sha256)
    n, root = len(leaves), tree.root
    for i in _sample_indices(rng, n, 6):
        leaf, proof = leaves[i], tree.proof(i)
        assert verify_inclusion(leaf, i, n, proof, root, sha256)

        # Leaf: a sample of bits (every bit for short leaves).
        bits = range(len(leaf) * 8)
        for bit in rng.sample(bits, min(len(bits), 12)):
            assert not verify_inclusion(_flip(leaf, bit), i, n, proof, root, sha256)

        # Path: for every element, three bits (first, last, one at random).
        for j, element in enumerate(proof):
            for bit in {0, 255, rng.randrange(256)}:
                wrong = (*proof[:j], _flip(element, bit), *proof[j + 1 :])
                assert not verify_inclusion(leaf, i, n, wrong, root, sha256)

        # Index: every bit up to one above the tree size's width.
        for b in range(n.bit_length() + 1):
            assert not verify_inclusion(leaf, i ^ (1 << b), n, proof, root, sha256)

        # Root: a sample of bits, always including the first and the last.
        for bit in {0, 255, *rng.sample(range(256), 14)}:
            assert not verify_inclusion(leaf, i, n, proof, _flip(root, bit), sha256)


@SETTINGS
@given(leaves=distinct_leaves(), rng=st.randoms(use_true_random=False))
def test_tree_size_mutations(leaves: list[bytes], rng: random.Random) -> None:
    """A single-bit change of the tree size is rejected whenever it changes the shape of the
    audit path; when it does not (e.g. leaf 1 in trees of 5, 6, 7 or 8 leaves), the verifier
    performs the very same computation and RFC 9162 cannot tell the sizes apart: the proof
    commits to the path's shape, not to the size. The size must therefore come from the same
    authenticated header as the root. Both halves are asserted here."""
    tree = MerkleTree(leaves, sha256)
    n, root = len(leaves), tree.root
    rejected = 0
    for i in _sample_indices(rng, n, 6):
        proof = tree.proof(i)
        for b in range(n.bit_length() + 2):
            size = n ^ (1 << b)
            same_shape = i < size and ref_shape(i, size) == ref_shape(i, n)
            accepted = verify_inclusion(leaves[i], i, size, proof, root, sha256)
            assert accepted == same_shape, (i, n, size)
            rejected += not accepted
        # Wrong-size probes that always change the shape are always rejected.
        for size in (n * 2, n // 2, i, 0):
            if not (i < size and ref_shape(i, size) == ref_shape(i, n)):
                assert not verify_inclusion(leaves[i], i, size, proof, root, sha256)
    assert rejected > 0  # flipping the top bit at least always changes the shape


@SETTINGS
@given(leaves=distinct_leaves(), rng=st.randoms(use_true_random=False))
def test_truncated_extended_and_reordered_proofs_are_rejected(
    leaves: list[bytes], rng: random.Random
) -> None:
    tree = MerkleTree(leaves, sha256)
    n, root = len(leaves), tree.root
    for i in _sample_indices(rng, n, 4):
        leaf, proof = leaves[i], tree.proof(i)
        for extra in (root, tree.leaf_hash(i), bytes(32), b""):
            assert not verify_inclusion(leaf, i, n, (*proof, extra), root, sha256)
            assert not verify_inclusion(leaf, i, n, (extra, *proof), root, sha256)
        if proof:
            assert not verify_inclusion(leaf, i, n, proof[:-1], root, sha256)
            assert not verify_inclusion(leaf, i, n, proof[1:], root, sha256)
            assert not verify_inclusion(leaf, i, n, (*proof, proof[-1]), root, sha256)
        if len(proof) > 1:
            swapped = (proof[1], proof[0], *proof[2:])
            assert not verify_inclusion(leaf, i, n, swapped, root, sha256)
        # A node is not a leaf: the leaf hash itself, offered as the leaf, is rejected.
        assert not verify_inclusion(tree.leaf_hash(i), i, n, proof, root, sha256)


def test_node_cannot_pass_as_leaf() -> None:
    # Second-preimage attempt: offer an interior node's two children as one "leaf" of a
    # smaller tree. The 0x00 / 0x01 prefixes make the leaf hash differ from the node hash.
    tree = MerkleTree([b"a", b"b", b"c", b"d"], sha256)
    ha, hb = tree.leaf_hash(0), tree.leaf_hash(1)
    ab, cd = tree.proof(2)[1], tree.proof(0)[1]
    assert sha256(b"\x01" + ha + hb) == ab
    assert verify_inclusion(b"a", 0, 4, (hb, cd), tree.root, sha256)
    assert not verify_inclusion(ha + hb, 0, 2, (cd,), tree.root, sha256)
    assert not verify_inclusion(b"\x01" + ha + hb, 0, 2, (cd,), tree.root, sha256)
    assert not verify_inclusion(ab, 0, 2, (cd,), tree.root, sha256)


# --- CVE-2012-2459 ---------------------------------------------------------------------------


@SETTINGS
@given(leaves=any_leaves.filter(lambda xs: len(xs) % 2 == 1))
def test_duplicating_the_last_leaf_changes_the_root(leaves: list[bytes]) -> None:
    padded = [*leaves, leaves[-1]]
    assert merkle_root(padded, sha256) != merkle_root(leaves, sha256)
    assert MerkleTree(padded, sha256).root != MerkleTree(leaves, sha256).root


@SETTINGS
@given(leaves=any_leaves.filter(lambda xs: len(xs) % 2 == 1))
def test_proof_for_the_duplicated_position_fails(leaves: list[bytes]) -> None:
    n = len(leaves)
    root = merkle_root(leaves, sha256)
    padded_tree = MerkleTree([*leaves, leaves[-1]], sha256)
    dup_proof = padded_tree.proof(n)
    # Position n does not exist in a tree of n leaves ...
    assert not verify_inclusion(leaves[-1], n, n, dup_proof, root, sha256)
    # ... and the padded tree's proof does not lead to the original root either.
    assert not verify_inclusion(leaves[-1], n, n + 1, dup_proof, root, sha256)
    # The genuine last leaf is still provable in the original tree.
    assert verify_inclusion(
        leaves[-1], n - 1, n, MerkleTree(leaves, sha256).proof(n - 1), root, sha256
    )


def test_bitcoin_style_duplicate_tree_is_distinct() -> None:
    # In Bitcoin's tree [a, b, c] and [a, b, c, c] share a root; here they must not, at any
    # level (duplicating a whole odd-sized tail is the same trick one level up).
    for base in (
        [b"a", b"b", b"c"],
        [bytes([i]) for i in range(5)],
        [bytes([i]) for i in range(7)],
    ):
        assert merkle_root(base, sha256) != merkle_root([*base, base[-1]], sha256)
    six = [bytes([i]) for i in range(6)]
    assert merkle_root(six, sha256) != merkle_root([*six, six[4], six[5]], sha256)


# --- robustness --------------------------------------------------------------------------


def test_verify_never_raises_on_malformed_input() -> None:
    leaves = [b"x", b"y", b"z"]
    tree = MerkleTree(leaves, sha256)
    good = (b"y", 1, 3, tree.proof(1), tree.root)
    assert verify_inclusion(*good, sha256)
    bad_args: list[tuple[object, object, object, object, object]] = [
        (b"y", -1, 3, good[3], good[4]),
        (b"y", 1, -3, good[3], good[4]),
        (b"y", 1, 0, good[3], good[4]),
        (b"y", 3, 3, good[3], good[4]),
        (b"y", 1, 2**70, good[3], good[4]),
        (b"y", 2**70, 2**71, good[3], good[4]),
        (b"y", "1", 3, good[3], good[4]),
        (b"y", 1.0, 3, good[3], good[4]),
        (b"y", True, 3, good[3], good[4]),
        (b"y", None, 3, good[3], good[4]),
        (b"y", 1, "3", good[3], good[4]),
        (b"y", 1, 3.0, good[3], good[4]),
        (b"y", 1, None, good[3], good[4]),
        (None, 1, 3, good[3], good[4]),
        ("y", 1, 3, good[3], good[4]),
        (b"y", 1, 3, None, good[4]),
        (b"y", 1, 3, b"".join(good[3]), good[4]),  # a bytes object is not a list of hashes
        (b"y", 1, 3, "abc", good[4]),
        (b"y", 1, 3, [None, None], good[4]),
        (b"y", 1, 3, [1, 2], good[4]),
        (b"y", 1, 3, [b"short", b"short"], good[4]),
        (b"y", 1, 3, [good[3][0], good[3][1] + b"\x00"], good[4]),
        (b"y", 1, 3, [good[3][0]] * 100, good[4]),
        (b"y", 1, 3, good[3], None),
        (b"y", 1, 3, good[3], b""),
        (b"y", 1, 3, good[3], good[4][:-1]),
        (b"y", 1, 3, good[3], good[4] + b"\x00"),
        (b"y", 1, 3, good[3], good[4].hex()),
    ]
    for args in bad_args:
        assert verify_inclusion(*args, sha256) is False, args  # type: ignore[arg-type]


def test_bytes_like_inputs_are_accepted() -> None:
    leaves = [b"x", b"y", b"z"]
    tree = MerkleTree(leaves, sha256)
    proof = [bytearray(p) for p in tree.proof(2)]
    root = memoryview(tree.root)
    assert verify_inclusion(bytearray(b"z"), 2, 3, proof, root, sha256)  # type: ignore[arg-type]
    assert merkle_root([bytearray(x) for x in leaves], sha256) == tree.root  # type: ignore[misc]


@pytest.mark.parametrize("index", [-1, 3, 100])
def test_proof_of_missing_leaf_raises_index_error(index: int) -> None:
    leaves = [b"x", b"y", b"z"]
    with pytest.raises(IndexError):
        MerkleTree(leaves, sha256).proof(index)
    with pytest.raises(IndexError):
        inclusion_proof(leaves, index, sha256)


def test_empty_tree() -> None:
    tree = MerkleTree([], sha256)
    assert tree.root == merkle_root([], sha256) == sha256(b"")
    assert tree.size == 0
    with pytest.raises(IndexError):
        tree.proof(0)
    assert not verify_inclusion(b"", 0, 0, (), tree.root, sha256)


@pytest.mark.parametrize("name", ["sha3_256", "blake2s", "sha512", "sha224"], ids=lambda name: name)
def test_other_hash_functions(name: str) -> None:
    def h(data: bytes) -> bytes:
        return hashlib.new(name, data).digest()

    leaves = [bytes([i]) * i for i in range(11)]
    tree = MerkleTree(leaves, h)
    assert tree.root == merkle_root(leaves, h)
    assert len(tree.root) == len(h(b""))
    assert tree.root != merkle_root(leaves, sha256)
    for i in range(len(leaves)):
        proof = tree.proof(i)
        assert proof == inclusion_proof(leaves, i, h)
        assert verify_inclusion(leaves[i], i, len(leaves), proof, tree.root, h)
        # A proof made with one hash never verifies under another.
        assert not verify_inclusion(leaves[i], i, len(leaves), proof, tree.root, sha256)


def test_block_sized_tree() -> None:
    """~10,000 leaves: one build, then every proof from the level arrays."""
    leaves = [i.to_bytes(4, "big") * 8 for i in range(10_000)]
    tree = MerkleTree(leaves, sha256)
    assert tree.root == merkle_root(leaves, sha256)
    depth = (len(leaves) - 1).bit_length()
    for i, leaf in enumerate(leaves):
        proof = tree.proof(i)
        assert len(proof) <= depth
        assert verify_inclusion(leaf, i, len(leaves), proof, tree.root, sha256)
    for i in (0, 4095, 8191, 8192, 9999):
        assert tree.proof(i) == inclusion_proof(leaves, i, sha256)
