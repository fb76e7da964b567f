"""B2: malformed and adversarial consensus messages are rejected and change no state.

A 4-validator cluster runs in process to a live height; then every case of the table is
delivered to one replica. Each must leave the replica's consensus state and ledger exactly as
they were; messages that prove the sender faulty also ask the shell to drop that peer.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.test_replica import Net, make_cluster, signing_key

from yulian.crypto.suite import PrivateKey, get_suite
from yulian.net.messages import Message
from yulian.net.sync import GRACE_MS
from yulian.node.replica import Outputs, Replica
from yulian.types.block import Block
from yulian.types.commit import (
    PRECOMMIT,
    PREVOTE,
    CommitCertificate,
    CommitSignature,
    vote_sign_bytes,
)
from yulian.types.consensus import Proposal, Vote, proposal_sign_bytes
from yulian.types.encoding import encode

Live = tuple[Net, dict[str, Replica], dict[str, PrivateKey]]


def snapshot(r: Replica) -> tuple[Any, ...]:
    s = r.state
    votes = tuple(sorted((k, v.voters()) for k, v in s.votes.items()))
    return (
        r.tip,
        s.height,
        s.round,
        s.step,
        s.locked_round,
        s.valid_round,
        votes,
        tuple(sorted(s.proposals)),
        r.ledger.height(),
        len(r.mempool),
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Live:
    tmp = tmp_path_factory.mktemp("adv")
    replicas, genesis, _ = make_cluster(tmp, 4)
    net = Net(replicas)
    net.now = genesis.time_ms + 3_600_000
    for name, r in replicas.items():
        net.apply(name, r.start(net.now))
    net.run_until(lambda: all(r.tip.height >= 2 for r in replicas.values()))
    return net, replicas, {name: signing_key(r) for name, r in replicas.items()}


def _vote(
    key: PrivateKey, chain: str, type_: int, height: int, round_: int, block_hash: bytes, name: str
) -> bytes:
    sig = key.sign(vote_sign_bytes(chain, type_, height, round_, block_hash))
    return Vote(type_, height, round_, block_hash, name, sig).encode()


def cases(replica: Replica, keys: dict[str, PrivateKey]) -> list[tuple[str, Message, bool]]:
    chain = replica.chain_id
    h = replica.tip.height + 1
    other = sorted(keys)[1]
    k = keys[other]
    suite = get_suite("standard")
    stranger = suite.generate_key()
    good_vote = _vote(k, chain, PREVOTE, h, 0, b"\x01" * 32, other)
    bad_sig = bytearray(good_vote)
    bad_sig[-1] ^= 1
    block = replica.ledger.block(replica.tip.height)
    assert block is not None
    block_hash = Block.decode(block).header.hash(suite.hash)

    def proposal(signer: str, key: PrivateKey, round_: int, chain_id: str = chain) -> bytes:
        sig = key.sign(proposal_sign_bytes(chain_id, h, round_, -1, block_hash))
        return Proposal(h, round_, -1, block, block_hash, signer, sig).encode()

    return [
        (
            "vote signed for another chain_id",
            Message("vote", _vote(k, "other-chain", PREVOTE, h, 0, b"\x01" * 32, other)),
            True,
        ),
        ("vote with a bad signature", Message("vote", bytes(bad_sig)), True),
        (
            "vote from a non-validator",
            Message(
                "vote", Vote(PREVOTE, h, 0, b"\x01" * 32, "mallory", stranger.sign(b"x")).encode()
            ),
            True,
        ),
        (
            "vote claiming another validator's name",
            Message("vote", _vote(stranger, chain, PREVOTE, h, 0, b"\x01" * 32, other)),
            True,
        ),
        (
            "vote for an old height",
            Message("vote", _vote(k, chain, PREVOTE, h - 1, 0, b"\x01" * 32, other)),
            False,
        ),
        (
            "vote for a round far ahead",
            Message("vote", _vote(k, chain, PRECOMMIT, h, 10_000, b"\x01" * 32, other)),
            False,
        ),
        ("malformed vote bytes", Message("vote", b"\x93\x01\x02\x03"), True),
        (
            "vote with an unknown type",
            Message("vote", encode((1, 9, h, 0, b"", other, b"s" * 64))),
            True,
        ),
        ("proposal from the wrong proposer", Message("proposal", proposal(other, k, 57)), True),
        ("proposal signed by a stranger", Message("proposal", proposal(other, stranger, 0)), True),
        (
            "proposal signed for another chain",
            Message("proposal", proposal(other, k, 0, chain_id="x")),
            True,
        ),
        ("malformed proposal bytes", Message("proposal", b"\xc1"), True),
    ]


def test_adversarial_messages_change_nothing(live: Live) -> None:
    net, replicas, keys = live
    target = replicas[sorted(replicas)[0]]
    table = cases(target, keys)
    for label, msg, should_drop in table:
        before = snapshot(target)
        out = target.on_message("peer-x", msg, net.now)
        assert snapshot(target) == before, label
        assert not out.committed, label
        assert bool(out.drop) == should_drop, label


def test_block_sync_refuses_bad_certificates(live: Live) -> None:
    """A lagging replica asks peers that announce the next block; each offers the real block
    with a broken certificate (or broken bytes): refused, the peer dropped, nothing changed.
    Then an honest peer's reply commits it."""
    net, replicas, _ = live
    lagger = replicas[sorted(replicas)[3]]
    net.blocked.add(lagger.config.name)
    h = lagger.tip.height + 1
    others = [r for r in replicas.values() if r is not lagger]
    net.run_until(lambda: all(r.tip.height >= h for r in others))
    net.blocked.clear()
    source = others[0]
    block, good = source.ledger.block(h), source.ledger.commit(h)
    assert block is not None and good is not None
    cert = CommitCertificate.decode(good)
    sigs = cert.signatures
    bad = {
        "signed twice": CommitCertificate(h, cert.round, cert.block_hash, (sigs[0],) * 3),
        "voting power": CommitCertificate(h, cert.round, cert.block_hash, sigs[:1]),
        "bad signature": CommitCertificate(
            h,
            cert.round,
            cert.block_hash,
            tuple(CommitSignature(s.validator, bytes(64)) for s in sigs),
        ),
        "another block hash": CommitCertificate(h, cert.round, b"\x09" * 32, sigs),
        "not a validator": CommitCertificate(
            h, cert.round, cert.block_hash, (*sigs, CommitSignature("mallory", sigs[0].signature))
        ),
    }

    def offer(peer: str, pair: tuple[bytes, bytes]) -> Outputs:
        """``peer`` announces height ``h`` (again after the grace a node one block behind
        gives consensus); the lagger asks it once; it replies with ``pair``."""
        sent = []
        for at in (net.now, net.now + GRACE_MS):
            sent += lagger.on_message(peer, Message("status", (h, 0)), at).send
        assert [(to, m.kind, m.payload[0]) for to, m in sent] == [(peer, "get_blocks", h)]
        return lagger.on_message(peer, Message("blocks", (pair,)), net.now + GRACE_MS)

    for reason, broken in bad.items():
        before = snapshot(lagger)
        out = offer(f"liar {reason}", (block, broken.encode()))
        assert snapshot(lagger) == before, reason
        assert out.drop and out.drop[0][0] == f"liar {reason}", reason
        assert reason in out.drop[0][1], (reason, out.drop)
    before = snapshot(lagger)
    out = offer("liar bytes", (b"\x00", good))
    assert snapshot(lagger) == before and out.drop
    unasked = lagger.on_message("stranger", Message("blocks", ((block, good),)), net.now)
    assert snapshot(lagger) == before and not unasked.committed and not unasked.drop
    out = offer("honest", (block, good))
    assert [c.height for c in out.committed] == [h]
    assert lagger.ledger.block_hash(h) == source.ledger.block_hash(h)


def test_liveness_after_the_table(live: Live) -> None:
    net, replicas, _ = live
    height = max(r.tip.height for r in replicas.values())
    net.run_until(lambda: all(r.tip.height >= height + 2 for r in replicas.values()))
    assert len({r.ledger.block_hash(height + 1) for r in replicas.values()}) == 1
