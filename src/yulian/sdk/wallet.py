"""Introduction: a wallet — one identity's private key and X.509 certificate.

It builds and signs transactions; the private key never leaves it. A wallet loads from key and
certificate files, or by organisation and name from a directory written by ``network init``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import parse_certificate, pem_to_der
from yulian.pki.layout import find_credential, load_genesis
from yulian.types.encoding import to_canonical
from yulian.types.tx import SignedTx, Tx


class Wallet:
    def __init__(self, suite: Suite, key: PrivateKey, cert_der: bytes) -> None:
        info = parse_certificate(cert_der)
        if info.public_key != key.public_key():
            raise ValueError("the key does not match the certificate")
        self.suite = suite
        self.key = key
        self.cert = cert_der
        self.org = info.org
        self.role = info.role
        self.name = info.name
        self.id = suite.hash(cert_der).hex()

    @classmethod
    def from_files(
        cls, key_path: str | Path, cert_path: str | Path, suite: str = "standard"
    ) -> Wallet:
        s = get_suite(suite)
        key = s.load_private_key(Path(key_path).read_bytes())
        cert = Path(cert_path).read_bytes()
        return cls(s, key, pem_to_der(cert) if cert.lstrip().startswith(b"-----") else cert)

    @classmethod
    def from_network(
        cls, network_dir: str | Path, org: str = "org1", name: str = "client1"
    ) -> Wallet:
        """Load ``name`` (``client<k>``, ``admin`` or any member ``yulian ca issue`` made) of
        ``org`` from a network directory; organisations added by ``yulian org create`` too."""
        genesis = load_genesis(network_dir)
        cred = find_credential(network_dir, org, name)
        return cls.from_files(cred.key, cred.cert, genesis.suite)

    def sign_tx(
        self,
        chain_id: str,
        contract: str,
        method: str,
        args: Sequence[Any],
        *,
        expires_at: int,
        nonce: int | None = None,
    ) -> SignedTx:
        tx = Tx(
            chain_id=chain_id,
            contract=contract,
            method=method,
            args=tuple(to_canonical(list(args))),
            signer=self.cert,
            nonce=secrets.randbits(63) if nonce is None else nonce,
            expires_at=expires_at,
        )
        return SignedTx.create(tx, self.key.sign)
