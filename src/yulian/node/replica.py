"""Introduction: the replica — a node's deterministic state machine, without sockets or clock.

The replica joins the pure parts (the consensus ``step``, ``make_block`` / ``check_block``,
admission) with the durable ones behind interfaces (the ``Ledger``, the safety rules' file, the
consensus WAL). It is driven by three kinds of input, each carrying the time as a number:
messages from peers, fired timers and client transactions; it answers with ``Outputs``
(messages to broadcast or send, timers to arm, blocks committed, peers to drop). The asyncio
node (``node/node.py``) performs those outputs with real sockets and timers; the simulator
(``yulian.sim``) performs them with a seeded network and clock. Both run this same code.

Order of effects (the whole safety story, as in etcd-raft): a consensus input is appended to
the WAL *before* the core sees it; a vote or proposal is signed by the safety rules, which
persist before they return the signature, *before* it is sent; a decided block is written to
the ledger in one atomic transaction *before* anyone is told it is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from yulian.consensus import core
from yulian.consensus.core import (
    CastVote,
    ConsensusConfig,
    Decide,
    ProposalReceived,
    ProposeBlock,
    ReportEquivocation,
    ScheduleTimeout,
    StartHeight,
    TimeoutFired,
    VoteReceived,
)
from yulian.consensus.evidence import (
    DuplicateVoteEvidence,
    evidence_key,
    evidence_tx,
)
from yulian.consensus.proposer import proposer
from yulian.consensus.safety import SafetyRules, SafetyViolation
from yulian.consensus.votes import InvalidCommit, ValidatorSet, verify_commit
from yulian.consensus.wal import WAL
from yulian.crypto.membership import Membership
from yulian.crypto.suite import PrivateKey, Suite
from yulian.execution.blocks import ChainTip, InvalidBlock, check_block, make_block
from yulian.execution.executor import BlockResult, ExecTx
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import genesis_state_root
from yulian.execution.system import read_config, system_contracts
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import MAX_TXS_PER_BLOCK, BlockCommit, Ledger, block_events
from yulian.mempool.admission import Admission, AdmissionError
from yulian.mempool.pool import Mempool
from yulian.net.messages import Message
from yulian.types.block import Block
from yulian.types.commit import PREVOTE, CommitCertificate
from yulian.types.consensus import Proposal, Vote
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError, decode, encode
from yulian.types.genesis import Genesis
from yulian.types.tx import SignedTx

log = logging.getLogger("yulian.replica")

MAX_FUTURE_MESSAGES = 2000  # buffered messages for the next height
MAX_CLOCK_DRIFT_MS = 10_000  # a proposal's block time may be this far ahead of ours
SYNC_BATCH = 32
EVIDENCE_TTL_BLOCKS = 100
MAX_RESEND = 16  # own messages re-sent per tick (the latest ones)
WAL_RESET_BYTES = 16 * 1024 * 1024  # the WAL is emptied at a commit once it is this large
WAL_PROPOSAL = "proposal"
WAL_VOTE = "vote"


@dataclass(frozen=True)
class Timer:
    kind: str  # "propose" | "prevote" | "precommit" | "build"
    height: int
    round: int
    due_ms: int


@dataclass(frozen=True)
class Committed:
    height: int
    block_hash: bytes
    time_ms: int
    tx_ids: tuple[bytes, ...]


@dataclass
class Outputs:
    broadcast: list[Message] = field(default_factory=list)
    send: list[tuple[str, Message]] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    committed: list[Committed] = field(default_factory=list)
    drop: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: Outputs) -> None:
        self.broadcast += other.broadcast
        self.send += other.send
        self.timers += other.timers
        self.committed += other.committed
        self.drop += other.drop


@dataclass(frozen=True)
class ReplicaConfig:
    """Per-node settings. Timeouts and the block interval are chain parameters (set at genesis,
    changed by governance); a value here (the simulator's) overrides them, 0 means the chain's."""

    name: str  # this node's name (its validator name when it is a validator)
    block_interval_ms: int = 0  # the proposer waits this long after a commit to fill a block
    empty_block_interval_ms: int = 1000  # an idle network still commits a block this often
    timeout_propose_ms: int = 0
    timeout_prevote_ms: int = 0
    timeout_precommit_ms: int = 0
    timeout_delta_ms: int = 0
    mempool_size: int = 20_000
    node_cert: bytes = b""  # DER; lets the replica sign evidence txs as itself


class Replica:
    def __init__(
        self,
        genesis: Genesis,
        suite: Suite,
        key: PrivateKey,
        ledger: Ledger,
        safety: SafetyRules | None,
        wal: WAL,
        config: ReplicaConfig,
    ) -> None:
        self.genesis = genesis
        self.suite = suite
        self.key = key
        self.ledger = ledger
        self.safety = safety
        self.wal = wal
        self.config = config
        self.chain_id = genesis.chain_id
        self.genesis_hash = suite.hash(genesis.encode())
        self.genesis_config = ConsortiumConfig.from_genesis(genesis)
        self.registry = ContractRegistry(
            suite,
            genesis.contracts,
            system=system_contracts(suite, genesis),
        )
        self.mempool = Mempool(config.mempool_size)
        self._known_contracts: set[str] = set()
        self.consortium = read_config(ledger, self.genesis_config)
        self.config_hash = self._config_hash()
        self.params = self.consortium.params
        self.membership = self._membership(self.consortium)
        self.admission = Admission(
            suite,
            self.chain_id,
            self.params,
            self.membership,
            contract_exists=self._contract_exists,
            is_known=lambda tx_id: tx_id in self.mempool or self.ledger.has_tx(tx_id),
            is_known_many=self._known_many,
        )
        self.tip = self._load_tip()
        self._configure_height(self.tip.height + 1)
        self.state = core.initial_state(self.consensus_config, self.tip.height + 1)
        self._results: dict[bytes, tuple[Block, BlockResult]] = {}  # by block hash, this height
        self._future: list[tuple[str, Message]] = []  # messages for the next height
        self._pending_build: tuple[int, int] | None = None
        self._own: list[Message] = []  # our proposal and votes at this height, re-sent on ticks
        self._seen_votes: set[bytes] = set()  # this height's votes already processed
        self._seen_proposals: set[tuple[int, bytes, bytes]] = set()
        self._wal_bytes = WAL_RESET_BYTES + 1  # reset the WAL at the first commit
        self._reported: set[str] = set()
        self.pending_evidence: list[DuplicateVoteEvidence] = []
        self.peer_heights: dict[str, int] = {}
        self._sync_inflight: dict[str, int] = {}
        self.last_commit_ms = self.tip.time_ms
        self.round = 0

    # --- start-up ---------------------------------------------------------------------------
    def _load_tip(self) -> ChainTip:
        height = self.ledger.height()
        if height == 0:
            return ChainTip(
                0,
                self.genesis_hash,
                genesis_state_root(self.suite, self.genesis_hash),
                self.genesis.time_ms,
            )
        block_bytes = self.ledger.block(height)
        block_hash = self.ledger.block_hash(height)
        assert block_bytes is not None and block_hash is not None, "the head block is present"
        header = Block.decode(block_bytes).header
        return ChainTip(height, block_hash, header.state_root, header.time_ms)

    def _contract_exists(self, name: str) -> bool:
        """Whether ``name`` is callable on the committed state. Nothing is ever undeployed, so
        a name once found stays found (and is not looked up in storage again)."""
        if name in self._known_contracts:
            return True
        if self.registry.resolve(name, self.ledger) is None:
            return False
        self._known_contracts.add(name)
        return True

    # --- the consortium config of a height ---------------------------------------------------
    def _membership(self, config: ConsortiumConfig) -> Membership:
        return Membership(
            self.suite,
            config.organisations,
            revoked_ids=config.revoked_ids(),
            revoked_keys=config.revoked_keys(),
        )

    def _reload_config(self) -> None:
        """The committed state changed the consortium config: re-read it (a block committed)."""
        self.consortium = read_config(self.ledger, self.genesis_config)
        self.config_hash = self._config_hash()
        self.params = self.consortium.params
        self.membership = self._membership(self.consortium)
        self.admission.reconfigure(self.params, self.membership)

    def _config_hash(self) -> bytes:
        data = self.ledger.get(CONFIG_KEY)
        return self.suite.hash(data if data is not None else self.genesis_config.encode())

    def _configure_height(self, height: int) -> None:
        """Who signs ``height``: its validator set (from the schedule in the config after
        ``height - 1``), whether we are one of them, and the consensus timeouts."""
        validators = self.consortium.validators_at(height)
        self.validators = ValidatorSet(validators, self.consortium.revoked_keys())
        self.validators_hash = self.suite.hash(encode(tuple(v.to_value() for v in validators)))
        me = self.validators.signer(self.config.name)
        self.is_validator = (
            me is not None and me.public_key == self.key.public_key() and self.safety is not None
        )
        p, c = self.params, self.config
        self.consensus_config = ConsensusConfig(
            chain_id=self.chain_id,
            me=c.name if self.is_validator else None,
            validators=self.validators,
            timeout_propose_ms=c.timeout_propose_ms or p.timeout_propose_ms,
            timeout_prevote_ms=c.timeout_prevote_ms or p.timeout_prevote_ms,
            timeout_precommit_ms=c.timeout_precommit_ms or p.timeout_precommit_ms,
            timeout_delta_ms=c.timeout_delta_ms or p.timeout_delta_ms,
        )

    @property
    def block_interval_ms(self) -> int:
        return self.config.block_interval_ms or self.params.block_interval_ms

    def start(self, now_ms: int) -> Outputs:
        """Begin the next height, replaying this height's WAL records (crash recovery)."""
        out = self._start_height(now_ms)
        replayed = 0
        mine: list[Message] = []  # what we signed at this height before the crash: re-sent
        for record in self.wal.records():
            kind, height, data = _decode_wal_record(record)
            if height != self.tip.height + 1:
                continue
            replayed += 1
            if kind == WAL_PROPOSAL:
                out.extend(self._on_proposal_bytes(None, data, now_ms, from_wal=True))
                if Proposal.decode(data).proposer == self.config.name:
                    mine.append(Message("proposal", data))
            elif kind == WAL_VOTE:
                out.extend(self._on_vote_bytes(None, data, now_ms, from_wal=True))
                if Vote.decode(data).validator == self.config.name:
                    mine.append(Message("vote", data))
        last = self.safety.data.last_vote if self.safety is not None else None
        if last is not None and last.height == self.tip.height + 1:
            last_message = Message("vote", last.encode())
            if last_message not in mine:  # signed, but its WAL record was lost: it counts
                self._seen_votes.add(last.encode())
                out.extend(self._step(VoteReceived(last), now_ms))
                mine.append(last_message)
        fresh = [m for m in dict.fromkeys(mine) if m not in self._own]
        self._own[:0] = fresh
        out.broadcast.extend(fresh)
        if replayed:
            log.info(
                "%s replayed %d WAL records at height %d",
                self.config.name,
                replayed,
                self.tip.height + 1,
            )
        out.broadcast.append(self.status_message())
        return out

    def _start_height(self, now_ms: int) -> Outputs:
        self._configure_height(self.tip.height + 1)
        self.state = core.initial_state(self.consensus_config, self.tip.height + 1)
        self._results = {}
        self._pending_build = None
        self._own = []
        self._seen_votes = set()
        self._seen_proposals = set()
        return self._step(StartHeight(self.tip.height + 1), now_ms)

    # --- inputs -----------------------------------------------------------------------------
    def submit(self, data: bytes, now_ms: int, *, client: bool = True) -> ExecTx:
        """A tx from this node's client (or, ``client=False``, from the node itself): admit it
        and keep it; raises ``AdmissionError``. A full mempool refuses before any check, so an
        overload costs no signature checks."""
        if (self.client_room() if client else self.mempool.room()) == 0:
            raise AdmissionError("mempool_full", 503, "too many txs are pending; retry later")
        tx = self.admission.admit(data, next_height=self.tip.height + 1, now_ms=now_ms)
        self.mempool.add(tx, local=client)
        return tx

    def submit_many(
        self, datas: Sequence[bytes], now_ms: int, *, client: bool = True
    ) -> list[ExecTx | AdmissionError]:
        """``submit`` for each envelope in order (the duplicate check asked once for the
        batch): the admitted tx or why it was refused; ``client=False`` for a peer's gossip.
        Envelopes beyond the room are refused with ``mempool_full`` before any check, so an
        overload (a spike, or gossip into a full pool) costs no signature checks for txs that
        could not be kept."""
        room = self.client_room() if client else self.mempool.room()
        full = AdmissionError("mempool_full", 503, "too many txs are pending; retry later")
        if room < len(datas):
            return self.submit_many(datas[:room], now_ms, client=client) + [full] * (
                len(datas) - room
            )
        verdicts = self.admission.admit_many(datas, next_height=self.tip.height + 1, now_ms=now_ms)
        for i, verdict in enumerate(verdicts):
            if isinstance(verdict, ExecTx):
                try:
                    self.mempool.add(verdict, local=client)
                except AdmissionError as e:
                    verdicts[i] = e
        return verdicts

    def client_room(self) -> int:
        """Room for this node's own clients' txs: pending, they may fill only this node's share
        of the pool (size / validators); the rest is kept for peers' gossip. Under overload
        every node can then still hold every other node's txs; pools that diverge make each
        proposal carry txs its validators must check on the critical path, and a network
        slows down exactly when it is busiest."""
        share = self.mempool.max_size // max(1, len(self.validators.validators))
        return max(0, min(self.mempool.room(), share - self.mempool.local_count()))

    def _known_many(self, tx_ids: Sequence[bytes]) -> list[bool]:
        """Pending or committed, per id: the mempool, then one ledger read per chunk."""
        known = [tx_id in self.mempool for tx_id in tx_ids]
        rest = [k for k, pending in enumerate(known) if not pending]
        for start in range(0, len(rest), MAX_TXS_PER_BLOCK):
            chunk = rest[start : start + MAX_TXS_PER_BLOCK]
            for k, committed in zip(
                chunk, self.ledger.has_txs([tx_ids[k] for k in chunk]), strict=True
            ):
                known[k] = committed
        return known

    def on_message(self, peer: str, msg: Message, now_ms: int) -> Outputs:
        kind, payload = msg.kind, msg.payload
        if kind == "vote":
            return self._on_vote_bytes(peer, payload, now_ms)
        if kind == "proposal":
            return self._on_proposal_bytes(peer, payload, now_ms)
        if kind == "txs":  # known or invalid txs are dropped: gossip is best effort
            self.submit_many(payload, now_ms, client=False)
            return Outputs()
        if kind == "status":
            return self._on_status(peer, int(payload[0]), now_ms)
        if kind == "get_blocks":
            return self._serve_blocks(peer, int(payload[0]), int(payload[1]))
        if kind == "blocks":
            return self._on_blocks(peer, payload, now_ms)
        if kind == "evidence":
            return Outputs()
        return Outputs()

    def on_tick(self, now_ms: int) -> Outputs:
        """Periodic: re-send our own proposal and votes of this height (the core assumes
        messages eventually arrive and keeps no outbox), our status, and sync requests."""
        out = Outputs()
        out.broadcast.extend(self._own[-MAX_RESEND:])
        s = self.state
        if s.valid_round >= 0 and s.valid_hash is not None:  # the proof of lock of validValue
            prevotes = s.vote_set(s.valid_round, PREVOTE)
            own = set(self._own)
            for vote in prevotes.votes_for(s.valid_hash) if prevotes is not None else ():
                if Message("vote", vote.encode()) not in own:
                    out.broadcast.append(Message("vote", vote.encode()))
        out.broadcast.append(self.status_message())
        self._sync_inflight.clear()  # an unanswered request is retried, maybe elsewhere
        out.extend(self.sync_requests())
        return out

    def on_timer(self, timer: Timer, now_ms: int) -> Outputs:
        if timer.kind == "build":
            return self._on_build_timer(timer, now_ms)
        return self._step(TimeoutFired(timer.kind, timer.height, timer.round), now_ms)

    # --- consensus messages -----------------------------------------------------------------
    def _on_vote_bytes(
        self, peer: str | None, data: bytes, now_ms: int, *, from_wal: bool = False
    ) -> Outputs:
        try:
            vote = Vote.decode(data)
        except DecodeError as e:
            return self._bad_peer(peer, f"malformed vote: {e}")
        next_height = self.tip.height + 1
        if vote.height < next_height:
            return Outputs()
        if vote.height > next_height:
            return self._buffer_future(peer, Message("vote", data))
        if data in self._seen_votes:
            return Outputs()  # a re-sent vote: already verified, logged and counted
        validator = self.validators.signer(vote.validator)
        if validator is None:
            return self._bad_peer(peer, f"vote from non-validator {vote.validator}")
        if not self.suite.verify(
            validator.public_key, vote.sign_bytes(self.chain_id), vote.signature
        ):
            return self._bad_peer(peer, f"bad vote signature from {vote.validator}")
        self._seen_votes.add(data)
        if not from_wal:
            self._log(WAL_VOTE, vote.height, data)
        return self._step(VoteReceived(vote), now_ms)

    def _on_proposal_bytes(
        self, peer: str | None, data: bytes, now_ms: int, *, from_wal: bool = False
    ) -> Outputs:
        try:
            proposal = Proposal.decode(data)
        except DecodeError as e:
            return self._bad_peer(peer, f"malformed proposal: {e}")
        next_height = self.tip.height + 1
        if proposal.height < next_height:
            return Outputs()
        if proposal.height > next_height:
            return self._buffer_future(peer, Message("proposal", data))
        seen_key = (proposal.round, proposal.block_hash, proposal.signature)
        if seen_key in self._seen_proposals:
            return Outputs()  # a re-sent proposal: already validated, logged and stepped
        expected = proposer(self.validators, proposal.height, proposal.round)
        validator = self.validators.signer(proposal.proposer)
        if proposal.proposer != expected or validator is None:
            return self._bad_peer(
                peer,
                f"proposal from {proposal.proposer}, proposer of "
                f"({proposal.height}, {proposal.round}) is {expected}",
            )
        if not self.suite.verify(
            validator.public_key, proposal.sign_bytes(self.chain_id), proposal.signature
        ):
            return self._bad_peer(peer, f"bad proposal signature from {proposal.proposer}")
        valid = self._validate_proposal(proposal, now_ms)
        self._seen_proposals.add(seen_key)
        if not from_wal:
            self._log(WAL_PROPOSAL, proposal.height, data)
        return self._step(ProposalReceived(proposal, valid), now_ms)

    def _log(self, kind: str, height: int, data: bytes) -> None:
        """Append a consensus input to the WAL before the core sees it."""
        record = _wal_record(kind, height, data)
        self.wal.append(record, sync=False)
        self._wal_bytes += len(record)

    def _validate_proposal(self, proposal: Proposal, now_ms: int) -> bool:
        """Decode, check every tx as admission would at the block's height and time, and
        re-execute: valid iff every root matches. The result is cached for the commit."""
        if proposal.block_hash in self._results:
            return True
        try:
            block = Block.decode(proposal.block)
        except DecodeError as e:
            log.warning("proposal block malformed: %s", e)
            return False
        header = block.header
        if header.hash(self.suite.hash) != proposal.block_hash:
            return False
        if header.time_ms > now_ms + MAX_CLOCK_DRIFT_MS:
            return False
        # a new block is built by its proposer; a re-proposed one (pol_round >= 0) keeps the
        # header of whichever validator built it
        if header.proposer != proposal.proposer and (
            proposal.pol_round < 0 or self.validators.by_name(header.proposer) is None
        ):
            return False
        try:
            result = self._replay_block(block)
        except InvalidBlock as e:
            log.warning("%s: invalid proposal at height %d: %s", self.config.name, header.height, e)
            return False
        self._results[proposal.block_hash] = (block, result)
        return True

    def _replay_block(self, block: Block) -> BlockResult:
        """Admit the block's txs as at its height and time, re-execute it on the tip and compare
        every root; raises ``InvalidBlock``. Proposals and synced blocks both pass through it."""
        txs = self._txs_for_block(block)
        if txs is None:
            raise InvalidBlock(f"block {block.header.height}: a tx is refused or repeated")
        return check_block(
            self.suite,
            self.chain_id,
            self.ledger,
            self.tip,
            block,
            validators_hash=self.validators_hash,
            config_hash=self.config_hash,
            txs=txs,
            resolve=self.registry.resolve,
            step_limit=self.params.step_limit,
        )

    def _txs_for_block(self, block: Block) -> list[ExecTx] | None:
        header = block.header
        if len(block.txs) > self.params.max_block_txs:
            return None
        txs: list[ExecTx] = []
        seen: set[bytes] = set()
        unknown: list[bytes] = []  # ids not pending here: committed ones refuse the block
        for envelope in block.txs:
            # a tx we admitted from the same bytes is pending, hence not committed (commits
            # leave the mempool): only its height-, time- and config-dependent checks rerun
            pending = self.mempool.lookup(envelope)
            try:
                if pending is not None:
                    tx = self.admission.recheck(pending, height=header.height, at_ms=header.time_ms)
                else:
                    tx = self.admission.check(envelope, height=header.height, at_ms=header.time_ms)
                    unknown.append(tx.tx_id)
            except AdmissionError as e:
                log.warning("block %d carries a refused tx: %s", header.height, e)
                return None
            if tx.tx_id in seen:
                return None
            seen.add(tx.tx_id)
            txs.append(tx)
        if unknown and any(self.ledger.has_txs(unknown)):
            return None
        return txs

    # --- the core and its effects -----------------------------------------------------------
    def _step(self, event: core.Event, now_ms: int) -> Outputs:
        out = Outputs()
        queue: list[core.Event] = [event]
        while queue:
            self.state, effects = core.step(self.consensus_config, self.state, queue.pop(0))
            for effect in effects:
                queue.extend(self._perform(effect, now_ms, out))
        self.round = self.state.round
        return out

    def _perform(self, effect: core.Effect, now_ms: int, out: Outputs) -> list[core.Event]:
        if isinstance(effect, ScheduleTimeout):
            out.timers.append(
                Timer(effect.kind, effect.height, effect.round, now_ms + effect.duration_ms)
            )
        elif isinstance(effect, CastVote):
            assert self.safety is not None
            self.wal.sync()  # every input that led to this vote is durable before it is signed
            try:
                vote = self.safety.sign_vote(
                    effect.type, effect.height, effect.round, effect.block_hash
                )
            except SafetyViolation as e:
                log.warning("%s: safety rules refused a vote: %s", self.config.name, e)
                return []
            data = vote.encode()
            self._seen_votes.add(data)
            self._log(WAL_VOTE, vote.height, data)
            out.broadcast.append(Message("vote", data))
            self._own.append(Message("vote", data))
            return [VoteReceived(vote)]
        elif isinstance(effect, ProposeBlock):
            if effect.block is not None and effect.block_hash is not None:
                return self._propose(
                    effect.height,
                    effect.round,
                    effect.pol_round,
                    effect.block,
                    effect.block_hash,
                    out,
                )
            self._pending_build = (effect.height, effect.round)
            due = min(self._build_due(now_ms), now_ms + self.block_interval_ms)
            out.timers.append(Timer("build", effect.height, effect.round, due))
        elif isinstance(effect, Decide):
            self._commit(effect.block, effect.block_hash, effect.certificate, out)
            out.extend(self._start_height(now_ms))
            out.extend(self._replay_future(now_ms))
        elif isinstance(effect, ReportEquivocation):
            self._report(effect.first, effect.second, now_ms)
        return []

    def _build_due(self, now_ms: int) -> int:
        """When the proposer builds: a block interval after the last commit if txs wait, an
        empty-block interval otherwise. The build timer polls every block interval until then,
        so a tx arriving at an idle chain waits at most one block interval."""
        if len(self.mempool) > 0:
            return max(now_ms, self.last_commit_ms + self.block_interval_ms)
        return max(now_ms, self.last_commit_ms + self.config.empty_block_interval_ms)

    def _on_build_timer(self, timer: Timer, now_ms: int) -> Outputs:
        out = Outputs()
        if self._pending_build != (timer.height, timer.round):
            return out
        due = self._build_due(now_ms)
        if due > now_ms and not len(self.mempool) >= self.params.max_block_txs:
            out.timers.append(
                Timer(
                    "build",
                    timer.height,
                    timer.round,
                    min(due, now_ms + self.block_interval_ms),
                )
            )
            return out
        self._pending_build = None
        next_height = self.tip.height + 1
        txs = self.mempool.reap(self.params.max_block_txs, next_height)
        time_ms = max(now_ms, self.tip.time_ms + 1)
        block, result = make_block(
            self.suite,
            self.chain_id,
            self.ledger,
            self.tip,
            time_ms=time_ms,
            proposer=self.config.name,
            validators_hash=self.validators_hash,
            config_hash=self.config_hash,
            txs=txs,
            resolve=self.registry.resolve,
            step_limit=self.params.step_limit,
        )
        block_hash = block.header.hash(self.suite.hash)
        self._results[block_hash] = (block, result)
        events = self._propose(timer.height, timer.round, -1, block.encode(), block_hash, out)
        for event in events:
            out.extend(self._step(event, now_ms))
        return out

    def _propose(
        self,
        height: int,
        round_: int,
        pol_round: int,
        block: bytes,
        block_hash: bytes,
        out: Outputs,
    ) -> list[core.Event]:
        assert self.safety is not None
        self.wal.sync()
        try:
            proposal = self.safety.sign_proposal(height, round_, pol_round, block, block_hash)
        except SafetyViolation as e:
            log.warning("%s: safety rules refused a proposal: %s", self.config.name, e)
            return []
        data = proposal.encode()
        self._seen_proposals.add((proposal.round, proposal.block_hash, proposal.signature))
        self._log(WAL_PROPOSAL, height, data)
        out.broadcast.append(Message("proposal", data))
        self._own.append(Message("proposal", data))
        return [ProposalReceived(proposal, True)]

    def _commit(
        self, block_bytes: bytes, block_hash: bytes, cert: CommitCertificate, out: Outputs
    ) -> None:
        cached = self._results.get(block_hash)
        assert cached is not None, "a decided block was validated (valid(v) before decide)"
        block, result = cached
        self._write_block(block, block_hash, cert, result, out)

    def _write_block(
        self,
        block: Block,
        block_hash: bytes,
        cert: CommitCertificate,
        result: BlockResult,
        out: Outputs,
    ) -> None:
        tx_ids = tuple(r.tx_id for r in result.receipts)
        self.ledger.commit_block(
            BlockCommit(
                height=block.header.height,
                block_hash=block_hash,
                block=block.encode(),
                commit=cert.encode(),
                tx_ids=tx_ids,
                receipts=tuple(r.encode() for r in result.receipts),
                writes=result.writes,
                state_root=block.header.state_root,
                events=block_events(result.receipts),
            )
        )
        if self._wal_bytes > WAL_RESET_BYTES:
            self.wal.reset()  # records carry their height, so old ones are only skipped
            self._wal_bytes = 0
        if any(key == CONFIG_KEY for key, _ in result.writes):
            self._reload_config()
        self.mempool.remove(tx_ids)
        self.tip = ChainTip(
            block.header.height, block_hash, block.header.state_root, block.header.time_ms
        )
        self.last_commit_ms = block.header.time_ms
        out.committed.append(
            Committed(block.header.height, block_hash, block.header.time_ms, tx_ids)
        )
        out.broadcast.append(self.status_message())

    # --- next-height buffer, evidence, status and block sync --------------------------------
    def _buffer_future(self, peer: str | None, msg: Message) -> Outputs:
        out = Outputs()
        if peer is not None and len(self._future) < MAX_FUTURE_MESSAGES:
            self._future.append((peer, msg))
        return out

    def _replay_future(self, now_ms: int) -> Outputs:
        out = Outputs()
        pending, self._future = self._future, []
        for peer, msg in pending:
            out.extend(self.on_message(peer, msg, now_ms))
        return out

    def _report(self, first: Vote, second: Vote, now_ms: int) -> None:
        """Equivocation seen: keep the evidence and, as a validator with a node certificate,
        submit it as a ``misbehaviour.report`` tx so it is committed on chain (B1)."""
        evidence = DuplicateVoteEvidence.of(first, second)
        key = evidence_key(evidence)
        if key in self._reported:
            return
        self._reported.add(key)
        self.pending_evidence.append(evidence)
        log.warning(
            "%s: equivocation by %s at height %d round %d",
            self.config.name,
            first.validator,
            first.height,
            first.round,
        )
        if not self.config.node_cert:
            return
        nonce = int.from_bytes(self.suite.hash(key.encode())[:8], "big") >> 1
        tx = evidence_tx(
            self.chain_id,
            evidence,
            self.config.node_cert,
            nonce,
            self.tip.height + EVIDENCE_TTL_BLOCKS,
        )
        try:
            self.submit(SignedTx.create(tx, self.key.sign).encode(), now_ms, client=False)
        except AdmissionError as e:
            log.info("%s: evidence tx not admitted: %s", self.config.name, e)

    def status_message(self) -> Message:
        return Message("status", (self.tip.height, self.round))

    def _on_status(self, peer: str, height: int, now_ms: int) -> Outputs:
        self.peer_heights[peer] = height
        return self.sync_requests()

    def sync_requests(self) -> Outputs:
        """Ask a peer that is ahead for the blocks we lack (one request in flight per peer)."""
        out = Outputs()
        ours = self.tip.height
        ahead = sorted((h, p) for p, h in self.peer_heights.items() if h > ours)
        if not ahead or any(v > ours for v in self._sync_inflight.values()):
            return out
        _height, peer = ahead[-1]
        self._sync_inflight[peer] = ours + 1
        out.send.append((peer, Message("get_blocks", (ours + 1, SYNC_BATCH))))
        return out

    def _serve_blocks(self, peer: str, from_height: int, count: int) -> Outputs:
        out = Outputs()
        pairs = []
        for height in range(
            max(1, from_height), min(from_height + min(count, SYNC_BATCH), self.tip.height + 1)
        ):
            block, commit = self.ledger.block(height), self.ledger.commit(height)
            if block is None or commit is None:
                break
            pairs.append((block, commit))
        if pairs:
            out.send.append((peer, Message("blocks", tuple(pairs))))
        return out

    def _on_blocks(self, peer: str, pairs: Sequence[tuple[bytes, bytes]], now_ms: int) -> Outputs:
        out = Outputs()
        self._sync_inflight.pop(peer, None)
        for block_bytes, commit_bytes in pairs:
            try:
                block = Block.decode(block_bytes)
                cert = CommitCertificate.decode(commit_bytes)
            except DecodeError as e:
                return self._bad_peer(peer, f"sync: malformed block: {e}")
            if block.header.height <= self.tip.height:
                continue
            if block.header.height != self.tip.height + 1:
                break
            block_hash = block.header.hash(self.suite.hash)
            try:
                verify_commit(
                    self.suite,
                    self.chain_id,
                    self.validators,
                    cert,
                    height=block.header.height,
                    block_hash=block_hash,
                )
            except InvalidCommit as e:
                return self._bad_peer(peer, f"sync: bad commit certificate: {e}")
            try:
                result = self._replay_block(block)
            except InvalidBlock as e:
                return self._bad_peer(peer, f"sync: {e}")
            self._write_block(block, block_hash, cert, result, out)
            out.extend(self._start_height(now_ms))
        out.extend(self._replay_future(now_ms))
        out.extend(self.sync_requests())
        return out

    def _bad_peer(self, peer: str | None, reason: str) -> Outputs:
        out = Outputs()
        log.warning("%s: %s%s", self.config.name, reason, f" (peer {peer})" if peer else "")
        if peer is not None:
            out.drop.append((peer, reason))
        return out


def _wal_record(kind: str, height: int, data: bytes) -> bytes:
    return encode((kind, height, data))


def _decode_wal_record(record: bytes) -> tuple[str, int, bytes]:
    kind, height, data = decode(record)
    return str(kind), int(height), bytes(data)


ReplicaFactory = Callable[..., Replica]
