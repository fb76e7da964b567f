"""Introduction: authenticated encryption of private data, chosen by the chain's suite.

``suite_aead(suite_name)`` is the one entry point for code that encrypts (private data,
sealed payloads): AES-256-GCM for the standard suite, SM4-GCM (RFC 8998, in
``yulian.crypto.gm``) for the gm suite. Both seal to the same layout::

    nonce (12 bytes, random) || ciphertext (len(plaintext) bytes) || tag (16 bytes)

and both bind the associated data ``aad`` (e.g. the contract and key the data belongs to) into
the tag: decrypting with another key, another ``aad`` or after any change to the sealed bytes
raises ``DecryptionError`` and returns nothing. Nonces are random, which is safe for up to 2**32
messages under one key (NIST SP 800-38D §8.3); rotate keys well before that. Like
``Suite.generate_key``, encrypting reads the operating system's randomness (the nonce): it is for
clients and tooling, never a consensus step (decrypting is deterministic).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yulian.crypto.suite import SuiteError

__all__ = [
    "AES_256_GCM",
    "Aead",
    "DecryptionError",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "suite_aead",
]

NONCE_SIZE = 12
TAG_SIZE = 16
AES_KEY_SIZE = 32
MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024


class DecryptionError(SuiteError):
    """Sealed data that does not open under this key and associated data."""


@dataclass(frozen=True)
class Aead:
    """One AEAD: ``encrypt(key, plaintext, aad)`` seals, ``decrypt(key, sealed, aad)`` opens."""

    name: str
    key_size: int
    seal: Callable[[bytes, bytes, bytes], bytes]
    open: Callable[[bytes, bytes, bytes], bytes]
    overhead: int = NONCE_SIZE + TAG_SIZE  # sealed size minus plaintext size

    def generate_key(self) -> bytes:
        """A fresh key from the operating system's randomness."""
        return secrets.token_bytes(self.key_size)

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        return self.seal(key, plaintext, aad)

    def decrypt(self, key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
        """Raises ``DecryptionError`` unless ``sealed`` came from ``encrypt`` with this key/aad."""
        return self.open(key, sealed, aad)


def aes_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """``nonce || ciphertext || tag`` under AES-256-GCM with a fresh random 96-bit nonce."""
    _check_aes_key(key)
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise SuiteError(f"plaintext longer than {MAX_PLAINTEXT_BYTES} bytes")
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_decrypt(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """The plaintext of ``aes_gcm_encrypt``; raises ``DecryptionError`` for any mismatch."""
    _check_aes_key(key)
    if not NONCE_SIZE + TAG_SIZE <= len(sealed) <= MAX_PLAINTEXT_BYTES + NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("sealed AES-GCM data of impossible length")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], aad)
    except InvalidTag:
        raise DecryptionError("AES-GCM authentication failed") from None


def _check_aes_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != AES_KEY_SIZE:
        raise SuiteError(f"an AES-256-GCM key is {AES_KEY_SIZE} bytes")


AES_256_GCM = Aead("aes-256-gcm", AES_KEY_SIZE, aes_gcm_encrypt, aes_gcm_decrypt)


def suite_aead(suite_name: str) -> Aead:
    """The AEAD of the suite called ``suite_name``; raises ``SuiteError`` for an unknown one."""
    if suite_name == "standard":
        return AES_256_GCM
    if suite_name == "gm":
        from yulian.crypto import gm

        return gm.SM4_GCM
    raise SuiteError(f"no AEAD for crypto suite {suite_name!r}")
