"""RFC 6962 / RFC 9162 Merkle tree: the published Certificate Transparency test vectors.

The data (leaves, tree heads, subtree hashes, inclusion proofs) lives in
``rfc6962_merkle.json`` next to this file, copied from transparency-dev/merkle; nothing here
is computed by our own code and then compared with itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from yulian.crypto.merkle import MerkleTree, inclusion_proof, merkle_root, verify_inclusion

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).with_name("rfc6962_merkle.json")).read_text(encoding="utf-8")
)
LEAVES: list[bytes] = [bytes.fromhex(h) for h in VECTORS["leaves"]]
ROOTS: list[bytes] = [bytes.fromhex(h) for h in VECTORS["roots_by_size"]]
NODES: list[list[bytes]] = [[bytes.fromhex(h) for h in lvl] for lvl in VECTORS["node_hashes"]]
PROOFS: list[tuple[int, int, tuple[bytes, ...]]] = [
    (p["leaf_index"], p["tree_size"], tuple(bytes.fromhex(h) for h in p["proof"]))
    for p in VECTORS["inclusion_proofs"]
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _proof_id(p: tuple[int, int, tuple[bytes, ...]]) -> str:
    return f"leaf{p[0]}-of-{p[1]}"


def test_vector_file_shape() -> None:
    assert VECTORS["hash"] == "sha256"
    assert len(LEAVES) == 8
    assert len(ROOTS) == 9
    assert [len(level) for level in NODES] == [8, 4, 2, 1]
    assert all(len(h) == 32 for h in ROOTS)
    assert len(PROOFS) >= 5


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert merkle_root([], sha256) == ROOTS[0] == sha256(b"")
    assert MerkleTree([], sha256).root == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_root_for_each_tree_size(size: int) -> None:
    assert merkle_root(LEAVES[:size], sha256) == ROOTS[size]
    assert MerkleTree(LEAVES[:size], sha256).root == ROOTS[size]


@pytest.mark.parametrize("index", range(8))
def test_leaf_hash_uses_0x00_prefix(index: int) -> None:
    assert MerkleTree(LEAVES, sha256).leaf_hash(index) == NODES[0][index]
    # A one-leaf tree's root is its leaf hash.
    assert merkle_root([LEAVES[index]], sha256) == NODES[0][index]


@pytest.mark.parametrize(
    ("level", "position"),
    [(lvl, i) for lvl in range(1, 4) for i in range(8 >> lvl)],
)
def test_complete_subtree_hashes(level: int, position: int) -> None:
    width = 1 << level
    subtree = LEAVES[position * width : (position + 1) * width]
    assert merkle_root(subtree, sha256) == NODES[level][position]


@pytest.mark.parametrize("vector", PROOFS, ids=_proof_id)
def test_published_inclusion_proof_is_generated(vector: tuple[int, int, tuple[bytes, ...]]) -> None:
    index, size, proof = vector
    assert inclusion_proof(LEAVES[:size], index, sha256) == proof
    assert MerkleTree(LEAVES[:size], sha256).proof(index) == proof


@pytest.mark.parametrize("vector", PROOFS, ids=_proof_id)
def test_published_inclusion_proof_verifies(vector: tuple[int, int, tuple[bytes, ...]]) -> None:
    index, size, proof = vector
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size], sha256)


def _corruptions(
    index: int, size: int, proof: tuple[bytes, ...], leaf: bytes, root: bytes
) -> list[tuple[str, bytes, int, int, tuple[bytes, ...], bytes]]:
    """The probes of transparency-dev/merkle's corruptInclusionProof, plus a few more."""
    probes: list[tuple[str, bytes, int, int, tuple[bytes, ...], bytes]] = [
        ("index - 1", leaf, index - 1, size, proof, root),
        ("index + 1", leaf, index + 1, size, proof, root),
        ("index ^ 2", leaf, index ^ 2, size, proof, root),
        ("index = size", leaf, size, size, proof, root),
        ("size * 2", leaf, index, size * 2, proof, root),
        ("size // 2", leaf, index, size // 2, proof, root),
        ("size 0", leaf, index, 0, proof, root),
        ("wrong leaf", b"WrongLeaf", index, size, proof, root),
        ("empty root", leaf, index, size, proof, ROOTS[0]),
        ("random root", leaf, index, size, proof, SOME_HASH),
        ("trailing garbage", leaf, index, size, (*proof, b""), root),
        ("trailing root", leaf, index, size, (*proof, root), root),
        ("preceding garbage", leaf, index, size, (b"", *proof), root),
        ("preceding root", leaf, index, size, (root, *proof), root),
    ]
    for i in range(len(proof)):
        for bit in (0, 3, 255):
            mutated = bytearray(proof[i])
            mutated[bit // 8] ^= 0x80 >> (bit % 8)
            wrong = (*proof[:i], bytes(mutated), *proof[i + 1 :])
            probes.append((f"proof[{i}] bit {bit}", leaf, index, size, wrong, root))
    if proof:
        probes.append(("removed last component", leaf, index, size, proof[:-1], root))
        probes.append(("removed first component", leaf, index, size, proof[1:], root))
    if len(proof) > 1:
        inserted = (proof[0], SOME_HASH, *proof[1:])
        probes.append(("inserted component", leaf, index, size, inserted, root))
        probes.append(("reversed path", leaf, index, size, tuple(reversed(proof)), root))
    return probes


_CORRUPTION_CASES = [
    pytest.param(probe, id=f"{_proof_id(vector)}:{probe[0]}")
    for vector in PROOFS
    for probe in _corruptions(vector[0], vector[1], vector[2], LEAVES[vector[0]], ROOTS[vector[1]])
]


@pytest.mark.parametrize("probe", _CORRUPTION_CASES)
def test_corrupted_published_proof_is_rejected(
    probe: tuple[str, bytes, int, int, tuple[bytes, ...], bytes],
) -> None:
    _desc, leaf, index, size, proof, root = probe
    assert verify_inclusion(leaf, index, size, proof, root, sha256) is False


@pytest.mark.parametrize("size", range(1, 9))
def test_every_generated_proof_verifies_against_the_published_root(size: int) -> None:
    tree = MerkleTree(LEAVES[:size], sha256)
    for index in range(size):
        proof = tree.proof(index)
        assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size], sha256)
        # ... and against no other published tree head.
        for other in range(1, 9):
            if other != size:
                assert not verify_inclusion(LEAVES[index], index, size, proof, ROOTS[other], sha256)


