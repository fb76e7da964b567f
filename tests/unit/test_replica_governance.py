"""Governance through consensus: 4 replicas vote a 5th validator in and out, revoke a validator
and a client, and a fresh replica syncs the whole history to the same head and state root.

Real replicas (LMDB ledgers, safety rules, WAL in memory) on the perfect in-memory network of
``test_replica``. Every block of the history must verify against the validator set of its own
height, derived from the config in state after the previous block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.gov_fixtures import NOTES, World, make_world
from tests.unit.test_replica import Net

from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import SafetyRules
from yulian.consensus.votes import InvalidCommit, ValidatorSet, verify_commit
from yulian.consensus.wal import WAL
from yulian.crypto.suite import PrivateKey
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import Ledger, open_ledger
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import Message
from yulian.node.replica import Outputs, Replica, ReplicaConfig
from yulian.sdk import Wallet
from yulian.types.block import Block
from yulian.types.commit import (
    PRECOMMIT,
    PREVOTE,
    CommitCertificate,
    CommitSignature,
    vote_sign_bytes,
)
from yulian.types.consensus import Vote
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import encode
from yulian.types.receipt import Receipt

GENESIS_NODES = ("org1-node0", "org2-node0", "org3-node0", "org4-node0")
NEWCOMER = "org1-node1"


class Cluster:
    def __init__(self, world: World, tmp: Path) -> None:
        self.world = world
        self.tmp = tmp
        self.genesis_config = ConsortiumConfig.from_genesis(world.genesis)
        self.replicas: dict[str, Replica] = {}
        for name in GENESIS_NODES:
            org = name.split("-")[0]
            cert = world.wallet(org, name).cert
            self.add(name, world.node_key(name), cert=cert)
        self.newcomer_key = world.suite.generate_key()
        cert = world.issue("org1", "node", NEWCOMER, key=self.newcomer_key).cert
        self.add(NEWCOMER, self.newcomer_key, cert=cert)  # not a validator yet: it follows
        self.net = Net(self.replicas)
        self.net.now = world.genesis.time_ms + 3_600_000

    def add(self, name: str, key: PrivateKey, *, cert: bytes = b"", voter: bool = True) -> Replica:
        genesis, suite = self.world.genesis, self.world.suite
        replica = Replica(
            genesis,
            suite,
            open_ledger(self.tmp / name, sync=False),
            SafetyRules(suite, key, genesis.chain_id, name, MemoryFile()) if voter else None,
            WAL(MemoryFile()),
            ReplicaConfig(name=name, node_cert=cert),
        )
        self.replicas[name] = replica
        return replica

    def start(self, name: str) -> None:
        self.net.apply(name, self.replicas[name].start(self.net.now))

    @property
    def head(self) -> int:
        return min(r.tip.height for r in self.replicas.values())

    @property
    def first(self) -> Replica:
        return self.replicas[GENESIS_NODES[0]]

    def reach(self, height: int) -> None:
        self.net.run_until(lambda: self.head >= height)

    def envelope(self, wallet: Wallet, contract: str, method: str, *args: Any) -> bytes:
        expires = self.first.tip.height + 100
        chain_id = self.world.genesis.chain_id
        return wallet.sign_tx(chain_id, contract, method, list(args), expires_at=expires).encode()

    def submit(self, wallet: Wallet, contract: str, method: str, *args: Any) -> bytes:
        envelope = self.envelope(wallet, contract, method, *args)
        via = self.first.config.name
        tx_id = self.first.submit(envelope, self.net.now).tx_id
        self.net.apply(via, Outputs(broadcast=[Message("txs", (envelope,))]))
        return tx_id

    def wait(self, *tx_ids: bytes) -> list[tuple[int, Receipt]]:
        """Run until every replica committed ``tx_ids``: (height, receipt) of each."""
        self.net.run_until(
            lambda: all(r.ledger.has_tx(t) for r in self.replicas.values() for t in tx_ids)
        )
        out = []
        for tx_id in tx_ids:
            location = self.first.ledger.tx_location(tx_id)
            assert location is not None
            data = self.first.ledger.receipt(*location)
            assert data is not None
            out.append((location[0], Receipt.decode(data)))
        return out

    def vote(self, kind: str, args: list[Any], approvers: tuple[str, ...]) -> int:
        """Propose by org1's admin, approve by ``approvers``: the height that applied it."""
        admin = self.world.wallet
        ((_, receipt),) = self.wait(self.submit(admin("org1"), "consortium", "propose", kind, args))
        assert receipt.status == "ok", receipt.message
        pid = receipt.value["id"]
        ids = [self.submit(admin(org), "consortium", "approve", pid) for org in approvers]
        results = self.wait(*ids)
        applied = [h for h, r in results if r.status == "ok" and r.value["status"] == "applied"]
        assert len(applied) == 1, [(h, r.status, r.message, r.value) for h, r in results]
        return applied[0]


