"""Introduction: the transaction proof bundle — everything needed to verify a tx offline.

A bundle carries raw bytes only: the signed tx envelope, its encoded receipt, their index in
the block, the two Merkle audit paths (tx_root and result_root), the encoded header and the
encoded commit certificate — and the governance path from the genesis to the tx's block: the
header before the block (its ``config_hash`` names the consortium config in force) and, for
every block that changed the consortium config, its header, its commit certificate and the new
config. With the genesis alone anyone can walk that path (each change signed by the validators
in force before it) and check the tx without trusting the node that served it. The JSON form
uses base64 for byte strings; the JSON is a transport, never what is hashed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

BUNDLE_VERSION = 2


@dataclass(frozen=True)
class ConfigTransition:
    """A block that changed the consortium config: its header, commit and the new config."""

    header: bytes
    commit: bytes
    config: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "header": _b64(self.header),
            "commit": _b64(self.commit),
            "config": _b64(self.config),
        }

    @classmethod
    def from_json(cls, doc: Any) -> ConfigTransition:
        return cls(_unb64(doc["header"]), _unb64(doc["commit"]), _unb64(doc["config"]))


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
    prev_header: bytes = b""  # the header before ``header`` (none at height 1)
    transitions: tuple[ConfigTransition, ...] = ()  # ascending height, all below the block

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
            "prev_header": _b64(self.prev_header),
            "transitions": [t.to_json() for t in self.transitions],
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
                prev_header=_unb64(doc["prev_header"]),
                transitions=tuple(ConfigTransition.from_json(t) for t in doc["transitions"]),
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
