"""Introduction: the in-process test harness — a chain in memory, without a network.

``Harness`` runs contracts the way a node does, minus consensus and storage: every transaction
is signed by a member's X.509 identity (``LocalConsortium``), admitted by the real
``Admission`` (certificate chain, validity, role, signature, expiry, replay), and executed in a
block by the real ``execute_block`` with the system contracts, the contract registry and the
metering a validator uses. Deployments and upgrades go through the ``lifecycle`` system
contract with the organisations' admins approving, so the code a test runs is the code a
consortium would vote on, and an upgrade keeps the contract's state.

What a test controls: the organisations, members with roles and certificate attributes, the
height and time of the next block (``advance``, ``set_time``), which txs share a block
(``block``). What it reads: receipts with status, message, steps, value and events
(``CallResult``), any key's value and history, every event so far, the state root.

Invariants: block heights and times strictly increase; a block's writes are applied only
after the whole block executed; the state root is the one a node's header carries: the hash
of the state's LtHash, moved by each block's writes (``execution.roots``, decision 0050).

    h = Harness(["grower", "shop"])
    h.deploy("trace", source)
    alice = h.member("grower", "alice", attributes={"roles": "grower"})
    result = h.call(alice, "trace", "create", "B1", ...)
    assert result.ok and result.event_names() == ["created"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yulian.consensus.consortium_view import ConsortiumView
from yulian.contracts import Sender
from yulian.crypto.x509 import parse_certificate
from yulian.devkit.consortium import DEFAULT_GENESIS_TIME_MS, DEFAULT_ORGS, LocalConsortium
from yulian.devkit.results import (
    CallFailed,
    CallResult,
    DeployFailed,
    EventRecord,
    HarnessClient,
)
from yulian.execution.executor import BlockContext, ExecTx, execute_block, query_contract
from yulian.execution.overlay import scan_mapping, state_key
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import EMPTY_STATE_SUM, empty_state_root, state_root, state_sum_after
from yulian.execution.system import read_config, system_contracts
from yulian.execution.system.consortium import CONFIG_KEY, CONSORTIUM_CONTRACT
from yulian.execution.system.lifecycle import LIFECYCLE_CONTRACT
from yulian.mempool.admission import Admission, AdmissionError
from yulian.sdk.wallet import Wallet
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import decode_plain, to_plain
from yulian.types.genesis import ChainParams
from yulian.types.receipt import Receipt

DEFAULT_BLOCK_INTERVAL_MS = 1_000
TX_TTL_BLOCKS = 100
# who a query runs as: the API answers queries without an identity (node/readmodel.ANONYMOUS)
ANONYMOUS = Sender(org="", role="anonymous", id="", attributes={})
MAX_HISTORY = 10_000


class BlockFull(ValueError):
    """``Harness.block`` was given more txs than one block's step budget admits."""


