"""Introduction: what a replica asks its shell to do, and how a node configures its replica.

A replica (``node/replica.py``) and its parts (``building``, ``blocksync``, ``evidence``)
never perform an effect: they return ``Outputs`` — messages to broadcast or send to one peer,
timers to arm, blocks committed, peers to drop, consortium changes — which the asyncio node
(``node/node.py``) or the simulator (``yulian.sim``) performs in a fixed order. Every time in
here is a number of milliseconds the shell handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yulian.consensus.consortium_view import ConsortiumView
from yulian.net.messages import MAX_SYNC_REPLY_BYTES, Message
from yulian.net.sync import REQUEST_TIMEOUT_MS


@dataclass(frozen=True)
class Timer:
    kind: str  # "propose" | "prevote" | "precommit" | "build"
    height: int
    round: int
    due_ms: int


@dataclass(frozen=True)
class Committed:
    """A block is durable here: what the shell and its observers need of it, so none of them
    reads it back from the ledger (``size_bytes``: its encoding; ``round``: its commit's)."""

    height: int
    block_hash: bytes
    time_ms: int
    tx_ids: tuple[bytes, ...]
    size_bytes: int = 0
    round: int = 0


@dataclass(frozen=True)
class ConsortiumChanged:
    """Block ``height`` changed the consortium config: ``view`` is the new one (at the next
    height), ``previous`` the one before. The shell acts on it (TLS trust, peers, API); it
    never compares configs itself."""

    height: int
    view: ConsortiumView
    previous: ConsortiumView


@dataclass
class Outputs:
    broadcast: list[Message] = field(default_factory=list)
    send: list[tuple[str, Message]] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    committed: list[Committed] = field(default_factory=list)
    drop: list[tuple[str, str]] = field(default_factory=list)
    consortium_changes: list[ConsortiumChanged] = field(default_factory=list)

    def extend(self, other: Outputs) -> None:
        self.broadcast += other.broadcast
        self.send += other.send
        self.timers += other.timers
        self.committed += other.committed
        self.drop += other.drop
        self.consortium_changes += other.consortium_changes


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
    sync_reply_bytes: int = MAX_SYNC_REPLY_BYTES  # the byte budget this node asks replies for
    sync_timeout_ms: int = REQUEST_TIMEOUT_MS  # unanswered this long: ask another peer
