"""Issue 10: blocks are bounded in bytes as well as in count, and everything a node encodes
for the WAL, the network or the store is within what its own decoder — and its peers' —
accepts.

- ``max_block_bytes`` is a chain parameter (bounded by what every decoder accepts, and never
  below one largest tx plus the header), governed like the others;
- ``make_block`` takes the longest prefix of its txs that fits both limits, ``check_block``
  refuses a block over either, and a block's encoded size is known without encoding it;
- the encoders refuse (``EncodeError``) what the decoders would: blocks, proposals, votes,
  certificates, consortium configs, WAL records;
- the chain of limits holds: the largest block any decoder accepts fits a proposal, a WAL
  record, a proposal message and a sync reply, each of which fits a frame.
"""

from __future__ import annotations

import random

import pytest

from yulian.consensus.durable import MemoryFile
from yulian.consensus.wal import MAX_RECORD_BYTES, WAL
from yulian.crypto.suite import get_suite
from yulian.execution.blocks import BlockLimits, ChainTip, InvalidBlock, check_block, make_block
from yulian.execution.executor import ExecTx, SenderInfo
from yulian.execution.roots import EMPTY_STATE_SUM
from yulian.ledger import MAX_RECORD_BYTES as MAX_STORED_BYTES
from yulian.ledger import MAX_TXS_PER_BLOCK, MAX_WRITES_PER_BLOCK
from yulian.net.framing import MAX_FRAME_BYTES
from yulian.net.messages import (
    MAX_COMMIT_BYTES,
    MAX_SYNC_REPLY_BYTES,
    Message,
    decode_message,
    encode_message,
)
from yulian.node.records import WAL_RECORD_LIMITS, decode_wal_record, wal_record
from yulian.types.block import (
    BLOCK_OVERHEAD_BYTES,
    HEADER_BYTES_MAX,
    MAX_BLOCK_BYTES,
    MAX_BLOCK_TXS,
    MAX_BLOCK_WRITES,
    Block,
    Header,
)
from yulian.types.commit import MAX_VALIDATORS, CommitCertificate, CommitSignature
from yulian.types.consensus import MAX_PROPOSAL_BYTES, Proposal, Vote
from yulian.types.encoding import EncodeError, Limits, decode, encode_within
from yulian.types.genesis import PARAM_LIMITS, ChainParams, GenesisError
from yulian.types.tx import MAX_TX_BYTES, SignedTx, Tx

SUITE = get_suite("standard")
H64 = b"\xff" * 64


def maximal_header(tx_count: int = MAX_BLOCK_TXS) -> Header:
    """A header with every field as long as its decoder allows."""
    return Header(
        chain_id="c" * 64,
        height=(1 << 63) - 1,
        time_ms=(1 << 63) - 1,
        prev_hash=H64,
        tx_count=tx_count,
        tx_root=H64,
        result_root=H64,
        state_root=H64,
        validators_hash=H64,
        proposer="p" * 128,
        config_hash=H64,
    )


def test_the_header_bound_holds_for_the_largest_header() -> None:
    header = maximal_header()
    assert len(header.encode()) <= HEADER_BYTES_MAX
    assert Header.decode(header.encode()) == header


