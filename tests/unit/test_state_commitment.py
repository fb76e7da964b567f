"""The state commitment: LtHash16 over the suite's hash, and the state root built on it.

What is proven here: the XOF is exactly SHAKE128 over the domain and ``H(e)`` in the standard
suite (checked against pycryptodomex's own Keccak, which ``gmssl`` brings in) and HMAC-SM3 in
counter mode in the gm suite (checked against the independent pure-Python SM3 of ``gmssl``);
the hash of a set does not depend on order, adding then removing is the identity and the hash
of a union is the sum of the parts' hashes; the root moved block by block equals the root
recomputed from all the state's versions, also when a key's history window overflows; and the
vectors are pinned (a change is a consensus change).
"""

from __future__ import annotations

import hashlib
import random
import struct

import pytest
from Cryptodome.Hash import SHAKE128
from gmssl import func, sm3

from yulian.contracts.host import MAX_HISTORY
from yulian.crypto.lthash import (
    EMPTY_SUM,
    SUM_BYTES,
    XOF_DOMAIN,
    XOF_KEY,
    add_sums,
    element_vector,
    lthash,
)
from yulian.crypto.suite import get_suite
from yulian.execution.roots import (
    EMPTY_STATE_SUM,
    history_window,
    state_root,
    state_sum_after,
    state_sum_of,
    version_entry,
)
from yulian.execution.system.consortium import CONFIG_KEY

SUITES = ("standard", "gm")


def _gmssl_sm3(data: bytes) -> bytes:
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def _hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) over gmssl's SM3 (64-byte blocks), written out."""
    block = key.ljust(64, b"\x00")
    inner = _gmssl_sm3(bytes(b ^ 0x36 for b in block) + message)
    return _gmssl_sm3(bytes(b ^ 0x5C for b in block) + inner)


def _shake128(data: bytes, size: int) -> bytes:
    """SHAKE128 (FIPS 202) by pycryptodomex, not by the OpenSSL that ``hashlib`` calls."""
    return bytes(SHAKE128.new(data).read(size))


def test_the_standard_xof_is_shake128_by_an_independent_keccak() -> None:
    suite = get_suite("standard")
    element = b"an element"
    seed = hashlib.sha256(element).digest()
    expected = _shake128(XOF_DOMAIN + seed, SUM_BYTES)
    assert element_vector(suite, element) == expected


def test_the_gm_xof_is_hmac_sm3_in_counter_mode_by_an_independent_sm3() -> None:
    suite = get_suite("gm")
    element = b"\xe6\xb8\x9d\xe9\x93\xbe element"
    seed = _gmssl_sm3(element)
    expected = b"".join(
        _hmac_sm3(XOF_KEY, seed + i.to_bytes(4, "big")) for i in range(1, SUM_BYTES // 32 + 1)
    )
    assert element_vector(suite, element) == expected


@pytest.mark.parametrize("name", SUITES)
def test_lthash_is_a_set_hash_that_adds_and_removes(name: str) -> None:
    suite = get_suite(name)
    rng = random.Random(7)
    elements = [rng.randbytes(rng.randrange(0, 40)) for _ in range(300)]
    whole = lthash(suite, added=elements)
    assert len(whole) == SUM_BYTES
    shuffled = elements[:]
    rng.shuffle(shuffled)
    assert lthash(suite, added=shuffled) == whole, "order does not matter"
    assert lthash(suite, whole, removed=elements) == EMPTY_SUM, "removing undoes adding"
    parts = [elements[:100], elements[100:101], elements[101:]]
    assert add_sums(lthash(suite, added=p) for p in parts) == whole, "a union adds up"
    assert lthash(suite, added=elements[:-1]) != whole
    assert lthash(suite, added=[*elements, elements[0]]) != whole, "a multiset counts repeats"
    other = get_suite("gm" if name == "standard" else "standard")
    assert lthash(other, added=elements) != whole, "the suites hash differently"


def test_lthash_refuses_a_sum_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="2048 bytes"):
        lthash(get_suite("standard"), b"\x00" * 10)
    with pytest.raises(ValueError, match="2048 bytes"):
        add_sums([b"\x00" * 2047])


