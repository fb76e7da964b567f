"""Introduction: the cryptographic suite of a chain.

A chain fixes one suite at genesis: its hash function and its signature scheme. Everything
else (types, merkle trees, identities, verification) asks the suite rather than naming an
algorithm, so the standard suite (Ed25519 + SHA-256) and the gm suite (SM2 + SM3) are
interchangeable. A suite never reads the clock or randomness except in ``generate_key``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class SuiteError(ValueError):
    """A key, signature or certificate that the suite cannot use."""


class PrivateKey(ABC):
    """A signing key; the only object in a process that holds secret material."""

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (the suite hashes internally where the scheme requires it)."""

    @abstractmethod
    def public_key(self) -> bytes:
        """The raw public key bytes, as they appear in certificates and validator sets."""

    @abstractmethod
    def to_pem(self) -> bytes:
        """PKCS#8 PEM, written with mode 0600 by the caller."""


class Suite(ABC):
    """Hash + signature scheme of a chain."""

    name: str
    hash_name: str
    signature_name: str
    hash_size: int = 32

    @abstractmethod
    def hash(self, data: bytes) -> bytes:
        """The chain hash of ``data``."""

    @abstractmethod
    def generate_key(self) -> PrivateKey:
        """A fresh key from the operating system's randomness (tooling only, never consensus)."""

    @abstractmethod
    def load_private_key(self, pem: bytes) -> PrivateKey:
        """Load a key written by ``PrivateKey.to_pem``; raises ``SuiteError``."""

    @abstractmethod
    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        """True iff ``signature`` is valid for ``data`` under ``public_key``; never raises."""


_SUITES: dict[str, Suite] = {}


def register_suite(suite: Suite) -> None:
    _SUITES[suite.name] = suite


def get_suite(name: str) -> Suite:
    """The suite called ``name``; raises ``SuiteError`` for an unknown name."""
    if not _SUITES:
        from yulian.crypto import standard  # noqa: F401  (registers itself)
    try:
        return _SUITES[name]
    except KeyError:
        raise SuiteError(f"unknown crypto suite {name!r}; known: {sorted(_SUITES)}") from None
