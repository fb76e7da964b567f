"""Authenticated encryption per suite: SM4-GCM (gm) and AES-256-GCM (standard).

Both seal to ``nonce || ciphertext || tag``; opening with another key or associated data, or
after any single-bit change, raises ``DecryptionError`` and yields nothing.
"""

from __future__ import annotations

import pytest

from yulian.crypto import gm
from yulian.crypto.aead import AES_256_GCM, Aead, DecryptionError, suite_aead
from yulian.crypto.suite import SuiteError

AEADS = [suite_aead("gm"), suite_aead("standard")]
IDS = [a.name for a in AEADS]
PLAINTEXT = b"patient 42: blood type AB-"
AAD = b"contract=records;key=patient/42"


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_suite_aead_names() -> None:
    assert (suite_aead("gm").name, suite_aead("gm").key_size) == ("sm4-gcm", 16)
    assert suite_aead("standard") is AES_256_GCM
    assert (AES_256_GCM.name, AES_256_GCM.key_size) == ("aes-256-gcm", 32)
    with pytest.raises(SuiteError):
        suite_aead("rot13")


def test_gm_module_functions_are_the_gm_aead() -> None:
    key = suite_aead("gm").generate_key()
    assert suite_aead("gm").decrypt(key, gm.encrypt(key, PLAINTEXT, AAD), AAD) == PLAINTEXT
    assert gm.decrypt(key, suite_aead("gm").encrypt(key, PLAINTEXT, AAD), AAD) == PLAINTEXT


@pytest.mark.parametrize("aead", AEADS, ids=IDS)
def test_round_trip(aead: Aead) -> None:
    key = aead.generate_key()
    assert len(key) == aead.key_size
    for plaintext in (b"", b"x", PLAINTEXT, bytes(range(256)) * 300):
        for aad in (b"", AAD):
            sealed = aead.encrypt(key, plaintext, aad)
            assert len(sealed) == len(plaintext) + aead.overhead
            assert aead.decrypt(key, sealed, aad) == plaintext


@pytest.mark.parametrize("aead", AEADS, ids=IDS)
def test_nonces_are_fresh(aead: Aead) -> None:
    key = aead.generate_key()
    sealed = {aead.encrypt(key, PLAINTEXT, AAD) for _ in range(50)}
    assert len({s[:12] for s in sealed}) == 50


@pytest.mark.parametrize("aead", AEADS, ids=IDS)
def test_every_single_bit_flip_is_refused(aead: Aead) -> None:
    key = aead.generate_key()
    sealed = aead.encrypt(key, PLAINTEXT, AAD)
    for bit in range(len(sealed) * 8):
        with pytest.raises(DecryptionError):
            aead.decrypt(key, _flip(sealed, bit), AAD)
    for bit in range(len(AAD) * 8):
        with pytest.raises(DecryptionError):
            aead.decrypt(key, sealed, _flip(AAD, bit))
    for bit in range(0, len(key) * 8, 7):
        with pytest.raises(DecryptionError):
            aead.decrypt(_flip(key, bit), sealed, AAD)


@pytest.mark.parametrize("aead", AEADS, ids=IDS)
def test_truncated_or_extended_is_refused(aead: Aead) -> None:
    key = aead.generate_key()
    sealed = aead.encrypt(key, PLAINTEXT, AAD)
    for bad in (b"", sealed[:27], sealed[:-1], sealed + b"\x00", sealed[12:]):
        with pytest.raises(DecryptionError):
            aead.decrypt(key, bad, AAD)
    with pytest.raises(DecryptionError):
        aead.decrypt(key, sealed, b"")


@pytest.mark.parametrize("aead", AEADS, ids=IDS)
def test_wrong_key_sizes_are_refused(aead: Aead) -> None:
    for key in (b"", bytes(aead.key_size - 1), bytes(aead.key_size + 1)):
        with pytest.raises(SuiteError):
            aead.encrypt(key, PLAINTEXT, AAD)
        with pytest.raises(SuiteError):
            aead.decrypt(key, bytes(64), AAD)


def test_suites_do_not_open_each_other() -> None:
    sm4, aes = suite_aead("gm"), suite_aead("standard")
    sealed = sm4.encrypt(bytes(16), PLAINTEXT, AAD)
    with pytest.raises(SuiteError):
        aes.decrypt(bytes(16), sealed, AAD)  # wrong key size for AES-256
    with pytest.raises(DecryptionError):
        aes.decrypt(bytes(32), sealed, AAD)
