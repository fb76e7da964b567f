"""Frozen dataclasses for everything Yulian hashes, signs or stores, and their canonical encoding.

Pure: this package does no I/O except ``Genesis.load`` reading a file a caller names.
"""

from yulian.types.block import Block, Header
from yulian.types.commit import CommitCertificate, CommitSignature, vote_sign_bytes
from yulian.types.encoding import DecodeError, decode, encode
from yulian.types.genesis import ChainParams, Genesis, GenesisError, Organisation, Validator
from yulian.types.receipt import Event, Receipt
from yulian.types.tx import SignedTx, Tx, tx_sign_bytes

__all__ = [
    "Block",
    "ChainParams",
    "CommitCertificate",
    "CommitSignature",
    "DecodeError",
    "Event",
    "Genesis",
    "GenesisError",
    "Header",
    "Organisation",
    "Receipt",
    "SignedTx",
    "Tx",
    "Validator",
    "decode",
    "encode",
    "tx_sign_bytes",
    "vote_sign_bytes",
]
