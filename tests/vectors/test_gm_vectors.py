"""Published SM2 / SM3 / SM4 examples, through the gm suite and an independent implementation.

The vectors live next to this file: ``gm_sm3.json`` (GB/T 32905-2016 Annex A), ``gm_sm4.json``
(GB/T 32907-2016 Annex A, RFC 8998 A.1) and ``gm_sm2.json`` (GM/T 0003.5-2012 Annex A); each
names its sources. ``gmssl`` (pure Python, PyPI) is the independent implementation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from gmssl import sm4 as gmssl_sm4

from yulian.crypto.gm import (
    GM,
    sm2_z,
    sm4_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from yulian.crypto.suite import get_suite


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((Path(__file__).with_name(name)).read_text("utf-8"))
    return doc


SM3 = _load("gm_sm3.json")
SM4 = _load("gm_sm4.json")
SM2 = _load("gm_sm2.json")


def _names(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


# --- SM3 --------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", SM3["vectors"], ids=_names(SM3["vectors"]))
def test_sm3_is_the_gm_chain_hash(vector: dict[str, str]) -> None:
    message = bytes.fromhex(vector["message"])
    assert get_suite("gm").hash(message).hex() == vector["digest"]


@pytest.mark.parametrize("vector", SM3["vectors"], ids=_names(SM3["vectors"]))
def test_sm3_independent_implementation_agrees(vector: dict[str, str]) -> None:
    message = bytes.fromhex(vector["message"])
    assert gmssl_sm3.sm3_hash(list(message)) == vector["digest"]


# --- SM4 --------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", SM4["block"], ids=_names(SM4["block"]))
def test_sm4_block_examples(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["key"])
    block = bytes.fromhex(vector["plaintext"])
    if vector["iterations"] == 1:
        assert sm4_encrypt_block(key, block).hex() == vector["ciphertext"]
        crypt = gmssl_sm4.CryptSM4(padding_mode=gmssl_sm4.PKCS7)
        crypt.set_key(key, gmssl_sm4.SM4_ENCRYPT)
        assert crypt.crypt_ecb(block)[:16].hex() == vector["ciphertext"]  # then a padding block
        return
    # A million round trips through the primitive sm4_encrypt_block wraps (SM4 of the OpenSSL
    # under ``cryptography``), with one cipher object: a fresh one per block would take minutes.
    encrypt = Cipher(algorithms.SM4(key), modes.ECB()).encryptor().update
    for _ in range(vector["iterations"]):
        block = encrypt(block)
    assert block.hex() == vector["ciphertext"]


@pytest.mark.parametrize("vector", SM4["gcm"], ids=_names(SM4["gcm"]))
def test_sm4_gcm_example(vector: dict[str, str]) -> None:
    key, nonce, aad, plaintext, ciphertext, tag = (
        bytes.fromhex(vector[k]) for k in ("key", "nonce", "aad", "plaintext", "ciphertext", "tag")
    )
    assert sm4_gcm_encrypt(key, nonce, plaintext, aad) == ciphertext + tag
    assert sm4_gcm_decrypt(key, nonce, ciphertext + tag, aad) == plaintext


# --- SM2 --------------------------------------------------------------------------------

SM2_VECTOR: dict[str, str] = SM2["vectors"][0]


def _pkcs8_pem(private_key: bytes, public_key: bytes) -> bytes:
    """A PKCS#8 PEM of an SM2 key (the layout OpenSSL writes), built from the raw values."""
    import base64

    der = (
        bytes.fromhex("308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420")
        + private_key
        + bytes.fromhex("a144034200")
        + public_key
    )
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
    ).encode()


def test_sm2_example_z_and_e() -> None:
    public_key = bytes.fromhex(SM2_VECTOR["public_key"])
    z = sm2_z(public_key, SM2_VECTOR["id"].encode())
    assert z.hex() == SM2_VECTOR["z_a"]
    e = GM.hash(z + SM2_VECTOR["message"].encode())
    assert e.hex() == SM2_VECTOR["e"]


def test_sm2_example_signature_verifies() -> None:
    public_key = bytes.fromhex(SM2_VECTOR["public_key"])
    signature = bytes.fromhex(SM2_VECTOR["signature_der"])
    message = SM2_VECTOR["message"].encode()
    assert signature[5:37].hex() == SM2_VECTOR["r"] and signature[40:].hex() == SM2_VECTOR["s"]
    assert GM.verify(public_key, message, signature)
    assert not GM.verify(public_key, message + b".", signature)


def test_sm2_example_key_loads_and_signs_verifiably() -> None:
    private_key = bytes.fromhex(SM2_VECTOR["private_key"])
    public_key = bytes.fromhex(SM2_VECTOR["public_key"])
    key = GM.load_private_key(_pkcs8_pem(private_key, public_key))
    assert key.public_key() == public_key
    message = SM2_VECTOR["message"].encode()
    assert GM.verify(public_key, message, key.sign(message))


def test_sm2_example_reproduced_by_independent_implementation() -> None:
    """gmssl, given the example's d and k, computes the published P, r and s."""
    public_key = SM2_VECTOR["public_key"]
    crypt = gmssl_sm2.CryptSM2(private_key=SM2_VECTOR["private_key"], public_key="00")
    point = crypt._kg(int(SM2_VECTOR["private_key"], 16), crypt.ecc_table["g"])
    assert "04" + point == public_key
    crypt.public_key = point  # its constructor mangles keys that start with 0 or 4 digits
    signature = crypt.sign_with_sm3(SM2_VECTOR["message"].encode(), SM2_VECTOR["k"])
    assert signature == SM2_VECTOR["r"] + SM2_VECTOR["s"]
