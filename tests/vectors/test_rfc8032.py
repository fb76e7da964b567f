"""RFC 8032 section 7.1 Ed25519 test vectors, through PyNaCl and the standard suite.

The vectors live in ``rfc8032_ed25519.json`` next to this file (published data, copied from
the RFC's section 7.1 as transcribed in public test suites; see the file's ``sources``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing
import pytest

DOC: dict[str, Any] = json.loads(
    (Path(__file__).with_name("rfc8032_ed25519.json")).read_text(encoding="utf-8")
)
VECTORS: list[dict[str, str]] = DOC["vectors"]
IDS = [v["name"] for v in VECTORS]


def _unhex(vector: dict[str, str]) -> tuple[bytes, bytes, bytes, bytes]:
    return (
        bytes.fromhex(vector["secret_key"]),
        bytes.fromhex(vector["public_key"]),
        bytes.fromhex(vector["message"]),
        bytes.fromhex(vector["signature"]),
    )


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _message_bits(message: bytes) -> list[int]:
    """Every bit of a short message; for a long one the first and last bytes and a stride."""
    nbits = len(message) * 8
    if nbits <= 512:
        return list(range(nbits))
    return sorted({*range(16), *range(nbits - 16, nbits), *range(0, nbits, 97)})


def _nacl_verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def _tampered(
    public_key: bytes, message: bytes, signature: bytes
) -> Iterator[tuple[str, bytes, bytes, bytes]]:
    """(what, public key, message, signature) with exactly one bit changed."""
    if message:
        for bit in _message_bits(message):
            yield f"message bit {bit}", public_key, _flip(message, bit), signature
    else:
        # An empty message has no bit to flip: the nearest messages instead.
        yield "message 00", public_key, b"\x00", signature
        yield "message 01", public_key, b"\x01", signature
    for bit in range(len(signature) * 8):
        yield f"signature bit {bit}", public_key, message, _flip(signature, bit)
    for bit in range(len(public_key) * 8):
        yield f"public key bit {bit}", _flip(public_key, bit), message, signature


def test_vector_file_shape() -> None:
    assert DOC["algorithm"] == "Ed25519"
    assert IDS == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    for vector in VECTORS:
        sk, pk, _msg, sig = _unhex(vector)
        assert (len(sk), len(pk), len(sig)) == (32, 32, 64)
    assert len(bytes.fromhex(VECTORS[3]["message"])) == 1023


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_pynacl_derives_public_key(vector: dict[str, str]) -> None:
    sk, pk, _msg, _sig = _unhex(vector)
    assert bytes(nacl.signing.SigningKey(sk).verify_key) == pk


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_pynacl_signs_exactly(vector: dict[str, str]) -> None:
    sk, _pk, msg, sig = _unhex(vector)
    signed = nacl.signing.SigningKey(sk).sign(msg)
    assert signed.signature == sig
    assert signed.message == msg


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_pynacl_verifies(vector: dict[str, str]) -> None:
    _sk, pk, msg, sig = _unhex(vector)
    assert nacl.signing.VerifyKey(pk).verify(msg, sig) == msg
    assert _nacl_verifies(pk, msg, sig)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_pynacl_rejects_one_bit_flips(vector: dict[str, str]) -> None:
    _sk, pk, msg, sig = _unhex(vector)
    accepted = [what for what, p, m, s in _tampered(pk, msg, sig) if _nacl_verifies(p, m, s)]
    assert accepted == []


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_standard_suite_verifies(vector: dict[str, str]) -> None:
    standard = pytest.importorskip("yulian.crypto.standard")
    _sk, pk, msg, sig = _unhex(vector)
    assert standard.STANDARD.verify(pk, msg, sig) is True


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_standard_suite_rejects_one_bit_flips(vector: dict[str, str]) -> None:
    standard = pytest.importorskip("yulian.crypto.standard")
    _sk, pk, msg, sig = _unhex(vector)
    accepted = [
        what for what, p, m, s in _tampered(pk, msg, sig) if standard.STANDARD.verify(p, m, s)
    ]
    assert accepted == []


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_standard_suite_rejects_truncated_and_extended(vector: dict[str, str]) -> None:
    standard = pytest.importorskip("yulian.crypto.standard")
    _sk, pk, msg, sig = _unhex(vector)
    assert standard.STANDARD.verify(pk, msg, sig[:-1]) is False
    assert standard.STANDARD.verify(pk, msg, sig + b"\x00") is False
    assert standard.STANDARD.verify(pk[:-1], msg, sig) is False
    assert standard.STANDARD.verify(pk, msg + b"\x00", sig) is False


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_standard_suite_key_signs_exactly(vector: dict[str, str]) -> None:
    standard = pytest.importorskip("yulian.crypto.standard")
    if not hasattr(standard, "Ed25519PrivateKey"):
        pytest.skip("yulian.crypto.standard has no Ed25519PrivateKey")
    sk, pk, msg, sig = _unhex(vector)
    key = standard.Ed25519PrivateKey(sk)
    assert key.public_key() == pk
    assert key.sign(msg) == sig