def test_single_entry_tree() -> None:
    # The root of a one-leaf tree is its leaf hash and the proof is empty.
    assert verify_inclusion(LEAVES[0], 0, 1, (), ROOTS[1], sha256)
    assert not verify_inclusion(LEAVES[0], 0, 1, (), b"", sha256)
    assert not verify_inclusion(LEAVES[1], 0, 1, (), ROOTS[1], sha256)
    assert not verify_inclusion(LEAVES[0], 0, 1, (ROOTS[1],), ROOTS[1], sha256)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_trivial_probes_with_empty_proof_fail(index: int, size: int) -> None:
    # From transparency-dev/merkle TestVerifyInclusion: none of these is a valid statement.
    assert not verify_inclusion(b"data", index, size, (), b"", sha256)
    assert not verify_inclusion(b"", index, size, (), ROOTS[0], sha256)
    assert not verify_inclusion(b"data", index, size, (), ROOTS[0], sha256)


def test_standard_suite_hash_gives_the_same_roots() -> None:
    standard = pytest.importorskip("yulian.crypto.standard")
    for size in range(9):
        assert merkle_root(LEAVES[:size], standard.STANDARD.hash) == ROOTS[size]
    for index, size, proof in PROOFS:
        assert verify_inclusion(
            LEAVES[index], index, size, proof, ROOTS[size], standard.STANDARD.hash
        )
