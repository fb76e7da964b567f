"""Introduction: block headers and blocks.

The header is what validators sign (through its hash) and what a light client needs: it binds
the ordered transactions (``tx_root``), their receipts (``result_root``), the state after the
block (``state_root``) and the consortium config after it (``config_hash``), so one commit
certificate over the header hash proves all four.
A header's hash is the suite hash of its canonical encoding.

Size. ``MAX_BLOCK_BYTES`` is what every decoder accepts; the chain parameter
``max_block_bytes`` (at most that) is what a valid block may take. A block's encoded size is a
function of its header and of its txs' lengths (``Block.encoded_size``), so a proposer can fill
a block to the byte without encoding it, and a validator can check one without re-encoding it.
``HEADER_BYTES_MAX`` bounds any header the decoder accepts; ``BLOCK_OVERHEAD_BYTES`` is what a
block holds besides its txs' encodings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from yulian.types.encoding import (
    DecodeError,
    Limits,
    Value,
    array_header_size,
    bin_size,
    decode,
    encode,
    encode_within,
)
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)
from yulian.types.tx import MAX_CHAIN_ID_BYTES, MAX_TX_BYTES

HEADER_VERSION = 1
MAX_BLOCK_TXS = 10_000
MAX_BLOCK_BYTES = 32 * 1024 * 1024
MAX_BLOCK_WRITES = 1_000_000  # state writes of one block the store takes (ledger's limit)
BLOCK_LIMITS = Limits(
    max_bytes=MAX_BLOCK_BYTES,
    max_depth=4,
    max_items=MAX_BLOCK_TXS,
    max_str=1024,
    max_bin=MAX_TX_BYTES,  # the txs; hashes are shorter
)
HASH_BYTES_MAX = 64
MAX_PROPOSER_BYTES = 128
# the largest header the decoder accepts encodes to 615 bytes (tests/unit/test_block_limits.py)
HEADER_BYTES_MAX = 1024
# a block's bytes besides its txs: the array of two, the header, the txs array's header
BLOCK_OVERHEAD_BYTES = 1 + HEADER_BYTES_MAX + array_header_size(MAX_BLOCK_TXS)


def block_tx_bytes(envelope_bytes: int) -> int:
    """What a tx envelope of ``envelope_bytes`` adds to the encoded block that carries it."""
    return bin_size(envelope_bytes)


@dataclass(frozen=True)
class Header:
    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes  # hash of the previous header; the genesis hash at height 1
    tx_count: int
    tx_root: bytes
    result_root: bytes
    state_root: bytes
    validators_hash: bytes  # hash of the validator set that signs this block
    proposer: str  # validator name
    # hash of the consortium config in force after this block (it decides who signs the next
    # one): a light client walks governance changes from the genesis through this field
    config_hash: bytes

    def to_value(self) -> tuple[Value, ...]:
        return (
            HEADER_VERSION,
            self.chain_id,
            self.height,
            self.time_ms,
            self.prev_hash,
            self.tx_count,
            self.tx_root,
            self.result_root,
            self.state_root,
            self.validators_hash,
            self.proposer,
            self.config_hash,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    def hash(self, hash_fn: Callable[[bytes], bytes]) -> bytes:
        return hash_fn(self.encode())

    @classmethod
    def from_value(cls, value: Value) -> Header:
        f = expect_array(value, "header", 12)
        expect_version(f[0], "header.version", HEADER_VERSION)
        return cls(
            chain_id=expect_str(f[1], "header.chain_id", MAX_CHAIN_ID_BYTES),
            height=expect_int(f[2], "header.height", 1),
            time_ms=expect_int(f[3], "header.time_ms"),
            prev_hash=expect_bytes(f[4], "header.prev_hash", HASH_BYTES_MAX),
            tx_count=expect_int(f[5], "header.tx_count", 0, MAX_BLOCK_TXS),
            tx_root=expect_bytes(f[6], "header.tx_root", HASH_BYTES_MAX),
            result_root=expect_bytes(f[7], "header.result_root", HASH_BYTES_MAX),
            state_root=expect_bytes(f[8], "header.state_root", HASH_BYTES_MAX),
            validators_hash=expect_bytes(f[9], "header.validators_hash", HASH_BYTES_MAX),
            proposer=expect_str(f[10], "header.proposer", MAX_PROPOSER_BYTES),
            config_hash=expect_bytes(f[11], "header.config_hash", HASH_BYTES_MAX),
        )

    @classmethod
    def decode(cls, data: bytes) -> Header:
        return cls.from_value(decode(data, BLOCK_LIMITS))


@dataclass(frozen=True)
class Block:
    header: Header
    txs: tuple[bytes, ...]  # encoded SignedTx envelopes, in execution order

    def to_value(self) -> tuple[Value, ...]:
        return (self.header.to_value(), self.txs)

    def encode(self) -> bytes:
        """The canonical bytes; ``EncodeError`` for a block no decoder would accept."""
        return encode_within(self.to_value(), BLOCK_LIMITS, "block")

    def encoded_size(self) -> int:
        """``len(self.encode())``, computed from the header and the txs' lengths (for a
        decoded block, the length of the bytes it was decoded from: they are canonical)."""
        return (
            1
            + len(self.header.encode())
            + array_header_size(len(self.txs))
            + sum(block_tx_bytes(len(t)) for t in self.txs)
        )

    @classmethod
    def from_value(cls, value: Value) -> Block:
        f = expect_array(value, "block", 2)
        header = Header.from_value(f[0])
        txs = tuple(
            expect_bytes(t, "block.tx", MAX_TX_BYTES)
            for t in expect_list(f[1], "block.txs", MAX_BLOCK_TXS)
        )
        if len(txs) != header.tx_count:
            raise DecodeError(f"block: header.tx_count {header.tx_count} != {len(txs)} txs")
        return cls(header=header, txs=txs)

    @classmethod
    def decode(cls, data: bytes) -> Block:
        return cls.from_value(decode(data, BLOCK_LIMITS))