def config_after(ledger: Ledger, height: int, default: ConsortiumConfig) -> ConsortiumConfig:
    data = ledger.get_at(CONFIG_KEY, height) if height > 0 else None
    return ConsortiumConfig.decode(data) if data is not None else default


def validator_set(cluster: Cluster, height: int) -> ValidatorSet:
    """The set that signs ``height``: from the config after ``height - 1``."""
    config = config_after(cluster.first.ledger, height - 1, cluster.genesis_config)
    return ValidatorSet(config.validators_at(height), config.revoked_keys())


def certificate(replica: Replica, height: int) -> CommitCertificate:
    data = replica.ledger.commit(height)
    assert data is not None
    return CommitCertificate.decode(data)


def signers(replica: Replica, height: int) -> set[str]:
    return {s.validator for s in certificate(replica, height).signatures}


def proposer(replica: Replica, height: int) -> str:
    block = replica.ledger.block(height)
    assert block is not None
    return Block.decode(block).header.proposer


def verify_history(cluster: Cluster, replica: Replica, top: int) -> None:
    """Every block 1..top verifies against its own height's set; headers name that set."""
    suite = cluster.world.suite
    for height in range(1, top + 1):
        validators = validator_set(cluster, height)
        block_hash = replica.ledger.block_hash(height)
        assert block_hash is not None
        verify_commit(
            suite,
            cluster.world.genesis.chain_id,
            validators,
            certificate(replica, height),
            height=height,
            block_hash=block_hash,
        )
        block = replica.ledger.block(height)
        assert block is not None
        expected = suite.hash(encode(tuple(v.to_value() for v in validators.validators)))
        assert Block.decode(block).header.validators_hash == expected, height


def stray_vote(world: World, height: int) -> Message:
    """A prevote org4-node0 really signed, for ``height``."""
    chain_id, block_hash = world.genesis.chain_id, b"\x01" * 32
    signature = world.node_key("org4-node0").sign(
        vote_sign_bytes(chain_id, PREVOTE, height, 0, block_hash)
    )
    return Message("vote", Vote(PREVOTE, height, 0, block_hash, "org4-node0", signature).encode())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("rgov") / "net", contracts=[("notes", NOTES)])