@pytest.mark.parametrize("seed", range(20))
def test_encoded_size_is_the_length_of_the_encoding(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [
        rng.choice([1, 200, 255, 256, 4000, 65535, MAX_TX_BYTES]) for _ in range(rng.randint(0, 40))
    ]
    block = Block(maximal_header(len(sizes)), tuple(bytes(s) for s in sizes))
    data = block.encode()
    assert block.encoded_size() == len(data)
    assert Block.decode(data).encoded_size() == len(data)
    assert len(data) <= BLOCK_OVERHEAD_BYTES + sum(s + 5 for s in sizes)


def test_the_chain_of_limits() -> None:
    """Largest block < proposal < WAL record < frame; a sync reply fits a frame."""
    assert MAX_BLOCK_BYTES + 1024 <= MAX_PROPOSAL_BYTES
    assert MAX_PROPOSAL_BYTES + 64 <= WAL_RECORD_LIMITS.max_bytes <= MAX_RECORD_BYTES
    assert MAX_PROPOSAL_BYTES + 64 < MAX_FRAME_BYTES
    assert MAX_BLOCK_BYTES + MAX_COMMIT_BYTES + 64 < MAX_FRAME_BYTES  # a block alone
    assert MAX_SYNC_REPLY_BYTES + 64 * 64 < MAX_FRAME_BYTES  # a budgeted reply
    assert PARAM_LIMITS["max_block_bytes"] == MAX_BLOCK_BYTES
    assert PARAM_LIMITS["max_tx_bytes"] == MAX_TX_BYTES
    assert PARAM_LIMITS["max_block_txs"] == MAX_BLOCK_TXS
    assert MAX_BLOCK_WRITES <= MAX_WRITES_PER_BLOCK and MAX_BLOCK_TXS <= MAX_TXS_PER_BLOCK
    assert MAX_BLOCK_BYTES <= MAX_STORED_BYTES  # the store takes every block


def test_a_largest_proposal_goes_through_every_encoder_and_decoder() -> None:
    """The largest block the decoders accept, proposed: the proposal, its WAL record, the WAL
    frame, the network message — each encodes and decodes back."""
    count = (MAX_BLOCK_BYTES - BLOCK_OVERHEAD_BYTES) // (MAX_TX_BYTES + 5)
    txs = tuple(bytes([i % 256]) * MAX_TX_BYTES for i in range(count))
    block = Block(maximal_header(count), txs)
    block_bytes = block.encode()
    assert MAX_BLOCK_BYTES - MAX_TX_BYTES < len(block_bytes) <= MAX_BLOCK_BYTES
    proposal = Proposal((1 << 63) - 1, 1 << 31, (1 << 31) - 1, block_bytes, H64, "p" * 128, H64)
    data = proposal.encode()
    assert Proposal.decode(data) == proposal
    record = wal_record("proposal", proposal.height, data)
    assert decode_wal_record(record) == ("proposal", proposal.height, data)
    wal = WAL(MemoryFile())
    wal.append(record, sync=True)
    assert wal.records() == [record]
    assert decode_message(encode_message(Message("proposal", data))).payload == data


@pytest.mark.parametrize(
    ("what", "build"),
    [
        ("block", lambda: Block(maximal_header(1), (b"x" * (MAX_TX_BYTES + 1),)).encode()),
        (
            "block",
            lambda: Block(
                maximal_header(0), tuple(b"x" for _ in range(MAX_BLOCK_TXS + 1))
            ).encode(),
        ),
        (
            "proposal",
            lambda: Proposal(1, 0, -1, b"b" * (MAX_BLOCK_BYTES + 1), H64, "p", H64).encode(),
        ),
        ("vote", lambda: Vote(1, 1, 0, H64, "v" * 300, H64).encode()),
        (
            "commit certificate",
            lambda: CommitCertificate(
                1, 0, H64, tuple(CommitSignature(f"v{i}", H64) for i in range(MAX_VALIDATORS + 1))
            ).encode(),
        ),
        ("WAL record", lambda: wal_record("proposal", 1, b"p" * (MAX_PROPOSAL_BYTES + 1))),
    ],
)
def test_encoders_refuse_what_their_decoders_refuse(what: str, build: object) -> None:
    with pytest.raises(EncodeError, match=what):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "limits", "fragment"),
    [
        (b"x" * 11, Limits(max_bin=10), "byte string of 11"),
        ("x" * 11, Limits(max_str=10), "string of 11"),
        ("é" * 6, Limits(max_str=10), "string of 12"),
        (tuple(range(11)), Limits(max_items=10), "11 items"),
        ({"k" * 11: 1}, Limits(max_str=10), "string of 11"),
        ((((1,),),), Limits(max_depth=2), "nesting deeper than 2"),
        (b"x" * 100, Limits(max_bytes=50), "exceed the limit of 50"),
    ],
)
def test_encode_within_refuses_exactly_what_decode_refuses(
    value: object, limits: Limits, fragment: str
) -> None:
    with pytest.raises(EncodeError, match=fragment):
        encode_within(value, limits, "thing")
    loose = Limits()
    data = encode_within(value, loose, "thing")
    with pytest.raises(ValueError):
        decode(data, limits)


