"""Introduction: the standard suite — Ed25519 (libsodium via PyNaCl) and SHA-256.

PyNaCl is used on the hot path (signing, verifying) because it is about twice as fast here as
the alternatives; ``cryptography`` is used only to read and write PEM and X.509.
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from yulian.crypto.suite import PrivateKey, Suite, SuiteError, register_suite

ED25519_PUBLIC_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64


class Ed25519PrivateKey(PrivateKey):
    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise SuiteError("an Ed25519 seed is 32 bytes")
        self._signing_key = nacl.signing.SigningKey(seed)
        self._seed = seed

    def sign(self, data: bytes) -> bytes:
        return self._signing_key.sign(data).signature

    def public_key(self) -> bytes:
        return bytes(self._signing_key.verify_key)

    def crypto_key(self) -> ed25519.Ed25519PrivateKey:
        """The same key as a ``cryptography`` object, for building certificates."""
        return ed25519.Ed25519PrivateKey.from_private_bytes(self._seed)

    def to_pem(self) -> bytes:
        return self.crypto_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


class StandardSuite(Suite):
    name = "standard"
    hash_name = "sha256"
    signature_name = "ed25519"
    hash_size = 32

    def hash(self, data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    def generate_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey(bytes(nacl.signing.SigningKey.generate()))

    def load_private_key(self, pem: bytes) -> Ed25519PrivateKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as e:
            raise SuiteError(f"cannot load private key: {e}") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SuiteError("the standard suite needs an Ed25519 private key")
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return Ed25519PrivateKey(seed)

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        if len(public_key) != ED25519_PUBLIC_KEY_SIZE or len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            # the binding ``VerifyKey.verify`` ends in, without building a key object per call
            nacl.bindings.crypto_sign_open(signature + data, public_key)
        except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
            return False
        return True


STANDARD = StandardSuite()
register_suite(STANDARD)