# Pinned: the root of a fixed state in each suite. A change here is a consensus change.
PINNED_ROOTS = {
    "standard": "d9188f47727ed402c2cc996a108ca707a6b622bc95ad1dd8d365ac6cb6054c2b",
    "gm": "748e0a4255f70ebd77df2ea60ff52244808826419a472f73661d3ac8e579a764",
}


def _fixed_state() -> list[tuple[bytes, int, bytes | None]]:
    return [
        (b"evidence\x00d1", 1, b"\x91\x01"),
        (b"evidence\x00d1", 2, None),
        (b"evidence\x00d2", 2, b"value"),
        (CONFIG_KEY, 1, b"config"),
    ]


def _reference_lthash(name: str, elements: list[bytes]) -> bytes:
    """LtHash16 written out with plain ints, from the independent XOFs above."""
    lanes = [0] * (SUM_BYTES // 2)
    for element in elements:
        if name == "standard":
            vector_bytes = _shake128(XOF_DOMAIN + hashlib.sha256(element).digest(), SUM_BYTES)
        else:
            seed = _gmssl_sm3(element)
            blocks = [_hmac_sm3(XOF_KEY, seed + i.to_bytes(4, "big")) for i in range(1, 65)]
            vector_bytes = b"".join(blocks)
        vector = struct.unpack("<1024H", vector_bytes)
        lanes = [(a + b) % 65536 for a, b in zip(lanes, vector, strict=True)]
    return struct.pack("<1024H", *lanes)


@pytest.mark.parametrize("name", SUITES)
def test_state_roots_are_pinned(name: str) -> None:
    suite = get_suite(name)
    state_sum = state_sum_of(suite, _fixed_state())
    entries = [version_entry(*v) for v in _fixed_state()]
    assert state_sum == _reference_lthash(name, entries)
    root = state_root(suite, state_sum)
    assert root.hex() == PINNED_ROOTS[name]
    assert state_root(suite, EMPTY_STATE_SUM) != root


def test_version_entries_are_unambiguous() -> None:
    assert version_entry(b"ab", 1, b"c") != version_entry(b"a", 1, b"bc")
    assert version_entry(b"a", 1, None) != version_entry(b"a", 1, b"")
    assert version_entry(b"a", 1, b"") != version_entry(b"a", 256, b"")
    assert history_window(CONFIG_KEY) > history_window(b"c\x00k") == MAX_HISTORY


class VersionedView:
    """Each key's versions, oldest first: what the ledger's history holds."""

    def __init__(self) -> None:
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return list(reversed(self.versions.get(key, [])))[:limit]

    def apply(self, height: int, writes: list[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            self.versions.setdefault(key, []).append((height, value))

    def window_versions(self) -> list[tuple[bytes, int, bytes | None]]:
        return [
            (key, h, v)
            for key, versions in self.versions.items()
            for h, v in versions[-history_window(key) :]
        ]


@pytest.mark.parametrize("name", SUITES)
def test_the_sum_moved_by_blocks_is_the_sum_of_the_state(name: str) -> None:
    """Keys written more often than their window (one hot key, the config key, fresh keys,
    deletes): the incremental sum always equals the sum over the versions in every window."""
    suite = get_suite(name)
    rng = random.Random(name)
    view = VersionedView()
    state_sum = EMPTY_STATE_SUM
    hot = b"c\x00hot"
    for height in range(1, MAX_HISTORY + 12):
        keys = {hot, CONFIG_KEY, *(b"c\x00k%d" % rng.randrange(30) for _ in range(3))}
        writes = sorted(
            (key, None if rng.random() < 0.2 else rng.randbytes(rng.randrange(0, 20)))
            for key in keys
        )
        state_sum = state_sum_after(suite, state_sum, view, height, writes)
        view.apply(height, writes)
        if height % 16 == 0 or height > MAX_HISTORY:
            assert state_sum == state_sum_of(suite, view.window_versions()), height
    assert len(view.versions[hot]) > MAX_HISTORY  # the hot key's window overflowed
    assert len(view.versions[CONFIG_KEY]) > MAX_HISTORY  # ... and the config key's did not
    assert state_sum_after(suite, state_sum, view, 999, []) == state_sum, "no writes, no change"