class MemoryLedger:
    """Committed state with every version of every key: the ``StateView`` blocks run on."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.versions: dict[bytes, list[tuple[int, bytes | None]]] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        """Versions newest first, as the ledger answers ``ctx.state.history``."""
        return self.versions.get(key, [])[::-1][:limit]

    def oldest_in_window(
        self, windows: Sequence[tuple[bytes, int]]
    ) -> list[tuple[int, bytes | None] | None]:
        """``roots.WindowView``: each key's ``window``-th newest version, from memory."""
        out: list[tuple[int, bytes | None] | None] = []
        for key, window in windows:
            versions = self.versions.get(key, ())
            out.append(versions[-window] if len(versions) >= window else None)
        return out

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Live keys in order, as the ledger answers ``ctx.state.scan``."""
        return scan_mapping(self.data, prefix, limit, start_after)

    def apply(self, height: int, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
        for key, value in writes:
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
            self.versions.setdefault(key, []).append((height, value))


@dataclass(frozen=True)
class BlockRecord:
    """A committed block as the harness keeps it."""

    height: int
    time_ms: int
    tx_ids: tuple[str, ...]
    state_root: bytes


class Harness:
    """A chain in memory on a consortium of ``orgs`` (see the module docstring)."""

    def __init__(
        self,
        orgs: Sequence[str] = DEFAULT_ORGS,
        *,
        suite: str = "standard",
        genesis_time_ms: int = DEFAULT_GENESIS_TIME_MS,
        block_interval_ms: int = DEFAULT_BLOCK_INTERVAL_MS,
        step_limit: int | None = None,
        policies: Mapping[str, str] | None = None,
        contracts: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``contracts`` are pre-installed at genesis (no vote); ``deploy`` goes through the
        lifecycle as a consortium would."""
        if block_interval_ms <= 0:
            raise ValueError("block_interval_ms must be positive")
        params = ChainParams()
        if step_limit is not None:  # the block's budget holds at least one whole tx
            budget = max(params.max_block_steps, step_limit)
            params = ChainParams(step_limit=step_limit, max_block_steps=budget)
        self.consortium = LocalConsortium(
            orgs,
            suite=suite,
            genesis_time_ms=genesis_time_ms,
            params=params,
            policies=policies,
            contracts=contracts,
        )
        self.genesis = self.consortium.genesis
        self.suite = self.consortium.suite
        self.block_interval_ms = block_interval_ms
        self.registry = ContractRegistry(
            self.suite,
            self.genesis.contracts,
            system=system_contracts(self.suite, self.genesis),
        )
        self.ledger = MemoryLedger()
        self.height = 0
        self.time_ms = self.genesis.time_ms
        self.state_sum = EMPTY_STATE_SUM
        self.state_root = empty_state_root(self.suite)
        self.blocks: list[BlockRecord] = []
        self.results: list[CallResult] = []
        self._next_time_ms: int | None = None
        self._nonce = 0
        self._seen: set[bytes] = set()
        self._default_config = ConsortiumConfig.from_genesis(self.genesis)
        self._admission: tuple[bytes | None, Admission] | None = None
        self._names: dict[bytes, str] = {}  # certificate -> member name, for results

    # --- identities -----------------------------------------------------------------------
    @property
    def org_names(self) -> tuple[str, ...]:
        return self.consortium.org_names

    def admin(self, org: str) -> Wallet:
        """The admin of ``org``: approves deployments, acts for the organisation."""
        return self.consortium.admin(org)

    def member(
        self,
        org: str,
        name: str = "client",
        *,
        role: str = "client",
        attributes: Mapping[str, str] | None = None,
    ) -> Wallet:
        """A member of ``org`` with a certificate from its CA (``role``: client or admin;
        ``attributes`` ride in the certificate and reach ``ctx.sender.attributes``)."""
        return self.consortium.member(org, name, role=role, attributes=attributes)

    def client(self, wallet: Wallet | None = None) -> HarnessClient:
        """An object with ``yulian.sdk.Client``'s ``submit`` and ``query`` over this chain."""
        return HarnessClient(
            wallet,
            lambda w, contract, method, args: self.call(w, contract, method, *args),
            lambda contract, method, args: self.query_result(contract, method, *args),
        )

    # --- height and time --------------------------------------------------------------------
    @property
    def next_time_ms(self) -> int:
        """The time the next block will carry."""
        if self._next_time_ms is not None:
            return self._next_time_ms
        return self.time_ms + self.block_interval_ms

    def advance(self, *, blocks: int = 0, ms: int = 0) -> None:
        """As if ``blocks`` empty blocks were committed (height and time move on, the first
        at the time ``set_time`` asked for if it did, state does not change), then ``ms``
        more milliseconds pass before the next block."""
        if blocks < 0 or ms < 0:
            raise ValueError("time and height only move forward")
        if blocks:
            self.time_ms = self.next_time_ms + (blocks - 1) * self.block_interval_ms
            self.height += blocks
            self._next_time_ms = None
        if ms:
            self._next_time_ms = self.next_time_ms + ms

    def set_time(self, time_ms: int) -> None:
        """The next block's time (ms since the epoch); later than the last block's."""
        if time_ms <= self.time_ms:
            raise ValueError(f"block time {time_ms} is not after the last block's {self.time_ms}")
        self._next_time_ms = time_ms

    # --- transactions ------------------------------------------------------------------------
    def sign(self, wallet: Wallet, contract: str, method: str, *args: Any) -> bytes:
        """The envelope of a call, signed by ``wallet`` for the next few blocks."""
        self._nonce += 1
        return wallet.sign_tx(
            self.genesis.chain_id,
            contract,
            method,
            list(args),
            expires_at=self.height + TX_TTL_BLOCKS,
            nonce=self._nonce,
        ).encode()

    def admit(self, envelope: bytes) -> ExecTx:
        """Admit an envelope for the next block, as a node's API would: raises
        ``AdmissionError`` (with the API's stable code) for anything a node refuses."""
        tx = self._current_admission().check(
            envelope, height=self.height + 1, at_ms=self.next_time_ms
        )
        if tx.tx_id in self._seen:
            raise self._duplicate(tx.tx_id)
        return tx

    def tx(self, wallet: Wallet, contract: str, method: str, *args: Any) -> ExecTx:
        """A signed, admitted call to put in a ``block`` with others."""
        return self.admit(self.sign(wallet, contract, method, *args))

    def block(self, *txs: ExecTx) -> list[CallResult]:
        """Execute one block of ``txs`` at the next height and time, and commit it."""
        ids = [t.tx_id for t in txs]
        if len(set(ids)) != len(ids) or any(i in self._seen for i in ids):
            raise self._duplicate(next(i for i in ids if ids.count(i) > 1 or i in self._seen))
        height, time_ms = self.height + 1, self.next_time_ms
        params = self._config().params
        context = BlockContext(height, time_ms, params.step_limit, params.max_block_steps)
        result = execute_block(self.ledger, context, list(txs), self.registry.resolve)
        if len(result.receipts) < len(txs):  # a proposer would leave the rest for later
            raise BlockFull(
                f"txs {len(result.receipts)}.. do not fit the block's step budget of "
                f"{params.max_block_steps} (each may take {params.step_limit}); nothing committed"
            )
        self.state_sum = state_sum_after(
            self.suite, self.state_sum, self.ledger, height, result.writes
        )
        self.state_root = state_root(self.suite, self.state_sum)
        self.ledger.apply(height, result.writes)
        self.height, self.time_ms, self._next_time_ms = height, time_ms, None
        self._seen.update(ids)
        self.blocks.append(
            BlockRecord(height, time_ms, tuple(i.hex() for i in ids), self.state_root)
        )
        if any(t.signed.tx.contract in (CONSORTIUM_CONTRACT, LIFECYCLE_CONTRACT) for t in txs):
            self._admission = None  # members, revocations or contracts may have changed
        out = [
            self._result(tx, receipt, index)
            for index, (tx, receipt) in enumerate(zip(txs, result.receipts, strict=True))
        ]
        self.results.extend(out)
        return out

    def call(self, wallet: Wallet, contract: str, method: str, *args: Any) -> CallResult:
        """One tx in its own block; the receipt, whatever its status."""
        (result,) = self.block(self.tx(wallet, contract, method, *args))
        return result

    def ok(self, wallet: Wallet, contract: str, method: str, *args: Any) -> Any:
        """One tx in its own block that must succeed: its value, or ``CallFailed``."""
        return self.call(wallet, contract, method, *args).unwrap()

    def query_result(
        self, contract: str, method: str, *args: Any, caller: Wallet | None = None
    ) -> CallResult:
        """A read-only call on the committed state, as ``POST /v1/query`` makes it: by the
        anonymous sender, or as ``caller`` (a signed request, decision 0078); writes end it as
        reverted."""
        sender = ANONYMOUS
        if caller is not None:
            info = parse_certificate(caller.cert)
            sender = Sender(caller.org, caller.role, caller.id, dict(info.attributes))
        receipt = query_contract(
            self.ledger,
            BlockContext(self.height, self.time_ms, self._config().params.step_limit),
            contract,
            method,
            args,
            self.registry.resolve,
            sender,
        )
        return self._result(None, receipt, -1, contract, method, "anonymous")

    def query(self, contract: str, method: str, *args: Any, caller: Wallet | None = None) -> Any:
        """The value of a read-only call; ``CallFailed`` if it did not return."""
        return self.query_result(contract, method, *args, caller=caller).unwrap()

    # --- deployment --------------------------------------------------------------------------
    def deploy(self, name: str, source: str, version: str = "1.0") -> dict[str, Any]:
        """Make ``name`` ``version`` active through the lifecycle: the first organisation's
        admin proposes it, the others approve until the policy is met. An upgrade is the same
        call with a new version; the contract keeps its state. Raises ``DeployFailed``."""
        orgs = self.org_names
        proposed = self.call(
            self.admin(orgs[0]), LIFECYCLE_CONTRACT, "propose", name, version, source
        )
        if not proposed.ok:
            raise DeployFailed(f"{name} {version}: {proposed.status}: {proposed.message}")
        proposal = proposed.value
        for org in orgs[1:]:
            if proposal["status"] != "open":
                break
            approved = self.call(self.admin(org), LIFECYCLE_CONTRACT, "approve", proposal["id"])
            if not approved.ok:
                raise DeployFailed(f"{org} could not approve {name}: {approved.message}")
            proposal = approved.value
        if proposal["status"] != "applied":
            raise DeployFailed(f"{name} {version} was not applied: {proposal}")
        status: dict[str, Any] = self.query(LIFECYCLE_CONTRACT, "contract", name)
        return status

    def upgrade(self, name: str, source: str, version: str) -> dict[str, Any]:
        """``deploy`` of a new version of an active contract (its state stays)."""
        if self.ledger.get(state_key(LIFECYCLE_CONTRACT, "active/" + name)) is None:
            raise DeployFailed(f"{name} is not deployed; deploy it first")
        return self.deploy(name, source, version)

    # --- inspection -------------------------------------------------------------------------
    def state(self, contract: str, key: str, default: Any = None) -> Any:
        """The committed value of ``key`` in ``contract``'s state (plain lists and dicts)."""
        data = self.ledger.get(state_key(contract, key))
        return default if data is None else decode_plain(data)

    def history(self, contract: str, key: str, limit: int = 100) -> list[tuple[int, Any]]:
        """``(height, value or None)`` of every version of ``key``, newest first."""
        versions = self.ledger.history(state_key(contract, key), min(limit, MAX_HISTORY))
        return [(h, None if v is None else decode_plain(v)) for h, v in versions]

    def keys(self, contract: str, prefix: str = "") -> list[str]:
        """Every live key of ``contract`` starting with ``prefix``, sorted: a test's view of
        the whole state (contracts themselves read keys one by one)."""
        start = state_key(contract, prefix)
        cut = len(state_key(contract, ""))
        return sorted(k[cut:].decode("utf-8") for k in self.ledger.data if k.startswith(start))

    def events(self, contract: str | None = None, name: str | None = None) -> list[EventRecord]:
        """Every event of every committed ok receipt, in order, optionally filtered."""
        return [
            e
            for r in self.results
            for e in r.events
            if (contract is None or e.contract == contract) and (name is None or e.name == name)
        ]

    # --- internals ----------------------------------------------------------------------------
    def _config(self) -> ConsortiumConfig:
        return read_config(self.ledger, self._default_config)

    def _current_admission(self) -> Admission:
        """Admission with the consortium config of the committed state, rebuilt after a
        governance or lifecycle block (as a replica reconfigures after a commit)."""
        config_bytes = self.ledger.get(CONFIG_KEY)
        if self._admission is not None and self._admission[0] == config_bytes:
            return self._admission[1]
        view = ConsortiumView.of(self._config(), self.height + 1, self.suite)
        admission = Admission(
            self.suite,
            self.genesis.chain_id,
            view.params,
            view.membership,
            contract_exists=lambda name: self.registry.resolve(name, self.ledger) is not None,
            is_known=lambda tx_id: tx_id in self._seen,
        )
        self._admission = (config_bytes, admission)
        return admission

    @staticmethod
    def _duplicate(tx_id: bytes) -> AdmissionError:
        return AdmissionError("duplicate_tx", 409, f"tx {tx_id.hex()} was already submitted")

    def _result(
        self,
        tx: ExecTx | None,
        receipt: Receipt,
        index: int,
        contract: str = "",
        method: str = "",
        signer: str = "",
    ) -> CallResult:
        if tx is not None:
            call = tx.signed.tx
            contract, method = call.contract, call.method
            signer = f"{self._signer_name(tx.signed.tx.signer)}@{tx.sender.org}"
        tx_id = receipt.tx_id.hex()
        events = tuple(
            EventRecord(self.height, self.time_ms, tx_id, e.contract, e.name, to_plain(e.payload))
            for e in receipt.events
        )
        return CallResult(
            tx_id=tx_id,
            height=self.height,
            time_ms=self.time_ms,
            index=index,
            contract=contract,
            method=method,
            signer=signer,
            status=receipt.status,
            message=receipt.message,
            steps=receipt.steps,
            value=to_plain(receipt.value),
            events=events,
        )

    def _signer_name(self, cert: bytes) -> str:
        name = self._names.get(cert)
        if name is None:
            name = self._names[cert] = parse_certificate(cert).name
        return name


__all__ = ["BlockFull", "CallFailed", "CallResult", "DeployFailed", "EventRecord", "Harness"]