# --- chain parameters --------------------------------------------------------------------------
def test_max_block_bytes_must_hold_a_largest_tx() -> None:
    params = ChainParams()
    assert params.max_block_bytes >= params.min_block_bytes()
    # a 64 KiB byte string needs the 5-byte header (bin 32)
    assert params.min_block_bytes() == BLOCK_OVERHEAD_BYTES + 5 + params.max_tx_bytes
    ChainParams(max_block_bytes=params.min_block_bytes()).check()
    with pytest.raises(GenesisError, match="must hold a tx of max_tx_bytes"):
        ChainParams(max_block_bytes=params.min_block_bytes() - 1).check()
    with pytest.raises(GenesisError, match="max_block_bytes may be at most"):
        ChainParams(max_block_bytes=MAX_BLOCK_BYTES + 1).check()
    with pytest.raises(GenesisError, match="max_tx_bytes may be at most"):
        ChainParams(max_tx_bytes=MAX_TX_BYTES + 1).check()


# --- make_block and check_block ----------------------------------------------------------------
class NoView:
    def get(self, key: bytes) -> bytes | None:
        return None


def fake_tx(i: int, size: int) -> ExecTx:
    """An ExecTx whose envelope is ``size`` bytes (its contract is never resolved here)."""
    tx = Tx("c", "nothing", "m", (), b"cert", i, 10)
    signed = SignedTx(b"body", b"sig", tx)
    return ExecTx(SUITE.hash(b"%d" % i), signed, SenderInfo("o", "client", "id", {}), b"e" * size)


def build(txs: list[ExecTx], limits: BlockLimits) -> Block:
    tip = ChainTip(0, H64[:32], H64[:32], 1, EMPTY_STATE_SUM)
    block, _ = make_block(
        SUITE,
        "c",
        NoView(),  # type: ignore[arg-type]
        tip,
        time_ms=2,
        proposer="p",
        validators_hash=H64[:32],
        config_hash=H64[:32],
        txs=txs,
        resolve=lambda name, view: None,
        step_limit=1000,
        limits=limits,
    )
    return block


@pytest.mark.parametrize(
    ("sizes", "limits", "taken"),
    [
        ([1000] * 10, BlockLimits(5, 1 << 20), 5),  # the count limit
        ([1000] * 10, BlockLimits(100, BLOCK_OVERHEAD_BYTES + 3 * 1003), 3),  # the byte limit
        ([1000] * 10, BlockLimits(100, BLOCK_OVERHEAD_BYTES + 3 * 1003 - 1), 2),
        ([10, 5000, 10], BlockLimits(100, BLOCK_OVERHEAD_BYTES + 100), 1),  # a prefix, in order
        ([], BlockLimits(1, BLOCK_OVERHEAD_BYTES), 0),
    ],
)
def test_make_block_takes_the_longest_prefix_that_fits(
    sizes: list[int], limits: BlockLimits, taken: int
) -> None:
    txs = [fake_tx(i, s) for i, s in enumerate(sizes)]
    block = build(txs, limits)
    assert block.txs == tuple(t.data() for t in txs[:taken])
    assert block.encoded_size() <= limits.max_bytes and len(block.txs) <= limits.max_txs
    limits.check(block)


def test_check_block_refuses_a_block_over_either_limit() -> None:
    txs = [fake_tx(i, 1000) for i in range(4)]
    block = build(txs, BlockLimits(10, 1 << 20))
    tip = ChainTip(0, H64[:32], H64[:32], 1, EMPTY_STATE_SUM)
    kwargs = dict(
        validators_hash=H64[:32],
        config_hash=H64[:32],
        txs=txs,
        resolve=lambda name, view: None,
        step_limit=1000,
    )
    for limits, fragment in (
        (BlockLimits(3, 1 << 20), "4 txs exceed 3"),
        (BlockLimits(10, block.encoded_size() - 1), f"{block.encoded_size()} bytes exceed"),
    ):
        with pytest.raises(InvalidBlock, match=fragment):
            check_block(SUITE, "c", NoView(), tip, block, limits=limits, **kwargs)  # type: ignore[arg-type]
    check_block(
        SUITE, "c", NoView(), tip, block, limits=BlockLimits(4, block.encoded_size()), **kwargs
    )  # type: ignore[arg-type]
