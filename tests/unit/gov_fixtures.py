"""Shared helpers for the governance tests: a 4-organisation network on disk and a tiny ledger.

``World`` is one ``init_network`` directory (real certificates and keys) with helpers to load
wallets and to issue extra certificates from an organisation's CA. ``Chain`` is a ledger in
memory: it admits envelopes with the config of its committed state (as a replica does), runs
each block through ``execute_block`` with the system contracts, applies the block's writes and
keeps every version of every key, so a test can read the config of any height.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from yulian.consensus.evidence import MISBEHAVIOUR_CONTRACT, DuplicateVoteEvidence
from yulian.crypto.membership import Membership
from yulian.crypto.standard import Ed25519PrivateKey
from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import create_ca, issue_certificate, pem_to_der
from yulian.execution.executor import (
    BlockContext,
    BlockResult,
    ExecTx,
    SenderInfo,
    execute_block,
    query_contract,
)
from yulian.execution.registry import ContractRegistry
from yulian.execution.system import (
    ConsortiumContract,
    LifecycleContract,
    MisbehaviourContract,
    read_config,
)
from yulian.execution.system.consortium import CONFIG_KEY, CONSORTIUM_CONTRACT
from yulian.execution.system.lifecycle import LIFECYCLE_CONTRACT
from yulian.mempool.admission import Admission
from yulian.node.bootstrap import init_network
from yulian.pki.layout import NetworkLayout
from yulian.sdk import Wallet
from yulian.types.commit import PREVOTE, vote_sign_bytes
from yulian.types.consensus import Vote
from yulian.types.consortium import ConsortiumConfig
from yulian.types.genesis import Genesis
from yulian.types.receipt import Receipt

# Blocks are this far after the genesis time (certificates are back-dated one hour).
BLOCK_TIME_OFFSET_MS = 3_600_000
BLOCK_TIME_STEP_MS = 1_000
TX_TTL_BLOCKS = 50

COUNTER_V1 = """
def bump(ctx, by):
    ctx.require(by > 0, "by must be positive")
    value = ctx.state.get("n", 0) + by
    ctx.state.put("n", value)
    return value

def get(ctx):
    return ctx.state.get("n", 0)
"""

# v2 multiplies: the same state, different behaviour, so an upgrade is observable.
COUNTER_V2 = """
def bump(ctx, by):
    ctx.require(by > 0, "by must be positive")
    value = ctx.state.get("n", 0) + 10 * by
    ctx.state.put("n", value)
    return value

def get(ctx):
    return ctx.state.get("n", 0)

def version(ctx):
    return "v2"
"""

# An ordinary contract with a per-organisation rule: only members of ``org`` write its note.
NOTES = """
def write(ctx, org, text):
    ctx.require(ctx.sender.org == org, "only members of " + org + " may write its note")
    ctx.state.put("note/" + org, text)
    return text
