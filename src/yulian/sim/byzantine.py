"""Introduction: Byzantine validators — at most f of them in a safety run, f + 1 in the control.

A Byzantine node runs the real replica, and a ``Behaviour`` rewrites what it sends, signing with
the raw validator key (bypassing the safety rules) where the attack needs a second signature:

- ``equivocate``: as proposer, signs a second, different valid block for the same
  ``(height, round)`` and sends one proposal to each half of its peers (consistently, also on
  re-sends);
- ``double_vote``: for every vote it casts, signs a conflicting one (nil for a block, a block
  for nil) and sends both, in opposite orders to the two halves of its peers — every honest
  node that sees both must record the equivocation (B1);
- ``wipe``: from time to time, right after a vote, the validator crashes and restarts with its
  safety file and WAL deleted, so it may sign again what it signed before;
- ``resign``: every vote is sent twice with two different valid signatures over the same
  content (an Ed25519 signer may pick any nonce): the same vote in other bytes, which a
  replica must count once (byte-level de-duplication does not catch it);
- ``twins``: a second instance of the validator (same key, own disks, ledger and clock) runs
  beside the first (the Twins method of Bano et al., Diem): two honest-looking replicas that
  together equivocate on everything. With a partition that puts each twin of f + 1 validators
  on a different side, each side holds a quorum of keys: the control scenario, which must fork.

Byzantine sync peers (``sync_*``) attack the block sync of nodes that fell behind; a node that
catches up must still reach the honest head, dropping liars and skipping the others (B3):

- ``sync_withhold``: never answers ``get_blocks``, and now and then announces a height it does
  not have;
- ``sync_lie``: answers with tampered replies — a flipped byte in a block, another block's
  certificate, a certificate cut below a quorum, blocks out of order;
- ``sync_slow``: answers, but only after the requester's sync timeout;
- ``sync_oversize``: answers with more than was asked — past the byte budget, more blocks than
  the request's count.

Invariant: behaviours draw randomness only from the cluster's ``byz_rng`` and keep their
choices per ``(height, round)``, so a run stays a function of its seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

import nacl.bindings as sodium
from cryptography.hazmat.primitives import serialization

from yulian.crypto.standard import Ed25519PrivateKey
from yulian.crypto.suite import PrivateKey
from yulian.execution.blocks import BlockLimits, make_block
from yulian.net.messages import MAX_GET_BLOCKS, Message
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate, vote_sign_bytes
from yulian.types.consensus import Proposal, Vote, proposal_sign_bytes
from yulian.types.encoding import DecodeError

if TYPE_CHECKING:
    from yulian.sim.cluster import Cluster, SimNode

Outgoing = list[tuple[str | None, Message]]  # (destination instance or None = all, message)
MAX_CACHED_ROUNDS = 256


class Behaviour:
    mode = ""

    def __init__(self, node: SimNode) -> None:
        self.node = node

    def attach(self, cluster: Cluster) -> None:
        """Install on the node (and schedule whatever the behaviour does on its own)."""
        behaviours = getattr(self.node.behaviour, "parts", None)
        if behaviours is None:
            self.node.behaviour = Combined([self])
        else:
            behaviours.append(self)

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        return msgs

    def _halves(self, cluster: Cluster, node: SimNode) -> tuple[list[str], set[str]]:
        peers = [i for i in cluster.nodes if i != node.id]
        shuffled = list(peers)
        cluster.byz_rng.shuffle(shuffled)
        return peers, set(shuffled[: len(shuffled) // 2])


class Combined(Behaviour):
    mode = "combined"

    def __init__(self, parts: list[Behaviour]) -> None:
        self.parts = parts

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        for part in self.parts:
            msgs = part.outgoing(cluster, node, msgs)
        return msgs


class EquivocatingProposer(Behaviour):
    mode = "equivocate"

    def __init__(self, node: SimNode) -> None:
        super().__init__(node)
        self._second: dict[tuple[int, int], tuple[Message, set[str]] | None] = {}

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        result: Outgoing = []
        for dst, m in msgs:
            second = self._second_proposal(cluster, node, m) if m.kind == "proposal" else None
            if second is None:
                result.append((dst, m))
                continue
            alt, half = second
            peers = [i for i in cluster.nodes if i != node.id] if dst is None else [dst]
            result.extend((peer, alt if peer in half else m) for peer in peers)
        return result

    def _second_proposal(
        self, cluster: Cluster, node: SimNode, m: Message
    ) -> tuple[Message, set[str]] | None:
        assert isinstance(m.payload, bytes)
        first = Proposal.decode(m.payload)
        key = (first.height, first.round)
        if key not in self._second:
            if len(self._second) > MAX_CACHED_ROUNDS:
                self._second.clear()
            self._second[key] = self._make(cluster, node, first)
        return self._second[key]

    def _make(
        self, cluster: Cluster, node: SimNode, first: Proposal
    ) -> tuple[Message, set[str]] | None:
        replica = node.replica
        if replica is None or first.height != replica.tip.height + 1:
            return None
        header = Block.decode(first.block).header
        block, _ = make_block(
            replica.suite,
            replica.chain_id,
            replica.ledger,
            replica.tip,
            time_ms=header.time_ms + 1 + cluster.byz_rng.randint(0, 50),
            proposer=node.name,
            validators_hash=replica.view.validators_hash,
            config_hash=replica.view.config_hash,
            txs=[],
            resolve=replica.registry.resolve,
            step_limit=replica.params.step_limit,
            limits=BlockLimits.of(replica.params),
        )
        block_hash = block.header.hash(replica.suite.hash)
        signature = node.key.sign(
            proposal_sign_bytes(replica.chain_id, first.height, first.round, -1, block_hash)
        )
        alt = Proposal(
            first.height, first.round, -1, block.encode(), block_hash, node.name, signature
        )
        _, half = self._halves(cluster, node)
        return Message("proposal", alt.encode()), half


class DoubleVoter(Behaviour):
    mode = "double_vote"

    def __init__(self, node: SimNode) -> None:
        super().__init__(node)
        self._second: dict[tuple[int, int, int], tuple[Message, set[str]]] = {}

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        result: Outgoing = []
        for dst, m in msgs:
            if m.kind != "vote" or dst is not None:
                result.append((dst, m))
                continue
            assert isinstance(m.payload, bytes)
            alt, half = self._second_vote(cluster, node, Vote.decode(m.payload))
            for peer in [i for i in cluster.nodes if i != node.id]:
                pair = [(peer, alt), (peer, m)] if peer in half else [(peer, m), (peer, alt)]
                result.extend(pair)
        return result

    def _second_vote(self, cluster: Cluster, node: SimNode, vote: Vote) -> tuple[Message, set[str]]:
        key = (vote.height, vote.round, vote.type)
        cached = self._second.get(key)
        if cached is not None:
            return cached
        if len(self._second) > MAX_CACHED_ROUNDS:
            self._second.clear()
        other = (
            b""
            if vote.block_hash
            else hashlib.sha256(b"yulian-sim/byzantine/%d/%d/%d" % key).digest()
        )
        chain_id = cluster.chain_id
        signature = node.key.sign(
            vote_sign_bytes(chain_id, vote.type, vote.height, vote.round, other)
        )
        alt = Vote(vote.type, vote.height, vote.round, other, node.name, signature)
        _, half = self._halves(cluster, node)
        self._second[key] = (Message("vote", alt.encode()), half)
        return self._second[key]


def fresh_signature(key: PrivateKey, message: bytes, rng: random.Random) -> bytes:
    """Another valid signature of ``message``: Ed25519 with a random nonce instead of the
    deterministic one (RFC 8032 5.1.6 with ``r`` drawn from ``rng``); randomised suites
    simply sign again."""
    if not isinstance(key, Ed25519PrivateKey):
        return key.sign(message)
    seed = key.crypto_key().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] = (h[31] & 127) | 64
    a = sodium.crypto_core_ed25519_scalar_reduce(bytes(h) + bytes(32))
    r = sodium.crypto_core_ed25519_scalar_reduce(rng.randbytes(64))
    big_r = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
    k = sodium.crypto_core_ed25519_scalar_reduce(
        hashlib.sha512(big_r + key.public_key() + message).digest()
    )
    s = sodium.crypto_core_ed25519_scalar_add(r, sodium.crypto_core_ed25519_scalar_mul(k, a))
    return bytes(big_r + s)


class Resigner(Behaviour):
    mode = "resign"

    def __init__(self, node: SimNode) -> None:
        super().__init__(node)
        self._second: dict[bytes, Message] = {}

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        result: Outgoing = []
        for dst, m in msgs:
            result.append((dst, m))
            if m.kind == "vote":
                assert isinstance(m.payload, bytes)
                result.append((dst, self._again(cluster, node, m.payload)))
        return result

    def _again(self, cluster: Cluster, node: SimNode, data: bytes) -> Message:
        again = self._second.get(data)
        if again is None:
            if len(self._second) > MAX_CACHED_ROUNDS:
                self._second.clear()
            vote = Vote.decode(data)
            sign_bytes = vote.sign_bytes(cluster.chain_id)
            signature = fresh_signature(node.key, sign_bytes, cluster.byz_rng)
            assert signature != vote.signature
            assert cluster.suite.verify(node.key.public_key(), sign_bytes, signature)
            copy = Vote(
                vote.type, vote.height, vote.round, vote.block_hash, vote.validator, signature
            )
            again = self._second[data] = Message("vote", copy.encode())
        return again


class WipedRestarts(Behaviour):
    """Every few seconds: crash right after the next vote, come back with no safety data."""

    mode = "wipe"

    def attach(self, cluster: Cluster) -> None:
        super().attach(cluster)
        self._schedule(cluster, cluster.start_ms)

    def _schedule(self, cluster: Cluster, after_ms: int) -> None:
        due = after_ms + cluster.byz_rng.randint(2_000, 15_000)
        cluster.at(due, f"wipe {self.node.id}", lambda: self._arm(cluster))

    def _arm(self, cluster: Cluster) -> None:
        node = self.node
        if node.replica is not None:
            node.crash_after_vote = "wipe"
        restart_ms = cluster.clock.now_ms + cluster.byz_rng.randint(300, 3_000)
        cluster.at(restart_ms, f"restart {node.id}", lambda: cluster.restart(node))
        self._schedule(cluster, restart_ms)


class Twin(Behaviour):
    mode = "twins"

    def attach(self, cluster: Cluster) -> None:
        cluster.add_twin(self.node)


# --- Byzantine sync peers ---------------------------------------------------------------------
INFLATE_HEIGHTS = 50  # how far ahead a withholder claims to be, when it lies about its height


class SyncWithholder(Behaviour):
    mode = "sync_withhold"

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        result: Outgoing = []
        for dst, m in msgs:
            if m.kind == "blocks":
                continue
            if m.kind == "status" and cluster.byz_rng.random() < 0.3:
                height, round_ = m.payload
                m = Message("status", (height + INFLATE_HEIGHTS, round_))
            result.append((dst, m))
        return result


class SyncLiar(Behaviour):
    mode = "sync_lie"

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        return [(dst, self._tamper(cluster, m) if m.kind == "blocks" else m) for dst, m in msgs]

    def _tamper(self, cluster: Cluster, m: Message) -> Message:
        pairs = [tuple(p) for p in m.payload]
        rng = cluster.byz_rng
        how = rng.choice(("flip", "other_commit", "cut_commit", "reorder"))
        i = rng.randrange(len(pairs))
        block, commit = pairs[i]
        if how == "flip" or (how == "reorder" and len(pairs) < 2):
            at = rng.randrange(len(block))
            pairs[i] = (block[:at] + bytes([block[at] ^ 0x01]) + block[at + 1 :], commit)
        elif how == "other_commit":
            other = pairs[(i + 1) % len(pairs)][1] if len(pairs) > 1 else self._later(commit)
            pairs[i] = (block, other)
        elif how == "cut_commit":
            cert = CommitCertificate.decode(commit)
            cut = CommitCertificate(cert.height, cert.round, cert.block_hash, cert.signatures[:1])
            pairs[i] = (block, cut.encode())
        else:
            pairs = pairs[1:] + pairs[:1]
        return Message("blocks", tuple(pairs))

    @staticmethod
    def _later(commit: bytes) -> bytes:
        cert = CommitCertificate.decode(commit)
        return CommitCertificate(
            cert.height + 1, cert.round, cert.block_hash, cert.signatures
        ).encode()


class SyncSlow(Behaviour):
    mode = "sync_slow"

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        result: Outgoing = []
        timeout = cluster.config.sync_timeout_ms
        for dst, m in msgs:
            if m.kind != "blocks" or dst is None:
                result.append((dst, m))
                continue
            due = cluster.clock.now_ms + timeout + cluster.byz_rng.randint(1, timeout)
            cluster.at(due, f"late blocks {node.id}", _send_later(cluster, node, dst, m))
        return result


def _send_later(cluster: Cluster, node: SimNode, dst: str, m: Message) -> Callable[[], None]:
    def send() -> None:
        if node.replica is not None:
            cluster.send(node.id, [dst], m)

    return send


class SyncOversize(Behaviour):
    mode = "sync_oversize"

    def outgoing(self, cluster: Cluster, node: SimNode, msgs: Outgoing) -> Outgoing:
        return [(dst, self._more(node, m) if m.kind == "blocks" else m) for dst, m in msgs]

    def _more(self, node: SimNode, m: Message) -> Message:
        """The blocks from the same height, past any byte budget, one more than served (a
        reply another behaviour already broke is left as it is)."""
        try:
            first = Block.decode(m.payload[0][0]).header.height
        except DecodeError:
            return m
        pairs = []
        for height in range(first, first + min(len(m.payload) + 1, MAX_GET_BLOCKS)):
            block, commit = node.ledger.block(height), node.ledger.commit(height)
            if block is None or commit is None:
                break
            pairs.append((block, commit))
        return Message("blocks", tuple(pairs))


BEHAVIOURS: dict[str, type[Behaviour]] = {
    "equivocate": EquivocatingProposer,
    "resign": Resigner,
    "double_vote": DoubleVoter,
    "wipe": WipedRestarts,
    "twins": Twin,
    "sync_withhold": SyncWithholder,
    "sync_lie": SyncLiar,
    "sync_slow": SyncSlow,
    "sync_oversize": SyncOversize,
}


def make_behaviours(cluster: Cluster, node: SimNode, modes: tuple[str, ...]) -> list[Behaviour]:
    """The behaviours of one Byzantine node: one mode drawn from ``modes``, sometimes two."""
    chosen = [cluster.byz_rng.choice(modes)]
    extra = cluster.byz_rng.choice(modes)
    if len(modes) > 1 and extra not in chosen and cluster.byz_rng.random() < 0.3:
        chosen.append(extra)
    return [BEHAVIOURS[mode](node) for mode in sorted(chosen)]
