"""Introduction: the transaction proof bundle — everything needed to verify a tx offline.

A bundle carries raw bytes only: the signed tx envelope, its encoded receipt, their index in
the block, the two Merkle audit paths (tx_root and result_root), the encoded header and the
encoded commit certificate. With the genesis (organisation roots, validators, suite) anyone
can check it without trusting the node that served it. The JSON form uses base64 for byte
strings; the JSON is a transport, never what is hashed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

BUNDLE_VERSION = 1


class BundleError(ValueError):
    """A proof bundle whose JSON form is malformed."""


@dataclass(frozen=True)
class TxProofBundle:
    chain_id: str
    envelope: bytes
    receipt: bytes
    index: int
    tree_size: int
    tx_path: tuple[bytes, ...]
    receipt_path: tuple[bytes, ...]
    header: bytes
    commit: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "version": BUNDLE_VERSION,
            "chain_id": self.chain_id,
            "envelope": _b64(self.envelope),
            "receipt": _b64(self.receipt),
            "index": self.index,
            "tree_size": self.tree_size,
            "tx_path": [p.hex() for p in self.tx_path],
            "receipt_path": [p.hex() for p in self.receipt_path],
            "header": _b64(self.header),
            "commit": _b64(self.commit),
        }

    @classmethod
    def from_json(cls, doc: Any) -> TxProofBundle:
        try:
            if doc["version"] != BUNDLE_VERSION:
                raise BundleError(f"unsupported proof version {doc['version']!r}")
            index, size = doc["index"], doc["tree_size"]
            if not isinstance(index, int) or not isinstance(size, int):
                raise BundleError("index and tree_size must be integers")
            return cls(
                chain_id=str(doc["chain_id"]),
                envelope=_unb64(doc["envelope"]),
                receipt=_unb64(doc["receipt"]),
                index=index,
                tree_size=size,
                tx_path=tuple(bytes.fromhex(p) for p in doc["tx_path"]),
                receipt_path=tuple(bytes.fromhex(p) for p in doc["receipt_path"]),
                header=_unb64(doc["header"]),
                commit=_unb64(doc["commit"]),
            )
        except BundleError:
            raise
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            raise BundleError(f"malformed proof: {type(e).__name__}: {e}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise BundleError("expected a base64 string")
    return base64.b64decode(text, validate=True)