"""


def make_registry(suite: Suite, genesis: Genesis) -> ContractRegistry:
    """The registry a replica builds: the three system contracts, then the genesis ones."""
    return ContractRegistry(
        suite,
        genesis.contracts,
        system={
            CONSORTIUM_CONTRACT: ConsortiumContract(suite, genesis),
            LIFECYCLE_CONTRACT: LifecycleContract(suite, genesis),
            MISBEHAVIOUR_CONTRACT: MisbehaviourContract(suite, genesis),
        },
    )


@dataclass
class World:
    """One network directory made by ``init_network``."""

    layout: NetworkLayout
    genesis: Genesis
    suite: Suite
    _wallets: dict[tuple[str, str], Wallet] = field(default_factory=dict)

    def wallet(self, org: str, name: str = "admin") -> Wallet:
        """``admin``, ``client1`` or a node (``org1-node0``) of ``org``."""
        key = (org, name)
        if key not in self._wallets:
            cred = self.layout.credential(org, name)
            self._wallets[key] = Wallet.from_files(cred.key, cred.cert, self.genesis.suite)
        return self._wallets[key]

    def ca(self, org: str) -> tuple[bytes, PrivateKey]:
        layout = self.layout.org(org)
        der = pem_to_der(layout.ca_cert.read_bytes())
        return der, self.suite.load_private_key(layout.ca_key.read_bytes())

    def at(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    def issue(
        self,
        org: str,
        role: str,
        name: str,
        *,
        key: PrivateKey | None = None,
        not_before_ms: int | None = None,
        not_after_ms: int | None = None,
        subject_org: str | None = None,
    ) -> Wallet:
        """A new member of ``org`` (issued by ``org``'s CA), valid from an hour before the
        genesis for a year unless told otherwise; ``subject_org`` names another organisation
        in the subject (the certificate is still signed by ``org``'s CA)."""
        ca_der, ca_key = self.ca(org)
        key = key if key is not None else self.suite.generate_key()
        before = self.genesis.time_ms - 3_600_000 if not_before_ms is None else not_before_ms
        after = self.genesis.time_ms + 365 * 86_400_000 if not_after_ms is None else not_after_ms
        cert = issue_certificate(
            self.suite,
            ca_cert=ca_der,
            ca_key=ca_key,
            org=org,
            role=role,
            name=name,
            public_key=key.public_key(),
            not_before=self.at(before),
            not_after=self.at(after),
        )
        if subject_org is not None:
            cert = _resubject(ca_der, ca_key, cert, subject_org, key)
        return Wallet(self.suite, key, cert)

    def new_org(self, name: str) -> tuple[bytes, Wallet]:
        """A root CA for a new organisation ``name`` and its admin's wallet."""
        ca_key = self.suite.generate_key()
        start = self.at(self.genesis.time_ms - 3_600_000)
        end = start + timedelta(days=3650)
        ca_der = create_ca(self.suite, name, ca_key, not_before=start, not_after=end)
        admin_key = self.suite.generate_key()
        cert = issue_certificate(
            self.suite,
            ca_cert=ca_der,
            ca_key=ca_key,
            org=name,
            role="admin",
            name="admin",
            public_key=admin_key.public_key(),
            not_before=start,
            not_after=end,
        )
        return ca_der, Wallet(self.suite, admin_key, cert)

    def node_key(self, node: str) -> PrivateKey:
        cred = self.layout.node(node).credential
        return self.suite.load_private_key(cred.key.read_bytes())

    def evidence(self, node: str, height: int = 1) -> bytes:
        """Genuine evidence that validator ``node`` prevoted twice at ``height``, round 0."""
        key = self.node_key(node)
        votes = []
        for block_hash in (b"\x0a" * 32, b"\x0b" * 32):
            sig = key.sign(vote_sign_bytes(self.genesis.chain_id, PREVOTE, height, 0, block_hash))
            votes.append(Vote(PREVOTE, height, 0, block_hash, node, sig))
        return DuplicateVoteEvidence.of(*votes).encode()


def _resubject(ca_der: bytes, ca_key: PrivateKey, cert: bytes, org: str, key: PrivateKey) -> bytes:
    """``cert`` re-issued by the same CA with ``O=org`` in its subject (role and name kept):
    what ``issue_certificate`` refuses to build."""
    assert isinstance(ca_key, Ed25519PrivateKey) and isinstance(key, Ed25519PrivateKey)
    issuer = x509.load_der_x509_certificate(ca_der)
    original = x509.load_der_x509_certificate(cert)
    kept = [a for a in original.subject if a.oid != NameOID.ORGANIZATION_NAME]
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), *kept])
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.crypto_key().public_key())
        .serial_number(original.serial_number)
        .not_valid_before(original.not_valid_before_utc)
        .not_valid_after(original.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key.crypto_key(), None)
    )
    return built.public_bytes(Encoding.DER)


def make_world(directory: Path, *, contracts: Sequence[tuple[str, str]] = ()) -> World:
    layout = init_network(directory, orgs=4, validators=4, contracts=contracts)
    genesis = Genesis.load(layout.genesis)
    return World(layout, genesis, get_suite(genesis.suite))