def test_governance_through_consensus(world: World, tmp_path: Path) -> None:
    cluster = Cluster(world, tmp_path)
    replicas, admin = cluster.replicas, world.wallet
    for name in replicas:
        cluster.start(name)
    cluster.reach(2)
    newcomer = replicas[NEWCOMER]
    assert not newcomer.is_validator

    # --- a majority adds a 5th validator; it signs from H + 2 --------------------------------
    key = cluster.newcomer_key.public_key()
    added = cluster.vote("add_validator", [NEWCOMER, "org1", key, 1, ""], ("org2", "org3"))
    for r in replicas.values():
        config = config_after(r.ledger, added, cluster.genesis_config)
        assert NEWCOMER not in [v.name for v in config.validators_at(added + 1)]
        assert NEWCOMER in [v.name for v in config.validators_at(added + 2)]
    cluster.reach(added + 8)
    assert newcomer.is_validator
    assert all(NEWCOMER not in signers(cluster.first, h) for h in range(1, added + 2))
    late = [h for h in range(added + 2, cluster.head + 1) if NEWCOMER in signers(cluster.first, h)]
    assert late, "the new validator's precommits never made it into a commit certificate"

    # --- it is removed; the chain goes on with 4 -----------------------------------------------
    removed = cluster.vote("remove_validator", [NEWCOMER], ("org2", "org3"))
    cluster.reach(removed + 6)
    assert not newcomer.is_validator
    proposers = [proposer(cluster.first, h) for h in range(1, cluster.head + 1)]
    assert NEWCOMER in proposers[added + 1 : removed + 1]  # heights added + 2 .. removed + 1
    assert NEWCOMER not in proposers[: added + 1] + proposers[removed + 1 :]
    assert all(NEWCOMER not in signers(cluster.first, h) for h in range(removed + 2, cluster.head))
    assert [v.name for v in validator_set(cluster, cluster.head).validators] == list(GENESIS_NODES)

    # --- a client writes, then its organisation revokes it ---------------------------------
    client = admin("org2", "client1")
    written = cluster.submit(client, "notes", "write", "org2", "hi")
    ((before, receipt),) = cluster.wait(written)
    assert receipt.status == "ok"
    ((revoked_client_at, receipt),) = cluster.wait(
        cluster.submit(admin("org2"), "consortium", "propose", "revoke", [client.cert])
    )
    assert receipt.value["status"] == "applied"
    assert before < revoked_client_at
    for r in replicas.values():
        with pytest.raises(AdmissionError) as info:
            r.submit(cluster.envelope(client, "notes", "write", "org2", "again"), cluster.net.now)
        assert info.value.code == "certificate_revoked"

    # --- a validator's organisation revokes its node certificate -------------------------------
    node = admin("org4", "org4-node0")
    ((revoked_at, receipt),) = cluster.wait(
        cluster.submit(admin("org4"), "consortium", "propose", "revoke", [node.cert])
    )
    assert receipt.value["status"] == "applied"
    # at once, its vote for the next height (where it is still in the set) is refused ...
    target = cluster.first
    assert target.tip.height == revoked_at
    assert target.validators.by_name("org4-node0") is not None
    out = target.on_message("org4-node0", stray_vote(world, revoked_at + 1), cluster.net.now)
    assert out.drop and "vote from non-validator org4-node0" in out.drop[0][1]
    cluster.reach(revoked_at + 6)
    assert not replicas["org4-node0"].is_validator
    # ... and so is one for a height after its removal
    next_height = target.tip.height + 1
    out = target.on_message("org4-node0", stray_vote(world, next_height), cluster.net.now)
    assert out.drop and "vote from non-validator org4-node0" in out.drop[0][1]
    assert all(
        "org4-node0" not in signers(cluster.first, h)
        for h in range(revoked_at + 1, cluster.head + 1)
    )
    in_set = validator_set(cluster, revoked_at + 1)
    assert in_set.by_name("org4-node0") is not None and in_set.signer("org4-node0") is None
    assert validator_set(cluster, revoked_at + 2).by_name("org4-node0") is None

    # its genuine precommit no longer counts above the revocation height ...
    height = revoked_at + 1
    cert = certificate(cluster.first, height)
    chain_id = world.genesis.chain_id
    signature = world.node_key("org4-node0").sign(
        vote_sign_bytes(chain_id, PRECOMMIT, height, cert.round, cert.block_hash)
    )
    with_revoked = CommitCertificate(
        height,
        cert.round,
        cert.block_hash,
        tuple(
            sorted(
                (*cert.signatures, CommitSignature("org4-node0", signature)),
                key=lambda s: s.validator,
            )
        ),
    )
    with pytest.raises(InvalidCommit, match=f"signer org4-node0 is revoked at height {height}"):
        verify_commit(
            world.suite, chain_id, in_set, with_revoked, height=height, block_hash=cert.block_hash
        )
    # while every block at or below the revocation, signed by it or not, still verifies
    assert any("org4-node0" in signers(cluster.first, h) for h in range(1, revoked_at + 1))
    top = cluster.head
    for r in replicas.values():
        verify_history(cluster, r, top)
        assert r.ledger.block_hash(top) == cluster.first.ledger.block_hash(top)

    # --- a fresh replica replays every block and reaches the same head and state ----------------
    observer = cluster.add("observer", world.suite.generate_key(), voter=False)
    cluster.start("observer")
    goal = cluster.first.tip.height
    cluster.net.run_until(lambda: observer.tip.height >= goal)
    for h in range(1, goal + 1):
        assert observer.ledger.block_hash(h) == cluster.first.ledger.block_hash(h), h
        assert observer.ledger.state_root(h) == cluster.first.ledger.state_root(h), h
    verify_history(cluster, observer, goal)
    assert observer.ledger.has_tx(written)  # the revoked client's tx from before the revocation
    assert observer.view.config == cluster.first.view.config
    assert not observer.is_validator
