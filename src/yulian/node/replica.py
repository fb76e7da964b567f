"""Introduction: the replica — a node's deterministic state machine, without sockets or clock.

The replica is the composition root of a node's consensus side: it joins the pure parts (the
consensus ``step``, ``check_block``, admission) with the durable ones behind interfaces (the
``Ledger``, the safety rules' file, the consensus WAL) and with its three helpers — block
building (``building.py``), block sync (``blocksync.py``) and evidence handling
(``evidence.py``). It is driven by three kinds of input, each carrying the time as a number:
messages from peers, fired timers and client transactions; it answers with ``Outputs``
(``outputs.py``). The asyncio node (``node/node.py``) performs those outputs with real sockets
and timers; the simulator (``yulian.sim``) performs them with a seeded network and clock. Both
run this same code.

Order of effects (the whole safety story, as in etcd-raft): a consensus input is appended to
the WAL *before* the core sees it; a vote or proposal is signed by the safety rules, which
persist before they return the signature, *before* it is sent; a decided block is written to
the ledger in one atomic transaction *before* anyone is told it is committed.

Nothing a peer or a client sends makes a step raise: what does not decode or verify is
refused (a peer that sent it is dropped), what exceeds a limit is refused or degraded (a
smaller block, fewer blocks per sync reply), and the reason is logged. Every collection the
replica keeps is bounded; the bound is named where the collection is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from yulian.consensus import core
from yulian.consensus.consortium_view import ConsortiumView, view_of_stored
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
from yulian.consensus.evidence import DuplicateVoteEvidence
from yulian.consensus.proposer import proposer
from yulian.consensus.safety import SafetyRules, SafetyViolation
from yulian.consensus.votes import ValidatorSet
from yulian.consensus.wal import WAL
from yulian.crypto.membership import Membership
from yulian.crypto.suite import Suite
from yulian.execution.blocks import ChainTip
from yulian.execution.executor import BlockResult, ExecTx
from yulian.execution.registry import ContractRegistry
from yulian.execution.roots import EMPTY_STATE_SUM, empty_state_root
from yulian.execution.system import system_contracts
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import BlockCommit, Ledger, block_events
from yulian.mempool.admission import AdmissionError
from yulian.net.messages import Message
from yulian.node.blocksync import BlockSync
from yulian.node.buffers import FutureBuffer, Seen
from yulian.node.building import BlockBuilder
from yulian.node.checking import BlockChecker
from yulian.node.evidence import EvidenceReporter
from yulian.node.intake import TxIntake
from yulian.node.outputs import Committed, ConsortiumChanged, Outputs, ReplicaConfig, Timer
from yulian.node.records import WAL_PROPOSAL, WAL_VOTE, decode_wal_record, signer_of, wal_record
from yulian.node.relay import relays
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.consensus import Proposal, Vote
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError
from yulian.types.genesis import ChainParams, Genesis

__all__ = ["Committed", "Outputs", "Replica", "ReplicaConfig", "ReplicaFactory", "Timer"]

log = logging.getLogger("yulian.replica")

MAX_RESEND = 16  # own messages re-sent per tick (the latest ones); also how many are kept
WAL_RESET_BYTES = 16 * 1024 * 1024  # the WAL is emptied at a commit once it is this large
# every collection the replica keeps is bounded: buffers.MAX_SEEN, buffers.MAX_FUTURE_*,
# MAX_RESEND, checking.MAX_RESULTS, intake.MAX_KNOWN_CONTRACTS and the pool's mempool_size,
# evidence.MAX_REPORTED and MAX_PENDING_EVIDENCE, net.sync's window, peers and penalties


class Replica:
    def __init__(
        self,
        genesis: Genesis,
        suite: Suite,
        ledger: Ledger,
        safety: SafetyRules | None,
        wal: WAL,
        config: ReplicaConfig,
    ) -> None:
        self.genesis = genesis
        self.suite = suite
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
        self.view = self._read_view(ledger.height() + 1)
        self.intake = TxIntake(
            suite,
            self.chain_id,
            self.params,
            self.membership,
            ledger,
            self.registry.resolve,
            mempool_size=config.mempool_size,
            validators=lambda: len(self.validators.validators),
        )
        self.mempool = self.intake.mempool
        self.admission = self.intake.admission
        self.checker = BlockChecker(
            suite, self.chain_id, config.name, self.mempool, self.admission, self.registry.resolve
        )
        self.builder = BlockBuilder(
            suite,
            self.chain_id,
            config.name,
            self.mempool,
            self.admission,
            self.registry.resolve,
            empty_block_interval_ms=config.empty_block_interval_ms,
        )
        self.sync = BlockSync(
            config.name,
            ledger,
            reply_bytes=config.sync_reply_bytes,
            timeout_ms=config.sync_timeout_ms,
        )
        self.evidence = EvidenceReporter(
            suite,
            self.chain_id,
            config.name,
            config.node_cert,
            safety.sign_tx if safety is not None else None,
        )
        self.tip = self._load_tip()
        self._configure_height(self.tip.height + 1)
        self.state = core.initial_state(self.consensus_config, self.tip.height + 1)
        self._future = FutureBuffer()  # messages for the next height
        self._own: list[Message] = []  # our proposal and votes at this height, the last MAX_RESEND
        self._seen_votes = Seen()  # vote bytes of this height
        self._seen_proposals = Seen()  # (round, block hash, signature) of this height
        self._wal_bytes = WAL_RESET_BYTES + 1  # reset the WAL at the first commit
        self.last_commit_ms = self.tip.time_ms
        self.round = 0

    # --- start-up ---------------------------------------------------------------------------
    def _load_tip(self) -> ChainTip:
        height = self.ledger.height()
        if height == 0:
            return ChainTip(
                0,
                self.genesis_hash,
                empty_state_root(self.suite),
                self.genesis.time_ms,
                EMPTY_STATE_SUM,
            )
        block_bytes = self.ledger.block(height)
        block_hash = self.ledger.block_hash(height)
        assert block_bytes is not None and block_hash is not None, "the head block is present"
        header = Block.decode(block_bytes).header
        state_sum = self.ledger.state_sum()
        assert state_sum is not None, "a ledger with a head has its state sum"
        return ChainTip(height, block_hash, header.state_root, header.time_ms, state_sum)

    @property
    def pending_evidence(self) -> Sequence[DuplicateVoteEvidence]:
        """The equivocations this node has seen (the latest, bounded)."""
        return self.evidence.pending

    # --- the consortium in force (consensus/consortium_view.py) -----------------------------
    @property
    def params(self) -> ChainParams:
        return self.view.params

    @property
    def membership(self) -> Membership:
        return self.view.membership

    @property
    def validators(self) -> ValidatorSet:
        """The validator set of the height being decided."""
        return self.view.validators

    def _read_view(self, height: int) -> ConsortiumView:
        """The view of the committed config (the genesis config until the first change)."""
        return view_of_stored(self.ledger.get(CONFIG_KEY), self.genesis_config, height, self.suite)

    def _reload_config(self, height: int, out: Outputs) -> None:
        """Block ``height`` wrote the consortium config: re-read it and say so in ``out``."""
        previous = self.view
        self.view = self._read_view(height + 1)
        self.admission.reconfigure(self.params, self.membership)
        out.consortium_changes.append(ConsortiumChanged(height, self.view, previous))

    def _configure_height(self, height: int) -> None:
        """Who signs ``height``: its validator set (from the schedule in the config after
        ``height - 1``), whether we are one of them, and the consensus timeouts."""
        self.view = self.view.for_height(height)
        me = self.validators.signer(self.config.name)
        self.is_validator = (
            me is not None and self.safety is not None and me.public_key == self.safety.public_key
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
            try:
                kind, height, data = decode_wal_record(record)
            except DecodeError as e:  # a record we wrote always decodes: log, never stop
                log.error("%s: skipped an undecodable WAL record: %s", self.config.name, e)
                continue
            if height != self.tip.height + 1:
                continue
            replayed += 1
            if kind == WAL_PROPOSAL:
                out.extend(self._on_proposal_bytes(None, data, now_ms, from_wal=True))
            elif kind == WAL_VOTE:
                out.extend(self._on_vote_bytes(None, data, now_ms, from_wal=True))
            if kind in (WAL_PROPOSAL, WAL_VOTE) and signer_of(kind, data) == self.config.name:
                mine.append(Message(kind, data))
        last = self.safety.data.last_vote if self.safety is not None else None
        if last is not None and last.height == self.tip.height + 1:
            last_message = Message("vote", last.encode())
            if last_message not in mine:  # signed, but its WAL record was lost: it counts
                self._seen_votes.add(last.encode())
                out.extend(self._step(VoteReceived(last), now_ms))
                mine.append(last_message)
        fresh = [m for m in dict.fromkeys(mine) if m not in self._own]
        self._own[:0] = fresh
        self._own = self._own[-MAX_RESEND:]
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
        self.checker.new_height()
        self.builder.cancel()
        self._own = []
        self._seen_votes = Seen()
        self._seen_proposals = Seen()
        return self._step(StartHeight(self.tip.height + 1), now_ms)

    # --- inputs -----------------------------------------------------------------------------
    def submit(self, data: bytes, now_ms: int, *, client: bool = True) -> ExecTx:
        """A tx from this node's client (or, ``client=False``, from the node itself): admit it
        and keep it; raises ``AdmissionError`` (``intake.py``)."""
        return self.intake.submit(data, self.tip.height + 1, now_ms, client=client)

    def submit_many(
        self, datas: Sequence[bytes], now_ms: int, *, client: bool = True
    ) -> list[ExecTx | AdmissionError]:
        """``submit`` for each envelope in order: the admitted tx or why it was refused;
        ``client=False`` for a peer's gossip."""
        return self.intake.submit_many(datas, self.tip.height + 1, now_ms, client=client)

    def client_room(self) -> int:
        """Room for this node's own clients' txs (``TxIntake.client_room``)."""
        return self.intake.client_room()

    def on_message(self, peer: str, msg: Message, now_ms: int) -> Outputs:
        """A peer's message (its shape checked by ``decode_message``)."""
        kind, payload = msg.kind, msg.payload
        if kind == "vote":
            return self._on_vote_bytes(peer, payload, now_ms)
        if kind == "proposal":
            return self._on_proposal_bytes(peer, payload, now_ms)
        if kind == "txs":  # known or invalid txs are dropped: gossip is best effort
            self.submit_many(payload, now_ms, client=False)
            return Outputs()
        if kind == "status":
            return self._synced(self.sync.on_status(peer, payload[0], now_ms, self), now_ms)
        if kind == "get_blocks":
            return self.sync.serve(peer, *payload)
        if kind == "blocks":
            return self._synced(self.sync.on_blocks(peer, payload, now_ms, self), now_ms)
        return Outputs()  # "evidence": equivocations travel as txs

    def _synced(self, out: Outputs, now_ms: int) -> Outputs:
        """After block sync committed blocks: the messages kept for the new height."""
        if out.committed:
            out.extend(self._replay_future(now_ms))
        return out

    def on_tick(self, now_ms: int) -> Outputs:
        """Periodic: re-send our own proposal and votes of this height (the core assumes
        messages eventually arrive and keeps no outbox), relay what we hold of others' that
        can complete a decision elsewhere (``relay.py``), our status, and sync requests."""
        out = Outputs()
        out.broadcast.extend(self._own)
        out.broadcast.extend(relays(self.state, self._own))
        out.broadcast.append(self.status_message())
        out.extend(self._synced(self.sync.poll(now_ms, self), now_ms))
        return out

    def on_timer(self, timer: Timer, now_ms: int) -> Outputs:
        if timer.kind == "build":
            return self._on_build_timer(timer, now_ms)
        return self._step(TimeoutFired(timer.kind, timer.height, timer.round), now_ms)

    def status_message(self) -> Message:
        return Message("status", (self.tip.height, self.round))

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
            return self._buffer_future(peer, Message("vote", data), vote.height)
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
            return self._buffer_future(peer, Message("proposal", data), proposal.height)
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
        valid = self.checker.validate_proposal(proposal, now_ms, self)
        self._seen_proposals.add(seen_key)
        if not from_wal:
            self._log(WAL_PROPOSAL, proposal.height, data)
        return self._step(ProposalReceived(proposal, valid), now_ms)

    def _log(self, kind: str, height: int, data: bytes) -> None:
        """Append a consensus input to the WAL before the core sees it."""
        record = wal_record(kind, height, data)
        self.wal.append(record, sync=False)
        self._wal_bytes += len(record)

    # --- the core and its effects -----------------------------------------------------------
    def _consensus_step(self, event: core.Event) -> core.Result:
        """One step of the consensus core (the simulator's planted-bug replicas wrap it)."""
        return core.step(self.consensus_config, self.state, event)

    def _step(self, event: core.Event, now_ms: int) -> Outputs:
        out = Outputs()
        queue: list[core.Event] = [event]
        while queue:
            self.state, effects = self._consensus_step(queue.pop(0))
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
            self._remember_own(Message("vote", data))
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
            out.timers.append(self.builder.request(effect.height, effect.round, now_ms, self))
        elif isinstance(effect, Decide):
            self._commit(effect.block, effect.block_hash, effect.certificate, out)
            out.extend(self._start_height(now_ms))
            out.extend(self._replay_future(now_ms))
        elif isinstance(effect, ReportEquivocation):
            envelope = self.evidence.report(effect.first, effect.second, tip_height=self.tip.height)
            if envelope is not None:
                try:
                    self.submit(envelope, now_ms, client=False)
                except AdmissionError as e:
                    log.info("%s: evidence tx not admitted: %s", self.config.name, e)
        return []

    def _remember_own(self, msg: Message) -> None:
        self._own.append(msg)
        del self._own[:-MAX_RESEND]

    def _on_build_timer(self, timer: Timer, now_ms: int) -> Outputs:
        out = Outputs()
        if (timer.height, timer.round) != (self.state.height, self.state.round):
            return out  # the core moved on: a block for that round could not be proposed
        built = self.builder.on_timer(timer, now_ms, self)
        if isinstance(built, Timer):
            out.timers.append(built)
        elif built is not None:
            block, result = built
            block_hash = block.header.hash(self.suite.hash)
            self.checker.keep(block_hash, block, result)
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
        self._remember_own(Message("proposal", data))
        return [ProposalReceived(proposal, True)]

    def _commit(
        self, block_bytes: bytes, block_hash: bytes, cert: CommitCertificate, out: Outputs
    ) -> None:
        block, result = self.checker.decided(block_bytes, block_hash, self)
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
        block_bytes = block.encode()
        self.ledger.commit_block(
            BlockCommit(
                height=block.header.height,
                block_hash=block_hash,
                block=block_bytes,
                commit=cert.encode(),
                tx_ids=tx_ids,
                receipts=tuple(r.encode() for r in result.receipts),
                writes=result.writes,
                state_root=block.header.state_root,
                events=block_events(result.receipts),
                state_sum=result.state_sum,
            )
        )
        if self._wal_bytes > WAL_RESET_BYTES:
            self.wal.reset()  # records carry their height, so old ones are only skipped
            self._wal_bytes = 0
        if any(key == CONFIG_KEY for key, _ in result.writes):
            self._reload_config(block.header.height, out)
        self.mempool.remove(tx_ids)
        self.tip = ChainTip(
            block.header.height,
            block_hash,
            block.header.state_root,
            block.header.time_ms,
            result.state_sum,
        )
        self.last_commit_ms = block.header.time_ms
        out.committed.append(
            Committed(
                block.header.height,
                block_hash,
                block.header.time_ms,
                tx_ids,
                size_bytes=len(block_bytes),
                round=cert.round,
            )
        )
        out.broadcast.append(self.status_message())

    # --- block sync (blocksync.py) ---------------------------------------------------------
    def apply_synced(self, block_bytes: bytes, commit_bytes: bytes, now_ms: int) -> Outputs:
        """Commit the next block from a peer once ``BlockChecker.check_synced`` accepts it;
        ``InvalidSyncData`` (nothing changed) otherwise."""
        block, block_hash, cert, result = self.checker.check_synced(block_bytes, commit_bytes, self)
        out = Outputs()
        self._write_block(block, block_hash, cert, result, out)
        out.extend(self._start_height(now_ms))
        return out

    # --- next-height buffer and peers ------------------------------------------------------
    def _buffer_future(self, peer: str | None, msg: Message, height: int) -> Outputs:
        """Keep a message for the next height (a peer that decided before us); further ahead
        we are behind, and block sync catches up."""
        if peer is not None and height == self.tip.height + 2:
            self._future.add(peer, msg)
        return Outputs()

    def _replay_future(self, now_ms: int) -> Outputs:
        out = Outputs()
        for peer, msg in self._future.take():
            out.extend(self.on_message(peer, msg, now_ms))
        return out

    def _bad_peer(self, peer: str | None, reason: str) -> Outputs:
        out = Outputs()
        log.warning("%s: %s%s", self.config.name, reason, f" (peer {peer})" if peer else "")
        if peer is not None:
            out.drop.append((peer, reason))
        return out


ReplicaFactory = Callable[..., Replica]