class MemoryLedger:
    """Committed state with every version of every key (a ``StateView`` with ``get_at``)."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return list(reversed(self.versions.get(key, [])))[:limit]

    def get_at(self, key: bytes, height: int) -> bytes | None:
        value = None
        for h, v in self.versions.get(key, []):
            if h > height:
                break
            value = v
        return value

    def apply(self, height: int, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
            self.versions.setdefault(key, []).append((height, value))

    def copy(self) -> MemoryLedger:
        other = MemoryLedger()
        other.data = dict(self.data)
        other.versions = {k: list(v) for k, v in self.versions.items()}
        return other


class Chain:
    """A chain in memory on ``world``'s genesis: admission as of the committed state, then
    ``execute_block`` at the next height, then the writes applied."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.genesis = world.genesis
        self.suite = world.suite
        self.default = ConsortiumConfig.from_genesis(world.genesis)
        self.registry = make_registry(world.suite, world.genesis)
        self.ledger = MemoryLedger()
        self.height = 0
        self.nonce = 0
        self.blocks: list[tuple[BlockContext, tuple[ExecTx, ...]]] = []
        self.results: list[BlockResult] = []

    # --- reading -------------------------------------------------------------------------
    def config(self, height: int | None = None) -> ConsortiumConfig:
        """The config after block ``height`` (default: the head)."""
        if height is None:
            return read_config(self.ledger, self.default)
        data = self.ledger.get_at(CONFIG_KEY, height)
        return ConsortiumConfig.decode(data) if data is not None else self.default

    def time_ms(self, height: int) -> int:
        return self.genesis.time_ms + BLOCK_TIME_OFFSET_MS + height * BLOCK_TIME_STEP_MS

    def query(self, contract: str, method: str, *args: Any) -> Any:
        sender = SenderInfo("org1", "client", "reader", {})
        receipt = query_contract(
            self.ledger,
            BlockContext(self.height, self.time_ms(self.height), 1_000_000),
            contract,
            method,
            args,
            self.registry.resolve,
            sender,
        )
        assert receipt.status == "ok", (contract, method, receipt.message)
        return receipt.value

    # --- writing -------------------------------------------------------------------------
    def admission(self, *, any_contract: bool = False) -> Admission:
        """Admission with the config of the committed state, built as ``Replica._membership``
        and ``Replica._reload_config`` build it after a commit (keep the two in step).
        ``any_contract`` skips the contract-exists check (for a tx that calls a contract
        deployed earlier in the same block, which the committed state does not know yet)."""
        config = self.config()
        membership = Membership(
            self.suite,
            config.organisations,
            revoked_ids=config.revoked_ids(),
            revoked_keys=config.revoked_keys(),
        )
        exists: Callable[[str], bool] = (
            (lambda _name: True)
            if any_contract
            else (lambda name: self.registry.resolve(name, self.ledger) is not None)
        )
        return Admission(
            self.suite,
            self.genesis.chain_id,
            config.params,
            membership,
            contract_exists=exists,
            is_known=lambda _tx_id: False,
        )

    def sign(self, wallet: Wallet, contract: str, method: str, *args: Any) -> bytes:
        self.nonce += 1
        return wallet.sign_tx(
            self.genesis.chain_id,
            contract,
            method,
            list(args),
            expires_at=self.height + TX_TTL_BLOCKS,
            nonce=self.nonce,
        ).encode()

    def admit(self, envelope: bytes, *, any_contract: bool = False) -> ExecTx:
        """Admit ``envelope`` for the next block; raises ``AdmissionError``."""
        return self.admission(any_contract=any_contract).check(
            envelope, height=self.height + 1, at_ms=self.time_ms(self.height + 1)
        )

    def tx(self, wallet: Wallet, contract: str, method: str, *args: Any) -> ExecTx:
        return self.admit(self.sign(wallet, contract, method, *args))

    def run(self, *txs: ExecTx) -> tuple[Receipt, ...]:
        """Execute one block of ``txs`` at the next height and commit its writes."""
        height = self.height + 1
        block = BlockContext(height, self.time_ms(height), self.genesis.params.step_limit)
        result = execute_block(self.ledger, block, list(txs), self.registry.resolve)
        self.ledger.apply(height, result.writes)
        self.height = height
        self.blocks.append((block, tuple(txs)))
        self.results.append(result)
        return result.receipts

    def call(self, wallet: Wallet, contract: str, method: str, *args: Any) -> Receipt:
        """One tx in its own block."""
        (receipt,) = self.run(self.tx(wallet, contract, method, *args))
        return receipt

    def empty(self, n: int = 1) -> None:
        for _ in range(n):
            self.run()

    def fork(self) -> Chain:
        """An independent copy of this chain (its state, height and nonce)."""
        other = Chain(self.world)
        other.ledger = self.ledger.copy()
        other.height = self.height
        other.nonce = self.nonce
        other.blocks = list(self.blocks)
        other.results = list(self.results)
        return other

    # --- governance shortcuts ---------------------------------------------------------------
    def propose(self, org: str, kind: str, args: Sequence[Any]) -> Receipt:
        return self.call(self.world.wallet(org), CONSORTIUM_CONTRACT, "propose", kind, list(args))

    def approve(self, org: str, pid: int, contract: str = CONSORTIUM_CONTRACT) -> Receipt:
        return self.call(self.world.wallet(org), contract, "approve", pid)

    def enact(self, kind: str, args: Sequence[Any], orgs: Sequence[str]) -> int:
        """Propose by ``orgs[0]``, approve by the rest; return the id. Each tx its own block;
        asserts the last one applied it."""
        receipt = self.propose(orgs[0], kind, args)
        assert receipt.status == "ok", receipt.message
        pid = int(receipt.value["id"])
        for org in orgs[1:]:
            receipt = self.approve(org, pid)
            assert receipt.status == "ok", receipt.message
        assert receipt.value["status"] == "applied", receipt.value
        return pid
