"""Introduction: signature pre-verification, the one admission step worth a worker process.

``preverify`` is a pure function of the suite name and the envelopes, so it can run in another
process (a ``ProcessPoolExecutor``) while the node's own thread does everything else. For each
envelope it answers ``(tx id, signature)`` when the signature verifies under the public key of
the certificate the tx carries, else ``None``. It checks *nothing else* — not membership, not
validity, not the chain: the node passes each pair to ``Admission.note_verified`` and then
admits the envelope as usual, which runs every other check. The pair is enough to bind the
verification to the tx: the tx id hashes the body, and the body holds the chain id and the
certificate (see ``types/tx.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import CertificateError, parse_certificate
from yulian.types.encoding import DecodeError
from yulian.types.tx import SignedTx, tx_sign_bytes

# certificates whose public key this process has read; a worker sees the same few signers
CERT_KEY_CACHE_SIZE = 4096


def preverify(suite_name: str, datas: Sequence[bytes]) -> list[tuple[bytes, bytes] | None]:
    """Per envelope, ``(tx_id, signature)`` if it decodes and its signature verifies under the
    key in its signer certificate, else ``None``; never raises for hostile bytes. Raises
    ``SuiteError`` for an unknown ``suite_name`` (a caller's mistake, not an input's)."""
    suite = get_suite(suite_name)
    out: list[tuple[bytes, bytes] | None] = []
    for data in datas:
        try:
            signed = SignedTx.decode(data)
        except DecodeError:
            out.append(None)
            continue
        public_key = _certificate_key(signed.tx.signer)
        if public_key is not None and suite.verify(
            public_key, tx_sign_bytes(signed.tx.chain_id, signed.body), signed.signature
        ):
            out.append((suite.hash(signed.body), signed.signature))
        else:
            out.append(None)
    return out


@functools.lru_cache(maxsize=CERT_KEY_CACHE_SIZE)
def _certificate_key(cert_der: bytes) -> bytes | None:
    """The public key in a certificate (as the membership check reads it), or None."""
    try:
        return parse_certificate(cert_der).public_key
    except CertificateError:
        return None
