"""SM2 verification with precomputed tables: the same answers as without, keys never confused.

``GmSuite.verify`` checks ``[s]G + [t]P`` with a table of multiples of ``G`` and, for a key
verified ``PRECOMPUTE_AFTER_USES`` times, one of ``P``. These tests hold the tabled path to the
plain one (``precomputed_keys=0``), on the published vector, every bit flip and the edge cases
of the equation (``t = 0``, the point at infinity), and check that the tables stay bounded.
"""

from __future__ import annotations

import ctypes
import json
import threading
from pathlib import Path

import pytest

from yulian.crypto.gm import GM, PRECOMPUTE_AFTER_USES, GmSuite

N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
VECTOR = json.loads((Path(__file__).parents[1] / "vectors" / "gm_sm2.json").read_text())["vectors"][
    0
]
MESSAGE = b"yulian: a vote to sign"


def _hot(suite: GmSuite, public_key: bytes, message: bytes, signature: bytes) -> None:
    """Verify until the key has its table (each of those verifications must succeed)."""
    for _ in range(PRECOMPUTE_AFTER_USES):
        assert suite.verify(public_key, message, signature)
    assert suite._verifiers.get(public_key, use=False).table is not None  # type: ignore[union-attr]


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return bytes((0x02, len(body))) + body

    content = integer(r) + integer(s)
    return bytes((0x30, len(content))) + content


def test_published_vector_verifies_with_and_without_a_table() -> None:
    public_key = bytes.fromhex(VECTOR["public_key"])
    message = VECTOR["message"].encode()
    signature = bytes.fromhex(VECTOR["signature_der"])
    plain, tabled = GmSuite(precomputed_keys=0), GmSuite()
    assert plain.verify(public_key, message, signature)
    _hot(tabled, public_key, message, signature)
    assert tabled.verify(public_key, message, signature)
    assert not tabled.verify(public_key, message + b"!", signature)
    assert plain._verifiers.tables() == 0 and tabled._verifiers.tables() == 1


def test_tabled_and_plain_verification_agree_on_every_bit_flip() -> None:
    key = GM.generate_key()
    public_key, signature = key.public_key(), key.sign(MESSAGE)
    plain, tabled = GmSuite(precomputed_keys=0), GmSuite()
    _hot(tabled, public_key, MESSAGE, signature)
    for bit in range(len(MESSAGE) * 8):
        changed = _flip(MESSAGE, bit)
        assert not tabled.verify(public_key, changed, signature), f"message bit {bit}"
        assert not plain.verify(public_key, changed, signature), f"message bit {bit}"
    for bit in range(len(signature) * 8):
        changed = _flip(signature, bit)
        assert not tabled.verify(public_key, MESSAGE, changed), f"signature bit {bit}"
        assert not plain.verify(public_key, MESSAGE, changed), f"signature bit {bit}"
    assert tabled.verify(public_key, MESSAGE, signature)
    assert plain.verify(public_key, MESSAGE, signature)


def test_a_cached_key_never_lends_itself_to_another_keys_signature() -> None:
    a, b = GM.generate_key(), GM.generate_key()
    sig_a, sig_b = a.sign(MESSAGE), b.sign(MESSAGE)
    suite = GmSuite()
    _hot(suite, a.public_key(), MESSAGE, sig_a)
    assert not suite.verify(b.public_key(), MESSAGE, sig_a)  # b: first sight, no table
    for _ in range(PRECOMPUTE_AFTER_USES + 1):  # b gets its table too
        assert not suite.verify(b.public_key(), MESSAGE, sig_a)
        assert not suite.verify(a.public_key(), MESSAGE, sig_b)
        assert suite.verify(b.public_key(), MESSAGE, sig_b)
        assert suite.verify(a.public_key(), MESSAGE, sig_a)
    assert suite._verifiers.tables() == 2


def test_tables_are_bounded_and_answers_survive_eviction() -> None:
    keys = [GM.generate_key() for _ in range(5)]
    signed = [(k.public_key(), k.sign(MESSAGE)) for k in keys]
    suite = GmSuite(verifier_cache_size=4, precomputed_keys=2)
    for _ in range(3 * PRECOMPUTE_AFTER_USES):
        for public_key, sig in signed:
            assert suite.verify(public_key, MESSAGE, sig)
            assert not suite.verify(public_key, MESSAGE + b"!", sig)
            assert suite._verifiers.tables() <= 2
            assert len(suite._verifiers) <= 4
    hot = GmSuite(precomputed_keys=2)
    for public_key, sig in signed[:3]:
        _hot(hot, public_key, MESSAGE, sig)
    assert hot._verifiers.tables() == 2
    assert hot._verifiers.get(signed[0][0], use=False).table is None  # type: ignore[union-attr]
    for public_key, sig in signed[:3]:
        assert hot.verify(public_key, MESSAGE, sig)
    with pytest.raises(ValueError):
        GmSuite(precomputed_keys=-1)


def test_r_plus_s_equal_to_n_is_refused() -> None:
    public_key = bytes.fromhex(VECTOR["public_key"])
    message = VECTOR["message"].encode()
    r = int(VECTOR["r"], 16)
    signature = _der(r, N - r)  # t = (r + s) mod n = 0 (GB/T 32918.2 §7.1 B5)
    plain, tabled = GmSuite(precomputed_keys=0), GmSuite()
    _hot(tabled, public_key, message, bytes.fromhex(VECTOR["signature_der"]))
    assert not plain.verify(public_key, message, signature)
    assert not tabled.verify(public_key, message, signature)


def test_a_sum_at_infinity_is_refused_without_an_error_left_behind() -> None:
    # [s]G + [t]P = [s + t*d]G is the point at infinity when s*(1 + d) = -r*d (mod n).
    d = int(VECTOR["private_key"], 16)
    public_key = bytes.fromhex(VECTOR["public_key"])
    message = VECTOR["message"].encode()
    r = 0x1234567
    s = (-r * d * pow(1 + d, -1, N)) % N
    assert (s + (r + s) * d) % N == 0
    signature = _der(r, s)
    lib = ctypes.CDLL("libcrypto.so.3")
    lib.ERR_peek_error.restype = ctypes.c_ulong
    plain, tabled = GmSuite(precomputed_keys=0), GmSuite()
    _hot(tabled, public_key, message, bytes.fromhex(VECTOR["signature_der"]))
    assert not plain.verify(public_key, message, signature)
    assert not tabled.verify(public_key, message, signature)
    assert lib.ERR_peek_error() == 0


def test_threads_build_and_share_tables() -> None:
    keys = [GM.generate_key() for _ in range(3)]
    signed = [(k.public_key(), k.sign(MESSAGE)) for k in keys]
    suite = GmSuite()
    failures: list[str] = []

    def work(i: int) -> None:
        for j in range(30):
            public_key, sig = signed[(i + j) % len(signed)]
            if not suite.verify(public_key, MESSAGE, sig):
                failures.append(f"{i}:{j} did not verify")
            other_key = signed[(i + j + 1) % len(signed)][0]
            if suite.verify(other_key, MESSAGE, sig):
                failures.append(f"{i}:{j} verified under another key")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert suite._verifiers.tables() == 3
