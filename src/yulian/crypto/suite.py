"""Introduction: the cryptographic suite of a chain.

A chain fixes one suite at genesis: its hash function and its signature scheme. Everything
else (types, merkle trees, identities, verification) asks the suite rather than naming an
algorithm, so the standard suite (Ed25519 + SHA-256) and the gm suite (SM2 + SM3) are
interchangeable. A suite never reads the clock, and reads randomness only in ``generate_key``
and, for schemes with a per-signature nonce (SM2), in ``sign``: such signatures are not
deterministic, so code compares signatures by verifying them, never by their bytes.
"""

from __future__ import annotations

import importlib
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

# The module that defines each built-in suite; importing it registers the suite.
_SUITE_MODULES = {"standard": "yulian.crypto.standard", "gm": "yulian.crypto.gm"}


def register_suite(suite: Suite) -> None:
    _SUITES[suite.name] = suite


def get_suite(name: str) -> Suite:
    """The suite called ``name``; raises ``SuiteError`` for an unknown or unavailable name.

    A built-in suite is imported on first use, so a node of a standard chain never loads the
    gm suite's libcrypto binding (and runs where it is missing).
    """
    suite = _SUITES.get(name)
    if suite is not None:
        return suite
    module = _SUITE_MODULES.get(name)
    if module is None:
        known = sorted({*_SUITES, *_SUITE_MODULES})
        raise SuiteError(f"unknown crypto suite {name!r}; known: {known}")
    try:
        importlib.import_module(module)  # registers itself
    except (OSError, ImportError) as e:
        raise SuiteError(f"crypto suite {name!r} is not available here: {e}") from None
    return _SUITES[name]
